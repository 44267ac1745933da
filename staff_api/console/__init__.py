"""The staff console: server-rendered pages under /staff/ (Jinja2, Flask-WTF forms with CSRF, a little plain JS).

Pages call the same services as the JSON staff API, never the database. Signing in creates a server-side session
(``backend.services.staff_sessions``) whose token travels in Flask's signed cookie (HttpOnly, SameSite=Lax,
Secure unless SESSION_COOKIE_SECURE=0). Every POST is checked for its CSRF token before the view runs.
"""

from __future__ import annotations

from flask import Blueprint, Flask, g, request, session
from flask_wtf.csrf import CSRFProtect

from backend.services import staff_sessions

csrf = CSRFProtect()
blp = Blueprint("console", __name__, url_prefix="/staff", template_folder="templates", static_folder="static",
                static_url_path="/static")


@blp.before_request
def load_signed_in_staff() -> None:
    g.staff = staff_sessions.current(session.get("sid"))
    if request.method == "POST":
        csrf.protect()


@blp.after_request
def console_headers(response):
    # A refused form goes back to the page it came from (errors.py), so the console's own pages may send the
    # referrer within this origin — never to another site.
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def register(app: Flask) -> None:
    csrf.init_app(app)
    app.register_blueprint(blp)


# The page modules add their routes, filters and context to the blueprint (they import ``blp`` from here).
from staff_api.console import (  # noqa: E402,F401
    admin, audit_log, chat, counter, dashboard, errors, filters, monitoring, navigation, review, sign_in,
)
