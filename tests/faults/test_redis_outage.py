"""Redis stopped and started again (a redis-server this test owns): what does not need Redis keeps working, what
does answers 503 with Retry-After, writes keep their outbox rows, and once Redis is back the periodic drain and a
worker complete every queued job exactly once."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from rq import SimpleWorker
from sqlalchemy import func, select

from backend.extensions import db
from backend.models import Institution, Notification, OutboxMessage
from backend.services import outbox
from tests.conftest import new_person, signed_request
from tests.faults.servers import redis_server  # noqa: F401  (fixture)
from tests.ledger_invariants import assert_ledger_invariants

# Other processes (a worker) and other connections see what the test wrote: real commits, tables emptied after.
pytestmark = pytest.mark.real_commits


@pytest.fixture
def outage_app(redis_server, make_app):  # noqa: F811  (Redis first: it must outlive the app's clean-up)
    app = make_app(REDIS_URL=redis_server.url, RATELIMIT_STORAGE_URI=redis_server.url, JOBS_SYNCHRONOUS=False)
    with app.app_context():
        from backend import demo

        demo.seed_parties()
        yield app


def pending_outbox() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.dispatched_at.is_(None)))


def settle_body(person, order_no: str) -> dict:
    return {"id_number": person.id_number, "visit_date": dt.date.today().isoformat(), "med_type": "general",
            "items": [{"code": "YP001", "name": "阿莫西林胶囊", "amount": "300.00", "in_scope": True}],
            "use_account": True, "order_no": order_no}


def test_redis_down_then_back(outage_app, redis_server):  # noqa: F811
    client = outage_app.test_client()
    person = new_person(9001, opening_balance_fen=100_000)
    person_id = person.id
    bearer = {"Authorization": "Bearer " + client.post("/api/v1/auth/dev-login",
                                                       json={"id_number": person.id_number}).json["access_token"]}
    settled = signed_request(client, "/api/v1/institution/settlements", settle_body(person, "R-1"))
    assert settled.status_code == 201, settled.json

    redis_server.stop()
    # Needs no Redis: a settlement commits, a contribution commits with its outbox row, staff sign in.
    again = signed_request(client, "/api/v1/institution/settlements", settle_body(person, "R-2"))
    assert again.status_code == 201, again.json
    paid = client.post("/api/v1/account/contributions", headers=bearer,
                       json={"kind": "long_term_care", "amount": "20.00"})
    assert paid.status_code == 201, paid.json
    staff = client.post("/api/v1/staff/auth/login", json={"username": "admin1", "password": "demo-admin1"})
    assert staff.status_code == 200, staff.json
    statement = client.get(f"/api/v1/settlements/{settled.json['setl_id']}/statement.pdf", headers=bearer)
    assert statement.status_code == 202
    # Needs Redis: the chat's dialogue state. 503, the error shape, Retry-After.
    chat = client.post("/api/v1/chat/messages", headers=bearer, json={"text": "我的余额是多少"})
    assert chat.status_code == 503 and chat.json["errors"]["reason"] == "redis_unavailable"
    assert int(chat.headers["Retry-After"]) > 0
    assert client.get("/healthz").status_code == 503
    queued = pending_outbox()
    assert queued >= 2  # the contribution's notification and the statement, kept for later

    redis_server.start()
    assert outbox.drain() == queued  # what the periodic drain_outbox job does, every 15 seconds
    SimpleWorker(["high", "default", "low"], connection=outage_app.extensions["redis"]).work(burst=True)
    assert pending_outbox() == 0 and outbox.drain() == 0  # nothing left, nothing sent twice
    assert db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.person_id == person_id, Notification.kind == "account_contribution")) == 1
    ready = client.get(f"/api/v1/settlements/{settled.json['setl_id']}/statement.pdf", headers=bearer)
    assert ready.status_code == 200 and ready.data.startswith(b"%PDF")
    assert client.get("/healthz").status_code == 200
    assert_ledger_invariants()
