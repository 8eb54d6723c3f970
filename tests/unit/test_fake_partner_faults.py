"""The fake payment partners' fault settings (docs/PARTNERS.md, "The local fake's failure modes"):
what can be asked for, and draws that repeat with their seed."""

from __future__ import annotations

from typing import Any

import pytest

from devstack.partners import Faults, FaultsInvalid
from devstack.partners.faults import Dice, RequestFault


def test_no_settings_is_a_healthy_partner() -> None:
    assert Faults.of({}) == Faults()
    assert Faults.of({}).as_dict() == {
        "timeout": 0.0,
        "error": 0.0,
        "accept_then_timeout": 0.0,
        "duplicate_callback": 0.0,
        "late_callback": 0.0,
        "down": False,
        "latency_ms": 0,
        "seed": 0,
    }


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"timeout": 1.5}, {"timeout"}),
        ({"error": -0.1}, {"error"}),
        ({"error": "0.1"}, {"error"}),
        ({"duplicate_callback": True}, {"duplicate_callback"}),
        ({"down": "yes"}, {"down"}),
        ({"latency_ms": 1.5}, {"latency_ms"}),
        ({"latency_ms": -1}, {"latency_ms"}),
        ({"latency_ms": 600_000}, {"latency_ms"}),
        ({"seed": "one"}, {"seed"}),
        ({"slowness": 1}, {"slowness"}),
        ({"timeout": 0.6, "error": 0.3, "accept_then_timeout": 0.2}, {"timeout"}),
    ],
)
def test_fault_settings_that_cannot_be_are_named(body: dict[str, Any], fields: set[str]) -> None:
    with pytest.raises(FaultsInvalid) as invalid:
        Faults.of(body)

    assert set(invalid.value.fields) == fields


def test_the_same_seed_draws_the_same_faults() -> None:
    dice = Dice()
    faults = Faults.of({"timeout": 0.2, "error": 0.2, "accept_then_timeout": 0.2, "seed": 7})

    dice.set(faults)
    first = [dice.request() for _ in range(200)]
    dice.set(faults)
    second = [dice.request() for _ in range(200)]

    assert first == second
    shares = {fault: first.count(fault) / 200 for fault in RequestFault}
    assert all(0.1 < share < 0.3 for fault, share in shares.items() if fault is not RequestFault.NONE)


def test_a_callbacks_fate_depends_on_the_seed_and_its_reference_alone() -> None:
    dice = Dice()
    dice.set(Faults.of({"duplicate_callback": 0.5, "late_callback": 0.5, "seed": 3}))

    fates = [dice.callback(f"ref-{n}") for n in range(100)]

    assert fates == [dice.callback(f"ref-{n}") for n in range(100)]
    assert 20 < sum(twice for twice, _ in fates) < 80
    assert 20 < sum(late for _, late in fates) < 80
