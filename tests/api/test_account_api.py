"""`/api/v1/account`: balance and this year's totals, the journal (who spent it and where), contributions (NX §31)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from backend.domain import ledger as rules
from backend.extensions import db
from backend.models import AccountContribution, Institution, LedgerEntry, LedgerPosting, Settlement, SharingGrant, new_public_id, utcnow
from backend.models.settlements import AMOUNT_COLUMNS
from backend.services import accounts, credits
from tests.conftest import valid_id_number

ACCOUNT = "/api/v1/account"
CONTRIBUTIONS = "/api/v1/account/contributions"
# A daughter with no employee insurance (not an insured employee here), for whom 居民医保 may be paid.
CHILD_ID = valid_id_number("64010420150601002")
CHILD = {"relation": "daughter", "relative_name": "张小花", "relative_id_number": CHILD_ID}
OWNER_ID = valid_id_number("64010419850612032")  # born 1985-06-12, a woman (17th digit even)


@pytest.fixture
def owner(make_person):
    return make_person(id_number=OWNER_ID, name="李娜", opening_balance_fen=120_000, contribution_base_fen=600_000,
                       contribution_paid_through=credits.month_of(credits.local_today()))


def journal_rows() -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(LedgerPosting)),
            db.session.scalar(select(func.count()).select_from(LedgerEntry)))


def test_the_account_shows_the_balance_in_yuan_and_this_years_credits(client, owner, person_headers):
    credits.allocate(credits.month_of(credits.local_today()))
    account = client.get(ACCOUNT, headers=person_headers(owner))
    assert account.status_code == 200
    # 1200 yuan opening balance + 2 % of a 6000-yuan base (NX sample version) = 1320 yuan.
    assert account.json["balance"] == "1320.00"
    assert account.json["credits"] == "120.00"
    assert (account.json["spending"], account.json["year"]) == ("0.00", credits.local_today().year)
    last_year = client.get(ACCOUNT, query_string={"year": credits.local_today().year - 1},
                           headers=person_headers(owner))
    assert last_year.json["credits"] == "0.00"


def test_the_account_needs_a_login(client):
    assert client.get(ACCOUNT).status_code == 401


def test_the_journal_says_who_spent_it_and_where_and_is_paginated(client, owner, make_person, person_headers):
    daughter = make_person(name="张小雨")
    db.session.add(SharingGrant(
        id=new_public_id("SG"), owner_person_id=owner.id, relative_person_id=daughter.id, relation="daughter",
        channel="app", policy_version_code="nx-2024-01", promise_text_version="nx-2024-01/1",
        promise_accepted_at=utcnow()))
    pharmacy = Institution(code="NX-P-009", name="银川市测试药店", kind="pharmacy", level="primary", region_code="nx",
                           secret="s")
    db.session.add(pharmacy)
    db.session.flush()
    db.session.add(Settlement(
        id="ST-ACC-1", person_id=daughter.id, institution_id=pharmacy.id, visit_date=dt.date.today(),
        benefit_year=dt.date.today().year, med_type="general", policy_version_code="nx-2024-01",
        clearing_month="2026-01", **{column: 0 for column in AMOUNT_COLUMNS}))
    db.session.flush()
    accounts.pay_from_accounts(daughter.id, 2_500, "ST-ACC-1", institution_id=pharmacy.id)
    db.session.commit()

    first_page = client.get(f"{ACCOUNT}/entries", query_string={"page_size": 1}, headers=person_headers(owner))
    assert first_page.status_code == 200
    assert json.loads(first_page.headers["X-Pagination"])["total"] == 2
    spent = first_page.json[0]
    assert (spent["kind"], spent["direction"], spent["amount"]) == ("account_payment", "out", "25.00")
    assert spent["by"] == {"name": "张小雨", "relation": "daughter", "relation_label": "女儿"}
    assert spent["institution"] == {"code": "NX-P-009", "name": "银川市测试药店"}
    second_page = client.get(f"{ACCOUNT}/entries", query_string={"page_size": 1, "page": 2},
                             headers=person_headers(owner)).json
    assert (second_page[0]["kind"], second_page[0]["direction"]) == ("opening_balance", "in")
    summary = client.get(ACCOUNT, headers=person_headers(owner)).json
    assert (summary["spending"], summary["spending_for_family"]) == ("25.00", "25.00")


def test_the_journal_filters_by_kind_and_year(client, owner, person_headers):
    headers = person_headers(owner)
    opening = client.get(f"{ACCOUNT}/entries", query_string={"kind": "opening_balance"}, headers=headers).json
    assert [e["kind"] for e in opening] == ["opening_balance"]
    assert client.get(f"{ACCOUNT}/entries", query_string={"kind": "account_payment"}, headers=headers).json == []
    assert client.get(f"{ACCOUNT}/entries", query_string={"year": 2001}, headers=headers).json == []
    assert client.get(f"{ACCOUNT}/entries", query_string={"kind": "theft"}, headers=headers).status_code == 422


def test_paying_a_childs_resident_contribution_posts_the_nx_31_entries_in_both_funds(client, owner, person_headers):
    paid = client.post(CONTRIBUTIONS, json={"kind": "resident_insurance", "amount": "380.00", **CHILD},
                       headers=person_headers(owner))
    assert paid.status_code == 201, paid.json
    assert (paid.json["amount"], paid.json["balance"]) == ("380.00", "820.00")
    assert paid.json["beneficiary"]["self"] is False and CHILD_ID not in paid.get_data(as_text=True)
    posting = db.session.scalar(select(LedgerPosting).where(LedgerPosting.kind == "resident_contribution"))
    entries = {(e.account_code, e.side, e.amount_fen) for e in posting.entries}
    assert {
        (rules.EMPLOYEE_RESIDENT_CONTRIBUTION_EXPENSE, "debit", 38_000),  # NX §31 entry 1
        (rules.EMPLOYEE_EXPENDITURE_DEPOSIT, "credit", 38_000),
        (rules.RESIDENT_TREASURY_DEPOSIT, "debit", 38_000),  # NX §31 entry 2
        (rules.RESIDENT_INDIVIDUAL_CONTRIBUTION_INCOME, "credit", 38_000),
    } <= entries


def test_paying_ones_own_long_term_care_contribution_posts_the_nx_31_ltc_entries(client, owner, person_headers):
    paid = client.post(CONTRIBUTIONS, json={"kind": "long_term_care", "amount": 120}, headers=person_headers(owner))
    assert paid.status_code == 201 and paid.json["beneficiary"]["self"] is True
    posting = db.session.scalar(select(LedgerPosting).where(LedgerPosting.kind == "ltc_contribution"))
    entries = {(e.account_code, e.side) for e in posting.entries}
    assert {(rules.EMPLOYEE_LTC_CONTRIBUTION_EXPENSE, "debit"), (rules.LTC_TREASURY_DEPOSIT, "debit"),
            (rules.LTC_CONTRIBUTION_INCOME, "credit")} <= entries  # NX §31 entries 3 and 4


def test_the_same_contribution_is_paid_once_a_year(client, owner, person_headers):
    body = {"kind": "resident_insurance", "amount": "380", **CHILD, "year": 2026}
    assert client.post(CONTRIBUTIONS, json=body, headers=person_headers(owner)).status_code == 201
    again = client.post(CONTRIBUTIONS, json=body, headers=person_headers(owner))
    assert (again.status_code, again.json["errors"]["reason"]) == (409, "contribution_already_paid")


@pytest.mark.parametrize("body, reason", [
    ({"kind": "fitness", "amount": "100"}, "use_excluded"),  # NM §5: never fitness, wellness, public health
    ({"kind": "wellness", "amount": "100"}, "use_excluded"),
    ({"kind": "gym_card", "amount": "100"}, "use_unknown"),
    ({"kind": "resident_insurance", "amount": "100"}, "relative_required"),
    ({"kind": "resident_insurance", "amount": "0"}, "validation_error"),  # refused by the schema
])
def test_uses_outside_the_accounts_scope_are_refused(client, owner, person_headers, body, reason):
    response = client.post(CONTRIBUTIONS, json=body, headers=person_headers(owner))
    assert (response.status_code, response.json["errors"]["reason"]) == (422, reason)
    assert journal_rows() == (1, 2)  # the opening balance only


def test_resident_insurance_is_not_for_oneself_or_for_an_insured_employee(client, owner, make_person, person_headers):
    employee = make_person(id_number=valid_id_number("64010420050101001"), name="在职亲属")  # a son, born 2005
    for relative, reason in ((owner, "relative_is_self"), (employee, "relative_has_employee_insurance")):
        response = client.post(CONTRIBUTIONS, json={"kind": "resident_insurance", "amount": "380", "relation": "son",
                                                    "relative_name": relative.name,
                                                    "relative_id_number": relative.id_number},
                               headers=person_headers(owner))
        assert (response.status_code, response.json["errors"]["reason"]) == (422, reason)


def test_an_overdraft_is_409_and_writes_nothing(client, owner, person_headers):
    response = client.post(CONTRIBUTIONS, json={"kind": "resident_insurance", "amount": "1200.01", **CHILD},
                           headers=person_headers(owner))
    assert (response.status_code, response.json["errors"]["reason"]) == (409, "insufficient_balance")
    assert journal_rows() == (1, 2)
    assert client.get(ACCOUNT, headers=person_headers(owner)).json["balance"] == "1200.00"


def test_a_malformed_amount_is_a_validation_error(client, owner, person_headers):
    response = client.post(CONTRIBUTIONS, json={"kind": "long_term_care", "amount": "12.345"},
                           headers=person_headers(owner))
    assert response.status_code == 422


STRANGER_ID = valid_id_number("15010219900101002")


@pytest.mark.parametrize("relative, reason", [
    ({"relation": "sibling", "relative_name": "路人", "relative_id_number": STRANGER_ID}, "relation_not_allowed"),
    ({"relation": "friend", "relative_name": "路人", "relative_id_number": STRANGER_ID}, "relation_not_allowed"),
    ({"relative_name": "路人", "relative_id_number": STRANGER_ID}, "relation_required"),
    ({"relation": "daughter", "relative_id_number": STRANGER_ID}, "relative_name_required"),
    # NM §4 / NX §31: spouse, parents, children — and the relation must fit the ID numbers (born 1990 is no
    # daughter of a woman born 1985; a man is no daughter at all).
    ({"relation": "daughter", "relative_name": "路人", "relative_id_number": STRANGER_ID}, "relation_age_implausible"),
    ({"relation": "daughter", "relative_name": "路人", "relative_id_number": valid_id_number("64010420150601001")},
     "relation_sex_mismatch"),
    ({"relation": "mother", "relative_name": "路人", "relative_id_number": STRANGER_ID}, "relation_age_implausible"),
])
def test_contributions_are_paid_only_for_a_spouse_parent_or_child_the_id_numbers_agree_with(
        client, owner, person_headers, relative, reason):
    for kind in ("resident_insurance", "long_term_care"):
        response = client.post(CONTRIBUTIONS, json={"kind": kind, "amount": "100", **relative},
                               headers=person_headers(owner))
        assert (response.status_code, response.json["errors"]["reason"]) == (422, reason)
        assert response.json["message"]
    assert journal_rows() == (1, 2)  # nothing written
    assert db.session.scalar(select(func.count()).select_from(AccountContribution)) == 0


def test_a_contribution_is_booked_for_the_relative_it_pays_for(client, owner, person_headers):
    paid = client.post(CONTRIBUTIONS, json={"kind": "resident_insurance", "amount": "380", **CHILD},
                       headers=person_headers(owner))
    assert paid.status_code == 201, paid.json
    assert paid.json["beneficiary"] == {"self": False, "relation": "daughter", "relation_label": "女儿",
                                        "name": "张小花", "id_number_masked": "640104********" + CHILD_ID[-4:]}
    booked = db.session.scalar(select(AccountContribution))
    assert (booked.relation, booked.beneficiary_id_number, booked.amount_fen) == ("daughter", CHILD_ID, 38_000)
    journal = client.get(f"{ACCOUNT}/entries", query_string={"kind": "resident_contribution"},
                         headers=person_headers(owner)).json
    assert journal[0]["paid_for"]["name"] == "张小花" and "女儿" in journal[0]["memo"]
    assert CHILD_ID not in json.dumps(journal, ensure_ascii=False)


def test_a_relatives_contribution_for_a_year_is_paid_once_whoever_pays_it(client, owner, make_person,
                                                                          person_headers):
    father = make_person(id_number=valid_id_number("64010419830303001"), name="张父", opening_balance_fen=50_000)
    body = {"kind": "resident_insurance", "amount": "380", **CHILD, "year": 2026}
    assert client.post(CONTRIBUTIONS, json=body, headers=person_headers(owner)).status_code == 201
    again = client.post(CONTRIBUTIONS, json=body, headers=person_headers(father))
    assert (again.status_code, again.json["errors"]["reason"]) == (409, "contribution_already_paid")


def test_credits_computed_from_sample_figures_say_so(client, make_person, person_headers):
    # NM §3 fixes the retiree ratio but not the base (the 2021 average pension): a sample; NM employees' 2 % is
    # official; every Ningxia ratio is a sample.
    nm_retiree = make_person(region="nm", person_type="retired")
    nm_employee = make_person(region="nm")
    retiree = client.get(ACCOUNT, headers=person_headers(nm_retiree)).json["credits_sample"]
    assert retiree["is_sample"] is True and "退休人员个人账户划入基数" in retiree["label"]
    assert client.get(ACCOUNT, headers=person_headers(nm_employee)).json["credits_sample"]["is_sample"] is False
