"""Security headers on every response, and the SECRET_KEY length check."""

from __future__ import annotations

import pytest

from backend.config import Config, checked_secret_key


def test_api_responses_carry_the_security_headers_and_a_no_load_policy(client):
    response = client.get("/api/v1/account")  # a 401: error responses are covered too
    assert response.status_code == 401
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP: HSTS would be meaningless


def test_hsts_over_tls(client):
    response = client.get("/healthz", base_url="https://medins.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_the_docs_page_may_load_swagger_ui_from_its_configured_origin_only(client):
    response = client.get("/api/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    policy = response.headers["Content-Security-Policy"]
    # Swagger UI's files are served by this server (no CDN), so the page loads from its own origin only.
    assert "script-src 'self' 'unsafe-inline' 'self'" in policy and "https://" not in policy
    assert "frame-ancestors 'none'" in policy


def test_console_pages_refuse_inline_scripts(app, client):
    from flask import url_for

    with app.test_request_context():
        path = url_for("console.sign_in")
    response = client.get(path)
    assert response.status_code == 200 and response.mimetype == "text/html"
    policy = response.headers["Content-Security-Policy"]
    scripts = policy.split("script-src")[1].split(";")[0]
    assert "'self'" in scripts and "unsafe-inline" not in scripts and "frame-ancestors 'none'" in policy


@pytest.mark.parametrize("key", ["x", "a" * 31])
def test_a_short_secret_key_is_refused(monkeypatch, key):
    monkeypatch.setenv("SECRET_KEY", key)
    with pytest.raises(RuntimeError, match="at least 32 bytes"):
        Config()


def test_a_long_enough_secret_key_is_used_as_given():
    key = "k" * 32
    assert checked_secret_key(key) == key
