"""The outpatient benefits engine: what the pooling fund pays for one visit, and why.

``settle(policy, person, visit, year_to_date)`` is a pure function of policy data, a snapshot of the person, the
visit's fee lines and the person's year-to-date accumulators for the visit's benefit year. It returns a frozen
``Settlement`` with the national 2207 field names, the accumulator deltas to store, reason codes and a Chinese
explanation. It never decides how the personal part is paid: ``with_payments`` records that afterwards.

Accumulators are a plain mapping ``name -> fen`` per person × benefit year (the caller stores them generically):

- ``deductible``            in-scope fees counted toward the annual deductible (one, shared by the buckets the
                            policy lists: NX §13)
- ``general_fund`` / ``chronic_fund``   fund paid by each bucket, measured against that bucket's cap (caps
                            accumulate separately: NX §13)
- ``combined_fund``         fund counted toward the basic-insurance annual maximum (NM §9); inpatient pooling and
                            大额 payments recorded elsewhere belong here too
- ``<bucket>_base_<bp>``    eligible fees above the deductible settled at share ``bp`` (``general_base_6000``),
                            kept only to round cumulatively (see ``_fund_before_caps``)

Each visit's lines go to exactly one bucket, so no fee is paid twice by chronic and general pooling (NM §11,
NX §25). A refund adds the negated deltas (``reversal_of``), restoring the prior accumulators exactly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import NamedTuple

from backend.domain.money import fen_to_yuan, percent_label
from backend.domain.people import PERSON_STATUSES, PERSON_TYPES, REGIONS
from backend.domain.policy import BUCKETS, CHRONIC, GENERAL, HOSPITAL_LEVELS, INSTITUTION_KINDS, BucketRule, Policy

MED_TYPES = BUCKETS

DEDUCTIBLE = "deductible"
GENERAL_FUND = "general_fund"
CHRONIC_FUND = "chronic_fund"
COMBINED_FUND = "combined_fund"
FUND_ACCUMULATOR = {GENERAL: GENERAL_FUND, CHRONIC: CHRONIC_FUND}

DEDUCTIBLE_APPLIED = "deductible_applied"
GENERAL_CAP_REACHED = "general_cap_reached"
CHRONIC_CAP_REACHED = "chronic_cap_reached"
COMBINED_CAP_REACHED = "combined_cap_reached"
OUT_OF_SCOPE_LINES = "out_of_scope_lines"
ACCOUNT_INELIGIBLE_LINES = "account_ineligible_lines"
CHRONIC_NOT_QUALIFIED = "chronic_not_qualified"
OUT_OF_REGION = "out_of_region"
POOLING_STOPPED_ARREARS = "pooling_stopped_arrears"
POOLING_STOPPED_IN_HOSPITAL = "pooling_stopped_in_hospital"
POOLING_STOPPED_SUSPENDED = "pooling_stopped_suspended"
POOLING_STOPPED_TERMINATED = "pooling_stopped_terminated"
GENERAL_EXCLUDED_BY_CHRONIC = "general_excluded_by_chronic"
INSTITUTION_NOT_IN_POOLING_SCOPE = "institution_not_in_pooling_scope"
CAP_REACHED = {GENERAL: GENERAL_CAP_REACHED, CHRONIC: CHRONIC_CAP_REACHED}
REASON_CODES = (
    DEDUCTIBLE_APPLIED, GENERAL_CAP_REACHED, CHRONIC_CAP_REACHED, COMBINED_CAP_REACHED, OUT_OF_SCOPE_LINES,
    ACCOUNT_INELIGIBLE_LINES, CHRONIC_NOT_QUALIFIED, OUT_OF_REGION, POOLING_STOPPED_ARREARS,
    POOLING_STOPPED_IN_HOSPITAL, POOLING_STOPPED_SUSPENDED, POOLING_STOPPED_TERMINATED, GENERAL_EXCLUDED_BY_CHRONIC,
    INSTITUTION_NOT_IN_POOLING_SCOPE,
)

BUCKET_LABELS = {GENERAL: "普通门诊统筹", CHRONIC: "门诊慢特病"}
LEVEL_LABELS = {"tertiary": "三级医疗机构", "secondary": "二级医疗机构", "primary": "一级及基层医疗机构"}
PERSON_TYPE_LABELS = {"employed": "在职职工", "retired": "退休人员", "flexible": "灵活就业人员"}
STOP_SENTENCES = {
    POOLING_STOPPED_SUSPENDED: "参保状态为暂停，不享受统筹基金支付。",
    POOLING_STOPPED_TERMINATED: "参保关系已终止，不享受统筹基金支付。",
    POOLING_STOPPED_ARREARS: "存在欠缴基本医疗保险费，暂停{label}待遇，补缴后恢复。",
    POOLING_STOPPED_IN_HOSPITAL: "住院期间不享受{label}待遇。",
    GENERAL_EXCLUDED_BY_CHRONIC: "已享受门诊慢特病待遇，不同时享受普通门诊统筹待遇。",
    INSTITUTION_NOT_IN_POOLING_SCOPE: "该机构不在{label}定点范围内。",
}


class InvalidBenefitInput(ValueError):
    """Input the engine refuses; ``reason`` is a stable lower_snake_case code."""

    def __init__(self, reason: str, detail: str = ""):
        self.reason = reason
        super().__init__(f"{reason}: {detail}" if detail else reason)


def _require(condition: bool, reason: str, detail: str = "") -> None:
    if not condition:
        raise InvalidBenefitInput(reason, detail)


@dataclass(frozen=True)
class Person:
    """What the engine needs to know about the insured person on the service date."""

    region: str
    person_type: str
    status: str = "active"
    chronic_qualifications: frozenset[str] = frozenset()
    in_hospital: bool = False
    chronic_cap_fen: int | None = None  # an approved cap adjustment replaces the policy's chronic cap (NX §17)

    def __post_init__(self) -> None:
        _require(self.region in REGIONS, "unknown_region", repr(self.region))
        _require(self.person_type in PERSON_TYPES, "unknown_person_type", repr(self.person_type))
        _require(self.status in PERSON_STATUSES, "unknown_status", repr(self.status))
        _require(self.chronic_cap_fen is None or self.chronic_cap_fen >= 0, "negative_amount", "chronic_cap_fen")
        object.__setattr__(self, "chronic_qualifications", frozenset(self.chronic_qualifications))


@dataclass(frozen=True)
class Line:
    code: str
    name: str
    amount: int  # fen
    in_scope: bool  # inside the drug / treatment / consumable catalogues (NX §11, NM §16)
    account_eligible: bool = True  # False: the institution says the account may not pay it
    use: str | None = None  # what the fee is for when not medical care: public_health, fitness, wellness (NM §5)

    def __post_init__(self) -> None:
        _require(isinstance(self.amount, int) and not isinstance(self.amount, bool), "invalid_amount", self.code)
        _require(self.amount >= 0, "negative_amount", self.code)


@dataclass(frozen=True)
class Visit:
    service_date: dt.date
    institution_level: str
    institution_kind: str
    in_region: bool
    med_type: str
    lines: tuple[Line, ...]
    disease_code: str | None = None  # for a chronic visit: the certified disease treated

    def __post_init__(self) -> None:
        _require(self.institution_level in HOSPITAL_LEVELS, "unknown_institution_level", repr(self.institution_level))
        _require(self.institution_kind in INSTITUTION_KINDS, "unknown_institution_kind", repr(self.institution_kind))
        _require(self.med_type in MED_TYPES, "unknown_med_type", repr(self.med_type))
        object.__setattr__(self, "lines", tuple(self.lines))
        _require(bool(self.lines), "no_lines")


@dataclass(frozen=True)
class Settlement:
    policy_version: str
    benefit_year: int
    bucket: str  # the one bucket this visit's lines were settled in
    fund_share_bp: int  # 0 when pooling was stopped
    medfee_sumamt: int  # total
    inscp_scp_amt: int  # in scope
    act_pay_dedc: int  # counted toward the deductible this time
    hifp_pay: int  # pooling fund
    personal_part: int  # medfee_sumamt − hifp_pay
    account_payable: int  # the part of personal_part an individual account may pay
    accumulator_deltas: dict[str, int]  # add these to the benefit year's accumulators; only non-zero entries
    reason_codes: tuple[str, ...]
    explanation: tuple[str, ...]
    acct_pay: int | None = None  # filled by with_payments
    acct_mulaid_pay: int | None = None
    psn_cash_pay: int | None = None


@dataclass(frozen=True)
class CapBalance:
    allowed: int
    used: int
    stopped_by: tuple[str, ...] = ()  # why the bucket pays nothing now, whatever is left of its cap

    @property
    def remaining(self) -> int:
        """What the fund may still pay: nothing while the bucket is stopped (NM §11–§13), else the cap's rest."""
        return 0 if self.stopped_by else max(0, self.allowed - self.used)

    @property
    def available(self) -> bool:
        return not self.stopped_by


def benefit_year(visit: Visit) -> int:
    """The benefit year is the calendar year of the service date, for every bucket (NX §13)."""
    return visit.service_date.year


def settle(policy: Policy, person: Person, visit: Visit, year_to_date: Mapping[str, int]) -> Settlement:
    """Settle one visit against the policy in force on its service date and that year's accumulators."""
    if person.region != policy.region:
        raise InvalidBenefitInput("region_mismatch", f"{person.region} person, {policy.region} policy")
    if not policy.covers(visit.service_date):
        raise InvalidBenefitInput("policy_not_in_force", f"{policy.version} on {visit.service_date}")
    total = in_scope = ineligible = 0
    for line in visit.lines:
        total += line.amount
        if line.in_scope:
            in_scope += line.amount
        if account_refusal(policy, line) is not None:
            ineligible += line.amount
    bucket = _bucket_for(person, visit)
    rule = policy.benefits.bucket(bucket)
    stops = _pooling_stops(policy, rule, person, visit)
    pooling = None if stops else _pool(policy, rule, person, visit, in_scope, year_to_date)
    fund = pooling.fund if pooling else 0
    personal = total - fund
    # An ineligible line is taken as wholly personal, so the account is never offered more than it may pay.
    account_payable = max(0, personal - ineligible)
    reasons = _reasons(visit, bucket, total, in_scope, ineligible, stops, pooling)
    return Settlement(
        policy_version=policy.version,
        benefit_year=benefit_year(visit),
        bucket=bucket,
        fund_share_bp=pooling.share_bp if pooling else 0,
        medfee_sumamt=total,
        inscp_scp_amt=in_scope,
        act_pay_dedc=pooling.deductible_paid if pooling else 0,
        hifp_pay=fund,
        personal_part=personal,
        account_payable=account_payable,
        accumulator_deltas=pooling.deltas() if pooling else {},
        reason_codes=reasons,
        explanation=_explain(policy, person, visit, bucket, total, in_scope, ineligible, stops, pooling,
                             personal, account_payable),
    )


def estimate(policy: Policy, person: Person, amount: int, institution_level: str, service_date: dt.date,
             year_to_date: Mapping[str, int], med_type: str = GENERAL,
             institution_kind: str = "hospital") -> Settlement:
    """What the fund would pay for an in-scope amount at a level ("3000 元在三级医院能报多少"), as a settlement."""
    visit = Visit(
        service_date=service_date,
        institution_level=institution_level,
        institution_kind=institution_kind,
        in_region=True,
        med_type=med_type,
        lines=(Line(code="estimate", name="估算费用", amount=amount, in_scope=True),),
    )
    return settle(policy, person, visit, year_to_date)


def with_payments(settlement: Settlement, acct_pay: int, acct_mulaid_pay: int) -> Settlement:
    """Record how the personal part was paid: own account, a sharer's account, and the rest in cash."""
    _require(settlement.psn_cash_pay is None, "payments_already_recorded")
    _require(acct_pay >= 0 and acct_mulaid_pay >= 0, "negative_amount", "account payment")
    _require(acct_pay + acct_mulaid_pay <= settlement.account_payable, "account_payment_exceeds_payable",
             f"{acct_pay} + {acct_mulaid_pay} > {settlement.account_payable}")
    cash = settlement.personal_part - acct_pay - acct_mulaid_pay
    assert settlement.hifp_pay + acct_pay + acct_mulaid_pay + cash == settlement.medfee_sumamt
    sentence = (f"个人账户支付 {fen_to_yuan(acct_pay)} 元，共济账户支付 {fen_to_yuan(acct_mulaid_pay)} 元，"
                f"现金支付 {fen_to_yuan(cash)} 元。")
    return replace(settlement, acct_pay=acct_pay, acct_mulaid_pay=acct_mulaid_pay, psn_cash_pay=cash,
                   explanation=settlement.explanation + (sentence,))


def eligible_base_accumulator(bucket: str, share_bp: int) -> str:
    return f"{bucket}_base_{share_bp}"


def apply_deltas(year_to_date: Mapping[str, int], deltas: Mapping[str, int]) -> dict[str, int]:
    """The accumulators after a settlement (or, with ``reversal_of``, after its refund); a missing name means 0."""
    result = dict(year_to_date)
    for name, amount in deltas.items():
        result[name] = result.get(name, 0) + amount
    return result


def reversal_of(settlement: Settlement) -> dict[str, int]:
    """The deltas that undo a settlement: a refund restores the deductible and caps it consumed (NX §28)."""
    return {name: -amount for name, amount in settlement.accumulator_deltas.items()}


def cap_balances(policy: Policy, person: Person, year_to_date: Mapping[str, int]) -> dict[str, CapBalance]:
    """Allowed and used amounts for the year: deductible, general, chronic, combined (the caps endpoint).

    A bucket the person cannot draw on now says why and has nothing remaining, with the same reasons a visit
    settled now would give: an NM person with an active chronic qualification gets 0 from general pooling
    (NM §11), however much of the general cap is unused.
    """
    ptype = person.person_type
    benefits = policy.benefits
    return {
        DEDUCTIBLE: CapBalance(benefits.deductible.amount_fen.of(ptype), _used(year_to_date, DEDUCTIBLE)),
        GENERAL: CapBalance(_cap(benefits.general, person), _used(year_to_date, GENERAL_FUND),
                            bucket_stops(policy, benefits.general, person)),
        CHRONIC: CapBalance(_cap(benefits.chronic, person), _used(year_to_date, CHRONIC_FUND),
                            bucket_stops(policy, benefits.chronic, person)),
        "combined": CapBalance(benefits.combined_cap_fen.of(ptype), _used(year_to_date, COMBINED_FUND)),
    }


def bucket_stops(policy: Policy, rule: BucketRule, person: Person) -> tuple[str, ...]:
    """Why the bucket pays this person nothing at any institution today (the person-level part of the stops)."""
    stops = []
    if person.status == "suspended":
        stops.append(POOLING_STOPPED_SUSPENDED)
    if person.status == "terminated":
        stops.append(POOLING_STOPPED_TERMINATED)
    if person.status == "arrears" and rule.stops_in_arrears:  # NM §13
        stops.append(POOLING_STOPPED_ARREARS)
    if person.in_hospital and rule.stops_in_hospital:  # NM §12
        stops.append(POOLING_STOPPED_IN_HOSPITAL)
    if rule.name == GENERAL and policy.benefits.chronic_excludes_general and person.chronic_qualifications:
        stops.append(GENERAL_EXCLUDED_BY_CHRONIC)  # NM §11
    if rule.name == CHRONIC and not person.chronic_qualifications:
        stops.append(CHRONIC_NOT_QUALIFIED)
    return tuple(stops)


# Why the individual account may not pay a fee line (issue #11.10), each with the Chinese sentence shown on it.
EXCLUDED_USE = "excluded_use"
OUT_OF_SCOPE_NOT_PAYABLE = "out_of_scope_not_payable"
INSTITUTION_MARKED_INELIGIBLE = "institution_marked_ineligible"
ACCOUNT_REFUSAL_MESSAGES = {
    EXCLUDED_USE: "个人账户不得用于{use}",
    OUT_OF_SCOPE_NOT_PAYABLE: "政策范围外费用不能由个人账户支付",
    INSTITUTION_MARKED_INELIGIBLE: "定点机构标注该项目不属于个人账户支付范围",
}


def account_refusal(policy: Policy, line: Line) -> str | None:
    """Why the account may not pay this line under the policy's payment scope, or None when it may.

    Excluded uses (NM §5: public health, fitness, wellness) never; lines outside the catalogues only where the
    version's ``account.payment_scope.out_of_scope_lines`` allows it; and never a line the institution marks so.
    """
    if line.use is not None and line.use in dict(policy.account.excluded_uses):
        return EXCLUDED_USE
    if not line.in_scope and not policy.account.payment_scope.out_of_scope_lines:
        return OUT_OF_SCOPE_NOT_PAYABLE
    if not line.account_eligible:
        return INSTITUTION_MARKED_INELIGIBLE
    return None


def account_refusal_view(policy: Policy, line: Line) -> dict[str, str] | None:
    """The reason shown on a refused line: code, Chinese message and the article of the region's policy."""
    reason = account_refusal(policy, line)
    if reason is None:
        return None
    excluded = dict(policy.account.excluded_uses)
    return {"reason": reason, "message": ACCOUNT_REFUSAL_MESSAGES[reason].format(use=excluded.get(line.use or "", "")),
            "article": policy.account.payment_scope.article}


def stop_sentence(reason: str, bucket: str) -> str:
    """The Chinese sentence for a stop reason, as the settlement explanation words it."""
    if reason == CHRONIC_NOT_QUALIFIED:
        return "未取得门诊慢特病待遇资格，不能按门诊慢特病结算。"
    return STOP_SENTENCES[reason].format(label=BUCKET_LABELS[bucket])


# --- which parameters an output depends on (for the sample label) ---------------------------------------------

def parameters_used(policy: Policy, bucket: str, pooled: bool) -> tuple[str, ...]:
    """The dotted policy paths a settlement or estimate of this bucket was computed from; none when pooling was
    stopped (the fund paid nothing whatever the figures)."""
    if not pooled:
        return ()
    rule = policy.benefits.bucket(bucket)
    paths = [f"benefits.buckets.{bucket}.share_bp", f"benefits.buckets.{bucket}.cap_fen"]
    if bucket in policy.benefits.deductible.buckets:
        paths.insert(0, "benefits.deductible.amount_fen")
    if rule.counts_toward_combined_cap:
        paths.append("benefits.combined_cap_fen")
    return tuple(paths)


def cap_parameters(policy: Policy, name: str) -> tuple[str, ...]:
    """The policy paths a line of the caps answer shows."""
    if name == DEDUCTIBLE:
        return ("benefits.deductible.amount_fen",)
    if name == "combined":
        return ("benefits.combined_cap_fen",)
    return (f"benefits.buckets.{name}.cap_fen",)


# --- the computation -------------------------------------------------------------------------------------------

class _Pooling(NamedTuple):  # a tuple, not a dataclass: built once per visit on the hot path
    bucket: str
    deductible_fen: int | None  # None: this bucket has no deductible
    deductible_used: int
    deductible_paid: int
    base_accumulator: str
    base: int
    share_bp: int
    fund_before_caps: int
    cap: int
    cap_used: int
    combined_cap: int | None  # None: this bucket does not count toward the combined cap (NX §14)
    combined_used: int
    fund: int

    @property
    def bucket_cap_reached(self) -> bool:
        return self.fund_before_caps > max(0, self.cap - self.cap_used)

    @property
    def combined_cap_reached(self) -> bool:
        within_bucket_cap = min(self.fund_before_caps, max(0, self.cap - self.cap_used))
        return self.fund < within_bucket_cap

    def deltas(self) -> dict[str, int]:
        deltas = {
            DEDUCTIBLE: self.deductible_paid,
            self.base_accumulator: self.base,
            FUND_ACCUMULATOR[self.bucket]: self.fund,
            COMBINED_FUND: self.fund if self.combined_cap is not None else 0,
        }
        return {name: amount for name, amount in deltas.items() if amount}


def _bucket_for(person: Person, visit: Visit) -> str:
    """A chronic visit without the matching qualification is settled as general outpatient."""
    if visit.med_type == CHRONIC and _qualifies(person, visit.disease_code):
        return CHRONIC
    return GENERAL


def _qualifies(person: Person, disease_code: str | None) -> bool:
    if disease_code is None:
        return bool(person.chronic_qualifications)
    return disease_code in person.chronic_qualifications


def _pooling_stops(policy: Policy, rule: BucketRule, person: Person, visit: Visit) -> tuple[str, ...]:
    # A visit is only settled in the chronic bucket when the person qualifies (_bucket_for), so the person-level
    # chronic_not_qualified stop never applies here; the visit's own reason says a chronic visit fell back.
    stops = [stop for stop in bucket_stops(policy, rule, person) if stop != CHRONIC_NOT_QUALIFIED]
    if visit.institution_kind not in rule.institution_kinds:  # NM §19
        stops.append(INSTITUTION_NOT_IN_POOLING_SCOPE)
    return tuple(stops)


def _pool(policy: Policy, rule: BucketRule, person: Person, visit: Visit, in_scope: int,
          year_to_date: Mapping[str, int]) -> _Pooling:
    ptype = person.person_type
    benefits = policy.benefits
    deductible_fen = None
    deductible_used = deductible_paid = 0
    if rule.name in benefits.deductible.buckets:  # one deductible for all listed buckets (NX §13)
        deductible_fen = benefits.deductible.amount_fen.of(ptype)
        deductible_used = _used(year_to_date, DEDUCTIBLE)
        deductible_paid = min(in_scope, max(0, deductible_fen - deductible_used))
    base = in_scope - deductible_paid
    share_bp = rule.share_bp.of(visit.institution_level).of(ptype)
    base_accumulator = eligible_base_accumulator(rule.name, share_bp)
    fund_before_caps = _fund_before_caps(_used(year_to_date, base_accumulator), base, share_bp)
    cap = _cap(rule, person)
    cap_used = _used(year_to_date, FUND_ACCUMULATOR[rule.name])
    fund = min(fund_before_caps, max(0, cap - cap_used))
    combined_cap = None
    combined_used = 0
    if rule.counts_toward_combined_cap:  # NM §9; NX §14 keeps the general cap out of it
        combined_cap = benefits.combined_cap_fen.of(ptype)
        combined_used = _used(year_to_date, COMBINED_FUND)
        fund = min(fund, max(0, combined_cap - combined_used))
    return _Pooling(
        bucket=rule.name,
        deductible_fen=deductible_fen,
        deductible_used=deductible_used,
        deductible_paid=deductible_paid,
        base_accumulator=base_accumulator,
        base=base,
        share_bp=share_bp,
        fund_before_caps=fund_before_caps,
        cap=cap,
        cap_used=cap_used,
        combined_cap=combined_cap,
        combined_used=combined_used,
        fund=fund,
    )


def _fund_before_caps(base_before: int, base: int, share_bp: int) -> int:
    """This visit's share of the eligible base, rounded cumulatively over the year.

    Rounding each visit's share on its own drifts from rounding the whole year's base once (two visits of 1 fen
    at 60 % would pay 1 + 1 fen, one visit of 2 fen pays 1). So the year's base at this rate is kept in an
    accumulator and the visit pays share(base after) − share(base before): the shares of all visits telescope
    to one share of the total, and splitting spending into several visits pays exactly what one visit would.
    """
    return share_half_up(base_before + base, share_bp) - share_half_up(base_before, share_bp)


def share_half_up(fen: int, share_bp: int) -> int:
    """money.apply_share in integer arithmetic (equal for fen >= 0, tested): several times faster than Decimal.

    fen × bp / 10000 rounded half-up is floor(fen × bp / 10000 + 1/2) = (2 × fen × bp + 10000) // 20000.
    """
    return (2 * fen * share_bp + 10_000) // 20_000


_percent_label = lru_cache(maxsize=None)(percent_label)  # a handful of distinct shares, formatted per visit


def _cap(rule: BucketRule, person: Person) -> int:
    if rule.name == CHRONIC and person.chronic_cap_fen is not None:
        return person.chronic_cap_fen
    return rule.cap_fen.of(person.person_type)


def _used(year_to_date: Mapping[str, int], name: str) -> int:
    amount = year_to_date.get(name, 0)
    _require(amount >= 0, "negative_accumulator", name)
    return amount


# --- reasons and explanation --------------------------------------------------------------------------------

def _reasons(visit: Visit, bucket: str, total: int, in_scope: int, ineligible: int,
             stops: tuple[str, ...], pooling: _Pooling | None) -> tuple[str, ...]:
    reasons = []
    if visit.med_type == CHRONIC and bucket == GENERAL:
        reasons.append(CHRONIC_NOT_QUALIFIED)
    if not visit.in_region:
        reasons.append(OUT_OF_REGION)
    if in_scope < total:
        reasons.append(OUT_OF_SCOPE_LINES)
    if ineligible:
        reasons.append(ACCOUNT_INELIGIBLE_LINES)
    reasons.extend(stops)
    if pooling:
        if pooling.deductible_paid:
            reasons.append(DEDUCTIBLE_APPLIED)
        if pooling.bucket_cap_reached:
            reasons.append(CAP_REACHED[bucket])
        if pooling.combined_cap_reached:
            reasons.append(COMBINED_CAP_REACHED)
    return tuple(reasons)


def _explain(policy: Policy, person: Person, visit: Visit, bucket: str, total: int, in_scope: int,
             ineligible: int, stops: tuple[str, ...], pooling: _Pooling | None, personal: int,
             account_payable: int) -> tuple[str, ...]:
    label = BUCKET_LABELS[bucket]
    sentences = [f"本次按{label}结算，医疗费用 {fen_to_yuan(total)} 元，其中政策范围内 {fen_to_yuan(in_scope)} 元。"]
    if in_scope < total:
        sentences.append(f"政策范围外费用 {fen_to_yuan(total - in_scope)} 元由个人负担。")
    if visit.med_type == CHRONIC and bucket == GENERAL:
        sentences.append("未取得该病种门诊慢特病待遇资格，不能按门诊慢特病结算。")
    if not visit.in_region:
        sentences.append("异地就医费用与区内费用合并累计计算年度支付限额。")
    sentences.extend(STOP_SENTENCES[stop].format(label=label) for stop in stops)
    if stops:
        sentences.append("本次统筹基金不予支付。")
    if pooling:
        sentences.extend(_explain_pooling(policy, person, visit, label, pooling))
    payable = f"个人负担 {fen_to_yuan(personal)} 元，其中个人账户可支付 {fen_to_yuan(account_payable)} 元"
    if ineligible:
        payable += f"（{fen_to_yuan(ineligible)} 元不属于个人账户支付范围）"
    sentences.append(payable + "。")
    return tuple(sentences)


def _explain_pooling(policy: Policy, person: Person, visit: Visit, label: str, pooling: _Pooling) -> list[str]:
    sentences = []
    if pooling.deductible_fen is None:
        sentences.append(f"{label}不设起付线。")
    else:
        used_after = pooling.deductible_used + pooling.deductible_paid
        sharing = [BUCKET_LABELS[name] for name in BUCKETS if name in policy.benefits.deductible.buckets]
        together = f"（{'与'.join(sharing)}合并累计）" if len(sharing) > 1 else ""
        sentences.append(
            f"起付线 {fen_to_yuan(pooling.deductible_fen)} 元{together}，本次支付起付线 "
            f"{fen_to_yuan(pooling.deductible_paid)} 元，剩余 {fen_to_yuan(max(0, pooling.deductible_fen - used_after))} 元。"
        )
    sentences.append(
        f"{LEVEL_LABELS[visit.institution_level]}统筹基金支付 {_percent_label(pooling.share_bp)}"
        f"（{PERSON_TYPE_LABELS[person.person_type]}），本次支付 {fen_to_yuan(pooling.fund)} 元。"
    )
    sentences.append(
        f"本年{label}已付 {fen_to_yuan(pooling.cap_used + pooling.fund)} 元，限额 {fen_to_yuan(pooling.cap)} 元。"
    )
    if pooling.bucket_cap_reached:
        sentences.append(f"已达{label}年度支付限额，超出部分由个人负担。")
    if pooling.combined_cap_reached:
        sentences.append(
            f"已达统筹基金年度最高支付限额 {fen_to_yuan(pooling.combined_cap)} 元"
            f"（本年已付 {fen_to_yuan(pooling.combined_used)} 元），超出部分由个人负担。"
        )
    return sentences
