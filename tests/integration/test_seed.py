"""Seeded participants are exactly what registration writes: the app reads them as its own."""

from __future__ import annotations

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
