"""Page numbers to row windows. A page beyond the data is an empty page, however large its number."""

from __future__ import annotations

# Far beyond any person's rows, well inside a 64-bit OFFSET (and SQLite's integers): larger pages are clamped here.
MAX_OFFSET = 2**31 - 1


def window(page: int, page_size: int) -> tuple[int, int]:
    """(offset, limit) of the 1-based ``page``."""
    return min((max(page, 1) - 1) * page_size, MAX_OFFSET), page_size
