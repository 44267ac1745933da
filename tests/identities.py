"""ID numbers for test people whose stated family relations must agree with their birth dates and sex
(backend.domain.relations): a father born decades before his son, a mother with an even sex digit."""

from __future__ import annotations

from itertools import count

from stdnum.cn import ric

_serials = count(1)


def id_number(birth: str, *, male: bool, area: str = "640104") -> str:
    """A checksum-valid number for someone born on ``birth`` ("YYYYMMDD"); digit 17 odd for a man, even for a
    woman. Every call gives a new number: the sequence digits count up and, past 100, so do the area's last two
    (the place is not checked, see backend.domain.identity)."""
    serial = next(_serials)
    place = area if serial < 100 else f"{area[:4]}{serial // 100 % 100:02d}"
    first_17 = f"{place}{birth}{serial % 100:02d}{1 if male else 2}"
    return first_17 + ric.calc_check_digit(first_17 + "0")
