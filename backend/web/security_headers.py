"""Security headers on every response (issue 12): no sniffing, no framing, no referrer leaks, HSTS over TLS,
and a Content-Security-Policy — the API's JSON may load nothing; HTML pages load only from this origin.

Pages keep their scripts in files under static/ (no inline <script>): the policy refuses inline scripts.
The API docs page (Swagger UI) is the one exception: it loads its assets from OPENAPI_SWAGGER_UI_URL and starts
with an inline script, so its policy allows exactly that.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request

HSTS = "max-age=31536000; includeSubDomains"
JSON_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
               "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
               "frame-ancestors 'none'")


def register(app: Flask) -> None:
    app.after_request(add_security_headers)


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:  # behind a TLS-terminating proxy, ProxyFix makes this true for https requests
        headers.setdefault("Strict-Transport-Security", HSTS)
    if "Content-Security-Policy" not in headers:
        headers["Content-Security-Policy"] = _policy_for(response)
    return response


def _policy_for(response: Response) -> str:
    if response.mimetype != "text/html":
        return JSON_POLICY
    if request.path == _docs_path():
        return _docs_policy()
    return PAGE_POLICY


def _docs_path() -> str:
    config = current_app.config
    return f"{config.get('OPENAPI_URL_PREFIX', '')}/{config.get('OPENAPI_SWAGGER_UI_PATH', '')}".replace("//", "/")


def _docs_policy() -> str:
    parts = urlsplit(current_app.config.get("OPENAPI_SWAGGER_UI_URL") or "")
    assets = f"{parts.scheme}://{parts.netloc}" if parts.netloc else "'self'"
    return (f"default-src 'self'; script-src 'self' 'unsafe-inline' {assets}; style-src 'self' 'unsafe-inline' "
            f"{assets}; img-src 'self' data: {assets}; object-src 'none'; base-uri 'self'; frame-ancestors 'none'")
