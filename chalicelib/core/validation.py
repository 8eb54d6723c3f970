"""pydantic's verdicts in the contract's language: the API's 422 fields and an import's row messages
say the same thing about the same field.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, ValidationError

# The contract's messages are Indonesian; pydantic's are English. Its commonest kinds of problem in
# Indonesian, with the limits it reports; any other keeps pydantic's own words.
_PROBLEMS = {
    "missing": "wajib diisi",
    "extra_forbidden": "tidak dikenal",
    "string_type": "harus berupa teks",
    "string_too_short": "terlalu pendek (paling sedikit {min_length} karakter)",
    "string_too_long": "terlalu panjang (paling banyak {max_length} karakter)",
    "string_pattern_mismatch": "formatnya tidak sah",
    "int_type": "harus bilangan bulat",
    "int_parsing": "harus bilangan bulat",
    "int_from_float": "harus bilangan bulat",
    "bool_type": "harus true atau false",
    "bool_parsing": "harus true atau false",
    "greater_than": "harus lebih dari {gt}",
    "greater_than_equal": "paling kecil {ge}",
    "less_than_equal": "paling besar {le}",
    "date_parsing": "tanggal tidak sah (YYYY-MM-DD)",
    "date_from_datetime_parsing": "tanggal tidak sah (YYYY-MM-DD)",
    "datetime_parsing": "waktu tidak sah (ISO 8601 dengan zona waktu)",
    "datetime_from_date_parsing": "waktu tidak sah (ISO 8601 dengan zona waktu)",
    "timezone_aware": "waktu harus menyebut zona waktunya",
    "dict_type": "harus berupa objek JSON",
    "list_type": "harus berupa daftar",
    "too_long": "terlalu banyak isinya (paling banyak {max_length})",
}


def _message(problem: Any) -> str:
    """A problem in Indonesian; our own validators' messages (already Indonesian) without pydantic's
    "Value error, " in front of them."""
    kind, context = problem["type"], problem.get("ctx", {})
    if kind in _PROBLEMS:
        return _PROBLEMS[kind].format(**context)
    if kind == "literal_error":
        return "harus salah satu dari " + str(context["expected"]).replace(" or ", " atau ")
    if kind == "value_error" and isinstance(context.get("error"), ValueError):
        return str(context["error"])
    if kind == "value_error" and "reason" in context:  # pydantic's EmailStr
        return "bukan alamat e-mail yang sah"
    return str(problem["msg"])


def field_problems(error: ValidationError) -> dict[str, str]:
    """Each bad field (a dotted path) with what is wrong with it, in Indonesian."""
    return {
        ".".join(str(part) for part in problem["loc"]) or "body": _message(problem)
        for problem in error.errors(include_input=False, include_url=False)
    }


# --- bounded types for untrusted input --------------------------------------------------------

# Text people and platforms write, shown to others: no control characters but line breaks and
# tabs, no format characters (bidirectional overrides that make a title read backwards,
# zero-width characters that make two names look alike, a byte-order mark), no private-use or
# surrogate code points. Names are stricter still (registration's `person_name`).
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs"})
_ALLOWED_CONTROLS = frozenset({"\n", "\t"})


def plain(value: str) -> str:
    import unicodedata

    normalised = unicodedata.normalize("NFC", value)
    for character in normalised:
        if character not in _ALLOWED_CONTROLS and unicodedata.category(character) in _REFUSED_CATEGORIES:
            raise ValueError(f"berisi karakter tak terlihat atau kendali (U+{ord(character):04X})")
    return normalised


Plain = AfterValidator(plain)
"""Free text with nothing invisible in it: `Annotated[str, StringConstraints(…), Plain]`."""


# Every moment the programme deals in lies well inside this century; one at either end of the
# calendar would overflow the arithmetic and the storage of dates (year 1 in UTC is year 0).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def _in_programme_years(moment: datetime) -> datetime:
    if not EARLIEST <= moment < LATEST:
        raise ValueError("waktu harus di antara tahun 2000 dan 2099")
    return moment


Moment = Annotated[AwareDatetime, AfterValidator(_in_programme_years)]
