"""The reviewers' queues in the console: filters by kind, step, amount, person and date, paging, and the reason a
reviewer may not decide a case (separation of duties) — shown, not only refused."""

from __future__ import annotations

import datetime as dt

import pytest

from backend.services import applications, review_desk
from tests.e2e import citizen


@pytest.fixture
def filed(app, client, make_person, staff_member, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path)
    ids = {}
    for serial, (name, amount) in enumerate((("甲某", "300.00"), ("乙某", "1500.00"), ("丙某", "800.00"))):
        person = make_person(name=name, opening_balance_fen=10_000)
        headers = citizen.sign_in(client, person.id_number)
        ids[name] = citizen.file_reimbursement(client, headers, number=f"Q-{serial}", amount=amount)
    return ids


def found(staff, **filters):
    return [item["application_id"] for item in review_desk.search(staff, review_desk.QueueFilters(**filters))["items"]]


def test_the_queue_filters_by_amount_person_kind_step_and_date(filed, staff_member):
    reviewer = staff_member("reviewer1")
    assert set(found(reviewer)) == set(filed.values())
    assert found(reviewer, amount_min_fen=50_000, amount_max_fen=100_000) == [filed["丙某"]]
    assert found(reviewer, person="乙") == [filed["乙某"]]
    assert found(reviewer, kind="payout") == []
    assert found(reviewer, step="second_review") == []
    tomorrow = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
    assert found(reviewer, submitted_from=tomorrow) == []
    page = review_desk.search(reviewer, review_desk.QueueFilters(), page=2, page_size=2)
    assert (page["total"], len(page["items"])) == (3, 1)


def test_a_second_reviewer_sees_only_what_passed_first_review_and_the_first_reviewer_is_told_why_not(
        filed, staff_member):
    first, second = staff_member("reviewer1"), staff_member("reviewer2")
    assert found(second) == []
    applications.decide(filed["甲某"], first, "approve")
    assert found(second) == [filed["甲某"]]
    assert found(first, queue="all", step="second_review") == [filed["甲某"]]
    veteran = staff_member("veteran", ["first_reviewer", "second_reviewer"])
    applications.decide(filed["乙某"], veteran, "approve")
    case = review_desk.open_case(veteran, filed["乙某"])
    assert case["may_decide"] is False and "职责分离" in case["blocked_reason"]
    assert filed["乙某"] not in found(veteran)
