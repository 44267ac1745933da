"""What operators watch: liveness apart from readiness, request ids, JSON logs and Prometheus metrics."""

from __future__ import annotations

import json
import logging

import pytest
from prometheus_client.parser import text_string_to_metric_families

from backend.logging_setup import RedactingJsonFormatter, stamp_request_ids
from tests.conftest import valid_id_number


class _BrokenRedis:
    def ping(self):
        raise ConnectionError("down")

    def __getattr__(self, name):
        raise ConnectionError("down")


# --- liveness and readiness ----------------------------------------------------------------------------------------

def test_liveness_answers_even_when_redis_is_down_so_an_orchestrator_keeps_the_process(make_app):
    app = make_app()
    healthy_redis = app.extensions["redis"]
    app.extensions["redis"] = _BrokenRedis()
    try:
        response = app.test_client().get("/livez")
    finally:
        app.extensions["redis"] = healthy_redis
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readiness_reports_each_dependency_without_naming_the_products_in_use(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}
    text = response.get_data(as_text=True).lower()
    assert not any(product in text for product in ("sqlite", "postgres", "fakeredis", "psycopg", "version"))


def test_readiness_and_healthz_answer_503_when_redis_does_not_answer(make_app):
    app = make_app()
    healthy_redis = app.extensions["redis"]
    app.extensions["redis"] = _BrokenRedis()
    try:
        client = app.test_client()
        ready, health = client.get("/readyz"), client.get("/healthz")
    finally:
        app.extensions["redis"] = healthy_redis
    for response in (ready, health):
        assert response.status_code == 503
        assert response.json == {"status": "unavailable", "checks": {"database": "ok", "redis": "unavailable"}}


# --- request ids ---------------------------------------------------------------------------------------------------

def test_a_well_formed_request_id_from_the_caller_is_echoed(client):
    response = client.get("/livez", headers={"X-Request-ID": "vendor-42.abc"})
    assert response.headers["X-Request-ID"] == "vendor-42.abc"


def test_a_request_without_an_id_gets_a_fresh_one_per_request(client):
    first, second = client.get("/livez"), client.get("/livez")
    assert len(first.headers["X-Request-ID"]) == 32
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]


@pytest.mark.parametrize("forged", ['a"b', "x" * 129, "line\tbreak", "中文"])
def test_a_request_id_that_could_forge_log_fields_is_replaced(client, forged):
    response = client.get("/livez", headers={"X-Request-ID": forged.encode().decode("latin-1")})
    assert response.headers["X-Request-ID"] != forged
    assert len(response.headers["X-Request-ID"]) == 32


def test_error_responses_carry_the_request_id_too(client):
    response = client.get("/api/v1/no-such-thing", headers={"X-Request-ID": "trace-404"})
    assert response.status_code == 404
    assert response.headers["X-Request-ID"] == "trace-404"


def test_a_job_enqueued_while_serving_a_request_carries_its_id(app):
    from backend.extensions import job_queue
    from backend.observability.request_id import assign_request_id

    with app.test_request_context("/", headers={"X-Request-ID": "req-for-job"}):
        assign_request_id()
        job = job_queue.enqueue("drain_outbox", {})
    assert job.meta["request_id"] == "req-for-job"


# --- JSON logs -----------------------------------------------------------------------------------------------------

def _record(message: str, *args) -> logging.LogRecord:
    stamp_request_ids()
    return logging.getLogRecordFactory()("medins.test", logging.INFO, __file__, 1, message, args, None)


def _json_line(record: logging.LogRecord) -> dict:
    return json.loads(RedactingJsonFormatter(["asctime", "levelname", "name", "message", "request_id"]).format(record))


def test_a_json_log_line_names_the_request_and_masks_id_numbers_in_every_field(app):
    number = valid_id_number("64010419800101123")
    with app.test_request_context("/", headers={"X-Request-ID": "req-log-1"}):
        from backend.observability.request_id import assign_request_id

        assign_request_id()
        record = _record("bind failed for %s", number)
        record.person = number  # an `extra` field
        line = _json_line(record)
    assert line["request_id"] == "req-log-1"
    assert line["level"] == "INFO" and line["logger"] == "medins.test"
    assert number not in json.dumps(line, ensure_ascii=False)
    assert line["message"] == f"bind failed for {number[:6]}********{number[-4:]}"
    assert line["person"] == f"{number[:6]}********{number[-4:]}"


def test_a_log_line_outside_any_request_or_job_has_a_placeholder_request_id():
    record = _record("started")
    assert _json_line(record)["request_id"] == "-"


def test_each_request_is_logged_once_with_its_id_endpoint_status_and_time(client, caplog):
    with caplog.at_level(logging.INFO, logger="medins.access"):
        client.get("/readyz", headers={"X-Request-ID": "req-access-1"})
    lines = [r for r in caplog.records if r.name == "medins.access"]
    assert len(lines) == 1
    assert lines[0].endpoint == "health.readyz"
    assert lines[0].status == 200
    assert lines[0].duration_ms >= 0
    assert lines[0].request_id == "req-access-1"


# --- metrics -------------------------------------------------------------------------------------------------------

def _scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_request_latency_by_endpoint_and_status(client):
    before = _scrape(client)
    client.get("/livez")
    client.get("/livez")
    after = _scrape(client)
    labels = {"endpoint": "health.livez", "method": "GET", "status": "200"}
    assert _value(after, "medins_http_request_duration_seconds_count", **labels) - \
        _value(before, "medins_http_request_duration_seconds_count", **labels) == 2


def test_metrics_show_the_outbox_backlog_and_every_queue(client):
    samples = _scrape(client)
    assert ("medins_outbox_pending", ()) in samples
    assert ("medins_outbox_oldest_pending_age_seconds", ()) in samples
    for queue in ("high", "default", "low"):
        assert ("medins_rq_queue_depth", (("queue", queue),)) in samples
        assert ("medins_rq_failed_jobs", (("queue", queue),)) in samples
    assert _value(samples, "medins_metrics_source_up", source="database") == 1
    assert _value(samples, "medins_metrics_source_up", source="redis") == 1


def test_metrics_still_answer_when_redis_is_down_and_say_which_source_failed(make_app):
    app = make_app()
    healthy_redis = app.extensions["redis"]
    app.extensions["redis"] = _BrokenRedis()
    try:
        samples = _scrape(app.test_client())
    finally:
        app.extensions["redis"] = healthy_redis
    assert _value(samples, "medins_metrics_source_up", source="redis") == 0
    assert _value(samples, "medins_metrics_source_up", source="database") == 1
    assert ("medins_outbox_pending", ()) in samples


def test_metrics_ask_for_the_token_when_one_is_configured(make_app):
    client = make_app(METRICS_TOKEN="scrape-me").test_client()
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused.json["errors"]["reason"] == "metrics_token_required"
    assert client.get("/metrics", headers={"Authorization": "Bearer scrape-me"}).status_code == 200


def test_rate_limit_refusals_are_counted_by_endpoint(make_app):
    client = make_app(CHAT_NLU_RATE_LIMIT="1/minute").test_client()
    before = _value(_scrape(client), "medins_rate_limit_refusals_total", endpoint="chat.Understand")
    statuses = [client.post("/api/v1/chat/nlu", json={"text": "余额"}).status_code for _ in range(3)]
    assert statuses.count(429) == 2
    after = _value(_scrape(client), "medins_rate_limit_refusals_total", endpoint="chat.Understand")
    assert after - before == 2


def test_chat_turns_are_counted_by_intent_and_fallback(client):
    before = _scrape(client)
    understood = client.post("/api/v1/chat/messages", json={"text": "你好"})
    assert understood.status_code == 200
    intent = understood.json["intent"]
    after = _scrape(client)
    labels = {"intent": intent, "fallback": "false" if intent not in (None, "out_of_scope") else "true"}
    assert _value(after, "medins_chat_turns_total", **labels) - _value(before, "medins_chat_turns_total", **labels) == 1
