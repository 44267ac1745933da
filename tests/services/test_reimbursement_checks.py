"""Checks when a manual reimbursement is filed (NX §22, §23, §25): each refusal has its own reason and saves
nothing; what passes is held for review."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from backend.errors import AppError
from backend.extensions import db
from backend.models import Application, InvoiceRecord
from backend.models.applications import InvoiceClaim
from backend.services import policies, reimbursements
from backend.services.benefits import local_today

YESTERDAY = local_today() - dt.timedelta(days=1)


@pytest.fixture
def person(make_person):
    return make_person(name="报销人")


def request(**overrides) -> dict:
    return {
        "visit_date": YESTERDAY, "institution_name": "银川市第二人民医院", "hospital_level": "secondary",
        "cross_province": False, "self_paid_by_choice": False, "med_type": "general",
        "invoices": [{"number": "P-001", "amount_fen": 30_000, "electronic": False},
                     {"number": "E-002", "amount_fen": 20_000, "electronic": True}],
        "items": [{"name": "西药费", "amount_fen": 35_000, "in_scope": True},
                  {"name": "检查费", "amount_fen": 15_000, "in_scope": True}],
        "payee": {"kind": "bank_card", "bank_name": "宁夏银行", "account_number": "6222000011112222",
                  "account_name": "报销人"},
        **overrides,
    }


def refusal(person, body) -> AppError:
    with pytest.raises(AppError) as refused:
        reimbursements.submit(person.id, body)
    assert db.session.scalar(select(func.count()).select_from(Application)) == 0, "nothing may be saved"
    assert db.session.scalar(select(func.count()).select_from(InvoiceClaim)) == 0
    return refused.value


def test_a_complete_request_is_submitted_and_holds_its_invoice_numbers(person):
    view = reimbursements.submit(person.id, request())

    assert view["status"] == "submitted"
    assert view["claimed_amount"] == "500.00"  # 300 + 200 yuan of invoices
    assert view["payee"]["account_number"] == "****2222"
    assert set(db.session.scalars(select(InvoiceClaim.number))) == {"P-001", "E-002"}


@pytest.mark.parametrize("missing, body", [
    ("invoices", {"invoices": []}),
    ("items", {"items": []}),
    ("payee", {"payee": None}),
    ("payee", {"payee": {"kind": "bank_card", "bank_name": "宁夏银行"}}),  # ID card + bank card needs the account
])
def test_missing_invoices_items_or_payee_are_refused_as_materials_incomplete(person, missing, body):
    error = refusal(person, request(**body))

    assert (error.status, error.reason) == (422, "materials_incomplete")
    assert missing in error.details["missing"]


def test_an_invoice_total_that_differs_from_the_item_lines_is_refused(person):
    body = request(items=[{"name": "西药费", "amount_fen": 49_999, "in_scope": True}])

    error = refusal(person, body)

    assert (error.status, error.reason) == (422, "amount_mismatch")
    assert (error.details["invoices_total"], error.details["items_total"]) == ("500.00", "499.99")


def test_a_visit_after_today_is_refused(person):
    error = refusal(person, request(visit_date=local_today() + dt.timedelta(days=1)))
    assert (error.status, error.reason) == (422, "visit_date_in_future")


def test_a_visit_before_the_region_had_any_policy_in_force_is_refused(person):
    earliest = min(policies.shipped_documents(), key=lambda d: d["valid_from"] if d["region"] == "nx" else "9")
    day_before = dt.date.fromisoformat(earliest["valid_from"]) - dt.timedelta(days=1)

    error = refusal(person, request(visit_date=day_before))

    assert (error.status, error.reason) == (422, "visit_before_coverage")


def test_fees_self_paid_by_choice_in_the_region_are_not_reimbursed_by_hand(person):
    error = refusal(person, request(self_paid_by_choice=True))
    assert (error.status, error.reason) == (422, "self_paid_by_choice")  # NX §22


def test_cross_province_fees_not_settled_directly_may_be_claimed_and_are_judged_by_the_insured_places_policy(
        person):
    view = reimbursements.submit(person.id, request(self_paid_by_choice=True, cross_province=True))
    application = db.session.get(Application, view["application_id"])

    preview = reimbursements.details(application, "staff")["settlement_preview"]

    assert preview["policy_version"] == policies.in_force("nx", YESTERDAY).version  # NX §22: the insured place's
    assert preview["in_region"] is False


def test_the_same_invoice_twice_in_one_request_is_refused(person):
    body = request(invoices=[{"number": "P-001", "amount_fen": 25_000, "electronic": True},
                             {"number": "P-001", "amount_fen": 25_000, "electronic": True}])

    error = refusal(person, body)

    assert (error.reason, error.details["numbers"]) == ("invoice_duplicate", ["P-001"])


def test_an_invoice_already_reimbursed_or_settled_is_refused(person):
    db.session.add(InvoiceRecord(number="E-002"))
    db.session.commit()

    error = refusal(person, request())

    assert (error.status, error.reason, error.details["numbers"]) == (409, "invoice_duplicate", ["E-002"])


def test_an_invoice_held_by_another_open_application_is_refused(person, make_person):
    reimbursements.submit(person.id, request())
    other = make_person(name="另一人")

    with pytest.raises(AppError) as refused:
        reimbursements.submit(other.id, request(payee={"kind": "social_security_card"}))

    assert (refused.value.status, refused.value.reason) == (409, "invoice_duplicate")
    assert db.session.scalar(select(func.count()).select_from(Application)) == 1


def test_paper_invoices_need_an_image_each_and_every_application_needs_the_fee_list(person):
    view = reimbursements.submit(person.id, request())

    assert {m["kind"]: m["missing"] for m in view["missing_materials"]} == {"invoice": 1, "fee_list": 1}
