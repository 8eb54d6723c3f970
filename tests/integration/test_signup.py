"""Self sign-up ends in the participant group, by the post-confirmation trigger and by it alone.

moto neither runs Cognito's triggers nor puts anyone in a group, so the trigger is invoked here
with the event Cognito sends it, against moto's user pool."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

STAFF_GROUPS = ("office", "pemda", "platform", "partner", "admin")


@pytest.fixture
def pool(client: Client) -> Iterator[tuple[Client, Any, str]]:
    import boto3

    cognito = boto3.client("cognito-idp")
    pool_id = cognito.create_user_pool(PoolName="prakerja-local-users", UsernameAttributes=["email"])[
        "UserPool"
    ]["Id"]
    for group in ("participant", *STAFF_GROUPS):
        cognito.create_group(UserPoolId=pool_id, GroupName=group)
    yield client, cognito, pool_id


def confirmation(
    pool_id: str, username: str, source: str = "PostConfirmation_ConfirmSignUp"
) -> dict[str, Any]:
    """The event Cognito gives a post-confirmation trigger."""
    return {
        "version": "1",
        "region": "ap-southeast-3",
        "userPoolId": pool_id,
        "userName": username,
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": "web-client"},
        "triggerSource": source,
        "request": {
            "userAttributes": {"sub": username, "email_verified": "true", "email": "siti@example.id"}
        },
        "response": {},
    }


def groups(cognito: Any, pool_id: str, username: str) -> list[str]:
    answer = cognito.admin_list_groups_for_user(UserPoolId=pool_id, Username=username)
    return sorted(group["GroupName"] for group in answer["Groups"])


def test_a_person_who_confirms_their_sign_up_becomes_a_participant(pool: tuple[Client, Any, str]) -> None:
    client, cognito, pool_id = pool
    cognito.sign_up(
        ClientId=_client_id(cognito, pool_id), Username="siti@example.id", Password="Rahasia-12345"
    )
    username = cognito.admin_get_user(UserPoolId=pool_id, Username="siti@example.id")["Username"]

    answer = client.lambda_.invoke("cognito_post_confirmation", confirmation(pool_id, username)).payload

    assert groups(cognito, pool_id, username) == ["participant"]
    assert answer["userName"] == username  # Cognito refuses a trigger that does not hand its event back


def test_a_trigger_cognito_retries_leaves_one_membership(pool: tuple[Client, Any, str]) -> None:
    client, cognito, pool_id = pool
    cognito.admin_create_user(UserPoolId=pool_id, Username="budi@example.id")

    for _ in range(2):
        client.lambda_.invoke("cognito_post_confirmation", confirmation(pool_id, "budi@example.id"))

    assert groups(cognito, pool_id, "budi@example.id") == ["participant"]


def test_a_confirmed_password_reset_changes_no_group(pool: tuple[Client, Any, str]) -> None:
    """A staff member who resets a password must not become a participant as well."""
    client, cognito, pool_id = pool
    cognito.admin_create_user(UserPoolId=pool_id, Username="petugas@example.id")
    cognito.admin_add_user_to_group(UserPoolId=pool_id, Username="petugas@example.id", GroupName="office")

    event = confirmation(pool_id, "petugas@example.id", source="PostConfirmation_ConfirmForgotPassword")
    client.lambda_.invoke("cognito_post_confirmation", event)

    assert groups(cognito, pool_id, "petugas@example.id") == ["office"]


def _client_id(cognito: Any, pool_id: str) -> str:
    return str(
        cognito.create_user_pool_client(UserPoolId=pool_id, ClientName="web")["UserPoolClient"]["ClientId"]
    )
