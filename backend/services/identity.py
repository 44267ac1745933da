"""ID numbers arriving in requests: the domain check, answered as one error shape with a Chinese reason."""

from __future__ import annotations

from backend.domain.identity import InvalidIdNumber, validate_id_number
from backend.errors import Unprocessable

ID_NUMBER_PROBLEMS = {
    "format": "格式不正确（应为18位）",
    "birth_date": "中的出生日期不正确",
    "checksum": "校验位不正确，请核对",
}


def checked_id_number(raw: object, whose: str = "", **details: object) -> str:
    """The normalised ID number, or a 422 ``id_number_invalid`` saying which part is wrong.

    ``whose`` names the person in the Chinese message (被授权人, 家庭成员 …).
    """
    try:
        return validate_id_number(raw if isinstance(raw, str) else "")
    except InvalidIdNumber as exc:
        raise Unprocessable(f"{whose}身份证号码{ID_NUMBER_PROBLEMS[exc.reason]}", reason="id_number_invalid",
                            problem=exc.reason, **details) from None
