"""The OpenAPI document a hospital-system vendor can generate a client from (DESIGN §4.2; issue #13).

Views describe themselves as flask-smorest lets them (schemas, docstrings). What every operation has in common is
derived here, once, from what the code already declares, so no view repeats it:
- ``operationId`` from the endpoint (blueprint and view), unless a view names one;
- ``security`` from the authentication decorators (``backend.web.auth``) and the signed institution blueprints;
- the error responses each operation can answer — 401/403 from those decorators, 404 from path parameters,
  409/422 for writes, 429 where a rate limit applies, 503 for every operation — each with the one error shape
  and its reason codes;
- the ``Idempotency-Key`` header where ``@idempotent`` accepts it, and the ``Idempotent-Replayed`` response header;
- multipart bodies as one ``multipart/form-data`` request body (smorest leaves a second location as ``formData``
  parameters, an OpenAPI 2 notion);
- yuan amounts as strings with a pattern, and ``format: date`` / ``date-time`` on date fields named as such;
- a description for every operation, and examples from ``backend.web.openapi_examples``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from http import HTTPStatus
from copy import deepcopy
from importlib import resources
from typing import Any

from apispec import BasePlugin
from flask import Blueprint, Flask, send_from_directory
from marshmallow import fields

from backend.web.fields import YuanAmount
from backend.web.openapi_examples import EXAMPLES, OPERATION_REASONS
from backend.web.signature import verify_institution_request

ERROR_REF = {"$ref": "#/components/schemas/Error"}
# flask-smorest's own generic 422 (by name before apispec resolves it, by reference after): replaced by ours.
SMOREST_GENERIC = ("UNPROCESSABLE_ENTITY", {"$ref": "#/components/responses/UNPROCESSABLE_ENTITY"})
YUAN_OUT = r"^-?\d{1,12}\.\d{2}$"
YUAN_IN = r"^\d{1,10}(\.\d{1,2})?$"
BODY_METHODS = {"post", "put", "patch", "delete"}

# Names under which the API carries money: the national 2207 names and the account's, caps' and claims' amounts.
AMOUNT_NAMES = {
    "medfee_sumamt", "inscp_scp_amt", "act_pay_dedc", "hifp_pay", "acct_pay", "acct_mulaid_pay", "psn_cash_pay",
    "balc", "amount", "balance", "credits", "spending", "spending_for_family", "allowed", "used", "remaining",
    "claimed_amount", "payout_amount", "cap_increase",
}
DATE_NAME = re.compile(r"(^|_)(date|on|from|to|until|through|day)$")
DATE_TIME_NAME = re.compile(r"(^|_)at$")

INSTITUTION_SECURITY = [{"institutionCode": [], "institutionTimestamp": [], "institutionSignature": []}]
SIGNING_DESCRIPTION = (
    "定点机构请求签名 / Signed institution requests. Every request to `/api/v1/institution/*` carries three headers:"
    " `X-Institution-Code` (the institution's code), `X-Timestamp` (Unix seconds, within 300 s of the server's"
    " clock) and `X-Signature`: the lowercase hex HMAC-SHA256, keyed with the institution's secret, of"
    " **version 1** (the default): the bytes `X-Timestamp + \"\\n\" + raw request body`; or, with the header"
    " `X-Signature-Version: 2`, **version 2**: `METHOD + \"\\n\" + path + \"\\n\" + X-Timestamp + \"\\n\" +"
    " raw request body`, where METHOD is upper case and path is the request target as sent (with its query string,"
    " if any) — version 2 binds the signature to the operation; version 1 is accepted until the date the agency"
    " announces (INSTITUTION_SIGNATURE_V1_UNTIL). An empty body signs as empty bytes. A signature is accepted once:"
    " send a retry with a new timestamp and signature. Refusals are 401 with `errors.reason` one of"
    " `signature_missing`, `signature_version_unsupported`, `signature_version_retired`, `institution_unknown`,"
    " `signature_invalid`, `timestamp_invalid`, `timestamp_stale`, `request_replayed`."
    " `POST /api/v1/institution/ping` answers what the server understood, to test signing code."
)

SIGNATURE_VERSION = {
    "in": "header", "name": "X-Signature-Version", "required": False,
    "schema": {"type": "string", "enum": ["1", "2"], "default": "1"},
    "description": "签名版本 / Which string X-Signature signs (see the `institutionSignature` security scheme).",
}

ERROR_RESPONSES: dict[str, tuple[str, str, list[str]]] = {
    # component name: (status, description, reason codes)
    "Unauthorized": ("401", "未登录或令牌无效 / Not signed in, or the token is invalid or expired.",
                     ["token_missing", "token_invalid", "token_expired", "staff_inactive"]),
    "SignatureRejected": ("401", "签名校验未通过 / The institution signature was refused.",
                          ["signature_missing", "signature_version_unsupported", "signature_version_retired",
                           "institution_unknown", "signature_invalid", "timestamp_invalid", "timestamp_stale",
                           "request_replayed"]),
    "Forbidden": ("403", "无权进行此操作 / The caller may not do this (role, institution kind or region).",
                  ["forbidden", "role_required", "token_audience_mismatch"]),
    "NotFound": ("404", "未找到（或不属于调用者）/ Not found, or not the caller's to see.", ["not_found"]),
    "Conflict": ("409", "与当前状态冲突，或同一幂等键的请求仍在处理 / Conflicts with the current state, or a request"
                 " with the same Idempotency-Key is still being processed.", ["conflict", "idempotency_request_in_progress"]),
    "Unprocessable": ("422", "提交的信息有误或不符合规则 / Invalid input (see `errors.fields`) or refused by a rule"
                      " (see `errors.reason`); the same Idempotency-Key with another body is refused too.",
                      ["validation_error", "idempotency_key_invalid", "idempotency_key_reused",
                       "invalid_characters"]),
    "TooManyRequests": ("429", "操作过于频繁 / Rate limit reached: retry after the `Retry-After` seconds.",
                        ["too_many_requests"]),
    "ServiceUnavailable": ("503", "服务暂不可用 / The database or Redis is unavailable: retry later (`Retry-After`).",
                           ["service_unavailable"]),
}

INFO_DESCRIPTION = """门诊共济自助服务后端：参保人小程序、经办人员、定点医药机构三类接口。
Medical-insurance self-service backend: the mini-program (insured people), staff and institution APIs.

- **Authentication**: insured people and staff send `Authorization: Bearer <access_token>` (from the auth
  endpoints); institutions sign each request (security scheme `institutionSignature`).
- **Errors** have one shape: `{"code", "status", "message", "errors": {"reason", ...}}` — `message` is Chinese
  text for people, `errors.reason` a stable English code for machines, `errors.fields` names invalid fields.
- **Money**: amounts are yuan as strings with two decimals (`"1200.00"`); requests also accept at most two
  decimals as a number. **Dates** are `YYYY-MM-DD`, times ISO 8601 with offset.
- **Retries**: writes marked with the `Idempotency-Key` header may be retried with the same key and body: the
  stored answer comes back with `Idempotent-Replayed: true`. A settlement's `order_no` (and a refund's
  `refund_no`) make posting the same one again answer 200 with the same result.
- **Pagination**: paginated lists take `page` (from 1) and `page_size`, and answer the `X-Pagination` header
  (`total`, `total_pages`, `page`, `first_page`, `last_page`, `previous_page`, `next_page`).
- **Tracing**: send `X-Request-ID` (1–128 of `A-Za-z0-9._:/+=@-`) or get one made; it comes back on every
  response and is in every log line of the request and of the jobs it starts — quote it when reporting a problem.
"""


def register_openapi(app: Flask, api) -> None:
    """Security schemes, the error shape, the conventions plugin's final pass, and Swagger UI's files."""
    spec = api.spec
    spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                   "description": "参保人或经办人员的访问令牌 / Access token of an insured person or a staff member."})
    for name, header in (("institutionCode", "X-Institution-Code"), ("institutionTimestamp", "X-Timestamp"),
                         ("institutionSignature", "X-Signature")):
        spec.components.security_scheme(name, {"type": "apiKey", "in": "header", "name": header,
                                               "description": SIGNING_DESCRIPTION})
    spec.components.schemas["Error"] = _error_schema()
    for name, (status, description, reasons) in ERROR_RESPONSES.items():
        spec.components.response(name, _error_response(description, reasons))
    spec.options["info"] = {**spec.options.get("info", {}), "description": INFO_DESCRIPTION}
    spec.components.header("IdempotentReplayed", {
        "description": "true when this is the stored answer to an earlier request with the same Idempotency-Key",
        "schema": {"type": "string", "enum": ["true"]}})
    app.register_blueprint(swagger_ui_assets)


def _error_schema() -> dict[str, Any]:
    return {
        "type": "object", "required": ["code", "status", "message", "errors"],
        "properties": {
            "code": {"type": "integer", "description": "HTTP status code", "example": 422},
            "status": {"type": "string", "description": "HTTP status phrase", "example": "Unprocessable Entity"},
            "message": {"type": "string", "description": "给人看的中文说明 / Chinese text for people",
                        "example": "提交的信息有误，请检查后重试"},
            "errors": {
                "type": "object", "required": ["reason"], "additionalProperties": True,
                "properties": {
                    "reason": {"type": "string", "description": "Stable English reason code for machines",
                               "example": "validation_error"},
                    "fields": {"type": "object", "additionalProperties": True,
                               "description": "Invalid input by location and field name"},
                },
            },
        },
    }


def _error_response(description: str, reasons: list[str]) -> dict[str, Any]:
    return {
        "description": f"{description} Reason codes (`errors.reason`): {', '.join(f'`{r}`' for r in reasons)}"
                       " — and others particular to the operation.",
        "content": {"application/json": {"schema": ERROR_REF}},
    }


# --- Swagger UI's files, from the swagger-ui-py package: the docs page needs no CDN -----------------------------

swagger_ui_assets = Blueprint("swagger_ui_assets", __name__)


@swagger_ui_assets.get("/api/docs/assets/<path:filename>")
def swagger_ui_file(filename: str):
    return send_from_directory(str(resources.files("swagger_ui") / "static"), filename, max_age=86400)


# --- the plugin ----------------------------------------------------------------------------------------------------

class ConventionsPlugin(BasePlugin):
    """Runs after flask-smorest's and apispec's own plugins, on each path as it is registered."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.spec = None

    def init_spec(self, spec) -> None:
        self.spec = spec

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        rule = kwargs.get("rule")
        if rule is None or not operations:
            return
        view = self.app.view_functions.get(rule.endpoint)
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            handler = _handler_of(view, method)
            _name_operation(operation, rule.endpoint, method)
            _merge_form_parameters(operation, self.spec)
            security = _security_of(view, handler, rule.endpoint, self.app)
            if security is not None and "security" not in operation:
                operation["security"] = security
            if security == INSTITUTION_SECURITY:
                operation.setdefault("parameters", []).append(SIGNATURE_VERSION)
            if getattr(handler, "accepts_idempotency_key", False):
                _add_idempotency_key(operation)
            _add_error_responses(operation, method, rule, view, handler, self.app)
            _document_pagination(operation)
            _describe(operation, security, method)
            _add_operation_reasons(operation)
            _add_examples(operation)
        _promote_required(self.spec)


def register_field_conventions(ma_plugin) -> None:
    """Amounts and dates typed by what the field is called, so no schema has to repeat it."""
    ma_plugin.converter.add_attribute_function(_field_attributes)


def _field_attributes(self, field: fields.Field, ret: dict[str, Any], **kwargs) -> dict[str, Any]:
    return field_properties(field, ret)


def field_properties(field: fields.Field, ret: dict[str, Any]) -> dict[str, Any]:
    name = (field.data_key or field.name or "").lower()
    extra: dict[str, Any] = {}
    if name in AMOUNT_NAMES and type(field) in (fields.String, fields.Raw, YuanAmount):
        if _is_input_amount(field):
            extra = {"type": "string", "pattern": YUAN_IN,
                     "description": ret.get("description") or "金额（元），最多两位小数 / yuan, at most two decimals"}
        else:
            extra = {"type": "string", "pattern": YUAN_OUT,
                     "description": ret.get("description") or "金额（元），两位小数 / yuan, two decimals"}
    elif type(field) is fields.String and "format" not in ret:
        if DATE_TIME_NAME.search(name):
            extra = {"format": "date-time"}
        elif DATE_NAME.search(name):
            extra = {"format": "date"}
    return extra


def _is_input_amount(field: fields.Field) -> bool:
    """Requests take amounts through YuanAmount (or, still, a loose Raw field); responses write yuan strings."""
    return type(field) in (YuanAmount, fields.Raw)


# --- pieces of the operation helper ----------------------------------------------------------------------------

def _handler_of(view, method: str):
    view_class = getattr(view, "view_class", None)
    return getattr(view_class, method, None) if view_class is not None else view


def _layers(function) -> Iterator[Any]:
    while function is not None:
        yield function
        function = getattr(function, "__wrapped__", None)


def _auth_requirement(view, handler):
    view_class = getattr(view, "view_class", None)
    candidates = [*getattr(view_class, "decorators", ()), *_layers(handler)]
    for candidate in candidates:
        requirement = getattr(candidate, "auth_requirement", None)
        if requirement is not None:
            return requirement
    return None


def _is_signed(endpoint: str, app: Flask) -> bool:
    blueprint = endpoint.rsplit(".", 1)[0] if "." in endpoint else None
    return verify_institution_request in app.before_request_funcs.get(blueprint, [])


def _security_of(view, handler, endpoint: str, app: Flask):
    if _is_signed(endpoint, app):
        return deepcopy(INSTITUTION_SECURITY)
    requirement = _auth_requirement(view, handler)
    if requirement is None:
        return None
    return [{}, {"bearer": []}] if requirement.optional else [{"bearer": []}]


def _is_rate_limited(view, handler) -> bool:
    view_class = getattr(view, "view_class", None)
    candidates = [*getattr(view_class, "decorators", ()), *_layers(handler)]
    return any(type(candidate).__module__.startswith("flask_limiter") for candidate in candidates)


def _name_operation(operation: dict, endpoint: str, method: str) -> None:
    if "operationId" in operation:
        return
    blueprint, _, view_name = endpoint.rpartition(".")
    operation["operationId"] = f"{blueprint}_{method}_{_snake(view_name)}" if blueprint else f"{method}_{view_name}"


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _merge_form_parameters(operation: dict, spec) -> None:
    """``formData`` parameters and any form-encoded body become one multipart/form-data body."""
    parameters = operation.get("parameters") or []
    form = [p for p in parameters if isinstance(p, dict) and p.get("in") in ("formData", "form", "files")]
    if not form:
        return
    operation["parameters"] = [p for p in parameters if p not in form]
    if not operation["parameters"]:
        del operation["parameters"]
    properties: dict[str, Any] = {}
    required: list[str] = []
    content = (operation.get("requestBody") or {}).get("content") or {}
    for content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        schema = _resolved((content.get(content_type) or {}).get("schema"), spec)
        properties.update(schema.get("properties") or {})
        required += schema.get("required") or []
    for parameter in form:
        schema = dict(parameter.get("schema") or {"type": "string"})
        if parameter.get("description"):
            schema.setdefault("description", parameter["description"])
        properties[parameter["name"]] = schema
        if parameter.get("required"):
            required.append(parameter["name"])
    for name, schema in properties.items():
        if schema.get("type") == "file" or schema.get("format") == "binary":
            properties[name] = {**schema, "type": "string", "format": "binary"}
    body_schema = {"type": "object", "properties": properties}
    if required:
        body_schema["required"] = sorted(set(required))
    operation["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": body_schema}}}


def _promote_required(spec) -> None:
    """Fields marked ``"x-required": True`` (checked by the service, with its own reason codes, rather than by the
    schema) join their schema's ``required`` list; the marker itself does not stay in the document."""
    for schema in spec.components.schemas.values():
        properties = schema.get("properties") if isinstance(schema, dict) else None
        for name, prop in (properties or {}).items():
            if prop.pop("x-required", False) and name not in schema.setdefault("required", []):
                schema["required"].append(name)


def _resolved(schema: dict | None, spec) -> dict[str, Any]:
    if not schema:
        return {}
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        return spec.components.schemas.get(ref.rsplit("/", 1)[1], {})
    return schema


def _add_idempotency_key(operation: dict) -> None:
    operation.setdefault("parameters", []).append({
        "in": "header", "name": "Idempotency-Key", "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": r"^[\x21-\x7e]+$"},
        "description": "幂等键 / Idempotency key: retrying with the same key and body returns the stored answer"
                       " (header `Idempotent-Replayed: true`); the same key with another body is 422"
                       " `idempotency_key_reused`; while the first is still running, 409.",
    })
    for status, response in operation.get("responses", {}).items():
        if str(status).startswith("2") and isinstance(response, dict) and "$ref" not in response:
            response.setdefault("headers", {})["Idempotent-Replayed"] = {
                "$ref": "#/components/headers/IdempotentReplayed"}


def _add_error_responses(operation: dict, method: str, rule, view, handler, app: Flask) -> None:
    responses = operation.setdefault("responses", {})
    signed = _is_signed(rule.endpoint, app)
    requirement = _auth_requirement(view, handler)
    wanted: list[tuple[str, str]] = []
    if signed:
        wanted += [("401", "SignatureRejected"), ("403", "Forbidden")]
    elif requirement is not None:
        wanted.append(("401", "Unauthorized"))
        if requirement.kind == "staff":
            wanted.append(("403", "Forbidden"))
    if rule.arguments or signed or requirement is not None and method in BODY_METHODS:
        wanted.append(("404", "NotFound"))
    if method in BODY_METHODS:
        wanted += [("409", "Conflict"), ("422", "Unprocessable")]
    elif operation.get("parameters"):
        wanted.append(("422", "Unprocessable"))
    if _is_rate_limited(view, handler):
        wanted.append(("429", "TooManyRequests"))
    wanted.append(("503", "ServiceUnavailable"))
    for status, component in wanted:
        existing = responses.get(status, responses.get(int(status)))
        if existing is None or existing in SMOREST_GENERIC:
            responses.pop(int(status), None)
            responses[status] = {"$ref": f"#/components/responses/{component}"}
    for status, response in responses.items():
        if isinstance(response, dict) and "$ref" not in response:
            _complete_response(status, response)


def _complete_response(status, response: dict) -> None:
    """Every response has a description, and a file (PDF, CSV) is described as such."""
    if not response.get("description"):
        response["description"] = HTTPStatus(int(status)).phrase if str(status).isdigit() else "Response"
    for content_type, media in (response.get("content") or {}).items():
        if "schema" not in media and content_type != "application/json":
            binary = not content_type.startswith("text/")
            media["schema"] = {"type": "string", "format": "binary"} if binary else {"type": "string"}


def _response(operation: dict, status: str):
    """A response by status: keys are still integers or strings, as each view wrote them, until apispec cleans up."""
    responses = operation.get("responses", {})
    return responses.get(status, responses.get(int(status)))


def _document_pagination(operation: dict) -> None:
    """One pagination shape: ``page`` and ``page_size`` in, the ``X-Pagination`` header out (a list whose body is
    an object keeps its fields too)."""
    names = {p.get("name") for p in operation.get("parameters", []) if isinstance(p, dict) and p.get("in") == "query"}
    ok = _response(operation, "200")
    if {"page", "page_size"} <= names and isinstance(ok, dict) and "$ref" not in ok:
        ok.setdefault("headers", {}).setdefault("X-Pagination", {"$ref": "#/components/headers/PAGINATION"})


def _describe(operation: dict, security, method: str) -> None:
    notes = []
    if security == INSTITUTION_SECURITY:
        notes.append("签名请求 / Signed request: see the `institutionSignature` security scheme.")
    elif security == [{"bearer": []}]:
        notes.append("需要登录 / Requires `Authorization: Bearer <access_token>`.")
    elif security == [{}, {"bearer": []}]:
        notes.append("登录可选 / Bearer token optional.")
    if any(p.get("name") == "Idempotency-Key" for p in operation.get("parameters", []) if isinstance(p, dict)):
        notes.append("可安全重试 / Safe to retry with an `Idempotency-Key` header.")
    summary = operation.get("summary") or ""
    existing = operation.get("description")
    parts = [existing or summary, *notes]
    operation["description"] = "\n\n".join(part for part in parts if part)


def _add_operation_reasons(operation: dict) -> None:
    """The operation's own reason codes, in place of the shared response's general list."""
    for status, reasons in OPERATION_REASONS.get(operation["operationId"], {}).items():
        component = _response(operation, status)["$ref"].rsplit("/", 1)[1]
        description, general = ERROR_RESPONSES[component][1:]
        operation["responses"][status] = _error_response(description, [*reasons, *general])


def _add_examples(operation: dict) -> None:
    examples = EXAMPLES.get(operation["operationId"])
    if not examples:
        return
    request = examples.get("request")
    body = (operation.get("requestBody") or {}).get("content", {}).get("application/json")
    if request is not None and body is not None:
        body["example"] = request
    for status, example in (examples.get("responses") or {}).items():
        response = _response(operation, status)
        if isinstance(response, dict) and "content" in response:
            response["content"].setdefault("application/json", {})["example"] = example
