"""ID numbers: format, birth date and check digit verified; region codes never refused; masking and redaction."""

import datetime as dt

import pytest
from stdnum.cn import ric

from backend.domain.identity import (
    InvalidIdNumber,
    mask_id_number,
    redact_id_numbers,
    validate_id_number,
)

TODAY = dt.date(2026, 11, 22)


def with_check_digit(first_17: str) -> str:
    return first_17 + ric.calc_check_digit(first_17 + "0")


def test_a_valid_number_is_returned_normalised_with_an_upper_case_x():
    number = with_check_digit("64010419980401002")
    assert number.endswith("X")
    assert validate_id_number(f" {number.lower()} ", TODAY) == number


def test_a_region_code_that_did_not_exist_on_the_birth_date_is_accepted():
    # 640104 (兴庆区) was created in 2002; stdnum's validate() refuses it for someone born in 1958.
    number = with_check_digit("64010419580315001")
    assert not ric.is_valid(number)
    assert validate_id_number(number, TODAY) == number


@pytest.mark.parametrize("number, reason", [
    ("64010419800101123", "format"),                    # 17 characters
    ("6401041980010112345", "format"),                  # 19 characters
    ("64010419800101A23X", "format"),
    (with_check_digit("64010419801301123"), "birth_date"),   # month 13
    (with_check_digit("64010419800230123"), "birth_date"),   # 30 February
    (with_check_digit("64010420300101123"), "birth_date"),   # born in the future
])
def test_malformed_numbers_say_which_part_is_wrong(number, reason):
    with pytest.raises(InvalidIdNumber) as refused:
        validate_id_number(number, TODAY)
    assert refused.value.reason == reason


def test_a_wrong_check_digit_is_refused_as_a_checksum_error():
    good = with_check_digit("64010419800101123")
    bad = good[:17] + ("1" if good[17] != "1" else "2")
    with pytest.raises(InvalidIdNumber) as refused:
        validate_id_number(bad, TODAY)
    assert refused.value.reason == "checksum"


def test_masking_keeps_the_first_six_and_last_four():
    assert mask_id_number("640104195803150014") == "640104********0014"


def test_redaction_finds_numbers_inside_chinese_text_without_word_boundaries():
    number = with_check_digit("15010219820305031")
    text = f"我是刘强身份证{number}请帮我查一下"
    assert redact_id_numbers(text) == f"我是刘强身份证{mask_id_number(number)}请帮我查一下"


def test_redaction_leaves_longer_digit_runs_alone():
    long_run = "12345678901234567890"  # a 20-digit order number is not an ID number
    assert redact_id_numbers(f"订单{long_run}") == f"订单{long_run}"
