"""Self sign-up: a person who confirms their e-mail address joins the `participant` group.

Every participant route requires that group, and Cognito puts a self-registered user in none, so
without this trigger every new account would meet 403. Cognito calls it after a confirmation
(post-confirmation trigger, wired in `infra/resources.json`); it must answer with the event it got.
Staff groups (office, pemda, platform, partner, admin) are never given here: an admin assigns them
(README, "Deploying to AWS"). A confirmed password reset calls the trigger too and changes nothing.

The pool's id comes with the event: the function cannot be configured with it, since the pool
itself names the function (CloudFormation would refuse the cycle).
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from chalice.app import Blueprint

bp = Blueprint(__name__)

PARTICIPANT_GROUP = "participant"
SIGN_UP_CONFIRMED = "PostConfirmation_ConfirmSignUp"


@cache
def _client(region: str) -> Any:
    import boto3

    return boto3.client("cognito-idp", region_name=region)


@bp.lambda_function(name="cognito_post_confirmation")
def cognito_post_confirmation(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("triggerSource") == SIGN_UP_CONFIRMED:
        region = event.get("region") or os.environ.get("AWS_REGION", "ap-southeast-3")
        # Adding a member twice is no error: a trigger Cognito retries ends the same.
        _client(region).admin_add_user_to_group(
            UserPoolId=event["userPoolId"], Username=event["userName"], GroupName=PARTICIPANT_GROUP
        )
    return event
