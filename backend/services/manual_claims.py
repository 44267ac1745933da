"""Manual claims (零星报销, NX §23) as settlements: the preview and the settlement recorded at sign-off."""

from __future__ import annotations

from collections.abc import Mapping

from backend.domain import benefits as engine
from backend.domain.policy import HOSPITAL_LEVELS
from backend.errors import Conflict
from backend.extensions import db
from backend.models import InvoiceRecord, Person, Settlement, utcnow
from backend.services import clearing, people, policies
from backend.services.benefits import add_to_accumulators, person_snapshot, result_view, year_to_date
from backend.services.settlement_records import (
    engine_input,
    engine_lines,
    invoice_numbers_used,
    new_settlement,
    run_engine,
)
from backend.services.settlement_requests import FeeLine, ManualVisit, refuse


def _manual_inputs(person: Person, visit: ManualVisit, before: Mapping[str, int]):
    if visit.hospital_level not in HOSPITAL_LEVELS:
        raise refuse("医院等级应为 tertiary、secondary 或 primary", "unknown_hospital_level")
    if visit.med_type not in engine.MED_TYPES:
        raise refuse("医疗类别应为 general 或 chronic", "unknown_med_type")
    policy = policies.in_force(person.region_code, visit.visit_date)  # NX §22: the insured place's policy
    snapshot = person_snapshot(person, visit.visit_date, policy)
    lines = tuple(FeeLine(f"M{number:03d}", name, amount, in_scope)
                  for number, (name, amount, in_scope) in enumerate(visit.lines, start=1))
    engine_visit = engine.Visit(
        service_date=visit.visit_date, institution_level=visit.hospital_level, institution_kind="hospital",
        in_region=not visit.cross_province, med_type=visit.med_type, lines=engine_lines(lines),
    )
    return snapshot, lines, engine.with_payments(run_engine(policy, snapshot, engine_visit, before), 0, 0)


def preview_manual(person_id: int, manual_visit: ManualVisit) -> dict:
    """What the fund would reimburse for the visit now, with the person's accumulators now. Writes nothing."""
    person = people.get(person_id)
    _, _, result = _manual_inputs(person, manual_visit, year_to_date(person_id, manual_visit.visit_date.year))
    return {**result_view(result, policies.version(result.policy_version)), "visit_date": manual_visit.visit_date.isoformat(),
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
    settlement = new_settlement(
        person, result, manual_visit.visit_date, manual_visit.med_type, not manual_visit.cross_province, now,
        source="manual", application_id=application_id, institution_name=manual_visit.institution_name,
        lines=lines, clearing_month=clearing.month_of(now),
        engine_input=engine_input(snapshot, before, manual_visit.hospital_level, "hospital",
                                   not manual_visit.cross_province),
    )
    add_to_accumulators(person_id, result.benefit_year, result.accumulator_deltas, settlement_id=settlement.id)
    db.session.add_all([InvoiceRecord(number=number, settlement_id=settlement.id, application_id=application_id,
                                      recorded_at=now) for number in invoice_numbers])
    db.session.flush()
    return settlement

