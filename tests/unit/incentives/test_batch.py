"""A consumer's batch prepares the next payment while the partner answers the current one, and
never has two partner calls in flight."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from chalicelib.incentives import batches, disbursement

WAIT_SECONDS = 5.0


class Recorder:
    """Stands in for `prepare` and `exchange`: what each did, and when."""

    def __init__(self, failing: frozenset[str] = frozenset()) -> None:
        self.failing = failing
        self.events: list[str] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.prepared = threading.Condition()

    def prepare(self, payment_id: str) -> Any:
        if payment_id in self.failing:
            raise RuntimeError(f"cannot prepare {payment_id}")
        with self.prepared:
            self.events.append(f"prepare {payment_id}")
            self.prepared.notify_all()
        return None if payment_id.startswith("gone") else payment_id

    def exchange(self, ready: Any) -> str:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        self.events.append(f"call {ready}")
        self.in_flight -= 1
        return "SENT"


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()
    monkeypatch.setattr(disbursement, "prepare", recorder.prepare)
    monkeypatch.setattr(disbursement, "exchange", recorder.exchange)
    return recorder


def test_the_next_payment_is_prepared_while_the_partner_answers(
    recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    def slow_partner(ready: Any) -> str:
        with recorder.prepared:
            following = {"a": "b", "b": "c"}.get(ready)
            assert following is None or recorder.prepared.wait_for(
                lambda: f"prepare {following}" in recorder.events, WAIT_SECONDS
            ), f"{following} was not prepared while {ready} was at the partner"
        return recorder.exchange(ready)

    monkeypatch.setattr(disbursement, "exchange", slow_partner)
    with batches.Batch(["a", "b", "c"]) as batch:
        assert [batch.send(payment_id) for payment_id in "abc"] == ["SENT"] * 3
    assert [event for event in recorder.events if event.startswith("call")] == ["call a", "call b", "call c"]
    assert recorder.most_in_flight == 1


def test_each_payment_is_prepared_once_before_its_call_whatever_the_batch_holds(recorder: Recorder) -> None:
    """A message without a payment (None) is skipped; one sent twice is prepared twice, in turn."""
    with batches.Batch(["a", None, "b", "b", "gone"]) as batch:
        answers = [batch.send(payment_id) for payment_id in ("a", "b", "b", "gone")]
    assert answers == ["SENT", "SENT", "SENT", "SKIPPED"]
    for payment_id in ("a", "b"):
        first_call = recorder.events.index(f"call {payment_id}")
        assert f"prepare {payment_id}" in recorder.events[:first_call]
    assert recorder.events.count("prepare b") == 2
    assert recorder.events.count("prepare a") == 1
    assert "call gone" not in recorder.events


def test_a_payment_that_cannot_be_prepared_fails_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = Recorder(failing=frozenset({"b"}))
    monkeypatch.setattr(disbursement, "prepare", recorder.prepare)
    monkeypatch.setattr(disbursement, "exchange", recorder.exchange)
    with batches.Batch(["a", "b", "c"]) as batch:
        assert batch.send("a") == "SENT"
        with pytest.raises(RuntimeError, match="cannot prepare b"):
            batch.send("b")
        assert batch.send("c") == "SENT"
    assert recorder.events == ["prepare a", "call a", "prepare c", "call c"]


def test_a_payment_out_of_the_batchs_order_is_prepared_on_its_turn(recorder: Recorder) -> None:
    with batches.Batch(["a", "b"]) as batch:
        assert batch.send("z") == "SENT"
        assert batch.send("a") == "SENT"
        assert batch.send("b") == "SENT"
    assert sorted(recorder.events) == sorted(
        ["prepare z", "call z", "prepare a", "call a", "prepare b", "call b"]
    )
