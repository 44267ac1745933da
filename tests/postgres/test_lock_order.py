"""The races of issue 12 on PostgreSQL: every use case touching a person's money takes its locks in one order
(backend.services.locks), so mixes of them finish without a deadlock; business-key races answer 409; a revoke and a
payment in flight keep the documented guarantee (docs/reliability.md). Waits are observed in pg_stat_activity,
never slept on."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import create_engine, func, select, text

from backend.errors import AppError
from backend.extensions import db
from backend.models import IndividualAccount, Institution, LedgerPosting, SharingGrant, StaffUser, new_public_id, utcnow
from backend.services import accounts, settlements, sharing
from tests.benefits_fixtures import app, body_for, fen, fresh_session, item, make_person  # noqa: F401
from tests.conftest import POSTGRES, run_together
from tests.ledger_invariants import assert_ledger_invariants

pytestmark = [pytest.mark.skipif(not POSTGRES, reason="needs TEST_DATABASE_URL: real concurrency needs PostgreSQL"),
              pytest.mark.real_commits]

ROUNDS = 12


def institution_id(code: str = "NX-T-001") -> int:
    return db.session.scalar(select(Institution.id).where(Institution.code == code))


def settle_call(hospital_id: int, body: dict):
    return lambda: settlements.settle_direct(db.session.get(Institution, hospital_id), body)


def unexpected(results) -> list:
    """Anything but a result or a client-facing AppError: a deadlock or any other 500 would show up here."""
    return [r for r in results if isinstance(r, Exception) and not isinstance(r, AppError)]


def test_contributions_beside_settlements_for_one_person_never_deadlock(app, make_person):
    person = make_person(opening_balance_fen=fen(10_000))
    hospital = institution_id()
    settles = [settle_call(hospital, body_for(person, item("300"), use_account=True, order_no=f"MIX-{i}"))
               for i in range(ROUNDS)]
    contributes = [(lambda year: lambda: accounts.pay_contribution(person.id, kind="long_term_care",
                                                                   amount_fen=fen(10), year=year))(2000 + i)
                   for i in range(ROUNDS)]
    db.session.remove()
    results = run_together(app, *[call for pair in zip(settles, contributes) for call in pair])
    assert unexpected(results) == []
    assert [r for r in results if isinstance(r, Exception)] == []
    assert db.session.scalar(select(func.count()).select_from(LedgerPosting)
                             .where(LedgerPosting.actor_person_id == person.id,
                                    LedgerPosting.kind == "ltc_contribution")) == ROUNDS
    assert_ledger_invariants(db.session)


def test_a_transfer_out_beside_settlements_moves_what_is_left_and_nothing_fails(app, make_person):
    person = make_person(opening_balance_fen=fen(5_000))
    relative = make_person(opening_balance_fen=fen(100))
    sharing_grant(owner=person, relative=relative)
    staff_id = db.session.scalar(select(StaffUser.id).limit(1))
    hospital = institution_id()
    calls = [settle_call(hospital, body_for(who, item("300"), use_account=True, order_no=f"TO-{i}"))
             for i, who in enumerate([person, relative] * 4)]
    calls.insert(3, lambda: accounts.transfer_out(person.id, staff_id=staff_id, destination="甘肃省"))
    db.session.remove()
    results = run_together(app, *calls)
    assert unexpected(results) == [] and [r for r in results if isinstance(r, Exception)] == []
    account = accounts.of_person(person.id)
    assert account.status == "closed" and account.balance_fen == 0
    assert db.session.get(SharingGrant, _grant_of(person)).status != "active"
    assert_ledger_invariants(db.session)


def test_parallel_contributions_of_one_kind_and_year_pay_once_and_the_rest_answer_409(app, make_person):
    person = make_person(opening_balance_fen=fen(1_000))
    from tests.conftest import new_person  # noqa: F401  (the person exists; tokens come from dev-login)

    client = app.test_client()
    token = client.post("/api/v1/auth/dev-login", json={"id_number": person.id_number}).json["access_token"]

    def contribute(key: str):
        def call():
            response = app.test_client().post(
                "/api/v1/account/contributions", json={"kind": "long_term_care", "amount": "50.00", "year": 2026},
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key})
            return response.status_code, response.json["errors"]["reason"] if response.status_code >= 400 else None
        return call

    db.session.remove()
    results = run_together(app, *[contribute(f"key-{i}") for i in range(10)])
    assert sorted(results, key=str) == sorted([(201, None)] + [(409, "contribution_already_paid")] * 9, key=str)
    assert accounts.of_person(person.id).balance_fen == fen(950)
    assert_ledger_invariants(db.session)


# --- family payment vs revoke -------------------------------------------------------------------------------------

def sharing_grant(owner, relative) -> str:
    grant = SharingGrant(id=new_public_id("SG"), owner_person_id=owner.id, relative_person_id=relative.id,
                         relation="spouse", channel="app", policy_version_code="nx-2024-01",
                         promise_text_version="nx-2024-01/1", promise_accepted_at=utcnow(), granted_at=utcnow())
    db.session.add(grant)
    db.session.commit()
    return grant.id


def _grant_of(owner) -> str:
    return db.session.scalar(select(SharingGrant.id).where(SharingGrant.owner_person_id == owner.id))


class Observer:
    """A separate connection that watches the other sessions: who is waiting for a lock, and holding a table."""

    def __init__(self, url):
        self.engine = create_engine(url, isolation_level="AUTOCOMMIT")

    def wait_until_lock_waiters(self, count: int, deadline_seconds: float = 20.0) -> None:
        stop = time.monotonic() + deadline_seconds  # a bound on a broken run, not a timing assumption
        with self.engine.connect() as connection:
            while time.monotonic() < stop:
                waiting = connection.scalar(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"))
                if waiting >= count:
                    return
        raise AssertionError(f"never saw {count} session(s) waiting for a lock")


def start(target, results, key):
    def run():
        with app_ref[0].app_context():
            try:
                results[key] = target()
            except Exception as exc:  # reported to the test
                results[key] = exc
            finally:
                db.session.remove()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


app_ref: list = []


def test_a_revoke_waits_for_the_payment_in_flight_then_no_later_payment_draws_on_the_grant(app, make_person):
    app_ref[:] = [app]
    owner, relative = make_person(opening_balance_fen=fen(500)), make_person(opening_balance_fen=0)
    grant_id = sharing_grant(owner, relative)
    ids = settlements_for_payments(relative, 2)
    owner_id, relative_id = owner.id, relative.id  # plain ids: the threads have sessions of their own
    db.session.remove()
    observer, results = Observer(db.engine.url.render_as_string(False)), {}
    locked, release = threading.Event(), threading.Event()

    def payment_held_open():
        try:
            payment = accounts.pay_from_accounts(relative_id, fen(100), ids[0])
        finally:
            locked.set()
        release.wait(30)
        db.session.commit()
        return payment

    paying = start(payment_held_open, results, "payment")
    assert locked.wait(30) and "payment" not in results, results
    revoking = start(lambda: sharing.revoke(owner_id, grant_id, channel="app").status, results, "revoke")
    observer.wait_until_lock_waiters(1)
    assert "revoke" not in results  # the owner is not told "revoked" while the payment is in flight
    release.set()
    paying.join(30), revoking.join(30)
    assert results["payment"].acct_mulaid_pay == fen(100) and results["revoke"] == "revoked"
    later = accounts.pay_from_accounts(relative_id, fen(100), ids[1])
    db.session.commit()
    assert later.acct_mulaid_pay == 0 and later.cash == fen(100)
    assert accounts.of_person(owner_id).balance_fen == fen(400)


def test_a_payment_that_read_the_grant_before_the_revoke_committed_does_not_draw_on_it(app, make_person):
    app_ref[:] = [app]
    owner, relative = make_person(opening_balance_fen=fen(500)), make_person(opening_balance_fen=0)
    grant_id = sharing_grant(owner, relative)
    (setl_id,) = settlements_for_payments(relative, 1)
    owner_id, relative_id = owner.id, relative.id
    db.session.remove()
    observer, results = Observer(db.engine.url.render_as_string(False)), {}
    # Hold the revoke after it has locked the grant and the account: its audit insert waits for this table lock.
    with observer.engine.connect() as holder:
        holder.execute(text("BEGIN"))
        holder.execute(text("LOCK TABLE audit_log IN SHARE MODE"))
        revoking = start(lambda: sharing.revoke(owner_id, grant_id, channel="app").status, results, "revoke")
        observer.wait_until_lock_waiters(1)

        def payment():
            paid = accounts.pay_from_accounts(relative_id, fen(100), setl_id)
            db.session.commit()
            return paid

        paying = start(payment, results, "payment")
        observer.wait_until_lock_waiters(2)  # the payment read the grant as active and now waits for the account
        holder.execute(text("COMMIT"))
    revoking.join(30), paying.join(30)
    assert results["revoke"] == "revoked"
    assert results["payment"].acct_mulaid_pay == 0 and results["payment"].cash == fen(100)
    assert accounts.of_person(owner_id).balance_fen == fen(500)


def settlements_for_payments(person, count: int) -> list[str]:
    from tests.postgres.test_concurrent_payments import settlements_for

    return settlements_for(person, count, f"ST-RV-{person.id}")
