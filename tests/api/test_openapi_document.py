"""The OpenAPI document is valid 3.x and complete enough to generate a client from, and what the service answers
matches it: real responses of the vendors' and mini-program's main operations validate against their schemas."""

from __future__ import annotations

import pytest
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from openapi_spec_validator import OpenAPIV30SpecValidator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from backend.web.openapi_examples import EXAMPLES

METHODS = {"get", "post", "put", "patch", "delete"}
SETTLE = "/api/v1/institution/settlements"


@pytest.fixture
def document(client):
    return client.get("/api/openapi.json").json


def _operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def test_the_document_is_valid_openapi_3(document):
    errors = list(OpenAPIV30SpecValidator(document).iter_errors())
    assert [error.message[:200] for error in errors] == []
    assert document["openapi"].startswith("3.")


def test_every_operation_has_a_unique_id_a_description_and_documented_errors(document):
    operations = list(_operations(document))
    assert len(operations) > 60
    ids = [operation["operationId"] for _, _, operation in operations]
    assert len(ids) == len(set(ids))
    for path, method, operation in operations:
        assert operation.get("description"), (method, path)
        assert "503" in operation["responses"], (method, path)
        assert not any(p.get("in") == "formData" for p in operation.get("parameters", [])), (method, path)


def test_institution_operations_require_the_signature_scheme_and_answer_401_with_its_reasons(document):
    schemes = document["components"]["securitySchemes"]
    assert {schemes[name]["name"] for name in ("institutionCode", "institutionTimestamp", "institutionSignature")} \
        == {"X-Institution-Code", "X-Timestamp", "X-Signature"}
    assert 'X-Timestamp + "\\n" + raw request body' in schemes["institutionSignature"]["description"]
    for path, _, operation in _operations(document):
        if path.startswith("/api/v1/institution/"):
            assert operation["security"] == [
                {"institutionCode": [], "institutionTimestamp": [], "institutionSignature": []}]
            assert operation["responses"]["401"] == {"$ref": "#/components/responses/SignatureRejected"}


def test_signed_in_operations_name_the_bearer_scheme_and_staff_ones_answer_403(document):
    account = document["paths"]["/api/v1/account"]["get"]
    assert account["security"] == [{"bearer": []}]
    assert "401" in account["responses"] and "403" not in account["responses"]
    queue = document["paths"]["/api/v1/staff/applications"]["get"]
    assert queue["security"] == [{"bearer": []}]
    assert queue["responses"]["403"] == {"$ref": "#/components/responses/Forbidden"}
    chat = document["paths"]["/api/v1/chat/messages"]["post"]
    assert chat["security"] == [{}, {"bearer": []}]
    assert "429" in chat["responses"]


def test_writes_that_accept_an_idempotency_key_say_so_and_a_replayed_settlement_is_a_documented_200(document):
    settle = document["paths"][SETTLE]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in settle["parameters"])
    assert settle["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Settlement"}
    grant = document["paths"]["/api/v1/sharing/grants"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in grant["parameters"])


def test_the_vendor_operations_list_their_own_reason_codes(document):
    settle = document["paths"][SETTLE]["post"]["responses"]
    assert "`order_no_reused`" in settle["409"]["description"]
    assert "`offsite_registration_required`" in settle["422"]["description"]
    assert "`validation_error`" in settle["422"]["description"]  # and the general ones still
    assert settle["422"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    refund = document["paths"][f"{SETTLE}/{{setl_id}}/refund"]["post"]["responses"]
    assert "`not_the_settling_institution`" in refund["403"]["description"]


def test_uploads_are_one_multipart_request_body(document):
    counter = document["paths"]["/api/v1/staff/counter/sharing/grants"]["post"]
    schema = counter["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert {"owner_id_number", "relative_name", "relative_id_number", "relation", "promise"} <= set(
        schema["properties"])
    assert schema["properties"]["promise"]["format"] == "binary"
    assert "promise" in schema["required"]


def test_request_schemas_list_what_is_required_and_type_amounts_and_dates(document):
    schemas = document["components"]["schemas"]
    assert set(schemas["SettlementRequest"]["required"]) == {"id_number", "visit_date", "med_type", "items"}
    assert set(schemas["FeeItem"]["required"]) == {"code", "name", "amount", "in_scope"}
    assert schemas["FeeItem"]["properties"]["amount"]["type"] == "string"
    assert "pattern" in schemas["FeeItem"]["properties"]["amount"]
    assert schemas["Settlement"]["properties"]["hifp_pay"]["pattern"] == r"^-?\d{1,12}\.\d{2}$"
    assert schemas["Settlement"]["properties"]["visit_date"]["format"] == "date"
    assert schemas["Settlement"]["properties"]["settled_at"]["format"] == "date-time"


def test_paginated_lists_share_one_shape(document, client, make_person, person_headers):
    for path in ("/api/v1/account/entries", "/api/v1/notifications", "/api/v1/settlements"):
        operation = document["paths"][path]["get"]
        names = {p["name"] for p in operation["parameters"]}
        assert {"page", "page_size"} <= names, path
        assert operation["responses"]["200"]["headers"]["X-Pagination"] == {"$ref": "#/components/headers/PAGINATION"}
    response = client.get("/api/v1/settlements?page=1&page_size=5", headers=person_headers(make_person()))
    assert response.headers["X-Pagination"] == '{"total": 0, "total_pages": 0}'
    assert {"items", "page", "page_size", "total"} <= set(response.json)  # the body keeps its fields


def test_examples_match_the_documents_own_schemas(document):
    for operation_id, examples in EXAMPLES.items():
        path, method, operation = next(op for op in _operations(document) if op[2]["operationId"] == operation_id)
        if "request" in examples:
            schema = operation["requestBody"]["content"]["application/json"]["schema"]
            _validate(document, examples["request"], schema)
            assert operation["requestBody"]["content"]["application/json"]["example"] == examples["request"]
        for status, example in examples["responses"].items():
            media = operation["responses"][status]["content"]["application/json"]
            _validate(document, example, media["schema"])
            assert media["example"] == example


def test_real_answers_of_the_main_operations_match_the_document(document, client, signed_post, make_person,
                                                                person_headers):
    person = make_person()
    headers = person_headers(person)
    body = {"id_number": person.id_number, "visit_date": "2024-05-10", "med_type": "general", "use_account": True,
            "items": [{"code": "A1", "name": "药品", "amount": "800.00", "in_scope": True},
                      {"code": "A2", "name": "理疗", "amount": 50, "in_scope": False}], "order_no": "DOC-1"}
    settled = signed_post(SETTLE, body)
    answers = [
        ("settle_visit", "201", settled),
        ("settle_visit", "200", signed_post(SETTLE, body, timestamp=_earlier())),
        ("refund_settlement", "201",
         signed_post(f"{SETTLE}/{settled.json['setl_id']}/refund", {"refund_no": "DOC-R1", "line_nos": [2]})),
        ("check_eligibility", "200", signed_post("/api/v1/institution/eligibility", {"id_number": person.id_number})),
        ("settle_visit", "422", signed_post(SETTLE, {**body, "visit_date": "2999-01-01", "order_no": "DOC-2"})),
        ("account_get_account", "200", client.get("/api/v1/account", headers=headers)),
        ("account_get_entries", "200", client.get("/api/v1/account/entries", headers=headers)),
        ("settlements_get_settlements", "200", client.get("/api/v1/settlements", headers=headers)),
        ("settlements_get_settlement_detail", "200",
         client.get(f"/api/v1/settlements/{settled.json['setl_id']}", headers=headers)),
        ("benefits_get_caps", "200", client.get("/api/v1/benefits/caps", headers=headers)),
        ("account_get_account", "401", client.get("/api/v1/account")),
    ]
    by_id = {operation["operationId"]: operation for _, _, operation in _operations(document)}
    for operation_id, status, response in answers:
        assert str(response.status_code) == status, (operation_id, response.json)
        documented = by_id[operation_id]["responses"][status]
        if "$ref" in documented:
            documented = document["components"]["responses"][documented["$ref"].rsplit("/", 1)[1]]
        _validate(document, response.json, documented["content"]["application/json"]["schema"])


_timestamps = iter(range(60, 250))


def _earlier() -> int:
    import time

    return int(time.time()) - next(_timestamps)


def _validate(document, instance, schema) -> None:
    registry = Registry().with_resource("urn:openapi", Resource.from_contents(document, default_specification=DRAFT4))
    rooted = {**schema, "$ref": "urn:openapi" + schema["$ref"]} if "$ref" in schema else schema
    OAS30Validator(rooted, registry=registry, format_checker=oas30_format_checker).validate(instance)


def test_the_docs_page_works_offline_from_files_this_server_serves(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "cdn" not in html.lower() and "https://" not in html
    for asset in ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"):
        assert f"/api/docs/assets/{asset}" in html
        served = client.get(f"/api/docs/assets/{asset}")
        assert served.status_code == 200 and len(served.data) > 1000
    assert '"validatorUrl": null' in html
