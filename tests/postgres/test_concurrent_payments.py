"""Many threads paying from one account at once, on PostgreSQL (SQLite serialises writers, so it cannot race):
no overdraft, no lost posting, no deadlock between a relative's shared payment and the owners' own."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import case, func, select

from backend.domain import ledger as rules
from backend.errors import Conflict
from backend.extensions import db
from backend.models import (
    IndividualAccount, LedgerEntry, LedgerPosting, Settlement, SharingGrant, new_public_id, utcnow,
)
from backend.models.settlements import AMOUNT_COLUMNS
from backend.services import accounts, ledger
from tests.conftest import POSTGRES, run_together

pytestmark = [pytest.mark.skipif(not POSTGRES, reason="needs TEST_DATABASE_URL: real concurrency needs PostgreSQL"),
              pytest.mark.real_commits]

THREADS = 20
PRICE = 700  # fen per payment; 20 × 7 yuan asks for more than the 100 yuan in the account


def settlements_for(person, count: int, prefix: str) -> list[str]:
    ids = [f"{prefix}-{i}" for i in range(count)]
    for setl_id in ids:
        db.session.add(Settlement(
            id=setl_id, person_id=person.id, visit_date=dt.date(2026, 3, 1), benefit_year=2026, med_type="general",
            policy_version_code="nx-2024-01", clearing_month="2026-03", **{c: 0 for c in AMOUNT_COLUMNS}))
    db.session.commit()
    return ids


def run_at_once(app, work, items) -> tuple[list, list[Exception]]:
    """``work(item)`` committed in one thread per item, all at once: (results, exceptions)."""

    def committed(item):
        def call():
            outcome = work(item)
            db.session.commit()
            return outcome

        return call

    outcomes = run_together(app, *(committed(item) for item in items))
    return ([o for o in outcomes if not isinstance(o, Exception)],
            [o for o in outcomes if isinstance(o, Exception)])


def journal_balance(account_id: int) -> int:
    signed = case((LedgerEntry.side == "credit", LedgerEntry.amount_fen), else_=-LedgerEntry.amount_fen)
    return db.session.scalar(select(func.coalesce(func.sum(signed), 0))
                             .where(LedgerEntry.individual_account_id == account_id))


def test_concurrent_settlement_payments_spend_the_balance_exactly_once(app, make_person):
    payer = make_person(opening_balance_fen=10_000)
    payer_id = payer.id  # plain ids only: ORM objects belong to this thread's session
    ids = settlements_for(payer, THREADS, "ST-RACE")
    paid, errors = run_at_once(app, lambda setl_id: accounts.pay_from_accounts(payer_id, PRICE, setl_id), ids)
    assert errors == []
    db.session.expire_all()
    account = accounts.of_person(payer.id)
    # Every fen of the 100 yuan was spent, none twice: 14 payments of 7 yuan, one of 2 yuan, the rest in cash.
    assert sum(p.acct_pay for p in paid) == 10_000
    assert sum(p.cash for p in paid) == THREADS * PRICE - 10_000
    assert account.balance_fen == journal_balance(account.id) == 0
    postings = db.session.scalar(select(func.count()).select_from(LedgerPosting)
                                 .where(LedgerPosting.kind == "account_payment"))
    assert postings == len([p for p in paid if p.acct_pay])


def test_the_guarded_update_refuses_overdrafts_and_writes_nothing_for_them(app, make_person):
    payer = make_person(opening_balance_fen=10_000)
    account_id = accounts.of_person(payer.id).id
    ids = settlements_for(payer, THREADS, "ST-GUARD")
    posted, errors = run_at_once(
        app, lambda setl_id: ledger.post(rules.account_payment(account_id, setl_id, PRICE, "own")).id, ids)
    assert len(posted) == 10_000 // PRICE  # 14 fit, the 15th would go below zero
    assert all(isinstance(e, Conflict) and e.reason == "insufficient_balance" for e in errors)
    assert len(errors) == THREADS - len(posted)
    db.session.expire_all()
    assert db.session.get(IndividualAccount, account_id).balance_fen == journal_balance(account_id) == 10_000 - len(
        posted) * PRICE


def test_a_relatives_shared_payments_and_the_owners_own_payments_race_without_deadlock_or_overdraft(
        app, make_person):
    father = make_person(name="父亲", person_type="retired", opening_balance_fen=1_000)
    son = make_person(name="儿子", opening_balance_fen=6_000)
    daughter = make_person(name="女儿", opening_balance_fen=6_000)
    for offset, owner in enumerate((son, daughter)):
        db.session.add(SharingGrant(
            id=new_public_id("SG"), owner_person_id=owner.id, relative_person_id=father.id, relation="father",
            channel="app", policy_version_code="nx-2024-01", promise_text_version="nx-2024-01/1",
            promise_accepted_at=utcnow(), granted_at=utcnow() + dt.timedelta(seconds=offset)))
    db.session.commit()
    work = ([(father.id, setl_id) for setl_id in settlements_for(father, 10, "ST-F")]
            + [(son.id, setl_id) for setl_id in settlements_for(son, 5, "ST-S")]
            + [(daughter.id, setl_id) for setl_id in settlements_for(daughter, 5, "ST-D")])
    paid, errors = run_at_once(app, lambda item: accounts.pay_from_accounts(item[0], PRICE, item[1]), work)
    assert errors == []
    db.session.expire_all()
    assert sum(p.acct_pay + p.acct_mulaid_pay + p.cash for p in paid) == len(work) * PRICE
    left = 0
    for person in (father, son, daughter):
        account = accounts.of_person(person.id)
        assert account.balance_fen == journal_balance(account.id) >= 0
        left += account.balance_fen
    # Whatever the order, every fen paid came out of exactly one account, and none was created or lost.
    assert sum(p.acct_pay + p.acct_mulaid_pay for p in paid) == 13_000 - left
    assert accounts.of_person(father.id).balance_fen == 0  # he paid first with his own, always
