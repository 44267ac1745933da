"""Template filters: times in Beijing time, role names in Chinese."""

from __future__ import annotations

import datetime as dt

from backend.domain.money import fen_to_yuan
from backend.services.counter import PERSON_STATUS_LABELS, PERSON_TYPE_LABELS
from backend.services.staff import ROLE_LABELS
from staff_api.console import blp

BEIJING = dt.timezone(dt.timedelta(hours=8))


@blp.app_template_filter("local_time")
def local_time(value: object) -> str:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
    return "" if value is None else str(value)


@blp.app_template_filter("role_labels")
def role_labels(roles: list[str]) -> str:
    return "、".join(ROLE_LABELS.get(role, role) for role in roles)


@blp.app_template_filter("yuan")
def yuan(fen: object) -> str:
    return fen_to_yuan(int(fen)) if isinstance(fen, int) else str(fen or "")


ESCALATION_REASONS = {"requested": "用户要求转人工", "not_understood": "机器人未能理解", "reprompts_exhausted": "多次追问未果"}


@blp.app_template_filter("escalation_reason")
def escalation_reason(reason: str) -> str:
    return ESCALATION_REASONS.get(reason, reason)


HOSPITAL_LEVELS = {"tertiary": "三级", "secondary": "二级", "primary": "一级及以下"}


@blp.app_template_filter("person_type")
def person_type(code: str) -> str:
    return PERSON_TYPE_LABELS.get(code, code)


@blp.app_template_filter("person_status")
def person_status(code: str) -> str:
    return PERSON_STATUS_LABELS.get(code, code)


@blp.app_template_filter("hospital_level")
def hospital_level(code: str) -> str:
    return HOSPITAL_LEVELS.get(code, code)
