"""Every real spelling of an identifier normalises to one form, and bad values are named."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pulsecrm.kernel.errors import InvalidValue
from pulsecrm.kernel.normalisers import (
    normalise_email,
    normalise_id_number,
    normalise_phone,
)


@pytest.mark.parametrize(
    "spelling",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "+8613812345678",
        "0086 138 1234 5678",
        "008613812345678",
        "(+86) 138-1234-5678",
        "１３８１２３４５６７８",
        "86 13812345678",
    ],
)
def test_mobile_spellings_normalise_to_e164(spelling: str) -> None:
    assert normalise_phone(spelling) == "+8613812345678"


@pytest.mark.parametrize(
    ("spelling", "e164"),
    [
        ("010-6552 9988", "+861065529988"),
        ("(0755) 8888 6666", "+8675588886666"),
        ("+1 650-253-0000", "+16502530000"),
        ("+852 2123 4567", "+85221234567"),
    ],
)
def test_landlines_and_foreign_numbers_use_phonenumbers(spelling: str, e164: str) -> None:
    assert normalise_phone(spelling) == e164


@given(
    st.integers(min_value=3, max_value=9),
    st.integers(min_value=0, max_value=10**9 - 1),
    st.sampled_from(["", "+86", "0086", "+86 "]),
    st.sampled_from(["", " ", "-"]),
)
def test_fast_mobile_path_agrees_with_phonenumbers(
    second: int, rest: int, prefix: str, sep: str
) -> None:
    digits = f"1{second}{rest:09d}"
    spelled = prefix + sep.join([digits[:3], digits[3:7], digits[7:]])
    expected = phonenumbers.format_number(
        phonenumbers.parse(digits, "CN"), phonenumbers.PhoneNumberFormat.E164
    )
    assert normalise_phone(spelled) == expected


@pytest.mark.parametrize("bad", ["abc", "12345", "138123456789012345", "", "+86 238 1234 5678"])
def test_non_numbers_are_rejected_naming_the_field(bad: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        normalise_phone(bad)
    assert caught.value.field == "phone"


def test_email_is_trimmed_and_lower_cased() -> None:
    assert normalise_email("  Zhang.Wei@Example.COM ") == "zhang.wei@example.com"
    with pytest.raises(InvalidValue):
        normalise_email("not-an-email")


def test_resident_id_checks_structure_date_and_check_digit() -> None:
    assert normalise_id_number("11010519491231002x") == "11010519491231002X"
    # First-generation 15-digit number upgrades to the same 18-character form.
    assert normalise_id_number("110105491231002") == "11010519491231002X"
    with pytest.raises(InvalidValue, match="check digit"):
        normalise_id_number("110105194912310021")
    with pytest.raises(InvalidValue, match="birth date"):
        normalise_id_number("110105194913310020")
    with pytest.raises(InvalidValue, match="18 characters"):
        normalise_id_number("11010519491231")


def test_unknown_or_retired_region_codes_stay_valid() -> None:
    # 99xxxx is not a current region code; the number is otherwise well formed.
    body = "99010519491231002"
    from stdnum.iso7064 import mod_11_2

    number = body + mod_11_2.calc_check_digit(body)
    assert normalise_id_number(number) == number


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_check_digit_agrees_with_python_stdnum(body: str) -> None:
    from stdnum.iso7064 import mod_11_2

    from pulsecrm.kernel.normalisers import _check_digit

    assert _check_digit(body) == mod_11_2.calc_check_digit(body)
