"""The Chalice app: registers the domains' blueprints, event handlers and record sections, and
nothing else."""

from chalice.app import Chalice, ConvertToMiddleware

from chalicelib.core import openapi
from chalicelib.core.http import contract_errors
from chalicelib.core.observability import flush_metrics, logger
from chalicelib.incentives.jobs import bp as incentives_jobs
from chalicelib.incentives.routes import bp as incentives
from chalicelib.incentives.views import payments_section
from chalicelib.registration import service as registration_service
from chalicelib.registration.jobs import bp as registration_jobs
from chalicelib.registration.routes import bp as registration
from chalicelib.registration.signup import bp as signup
from chalicelib.reports.jobs import bp as reports_jobs
from chalicelib.reports.routes import bp as reports
from chalicelib.surveys.jobs import bp as surveys_jobs
from chalicelib.surveys.notify.jobs import bp as notify_jobs
from chalicelib.surveys.routes import bp as surveys
from chalicelib.surveys.views import surveys_section
from chalicelib.training.jobs import bp as training_jobs
from chalicelib.training.routes import bp as training
from chalicelib.training.routes import purchases_section

# Powertools' masking logger owns the "prakerja" logger: Chalice's own set-up would set it to ERROR
# and add a handler that writes records unmasked whenever its stdout differs from Powertools'.
app = Chalice(app_name="prakerja", configure_logs=False)
app.register_middleware(ConvertToMiddleware(logger.inject_lambda_context))
app.register_middleware(flush_metrics)
app.register_middleware(contract_errors, "http")
app.register_blueprint(registration)
app.register_blueprint(registration_jobs)
app.register_blueprint(signup)
app.register_blueprint(training)
app.register_blueprint(training_jobs)
app.register_blueprint(incentives)
app.register_blueprint(incentives_jobs)
app.register_blueprint(surveys)
app.register_blueprint(surveys_jobs)
app.register_blueprint(reports)
app.register_blueprint(reports_jobs)
app.register_blueprint(notify_jobs)
app.register_blueprint(openapi.bp)
registration_service.add_record_section(purchases_section)
registration_service.add_record_section(payments_section)
registration_service.add_record_section(surveys_section)
