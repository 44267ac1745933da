"""Individual accounts (个人账户): opening, balances. Uses, credits and sharing build on the ledger service."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from backend.domain import ledger as rules
from backend.domain.sharing import split_account_payment
from backend.extensions import db
from backend.models import IndividualAccount, LedgerPosting, Person, SharingGrant
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


@dataclass(frozen=True)
class AccountPayment:
    """How a person's share was paid: own account, authorisers' accounts (acct_mulaid_pay), cash."""

    acct_pay: int
    acct_mulaid_pay: int
    cash: int
    balance_after: int | None  # the payer's own balance after paying (None: no account)
    shared: tuple[tuple[str, int], ...] = ()  # (grant_id, amount) in grant order


def pay_from_accounts(payer_person_id: int, amount_payable: int, settlement_id: str, *,
                      institution_id: int | None = None, allow_sharing: bool = True) -> AccountPayment:
    """Pay ``amount_payable`` fen from the payer's account, then from authorisers' accounts in grant order.

    Grants are read now, never cached: a revoke made a moment ago already counts (NX §6). The accounts are locked
    in id order before their balances are read, so concurrent payments neither overdraw nor deadlock.
    Part of the caller's transaction (the settlement).
    """
    own = of_person(payer_person_id)
    grants = active_grants_received(payer_person_id) if allow_sharing else []
    owner_accounts = {a.person_id: a for a in _open_accounts([g.owner_person_id for g in grants])}
    _lock([a.id for a in (own, *owner_accounts.values()) if a is not None])
    usable = [(g, owner_accounts[g.owner_person_id]) for g in grants if g.owner_person_id in owner_accounts]
    split = split_account_payment(
        amount_payable,
        own.balance_fen if own is not None and own.status == "open" else 0,
        [(grant.id, account.balance_fen) for grant, account in usable],
    )
    context = {"actor_person_id": payer_person_id, "institution_id": institution_id, "settlement_id": settlement_id}
    if split.own:
        ledger.post(rules.account_payment(own.id, settlement_id, split.own, rules.PayerRole.OWN), **context)
    accounts_by_grant = {grant.id: account for grant, account in usable}
    for grant_id, amount in split.shared:
        account = accounts_by_grant[grant_id]
        ledger.post(rules.account_payment(account.id, settlement_id, amount, rules.PayerRole.SHARED), **context)
    return AccountPayment(split.own, split.acct_mulaid_pay, split.cash,
                          own.balance_fen if own is not None else None, split.shared)


def refund_to_accounts(settlement_id: str, refund_key: str, own_amount: int, shared_amount: int) -> None:
    """Return refunded account money along the original postings (NX §28): the last account drawn is refunded first.

    Part of the caller's transaction (the settlement refund).
    """
    payments = db.session.scalars(
        select(LedgerPosting).where(LedgerPosting.settlement_id == settlement_id,
                                    LedgerPosting.kind == str(rules.PostingKind.ACCOUNT_PAYMENT))
        .order_by(LedgerPosting.id.desc())
    ).all()
    remaining = {"own": own_amount, "shared": shared_amount}
    for payment in payments:
        role = "shared" if rules.CLEARING_MEDICAL_SHARED in {e.account_code for e in payment.entries} else "own"
        amount = min(remaining[role], _refundable(payment))
        if amount:
            draft = rules.refund_of(_draft_of(payment), amount, f"refund:{refund_key}:{payment.id}",
                                    already_refunded=_refunded(payment))
            ledger.post(draft, actor_person_id=payment.actor_person_id, institution_id=payment.institution_id,
                        settlement_id=settlement_id, reverses_posting_id=payment.id)
            remaining[role] -= amount
    if any(remaining.values()):
        raise ValueError(f"refund exceeds the account payments of settlement {settlement_id}: {remaining}")


def active_grants_received(relative_person_id: int) -> list[SharingGrant]:
    return list(db.session.scalars(
        select(SharingGrant)
        .where(SharingGrant.relative_person_id == relative_person_id, SharingGrant.status == "active")
        .order_by(SharingGrant.granted_at, SharingGrant.id)
    ))


def _open_accounts(person_ids: list[int]) -> list[IndividualAccount]:
    if not person_ids:
        return []
    return list(db.session.scalars(select(IndividualAccount).where(
        IndividualAccount.person_id.in_(person_ids), IndividualAccount.status == "open")))


def _lock(account_ids: list[int]) -> None:
    """Row locks in a fixed order (PostgreSQL); SQLite serialises writers on its own."""
    if account_ids:
        db.session.execute(
            select(IndividualAccount.id).where(IndividualAccount.id.in_(account_ids))
            .order_by(IndividualAccount.id).with_for_update()
        ).all()
        for account_id in account_ids:
            db.session.expire(db.session.get(IndividualAccount, account_id), ["balance_fen"])


def _draft_of(posting: LedgerPosting) -> rules.PostingDraft:
    entries = tuple(rules.Entry(e.account_code, rules.Side(e.side), e.amount_fen) for e in posting.entries)
    return rules.PostingDraft(posting.business_key, rules.PostingKind(posting.kind), posting.memo, entries)


def _refunded(payment: LedgerPosting) -> int:
    refunds = db.session.scalars(select(LedgerPosting).where(LedgerPosting.reverses_posting_id == payment.id))
    return sum(refund.entries[0].amount_fen for refund in refunds)


def _refundable(payment: LedgerPosting) -> int:
    return payment.entries[0].amount_fen - _refunded(payment)
