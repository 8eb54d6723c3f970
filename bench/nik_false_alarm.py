"""How often a genuine office file would be refused as one a spreadsheet rounded (`NIK_AS_NUMBER`).

    .venv/bin/python -m bench.nik_false_alarm [--files 200000]

A NIK's last four digits are a serial, counted from 0001 among the people of one district
(kecamatan) born on the same day, with 40 added to the day for women; a KK's among the family
cards a district issued on one day. Of the serials 1..N of any group exactly floor(N/10) end in
0, at most a tenth: so a genuine value ends in 0 with probability at most 0.1, whatever the
population, and a file of d distinct values all ending in 0 at most 0.1^d. That bound needs no
model. The model below says how far under it real files are: districts of realistic sizes,
births spread over 80 years, and a share of people whose unknown birth date was recorded as
1 January or 31 December (age heaping, common among older people), which makes their groups
large; then it draws files of people from one district (the worst case: the heaped people alone)
and counts how often every NIK ends in 0, exactly and by sampling.
"""

from __future__ import annotations

import argparse
import math
import random

from chalicelib.registration.imports.spreadsheets import EVIDENCE

YEARS = 80
DAYS = 365.25
HEAPED_DAYS = 2  # 1 January, 31 December


def _poisson_tail(mean: float, at_least: int) -> float:
    """P(N >= at_least) for N ~ Poisson(mean)."""
    term = math.exp(-mean)
    below = 0.0
    for k in range(at_least):
        below += term
        term *= mean / (k + 1)
    return max(0.0, 1.0 - below)


def ending_in_zero(group_mean: float) -> float:
    """The share of people whose serial ends in 0, where group sizes are Poisson(group_mean):
    E[floor(N/10)] / E[N]."""
    expected = 0.0
    k = 1
    while True:
        tail = _poisson_tail(group_mean, 10 * k)
        if tail < 1e-15:
            break
        expected += tail
        k += 1
    return expected / group_mean


def nik_share(population: int, heaped: float) -> tuple[float, float]:
    """The share of a district's NIKs ending in 0, overall and among its heaped people."""
    per_sex = population / 2
    spread = (1 - heaped) * per_sex / (YEARS * DAYS)
    heap = heaped * per_sex / (YEARS * HEAPED_DAYS)
    spread_zero = ending_in_zero(spread) * spread * YEARS * DAYS if spread else 0.0
    heap_zero = ending_in_zero(heap) * heap * YEARS * HEAPED_DAYS if heap else 0.0
    overall = (spread_zero + heap_zero) / per_sex
    return overall, (ending_in_zero(heap) if heap else 0.0)


def sampled(population: int, heaped: float, size: int, files: int, seed: int = 17) -> float:
    """Draw `files` files of `size` distinct people of one simulated district: the share whose
    NIKs all end in 0. Serials are issued in order within each (birth day, sex) group."""
    rng = random.Random(seed)
    serials: list[int] = []
    groups: dict[tuple[int, int], int] = {}
    for _ in range(population):
        sex = rng.randrange(2)
        if rng.random() < heaped:
            day = rng.randrange(HEAPED_DAYS)
        else:
            day = HEAPED_DAYS + rng.randrange(int(YEARS * DAYS))
        groups[sex, day] = groups.get((sex, day), 0) + 1
        serials.append(groups[sex, day])
    convicted = sum(all(serial % 10 == 0 for serial in rng.sample(serials, size)) for _ in range(files))
    return convicted / files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=200_000, help="files drawn per sampled district")
    options = parser.parse_args()

    print("Bound, any population: P(a genuine value ends in 0) <= 0.1")
    print("| distinct values all ending in 0 | at most |")
    print("| ---: | ---: |")
    for values in range(1, 8):
        marker = "  <- the rule" if values == EVIDENCE else ""
        print(f"| {values} | {0.1**values:.0e} |{marker}")

    print("\nModel: share of NIKs ending in 0, and P(a file of 5 people all ending in 0)")
    print("| district population | heaped birth dates | share ending in 0 | 5 people | 5 heaped people |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for population in (10_000, 37_000, 150_000, 600_000):
        for heaped in (0.0, 0.05, 0.20):
            overall, among_heaped = nik_share(population, heaped)
            print(
                f"| {population:,} | {heaped:.0%} | {overall:.4f} | {overall**EVIDENCE:.1e} "
                f"| {among_heaped**EVIDENCE:.1e} |"
            )

    print(f"\nSampled ({options.files:,} files per district, people drawn from one district):")
    print("| district population | heaped | file size | share of files all ending in 0 | model |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for population, heaped, size in ((150_000, 0.20, 2), (150_000, 0.20, 3), (600_000, 0.20, 3)):
        share = sampled(population, heaped, size, options.files)
        model = nik_share(population, heaped)[0] ** size
        print(f"| {population:,} | {heaped:.0%} | {size} | {share:.1e} | {model:.1e} |")


if __name__ == "__main__":
    main()
