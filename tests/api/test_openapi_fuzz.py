"""Every documented operation, fed requests generated from the OpenAPI document, never answers with a server error.

The insured surface is called as a demo person, the staff surface as the administrator and as a reviewer, and the
institution surface with a valid signature over the generated body — so the requests reach the views and services
rather than stopping at authentication.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from schemathesis.core import NotSet
from hypothesis import HealthCheck, given, settings

from backend import demo
from tests.conftest import build_app, isolation, reset_app_state, signed_request
from tests.fakes.miniapp_platforms import FakeMiniappPlatforms

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def fuzz_app(migrated_database):
    with FakeMiniappPlatforms() as platforms:
        app = build_app(
            migrated_database, WECHAT_API_BASE=platforms.wechat_base_url, WECHAT_APPID=platforms.wechat_appid,
            WECHAT_SECRET=platforms.wechat_secret, ALIPAY_GATEWAY=platforms.alipay_gateway_url,
            ALIPAY_APP_ID=platforms.alipay_app_id, ALIPAY_PRIVATE_KEY=platforms.alipay_app_private_key_pem,
            ALIPAY_PUBLIC_KEY=platforms.alipay_public_key_pem,
        )
        with isolation(app), app.app_context():
            demo.seed()
            yield app
        reset_app_state(app)


@pytest.fixture(scope="module")
def api_schema(fuzz_app):
    return schemathesis.openapi.from_wsgi("/api/openapi.json", fuzz_app)


@pytest.fixture(scope="module")
def tokens(fuzz_app):
    client = fuzz_app.test_client()
    person = client.post("/api/v1/auth/dev-login", json={"id_number": "640104198506120314"}).json
    staff = {name: client.post("/api/v1/staff/auth/login",
                               json={"username": name, "password": f"demo-{name}"}).json["access_token"]
             for name in ("admin1", "reviewer1", "agent1")}
    return {"person": person["access_token"], **staff}


def test_no_generated_request_gets_a_server_error(api_schema, fuzz_app, tokens):
    client = fuzz_app.test_client()
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 50  # the whole API is documented, not a stray corner of it
    for operation in operations:
        _fuzz(operation, client, tokens)


def _fuzz(operation, client, tokens) -> None:
    # One hypothesis run per operation: pytest-level parametrisation needs the schema before fixtures exist.
    @SETTINGS
    @given(case=operation.as_strategy())
    def check(case):
        for response in _send_as_every_caller(case, client, tokens):
            assert response.status_code < 500, (operation.label, response.get_data(as_text=True)[:500])

    check()


def _send_as_every_caller(case, client, tokens):
    path = case.formatted_path
    if path.startswith("/api/v1/institution/"):
        return [_signed(case, client)]
    bearers = [tokens["admin1"], tokens["reviewer1"], tokens["agent1"]] if path.startswith("/api/v1/staff/") \
        else [tokens["person"]]
    return [_plain(case, client, {"Authorization": f"Bearer {bearer}"}) for bearer in bearers]


def _plain(case, client, auth):
    kwargs = case.as_transport_kwargs()
    headers = {**(kwargs.get("headers") or {}), **auth}
    headers.pop("Content-Length", None)
    return client.open(path=case.formatted_path, method=case.method, headers=headers,
                       query_string=kwargs.get("params"), data=_body(kwargs),
                       content_type=headers.pop("Content-Type", None))


def _signed(case, client):
    body = case.body if not isinstance(case.body, (NotSet, bytes, str, type(None))) else {}
    raw = json.dumps(body, ensure_ascii=False).encode()
    return signed_request(client, case.formatted_path, raw, "NX-T-001") if case.method.upper() == "POST" \
        else client.open(path=case.formatted_path, method=case.method)


def _body(kwargs):
    if "json" in kwargs and not isinstance(kwargs["json"], NotSet):
        return json.dumps(kwargs["json"])
    return kwargs.get("data")


# --- hand-made crash inputs against every documented operation (issue 12) -----------------------------------------

DEEP_JSON = "[" * 500 + "]" * 500


def test_no_documented_operation_answers_a_crash_input_with_a_server_error(api_schema, fuzz_app, tokens):
    client = fuzz_app.test_client()
    paths = api_schema.raw_schema["paths"]
    tried = 0
    for template, operations in paths.items():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            for path, query, body in _crash_inputs(template, operation):
                response = _send_crash(client, tokens, method, path, query, body)
                tried += 1
                assert response.status_code < 500, (method, path, response.get_data(as_text=True)[:300])
                assert "reason" in (response.get_json(silent=True) or {}).get("errors", {}) \
                    or response.status_code < 400, (method, path, response.status_code)
    assert tried > 40  # every operation with a path parameter, an integer query or a JSON body


def _crash_inputs(template: str, operation: dict):
    """A NUL byte in every path parameter, integers beyond any column in every integer query parameter, and a
    500-deep JSON body for every operation that takes JSON."""
    parameters = operation.get("parameters", [])
    nul_path = template
    for parameter in parameters:
        if parameter.get("in") == "path":
            nul_path = nul_path.replace("{" + parameter["name"] + "}", "a%00b")
    huge = {p["name"]: "9" * 30 for p in parameters
            if p.get("in") == "query" and p.get("schema", {}).get("type") == "integer"}
    plain_path = template
    for parameter in parameters:
        if parameter.get("in") == "path":
            plain_path = plain_path.replace("{" + parameter["name"] + "}", "1")
    if nul_path != template:
        yield nul_path, None, None
    if huge:
        yield plain_path, huge, None
    if "application/json" in operation.get("requestBody", {}).get("content", {}):
        yield plain_path, None, DEEP_JSON


def _send_crash(client, tokens, method, path, query, body):
    if path.startswith("/api/v1/institution/"):
        return signed_request(client, path, (body or "{}").encode(), "NX-T-001") if method == "post" \
            else client.open(path=path, method=method.upper(), query_string=query)
    bearer = tokens["admin1"] if path.startswith("/api/v1/staff/") else tokens["person"]
    return client.open(path=path, method=method.upper(), query_string=query, data=body,
                       content_type="application/json" if body else None,
                       headers={"Authorization": f"Bearer {bearer}"})
