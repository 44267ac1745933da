"""Individual accounts (个人账户): opening, balances. Uses, credits and sharing build on the ledger service."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from backend.domain import ledger as rules
from backend.domain.identity import mask_id_number
from backend.domain.money import fen_to_yuan
from backend.domain.policy import Policy, sample_notice
from backend.domain.relations import RelationImplausible, check_relation
from backend.domain.sharing import RELATION_LABELS, split_account_payment
from backend.errors import Conflict, NotFound, Unprocessable
from backend.extensions import db
from backend.models import (
    AccountContribution, IndividualAccount, Institution, LedgerEntry, LedgerPosting, Person, SharingGrant, utcnow,
)
from backend.services import audit, identity, ledger, locks, notifications, paging, policies
from backend.services.credits import BEIJING, local_today


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
    in id order before their balances are read, so concurrent payments neither overdraw nor deadlock, and the
    grants are read again under those locks: a revoke either waits for this payment or is seen by it.
    Part of the caller's transaction (the settlement).
    """
    own = of_person(payer_person_id)
    grants = active_grants_received(payer_person_id) if allow_sharing else []
    owner_accounts = {a.person_id: a for a in _open_accounts([g.owner_person_id for g in grants])}
    locks.accounts(a.id for a in (own, *owner_accounts.values()) if a is not None)
    # A revoke locks the owner's account before it ends the grant (sharing.revoke): read under the account locks,
    # the grants are those still active once every revoke that came first has committed.
    grants = _still_active(grants) if grants else []
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
    locks.accounts(e.individual_account_id for p in payments for e in p.entries if e.individual_account_id)
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


def _still_active(grants: list[SharingGrant]) -> list[SharingGrant]:
    fresh = db.session.scalars(select(SharingGrant).where(SharingGrant.id.in_([g.id for g in grants]))
                               .execution_options(populate_existing=True)).all()
    active = {g.id for g in fresh if g.status == "active"}
    return [g for g in grants if g.id in active]


def _draft_of(posting: LedgerPosting) -> rules.PostingDraft:
    entries = tuple(rules.Entry(e.account_code, rules.Side(e.side), e.amount_fen) for e in posting.entries)
    return rules.PostingDraft(posting.business_key, rules.PostingKind(posting.kind), posting.memo, entries)


def _refunded(payment: LedgerPosting) -> int:
    refunds = db.session.scalars(select(LedgerPosting).where(LedgerPosting.reverses_posting_id == payment.id))
    return sum(refund.entries[0].amount_fen for refund in refunds)


def _refundable(payment: LedgerPosting) -> int:
    return payment.entries[0].amount_fen - _refunded(payment)


# --- the person's view: balance, this year's credits and spending, the journal ---------------------------------
KIND_LABELS = {
    rules.PostingKind.MONTHLY_CREDIT: "个人账户划入",
    rules.PostingKind.LUMP_CREDIT: "个人账户一次性划入",
    rules.PostingKind.OPENING_BALANCE: "期初余额",
    rules.PostingKind.ACCOUNT_PAYMENT: "就医购药支付",
    rules.PostingKind.RESIDENT_CONTRIBUTION: "代缴居民医保个人缴费",
    rules.PostingKind.LTC_CONTRIBUTION: "缴纳长期护理保险",
    rules.PostingKind.TRANSFER_OUT: "跨省转出",
    rules.PostingKind.ONE_TIME_PAYOUT: "一次性返还",
    rules.PostingKind.REVERSAL: "冲正",
    rules.PostingKind.REFUND: "退费退回",
}
CREDIT_KINDS = frozenset({rules.PostingKind.MONTHLY_CREDIT, rules.PostingKind.LUMP_CREDIT})
CONTRIBUTION_KINDS = frozenset({rules.PostingKind.RESIDENT_CONTRIBUTION, rules.PostingKind.LTC_CONTRIBUTION})
SPENDING_KINDS = frozenset({rules.PostingKind.ACCOUNT_PAYMENT, rules.PostingKind.RESIDENT_CONTRIBUTION,
                            rules.PostingKind.LTC_CONTRIBUTION})


def summary(person_id: int, year: int) -> dict[str, Any]:
    """Balance now, and the year's credits and spending (net of refunds); yuan strings as the API shows them.

    ``spending_for_family`` is the part of the spending that relatives paid with this account (家庭共济).
    """
    account = _account_of(person_id)
    start, end = _year_bounds(year)
    totals: dict[tuple[str, str, bool], int] = {}
    rows = db.session.execute(
        select(LedgerPosting.kind, LedgerEntry.side, LedgerPosting.actor_person_id, func.sum(LedgerEntry.amount_fen))
        .join(LedgerPosting, LedgerPosting.id == LedgerEntry.posting_id)
        .where(LedgerEntry.individual_account_id == account.id,
               LedgerPosting.occurred_at >= start, LedgerPosting.occurred_at < end)
        .group_by(LedgerPosting.kind, LedgerEntry.side, LedgerPosting.actor_person_id)
    )
    for kind, side, actor, amount in rows:
        key = (kind, side, actor not in (None, person_id))
        totals[key] = totals.get(key, 0) + int(amount)

    def total(kinds, side: str, by_other: bool | None = None) -> int:
        return sum(amount for (kind, entry_side, other), amount in totals.items()
                   if kind in kinds and entry_side == side and (by_other is None or other == by_other))

    refunds = {rules.PostingKind.REFUND}
    spending = total(SPENDING_KINDS, "debit") - total(refunds, "credit")
    for_family = total(SPENDING_KINDS, "debit", True) - total(refunds, "credit", True)
    return {
        "balance": fen_to_yuan(account.balance_fen),
        "status": account.status,
        "year": year,
        "credits": fen_to_yuan(total(CREDIT_KINDS, "credit")),
        "spending": fen_to_yuan(spending),
        "spending_for_family": fen_to_yuan(for_family),
        "closed_reason": account.closed_reason,
        "credits_sample": _credits_sample(person_id, year),
    }


# The parameters a person's monthly credit is computed from, by type (NM §3, NX §5).
CREDIT_PARAMETERS = {
    "employed": ("account.employed_credit_ratio_bp",),
    "flexible": ("account.flexible_credit",),
    "retired": ("account.retiree_credit.base_fen", "account.retiree_credit.ratio_bp"),
}


def _credits_sample(person_id: int, year: int) -> dict[str, Any]:
    """Whether the year's credits were computed from sample figures (the NM retiree base, every NX ratio)."""
    person = _person(person_id)
    on_date = min(local_today(), dt.date(year, 12, 31))
    try:
        policy = policies.in_force(person.region_code, on_date)
    except Unprocessable:  # a year before any version: no credit was computed by this service
        return {"is_sample": False, "label": None, "parameters": []}
    return sample_notice(policy, CREDIT_PARAMETERS[person.person_type]).as_dict()


def entries(person_id: int, *, year: int | None = None, kind: str | None = None, page: int = 1,
            page_size: int = 20) -> tuple[list[dict[str, Any]], int]:
    """The account's journal, newest first: what moved, who spent it (self or a relative) and where."""
    account = _account_of(person_id)
    query = (select(LedgerEntry, LedgerPosting).join(LedgerPosting, LedgerPosting.id == LedgerEntry.posting_id)
             .where(LedgerEntry.individual_account_id == account.id))
    if year is not None:
        start, end = _year_bounds(year)
        query = query.where(LedgerPosting.occurred_at >= start, LedgerPosting.occurred_at < end)
    if kind is not None:
        if kind not in {str(k) for k in rules.PostingKind}:
            raise Unprocessable("不支持的明细类型", reason="kind_invalid", kinds=sorted(str(k) for k in rules.PostingKind))
        query = query.where(LedgerPosting.kind == kind)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    offset, limit = paging.window(page, page_size)
    rows = db.session.execute(query.order_by(LedgerPosting.occurred_at.desc(), LedgerPosting.id.desc())
                              .offset(offset).limit(limit)).all()
    names = _names({posting.actor_person_id for _, posting in rows} - {None})
    places = _institutions({posting.institution_id for _, posting in rows} - {None})
    paid_for = _contributions({posting.id for _, posting in rows if posting.kind in CONTRIBUTION_KINDS})
    return [_entry_view(entry, posting, person_id, names, places, paid_for) for entry, posting in rows], total


# --- uses: contributions (NX §31), transfer-out (NX §8), one-time payout (NX §9) -------------------------------
CONTRIBUTION_USES = {  # API kind → the policy's allowed-use code (NM §4, NX §6)
    "resident_insurance": "relatives_resident_insurance_contribution",
    "long_term_care": "long_term_care_contribution",
}


def pay_contribution(person_id: int, *, kind: str, amount_fen: int, relation: str | None = None,
                     relative_name: str | None = None, relative_id_number: str | None = None,
                     year: int | None = None) -> dict[str, Any]:
    """Pay a relative's 城乡居民医保 or a 长护险 contribution (own or a relative's) from the account. Commits.

    The relative is named as a grant names them (relation, name, ID number); only the relations the policy in
    force lists may be paid for (NM §4, NX §31: spouse, parents, children), and the relation must agree with both
    ID numbers (backend.domain.relations). Posts the NX §31 entries in both funds and books the contribution for
    the beneficiary. One payment per kind, beneficiary and year, whoever pays (409 otherwise); uses the policy in
    force does not allow, or excludes (NM §5), are refused with 422. A refusal writes nothing.
    """
    person = _person(person_id)
    account = _account_of(person_id)
    year = year or local_today().year
    policy = _check_contribution_use(person, kind)
    locks.person(person_id)  # the lock order (backend.services.locks): person, then the account ledger.post moves
    if amount_fen <= 0:
        raise Unprocessable("缴费金额须大于0", reason="amount_invalid")
    beneficiary = _beneficiary(person, kind, relation, relative_name, relative_id_number,
                               policy.account.contribution_relations)
    already_paid = Conflict(f"{year}年度的该项缴费已由个人账户支付", reason="contribution_already_paid", year=year)
    if _contribution_paid(kind, beneficiary.id_number, year):
        raise already_paid
    reference = hashlib.sha256(beneficiary.id_number.encode()).hexdigest()[:16]
    business_key = f"contribution:{kind}:{account.id}:{year}:{reference}"
    masked = mask_id_number(beneficiary.id_number)
    if kind == "resident_insurance":
        draft = rules.resident_contribution_for_relative(
            account.id, f"{RELATION_LABELS[beneficiary.relation]} {beneficiary.name}（{masked}）", amount_fen,
            business_key)
    else:
        draft = rules.ltc_contribution(account.id, amount_fen, business_key)
    try:
        posting = ledger.post(draft, actor_person_id=person_id)
    except IntegrityError:  # the same payment, committed by a concurrent request a moment ago
        db.session.rollback()
        raise already_paid from None
    db.session.add(AccountContribution(
        individual_account_id=account.id, posting_id=posting.id, kind=kind, year=year, relation=beneficiary.relation,
        beneficiary_name=beneficiary.name, beneficiary_id_number=beneficiary.id_number, amount_fen=amount_fen))
    db.session.refresh(account)
    audit.record("person", person_id, "account.contribution", "individual_account", account.id, kind=kind,
                 amount_fen=amount_fen, year=year, beneficiary=masked, relation=beneficiary.relation)
    notifications.notify(person_id, "account_contribution", "个人账户缴费成功",
                         f"个人账户已支付{beneficiary.label}{year}年度{KIND_LABELS[draft.kind]}{fen_to_yuan(amount_fen)}元。",
                         dedupe_key=f"contribution:{posting.id}", data={"kind": kind, "year": year})
    try:
        db.session.commit()
    except IntegrityError:  # the same beneficiary's contribution committed by a concurrent request
        db.session.rollback()
        raise already_paid from None
    return {
        "kind": kind, "year": year, "amount": fen_to_yuan(amount_fen),
        "beneficiary": beneficiary.view(), "balance": fen_to_yuan(account.balance_fen),
        "occurred_at": posting.occurred_at,
    }


def transfer_out(person_id: int, *, staff_id: int, destination: str) -> dict[str, Any]:
    """Cross-province transfer (NX §8): the whole balance leaves with the insurance relationship, the account is
    closed with a record of the amount moved, and the person's sharing grants end. Commits."""
    _person(person_id)
    account = _account_of(person_id)
    locks.person(person_id)  # the lock order: person, grants (end_all_of), then the account
    from backend.services import sharing  # imported here: sharing imports people, which imports this module

    ended = sharing.end_all_of(person_id, channel="counter", staff_id=staff_id, why="transfer_out")
    locks.accounts([account.id])  # no payment may slip in between reading and moving it
    if account.status != "open":
        raise Conflict("个人账户已关闭", reason="account_closed")
    amount = account.balance_fen
    if amount:
        ledger.post(rules.transfer_out(account.id, amount, f"transfer_out:{account.id}"), actor_person_id=person_id)
    _close(account, "transfer_out")
    audit.record("staff", staff_id, "account.transfer_out", "individual_account", account.id, person_id=person_id,
                 amount_fen=amount, destination=destination, grants_ended=ended)
    notifications.notify(person_id, "account_transferred", "个人账户已转出",
                         f"您的个人账户余额{fen_to_yuan(amount)}元已随医保关系转出至{destination}，本地账户已关闭。",
                         dedupe_key=f"transfer_out:{account.id}", data={"amount": fen_to_yuan(amount)})
    db.session.commit()
    return {"person_id": person_id, "amount": fen_to_yuan(amount), "destination": destination,
            "status": account.status, "closed_at": account.closed_at, "grants_ended": ended}


def pay_out_balance(person_id: int, *, business_key: str, continue_in_use: bool = False) -> int:
    """NX §9 after death or emigration: pay the whole balance out and close the account, or (``continue_in_use``)
    leave it as it is. Returns the amount paid out: a second call with the same key returns the same amount and
    posts nothing; once the balance has been paid out, another key pays nothing (0). 409 account_closed when the
    account was closed otherwise (transferred out).

    Part of the caller's transaction (the approved payout application).
    """
    account = _account_of(person_id)
    existing = ledger.find(business_key)
    if existing is not None:
        return existing.entries[0].amount_fen
    if continue_in_use:
        return 0
    locks.person(person_id)
    locks.accounts([account.id])
    if account.status == "closed" and account.closed_reason == "payout":
        return 0
    if account.status != "open":
        raise Conflict("个人账户已关闭", reason="account_closed")
    amount = account.balance_fen
    if amount:
        ledger.post(rules.one_time_payout(account.id, amount, business_key), actor_person_id=person_id)
    _close(account, "payout")
    return amount


def _check_contribution_use(person: Person, kind: str) -> Policy:
    policy = policies.in_force(person.region_code, local_today())
    excluded = dict(policy.account.excluded_uses)
    if kind in excluded:
        raise Unprocessable(f"个人账户不得用于{excluded[kind]}（不属于基本医疗保险保障范围）", reason="use_excluded",
                            use=kind)
    if kind not in CONTRIBUTION_USES:
        raise Unprocessable("不支持的个人账户缴费项目", reason="use_unknown", use=kind,
                            supported=sorted(CONTRIBUTION_USES))
    if CONTRIBUTION_USES[kind] not in dict(policy.account.allowed_uses):
        raise Unprocessable("现行政策不允许个人账户支付该项缴费", reason="use_not_allowed", use=kind)
    return policy


@dataclass(frozen=True)
class Beneficiary:
    """Whom a contribution pays for: the account's owner ("self") or a relative named as in a grant."""

    relation: str
    name: str
    id_number: str

    @property
    def label(self) -> str:
        return "本人" if self.relation == "self" else f"{RELATION_LABELS[self.relation]}{self.name}"

    def view(self) -> dict[str, Any]:
        return {"self": self.relation == "self", "relation": self.relation,
                "relation_label": "本人" if self.relation == "self" else RELATION_LABELS[self.relation],
                "name": self.name, "id_number_masked": mask_id_number(self.id_number)}


def _beneficiary(person: Person, kind: str, relation: str | None, name: str | None, relative_id_number: str | None,
                 allowed: frozenset[str]) -> Beneficiary:
    """The person paid for; a relative must be a spouse, parent or child whose ID number fits the relation."""
    if not relative_id_number:
        if kind == "resident_insurance":
            raise Unprocessable("请填写参加居民医保的家庭成员的身份证号码", reason="relative_required")
        return Beneficiary("self", person.name, person.id_number)
    number = identity.checked_id_number(relative_id_number, "家庭成员")
    if number == person.id_number:
        if kind == "resident_insurance":
            raise Unprocessable("职工本人不能参加城乡居民医保", reason="relative_is_self")
        return Beneficiary("self", person.name, person.id_number)
    if not relation:
        raise Unprocessable("请填写与该家庭成员的关系", reason="relation_required")
    if not name or not name.strip():
        raise Unprocessable("请填写该家庭成员的姓名", reason="relative_name_required")
    if relation not in allowed:
        names = "、".join(RELATION_LABELS[r] for r in RELATION_LABELS if r in allowed)
        raise Unprocessable(f"个人账户只能为{names}缴费", reason="relation_not_allowed", relation=relation,
                            allowed=sorted(allowed))
    try:
        check_relation(person.id_number, number, relation)
    except RelationImplausible as refusal:
        raise Unprocessable(refusal.message, reason=str(refusal.reason)) from None
    insured = db.session.scalar(select(Person).where(Person.id_number == number))
    if insured is not None and insured.name != name.strip():
        raise Unprocessable("家庭成员姓名与身份证号码不匹配", reason="relative_name_mismatch")
    if kind == "resident_insurance" and insured is not None:
        # Employees are insured by the employee scheme; 居民医保 is for relatives without it.
        raise Unprocessable("该家庭成员已参加职工医保，无需缴纳居民医保", reason="relative_has_employee_insurance")
    return Beneficiary(relation, name.strip(), number)


def _contribution_paid(kind: str, beneficiary_id_number: str, year: int) -> bool:
    return db.session.scalar(select(AccountContribution.id).where(
        AccountContribution.kind == kind, AccountContribution.beneficiary_id_number == beneficiary_id_number,
        AccountContribution.year == year)) is not None


def _close(account: IndividualAccount, reason: str) -> None:
    account.status, account.closed_at, account.closed_reason = "closed", utcnow(), reason


def _person(person_id: int) -> Person:
    person = db.session.get(Person, person_id)
    if person is None:
        raise NotFound("未找到该参保人", reason="person_not_found")
    return person


def _account_of(person_id: int) -> IndividualAccount:
    account = of_person(person_id)
    if account is None:
        raise NotFound("未找到个人账户", reason="account_not_found")
    return account


def _year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    """The calendar year in China Standard Time, as aware datetimes (the journal stores UTC)."""
    return dt.datetime(year, 1, 1, tzinfo=BEIJING), dt.datetime(year + 1, 1, 1, tzinfo=BEIJING)


def _names(person_ids: set[int]) -> dict[int, str]:
    if not person_ids:
        return {}
    return dict(db.session.execute(select(Person.id, Person.name).where(Person.id.in_(person_ids))).all())


def _institutions(institution_ids: set[int]) -> dict[int, Institution]:
    if not institution_ids:
        return {}
    return {i.id: i for i in db.session.scalars(select(Institution).where(Institution.id.in_(institution_ids)))}


def _contributions(posting_ids: set[int]) -> dict[int, Beneficiary]:
    if not posting_ids:
        return {}
    rows = db.session.scalars(select(AccountContribution).where(AccountContribution.posting_id.in_(posting_ids)))
    return {row.posting_id: Beneficiary(row.relation, row.beneficiary_name, row.beneficiary_id_number) for row in rows}


def _entry_view(entry: LedgerEntry, posting: LedgerPosting, person_id: int, names: dict[int, str],
                places: dict[int, Institution], paid_for: dict[int, Beneficiary]) -> dict[str, Any]:
    kind = rules.PostingKind(posting.kind)
    institution = places.get(posting.institution_id)
    return {
        "entry_id": entry.id,
        "occurred_at": posting.occurred_at,
        "kind": str(kind),
        "kind_label": KIND_LABELS[kind],
        "direction": "in" if entry.side == "credit" else "out",
        "amount": fen_to_yuan(entry.amount_fen),
        "memo": posting.memo,
        "settlement_id": posting.settlement_id,
        "by": _who(posting.actor_person_id, person_id, names) if kind not in CREDIT_KINDS else None,
        "institution": {"code": institution.code, "name": institution.name} if institution else None,
        "paid_for": paid_for[posting.id].view() if posting.id in paid_for else None,
    }


def _who(actor_person_id: int | None, person_id: int, names: dict[int, str]) -> dict[str, Any] | None:
    """Who spent it: the person themselves, or a relative paying with this account under a grant."""
    if actor_person_id is None:
        return None
    if actor_person_id == person_id:
        return {"name": names.get(actor_person_id), "relation": "self", "relation_label": "本人"}
    from backend.services.sharing import relation_between  # see transfer_out

    relation = relation_between(person_id, actor_person_id)
    return {"name": names.get(actor_person_id), "relation": relation,
            "relation_label": RELATION_LABELS.get(relation, "家庭成员")}
