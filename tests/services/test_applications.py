"""The review engine on the database: state in the application row, appended step records, queues, claims,
separation of duties, notifications and audit per transition."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from backend.errors import Conflict, Forbidden, NotFound, Unprocessable
from backend.extensions import db
from backend.models import Application, AuditLog, Notification, ReviewStepRecord, StaffUser
from backend.models.applications import InvoiceClaim
from backend.services import applications, outbox, reimbursements
from backend.services.benefits import local_today
from tests.files import jpeg, pdf, png

PNG = png()
PDF = pdf()


@pytest.fixture
def app(make_app, tmp_path):
    app = make_app(UPLOAD_DIR=str(tmp_path / "uploads"))
    with app.app_context():
        yield app


ROLES = {"reviewer1": ["first_reviewer"], "reviewer2": ["second_reviewer"], "leader1": ["leader"],
         "reviewer9": ["first_reviewer"], "veteran": ["first_reviewer", "second_reviewer"]}


@pytest.fixture
def staff(app):
    """Staff by username, created on first use (no password: these tests never sign in)."""

    def by_username(username: str) -> StaffUser:
        found = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
        if found is None:
            found = StaffUser(username=username, display_name=username, password_hash="!", roles=ROLES[username])
            db.session.add(found)
            db.session.commit()
        return found

    return by_username


@pytest.fixture
def person(make_person):
    return make_person(name="报销人")


def request_for(number: str = "INV-1", amount_fen: int = 100_000, electronic: bool = True) -> dict:
    return {
        "visit_date": local_today() - dt.timedelta(days=1), "institution_name": "宁夏医科大学总医院",
        "hospital_level": "tertiary", "cross_province": False, "self_paid_by_choice": False, "med_type": "general",
        "invoices": [{"number": number, "amount_fen": amount_fen, "electronic": electronic}],
        "items": [{"name": "门诊诊疗费", "amount_fen": amount_fen, "in_scope": True}],
        "payee": {"kind": "social_security_card"},
    }


@pytest.fixture
def filed(person):
    """A reimbursement with an electronic invoice and its fee list uploaded: ready for first review."""

    def file(number: str = "INV-1") -> str:
        view = reimbursements.submit(person.id, request_for(number))
        applications.add_attachment(person.id, view["application_id"], "fee_list", "清单.pdf", PDF)
        return view["application_id"]

    return file


def decide(application_id, staff_user, decision="approve", comment=None, reason_code=None):
    return applications.decide(application_id, staff_user, decision, comment, reason_code)


def test_an_application_waits_outside_the_queue_until_its_materials_are_uploaded(person, staff):
    view = reimbursements.submit(person.id, request_for(electronic=False))
    application_id = view["application_id"]
    assert view["status"] == "submitted"
    assert {m["kind"]: m["missing"] for m in view["missing_materials"]} == {"invoice": 1, "fee_list": 1}
    assert application_id not in _queue_ids(staff("reviewer1"))

    applications.add_attachment(person.id, application_id, "invoice", "发票.jpg", jpeg())
    applications.add_attachment(person.id, application_id, "fee_list", "清单.png", PNG)

    assert applications.status_view(person.id, application_id)["missing_materials"] == []
    assert application_id in _queue_ids(staff("reviewer1"))


def test_approving_before_the_materials_are_complete_is_refused(person, staff):
    application_id = reimbursements.submit(person.id, request_for())["application_id"]

    with pytest.raises(Conflict) as refused:
        decide(application_id, staff("reviewer1"))
    assert refused.value.reason == "materials_missing"


def test_each_decision_appends_a_step_record_and_moves_the_row_to_the_next_step(filed, staff):
    application_id = filed()

    view = decide(application_id, staff("reviewer1"))

    assert (view["status"], view["current_step"]["name"]) == ("in_review", "second_review")
    records = db.session.scalars(select(ReviewStepRecord).where(
        ReviewStepRecord.application_id == application_id)).all()
    assert [(r.step, r.decision, r.staff_id) for r in records] == [
        ("first_review", "approve", staff("reviewer1").id)]
    application = db.session.get(Application, application_id)
    assert records[0].entered_at == application.submitted_at  # the first step began at submission
    assert application.step_entered_at == records[0].decided_at  # and the second when it was decided


def test_a_rejection_is_audited_with_its_reason_code_and_releases_the_invoices(filed, staff, person):
    application_id = filed("INV-REJ")

    view = decide(application_id, staff("reviewer1"), "reject", "费用清单与发票不符", "amount_mismatch")

    assert view["status"] == "rejected"
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "application.decided",
                                                     AuditLog.object_id == application_id))
    assert entry.details["reason_code"] == "amount_mismatch"
    assert entry.details["decision"] == "reject"
    assert db.session.get(InvoiceClaim, "INV-REJ") is None
    reimbursements.submit(person.id, request_for("INV-REJ"))  # the number may be claimed again


def test_a_rejection_without_a_reason_code_is_refused_with_422(filed, staff):
    with pytest.raises(Unprocessable) as refused:
        decide(filed(), staff("reviewer1"), "reject", "不予报销", None)
    assert refused.value.reason == "reason_required"


def test_a_returned_application_reenters_the_first_step_once_supplemented(filed, staff, person):
    application_id = filed()
    decide(application_id, staff("reviewer1"))
    returned = decide(application_id, staff("reviewer2"), "return", "发票图片不清晰，请重新上传")
    assert (returned["status"], returned["current_step"]) == ("returned", None)

    applications.add_attachment(person.id, application_id, "invoice", "发票.png", PNG)
    view = applications.supplement(person.id, application_id, "已重新上传")

    assert (view["status"], view["current_step"]["name"]) == ("in_review", "first_review")
    assert application_id in _queue_ids(staff("reviewer1"))
    assert application_id not in _queue_ids(staff("reviewer2"))
    assert [(s["step"], s["decision"]) for s in view["steps"]] == [
        ("first_review", "approve"), ("second_review", "return")]


def test_supplementing_an_application_that_was_not_returned_is_refused(filed, person):
    with pytest.raises(Conflict) as refused:
        applications.supplement(person.id, filed())
    assert refused.value.reason == "invalid_transition"


def test_a_reviewer_cannot_decide_the_sign_off_step(filed, staff):
    application_id = filed()
    decide(application_id, staff("reviewer1"))
    decide(application_id, staff("reviewer2"))

    with pytest.raises(Forbidden) as refused:
        decide(application_id, staff("reviewer2"))
    assert refused.value.reason == "wrong_role"


def test_one_person_cannot_act_on_two_steps_of_an_application(filed, staff):
    veteran = staff("veteran")
    application_id = filed()
    decide(application_id, veteran)

    assert application_id not in _queue_ids(veteran)
    with pytest.raises(Forbidden) as refused:
        decide(application_id, veteran)
    assert refused.value.reason == "already_acted_on_another_step"


def test_a_claimed_application_leaves_the_others_queues_and_only_its_claimer_decides_it(filed, staff):
    colleague = staff("reviewer9")
    application_id = filed()

    applications.claim(application_id, staff("reviewer1"))

    assert application_id in [a["application_id"] for a in applications.queue(staff("reviewer1"), "mine")]
    assert application_id not in _queue_ids(colleague)
    with pytest.raises(Conflict) as refused:
        decide(application_id, colleague)
    assert refused.value.reason == "claimed_by_other"
    decide(application_id, staff("reviewer1"))
    assert applications.queue(staff("reviewer1"), "mine") == []


def test_someone_who_may_not_decide_the_step_cannot_claim_it(filed, staff):
    with pytest.raises(Forbidden):
        applications.claim(filed(), staff("leader1"))


def test_the_applicant_may_withdraw_only_before_the_first_decision(filed, staff, person):
    untouched, decided = filed("INV-A"), filed("INV-B")
    decide(decided, staff("reviewer1"))

    assert applications.withdraw(person.id, untouched)["status"] == "withdrawn"
    with pytest.raises(Conflict):
        applications.withdraw(person.id, decided)


def test_someone_elses_application_is_not_found(filed, make_person):
    stranger = make_person(name="路人")
    application_id = filed()

    with pytest.raises(NotFound):
        applications.status_view(stranger.id, application_id)
    with pytest.raises(NotFound):
        applications.add_attachment(stranger.id, application_id, "other", "a.png", PNG)
    assert applications.list_for_person(stranger.id) == []


def test_a_file_that_is_not_what_its_name_says_saves_nothing(filed, person, tmp_path):
    application_id = filed()

    with pytest.raises(Unprocessable) as refused:
        applications.add_attachment(person.id, application_id, "invoice", "发票.pdf", PNG)

    assert refused.value.reason == "file_type_mismatch"
    assert [a["kind"] for a in applications.status_view(person.id, application_id)["attachments"]] == ["fee_list"]
    stored = [p for p in (tmp_path / "uploads").rglob("*") if p.is_file()]
    assert [p.suffix for p in stored] == [".pdf"]  # only the fee list uploaded when it was filed


def test_every_transition_notifies_the_applicant_once(filed, staff, person):
    application_id = filed()
    decide(application_id, staff("reviewer1"))
    decide(application_id, staff("reviewer2"), "return", "请补充门诊病历")
    applications.add_attachment(person.id, application_id, "other", "门诊病历.png", png(5))
    applications.supplement(person.id, application_id)
    outbox.drain()
    outbox.drain()  # a second drain delivers nothing new

    notices = db.session.scalars(select(Notification).where(Notification.person_id == person.id)
                                 .order_by(Notification.id)).all()
    assert [n.dedupe_key.removeprefix(f"application:{application_id}:") for n in notices] == [
        "submitted", "decision:1:approve", "decision:2:return", "supplemented:1"]
    assert "请补充门诊病历" in notices[2].body


def test_the_queue_shows_how_long_each_application_has_waited_oldest_first(filed, staff):
    first, second = filed("INV-1"), filed("INV-2")

    queue = applications.queue(staff("reviewer1"))

    assert [item["application_id"] for item in queue] == [first, second]
    assert all(item["seconds_in_current_step"] >= 0 for item in queue)


def _queue_ids(staff_user: StaffUser) -> list[str]:
    return [item["application_id"] for item in applications.queue(staff_user)]


def test_the_demo_data_holds_applications_in_several_states_and_seeding_again_adds_none(app):
    from backend import demo

    demo.seed()
    demo.seed()

    states = sorted(db.session.execute(select(Application.kind, Application.status)).all())
    assert states == [("chronic_cap_adjust", "submitted"), ("reimbursement", "in_review"),
                      ("reimbursement", "returned"), ("reimbursement", "submitted")]
