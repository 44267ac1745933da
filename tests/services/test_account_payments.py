"""Paying a person's share from accounts: own first, then authorisers in grant order; refunds go back."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from backend.errors import Conflict
from backend.extensions import db
from backend.models import IndividualAccount, LedgerEntry, LedgerPosting, SharingGrant, new_public_id, utcnow
from backend.models.settlements import AMOUNT_COLUMNS, Settlement
from backend.services import accounts


@pytest.fixture
def family(make_person):
    relative = make_person(name="父亲", person_type="retired", opening_balance_fen=3000)
    first_owner = make_person(name="儿子", opening_balance_fen=5000)
    second_owner = make_person(name="女儿", opening_balance_fen=10000)
    now = utcnow()
    for offset, owner in enumerate((first_owner, second_owner)):
        db.session.add(SharingGrant(
            id=new_public_id("G"), owner_person_id=owner.id, relative_person_id=relative.id, relation="father",
            channel="wechat", policy_version_code="nx-2023-08", promise_text_version="v1",
            promise_accepted_at=now, granted_at=now + dt.timedelta(seconds=offset)))
    db.session.commit()
    return relative, first_owner, second_owner


@pytest.fixture
def settlement(family):
    """Settlement rows the payments hang on (the amounts are the settlement service's business, not tested here)."""

    def create(setl_id: str):
        db.session.add(Settlement(
            id=setl_id, person_id=family[0].id, visit_date=dt.date(2026, 3, 1), benefit_year=2026,
            med_type="general", policy_version_code="nx-2024-01", clearing_month="2026-03",
            **{column: 0 for column in AMOUNT_COLUMNS}))
        db.session.flush()
        return setl_id

    return create


def balance(person) -> int:
    return accounts.of_person(person.id).balance_fen


def test_own_account_first_then_authorisers_in_grant_order_then_cash(family, settlement):
    relative, first_owner, second_owner = family
    paid = accounts.pay_from_accounts(relative.id, 20000, settlement("ST-1"))
    db.session.commit()
    assert (paid.acct_pay, paid.acct_mulaid_pay, paid.cash) == (3000, 15000, 2000)
    assert (balance(relative), balance(first_owner), balance(second_owner)) == (0, 0, 0)
    assert paid.balance_after == 0


def test_a_revoked_grant_is_not_used_by_the_very_next_payment(family, settlement):
    relative, first_owner, second_owner = family
    grant = db.session.scalar(select(SharingGrant).where(SharingGrant.owner_person_id == first_owner.id))
    grant.status, grant.revoked_at = "revoked", utcnow()
    db.session.commit()
    paid = accounts.pay_from_accounts(relative.id, 9000, settlement("ST-2"))
    db.session.commit()
    assert (paid.acct_pay, paid.acct_mulaid_pay, paid.cash) == (3000, 6000, 0)
    assert balance(first_owner) == 5000 and balance(second_owner) == 4000


def test_sharing_can_be_left_out_for_a_visit_outside_the_region(family, settlement):
    relative, *_ = family
    paid = accounts.pay_from_accounts(relative.id, 9000, settlement("ST-3"), allow_sharing=False)
    assert (paid.acct_pay, paid.acct_mulaid_pay, paid.cash) == (3000, 0, 6000)


def test_every_posting_balances_and_cached_balances_equal_the_journal(family, settlement):
    relative, *_ = family
    accounts.pay_from_accounts(relative.id, 12345, settlement("ST-4"))
    db.session.commit()
    for account in db.session.scalars(select(IndividualAccount)):
        credits = db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_fen), 0)).where(
            LedgerEntry.individual_account_id == account.id, LedgerEntry.side == "credit"))
        debits = db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_fen), 0)).where(
            LedgerEntry.individual_account_id == account.id, LedgerEntry.side == "debit"))
        assert account.balance_fen == credits - debits >= 0
    for posting in db.session.scalars(select(LedgerPosting)):
        sides = {"debit": 0, "credit": 0}
        for entry in posting.entries:
            sides[entry.side] += entry.amount_fen
        assert sides["debit"] == sides["credit"]


def test_a_refund_returns_shared_money_to_the_last_account_drawn_first(family, settlement):
    relative, first_owner, second_owner = family
    accounts.pay_from_accounts(relative.id, 20000, settlement("ST-5"))
    db.session.commit()
    accounts.refund_to_accounts("ST-5", "R1", own_amount=1000, shared_amount=12000)
    db.session.commit()
    assert balance(relative) == 1000
    assert balance(second_owner) == 10000  # drawn last, refunded first
    assert balance(first_owner) == 2000
    with pytest.raises(ValueError):
        accounts.refund_to_accounts("ST-5", "R2", own_amount=2001, shared_amount=0)


def test_an_overdraft_through_the_ledger_is_refused_and_writes_nothing(family, settlement):
    from backend.domain import ledger as rules
    from backend.services import ledger

    relative, *_ = family
    account = accounts.of_person(relative.id)
    with pytest.raises(Conflict) as refused:
        ledger.post(rules.account_payment(account.id, settlement("ST-6"), 3001, "own"))
    assert refused.value.reason == "insufficient_balance"
    db.session.rollback()
    assert balance(relative) == 3000
    assert db.session.scalar(select(func.count()).select_from(LedgerPosting).where(
        LedgerPosting.settlement_id == "ST-6")) == 0
