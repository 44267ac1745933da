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
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from backend.domain import benefits as engine
from backend.domain.money import fen_to_yuan, percent_label
from backend.domain.policy import HOSPITAL_LEVELS
from backend.errors import Conflict, Forbidden, NotFound, Unprocessable
from backend.extensions import db
from backend.models import (
    IndividualAccount,
    Institution,
    InvoiceRecord,
    Person,
    Settlement,
    SettlementLine,
    SettlementRefund,
    new_public_id,
    utcnow,
)
from backend.services import accounts, benefits, clearing, identity, people, policies
from backend.services.benefits import (
    AMOUNT_FIELDS,
    LOCAL_ZONE,
    add_to_accumulators,
    locked_person,
    masked_person,
    offsite_refusal,
    person_snapshot,
    result_view,
    snapshot_as_dict,
    snapshot_from_dict,
    year_to_date,
)

MAX_LINES = 500
MAX_LINE_FEN = 9_999_999_999  # 99,999,999.99 yuan: far above any outpatient bill, far below the column's range
REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,63}$")  # order, refund and invoice numbers
MED_TYPE_LABELS = {"general": "普通门诊", "chronic": "门诊慢特病"}


# --- requests ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FeeLine:
    code: str
    name: str
    amount: int  # fen
    in_scope: bool
    account_eligible: bool = True


@dataclass(frozen=True)
class SettlementRequest:
    id_number: str
    visit_date: dt.date
    med_type: str
    lines: tuple[FeeLine, ...]
    use_account: bool
    order_no: str | None = None
    invoice_no: str | None = None
    disease_code: str | None = None

    def fingerprint(self) -> str:
        """The same visit posted twice has the same fingerprint, however its amounts were written."""
        data = {**asdict(self), "visit_date": self.visit_date.isoformat()}
        return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@dataclass(frozen=True)
class ManualVisit:
    """A visit paid by the person and claimed manually (零星报销, NX §23); lines are (name, fen, in_scope)."""

    visit_date: dt.date
    hospital_level: str
    institution_name: str
    cross_province: bool
    med_type: str
    lines: tuple[tuple[str, int, bool], ...]


def _refuse(message: str, reason: str, **details: object) -> Unprocessable:
    return Unprocessable(message, reason=reason, **details)


def parse_yuan(value: object, field: str) -> int:
    """A yuan amount (number or string, at most two decimals, not negative) as fen."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise _refuse("金额应为数字", "invalid_amount", field=field)
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise _refuse("金额应为数字", "invalid_amount", field=field) from None
    if not amount.is_finite():
        raise _refuse("金额应为数字", "invalid_amount", field=field)
    if amount < 0:
        raise _refuse("金额不能为负数", "negative_amount", field=field)
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise _refuse("金额最多保留两位小数", "invalid_amount", field=field)
    if fen > MAX_LINE_FEN:
        raise _refuse("金额超出允许范围", "amount_too_large", field=field)
    return int(fen)


def parse_date(value: object, field: str, *, today: dt.date) -> dt.date:
    try:
        day = dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        day = None
    if day is None:
        raise _refuse("日期格式应为 YYYY-MM-DD", "invalid_date", field=field)
    if day > today:
        raise _refuse("日期不能晚于今天", "date_in_future", field=field)
    return day


def _reference(body: Mapping, key: str, *, required: bool = False) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not REFERENCE.match(value):
        raise _refuse(f"{key} 应为 1–64 位字母、数字或 _ . - /", f"invalid_{key}", field=key)
    return value


def _text(item: Mapping, key: str, field: str, max_length: int) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise _refuse(f"费用明细的 {key} 应为 1–{max_length} 个字符", "invalid_line", field=field)
    return value.strip()


def _flag(item: Mapping, key: str, field: str, default: bool | None = None) -> bool:
    value = item.get(key, default)
    if not isinstance(value, bool):
        raise _refuse(f"{key} 应为 true 或 false", "invalid_line", field=field)
    return value


def parse_lines(items: object) -> tuple[FeeLine, ...]:
    if not isinstance(items, list) or not items:
        raise _refuse("至少需要一条费用明细", "no_lines", field="items")
    if len(items) > MAX_LINES:
        raise _refuse(f"费用明细最多 {MAX_LINES} 条", "too_many_lines", field="items")
    lines = []
    for index, item in enumerate(items):
        field = f"items[{index}]"
        if not isinstance(item, Mapping):
            raise _refuse("费用明细格式不正确", "invalid_line", field=field)
        lines.append(FeeLine(
            code=_text(item, "code", f"{field}.code", 64),
            name=_text(item, "name", f"{field}.name", 200),
            amount=parse_yuan(item.get("amount"), f"{field}.amount"),
            in_scope=_flag(item, "in_scope", f"{field}.in_scope"),
            account_eligible=_flag(item, "account_eligible", f"{field}.account_eligible", default=True),
        ))
    return tuple(lines)


def parse_id_number(value: object) -> str:
    return identity.checked_id_number(value, field="id_number")


def parse_request(body: Mapping, *, today: dt.date) -> SettlementRequest:
    """Check a settlement request completely before anything is read or written."""
    id_number = parse_id_number(body.get("id_number"))
    med_type = body.get("med_type")
    if med_type not in engine.MED_TYPES:
        raise _refuse("医疗类别应为 general 或 chronic", "unknown_med_type", field="med_type")
    disease_code = body.get("disease_code")
    if disease_code is not None and (not isinstance(disease_code, str) or not 0 < len(disease_code) <= 32):
        raise _refuse("病种编码不正确", "invalid_disease_code", field="disease_code")
    use_account = body.get("use_account", False)
    if not isinstance(use_account, bool):
        raise _refuse("use_account 应为 true 或 false", "invalid_use_account", field="use_account")
    return SettlementRequest(
        id_number=id_number,
        visit_date=parse_date(body.get("visit_date"), "visit_date", today=today),
        med_type=med_type,
        lines=parse_lines(body.get("items")),
        use_account=use_account,
        order_no=_reference(body, "order_no"),
        invoice_no=_reference(body, "invoice_no"),
        disease_code=disease_code,
    )


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
        in_region=in_region, med_type=request.med_type, lines=_engine_lines(request.lines),
        disease_code=request.disease_code,
    )
    result = _run_engine(policy, snapshot, visit, before)
    from_accounts = request.use_account and result.account_payable > 0
    if not from_accounts:
        result = engine.with_payments(result, 0, 0)
    settlement = _new_settlement(
        person, result, request.visit_date, request.med_type, in_region, now,
        source="direct", institution=institution, order_no=request.order_no, invoice_no=request.invoice_no,
        disease_code=request.disease_code, request_hash=request.fingerprint(), lines=request.lines,
        engine_input=_engine_input(snapshot, before, institution.level, institution.kind, in_region),
        clearing_month=clearing.open_month(institution.id, now),
        balc=None if from_accounts else _own_balance(person.id),
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
        raise _refuse("参保人未办理异地就医备案，不能在参保地以外直接结算，可先自付后回参保地手工报销", refusal)
    if refusal == "offsite_level_not_allowed":
        raise _refuse("异地就医仅可在二级及以上定点医疗机构直接结算", refusal)
    return institution.region_code == person.region_code


def _engine_lines(lines: tuple[FeeLine, ...]) -> tuple[engine.Line, ...]:
    return tuple(engine.Line(line.code, line.name, line.amount, line.in_scope, line.account_eligible)
                 for line in lines)


def _run_engine(policy, snapshot, visit, before) -> engine.Settlement:
    try:
        return engine.settle(policy, snapshot, visit, before)
    except engine.InvalidBenefitInput as exc:
        raise _refuse("结算数据不符合要求", exc.reason) from None


def _engine_input(snapshot: engine.Person, before: Mapping[str, int], level: str, kind: str,
                  in_region: bool) -> dict:
    return {"person": snapshot_as_dict(snapshot), "year_to_date": dict(before), "institution_level": level,
            "institution_kind": kind, "in_region": in_region}


def _new_settlement(person: Person, result: engine.Settlement, visit_date: dt.date, med_type: str,
                    in_region: bool, now: dt.datetime, *, source: str, lines: tuple[FeeLine, ...],
                    engine_input: dict, clearing_month: str, institution: Institution | None = None,
                    institution_name: str | None = None, **fields: object) -> Settlement:
    """The settlement row, paid in cash unless the result records account payments."""
    settlement = Settlement(
        id=new_public_id("ST"), source=source, status="settled", person_id=person.id,
        institution_id=institution.id if institution else None,
        institution_name=institution.name if institution else institution_name,
        institution_level=engine_input["institution_level"], visit_date=visit_date,
        benefit_year=result.benefit_year, med_type=med_type, bucket=result.bucket,
        fund_share_bp=result.fund_share_bp, in_region=in_region, policy_version_code=result.policy_version,
        medfee_sumamt=result.medfee_sumamt, inscp_scp_amt=result.inscp_scp_amt, act_pay_dedc=result.act_pay_dedc,
        hifp_pay=result.hifp_pay, acct_pay=result.acct_pay or 0, acct_mulaid_pay=result.acct_mulaid_pay or 0,
        psn_cash_pay=result.personal_part if result.psn_cash_pay is None else result.psn_cash_pay,
        reasons=list(result.reason_codes), explanation=list(result.explanation), clearing_month=clearing_month,
        settled_at=now, engine_input=engine_input, refunds=[],
        lines=[SettlementLine(code=line.code, name=line.name, amount_fen=line.amount, in_scope=line.in_scope,
                              account_eligible=line.account_eligible, bucket=result.bucket) for line in lines],
        **fields,
    )
    db.session.add(settlement)
    db.session.flush()  # the rows that refer to it (postings, accumulator entries, invoices) come after
    return settlement


def _own_balance(person_id: int) -> int | None:
    return db.session.scalar(select(IndividualAccount.balance_fen).where(IndividualAccount.person_id == person_id))


def invoice_numbers_used(numbers: list[str]) -> list[str]:
    """The numbers already settled or reimbursed (the same fee is never paid twice, NX §25)."""
    if not numbers:
        return []
    return sorted(db.session.scalars(select(InvoiceRecord.number).where(InvoiceRecord.number.in_(numbers))))


# --- refunds --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RefundRequest:
    refund_no: str
    line_nos: tuple[int, ...] | None  # None: everything not refunded yet

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()


def parse_refund(body: Mapping) -> RefundRequest:
    refund_no = _reference(body, "refund_no", required=True)
    line_nos = body.get("line_nos")
    if line_nos is None:
        return RefundRequest(refund_no, None)
    if (not isinstance(line_nos, list) or not line_nos
            or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in line_nos)
            or len(set(line_nos)) != len(line_nos)):
        raise _refuse("line_nos 应为不重复的明细序号（从 1 开始）", "invalid_line_nos", field="line_nos")
    return RefundRequest(refund_no, tuple(sorted(line_nos)))


def refund(institution: Institution, setl_id: str, body: Mapping, *, now: dt.datetime | None = None) -> dict:
    """Refund a settlement, wholly or some of its lines, along the original channels (NX §28)."""
    return refund_outcome(institution, setl_id, body, now=now)[0]


def refund_outcome(institution: Institution, setl_id: str, body: Mapping, *,
                   now: dt.datetime | None = None) -> tuple[dict, bool]:
    """(response body, created): ``created`` is False when the refund number was used before with this body."""
    now = now or utcnow()
    request = parse_refund(body)
    try:
        view, created = _refund(institution, _settlement_of(institution, setl_id), request, now)
        if created:
            db.session.commit()
        else:
            db.session.rollback()
    except IntegrityError:
        db.session.rollback()  # the same refund number committed by a concurrent request
        settlement = _settlement_of(institution, setl_id)
        row = _refund_by_no(settlement, request.refund_no)
        if row is None:
            raise
        return _repeat_of_refund(settlement, row, request), False
    except Exception:
        db.session.rollback()
        raise
    return view, created


def _settlement_of(institution: Institution, setl_id: str) -> Settlement:
    settlement = db.session.get(Settlement, setl_id)
    if settlement is None:
        raise NotFound("未找到该结算", reason="settlement_not_found")
    if settlement.institution_id != institution.id:
        raise Forbidden("只有原结算机构可以办理退费", reason="not_the_settling_institution")
    return settlement


def _refund_by_no(settlement: Settlement, refund_no: str) -> SettlementRefund | None:
    return db.session.scalar(select(SettlementRefund).where(
        SettlementRefund.settlement_id == settlement.id, SettlementRefund.refund_no == refund_no))


def _repeat_of_refund(settlement: Settlement, row: SettlementRefund, request: RefundRequest) -> dict:
    if row.request_hash != request.fingerprint():
        raise Conflict("该退费单号已用于另一笔不同的退费", reason="refund_no_reused", refund_no=request.refund_no)
    return refund_view(settlement, row)


def _refund(institution: Institution, settlement: Settlement, request: RefundRequest,
            now: dt.datetime) -> tuple[dict, bool]:
    benefits.lock_person(settlement.person_id)  # the same lock as settlements: accumulators move one at a time
    db.session.expire(settlement)  # read again, with its refunds, now that the person is locked
    earlier = _refund_by_no(settlement, request.refund_no)
    if earlier is not None:
        return _repeat_of_refund(settlement, earlier, request), False
    lines = _ordered_lines(settlement)
    chosen, left = _refunded_lines(settlement, len(lines), request.line_nos)
    now_paid = _replay_engine(settlement, lines, sorted(chosen + left))
    after = _replay_engine(settlement, lines, left) if left else None
    parts = _refund_parts(settlement, now_paid, after)
    row = SettlementRefund(
        settlement_id=settlement.id, refund_no=request.refund_no, line_nos=chosen,
        request_hash=request.fingerprint(), clearing_month=clearing.open_month(institution.id, now),
        refunded_at=now, **parts,
    )
    settlement.refunds.append(row)
    db.session.flush()
    if parts["acct_pay"] or parts["acct_mulaid_pay"]:
        accounts.refund_to_accounts(settlement.id, f"{settlement.id}/{request.refund_no}", parts["acct_pay"],
                                    parts["acct_mulaid_pay"])
    deltas = _delta_difference(after.accumulator_deltas if after else {}, now_paid.accumulator_deltas)
    add_to_accumulators(settlement.person_id, settlement.benefit_year, deltas, settlement_id=settlement.id,
                        refund_id=row.id)
    settlement.status = "partially_refunded" if left else "refunded"
    row.balc = _own_balance(settlement.person_id)
    db.session.flush()
    return refund_view(settlement, row), True


def _refunded_lines(settlement: Settlement, line_count: int,
                    asked: tuple[int, ...] | None) -> tuple[list[int], list[int]]:
    """(the lines refunded now, the lines still settled after it); a refund never exceeds the original."""
    refunded = {n for row in settlement.refunds for n in (row.line_nos or ())}
    remaining = [n for n in range(1, line_count + 1) if n not in refunded]
    if not remaining:
        raise Conflict("该结算已全额退费", reason="already_refunded")
    chosen = list(asked) if asked is not None else remaining
    unknown = [n for n in chosen if n > line_count]
    if unknown:
        raise _refuse("退费明细序号不存在", "unknown_line_no", line_nos=unknown)
    twice = [n for n in chosen if n in refunded]
    if twice:
        raise Conflict("这些明细已退费", reason="line_already_refunded", line_nos=twice)
    return sorted(chosen), [n for n in remaining if n not in chosen]


def _ordered_lines(settlement: Settlement) -> list[SettlementLine]:
    return sorted(settlement.lines, key=lambda line: line.id)


def _replay_engine(settlement: Settlement, lines: list[SettlementLine], line_nos: list[int]) -> engine.Settlement:
    """The settlement of just these lines, with exactly the input the original had (its own policy version,
    the person as they were, the accumulators before it): so refunds add up to the original exactly."""
    given = settlement.engine_input
    visit = engine.Visit(
        service_date=settlement.visit_date, institution_level=given["institution_level"],
        institution_kind=given["institution_kind"], in_region=given["in_region"], med_type=settlement.med_type,
        lines=tuple(engine.Line(line.code, line.name, line.amount_fen, line.in_scope, line.account_eligible)
                    for line in (lines[n - 1] for n in line_nos)),
        disease_code=settlement.disease_code,
    )
    return engine.settle(policies.version(settlement.policy_version_code), snapshot_from_dict(given["person"]),
                         visit, given["year_to_date"])


def _refund_parts(settlement: Settlement, now_paid: engine.Settlement, after: engine.Settlement | None) -> dict:
    """Split the refund by channel. The fund returns what it paid for the refunded lines; of the personal part,
    cash is returned first, then the accounts (sharers' before the person's own: the last drawn is refunded
    first) — but always enough account money that the accounts never keep paying more than the remaining lines
    allow them to."""
    total = now_paid.medfee_sumamt - (after.medfee_sumamt if after else 0)
    fund = now_paid.hifp_pay - (after.hifp_pay if after else 0)
    personal = total - fund
    net = {channel: getattr(settlement, channel) - sum(getattr(r, channel) for r in settlement.refunds)
           for channel in ("acct_pay", "acct_mulaid_pay", "psn_cash_pay")}
    accounts_keep_at_most = after.account_payable if after else 0
    from_accounts_at_least = max(0, net["acct_pay"] + net["acct_mulaid_pay"] - accounts_keep_at_most)
    cash = min(net["psn_cash_pay"], personal - from_accounts_at_least)
    from_accounts = personal - cash
    shared = min(net["acct_mulaid_pay"], from_accounts)
    own = from_accounts - shared
    if own > net["acct_pay"] or min(fund, cash, shared, own) < 0:
        raise Conflict("退费金额超出原结算", reason="refund_exceeds_original")
    return {"medfee_sumamt": total, "hifp_pay": fund, "acct_pay": own, "acct_mulaid_pay": shared,
            "psn_cash_pay": cash}


def _delta_difference(after: Mapping[str, int], before: Mapping[str, int]) -> dict[str, int]:
    names = set(after) | set(before)
    return {name: after.get(name, 0) - before.get(name, 0) for name in sorted(names)
            if after.get(name, 0) != before.get(name, 0)}


# --- views ------------------------------------------------------------------------------------------------------

def settlement_view(settlement: Settlement, *, institution: Institution | None = None,
                    person: Person | None = None) -> dict:
    """A settlement as institutions and the person see it: 2207 names in yuan, lines, refunds, explanation."""
    person = person or db.session.get(Person, settlement.person_id)
    if institution is None and settlement.institution_id is not None:
        institution = db.session.get(Institution, settlement.institution_id)
    return {
        "setl_id": settlement.id,
        "source": settlement.source,
        "status": settlement.status,
        "order_no": settlement.order_no,
        "invoice_no": settlement.invoice_no,
        "person": masked_person(person),
        "institution": {
            "code": institution.code if institution else None,
            "name": settlement.institution_name,
            "level": settlement.institution_level,
        },
        "visit_date": settlement.visit_date.isoformat(),
        "med_type": settlement.med_type,
        "bucket": settlement.bucket,
        "disease_code": settlement.disease_code,
        "in_region": settlement.in_region,
        "policy_version": settlement.policy_version_code,
        "benefit_year": settlement.benefit_year,
        "fund_share": percent_label(settlement.fund_share_bp or 0),
        **{name: fen_to_yuan(getattr(settlement, name)) for name in AMOUNT_FIELDS},
        "balc": fen_to_yuan(settlement.balc) if settlement.balc is not None else None,
        "items": [
            {"line_no": number, "code": line.code, "name": line.name, "amount": fen_to_yuan(line.amount_fen),
             "in_scope": line.in_scope, "account_eligible": line.account_eligible}
            for number, line in enumerate(_ordered_lines(settlement), start=1)
        ],
        "refunds": [_refund_summary(row) for row in sorted(settlement.refunds, key=lambda r: r.id)],
        "explanation": list(settlement.explanation),
        "reasons": list(settlement.reasons),
        "settled_at": settlement.settled_at.isoformat(),
        "clearing_month": settlement.clearing_month,
    }


def _refund_summary(row: SettlementRefund) -> dict:
    return {
        "refund_no": row.refund_no,
        "line_nos": list(row.line_nos or []),
        "medfee_sumamt": fen_to_yuan(row.medfee_sumamt),
        **{channel: fen_to_yuan(getattr(row, channel)) for channel in clearing.CHANNELS},
        "balc": fen_to_yuan(row.balc) if row.balc is not None else None,
        "clearing_month": row.clearing_month,
        "refunded_at": row.refunded_at.isoformat(),
    }


def refund_view(settlement: Settlement, row: SettlementRefund) -> dict:
    sentence = (f"退费 {fen_to_yuan(row.medfee_sumamt)} 元，按原渠道退回：统筹基金 {fen_to_yuan(row.hifp_pay)} 元，"
                f"个人账户 {fen_to_yuan(row.acct_pay)} 元，共济账户 {fen_to_yuan(row.acct_mulaid_pay)} 元，"
                f"现金 {fen_to_yuan(row.psn_cash_pay)} 元；本次结算占用的起付线和支付限额相应恢复。")
    return {"setl_id": settlement.id, "status": settlement.status, **_refund_summary(row), "explanation": [sentence]}


# --- the person's own settlements --------------------------------------------------------------------------------

def list_for_person(person_id: int, *, year: int | None = None, page: int = 1, page_size: int = 20) -> dict:
    """The person's settlements, newest visit first, a page at a time."""
    page, page_size = max(1, page), min(max(1, page_size), 100)
    query = select(Settlement).where(Settlement.person_id == person_id)
    if year is not None:
        query = query.where(Settlement.benefit_year == year)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.order_by(Settlement.visit_date.desc(), Settlement.settled_at.desc())
                              .offset((page - 1) * page_size).limit(page_size))
    return {"items": [_summary(row) for row in rows], "page": page, "page_size": page_size, "total": total,
            "year": year}


def _summary(settlement: Settlement) -> dict:
    return {
        "setl_id": settlement.id, "source": settlement.source, "status": settlement.status,
        "visit_date": settlement.visit_date.isoformat(), "institution_name": settlement.institution_name,
        "med_type": settlement.med_type,
        **{name: fen_to_yuan(getattr(settlement, name)) for name in AMOUNT_FIELDS},
    }


def detail_for_person(person_id: int, setl_id: str) -> dict:
    """One of the person's settlements; another person's is reported as not found."""
    return settlement_view(owned_settlement(person_id, setl_id))


def owned_settlement(person_id: int, setl_id: str) -> Settlement:
    settlement = db.session.get(Settlement, setl_id)
    if settlement is None or settlement.person_id != person_id:
        raise NotFound("未找到该结算记录", reason="settlement_not_found")
    return settlement


# --- manual reimbursement (used by the applications service) --------------------------------------------------

def _manual_inputs(person: Person, visit: ManualVisit, before: Mapping[str, int]):
    if visit.hospital_level not in HOSPITAL_LEVELS:
        raise _refuse("医院等级应为 tertiary、secondary 或 primary", "unknown_hospital_level")
    if visit.med_type not in engine.MED_TYPES:
        raise _refuse("医疗类别应为 general 或 chronic", "unknown_med_type")
    policy = policies.in_force(person.region_code, visit.visit_date)  # NX §22: the insured place's policy
    snapshot = person_snapshot(person, visit.visit_date, policy)
    lines = tuple(FeeLine(f"M{number:03d}", name, amount, in_scope)
                  for number, (name, amount, in_scope) in enumerate(visit.lines, start=1))
    engine_visit = engine.Visit(
        service_date=visit.visit_date, institution_level=visit.hospital_level, institution_kind="hospital",
        in_region=not visit.cross_province, med_type=visit.med_type, lines=_engine_lines(lines),
    )
    return snapshot, lines, engine.with_payments(_run_engine(policy, snapshot, engine_visit, before), 0, 0)


def preview_manual(person_id: int, manual_visit: ManualVisit) -> dict:
    """What the fund would reimburse for the visit now, with the person's accumulators now. Writes nothing."""
    person = people.get(person_id)
    _, _, result = _manual_inputs(person, manual_visit, year_to_date(person_id, manual_visit.visit_date.year))
    return {**result_view(result), "visit_date": manual_visit.visit_date.isoformat(),
            "in_region": not manual_visit.cross_province, "institution_name": manual_visit.institution_name}


def record_manual(person_id: int, application_id: str, manual_visit: ManualVisit,
                  invoice_numbers: list[str]) -> Settlement:
    """Record an approved manual claim as a settlement (no commit: part of the caller's transaction).

    Computed under the person's lock with the accumulators of this moment; the fund part ``hifp_pay`` is what
    the agency pays out; no account pays, the personal part stays with the person as cash.
    """
    person = people.get(person_id)
    before = year_to_date(person_id, manual_visit.visit_date.year, lock=True)
    used = invoice_numbers_used(list(invoice_numbers))
    if used:
        raise Conflict("发票已结算或报销过", reason="invoice_already_used", invoice_numbers=used)
    snapshot, lines, result = _manual_inputs(person, manual_visit, before)
    now = utcnow()
    settlement = _new_settlement(
        person, result, manual_visit.visit_date, manual_visit.med_type, not manual_visit.cross_province, now,
        source="manual", application_id=application_id, institution_name=manual_visit.institution_name,
        lines=lines, clearing_month=clearing.month_of(now),
        engine_input=_engine_input(snapshot, before, manual_visit.hospital_level, "hospital",
                                   not manual_visit.cross_province),
    )
    add_to_accumulators(person_id, result.benefit_year, result.accumulator_deltas, settlement_id=settlement.id)
    db.session.add_all([InvoiceRecord(number=number, settlement_id=settlement.id, application_id=application_id,
                                      recorded_at=now) for number in invoice_numbers])
    db.session.flush()
    return settlement


def statement_lines(settlement: Settlement) -> list[SettlementLine]:
    return _ordered_lines(settlement)


# --- demo history (seed-demo) -------------------------------------------------------------------------------------

# (order number, institution, ID number, days ago, items (code, name, yuan, in scope), use the account)
DEMO_VISITS = (
    ("DEMO-0001", "NX-T-001", "640104198506120314", 40,
     (("001102000010000", "一般诊疗费", "10.00", True), ("XJ01CAA040E001", "阿莫西林胶囊", "2990.00", True),
      ("ZF000000001", "营养补充剂", "120.00", False)), True),
    ("DEMO-0002", "NX-P-001", "640104198506120314", 12, (("XC09AAA001", "卡托普利片", "280.00", True),), True),
    ("DEMO-0003", "NX-S-001", "640104195803150014", 25, (("XA10BAA001", "二甲双胍片", "1500.00", True),), True),
    ("DEMO-0004", "NM-T-001", "150102198203050313", 30, (("XN02BEA001", "布洛芬缓释胶囊", "3000.00", True),), True),
    ("DEMO-0005", "NM-C-001", "150102195506180023", 18, (("001102000010000", "一般诊疗费", "800.00", True),), False),
    ("DEMO-0006", "NM-S-001", "150105198809230713", 9, (("XR05CBA001", "氨溴索片", "2000.00", True),), True),
)
DEMO_REFUNDS = (("NM-S-001", "DEMO-0006", "DEMO-R0001"),)  # (institution, order number, refund number)


def seed_demo_history() -> int:
    """Settle the demo visits through the service, once per order number (safe to run again); returns how many
    were settled now. Dates are days before today, so the demo's caps show this year's use."""
    today = dt.datetime.now(LOCAL_ZONE).date()
    added = 0
    for order_no, code, id_number, days_ago, items, use_account in DEMO_VISITS:
        institution = db.session.scalar(select(Institution).where(Institution.code == code))
        if institution is None or people.by_id_number(id_number) is None or _by_order_no(institution, order_no):
            continue
        settle_direct(institution, {
            "id_number": id_number, "visit_date": (today - dt.timedelta(days=days_ago)).isoformat(),
            "med_type": "general", "use_account": use_account, "order_no": order_no,
            "items": [{"code": c, "name": n, "amount": a, "in_scope": s} for c, n, a, s in items],
        })
        added += 1
    for code, order_no, refund_no in DEMO_REFUNDS:
        institution = db.session.scalar(select(Institution).where(Institution.code == code))
        settlement = db.session.scalar(select(Settlement).where(
            Settlement.institution_id == institution.id, Settlement.order_no == order_no)) if institution else None
        if settlement is not None:
            refund(institution, settlement.id, {"refund_no": refund_no})  # a repeat answers the same
    return added
