"""What an operator watches reaches CloudWatch as metrics (EMF lines on standard output, which
Lambda ships to CloudWatch Logs): one line per invocation that counted something."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.core import clock
from tests.conftest import TokenFactory, body, run_job
from tests.integration.test_import_processing import HEADER, ROW, notify, upload
from tests.integration.test_registration import SITI, register
from tests.integration.test_training import buy, market, me

__all__ = ["market"]  # the fixture
PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def client(aws: None, tmp_path: Path) -> Iterator[Client]:
    """The app as the local stage runs it, but with metrics on, as in AWS (the local stage turns
    them off to keep the local stack's console quiet)."""
    from app import app
    from chalicelib.training import catalogue

    config = json.loads((PROJECT / ".chalice" / "config.json").read_text(encoding="utf-8"))
    config["stages"]["local"]["environment_variables"]["POWERTOOLS_METRICS_DISABLED"] = "false"
    (tmp_path / ".chalice").mkdir()
    (tmp_path / ".chalice" / "config.json").write_text(json.dumps(config), encoding="utf-8")
    catalogue.forget()
    with Client(app, stage_name="local", project_dir=str(tmp_path)) as metered:
        yield metered


@pytest.fixture
def emitted(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """The metrics written since the fixture began, by name (values added up)."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    capsys.readouterr()

    def read() -> Counter[str]:
        totals: Counter[str] = Counter()
        for line in capsys.readouterr().out.splitlines():
            if '"_aws"' not in line:
                continue
            document = json.loads(line)
            (directive,) = document["_aws"]["CloudWatchMetrics"]
            assert directive["Namespace"] == "Prakerja"
            for metric in directive["Metrics"]:
                value = document[metric["Name"]]
                totals[metric["Name"]] += int(sum(value) if isinstance(value, list) else value)
        return totals

    return read


def test_registrations_and_refusals_are_counted(client: Client, auth: TokenFactory, emitted: Any) -> None:
    register(client, auth, SITI, "acc-siti")
    register(client, auth, SITI, "acc-other")
    assert emitted() == {"Registered": 1, "RegistrationRefused": 1}


def test_import_rows_are_counted_by_outcome(client: Client, auth: TokenFactory, emitted: Any) -> None:
    import_id = upload(client, auth, f"{HEADER}\n{ROW}\n{ROW}\n".encode())
    notify(client, import_id)
    counted = emitted()
    assert (counted["ImportRowsImported"], counted["ImportRowsDuplicate"], counted["Registered"]) == (1, 1, 1)


def test_purchases_revocations_and_the_sweep_are_counted(
    client: Client, auth: TokenFactory, market: list[str], emitted: Any
) -> None:
    from chalicelib.registration import service

    buy(client, auth, market[0], "C1")
    participant_id = service.participant_id_for(market[2])
    client.http.post(
        f"/v1/participants/{participant_id}/revocation", headers=auth("admin"), body=body({"reason": "FRAUD"})
    )
    clock.set_now(datetime.fromisoformat("2021-07-06T00:30:00+07:00"))
    run_job(client, "revocation")
    counted = emitted()
    assert (counted["CoursesPurchased"], counted["TrainingSpent"], counted["ParticipantsRevoked"]) == (
        1,
        400_000,
        2,
    )
    assert counted["SweepDeadlineRead"] == 1
    assert me(client, auth, market[1])["status"] == "REVOKED"  # by the sweep: nothing bought


def test_selections_are_counted(client: Client, auth: TokenFactory, emitted: Any) -> None:
    from tests.integration.test_training import select

    select(client, auth, 3, quota=2)
    counted = emitted()
    assert (counted["ParticipantsSelected"], counted["ParticipantsNotSelected"]) == (2, 1)
