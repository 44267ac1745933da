"""Money is integer fen everywhere; yuan appear only at the edges, as strings with two decimals.

Rounding is half-up to the fen, applied once at the end of each computed share (DESIGN §2).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FEN_PER_YUAN = 100
BASIS_POINTS = 10_000  # shares and ratios are stored in basis points: 60 % == 6000
MAX_FEN = 10**12  # ten billion yuan: far above any real amount, well inside a 64-bit column


class InvalidAmount(ValueError):
    """An amount that is not a finite, non-negative number with at most two decimals."""


# Text amounts are plain ASCII digits with an optional decimal part: no blanks, signs, exponents or full-width
# digits (Decimal would read "１００" and " 1.00", which no form means to send).
AMOUNT_TEXT = re.compile(r"[0-9]+(\.[0-9]+)?")


def yuan_to_fen(value: str | int | float | Decimal) -> int:
    """Parse a yuan amount ("12.30", 12.3, 12) into integer fen, refusing anything ambiguous."""
    if isinstance(value, bool):
        raise InvalidAmount("amount must be a number")
    if isinstance(value, str) and not AMOUNT_TEXT.fullmatch(value):
        raise InvalidAmount(f"not a plain decimal number: {value!r}")
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise InvalidAmount(f"not a number: {value!r}") from exc
    if not amount.is_finite():
        raise InvalidAmount(f"not a finite number: {value!r}")
    if amount < 0:
        raise InvalidAmount(f"negative amount: {value!r}")
    if amount * FEN_PER_YUAN > MAX_FEN:
        raise InvalidAmount(f"amount too large: {value!r}")
    fen = amount * FEN_PER_YUAN
    if fen != fen.to_integral_value():
        raise InvalidAmount(f"more than two decimals: {value!r}")
    return int(fen)


def fen_to_yuan(fen: int) -> str:
    """Format fen as yuan with exactly two decimals: 120000 -> "1200.00"."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), FEN_PER_YUAN)
    return f"{sign}{whole}.{cents:02d}"


def apply_share(fen: int, basis_points: int) -> int:
    """fen × basis_points / 10000, rounded half-up to the fen (the one rounding of a share)."""
    exact = Decimal(fen) * Decimal(basis_points) / Decimal(BASIS_POINTS)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def percent_label(basis_points: int) -> str:
    """6000 -> "60%", 6250 -> "62.5%" for explanations people read."""
    value = Decimal(basis_points) / Decimal(100)
    return f"{value.normalize():f}%"
