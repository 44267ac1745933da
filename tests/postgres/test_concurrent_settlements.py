"""Real concurrency on PostgreSQL: two settlements for one person never both spend the last of a cap."""

from __future__ import annotations

import os
import time

import pytest
from sqlalchemy import func, select

from backend.extensions import db
from backend.models import AccumulatorEntry, Institution, Settlement
from backend.services import benefits, settlements
from tests.benefits_fixtures import app, body_for, fen, fresh_session, item, make_person  # noqa: F401
from tests.conftest import run_together

pytestmark = [pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL (TEST_DATABASE_URL)"),
              pytest.mark.real_commits]


@pytest.fixture
def slow_engine_input(monkeypatch):
    """Widen the window between reading the accumulators and writing the settlement, so that without the lock
    both settlements would read the same remaining cap."""
    snapshot = benefits.person_snapshot

    def slowly(*args, **kwargs):
        time.sleep(0.3)
        return snapshot(*args, **kwargs)

    monkeypatch.setattr(settlements, "person_snapshot", slowly)


def test_two_concurrent_settlements_share_the_last_of_the_cap_instead_of_both_spending_it(app, make_person,
                                                                                         slow_engine_input):
    person = make_person(region="nm")
    hospital_id = db.session.scalar(select(Institution.id).where(Institution.code == "NM-T-001"))
    # (7500 − 1000) × 60 % = 3900 of the 4000 cap (NM §8): 100 is left.
    settlements.settle_direct(db.session.get(Institution, hospital_id), body_for(person, item("7500")))
    bodies = {order_no: body_for(person, item("1000"), order_no=order_no) for order_no in ("C-1", "C-2")}
    db.session.remove()

    def settle(order_no):
        return lambda: settlements.settle_direct(db.session.get(Institution, hospital_id), bodies[order_no])

    results = run_together(app, settle("C-1"), settle("C-2"))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(r["hifp_pay"] for r in results) == ["0.00", "100.00"]  # each alone would have paid 600
    assert benefits.year_to_date(person.id, 2024)["general_fund"] == fen(4000)
    assert db.session.scalar(select(func.sum(AccumulatorEntry.delta_fen)).where(
        AccumulatorEntry.person_id == person.id, AccumulatorEntry.bucket == "general_fund")) == fen(4000)


def test_the_same_order_number_posted_twice_at_once_settles_once(app, make_person):
    person = make_person(region="nm", opening_balance_fen=fen(5000))
    hospital_id = db.session.scalar(select(Institution.id).where(Institution.code == "NM-T-001"))
    body = body_for(person, item("3000"), use_account=True, order_no="C-SAME")

    def settle():
        return settlements.settle_direct(db.session.get(Institution, hospital_id), body)

    first, second = run_together(app, settle, settle)
    assert not isinstance(first, Exception) and not isinstance(second, Exception), (first, second)
    assert first == second
    assert db.session.scalar(select(func.count()).where(Settlement.person_id == person.id)) == 1
    assert benefits.year_to_date(person.id, 2024)["general_fund"] == fen(1200)
