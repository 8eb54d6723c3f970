"""Shared fixtures. The environment is set before any `chalicelib` import: table names and keys
are read from it once per process, as in a Lambda container."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack.issuer import LocalIssuer

ISSUER = LocalIssuer(Path(tempfile.mkdtemp(prefix="prakerja-test-keys-")))

for variable in [name for name in os.environ if name.startswith("AWS_ENDPOINT_URL")]:
    del os.environ[variable]
os.environ.update(
    {
        "STAGE": "local",
        "AWS_REGION": "ap-southeast-3",
        "AWS_DEFAULT_REGION": "ap-southeast-3",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "UPLOAD_BUCKET": "prakerja-local-uploads-123456789012",
        "JWKS_URL": ISSUER.jwks_url,
        "HASH_KEY": "test-hash-key",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "prakerja",
    }
)

from chalice.test import Client  # noqa: E402
from moto import mock_aws  # noqa: E402

from tests.infra import create_tables  # noqa: E402


@pytest.fixture
def aws() -> Iterator[None]:
    """In-process AWS with every table of `infra/resources.json`."""
    with mock_aws():
        import boto3

        create_tables(boto3.client("dynamodb"))
        yield


@pytest.fixture
def client(aws: None) -> Iterator[Client]:
    from app import app

    with Client(app, stage_name="local") as test_client:
        yield test_client


TokenFactory = Callable[..., dict[str, str]]


@pytest.fixture
def auth() -> TokenFactory:
    """Headers for a caller: `auth("admin")`, `auth("office", province="31")`."""

    def headers(role: str, sub: str | None = None, **claims: Any) -> dict[str, str]:
        token = ISSUER.token({"role": role, "sub": sub or f"{role}-1", **claims})
        return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    return headers


def body(value: Any) -> str:
    return json.dumps(value)
