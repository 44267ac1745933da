"""Benefits for one person: the engine's snapshot of them, their year-to-date accumulators, caps and estimates.

The arithmetic is the pure engine's (backend.domain.benefits); this module feeds it from the database. The
accumulators are stored twice: append-only ``AccumulatorEntry`` deltas (from settlements and refunds) and the
``Accumulator`` cache per person × benefit year × name that the engine reads. Writers lock the person first
(``lock_person``), so two settlements for one person never read the same remaining cap.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, literal, null, or_, select, text, union_all, update

from backend.domain import benefits as engine
from backend.domain.identity import mask_id_number
from backend.domain.money import fen_to_yuan, percent_label
from backend.domain.policy import GENERAL, HOSPITAL_LEVELS, Policy, sample_notice
from backend.errors import NotFound, Unprocessable
from backend.extensions import db
from backend.models import Accumulator, AccumulatorEntry, ChronicQualification, HospitalStay, Institution, Person
from backend.services import accounts, locks, people, policies

# People read dates in Beijing time: "today", a settlement's day and its clearing month are Beijing dates.
LOCAL_ZONE = ZoneInfo("Asia/Shanghai")
AMOUNT_FIELDS = ("medfee_sumamt", "inscp_scp_amt", "act_pay_dedc", "hifp_pay", "acct_pay", "acct_mulaid_pay",
                 "psn_cash_pay")
CAP_NAMES = (engine.DEDUCTIBLE, GENERAL, engine.CHRONIC, "combined")
# One statement per settlement for every accumulator it raises, on PostgreSQL and SQLite alike.
ADD_TO_ACCUMULATOR = text(
    "INSERT INTO accumulators (person_id, year, bucket, amount_fen) VALUES (:person_id, :year, :bucket, :amount_fen)"
    " ON CONFLICT (person_id, year, bucket) DO UPDATE SET amount_fen = accumulators.amount_fen + excluded.amount_fen"
)


def local_today() -> dt.date:
    return dt.datetime.now(LOCAL_ZONE).date()


# --- the person as the engine sees them -------------------------------------------------------------------------

def person_snapshot(person: Person, on_date: dt.date, policy: Policy | None = None) -> engine.Person:
    """Region, type, status, chronic qualifications and hospital stay on the service date.

    The status is the one in force on that date (people.benefit_status_on), not today's.

    An approved cap adjustment (``ChronicQualification.cap_adjustment_fen``, NX §17) is added to the policy's
    chronic cap of the person's type; the sum replaces that cap for the person.
    """
    rows = db.session.execute(union_all(
        select(ChronicQualification.disease_code, ChronicQualification.cap_adjustment_fen)
        .where(ChronicQualification.person_id == person.id, _qualified_on(on_date)),
        # One query for both: a row without a disease code says the person is in hospital that day.
        select(null(), literal(0)).where(exists().where(HospitalStay.person_id == person.id, _staying_on(on_date))),
    )).all()
    qualifications = [(code, adjustment) for code, adjustment in rows if code is not None]
    adjustment = sum(amount for _, amount in qualifications)
    chronic_cap = None
    if adjustment:
        policy = policy or policies.in_force(person.region_code, on_date)
        chronic_cap = max(0, policy.benefits.chronic.cap_fen.of(person.person_type) + adjustment)
    return engine.Person(
        region=person.region_code,
        person_type=person.person_type,
        status=people.benefit_status_on(person, on_date),
        chronic_qualifications=frozenset(code for code, _ in qualifications),
        in_hospital=len(qualifications) < len(rows),
        chronic_cap_fen=chronic_cap,
    )


def snapshot_as_dict(snapshot: engine.Person) -> dict:
    return {
        "region": snapshot.region, "person_type": snapshot.person_type, "status": snapshot.status,
        "chronic_qualifications": sorted(snapshot.chronic_qualifications), "in_hospital": snapshot.in_hospital,
        "chronic_cap_fen": snapshot.chronic_cap_fen,
    }


def snapshot_from_dict(data: Mapping) -> engine.Person:
    return engine.Person(
        region=data["region"], person_type=data["person_type"], status=data["status"],
        chronic_qualifications=frozenset(data["chronic_qualifications"]), in_hospital=data["in_hospital"],
        chronic_cap_fen=data["chronic_cap_fen"],
    )


def _qualified_on(on_date: dt.date):
    # valid_to is exclusive, as policy versions' are.
    return and_(ChronicQualification.status == "active", ChronicQualification.valid_from <= on_date,
                or_(ChronicQualification.valid_to.is_(None), ChronicQualification.valid_to > on_date))


def _staying_on(on_date: dt.date):
    """In hospital from the admission day up to, not including, the discharge day (NM §12)."""
    return and_(HospitalStay.admitted_on <= on_date,
                or_(HospitalStay.discharged_on.is_(None), HospitalStay.discharged_on > on_date))


def in_hospital(person_id: int, on_date: dt.date) -> bool:
    return db.session.scalar(select(exists().where(HospitalStay.person_id == person_id, _staying_on(on_date))))


# --- accumulators -----------------------------------------------------------------------------------------------

def lock_person(person_id: int) -> None:
    """Serialise the writers of one person's accumulators until the transaction ends (level 2 of the lock order,
    backend.services.locks)."""
    locks.person(person_id)


def locked_person(id_number: str) -> Person | None:
    """The person with this ID number, locked as ``lock_person`` does."""
    return locks.person_by_id_number(id_number)


def year_to_date(person_id: int, year: int, *, lock: bool = False) -> dict[str, int]:
    """The person's accumulators for the benefit year (name -> fen, zeros left out); ``lock`` locks the person."""
    if lock:
        lock_person(person_id)
    rows = db.session.execute(select(Accumulator.bucket, Accumulator.amount_fen).where(
        Accumulator.person_id == person_id, Accumulator.year == year, Accumulator.amount_fen != 0))
    return {bucket: amount for bucket, amount in rows}


def add_to_accumulators(person_id: int, year: int, deltas: Mapping[str, int], *, settlement_id: str,
                        refund_id: int | None = None) -> None:
    """Append the deltas and move the cached totals (one upsert). The caller holds the person's lock."""
    deltas = {name: delta for name, delta in deltas.items() if delta}
    if not deltas:
        return
    db.session.add_all([
        AccumulatorEntry(person_id=person_id, year=year, bucket=name, delta_fen=delta, settlement_id=settlement_id,
                         refund_id=refund_id)
        for name, delta in deltas.items()
    ])
    increases = {name: delta for name, delta in deltas.items() if delta > 0}
    if increases:
        # The CHECK (amount >= 0) judges the row an upsert proposes, so only increases go this way.
        db.session.execute(ADD_TO_ACCUMULATOR, [
            {"person_id": person_id, "year": year, "bucket": name, "amount_fen": delta}
            for name, delta in increases.items()
        ])
    for name, delta in deltas.items():
        if delta < 0:  # a reversal: the row exists, since it was once increased by at least as much
            db.session.execute(
                update(Accumulator)
                .where(Accumulator.person_id == person_id, Accumulator.year == year, Accumulator.bucket == name)
                .values(amount_fen=Accumulator.amount_fen + delta)
                .execution_options(synchronize_session=False))


# --- caps and estimates ---------------------------------------------------------------------------------------

def caps(person_id: int, year: int) -> dict:
    """Allowed, used and remaining per bucket for the year (the FHIR benefitBalance idea, DESIGN §4.8)."""
    person = people.get(person_id)
    on_date = _judging_date(year)
    policy = policies.in_force(person.region_code, on_date)
    snapshot = person_snapshot(person, on_date, policy)
    balances = engine.cap_balances(policy, snapshot, year_to_date(person_id, year))
    shown = [path for name in CAP_NAMES for path in engine.cap_parameters(policy, name)]
    return {
        "year": year,
        "policy_version": policy.version,
        "person_type": person.person_type,
        **{name: _cap_view(policy, name, balances[name]) for name in CAP_NAMES},
        "sample": sample_notice(policy, shown).as_dict(),
    }


def _cap_view(policy: Policy, name: str, balance: engine.CapBalance) -> dict:
    """A caps line: amounts, whether the bucket pays now and why not, whether its figure is a sample."""
    notes = [engine.stop_sentence(reason, name) for reason in balance.stopped_by]
    return {
        **_balance_view(balance),
        "available": balance.available,
        "reasons": list(balance.stopped_by),
        "note": "".join(notes) or None,
        "sample": bool(policy.sample_parameters(engine.cap_parameters(policy, name))),
    }


def _judging_date(year: int) -> dt.date:
    """The day whose policy version states a year's caps: today for this year, else the year's last day."""
    today = local_today()
    return today if year == today.year else dt.date(year, 12, 31)


def _balance_view(balance: engine.CapBalance) -> dict[str, str]:
    return {"allowed": fen_to_yuan(balance.allowed), "used": fen_to_yuan(balance.used),
            "remaining": fen_to_yuan(balance.remaining)}


def estimate(person_id: int, amount_fen: int, hospital_level: str, on_date: dt.date) -> dict:
    """What the fund would pay now for an in-scope amount at a level; the own account is offered the rest.

    Writes nothing. Sharers' accounts are left out: only a real payment reads the grants at that moment.
    """
    if hospital_level not in HOSPITAL_LEVELS:
        raise Unprocessable("医院等级应为 tertiary、secondary 或 primary", reason="unknown_hospital_level")
    person = people.get(person_id)
    policy = policies.in_force(person.region_code, on_date)
    snapshot = person_snapshot(person, on_date, policy)
    try:
        result = engine.estimate(policy, snapshot, amount_fen, hospital_level, on_date,
                                 year_to_date(person_id, on_date.year))
    except engine.InvalidBenefitInput as exc:
        raise Unprocessable("无法估算该费用", reason=exc.reason) from None
    account = accounts.of_person(person_id)
    balance = account.balance_fen if account is not None and account.status == "open" else 0
    paid = engine.with_payments(result, min(balance, result.account_payable), 0)
    return {
        "estimate": True,
        "date": on_date.isoformat(),
        "hospital_level": hospital_level,
        **result_view(paid, policy),
        "balc": fen_to_yuan(balance - (paid.acct_pay or 0)),
    }


def result_view(result: engine.Settlement, policy: Policy) -> dict:
    """The engine's result with the national 2207 names, amounts as yuan strings, and its sample label."""
    return {
        **{name: fen_to_yuan(getattr(result, name) or 0) for name in AMOUNT_FIELDS},
        "policy_version": result.policy_version,
        "benefit_year": result.benefit_year,
        "bucket": result.bucket,
        "fund_share": percent_label(result.fund_share_bp),
        "explanation": list(result.explanation),
        "reasons": list(result.reason_codes),
        "sample": settlement_sample(policy, result.bucket, result.reason_codes),
    }


def settlement_sample(policy: Policy, bucket: str, reasons) -> dict:
    """The sample label of a settlement or estimate of this bucket judged by this version (issue #11.5)."""
    pooled = not any(reason in STOP_REASONS for reason in reasons if reason != engine.CHRONIC_NOT_QUALIFIED)
    return sample_notice(policy, engine.parameters_used(policy, bucket, pooled)).as_dict()


# --- eligibility for institutions (the national 2001 / 5206 idea) ------------------------------------------------

OFFSITE_LEVELS = ("tertiary", "secondary")  # NM §18: out of region, settle directly at 二级及以上 only
STOP_REASONS = frozenset({
    engine.POOLING_STOPPED_ARREARS, engine.POOLING_STOPPED_IN_HOSPITAL, engine.POOLING_STOPPED_SUSPENDED,
    engine.POOLING_STOPPED_TERMINATED, engine.GENERAL_EXCLUDED_BY_CHRONIC, engine.INSTITUTION_NOT_IN_POOLING_SCOPE,
    engine.CHRONIC_NOT_QUALIFIED,
})


def offsite_refusal(person: Person, institution: Institution) -> str | None:
    """Why the person may not settle directly at this institution of another region, or None if they may.

    Direct settlement out of the person's region needs the registration (异地就医备案: NX §21 "符合条件",
    NM §18 "已备案"), which the core system sends as ``living_out_of_province``, and a 二级及以上 institution
    (NM §18); otherwise the person pays and claims manually at home.
    """
    if institution.region_code == person.region_code:
        return None
    if not person.living_out_of_province:
        return "offsite_registration_required"
    if institution.level not in OFFSITE_LEVELS:
        return "offsite_level_not_allowed"
    return None


def eligibility(institution: Institution, id_number: str, on_date: dt.date) -> dict:
    """What an institution may know before settling: status, benefits open today and the year's accumulators,
    with the person's name and ID number masked. Writes nothing."""
    person = people.by_id_number(id_number)
    if person is None:
        raise NotFound("未找到该参保人", reason="person_not_found")
    policy = policies.in_force(person.region_code, on_date)
    snapshot = person_snapshot(person, on_date, policy)
    ytd = year_to_date(person.id, on_date.year)
    in_region = institution.region_code == person.region_code
    refusal = offsite_refusal(person, institution)
    balances = engine.cap_balances(policy, snapshot, ytd)
    account = accounts.of_person(person.id)
    return {
        "person": {**masked_person(person), "region": person.region_code, "person_type": person.person_type,
                   "status": person.status},
        "date": on_date.isoformat(),
        "policy_version": policy.version,
        "in_region": in_region,
        "offsite_registered": person.living_out_of_province,
        "direct_settlement": {"allowed": refusal is None, "reason": refusal},
        "in_hospital": snapshot.in_hospital,
        "chronic_qualifications": sorted(snapshot.chronic_qualifications),
        "benefits": {bucket: _bucket_eligibility(policy, snapshot, institution, in_region, on_date, ytd, bucket)
                     for bucket in engine.MED_TYPES},
        "accumulators": {"year": on_date.year, **{name: _balance_view(balances[name]) for name in CAP_NAMES}},
        "account_open": account is not None and account.status == "open",
    }


def _bucket_eligibility(policy: Policy, snapshot: engine.Person, institution: Institution, in_region: bool,
                        on_date: dt.date, ytd: Mapping[str, int], med_type: str) -> dict:
    # A visit of 0 yuan runs every rule that decides whether the bucket pays at all, and pays nothing.
    probe = engine.settle(policy, snapshot, engine.Visit(
        service_date=on_date, institution_level=institution.level, institution_kind=institution.kind,
        in_region=in_region, med_type=med_type, lines=(engine.Line("probe", "资格检查", 0, True),)), ytd)
    stops = [reason for reason in probe.reason_codes if reason in STOP_REASONS]
    return {"eligible": not stops, "reasons": stops, "fund_share": percent_label(probe.fund_share_bp)}


def masked_person(person: Person) -> dict[str, str]:
    """What an institution is shown of a person: the name's first character and the masked ID number."""
    return {"name": mask_name(person.name), "id_number_masked": mask_id_number(person.id_number)}


def mask_name(name: str) -> str:
    return name[:1] + "*" * max(1, len(name) - 1) if name else ""
