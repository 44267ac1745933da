"""The ``Idempotency-Key`` header for any write a client may retry: one decorator, applied per view.

Put it below the authentication decorator (the key is scoped to the caller) and above smorest's decorators (so it
sees the final response, including validation errors).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, g, json, make_response, request
from werkzeug.exceptions import HTTPException

from backend.errors import AppError, Unprocessable, error_body, http_exception_body
from backend.services import idempotency

MAX_KEY_LENGTH = 128


def idempotent(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view(*args, **kwargs)
        _check_key(key)
        scope = f"{getattr(g, 'caller_scope', 'anonymous')}:{request.method}:{request.path}"
        stored = idempotency.begin(scope, key, hashlib.sha256(request.get_data(cache=True)).hexdigest())
        if stored is not None:
            return Response(stored.body, status=stored.status, mimetype="application/json",
                            headers={"Idempotent-Replayed": "true"})
        try:
            response = _response_of(view, args, kwargs)
        except Exception:
            idempotency.abandon(scope, key)
            raise
        if response.status_code >= 500:
            idempotency.abandon(scope, key)
        else:
            idempotency.complete(scope, key, response.status_code, response.get_data(as_text=True))
        return response

    wrapper.accepts_idempotency_key = True  # the OpenAPI document lists the header for this operation
    return wrapper


def _response_of(view: Callable[..., Any], args: tuple, kwargs: dict) -> Response:
    """The view's response; client errors are turned into their response here so they can be stored too."""
    try:
        return make_response(view(*args, **kwargs))
    except AppError as exc:
        body = error_body(exc.status, exc.message, exc.reason, **exc.details)
    except HTTPException as exc:
        if (exc.code or 500) >= 500:
            raise
        body = http_exception_body(exc)
    return make_response(json.dumps(body, ensure_ascii=False), body["code"], {"Content-Type": "application/json"})


def _check_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise Unprocessable("幂等键格式不正确（1–128 个可见 ASCII 字符）", reason="idempotency_key_invalid")
