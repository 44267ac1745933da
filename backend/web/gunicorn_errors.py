"""Gunicorn's own refusals (a request line over its limit, malformed headers) in the API's error shape.

Gunicorn answers what it cannot parse before the application sees it, with an HTML page. gunicorn.conf.py puts
``write_error`` below in place of gunicorn's, so a client gets the same JSON body as from every other error.
"""

from __future__ import annotations

import json
from http import HTTPStatus

from gunicorn import util

from backend.errors import HTTP_MESSAGES, error_body


def write_error(sock, status_int: int, reason: str, mesg: str) -> None:
    reason_code, message = HTTP_MESSAGES.get(status_int, ("bad_request", "请求格式有误"))
    if status_int >= 500:
        reason_code, message = "internal_error", "系统繁忙，请稍后再试"
    body = json.dumps(error_body(status_int, message, reason_code), ensure_ascii=False).encode()
    phrase = HTTPStatus(status_int).phrase if status_int in HTTPStatus._value2member_map_ else reason
    head = (f"HTTP/1.1 {status_int} {phrase}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode("latin1")
    util.write_nonblock(sock, head + body)


def install() -> None:
    """Called from gunicorn.conf.py in the master, so every forked worker answers this way."""
    util.write_error = write_error
