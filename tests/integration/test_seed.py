"""Seeded participants are exactly what registration writes: the app reads them as its own."""

from __future__ import annotations

from datetime import UTC

import boto3
from chalice.test import Client

from chalicelib.core.settings import settings
from devstack import seed
from tests.conftest import TokenFactory
from tests.integration.test_registration import SITI, register


def test_a_seeded_participant_is_read_by_the_app_and_guards_its_claims(
    client: Client, auth: TokenFactory
) -> None:
    people = list(seed.generate(20, seed=3))
    tables = seed.Tables(settings().table_name("participants"), settings().table_name("guards"))
    assert seed.write(boto3.client("dynamodb"), people, tables, threads=1) == 20 * seed.ITEMS_PER_PARTICIPANT

    person = people[7]
    me = client.http.get("/v1/participants/me", headers=auth("participant", sub=person.account_subject))
    assert me.status_code == 200
    assert (me.json_body["status"], me.json_body["nik"][-4:]) == ("REGISTERED", person.nik[-4:])
    taken = {**SITI, "phone": person.phone}
    assert register(client, auth, taken, "acc-new").json_body["error"]["code"] == "DUPLICATE_PHONE"


def test_seeded_people_count_in_their_province_once_and_recount_without_drift(client: Client) -> None:
    from chalicelib.reports import drift

    people = list(seed.generate(30, seed=5))
    tables = seed.Tables(settings().table_name("participants"), settings().table_name("guards"))
    dynamodb = boto3.client("dynamodb")
    seed.write(dynamodb, people, tables, threads=1)
    for _ in range(2):  # seeding again with the same seed counts nobody twice
        seed.write_figures(dynamodb, people, settings().table_name("stats"), seed=5)

    listed = client.http.get("/v1/stats/provinces").json_body
    assert listed["national"]["registered"] == 30
    code = people[0].province_code
    province = next(p for p in listed["provinces"] if p["province_code"] == code)
    assert province["registered"] == sum(person.province_code == code for person in people)
    last = people[0].created_at.astimezone(UTC).date()
    hours = client.http.get(f"/v1/stats/series?to={last.isoformat()}").json_body["registrations_per_hour"]
    in_range = [p for p in people if 0 <= (last - p.created_at.astimezone(UTC).date()).days < 7]
    assert sum(hour["registered"] for hour in hours) == len(in_range) > 0
    report = drift.check(lambda: True)["report"]
    assert report["differences"] == {}
