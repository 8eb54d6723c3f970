"""The Chalice app: registers the domains' blueprints and event handlers, and nothing else."""

from chalice.app import Chalice, ConvertToMiddleware

from chalicelib.http import contract_errors
from chalicelib.observability import logger
from chalicelib.registration.jobs import bp as registration_jobs
from chalicelib.registration.routes import bp as registration
from chalicelib.registration.signup import bp as signup
from chalicelib.reports.routes import bp as reports
from chalicelib.training.jobs import bp as training_jobs
from chalicelib.training.routes import bp as training

app = Chalice(app_name="prakerja")
app.register_middleware(ConvertToMiddleware(logger.inject_lambda_context))
app.register_middleware(contract_errors, "http")
app.register_blueprint(registration)
app.register_blueprint(registration_jobs)
app.register_blueprint(signup)
app.register_blueprint(training)
app.register_blueprint(training_jobs)
app.register_blueprint(reports)
