"""How the CLI writes figures and masks what the API says."""

from __future__ import annotations

import pytest

from prakerja_cli.text import figure, masked, masked_values, rupiah


@pytest.mark.parametrize(
    ("amount", "written"),
    [(0, "Rp0"), (999, "Rp999"), (1000, "Rp1.000"), (1234567, "Rp1.234.567"), (-5000, "-Rp5.000")],
)
def test_rupiah_is_written_the_indonesian_way(amount: int, written: str) -> None:
    assert rupiah(amount) == written


def test_amounts_are_rupiah_and_counts_are_numbers() -> None:
    assert figure("incentive_paid_amount", 600000) == "Rp600.000"
    assert figure("unspent_balance", 1000000) == "Rp1.000.000"
    assert figure("training_spent", 250000) == "Rp250.000"
    assert figure("registered", 1234567) == "1.234.567"


@pytest.mark.parametrize(
    ("said", "shown"),
    [
        ("NIK 3171234501900001 sudah terdaftar", "NIK ************0001 sudah terdaftar"),
        ("telepon +6281234567890", "telepon **********7890"),
        ("rekening 1234567890.", "rekening ******7890."),
        ("surel siti.rahayu@example.id dipakai", "surel ***@*** dipakai"),
        (
            "gelombang W17 kuota 1000, 2021-06-01T00:00:00+07:00",
            "gelombang W17 kuota 1000, 2021-06-01T00:00:00+07:00",
        ),
    ],
)
def test_personal_data_in_the_apis_words_is_masked(said: str, shown: str) -> None:
    assert masked(said) == shown


def test_only_strings_are_masked_in_a_summary() -> None:
    summary = {"paid_amount": 60000000, "failed": [{"reason": "akun 08123456789"}]}
    assert masked_values(summary) == {"paid_amount": 60000000, "failed": [{"reason": "akun *******6789"}]}
