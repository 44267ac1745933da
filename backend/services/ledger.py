"""Writing postings to the journal: the rules are in backend.domain.ledger, this applies them to the database.

Never commits: a posting is always part of a larger use case (a settlement, a grant payment, an allocation).
Personal balances move through a guarded UPDATE (``balance + delta >= 0``), so two concurrent payments cannot both
spend the last yuan; the CHECK on the table is the backstop.
"""

from __future__ import annotations

from sqlalchemy import select, update

from backend.domain import ledger as rules
from backend.errors import Conflict
from backend.extensions import db
from backend.models import IndividualAccount, LedgerEntry, LedgerPosting


def find(business_key: str) -> LedgerPosting | None:
    return db.session.scalar(select(LedgerPosting).where(LedgerPosting.business_key == business_key))


def post(draft: rules.PostingDraft, **context: object) -> LedgerPosting:
    """Append a balanced posting and move the personal balances it touches.

    ``context``: actor_person_id, institution_id, settlement_id, reverses_posting_id, occurred_at.
    """
    rules.assert_balanced(draft)
    for account_id, delta in _personal_movements(draft).items():
        _move_balance(account_id, delta)
    posting = LedgerPosting(business_key=draft.business_key, kind=str(draft.kind), memo=draft.memo, **context)
    posting.entries = [
        LedgerEntry(
            account_code=entry.account_code,
            individual_account_id=_personal_id(entry.account_code),
            side=str(entry.side),
            amount_fen=entry.amount,
        )
        for entry in draft.entries
    ]
    db.session.add(posting)
    db.session.flush()
    return posting


def post_once(draft: rules.PostingDraft, **context: object) -> tuple[LedgerPosting, bool]:
    """Post unless a posting with the same business key exists; returns (posting, created)."""
    existing = find(draft.business_key)
    if existing is not None:
        return existing, False
    return post(draft, **context), True


def _personal_movements(draft: rules.PostingDraft) -> dict[int, int]:
    codes = {e.account_code for e in draft.entries if e.account_code.startswith(rules.PERSONAL_ACCOUNT_PREFIX)}
    return {_personal_id(code): rules.movement(draft, code) for code in sorted(codes)}


def _personal_id(code: str) -> int | None:
    if not code.startswith(rules.PERSONAL_ACCOUNT_PREFIX):
        return None
    return int(code.removeprefix(rules.PERSONAL_ACCOUNT_PREFIX))


def _move_balance(account_id: int, delta: int) -> None:
    account = db.session.get(IndividualAccount, account_id)
    if account is None:
        raise Conflict("个人账户不存在", reason="account_not_found")
    if account.status != "open":
        raise Conflict("个人账户已关闭", reason="account_closed")
    result = db.session.execute(
        update(IndividualAccount)
        .where(IndividualAccount.id == account_id, IndividualAccount.balance_fen + delta >= 0)
        .values(balance_fen=IndividualAccount.balance_fen + delta)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict("个人账户余额不足", reason="insufficient_balance")
    db.session.expire(account, ["balance_fen"])
