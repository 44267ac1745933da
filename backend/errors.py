"""Domain errors → one HTTP error shape, in one place.

Every error body is smorest's shape ``{"code", "status", "message", "errors"}`` where ``code`` is the HTTP status,
``message`` is Chinese text for people and ``errors.reason`` a stable English code for machines.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import redis
from flask import Flask, current_app, jsonify
from sqlalchemy import exc as sa
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class AppError(Exception):
    """Base of every error a caller may see. Subclasses set status, reason and a Chinese message."""

    status = HTTPStatus.BAD_REQUEST
    reason = "bad_request"
    message = "请求有误"

    def __init__(self, message: str | None = None, *, reason: str | None = None, **details: Any):
        super().__init__(message or self.message)
        if message:
            self.message = message
        if reason:
            self.reason = reason
        self.details = details


class BadRequest(AppError):
    status, reason, message = HTTPStatus.BAD_REQUEST, "bad_request", "请求有误"


class Unauthorized(AppError):
    status, reason, message = HTTPStatus.UNAUTHORIZED, "unauthorized", "请先登录"


class Forbidden(AppError):
    status, reason, message = HTTPStatus.FORBIDDEN, "forbidden", "无权进行此操作"


class NotFound(AppError):
    status, reason, message = HTTPStatus.NOT_FOUND, "not_found", "未找到"


class Conflict(AppError):
    status, reason, message = HTTPStatus.CONFLICT, "conflict", "与当前状态冲突"


class Unprocessable(AppError):
    status, reason, message = HTTPStatus.UNPROCESSABLE_ENTITY, "unprocessable", "无法处理该请求"


class TooManyRequests(AppError):
    status, reason, message = HTTPStatus.TOO_MANY_REQUESTS, "too_many_requests", "操作过于频繁，请稍后再试"


class ServiceUnavailable(AppError):
    status, reason, message = HTTPStatus.SERVICE_UNAVAILABLE, "service_unavailable", "服务暂不可用，请稍后再试"


RETRY_AFTER_SECONDS = 5  # what a 503 tells the client to wait: outages here are restarts and failovers


def error_body(status: int, message: str, reason: str, **details: Any) -> dict[str, Any]:
    return {
        "code": int(status),
        "status": HTTPStatus(status).phrase,
        "message": message,
        "errors": {"reason": reason, **details},
    }


# Chinese messages for the HTTP errors raised by Flask/smorest/webargs themselves.
HTTP_MESSAGES = {
    400: ("bad_request", "请求格式有误"),
    401: ("unauthorized", "请先登录"),
    403: ("forbidden", "无权进行此操作"),
    404: ("not_found", "未找到"),
    405: ("method_not_allowed", "不支持该请求方法"),
    409: ("conflict", "与当前状态冲突"),
    413: ("payload_too_large", "上传内容过大"),
    414: ("uri_too_long", "请求地址过长"),
    415: ("unsupported_media_type", "不支持的内容类型"),
    422: ("validation_error", "提交的信息有误，请检查后重试"),
    429: ("too_many_requests", "操作过于频繁，请稍后再试"),
}


def http_exception_body(exc: HTTPException) -> dict[str, Any]:
    status = exc.code or 500
    reason, message = HTTP_MESSAGES.get(status, ("http_error", "请求无法完成"))
    details: dict[str, Any] = {}
    # webargs puts the field messages in exc.data["messages"]; smorest in exc.data["errors"].
    data = getattr(exc, "data", None) or {}
    if "messages" in data:
        details["fields"] = _with_text_keys(data["messages"])
    if isinstance(data.get("reason"), str):
        reason = data["reason"]
    return error_body(status, data.get("message") or message, reason, **details)


def _with_text_keys(value: Any) -> Any:
    """Field messages with every key a string: marshmallow reports a nameless multipart part under the key None,
    which the JSON encoder (sorting keys) cannot write — a client's malformed form must get its 422, not a 500."""
    if isinstance(value, dict):
        return {("" if key is None else str(key)): _with_text_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_text_keys(item) for item in value]
    return value


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(AppError)
    def handle_app_error(exc: AppError):
        response = jsonify(error_body(exc.status, exc.message, exc.reason, **exc.details))
        response.status_code = int(exc.status)
        if response.status_code == HTTPStatus.SERVICE_UNAVAILABLE:
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @app.errorhandler(SQLAlchemyError)
    def handle_database_error(exc: SQLAlchemyError):
        """Outages answer 503 and races answer 409; the transaction is rolled back either way."""
        _rollback_quietly()
        error = database_error(exc)
        return handle_app_error(error) if error is not None else handle_unexpected(exc)

    @app.errorhandler(redis.exceptions.ConnectionError)
    @app.errorhandler(redis.exceptions.TimeoutError)
    def handle_redis_down(exc: Exception):
        log.warning("redis unavailable: %s", exc)
        return handle_app_error(ServiceUnavailable("服务暂不可用，请稍后再试", reason="redis_unavailable"))

    @app.errorhandler(HTTPException)
    def handle_http_exception(exc: HTTPException):
        body = http_exception_body(exc)
        response = jsonify(body)
        response.status_code = body["code"]
        for name, value in (exc.get_headers() or []):
            if name.lower() not in {"content-type", "content-length"}:
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        log.exception("unhandled error")
        return jsonify(error_body(500, "系统繁忙，请稍后再试", "internal_error")), 500


# SQLSTATEs (PostgreSQL) a concurrent request or an outage causes, never a bug of the caller's request.
UNIQUE_VIOLATION, FOREIGN_KEY_VIOLATION, CHECK_VIOLATION = "23505", "23503", "23514"
TRANSIENT_STATES = {"40001": "serialization_failure", "40P01": "deadlock_detected", "55P03": "lock_not_available",
                    "57014": "query_canceled"}
# Business keys whose race has its own reason; any other unique key answers "duplicate".
UNIQUE_REASONS = {
    "uq_ledger_postings_business_key": ("already_posted", "该笔业务已记账，请勿重复提交"),
    "ledger_postings.business_key": ("already_posted", "该笔业务已记账，请勿重复提交"),
}


def database_error(exc: SQLAlchemyError) -> AppError | None:
    """The AppError a database failure stands for: 409 for a race lost to another request, 503 for an outage;
    None for a programming error (answered 500 and logged)."""
    state = getattr(getattr(exc, "orig", None), "sqlstate", None)
    if isinstance(exc, sa.IntegrityError):
        return _integrity_conflict(exc, state)
    if state in TRANSIENT_STATES:
        log.warning("transaction lost to a concurrent one (%s)", TRANSIENT_STATES[state])
        return ServiceUnavailable("系统繁忙，请稍后重试", reason="busy_retry")
    if isinstance(exc, sa.DataError):
        return Unprocessable("提交的数值超出允许范围", reason="value_out_of_range")
    if isinstance(exc, (sa.OperationalError, sa.InterfaceError, sa.DisconnectionError, sa.TimeoutError)) or (
            isinstance(exc, sa.DBAPIError) and exc.connection_invalidated):
        log.warning("database unavailable: %s", exc)
        return ServiceUnavailable("服务暂不可用，请稍后再试", reason="database_unavailable")
    if isinstance(exc, sa.PendingRollbackError):  # a failure earlier in this request, already logged
        return ServiceUnavailable("服务暂不可用，请稍后再试", reason="database_unavailable")
    return None


def _integrity_conflict(exc: sa.IntegrityError, state: str | None) -> Conflict:
    constraint = _constraint_name(exc)
    if state == FOREIGN_KEY_VIOLATION or "FOREIGN KEY" in str(exc.orig):
        return Conflict("相关记录已被其他操作修改，请刷新后重试", reason="referenced_record_changed")
    if state == CHECK_VIOLATION or "CHECK constraint" in str(exc.orig):
        if "balance" in constraint:
            return Conflict("个人账户余额不足", reason="insufficient_balance")
        return Conflict("与当前状态冲突，请刷新后重试", reason="constraint_violated")
    reason, message = UNIQUE_REASONS.get(constraint, ("duplicate", "该记录已由另一请求创建，请勿重复提交"))
    return Conflict(message, reason=reason)


def _constraint_name(exc: sa.IntegrityError) -> str:
    diag = getattr(exc.orig, "diag", None)
    if diag is not None and getattr(diag, "constraint_name", None):
        return diag.constraint_name
    text = str(exc.orig)  # SQLite: "UNIQUE constraint failed: table.column"
    return text.rpartition(": ")[2].strip() if "constraint failed" in text else ""


def _rollback_quietly() -> None:
    try:
        current_app.extensions["sqlalchemy"].session.rollback()
    except Exception:  # the connection is gone: the pool discards it on the next checkout
        log.debug("rollback after a database error failed", exc_info=True)
