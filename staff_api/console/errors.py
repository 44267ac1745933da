"""Errors on console pages: a Chinese page for people, never JSON, never a 500 for something a user can cause.

A refused action (AppError from a service) on a POST goes back to the page it came from with the message shown;
on a GET the error page says what happened with the HTTP status of the error.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from backend.errors import AppError
from staff_api.console import blp

HTTP_TITLES = {400: "请求有误", 401: "请先登录", 403: "无权访问", 404: "未找到", 405: "请求方式有误", 409: "状态已变化",
               413: "文件过大", 422: "无法处理", 429: "操作过于频繁"}


@blp.errorhandler(CSRFError)
def csrf_refused(error: CSRFError):
    return render_template("console/error.html", title="页面已过期",
                           message="表单缺少或带有失效的安全令牌（CSRF），未做任何更改。请刷新页面后重试。"), 400


@blp.errorhandler(AppError)
def refused(error: AppError):
    if request.method == "POST" and request.referrer and _same_site(request.referrer):
        flash(error.message, "error")
        return redirect(request.referrer)
    return render_template("console/error.html", title=HTTP_TITLES.get(int(error.status), "出错了"),
                           message=error.message), int(error.status)


@blp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    code = error.code or 500
    return render_template("console/error.html", title=HTTP_TITLES.get(code, "出错了"),
                           message=error.description if code != 401 else "登录已失效，请重新登录。"), code


def _same_site(url: str) -> bool:
    return url.startswith(request.host_url + "staff/")
