"""Fixtures and helpers shared by the benefits tests (settlements, caps, statements, clearing, policy admin).

One database state per module: the tests stay independent by making their own people, and what the module wrote is
undone when it ends. Import the fixtures you use into the test module (pytest finds fixtures by name in the module).
"""

from __future__ import annotations

import itertools
import time

import pytest
from sqlalchemy import func, select

from backend.extensions import db
from backend.models import AccumulatorEntry, IndividualAccount, LedgerPosting, Settlement, SettlementRefund
from backend import demo
from tests.conftest import isolation, new_person, signed_request

# One state per module: seeding the demo staff for every test costs more than the tests.
# Tests stay independent by making their own people; what the module wrote is undone when it ends.

_serial = itertools.count(1)


@pytest.fixture(scope="module")
def app(request, shared_app):
    with isolation(shared_app, real_commits=request.node.get_closest_marker("real_commits") is not None):
        with shared_app.app_context():
            demo.seed_parties()
            yield shared_app
        shared_app.extensions["redis"].flushdb()


@pytest.fixture(autouse=True)
def fresh_session(app):
    yield
    db.session.remove()


@pytest.fixture
def make_person(app):
    """An insured person with an open account, new for every call (unique ID numbers across the module)."""
    return lambda **fields: new_person(next(_serial), **fields)


@pytest.fixture
def signed_post(client):
    def post(path, body, code="NX-T-001", **kwargs):
        return signed_request(client, path, body, code, **kwargs)

    return post


SETTLE = "/api/v1/institution/settlements"
VISIT_DAY = "2024-05-10"


def item(amount, in_scope=True, code="YP001", name="阿莫西林胶囊", **extra):
    return {"code": code, "name": name, "amount": amount, "in_scope": in_scope, **extra}


def body_for(person, *items, use_account=False, visit_date=VISIT_DAY, med_type="general", **extra):
    return {"id_number": person.id_number, "visit_date": visit_date, "med_type": med_type,
            "items": list(items) or [item("3000")], "use_account": use_account, **extra}


def yuan(value: float) -> str:
    return f"{value:.2f}"


def fen(value: float) -> int:
    return round(value * 100)


def balance(person) -> int:
    return db.session.scalar(select(IndividualAccount.balance_fen).where(IndividualAccount.person_id == person.id))


def written_rows() -> tuple[int, int, int, int]:
    return tuple(db.session.scalar(select(func.count()).select_from(model))
                 for model in (Settlement, AccumulatorEntry, LedgerPosting, SettlementRefund))


_EARLIER = itertools.count(60)


def later() -> int:
    """A timestamp a minute or more ago, never the same twice: the same body posted again needs a signature of its
    own (replays are refused), and a timestamp a second earlier could equal the first request's."""
    return int(time.time()) - next(_EARLIER) % 200
