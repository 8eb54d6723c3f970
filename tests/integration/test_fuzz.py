"""No input, however odd, gets a 5xx from any route that exists."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from chalice.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import app
from tests.conftest import ISSUER

ROUTES = sorted((path, method) for path, methods in app.routes.items() for method in methods)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=15), children, max_size=6)
    ),
    max_leaves=20,
)
wave_like = st.fixed_dictionaries(
    {},
    optional={
        "wave_id": st.text(max_size=25),
        "opens_at": st.datetimes().map(lambda moment: moment.isoformat()) | st.text(max_size=30),
        "closes_at": st.datetimes().map(lambda moment: moment.isoformat() + "+07:00"),
        "quota": st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
        "province_quotas": st.dictionaries(st.text(max_size=3), st.integers(), max_size=4) | json_values,
    },
)
bodies = (
    st.none()
    | json_values.map(json.dumps)
    | wave_like.map(json.dumps)
    | st.binary(max_size=200).map(lambda raw: raw.decode("latin-1"))
)
tokens = st.sampled_from(["participant", "office", "pemda", "platform", "partner", "admin", "nobody"]).map(
    lambda role: ISSUER.token({"role": role, "sub": f"fuzz-{role}", "province": "31"})
)
authorization = st.none() | tokens.map(lambda token: f"Bearer {token}") | st.text(max_size=60)


def _concrete(path: str, values: list[str]) -> str:
    parts = iter(values)
    return re.sub(r"\{[^}]+\}", lambda _: quote(next(parts, "x") or "x", safe=""), path)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    route=st.sampled_from(ROUTES),
    params=st.lists(st.text(min_size=1, max_size=30), max_size=3),
    body=bodies,
    header=authorization,
    key=st.none() | st.text(max_size=30),
)
def test_no_route_answers_5xx(
    client: Client,
    route: tuple[str, str],
    params: list[str],
    body: str | None,
    header: str | None,
    key: str | None,
) -> None:
    path, method = route
    headers: dict[str, Any] = {"Content-Type": "application/json"}
    if header is not None:
        headers["Authorization"] = header
    if key is not None:
        headers["Idempotency-Key"] = key
    response = client.http.request(
        method, _concrete(path, params), headers=headers, body=(body or "").encode("utf-8", "surrogatepass")
    )
    assert response.status_code < 500, (method, path, response.body[:300])
