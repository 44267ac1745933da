"""Individual accounts (个人账户): opening, balances. Uses, credits and sharing build on the ledger service."""

from __future__ import annotations

from sqlalchemy import select

from backend.domain import ledger as rules
from backend.extensions import db
from backend.models import IndividualAccount, Person
from backend.services import ledger


def of_person(person_id: int) -> IndividualAccount | None:
    return db.session.scalar(select(IndividualAccount).where(IndividualAccount.person_id == person_id))


def ensure_open(person: Person, opening_balance_fen: int | None = None) -> IndividualAccount:
    """The person's account, opened on first sight; a migrated opening balance is posted once, ever."""
    account = of_person(person.id)
    if account is None:
        account = IndividualAccount(person_id=person.id, balance_fen=0)
        db.session.add(account)
        db.session.flush()
    if opening_balance_fen:
        ledger.post_once(rules.opening_balance(account.id, opening_balance_fen), actor_person_id=person.id)
    return account
