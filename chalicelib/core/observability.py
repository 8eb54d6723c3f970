"""One Logger and one Metrics for the whole service, and the mask that keeps personal data out of logs.

Every log record passes through `MaskingFormatter` before it is written, so a careless
`logger.info("x", extra={"participant": record})` or an exception text that quotes a NIK still
never puts personal data into CloudWatch. Two nets: values under a personal field name are
masked whatever they look like (a name cannot be recognised by its shape), and every string is
scrubbed of anything shaped like a NIK/KK, account number, phone number or e-mail address.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

SERVICE = "prakerja"
NAMESPACE = "Prakerja"

PERSONAL_FIELDS = frozenset(
    {
        "nik",
        "kk",
        "kk_number",
        "full_name",
        "name",
        "account_name",
        "account_number",
        "email",
        "phone",
        "birth_date",
        "address",
    }
)

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<!\d)(?:\+?62|0)8\d{7,12}(?!\d)")
# NIK and KK are 16 digits, bank accounts 10 or more: any long run of digits may be one of them.
_LONG_NUMBER = re.compile(r"(?<!\d)\d{10,}(?!\d)")


def mask(value: str, visible: int = 4) -> str:
    """`3171234501900001` → `************0001`: enough to recognise, not enough to use."""
    if len(value) <= visible:
        return "*" * len(value)
    return "*" * (len(value) - visible) + value[-visible:]


def scrub(text: str) -> str:
    text = _EMAIL.sub("***@***", text)
    text = _PHONE.sub(lambda match: mask(match.group()), text)
    return _LONG_NUMBER.sub(lambda match: mask(match.group()), text)


def _masked(value: Any, field: str | None = None) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # Field by field, so that a name or a birth date is masked by its field, as in a dict.
        value = {item.name: getattr(value, item.name) for item in dataclasses.fields(value)}
    if field is not None and field.lower() in PERSONAL_FIELDS and value is not None:
        return mask(str(value)) if field.lower() not in {"full_name", "name", "account_name"} else "***"
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {key: _masked(item, str(key)) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [_masked(item) for item in value]
    if value is None or isinstance(value, bool | float) or (isinstance(value, int) and abs(value) < 10**9):
        return value
    # Anything else (an exception, a datetime, a number long enough to be a NIK that a careless cast
    # made of one) is written as its text: scrub that text.
    return scrub(str(value))


class MaskingFormatter(LambdaPowertoolsFormatter):
    def serialize(self, log: Any) -> str:
        return super().serialize(log=_masked(log))


logger = Logger(service=SERVICE, logger_formatter=MaskingFormatter())
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def count(name: str, value: int = 1) -> None:
    """One business figure an operator watches (registrations, refusals, import rows by outcome,
    selections, purchases, revocations, job progress), sent as CloudWatch EMF when the
    invocation ends (`flush_metrics`)."""
    if value and not is_metrics_disabled():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def flush_metrics(event: Any, get_response: Any) -> Any:
    """Chalice middleware for every kind of handler: what the invocation counted, written once as
    one EMF line at its end, also when it failed; nothing when it counted nothing."""
    try:
        return get_response(event)
    finally:
        if metrics.metric_set:
            metrics.flush_metrics()
