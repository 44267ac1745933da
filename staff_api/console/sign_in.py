"""Sign-in and sign-out of the console."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, flash, g, redirect, render_template, request, session, url_for

from backend.errors import AppError
from backend.services import staff_sessions
from staff_api.console import blp
from staff_api.console.forms import SignInForm


@blp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    """The sign-in form; a signed-in visitor goes straight on."""
    form = SignInForm(next=request.args.get("next", ""))
    if g.staff is not None and request.method == "GET":
        return redirect(_safe_next(form.next.data))
    if form.validate_on_submit():
        try:
            token = staff_sessions.sign_in(form.username.data.strip(), form.password.data,
                                           client_address=request.remote_addr,
                                           user_agent=request.headers.get("User-Agent"))
        except AppError as exc:
            flash(exc.message, "error")
            return render_template("console/sign_in.html", form=form), int(exc.status)
        session.clear()  # a fresh cookie (and CSRF token) for the new session
        session["sid"] = token
        return redirect(_safe_next(form.next.data))
    return render_template("console/sign_in.html", form=form), 200 if request.method == "GET" else 400


@blp.route("/sign-out", methods=["POST"])
def sign_out():
    if g.staff is None:
        abort(401)
    staff_sessions.sign_out(session.get("sid"))
    session.clear()
    flash("您已安全退出", "info")
    return redirect(url_for("console.sign_in"))


def _safe_next(target: str | None) -> str:
    """Only a path inside the console: never an open redirect to another site."""
    parts = urlsplit(target or "")
    if parts.scheme or parts.netloc or not parts.path.startswith("/staff/") or parts.path.startswith("//"):
        return url_for("console.dashboard")
    return target
