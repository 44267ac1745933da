import datetime as dt

import pytest

from backend.domain.review import (
    REASON_CODES,
    WORKFLOWS,
    Actor,
    AlreadyActedOnAnotherStep,
    ApplicationType,
    Decision,
    InvalidTransition,
    ReasonRequired,
    ReviewStatus,
    WrongRole,
    decide,
    mark_paid,
    submit,
    supplement,
    withdraw,
)

REIMBURSEMENT = WORKFLOWS[ApplicationType.REIMBURSEMENT]
PAYOUT = WORKFLOWS[ApplicationType.PAYOUT]
CAP_ADJUST = WORKFLOWS[ApplicationType.CHRONIC_CAP_ADJUST]

REVIEWER1 = Actor("reviewer1", frozenset({"first_reviewer"}))
REVIEWER2 = Actor("reviewer2", frozenset({"second_reviewer"}))
LEADER1 = Actor("leader1", frozenset({"leader"}))
ALL_ROUNDER = Actor("veteran", frozenset({"first_reviewer", "second_reviewer", "leader"}))

T0 = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.timezone.utc)


def at(hours):
    return T0 + dt.timedelta(hours=hours)


def approve(workflow, state, actor, hours):
    return decide(workflow, state, actor, "approve", None, None, at(hours))[0]


def test_a_reimbursement_goes_through_first_review_second_review_and_sign_off_then_is_paid():
    state = submit(at(0))
    assert state.status is ReviewStatus.SUBMITTED

    state = approve(REIMBURSEMENT, state, REVIEWER1, 1)
    assert (state.status, REIMBURSEMENT.steps[state.step_index].name) == (ReviewStatus.IN_REVIEW, "second_review")
    state = approve(REIMBURSEMENT, state, REVIEWER2, 2)
    state = approve(REIMBURSEMENT, state, LEADER1, 3)
    assert state.status is ReviewStatus.APPROVED
    assert [(r.step, r.staff_id) for r in state.history] == [
        ("first_review", "reviewer1"), ("second_review", "reviewer2"), ("sign_off", "leader1"),
    ]

    assert mark_paid(REIMBURSEMENT, state, at(4)).status is ReviewStatus.PAID


def test_a_payout_follows_the_nx9_chain_of_first_review_second_review_and_leaders_sign_off():
    assert [(s.name, s.role, s.label) for s in PAYOUT.steps] == [
        ("first_review", "first_reviewer", "初审"), ("second_review", "second_reviewer", "复审"),
        ("sign_off", "leader", "审签"),
    ]
    assert PAYOUT.ends_in_payment


def test_a_chronic_cap_adjustment_needs_two_people_and_is_never_paid_out():
    state = approve(CAP_ADJUST, submit(at(0)), REVIEWER1, 1)
    state = approve(CAP_ADJUST, state, LEADER1, 2)

    assert state.status is ReviewStatus.APPROVED
    with pytest.raises(InvalidTransition):
        mark_paid(CAP_ADJUST, state, at(3))


def test_a_rejection_records_its_reason_code_and_comment_and_ends_the_review():
    state, record = decide(REIMBURSEMENT, submit(at(0)), REVIEWER1, Decision.REJECT,
                           "invoice_duplicate", "发票 0012 已于 2月报销", at(1))

    assert state.status is ReviewStatus.REJECTED
    assert (record.decision, record.reason_code) == ("reject", "invoice_duplicate")
    assert record.comment == "发票 0012 已于 2月报销"
    with pytest.raises(InvalidTransition):
        approve(REIMBURSEMENT, state, REVIEWER1, 2)


@pytest.mark.parametrize("reason_code, comment", [
    (None, "缺少费用清单"),  # no reason code
    ("materials_incomplete", None),  # no comment
    ("materials_incomplete", "   "),  # blank comment
    ("looks_fishy", "看起来可疑"),  # not a code from the list
])
def test_a_rejection_needs_a_listed_reason_code_and_a_comment(reason_code, comment):
    with pytest.raises(ReasonRequired):
        decide(REIMBURSEMENT, submit(at(0)), REVIEWER1, "reject", reason_code, comment, at(1))


def test_the_reason_codes_are_the_fixed_list():
    assert set(REASON_CODES) == {
        "materials_incomplete", "invoice_duplicate", "not_eligible", "amount_mismatch", "self_paid_by_choice",
        "other",
    }


def test_an_approval_takes_no_reason_code():
    with pytest.raises(ReasonRequired):
        decide(REIMBURSEMENT, submit(at(0)), REVIEWER1, "approve", "other", None, at(1))


def test_a_return_must_say_what_is_missing():
    with pytest.raises(ReasonRequired):
        decide(REIMBURSEMENT, submit(at(0)), REVIEWER1, "return", None, "", at(1))


def test_a_returned_application_starts_again_at_the_first_step_once_supplemented():
    state = approve(REIMBURSEMENT, submit(at(0)), REVIEWER1, 1)
    state, _ = decide(REIMBURSEMENT, state, REVIEWER2, "return", "materials_incomplete", "请补充费用清单", at(2))
    assert (state.status, state.step_index) == (ReviewStatus.RETURNED, None)
    with pytest.raises(InvalidTransition):
        approve(REIMBURSEMENT, state, REVIEWER1, 3)

    state = supplement(state, at(30))

    assert (state.status, REIMBURSEMENT.steps[state.step_index].name) == (ReviewStatus.IN_REVIEW, "first_review")
    state = approve(REIMBURSEMENT, state, REVIEWER1, 31)  # the same first reviewer may check the supplement
    assert REIMBURSEMENT.steps[state.step_index].name == "second_review"


def test_supplementing_an_application_that_was_not_returned_is_invalid():
    with pytest.raises(InvalidTransition):
        supplement(submit(at(0)), at(1))


def test_one_person_cannot_act_on_two_steps_of_the_same_application():
    state = approve(REIMBURSEMENT, submit(at(0)), ALL_ROUNDER, 1)

    with pytest.raises(AlreadyActedOnAnotherStep):
        approve(REIMBURSEMENT, state, ALL_ROUNDER, 2)


def test_a_return_does_not_let_a_later_step_reviewer_take_the_first_step():
    state = approve(REIMBURSEMENT, submit(at(0)), REVIEWER1, 1)
    state, _ = decide(REIMBURSEMENT, state, ALL_ROUNDER, "return", None, "发票不清晰，请重新上传", at(2))
    state = supplement(state, at(3))

    with pytest.raises(AlreadyActedOnAnotherStep):
        approve(REIMBURSEMENT, state, ALL_ROUNDER, 4)


def test_only_the_steps_role_may_act_on_it():
    with pytest.raises(WrongRole):
        approve(REIMBURSEMENT, submit(at(0)), LEADER1, 1)
    state = approve(REIMBURSEMENT, submit(at(0)), REVIEWER1, 1)
    with pytest.raises(WrongRole):
        approve(REIMBURSEMENT, state, Actor("admin1", frozenset({"admin"})), 2)


def test_the_applicant_may_withdraw_before_the_first_decision_only():
    assert withdraw(submit(at(0)), at(1)).status is ReviewStatus.WITHDRAWN

    decided = approve(REIMBURSEMENT, submit(at(0)), REVIEWER1, 1)
    with pytest.raises(InvalidTransition):
        withdraw(decided, at(2))
    returned, _ = decide(REIMBURSEMENT, submit(at(0)), REVIEWER1, "return", None, "缺少发票原件", at(1))
    with pytest.raises(InvalidTransition):
        withdraw(returned, at(2))


def test_an_application_is_paid_only_after_approval():
    with pytest.raises(InvalidTransition):
        mark_paid(REIMBURSEMENT, approve(REIMBURSEMENT, submit(at(0)), REVIEWER1, 1), at(2))


def test_each_step_records_when_it_was_entered_and_decided():
    state = approve(REIMBURSEMENT, submit(at(0)), REVIEWER1, 2)
    state, _ = decide(REIMBURSEMENT, state, REVIEWER2, "return", None, "请补充费用清单", at(7))
    state = supplement(state, at(48))
    state = approve(REIMBURSEMENT, state, REVIEWER1, 50)

    assert [(r.step, r.entered_at, r.decided_at) for r in state.history] == [
        ("first_review", at(0), at(2)), ("second_review", at(2), at(7)), ("first_review", at(48), at(50)),
    ]
    assert [r.time_in_step for r in state.history] == [
        dt.timedelta(hours=2), dt.timedelta(hours=5), dt.timedelta(hours=2),
    ]
    assert state.since == at(50)  # the second review's clock starts now


def test_a_decision_cannot_be_dated_before_its_step_began():
    with pytest.raises(ValueError):
        approve(REIMBURSEMENT, submit(at(5)), REVIEWER1, 4)
