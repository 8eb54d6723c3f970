"""A deployed stage lists what its environment lacks; the local stack needs nothing more."""

from __future__ import annotations

from chalicelib.core.settings import Settings

COMPLETE = {
    "upload_bucket": "prakerja-prod-uploads-1",
    "hash_key_parameter": "/prakerja/prod/hash-key",
    "registry_url": "https://registry.example",
    "registry_key_parameter": "/prakerja/prod/registry-api-key",
    "partners_url": "https://partners.example",
    "partner_secrets_id": "prakerja/prod/partner-secrets",
    "partner_callback_base_url": "https://api.example",
    "mail_sender": "Prakerja <no-reply@example.go.id>",
}


def test_a_deployed_function_without_the_registry_is_told_so() -> None:
    incomplete = {**COMPLETE, "registry_url": "", "stage": "prod"}
    assert Settings.model_validate(incomplete).missing() == ["REGISTRY_URL"]


def test_a_deployed_function_without_the_partners_is_told_so() -> None:
    incomplete = {**COMPLETE, "partners_url": "", "partner_callback_base_url": "", "stage": "prod"}
    assert Settings.model_validate(incomplete).missing() == ["PARTNERS_URL", "PARTNER_CALLBACK_BASE_URL"]


def test_a_deployed_function_without_a_mail_sender_is_told_so() -> None:
    incomplete = {**COMPLETE, "mail_sender": "", "stage": "prod"}
    assert Settings.model_validate(incomplete).missing() == ["MAIL_SENDER"]


def test_only_the_api_needs_the_user_pool() -> None:
    deployed = Settings.model_validate({**COMPLETE, "stage": "prod"})
    assert deployed.missing() == []
    assert deployed.missing(serves_api=True) == ["JWKS_URL", "JWT_ISSUER", "JWT_AUDIENCE"]


def test_the_local_stack_needs_nothing_it_does_not_set_itself() -> None:
    assert Settings(stage="local").missing(serves_api=True) == []
