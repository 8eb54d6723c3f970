"""The `stats` job: folds every province's tally (`core.tallies`) into its figures and into the
hourly and daily series, the province's and the national one.

What the tallies hold is the checkpoint: each fold takes its shards out in the transaction that
adds them up, so a run killed anywhere is simply run again. A run reads each province's tally
partition, a few hundred small items at most however large the programme is.
"""

from __future__ import annotations

from collections.abc import Callable

from chalicelib.core import counters, tallies
from chalicelib.core.provinces import province_names

NATIONAL = "NATIONAL"


def fold_provinces(has_time: Callable[[], bool]) -> dict[str, object]:
    folded = left = 0
    for code in sorted(province_names()):
        if not has_time():
            return {"folded": folded, "left": left, "more": True}
        scope = counters.province_scope(code)
        done = tallies.fold(scope, ((scope, False), (NATIONAL, True)), has_time)
        folded, left = folded + done["folded"], left + done["left"]
    # A shard written to while it was folded waits for the next scheduled run, not for this one.
    return {"folded": folded, "left": left, "more": False}
