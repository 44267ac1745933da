"""A settlement seen end to end by an operator: counted by institution and outcome, its log lines — the request's and
those of the jobs it started — all carrying one request id."""

from __future__ import annotations

import logging
import time

from prometheus_client import REGISTRY


SETTLE = "/api/v1/institution/settlements"


def _count(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _body(person, **extra):
    return {"id_number": person.id_number, "visit_date": "2024-05-10", "med_type": "general",
            "items": [{"code": "YP001", "name": "阿莫西林胶囊", "amount": "300.00", "in_scope": True}],
            "use_account": True, **extra}


def test_settlements_and_refunds_are_counted_by_institution_and_outcome(signed_post, make_person):
    person = make_person()
    counted = {
        "settled": ("medins_settlements_total", "NX-T-001", "settled"),
        "replayed": ("medins_settlements_total", "NX-T-001", "replayed"),
        "refused": ("medins_settlements_total", "NX-T-001", "refused"),
        "unverified": ("medins_settlements_total", "unverified", "unauthenticated"),
        "refunded": ("medins_refunds_total", "NX-T-001", "refunded"),
    }
    before = {key: _count(name, institution=code, outcome=outcome) for key, (name, code, outcome) in counted.items()}

    first = signed_post(SETTLE, _body(person, order_no="OBS-1"))
    again = signed_post(SETTLE, _body(person, order_no="OBS-1"), timestamp=int(time.time()) - 90)  # a signature of its own
    signed_post(SETTLE, _body(person, visit_date="not-a-date"))
    signed_post(SETTLE, _body(person), secret="wrong-secret")
    refund = signed_post(f"{SETTLE}/{first.json['setl_id']}/refund", {"refund_no": "OBS-R1"})

    assert (first.status_code, again.status_code, refund.status_code) == (201, 200, 201)
    after = {key: _count(name, institution=code, outcome=outcome) for key, (name, code, outcome) in counted.items()}
    assert {key: after[key] - before[key] for key in counted} == {
        "settled": 1, "replayed": 1, "refused": 1, "unverified": 1, "refunded": 1}


def test_one_request_id_runs_through_the_settlements_log_lines(signed_post, make_person, caplog):
    person = make_person()
    with caplog.at_level(logging.INFO):
        response = signed_post(SETTLE, _body(person, order_no="OBS-2"), headers={"X-Request-ID": "settle-trace-1"})
    assert response.status_code == 201
    assert response.headers["X-Request-ID"] == "settle-trace-1"
    traced = _records_of(caplog, "settle-trace-1")
    access = next(record for record in traced if record.name == "medins.access")
    assert (access.endpoint, access.status) == ("institution_settlements.Settlements", 201)
    business = next(record for record in traced if record.name == "medins.institutions")
    assert (business.event, business.outcome, business.institution) == ("settlement", "settled", "NX-T-001")
    assert business.setl_id == response.json["setl_id"]


def test_the_job_a_request_starts_logs_under_that_requests_id(signed_post, make_person, client, person_headers, caplog):
    person = make_person()
    setl_id = signed_post(SETTLE, _body(person, order_no="OBS-3")).json["setl_id"]
    with caplog.at_level(logging.INFO):
        statement = client.get(f"/api/v1/settlements/{setl_id}/statement.pdf",
                               headers={**person_headers(person), "X-Request-ID": "statement-trace-1"})
    assert statement.status_code == 200  # embedded mode: the job ran inline, within the request
    jobs = [record for record in _records_of(caplog, "statement-trace-1") if record.name == "backend.jobs.runner"]
    assert {record.getMessage() for record in jobs} >= {"job render_statement started", "job render_statement done"}


def _records_of(caplog, request_id: str) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.request_id == request_id]
