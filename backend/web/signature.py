"""Signed requests from designated institutions (DESIGN §4.6, and version 2 of issue 12).

Headers: X-Institution-Code, X-Timestamp (Unix seconds), X-Signature = hex HMAC-SHA256 with the institution's
secret over

- version 1 (DESIGN §4.6, the default): ``timestamp + "\\n" + raw body``;
- version 2 (opt in with ``X-Signature-Version: 2``): ``METHOD + "\\n" + path + "\\n" + timestamp + "\\n" + raw body``,
  where path is the request target as sent (with its query string, if any). Version 2 binds the signature to the
  operation: the same body sent to another endpoint in the same second is a different, valid request, and a
  captured signature cannot be replayed against another path.

Version 1 stays accepted until INSTITUTION_SIGNATURE_V1_UNTIL (a date, docs/reliability.md); after it, only
version 2. Checked in this order, each failure with its own reason: unknown institution, bad signature, stale
timestamp (> 5 minutes either way), replay (the same signature seen before within the window).

Replays are remembered in Redis. Without Redis each worker remembers the signatures it saw (a warning is logged):
a replay to another worker would pass during the outage, but settlements and refunds are idempotent by the
institution's own order and refund numbers, so a replayed body cannot pay twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import threading
import time

import redis
from flask import current_app, g, request

from backend.errors import Unauthorized
from backend.extensions import redis_store
from backend.services import institutions

log = logging.getLogger(__name__)
VERSIONS = ("1", "2")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Version 1: timestamp and body."""
    message = timestamp.encode() + b"\n" + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign_v2(secret: str, method: str, path: str, timestamp: str, body: bytes) -> str:
    """Version 2: method, path (with query string), timestamp and body."""
    message = b"\n".join([method.upper().encode(), path.encode(), timestamp.encode(), body])
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_institution_request() -> None:
    code = request.headers.get("X-Institution-Code", "")
    timestamp = request.headers.get("X-Timestamp", "")
    signature = request.headers.get("X-Signature", "").lower()
    version = request.headers.get("X-Signature-Version", "1").strip()
    if not (code and timestamp and signature):
        raise Unauthorized("缺少签名信息", reason="signature_missing")
    if version not in VERSIONS:
        raise Unauthorized("不支持的签名版本", reason="signature_version_unsupported", supported=list(VERSIONS))
    if version == "1" and _v1_retired():
        raise Unauthorized("签名版本1已停用，请使用版本2", reason="signature_version_retired")
    institution = institutions.active_by_code(code)
    if institution is None:
        raise Unauthorized("未知的定点机构", reason="institution_unknown")
    body = request.get_data(cache=True)
    expected = (sign(institution.secret, timestamp, body) if version == "1"
                else sign_v2(institution.secret, request.method, _request_target(), timestamp, body))
    if not hmac.compare_digest(expected, signature):
        raise Unauthorized("签名校验失败", reason="signature_invalid")
    _check_fresh(timestamp)
    _check_not_replayed(code, signature)
    g.institution = institution
    g.caller_scope = f"institution:{institution.code}"


def _request_target() -> str:
    query = request.query_string.decode("latin-1")
    return f"{request.path}?{query}" if query else request.path


def _v1_retired() -> bool:
    until = current_app.config.get("INSTITUTION_SIGNATURE_V1_UNTIL")
    return bool(until) and dt.date.today() > dt.date.fromisoformat(until)


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
    key = redis_store.key("inst-sig", code, signature)
    try:
        first_use = redis_store.client.set(key, 1, nx=True, ex=window)
    except redis.RedisError as exc:
        log.warning("replay check without Redis, this worker's memory only: %s", exc)
        first_use = _seen_locally.first_use(key, window)
    if not first_use:
        raise Unauthorized("重复的请求，请重新签名后提交", reason="request_replayed")


class _LocalSignatures:
    """The fallback replay memory of one worker while Redis is down."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._expiry: dict[str, float] = {}

    def first_use(self, key: str, window: int) -> bool:
        now = time.monotonic()
        with self._lock:
            self._expiry = {k: t for k, t in self._expiry.items() if t > now}
            if key in self._expiry:
                return False
            self._expiry[key] = now + window
            return True


_seen_locally = _LocalSignatures()
