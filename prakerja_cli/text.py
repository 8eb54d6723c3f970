"""How the CLI writes numbers and whatever text the API sends back.

Everything the API says is masked before it reaches a terminal: an error may quote a value, and a
terminal's scroll-back, a shared screen or a pasted log is no place for a NIK or a phone number."""

from __future__ import annotations

import re
from typing import Any

# NIK and KK (16 digits), phone numbers (`08…`, `+628…`) and account numbers (10 or more digits)
# are all runs of eight or more digits; nothing else the API says in words is.
_LONG_NUMBER = re.compile(r"\+?\d{8,}")
_EMAIL = re.compile(r"[\w.+-]+@([\w-]+\.)+\w+")
_KEPT_DIGITS = 4


def _number_masked(found: re.Match[str]) -> str:
    digits = found.group(0)
    return "*" * (len(digits) - _KEPT_DIGITS) + digits[-_KEPT_DIGITS:]


def masked(text: str) -> str:
    """`text` with every long number but its last four digits, and every e-mail address, hidden."""
    return _LONG_NUMBER.sub(_number_masked, _EMAIL.sub("***@***", text))


def masked_values(value: Any) -> Any:
    """A JSON value with its strings masked; numbers are figures (counts, Rupiah) and stay."""
    if isinstance(value, str):
        return masked(value)
    if isinstance(value, dict):
        return {key: masked_values(item) for key, item in value.items()}
    if isinstance(value, list):
        return [masked_values(item) for item in value]
    return value


def number(value: int) -> str:
    """`1.234.567`: Indonesian digit grouping."""
    return f"{value:,}".replace(",", ".")


def rupiah(amount: int) -> str:
    """`Rp1.234.567`, `-Rp5.000`: money as Indonesian readers write it."""
    return f"-Rp{number(-amount)}" if amount < 0 else f"Rp{number(amount)}"


# The figures that are amounts of money rather than counts, by the API's naming.
_MONEY = ("_amount", "_balance", "_spent")


def is_money(figure: str) -> bool:
    return figure.endswith(_MONEY)


def figure(name: str, value: int) -> str:
    return rupiah(value) if is_money(name) else number(value)
