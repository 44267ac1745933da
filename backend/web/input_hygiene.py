"""Refuse, before any view runs, input no person sends and the layers below would choke on.

- NUL characters anywhere (path, query, form, JSON): PostgreSQL text cannot hold them.
- JSON nested deeper than MAX_JSON_DEPTH: the parser and every recursive walk over it would exhaust the stack.
- A multipart part without a name (the schema layer cannot even sort such an error for its message).
- A URL longer than MAX_URL_BYTES (gunicorn's own limit is set above it, so the refusal has the error shape).
"""

from __future__ import annotations

import re
from typing import Any

from flask import request
from werkzeug.datastructures import MultiDict

from backend.errors import AppError, BadRequest, Unprocessable

MAX_JSON_DEPTH = 32
MAX_URL_BYTES = 4096


class UriTooLong(AppError):
    status, reason, message = 414, "uri_too_long", "请求地址过长"


def refuse_hostile_input() -> None:
    if len(request.environ.get("RAW_URI") or request.full_path) > MAX_URL_BYTES:
        raise UriTooLong()
    if "\x00" in request.path:
        raise Unprocessable("提交的内容含有无效字符", reason="invalid_characters")
    if request.is_json and json_too_deep(request.get_data(cache=True)):
        raise BadRequest(f"JSON 嵌套层数不得超过{MAX_JSON_DEPTH}层", reason="json_too_deep")
    if None in request.form or None in request.files:  # a multipart part without a name
        raise BadRequest("表单字段缺少名称", reason="form_field_unnamed")
    refuse_nul_characters()


def refuse_nul_characters() -> None:
    texts = [request.args, request.form]
    if request.is_json:
        texts.append(request.get_json(silent=True))  # a malformed body is the schema's to refuse
    if any(_has_nul(value) for value in texts):
        raise Unprocessable("提交的内容含有无效字符", reason="invalid_characters")


def json_too_deep(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether arrays/objects nest deeper than ``limit``, counted without parsing (so without recursion)."""
    brackets = _BRACKET.findall(_STRING.sub(b"", raw))
    depth = 0
    for bracket in brackets if len(brackets) > limit else ():
        depth += 1 if bracket in (b"[", b"{") else -1
        if depth > limit:
            return True
    return False


_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


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
