"""Refuse NUL characters in any text a request carries: PostgreSQL text cannot hold them, and no person types one."""

from __future__ import annotations

from typing import Any

from flask import request
from werkzeug.datastructures import MultiDict

from backend.errors import Unprocessable


def refuse_nul_characters() -> None:
    texts = [request.args, request.form]
    if request.is_json:
        texts.append(request.get_json(silent=True))  # a malformed body is the schema's to refuse
    if any(_has_nul(value) for value in texts):
        raise Unprocessable("提交的内容含有无效字符", reason="invalid_characters")


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, MultiDict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items(multi=True))
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False
