"""Direct settlement at designated institutions and its refunds; the person's settlements; manual claims.

One use case = one transaction. A settlement locks the person (backend.services.benefits.lock_person) before it
reads the year-to-date accumulators, runs the pure engine (backend.domain.benefits) on the policy of the
person's region in force on the visit date (NX §22: the insured place's policy), records the settlement and its
lines, pays the personal part from accounts when asked (own account, then family sharing in the person's own
region only, NX §6), appends the accumulator deltas and commits — or, on any refusal, writes nothing.

Amounts arrive and leave as yuan; inside they are integer fen. Field names are the national platform's 2207
names (DESIGN §2).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from backend.domain import benefits as engine
from backend.errors import Conflict, NotFound
from backend.extensions import db
from backend.models import Institution, InvoiceRecord, Person, Settlement, utcnow
from backend.services import accounts, clearing, monitoring, paging, policies
from backend.services.benefits import (
    LOCAL_ZONE,
    add_to_accumulators,
    locked_person,
    offsite_refusal,
    person_snapshot,
    year_to_date,
)
from backend.services.settlement_records import (
    engine_input,
    engine_lines,
    invoice_numbers_used,
    new_settlement,
    own_balance,
    run_engine,
)
from backend.services.settlement_requests import SettlementRequest, parse_request, refuse
from backend.services.settlement_views import settlement_view, summary_view


# --- direct settlement --------------------------------------------------------------------------------------------

def settle_direct(institution: Institution, body: Mapping, *, now: dt.datetime | None = None) -> dict:
    """Settle a visit at the institution (DESIGN §4.6); the response body. A repeat returns the same settlement."""
    return settle_direct_outcome(institution, body, now=now)[0]


def settle_direct_outcome(institution: Institution, body: Mapping, *,
                          now: dt.datetime | None = None) -> tuple[dict, bool]:
    """(response body, created): ``created`` is False when the order number was settled before with this body."""
    now = now or utcnow()
    request = parse_request(body, today=now.astimezone(LOCAL_ZONE).date())
    try:
        view, created = _settle(institution, request, now)
        if created:
            db.session.commit()
        else:
            db.session.rollback()  # nothing was written: just let go of the person's lock
    except IntegrityError:
        # The same order number (or invoice) committed by a concurrent request between our check and our insert.
        db.session.rollback()
        settlement = _by_order_no(institution, request.order_no) if request.order_no else None
        if settlement is not None:
            return _repeat_of(settlement, request, institution), False
        if request.invoice_no is not None and invoice_numbers_used([request.invoice_no]):
            raise Conflict("该发票号已结算或报销过", reason="invoice_already_used",
                           invoice_no=request.invoice_no) from None
        raise
    except Conflict as exc:
        db.session.rollback()
        if exc.reason == "invoice_already_used":  # a smart-monitoring signal (NX §33): kept even though refused
            monitoring.note_invoice_refused(request.invoice_no, institution)
        raise
    except Exception:
        db.session.rollback()
        raise
    return view, created


def _by_order_no(institution: Institution, order_no: str) -> Settlement | None:
    return db.session.scalar(select(Settlement).where(
        Settlement.institution_id == institution.id, Settlement.order_no == order_no))


def _repeat_of(settlement: Settlement, request: SettlementRequest, institution: Institution,
               person: Person | None = None) -> dict:
    """The earlier settlement of the same order number: the same answer, or a refusal if the body differs."""
    if settlement.request_hash != request.fingerprint():
        raise Conflict("该单据号已用于另一笔不同的结算", reason="order_no_reused", order_no=request.order_no,
                       setl_id=settlement.id)
    return settlement_view(settlement, institution=institution, person=person)


def _settle(institution: Institution, request: SettlementRequest, now: dt.datetime) -> tuple[dict, bool]:
    person = locked_person(request.id_number)  # held until commit: no other settlement reads these caps meanwhile
    if person is None:
        raise NotFound("未找到该参保人", reason="person_not_found")
    if request.order_no is not None:
        earlier = _by_order_no(institution, request.order_no)
        if earlier is not None:
            return _repeat_of(earlier, request, institution, person), False
    in_region = _check_offsite_registration(person, institution)
    today = now.astimezone(LOCAL_ZONE).date()
    # NX §22: the insured place's policy, the version in force on the visit date.
    policy = policies.in_force_up_to_today(person.region_code, request.visit_date, today)
    before = year_to_date(person.id, request.visit_date.year)
    if request.invoice_no is not None and invoice_numbers_used([request.invoice_no]):
        raise Conflict("该发票号已结算或报销过", reason="invoice_already_used", invoice_no=request.invoice_no)
    snapshot = person_snapshot(person, request.visit_date, policy)
    visit = engine.Visit(
        service_date=request.visit_date, institution_level=institution.level, institution_kind=institution.kind,
        in_region=in_region, med_type=request.med_type, lines=engine_lines(request.lines),
        disease_code=request.disease_code,
    )
    result = run_engine(policy, snapshot, visit, before)
    from_accounts = request.use_account and result.account_payable > 0
    if not from_accounts:
        result = engine.with_payments(result, 0, 0)
    settlement = new_settlement(
        person, result, request.visit_date, request.med_type, in_region, now,
        source="direct", institution=institution, order_no=request.order_no, invoice_no=request.invoice_no,
        disease_code=request.disease_code, request_hash=request.fingerprint(), lines=request.lines,
        engine_input=engine_input(snapshot, before, institution.level, institution.kind, in_region),
        clearing_month=clearing.open_month(institution.id, now),
        balc=None if from_accounts else own_balance(person.id),
    )
    if from_accounts:
        _pay_from_accounts(person, institution, settlement, result, in_region)
    add_to_accumulators(person.id, result.benefit_year, result.accumulator_deltas, settlement_id=settlement.id)
    if request.invoice_no is not None:
        db.session.add(InvoiceRecord(number=request.invoice_no, settlement_id=settlement.id, recorded_at=now))
    db.session.flush()
    return settlement_view(settlement, institution=institution, person=person), True


def _pay_from_accounts(person: Person, institution: Institution, settlement: Settlement,
                       result: engine.Settlement, in_region: bool) -> None:
    """The personal part from the own account, then family sharing (in the person's own region only, NX §6)."""
    payment = accounts.pay_from_accounts(person.id, result.account_payable, settlement.id,
                                         institution_id=institution.id, allow_sharing=in_region)
    paid = engine.with_payments(result, payment.acct_pay, payment.acct_mulaid_pay)
    settlement.acct_pay, settlement.acct_mulaid_pay = paid.acct_pay, paid.acct_mulaid_pay
    settlement.psn_cash_pay, settlement.balc = paid.psn_cash_pay, payment.balance_after
    settlement.explanation = list(paid.explanation)


def _check_offsite_registration(person: Person, institution: Institution) -> bool:
    """True for a visit in the person's own region; out of it, refused unless registered (benefits.offsite_refusal)."""
    refusal = offsite_refusal(person, institution)
    if refusal == "offsite_registration_required":
        raise refuse("参保人未办理异地就医备案，不能在参保地以外直接结算，可先自付后回参保地手工报销", refusal)
    if refusal == "offsite_level_not_allowed":
        raise refuse("异地就医仅可在二级及以上定点医疗机构直接结算", refusal)
    return institution.region_code == person.region_code



# --- the person's own settlements --------------------------------------------------------------------------------

def list_for_person(person_id: int, *, year: int | None = None, page: int = 1, page_size: int = 20) -> dict:
    """The person's settlements, newest visit first, a page at a time."""
    page, page_size = max(1, page), min(max(1, page_size), 100)
    query = select(Settlement).where(Settlement.person_id == person_id)
    if year is not None:
        query = query.where(Settlement.benefit_year == year)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    offset, limit = paging.window(page, page_size)
    rows = db.session.scalars(query.order_by(Settlement.visit_date.desc(), Settlement.settled_at.desc())
                              .offset(offset).limit(limit))
    return {"items": [summary_view(row) for row in rows], "page": page, "page_size": page_size, "total": total,
            "year": year}



def detail_for_person(person_id: int, setl_id: str) -> dict:
    """One of the person's settlements; another person's is reported as not found."""
    return settlement_view(owned_settlement(person_id, setl_id))


def owned_settlement(person_id: int, setl_id: str) -> Settlement:
    settlement = db.session.get(Settlement, setl_id)
    if settlement is None or settlement.person_id != person_id:
        raise NotFound("未找到该结算记录", reason="settlement_not_found")
    return settlement

