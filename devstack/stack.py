"""`python -m devstack` (`make run`): the whole local stack in the foreground (DESIGN.md, "Local stack").

Order matters: the AWS endpoint and the resources exist before the app is imported, and the
environment is complete before then too, because the app reads its settings at import time.
Everything started is stopped in reverse order on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from types import FrameType
from typing import IO, Any

import boto3
from chalice.app import Chalice
from chalice.config import Config
from chalice.local import LocalDevServer, ThreadedHTTPServer, create_local_server

from chalicelib.core import clock
from chalicelib.core.settings import Settings
from devstack import aws_calls, catalogue, gateway, infra, lock
from devstack.activity import Activity
from devstack.declarations import Declarations
from devstack.events import context_factory
from devstack.issuer import LocalIssuer
from devstack.jobs import JobRunner, Runtime
from devstack.options import HOST, PROJECT_DIR, STAGE, OptionsError, StackOptions
from devstack.partners import LOCAL_SECRETS, FakePartners, S3Sink
from devstack.partners.server import HOLD_SECONDS
from devstack.registry import FakeRegistry
from devstack.relay import Relay
from devstack.routes import dev_blueprint
from devstack.schedule import Scheduler
from devstack.web import WebServer

log = logging.getLogger("devstack")

LISTEN_BACKLOG = 512
REGION = Settings().region
ENDPOINT_START_TIMEOUT_SECONDS = 30.0
ENDPOINT_STOP_TIMEOUT_SECONDS = 5.0
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
REAL_CREDENTIAL_VARIABLES = ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE")
EXIT_REFUSED = 2
CHATTY_LIBRARIES = ("botocore", "boto3", "pynamodb")


class StartupFailed(RuntimeError):
    pass


def main() -> int:
    aws_calls.install_from_environment()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for library in CHATTY_LIBRARIES:
        logging.getLogger(library).setLevel(logging.WARNING)
    try:
        options = StackOptions.from_environment()
    except OptionsError as error:
        print(error, file=sys.stderr)
        return EXIT_REFUSED
    try:
        lock.acquire(options.pid_file)
    except lock.AlreadyRunning as running:
        print(
            f"a local stack is already running (pid {running.pid}): stop it with Ctrl-C in its terminal "
            f"or `kill {running.pid}`, or give this one its own DEVSTACK_DIR, API_PORT and AWS_ENDPOINT_URL",
            file=sys.stderr,
        )
        return EXIT_REFUSED
    try:
        return _run(options)
    finally:
        lock.release(options.pid_file)


def _run(options: StackOptions) -> int:
    ports = (options.api_port, options.aws_port, options.partners_port, options.web_port)
    taken = [port for port in ports if not lock.port_is_free(HOST, port)]
    if taken:
        print(
            f"port(s) {', '.join(map(str, taken))} already in use: a local stack may already be running "
            "from another directory, or another program holds them; set API_PORT / AWS_ENDPOINT_URL / "
            "PARTNERS_PORT / WEB_PORT",
            file=sys.stderr,
        )
        return EXIT_REFUSED
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, _interrupt)
    code = 0
    try:
        with ExitStack() as running:
            code = _watch(_start(options, running))
    except KeyboardInterrupt:
        pass
    except (StartupFailed, infra.DeployFailed) as error:
        print(f"local stack failed to start: {error}", file=sys.stderr)
        return 1
    print("stopped", flush=True)
    return code


def _watch(endpoint: subprocess.Popen[bytes]) -> int:
    """Until Ctrl-C; an endpoint that dies takes the stack down rather than leave it failing every call."""
    try:
        while endpoint.poll() is None:
            time.sleep(1.0)
    except KeyboardInterrupt:
        print("stopping ...", flush=True)
        return 0
    print(f"the AWS endpoint stopped unexpectedly (exit {endpoint.returncode}); stopping", file=sys.stderr)
    return 1


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    """Also for SIGINT: a shell starting the stack in the background has Python ignore it otherwise."""
    raise KeyboardInterrupt


def _start(options: StackOptions, running: ExitStack) -> subprocess.Popen[bytes]:
    options.log_dir.mkdir(parents=True, exist_ok=True)
    endpoint_log = options.log_dir / "aws-endpoint.log"
    endpoint = start_endpoint(options.aws_endpoint_url, running.enter_context(endpoint_log.open("ab")))
    running.callback(stop_process, endpoint)
    wait_for_endpoint(endpoint, options.aws_port, endpoint_log)
    outputs = _deploy(options)
    issuer = LocalIssuer(options.keys_dir)
    running.callback(issuer.close)
    registry = FakeRegistry()
    running.callback(registry.close)
    config = chalice_config(options.project_dir)
    environment = (
        app_environment(config, options, issuer.jwks_url)
        | queue_urls(outputs)
        | {"REGISTRY_URL": registry.url}
    )
    partners = start_partners(options, issuer, environment)
    running.callback(partners.close)
    environment |= {
        "PARTNERS_URL": partners.url_template,
        "PARTNER_SECRETS": json.dumps(LOCAL_SECRETS),
        "PARTNER_CALLBACK_BASE_URL": options.api_url,
    }
    os.environ.update(environment)
    for name in REAL_CREDENTIAL_VARIABLES:
        os.environ.pop(name, None)
    published = catalogue.publish_if_empty()
    if published:
        log.info("published the generated catalogue: %d courses", published)
    app = load_app(options.project_dir)
    server = _serve(app, config, options, issuer, partners, running)
    # An office's file goes from the page to the upload bucket, here the local AWS endpoint.
    pages = WebServer(HOST, options.web_port, options.api_url, options.aws_endpoint_url)
    running.callback(pages.close)
    print(
        f"prakerja local stack ready: API {options.api_url}, AWS endpoint {options.aws_endpoint_url}, "
        f"payment partners {partners.url}\n"
        f"  web pages {pages.url}/ and {pages.url}/dashboard\n"
        f"  logs: the app, relay and schedules here; the AWS endpoint in {endpoint_log}\n"
        f"  {len(server.app_object.routes)} routes; Ctrl-C stops everything",
        flush=True,
    )
    return endpoint


def _serve(
    app: Chalice,
    config: Config,
    options: StackOptions,
    issuer: LocalIssuer,
    partners: FakePartners,
    running: ExitStack,
) -> LocalDevServer:
    declarations = Declarations.of(app)
    activity = Activity()
    contexts = context_factory(config)
    relay = Relay(
        declarations.consumers, aws_client("sqs", options.aws_endpoint_url), activity, contexts, REGION
    )
    runner = JobRunner(activity, contexts, REGION, clock.now)
    app.register_blueprint(dev_blueprint(app, Runtime(issuer, runner, relay, partners)))
    # socketserver's default backlog of 5 resets connections under a registration spike's load.
    ThreadedHTTPServer.request_queue_size = LISTEN_BACKLOG
    gateway.answer_missing_routes(options.project_dir / "infra" / "resources.json")
    server = create_local_server(app, config, HOST, options.api_port)
    running.callback(server.server.server_close)
    threading.Thread(target=server.server.serve_forever, name="api", daemon=True).start()
    running.callback(server.shutdown)
    relay.start()
    running.callback(relay.stop)
    scheduler = Scheduler(declarations.scheduled, runner.run)
    scheduler.start()
    running.callback(scheduler.stop)
    return server


def start_partners(options: StackOptions, issuer: LocalIssuer, environment: dict[str, str]) -> FakePartners:
    """The fake payment partners on their own port, their settlement files in the upload bucket, and
    their callbacks carrying the local issuer's partner tokens."""
    timeout = float(environment.get("PARTNER_TIMEOUT_SECONDS") or Settings().partner_timeout_seconds)
    return FakePartners(
        options.partners_dir,
        host=HOST,
        port=options.partners_port,
        issuer=issuer,
        settlements=S3Sink(aws_client("s3", options.aws_endpoint_url), environment.get("UPLOAD_BUCKET", "")),
        # A held request must outlast the app's own timeout, or "timeout" would not time out.
        hold_seconds=max(HOLD_SECONDS, timeout + 5),
    )


def chalice_config(project_dir: Path) -> Config:
    """The `local` stage as `chalice local --stage local` would read it."""
    config_from_disk = json.loads((project_dir / ".chalice" / "config.json").read_text(encoding="utf-8"))
    return Config(
        chalice_stage=STAGE,
        config_from_disk=config_from_disk,
        default_params={
            "project_dir": str(project_dir),
            "api_gateway_stage": "api",
            "api_gateway_endpoint_type": "EDGE",
            "autogen_policy": True,
        },
    )


def app_environment(config: Config, options: StackOptions, jwks_url: str) -> dict[str, str]:
    """The stage's variables, then what only the running stack knows; fake credentials always.

    Credentials are forced, not defaulted: a developer's real ones must never reach, or be needed
    for, a local run.
    """
    return {
        **LOCAL_CREDENTIALS,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        **config.environment_variables,
        "AWS_ENDPOINT_URL": options.aws_endpoint_url,
        "JWKS_URL": jwks_url,
        # The API allows the pages' origin alone (chalicelib.core.cors); another front end sets its own.
        "WEB_ORIGIN": web_origin(options),
    }


def web_origin(options: StackOptions) -> str:
    return os.environ.get("WEB_ORIGIN") or options.web_url


def queue_urls(outputs: dict[str, str]) -> dict[str, str]:
    """`IMPORTS_QUEUE_URL` and the others, as the template's `Globals` give them to deployed functions:
    the app then sends without looking a queue up, here as in AWS."""
    return {
        f"{re.sub(r'(?<!^)(?=[A-Z])', '_', name.removesuffix('QueueUrl')).upper()}_QUEUE_URL": url
        for name, url in outputs.items()
        if name.endswith("QueueUrl")
    }


def aws_client(service: str, endpoint_url: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def load_app(project_dir: Path) -> Chalice:
    if str(project_dir) not in sys.path:
        sys.path.insert(0, str(project_dir))
    app = importlib.import_module("app").app
    if not isinstance(app, Chalice):
        raise StartupFailed(f"app.app in {project_dir} is a {type(app).__name__}, not a chalice.Chalice")
    return app


def _deploy(options: StackOptions) -> dict[str, str]:
    template = infra.load_template(options.project_dir / "infra" / "resources.json")
    cloudformation = aws_client("cloudformation", options.aws_endpoint_url)
    # The upload bucket lets the pages' origin PUT to its presigned links (an office's import file).
    given = {"WebOrigin": web_origin(options)}
    outputs = infra.deploy(cloudformation, template, STAGE, given)
    physical = infra.physical_ids(cloudformation)
    s3 = aws_client("s3", options.aws_endpoint_url)
    infra.apply_bucket_notifications(template, physical, s3, aws_client("sqs", options.aws_endpoint_url))
    infra.apply_bucket_cors(template, physical, s3, given)
    # The sender of the programme's mail, verified as an operator verifies the real one (README).
    aws_client("sesv2", options.aws_endpoint_url).create_email_identity(EmailIdentity=aws_calls.MAIL_IDENTITY)
    log.info("deployed %d resources from infra/resources.json; outputs %s", len(physical), sorted(outputs))
    return outputs


def start_endpoint(endpoint_url: str, log_file: IO[bytes]) -> subprocess.Popen[bytes]:
    """Its own session: a Ctrl-C reaches the stack alone, which then stops the endpoint last."""
    environment = {**os.environ, **LOCAL_CREDENTIALS, "AWS_ENDPOINT_URL": endpoint_url}
    return subprocess.Popen(
        [sys.executable, "-m", "devstack.aws_endpoint"],
        cwd=PROJECT_DIR,
        env=environment,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_for_endpoint(process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
    deadline = time.monotonic() + ENDPOINT_START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StartupFailed(f"the AWS endpoint exited with {process.returncode}; see {log_path}")
        try:
            socket.create_connection((HOST, port), timeout=0.5).close()
        except OSError:
            time.sleep(0.1)
            continue
        return
    raise StartupFailed(f"the AWS endpoint did not answer on port {port}; see {log_path}")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(ENDPOINT_STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
