"""The app factory, health, OpenAPI, the error shape and dev-login's switch (tests/api/test_observability.py has\nliveness and readiness)."""

from backend.config import Config


def test_the_factory_builds_an_app_from_the_config_it_is_given(make_app):
    app = make_app(DEV_LOGIN=False, JWT_ISSUER="elsewhere")
    assert app.config["JWT_ISSUER"] == "elsewhere"
    assert app.config["TESTING"] is True
    assert {"sqlalchemy", "redis", "job_queue", "limiter"} <= set(app.extensions)


def test_health_answers_ok_without_naming_the_products_in_use(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


def test_openapi_document_and_docs_page_are_served(client):
    spec = client.get("/api/openapi.json")
    assert spec.status_code == 200
    assert "/api/v1/auth/bind" in spec.json["paths"]
    assert spec.json["info"]["title"]
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert b"swagger" in docs.data.lower()


def test_dev_login_does_not_exist_unless_switched_on(make_app, make_person):
    person = make_person()
    off = make_app(DEV_LOGIN=False).test_client()
    assert off.post("/api/v1/auth/dev-login", json={"id_number": person.id_number}).status_code == 404


def test_dev_login_is_off_by_default_outside_tests(monkeypatch):
    monkeypatch.delenv("DEV_LOGIN", raising=False)
    assert Config().DEV_LOGIN is False


def test_every_error_has_one_shape_with_a_chinese_message_and_a_reason_code(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert set(response.json) == {"code", "status", "message", "errors"}
    assert response.json["code"] == 404
    assert response.json["errors"]["reason"] == "not_found"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in response.json["message"])


def test_validation_errors_name_the_fields(client):
    response = client.post("/api/v1/auth/dev-login", json={"id_number": 12345})
    assert response.status_code == 422
    assert response.json["errors"]["reason"] == "validation_error"
    assert "id_number" in response.json["errors"]["fields"]["json"]


def test_an_id_in_a_url_beyond_the_database_range_is_not_found_rather_than_an_error(client, staff_headers):
    response = client.post("/api/v1/staff/accounts/99999999999999999999/transfer-out",
                           json={"destination": "上海"}, headers=staff_headers("admin1"))
    assert response.status_code == 404
    assert response.json["errors"]["reason"] == "not_found"


def test_a_nul_character_anywhere_in_the_input_is_refused_before_reaching_the_database(client):
    in_json = client.post("/api/v1/auth/dev-login", json={"id_number": "6401041985\x0006120314"})
    in_query = client.get("/api/openapi.json?x=a%00b")
    assert in_json.status_code == 422
    assert in_json.json["errors"]["reason"] == "invalid_characters"
    assert in_query.status_code == 422
