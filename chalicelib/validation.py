"""pydantic's verdicts in the contract's language: the API's 422 fields and an import's row messages
say the same thing about the same field.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

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
