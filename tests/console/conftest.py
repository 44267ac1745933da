"""Console fixtures: a browser-like test client that signs in through the form, carrying the CSRF token."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient


CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def csrf_token(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


class Console:
    """A signed-in (or anonymous) console visitor: GETs pages, POSTs forms with the page's CSRF token."""

    def __init__(self, client: FlaskClient):
        self.client = client
        self.token: str | None = None

    def get(self, path: str, **kwargs):
        response = self._fresh(self.client.get, path, **kwargs)
        if response.mimetype == "text/html" and b'name="csrf-token"' in response.data:
            self.token = csrf_token(response.get_data(as_text=True))
        return response

    def post(self, path: str, data: dict | None = None, *, csrf: bool = True, **kwargs):
        if csrf and self.token is None:
            self.get("/staff/sign-in")
        body = {**(data or {}), **({"csrf_token": self.token} if csrf else {})}
        return self._fresh(self.client.post, path, data=body, **kwargs)

    def _fresh(self, call, *args, **kwargs):
        # Each request in its own app context, as when served: the test's own context would otherwise share ``g``
        # (and Flask-WTF's cached CSRF token) across requests.
        with self.client.application.app_context():
            return call(*args, **kwargs)

    def sign_in(self, username: str, password: str | None = None):
        self.get("/staff/sign-in")
        response = self.post("/staff/sign-in", {"username": username, "password": password or f"demo-{username}"})
        if response.status_code == 302:
            self.get("/staff/")  # a fresh session: pick up its CSRF token
        return response


@pytest.fixture
def console(app, staff_member) -> Callable[..., Console]:
    """A new visitor; ``console("reviewer1")`` is signed in as that member of staff."""

    def visitor(username: str | None = None, roles: list[str] | None = None) -> Console:
        visit = Console(app.test_client())
        if username is not None:
            staff_member(username, roles)
            assert visit.sign_in(username).status_code == 302
        return visit

    return visitor
