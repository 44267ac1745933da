"""The ledger's invariants under any sequence of pay, refund, credit, grant, revoke and replay (DESIGN §2):
after every step each cached balance equals the sum of its journal entries and is never below zero, every posting
balances, and the money in the accounts is exactly what the steps put in and took out."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError

from backend.domain import ledger as rules
from backend.errors import Conflict
from backend.extensions import db
from backend.models import IndividualAccount, LedgerEntry, Settlement
from backend.models.settlements import AMOUNT_COLUMNS
from backend.services import accounts, credits, ledger, sharing
from tests.identities import id_number

TODAY = dt.date(2026, 11, 22)
SIGNED = case((LedgerEntry.side == "credit", LedgerEntry.amount_fen), else_=-LedgerEntry.amount_fen)
_settlement_ids = itertools.count(1)


def total_balance() -> int:
    return db.session.scalar(select(func.coalesce(func.sum(IndividualAccount.balance_fen), 0)))


@pytest.fixture
def machine(app, make_person):
    class LedgerMachine(RuleBasedStateMachine):
        """A retired father pays at the pharmacy with his own account and, when granted, his children's."""

        def __init__(self):
            super().__init__()
            self.father = make_person(id_number=id_number("19550101", male=True), name="父亲", person_type="retired",
                                      opening_balance_fen=2_000)
            self.children = {
                "son": make_person(id_number=id_number("19800101", male=True), name="儿子", opening_balance_fen=15_000,
                                   contribution_paid_through="2026-10"),
                "daughter": make_person(id_number=id_number("19820101", male=False), name="女儿",
                                        opening_balance_fen=8_000, contribution_paid_through="2026-10"),
            }
            self.active = {}  # child → active grant id
            self.expected = total_balance()
            self.payments = []  # [settlement id, own refundable, shared refundable]
            self.posted_payments = []  # (account id, settlement id, amount, role) for replays
            self.refunds = []  # (settlement id, refund key, own, shared) for replays
            self.periods = (f"{year}-{month:02d}" for year in (2024, 2025) for month in range(1, 13))
            self.credited = []

        @rule(amount=st.integers(min_value=1, max_value=30_000))
        def pay(self, amount):
            setl_id = f"ST-SM-{next(_settlement_ids)}"
            db.session.add(Settlement(
                id=setl_id, person_id=self.father.id, visit_date=TODAY, benefit_year=TODAY.year, med_type="general",
                policy_version_code="nx-2024-01", clearing_month="2026-11",
                **{column: 0 for column in AMOUNT_COLUMNS}))
            paid = accounts.pay_from_accounts(self.father.id, amount, setl_id)
            db.session.commit()
            assert paid.acct_pay + paid.acct_mulaid_pay + paid.cash == amount
            self.expected -= paid.acct_pay + paid.acct_mulaid_pay
            self.payments.append([setl_id, paid.acct_pay, paid.acct_mulaid_pay])
            own_account = accounts.of_person(self.father.id).id
            if paid.acct_pay:
                self.posted_payments.append((own_account, setl_id, paid.acct_pay, rules.PayerRole.OWN))

        @precondition(lambda self: any(own or shared for _, own, shared in self.payments))
        @rule(data=st.data())
        def refund(self, data):
            payment = data.draw(st.sampled_from([p for p in self.payments if p[1] or p[2]]))
            setl_id, own_left, shared_left = payment
            own = data.draw(st.integers(min_value=0, max_value=own_left))
            shared = data.draw(st.integers(min_value=0, max_value=shared_left))
            if own + shared == 0:
                return
            key = f"R{len(self.refunds) + 1}"
            accounts.refund_to_accounts(setl_id, key, own, shared)
            db.session.commit()
            payment[1], payment[2] = own_left - own, shared_left - shared
            self.expected += own + shared
            self.refunds.append((setl_id, key, own, shared))

        @rule()
        def credit(self):
            period = next(self.periods, None)
            if period is None:
                return
            report = credits.allocate(period, today=TODAY)
            self.expected += report.monthly_fen + report.lump_fen
            self.credited.append(period)

        @rule(child=st.sampled_from(["son", "daughter"]))
        def grant(self, child):
            owner = self.children[child]
            arguments = dict(relative_name=self.father.name, relative_id_number=self.father.id_number,
                             relation="father", promise_accepted=True, channel="wechat")
            if child in self.active:
                with pytest.raises(Conflict):
                    sharing.grant(owner.id, **arguments)
                db.session.rollback()
                return
            self.active[child] = sharing.grant(owner.id, **arguments).id

        @precondition(lambda self: self.active)
        @rule(data=st.data())
        def revoke(self, data):
            child = data.draw(st.sampled_from(sorted(self.active)))
            sharing.revoke(self.children[child].id, self.active.pop(child), channel="alipay")

        @rule(data=st.data())
        def replay(self, data):
            """The same business event again: a credit already made changes nothing; a payment or refund already
            posted is refused and leaves nothing behind."""
            choices = [kind for kind, done in (("credit", self.credited), ("payment", self.posted_payments),
                                              ("refund", self.refunds)) if done]
            if not choices:
                return
            kind = data.draw(st.sampled_from(choices))
            before = total_balance()
            if kind == "credit":
                report = credits.allocate(data.draw(st.sampled_from(self.credited)), today=TODAY)
                assert (report.monthly_credits, report.lump_credits) == (0, 0)
            else:
                with pytest.raises((IntegrityError, ValueError, Conflict)):
                    if kind == "payment":
                        account_id, setl_id, amount, role = data.draw(st.sampled_from(self.posted_payments))
                        ledger.post(rules.account_payment(account_id, setl_id, amount, role))
                        db.session.flush()
                    else:
                        accounts.refund_to_accounts(*data.draw(st.sampled_from(self.refunds)))
                db.session.rollback()
            assert total_balance() == before

        @invariant()
        def balances_equal_the_journal_and_are_never_negative(self):
            rows = db.session.execute(
                select(IndividualAccount.id, IndividualAccount.balance_fen, func.coalesce(func.sum(SIGNED), 0))
                .outerjoin(LedgerEntry, LedgerEntry.individual_account_id == IndividualAccount.id)
                .group_by(IndividualAccount.id, IndividualAccount.balance_fen)).all()
            for account_id, balance, journal in rows:
                assert balance == journal >= 0, f"account {account_id}: cached {balance}, journal {journal}"

        @invariant()
        def every_posting_balances(self):
            debit_minus_credit = case((LedgerEntry.side == "debit", LedgerEntry.amount_fen),
                                      else_=-LedgerEntry.amount_fen)
            unbalanced = db.session.scalars(select(LedgerEntry.posting_id).group_by(LedgerEntry.posting_id)
                                            .having(func.sum(debit_minus_credit) != 0)).all()
            assert unbalanced == []

        @invariant()
        def the_money_is_what_the_steps_moved(self):
            assert total_balance() == self.expected

    return LedgerMachine


def test_the_ledger_invariants_hold_under_any_sequence_of_operations(machine):
    run_state_machine_as_test(machine, settings=settings(
        max_examples=12, stateful_step_count=15, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]))
