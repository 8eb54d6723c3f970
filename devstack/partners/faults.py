"""How a fake partner misbehaves, switched at run time (docs/PARTNERS.md, "The local fake's failure
modes"), and the seeded draws that make a faulty run repeatable.

A request draws one number: below `timeout` it is held and creates nothing, then below
`timeout + error` it is answered 500, then below `… + accept_then_timeout` it is carried out and
its answer held. Whether a transfer's callback comes twice or late is drawn from the seed and the
transfer's reference, so it does not depend on the order in which threads happened to ask.
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any

SHARES = ("timeout", "error", "accept_then_timeout", "duplicate_callback", "late_callback")
REQUEST_SHARES = ("timeout", "error", "accept_then_timeout")
MAX_LATENCY_MS = 60_000


class FaultsInvalid(ValueError):
    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__(", ".join(sorted(fields)))
        self.fields = fields


class RequestFault(Enum):
    NONE = "none"
    TIMEOUT = "timeout"
    ERROR = "error"
    ACCEPT_THEN_TIMEOUT = "accept_then_timeout"


@dataclass(frozen=True)
class Faults:
    timeout: float = 0.0
    error: float = 0.0
    accept_then_timeout: float = 0.0
    duplicate_callback: float = 0.0
    late_callback: float = 0.0
    down: bool = False
    latency_ms: int = 0
    seed: int = 0

    @classmethod
    def of(cls, body: dict[str, Any]) -> Faults:
        """The settings `body` asks for, every one left out healthy; `FaultsInvalid` names each
        value that cannot be one (in Indonesian, as the contract's 422 fields are)."""
        fields = {name: "Pengaturan tidak dikenal." for name in body if name not in cls.__dataclass_fields__}
        for name in SHARES:
            if name in body and not _share(body[name]):
                fields[name] = "Harus angka antara 0 dan 1."
        if "down" in body and not isinstance(body["down"], bool):
            fields["down"] = "Harus true atau false."
        latency = body.get("latency_ms", 0)
        if not _integer(latency) or not 0 <= latency <= MAX_LATENCY_MS:
            fields["latency_ms"] = f"Harus bilangan bulat antara 0 dan {MAX_LATENCY_MS}."
        if not _integer(body.get("seed", 0)):
            fields["seed"] = "Harus bilangan bulat."
        if not fields and sum(float(body.get(name, 0)) for name in REQUEST_SHARES) > 1:
            fields["timeout"] = "timeout + error + accept_then_timeout tidak boleh lebih dari 1."
        if fields:
            raise FaultsInvalid(fields)
        return cls(**{name: body[name] for name in body})

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Dice:
    """The faults in force and the generator they were seeded with, swapped together."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults = Faults()
        self._random = random.Random(0)  # noqa: S311 (a repeatable simulation, not security)

    @property
    def faults(self) -> Faults:
        return self._faults

    def set(self, faults: Faults) -> None:
        with self._lock:
            self._faults = faults
            self._random = random.Random(faults.seed)  # noqa: S311

    def request(self) -> RequestFault:
        with self._lock:
            faults, draw = self._faults, self._random.random()
        bound = 0.0
        for fault in (RequestFault.TIMEOUT, RequestFault.ERROR, RequestFault.ACCEPT_THEN_TIMEOUT):
            bound += getattr(faults, fault.value)
            if draw < bound:
                return fault
        return RequestFault.NONE

    def callback(self, reference: str) -> tuple[bool, bool]:
        """(sent twice, sent late) for the callback of `reference`."""
        faults = self._faults
        draws = random.Random(f"{faults.seed}:{reference}")  # noqa: S311
        return draws.random() < faults.duplicate_callback, draws.random() < faults.late_callback


def _share(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
