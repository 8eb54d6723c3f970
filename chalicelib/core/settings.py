"""One typed view of the environment, read once per Lambda container.

Infrastructure settings (names, endpoints, keys) come from environment variables that
`.chalice/config.json` and the merged CloudFormation template set per stage. Programme rules
(amounts, deadlines, limits) are not here: they live in the programme configuration file, so
next year's programme is a new file, not a new deployment of code.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, tzinfo
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

Stage = Literal["local", "dev", "prod"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    stage: Stage = "dev"
    region: str = "ap-southeast-3"
    resource_prefix: str = ""
    upload_bucket: str = ""
    aws_endpoint_url: str | None = None
    jwks_url: str = ""
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    hash_key: SecretStr | None = None
    hash_key_parameter: str | None = None
    max_body_bytes: int = Field(default=64 * 1024, gt=0)
    max_import_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    registry_url: str = ""
    registry_key: SecretStr | None = None
    registry_key_parameter: str | None = None
    registry_rate_per_second: int = Field(default=20, gt=0)
    registry_daily_cap: int = Field(default=500_000, gt=0)
    programme_config: str = "chalicelib/programme.json"
    catalogue_refresh_seconds: float = Field(default=30.0, ge=0)
    # Longer than a failing import message takes to reach its dead-letter queue (5 × 15 minutes).
    import_stall_minutes: int = Field(default=120, gt=0)
    registration_refusals_per_day: int = Field(default=10, gt=0)
    # The public site's and the dashboard's origin (`web/`): the only one browsers may call from.
    web_origin: str = "http://127.0.0.1:8080"

    # Payment partners (docs/PARTNERS.md; chalicelib/incentives/partners). The URL is a template
    # with `{partner_id}` or a JSON map of partner id → URL; the secrets a JSON map of partner id →
    # secret (local), or the id of a Secrets Manager secret holding that map (AWS).
    partners_url: str = ""
    partner_secrets: SecretStr | None = None
    partner_secrets_id: str | None = None
    partner_timeout_seconds: float = Field(default=10.0, gt=0)
    partner_retries: int = Field(default=2, ge=0, le=10)
    partner_backoff_seconds: float = Field(default=0.2, ge=0)
    partner_breaker_failures: int = Field(default=5, gt=0)
    partner_breaker_reset_seconds: float = Field(default=30.0, gt=0)
    # Where partners send status callbacks: the API's public base URL ("" sends none; they are
    # then learnt by asking the partner and from its settlement files).
    partner_callback_base_url: str = ""

    # Notifications (docs/NOTIFICATIONS.md). The From of the programme's mail, an address of the
    # SES identity (the template's SenderAddress); its configuration set, where SES reports what
    # happened to each message. Rates are what the account's SES sending quota and SNS SMS
    # throughput allow, per second; the sender paces each channel under its own.
    mail_sender: str = ""
    mail_configuration_set: str | None = None
    email_per_second: float = Field(default=14.0, gt=0)
    sms_per_second: float = Field(default=20.0, gt=0)
    # Rounds a channel is tried in before its notification is dead-lettered.
    notify_attempts: int = Field(default=5, ge=1)
    # A claim this old without an answer belonged to a sender that died mid-send (a Lambda runs at
    # most 15 minutes): it may have gone out, so it is dead-lettered as uncertain, never resent.
    notify_claim_minutes: int = Field(default=15, gt=0)

    @property
    def prefix(self) -> str:
        return self.resource_prefix or f"prakerja-{self.stage}"

    def table_name(self, name: str) -> str:
        """Names follow `infra/resources.json`: `prakerja-${Stage}-<name>`."""
        return f"{self.prefix}-{name}"

    def queue_name(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    @property
    def is_local(self) -> bool:
        return self.stage == "local"

    def missing(self, serves_api: bool = False) -> list[str]:
        """The environment variables a deployed stage must set and this environment lacks.

        Every default above suits the local stack; in AWS these have none that works (the template
        and SSM provide them, `tests/integration/test_configuration.py` proves it per function).
        Only the API function verifies tokens, and only it is given the user pool's issuer: the pool
        names the sign-up trigger, so no function may name the pool through `Globals`."""
        if self.is_local:
            return []
        needed = {
            "UPLOAD_BUCKET": self.upload_bucket,
            "HASH_KEY_PARAMETER": self.hash_key_parameter or self.hash_key,
            "REGISTRY_URL": self.registry_url,
            "REGISTRY_KEY_PARAMETER": self.registry_key_parameter or self.registry_key,
            "PARTNERS_URL": self.partners_url,
            "PARTNER_SECRETS_ID": self.partner_secrets_id or self.partner_secrets,
            "PARTNER_CALLBACK_BASE_URL": self.partner_callback_base_url,
            "MAIL_SENDER": self.mail_sender,
        }
        if serves_api:
            needed |= {
                "JWKS_URL": self.jwks_url,
                "JWT_ISSUER": self.jwt_issuer,
                "JWT_AUDIENCE": self.jwt_audience,
            }
        return [variable for variable, value in needed.items() if not value]


_ENVIRONMENT = {
    "stage": "STAGE",
    "region": "AWS_REGION",
    "resource_prefix": "RESOURCE_PREFIX",
    "upload_bucket": "UPLOAD_BUCKET",
    "aws_endpoint_url": "AWS_ENDPOINT_URL",
    "jwks_url": "JWKS_URL",
    "jwt_issuer": "JWT_ISSUER",
    "jwt_audience": "JWT_AUDIENCE",
    "hash_key": "HASH_KEY",
    "hash_key_parameter": "HASH_KEY_PARAMETER",
    "max_body_bytes": "MAX_BODY_BYTES",
    "max_import_bytes": "MAX_IMPORT_BYTES",
    "registry_url": "REGISTRY_URL",
    "registry_key": "REGISTRY_KEY",
    "registry_key_parameter": "REGISTRY_KEY_PARAMETER",
    "registry_rate_per_second": "REGISTRY_RATE_PER_SECOND",
    "registry_daily_cap": "REGISTRY_DAILY_CAP",
    "programme_config": "PROGRAMME_CONFIG",
    "catalogue_refresh_seconds": "CATALOGUE_REFRESH_SECONDS",
    "import_stall_minutes": "IMPORT_STALL_MINUTES",
    "registration_refusals_per_day": "REGISTRATION_REFUSALS_PER_DAY",
    "web_origin": "WEB_ORIGIN",
    # Payment partners
    "partners_url": "PARTNERS_URL",
    "partner_secrets": "PARTNER_SECRETS",
    "partner_secrets_id": "PARTNER_SECRETS_ID",
    "partner_timeout_seconds": "PARTNER_TIMEOUT_SECONDS",
    "partner_retries": "PARTNER_RETRIES",
    "partner_backoff_seconds": "PARTNER_BACKOFF_SECONDS",
    "partner_breaker_failures": "PARTNER_BREAKER_FAILURES",
    "partner_breaker_reset_seconds": "PARTNER_BREAKER_RESET_SECONDS",
    "partner_callback_base_url": "PARTNER_CALLBACK_BASE_URL",
    # Notifications
    "mail_sender": "MAIL_SENDER",
    "mail_configuration_set": "MAIL_CONFIGURATION_SET",
    "email_per_second": "NOTIFY_EMAIL_PER_SECOND",
    "sms_per_second": "NOTIFY_SMS_PER_SECOND",
    "notify_attempts": "NOTIFY_ATTEMPTS",
    "notify_claim_minutes": "NOTIFY_CLAIM_MINUTES",
}


@cache
def settings() -> Settings:
    values = {field: os.environ[var] for field, var in _ENVIRONMENT.items() if os.environ.get(var)}
    return Settings.model_validate(values)


class Programme(BaseModel):
    """The programme's rules (DESIGN.md, "Rules"); every amount is integer Rupiah."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    minimum_age: int = Field(ge=0)
    family_cap: int = Field(ge=1)
    training_balance: int = Field(gt=0)
    purchase_deadline_days: int = Field(gt=0)
    balance_usage_days: int = Field(gt=0)
    incentive_amount: int = Field(gt=0)
    incentive_months: int = Field(gt=0)
    # The first incentive falls due this many days after it is owed (a rated completion and a
    # verified account), the later ones a calendar month apart.
    incentive_first_due_days: int = Field(default=7, ge=0)
    # Definite failures of a payment before it needs the participant or an admin to act.
    payment_attempts: int = Field(default=3, ge=1)
    # Days before the purchase deadline on which a selected participant who has bought nothing yet
    # is reminded to use the balance.
    reminder_days: tuple[int, ...] = (14, 7, 2)
    survey_count: int = Field(ge=0)
    survey_reward: int = Field(ge=0)
    # Survey rounds fall due these many days after the first completed course, and may be answered
    # for `survey_answer_days` after they are sent. The questionnaires are versioned; their shape
    # is the surveys stage's to check (`surveys/definitions.py`).
    survey_offsets_days: tuple[int, ...] = (30, 90, 180)
    survey_answer_days: int = Field(default=14, gt=0)
    survey_definitions: dict[str, Any] = Field(default_factory=dict)
    timezone_offset: str
    ineligible_declarations: tuple[str, ...]
    priority_cohorts: tuple[str, ...] = ()

    @property
    def timezone(self) -> tzinfo:
        """The programme's clock for days and deadlines (WIB, Jakarta)."""
        moment = datetime.fromisoformat(f"2000-01-01T00:00:00{self.timezone_offset}")
        assert moment.tzinfo is not None
        return moment.tzinfo


@cache
def programme() -> Programme:
    path = Path(settings().programme_config)
    if not path.is_absolute():
        path = PROJECT_ROOT / path
    return Programme.model_validate(json.loads(path.read_text(encoding="utf-8")))
