"""Row locks on a person's money, taken in ONE order by every use case (docs/reliability.md, "Lock order"):

    1. the application being decided (application_workflow), when there is one
    2. the person whose caps or account move — ``person`` (one person per transaction)
    3. sharing grants being ended — ``grants``
    4. individual accounts, ascending id — ``accounts``
    then appends only (ledger postings and entries, accumulators, outbox, audit), which lock nothing shared.

Every lock is FOR NO KEY UPDATE: it serialises writers of the row but never blocks the FOR KEY SHARE lock that a
foreign-key check takes when another transaction inserts a row pointing at it (a ledger posting naming the person
as actor, an entry naming the account). A plain FOR UPDATE would, and that wait, taken out of order, is what made
contributions and settlements deadlock. A use case may skip a level, never go back up one.

SQLite has no row locks and serialises writers; ``person`` takes its write lock early there instead.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, update

from backend.extensions import db
from backend.models import IndividualAccount, Person, SharingGrant


def _postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def person(person_id: int) -> None:
    """Level 2: serialise everything that moves this person's caps or account until the transaction ends."""
    if _postgres():
        db.session.execute(select(Person.id).where(Person.id == person_id).with_for_update(key_share=True))
    else:  # a no-op UPDATE takes SQLite's write lock now, before anything is read
        db.session.execute(update(Person).where(Person.id == person_id).values(updated_at=Person.updated_at)
                           .execution_options(synchronize_session=False))


def person_by_id_number(id_number: str) -> Person | None:
    """Level 2, for a caller that knows the ID number only: the person, locked and read in one statement."""
    query = select(Person).where(Person.id_number == id_number).execution_options(populate_existing=True)
    if _postgres():
        return db.session.scalar(query.with_for_update(key_share=True))
    found = db.session.scalar(query)
    if found is not None:
        person(found.id)
    return found


def grants(*conditions) -> list[SharingGrant]:
    """Level 3: the grants matching ``conditions``, locked, read fresh."""
    return list(db.session.scalars(
        select(SharingGrant).where(*conditions).order_by(SharingGrant.id)
        .with_for_update(key_share=True).execution_options(populate_existing=True)))


def accounts(account_ids: Iterable[int]) -> None:
    """Level 4: the accounts, in ascending id order; their balances are read fresh afterwards."""
    ids = sorted(set(account_ids))
    if not ids:
        return
    db.session.execute(select(IndividualAccount.id).where(IndividualAccount.id.in_(ids))
                       .order_by(IndividualAccount.id).with_for_update(key_share=True)).all()
    for account_id in ids:
        account = db.session.get(IndividualAccount, account_id)
        if account is not None:
            db.session.refresh(account)
