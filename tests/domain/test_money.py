"""Money: integer fen inside, yuan strings at the edges, half-up once per share."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.domain.money import InvalidAmount, apply_share, fen_to_yuan, percent_label, yuan_to_fen


@pytest.mark.parametrize("given_value, fen", [
    ("1200", 120000), ("1200.5", 120050), ("0.01", 1), (12, 1200), (12.3, 1230),
    (Decimal("99.99"), 9999), ("0", 0),
])
def test_yuan_amounts_become_integer_fen(given_value, fen):
    assert yuan_to_fen(given_value) == fen


@pytest.mark.parametrize("bad", ["-1", "1.234", "abc", "", "NaN", "Infinity", True, None, "1e400",
                                 " 3.40", "3.40 ", "１００", "1e2", "+1"])
def test_negative_fractional_fen_and_non_numbers_are_refused(bad):
    with pytest.raises(InvalidAmount):
        yuan_to_fen(bad)


@pytest.mark.parametrize("fen, text", [(120000, "1200.00"), (5, "0.05"), (0, "0.00"), (-150, "-1.50")])
def test_fen_are_shown_as_yuan_with_two_decimals(fen, text):
    assert fen_to_yuan(fen) == text


@given(st.integers(min_value=0, max_value=10**12))
def test_formatting_then_parsing_gives_the_same_fen(fen):
    assert yuan_to_fen(fen_to_yuan(fen)) == fen


@pytest.mark.parametrize("fen, bp, expected", [
    (200000, 6000, 120000),  # (3000 − 1000) × 60 % = 1200 yuan
    (1, 5000, 1),            # 0.5 fen rounds half up
    (3, 5000, 2),            # 1.5 → 2
    (1, 4999, 0),
    (333, 6500, 216),        # 216.45 → 216
])
def test_a_share_is_rounded_half_up_to_the_fen(fen, bp, expected):
    assert apply_share(fen, bp) == expected


def test_percent_labels_drop_needless_decimals():
    assert (percent_label(6000), percent_label(6250), percent_label(8500)) == ("60%", "62.5%", "85%")
