from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.core.provinces import province_names
from chalicelib.core.settings import programme
from chalicelib.registration.rules import (
    Gender,
    IdentityError,
    age_on,
    check_kk,
    check_nik_matches,
    decode_nik,
    eligibility,
)

PROVINCES = sorted(province_names())


def nik_for(
    province: str, born: date, gender: str, regency: str = "01", district: str = "23", serial: int = 1
) -> str:
    day = born.day + (40 if gender == "F" else 0)
    return f"{province}{regency}{district}{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"


GENDERS: tuple[Gender, ...] = ("M", "F")
people = st.tuples(
    st.sampled_from(PROVINCES),
    st.dates(min_value=date(1940, 1, 1), max_value=date(2010, 12, 31)),
    st.sampled_from(GENDERS),
    st.integers(min_value=1, max_value=9999),
)


@given(people)
def test_a_well_formed_nik_decodes_to_what_it_encodes(person: tuple[str, date, Gender, int]) -> None:
    province, born, gender, serial = person
    parts = decode_nik(nik_for(province, born, gender, serial=serial))
    assert (parts.province, parts.regency, parts.gender) == (province, f"{province}01", gender)
    assert (parts.day, parts.month, parts.year_of_century) == (born.day, born.month, born.year % 100)


@given(people)
def test_a_nik_matches_the_declarations_it_was_made_from(person: tuple[str, date, Gender, int]) -> None:
    province, born, gender, serial = person
    nik = nik_for(province, born, gender, serial=serial)
    check_nik_matches(
        nik, birth_date=born, gender=gender, province_code=province, regency_code=f"{province}01"
    )


@given(people, st.integers(min_value=1, max_value=400))
def test_another_birth_date_is_a_mismatch(person: tuple[str, date, Gender, int], shift: int) -> None:
    province, born, gender, serial = person
    declared = date.fromordinal(born.toordinal() + shift)
    nik = nik_for(province, born, gender, serial=serial)
    with pytest.raises(IdentityError) as error:
        check_nik_matches(
            nik, birth_date=declared, gender=gender, province_code=province, regency_code=f"{province}01"
        )
    assert (error.value.code, error.value.field) == ("NIK_MISMATCH", "birth_date")


def test_the_other_gender_is_a_mismatch() -> None:
    nik = nik_for("31", date(1990, 1, 5), "F")
    assert nik == "3101234501900001"
    with pytest.raises(IdentityError) as error:
        check_nik_matches(
            nik, birth_date=date(1990, 1, 5), gender="M", province_code="31", regency_code="3101"
        )
    assert error.value.field == "gender"


@pytest.mark.parametrize(
    ("nik", "why"),
    [
        ("317123450190000", "15 digits"),
        ("31712345019000011", "17 digits"),
        ("31712345O1900001", "a letter"),
        ("9971234501900001", "unknown province"),
        ("3171233201900001", "day 32"),
        ("3171237201900001", "women's day 72"),
        ("3171230513900001", "month 13"),
        ("3171233002900001", "30 February"),
        ("3171230000000001", "day zero"),
        ("3171234501900000", "serial zero"),
        ("3100234501900001", "regency zero"),
        ("317123450190０００１", "full-width digits: the same NIK under another uniqueness key"),
    ],
)
def test_malformed_niks_are_invalid(nik: str, why: str) -> None:
    with pytest.raises(IdentityError) as error:
        decode_nik(nik)
    assert error.value.code == "INVALID_NIK", why


def test_29_february_needs_a_leap_year() -> None:
    assert decode_nik("3171232902000001").day == 29
    with pytest.raises(IdentityError):
        decode_nik("3171232902010001")


@given(st.text(max_size=20))
def test_any_text_either_decodes_or_is_refused_with_a_reason(text: str) -> None:
    try:
        decode_nik(text)
    except IdentityError as error:
        assert error.code == "INVALID_NIK"


def test_kk_needs_sixteen_digits_and_a_known_region() -> None:
    check_kk("3171230101090001")
    for bad in ["317123010109000", "0071230101090001", "3.17123E+15", "317123010109０００１"]:
        with pytest.raises(IdentityError):
            check_kk(bad)


@given(
    st.dates(min_value=date(1940, 1, 1), max_value=date(2030, 1, 1)), st.integers(min_value=0, max_value=80)
)
def test_age_counts_whole_years(born: date, years: int) -> None:
    try:
        birthday = born.replace(year=born.year + years)
    except ValueError:
        birthday = date(born.year + years, 3, 1)
    assert age_on(born, birthday) == years
    assert age_on(born, date.fromordinal(birthday.toordinal() - 1)) == years - 1


def test_the_first_failed_rule_is_named() -> None:
    rules = programme()
    adult, today = date(1990, 1, 5), date(2021, 6, 1)
    assert eligibility(rules, birth_date=adult, declarations={}, on=today) is None
    assert eligibility(rules, birth_date=date(2004, 6, 2), declarations={}, on=today).rule == "minimum_age"  # type: ignore[union-attr]
    assert eligibility(rules, birth_date=date(2003, 6, 1), declarations={}, on=today) is None
    refused = eligibility(
        rules, birth_date=adult, declarations={"civil_servant": True, "legislator": True}, on=today
    )
    assert refused is not None and refused.rule == "civil_servant"
