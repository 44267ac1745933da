"""Domain errors → one HTTP error shape, in one place.

Every error body is smorest's shape ``{"code", "status", "message", "errors"}`` where ``code`` is the HTTP status,
``message`` is Chinese text for people and ``errors.reason`` a stable English code for machines.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from flask import Flask, jsonify
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
        details["fields"] = data["messages"]
    if isinstance(data.get("reason"), str):
        reason = data["reason"]
    return error_body(status, data.get("message") or message, reason, **details)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(AppError)
    def handle_app_error(exc: AppError):
        return jsonify(error_body(exc.status, exc.message, exc.reason, **exc.details)), int(exc.status)

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
