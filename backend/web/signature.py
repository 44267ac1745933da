"""Signed requests from designated institutions (DESIGN §4.6).

Headers: X-Institution-Code, X-Timestamp (Unix seconds), X-Signature = hex HMAC-SHA256 over
``timestamp + "\\n" + raw body`` with the institution's secret. Checked in this order, each failure with its own
reason: unknown institution, bad signature, stale timestamp (> 5 minutes either way), replay (the same signature
seen before within the window).
"""

from __future__ import annotations

import hashlib
import hmac
import time

from flask import current_app, g, request

from backend.errors import Unauthorized
from backend.extensions import redis_store
from backend.services import institutions


def sign(secret: str, timestamp: str, body: bytes) -> str:
    message = timestamp.encode() + b"\n" + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_institution_request() -> None:
    code = request.headers.get("X-Institution-Code", "")
    timestamp = request.headers.get("X-Timestamp", "")
    signature = request.headers.get("X-Signature", "").lower()
    if not (code and timestamp and signature):
        raise Unauthorized("缺少签名信息", reason="signature_missing")
    institution = institutions.active_by_code(code)
    if institution is None:
        raise Unauthorized("未知的定点机构", reason="institution_unknown")
    expected = sign(institution.secret, timestamp, request.get_data(cache=True))
    if not hmac.compare_digest(expected, signature):
        raise Unauthorized("签名校验失败", reason="signature_invalid")
    _check_fresh(timestamp)
    _check_not_replayed(code, signature)
    g.institution = institution
    g.caller_scope = f"institution:{institution.code}"


def _check_fresh(timestamp: str) -> None:
    max_skew = current_app.config["INSTITUTION_MAX_CLOCK_SKEW_SECONDS"]
    try:
        skew = abs(time.time() - int(timestamp))
    except ValueError:
        raise Unauthorized("时间戳格式不正确", reason="timestamp_invalid") from None
    if skew > max_skew:
        raise Unauthorized("请求已过期，请校准时间后重新签名", reason="timestamp_stale")


def _check_not_replayed(code: str, signature: str) -> None:
    # Kept twice the skew window: a replay older than that fails the freshness check anyway.
    window = 2 * current_app.config["INSTITUTION_MAX_CLOCK_SKEW_SECONDS"]
    first_use = redis_store.client.set(redis_store.key("inst-sig", code, signature), 1, nx=True, ex=window)
    if not first_use:
        raise Unauthorized("重复的请求，请重新签名后提交", reason="request_replayed")
