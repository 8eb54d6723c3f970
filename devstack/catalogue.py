"""A realistic training catalogue for the local stack: 7 platforms, dozens of institutions, a few
hundred courses, generated (the same every time) rather than written out by hand.

The 2020–2021 programme had 7 digital platforms and about 180 institutions offering about 2,000
courses; prices ran from about Rp100,000 to the whole balance. The local stack publishes this
catalogue once, into an empty catalogue, through the training domain's own store, as platforms
would through `PUT /v1/platform/courses/{course_id}`.

    python -m devstack.catalogue            # print the catalogue as JSON lines
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime

from chalicelib.training.model import Course

PLATFORMS = (
    "TOKOPEDIA",
    "BUKALAPAK",
    "SKILL_ACADEMY",
    "MAUBELAJARAPA",
    "PIJAR_MAHIR",
    "SEKOLAHMU",
    "PINTARIA",
)

CATEGORIES = {
    "PEMASARAN": (
        "Digital Marketing",
        "Pemasaran Media Sosial",
        "Copywriting",
        "Jualan Online di Marketplace",
    ),
    "KEUANGAN": (
        "Akuntansi Dasar",
        "Pembukuan UMKM",
        "Perpajakan untuk Usaha Kecil",
        "Mengelola Keuangan Usaha",
    ),
    "TEKNOLOGI": ("Microsoft Excel", "Pemrograman Python", "Desain Grafis dengan Canva", "Membuat Website"),
    "KULINER": ("Membuat Kue Kering", "Usaha Katering Rumahan", "Barista Kopi", "Memasak Masakan Nusantara"),
    "KRIYA": ("Menjahit Busana", "Membatik", "Kerajinan Anyaman", "Merias Pengantin"),
    "BAHASA": ("Bahasa Inggris untuk Kerja", "Bahasa Jepang Dasar", "Bahasa Korea untuk Pekerja Migran"),
    "PERTANIAN": ("Budidaya Hidroponik", "Budidaya Ikan Lele", "Pertanian Organik"),
    "OTOMOTIF": ("Perawatan Sepeda Motor", "Teknisi AC", "Servis Ponsel"),
}
LEVELS = ("untuk Pemula", "Tingkat Lanjut", "Praktis", "dalam 30 Hari")
PUBLISHED = datetime(2020, 4, 1, tzinfo=UTC)
INSTITUTION_KINDS = ("Lembaga Pelatihan", "Akademi", "Kursus", "Balai Keterampilan", "Sekolah Vokasi")
INSTITUTION_NAMES = (
    "Nusantara", "Mandiri", "Cendekia", "Prima", "Harapan", "Bina Karya", "Maju Jaya", "Sinar",
    "Cakrawala", "Insan", "Gemilang", "Mitra", "Bhakti", "Pelita",
)  # fmt: skip


def institutions(rng: random.Random, count: int) -> list[str]:
    names = [f"{kind} {name}" for kind in INSTITUTION_KINDS for name in INSTITUTION_NAMES]
    return rng.sample(names, count)


def courses(count: int = 350, institution_count: int = 48, seed: int = 2020) -> Iterator[Course]:
    """`count` courses from `institution_count` institutions on the 7 platforms; same seed, same catalogue."""
    rng = random.Random(seed)  # noqa: S311 -- reproducible on purpose; nothing secret is drawn
    offered = institutions(rng, institution_count)
    for index in range(count):
        category = rng.choice(sorted(CATEGORIES))
        platform = PLATFORMS[index % len(PLATFORMS)]
        yield Course(
            course_id=f"{platform[:3]}-{index + 1:04d}",
            platform_id=platform,
            title=f"{rng.choice(CATEGORIES[category])} {rng.choice(LEVELS)}",
            institution=rng.choice(offered),
            category=category,
            price=rng.randrange(100_000, 1_000_001, 25_000),
            hours=rng.randrange(2, 41),
            active=True,
            updated_at=PUBLISHED,
        )


def publish_if_empty() -> int:
    """Publish the generated catalogue into an empty one; returns how many courses were published."""
    from chalicelib.training.stores import courses as store

    if store.catalogue_version():
        return 0
    published = 0
    for course in courses():
        store.save_course(course)
        published += 1
    return published


if __name__ == "__main__":
    for course in courses():
        print(json.dumps(asdict(course), default=str))
