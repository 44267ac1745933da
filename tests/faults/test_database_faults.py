"""PostgreSQL connections killed (pg_terminate_backend on this test's own database): a connection that died while
idle in the pool is replaced before the transaction begins (the request succeeds); one killed mid-request answers
503 with Retry-After and leaves nothing half-written; the same request sent again succeeds."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlalchemy import create_engine, event, func, select, text

from backend.extensions import db
from backend.models import LedgerPosting, Settlement
from backend.services import accounts
from tests.conftest import POSTGRES, new_person, signed_request
from tests.ledger_invariants import assert_ledger_invariants

pytestmark = [pytest.mark.skipif(not POSTGRES, reason="needs TEST_DATABASE_URL: kills PostgreSQL backends"),
              pytest.mark.real_commits]


@pytest.fixture
def killer(app):
    """Terminates backends of this database from a connection of its own."""
    engine = create_engine(db.engine.url.render_as_string(False), isolation_level="AUTOCOMMIT")

    def kill(pid: int | None = None) -> int:
        with engine.connect() as connection:
            condition = "pid = :pid" if pid else "pid <> pg_backend_pid()"
            return connection.execute(text(
                f"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                f"WHERE datname = current_database() AND {condition}"), {"pid": pid}).scalar()

    yield kill
    engine.dispose()


def settle_body(person, order_no: str) -> dict:
    return {"id_number": person.id_number, "visit_date": dt.date.today().isoformat(), "med_type": "general",
            "items": [{"code": "YP001", "name": "阿莫西林胶囊", "amount": "300.00", "in_scope": True}],
            "use_account": True, "order_no": order_no}


def test_connections_killed_while_idle_are_replaced_before_the_transaction(app, client, demo_parties, killer):
    person = new_person(9101, opening_balance_fen=50_000)
    db.session.remove()
    assert killer() >= 1  # every pooled connection of the app is dead now
    response = signed_request(client, "/api/v1/institution/settlements", settle_body(person, "K-IDLE"))
    assert response.status_code == 201, response.json


def test_a_connection_killed_mid_request_answers_503_and_writes_nothing(app, client, demo_parties, killer):
    person = new_person(9102, opening_balance_fen=50_000)
    person_id, balance_before = person.id, accounts.of_person(person.id).balance_fen
    db.session.remove()

    def kill_at_the_first_posting(connection, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("INSERT INTO LEDGER_POSTINGS"):
            event.remove(db.engine, "before_cursor_execute", kill_at_the_first_posting)
            killer(connection.connection.dbapi_connection.info.backend_pid)

    event.listen(db.engine, "before_cursor_execute", kill_at_the_first_posting)
    body, stamp = settle_body(person, "K-MID"), int(time.time())
    response = signed_request(client, "/api/v1/institution/settlements", body, timestamp=stamp)
    assert response.status_code == 503, response.json
    assert response.json["errors"]["reason"] == "database_unavailable" and int(response.headers["Retry-After"]) > 0
    db.session.remove()
    # Nothing half-written: no settlement, no posting, the balance as it was.
    assert db.session.scalar(select(func.count()).select_from(Settlement).where(Settlement.person_id == person_id)) == 0
    assert db.session.scalar(select(func.count()).select_from(LedgerPosting)
                             .where(LedgerPosting.kind == "account_payment")) == 0
    assert accounts.of_person(person_id).balance_fen == balance_before
    # A vendor retries by signing again: the same signature a second time is a replay, whatever came of the first.
    retried = signed_request(client, "/api/v1/institution/settlements", body, timestamp=stamp + 1)
    assert retried.status_code == 201, retried.json
    assert_ledger_invariants()
