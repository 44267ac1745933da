"""Review workflow gaps (issue #11.8): a return's requested material before re-submission, uploads to an
application under review or paid answer 409, and authorisation is checked before state."""

from __future__ import annotations

import io

from tests.api.test_staff_review_api import app, decide, file_reimbursement, insured, staff_token  # noqa: F401
from tests.files import png

SUPPLEMENT = "/api/v1/applications/{}/supplement"


def upload(client, headers, application_id, kind, data, name):
    return client.post(f"/api/v1/reimbursements/{application_id}/attachments", headers=headers,
                       data={"kind": kind, "file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def returned(client, staff_token, application_id, requested=None):
    body = {"decision": "return", "comment": "发票照片不清晰，请重新上传"}
    if requested is not None:
        body["requested_materials"] = requested
    response = client.post(f"/api/v1/staff/applications/{application_id}/decisions",
                           headers=staff_token("reviewer1"), json=body)
    assert response.status_code == 200, response.json
    assert response.json["status"] == "returned"
    return response


def test_a_returned_application_cannot_be_resubmitted_without_the_material_asked_for(client, insured, staff_token):
    _, headers = insured
    application_id = file_reimbursement(client, headers)
    returned(client, staff_token, application_id, requested=["invoice"])
    status = client.get(f"/api/v1/reimbursements/{application_id}", headers=headers).json
    assert [m["kind"] for m in status["missing_materials"]] == ["invoice"]
    too_early = client.post(SUPPLEMENT.format(application_id), headers=headers, json={"comment": "已补充"})
    assert (too_early.status_code, too_early.json["errors"]["reason"]) == (422, "requested_material_missing")
    assert too_early.json["message"]
    assert client.get(f"/api/v1/reimbursements/{application_id}", headers=headers).json["status"] == "returned"
    # Another kind of file is not what was asked for.
    assert upload(client, headers, application_id, "fee_list", png(7), "清单2.png").status_code == 201
    still = client.post(SUPPLEMENT.format(application_id), headers=headers, json={})
    assert still.json["errors"]["reason"] == "requested_material_missing"
    assert upload(client, headers, application_id, "invoice", png(9), "发票-清晰.png").status_code == 201
    again = client.post(SUPPLEMENT.format(application_id), headers=headers, json={"comment": "已补充"})
    assert again.status_code == 200, again.json
    assert again.json["status"] == "in_review"


def test_a_return_naming_no_material_still_needs_something_new(client, insured, staff_token):
    _, headers = insured
    application_id = file_reimbursement(client, headers)
    returned(client, staff_token, application_id)
    nothing_new = client.post(SUPPLEMENT.format(application_id), headers=headers, json={})
    assert (nothing_new.status_code, nothing_new.json["errors"]["reason"]) == (422, "requested_material_missing")
    assert upload(client, headers, application_id, "invoice", png(11), "发票3.png").status_code == 201
    assert client.post(SUPPLEMENT.format(application_id), headers=headers, json={}).status_code == 200


def test_a_return_may_only_ask_for_materials_the_application_takes(client, insured, staff_token):
    _, headers = insured
    application_id = file_reimbursement(client, headers)
    response = client.post(f"/api/v1/staff/applications/{application_id}/decisions",
                           headers=staff_token("reviewer1"),
                           json={"decision": "return", "comment": "补充", "requested_materials": ["passport"]})
    assert (response.status_code, response.json["errors"]["reason"]) == (422, "requested_material_invalid")
    approve_with = client.post(f"/api/v1/staff/applications/{application_id}/decisions",
                               headers=staff_token("reviewer1"),
                               json={"decision": "approve", "requested_materials": ["invoice"]})
    assert (approve_with.status_code, approve_with.json["errors"]["reason"]) == (422,
                                                                                "requested_materials_not_allowed")


def test_uploading_to_an_application_in_review_or_paid_is_a_conflict_not_a_server_error(client, insured,
                                                                                      staff_token):
    _, headers = insured
    application_id = file_reimbursement(client, headers)
    assert decide(client, staff_token("reviewer1"), application_id).status_code == 200  # now in second review
    in_review = upload(client, headers, application_id, "invoice", png(21), "晚到的发票.png")
    assert (in_review.status_code, in_review.json["errors"]["reason"]) == (409, "invalid_transition")
    assert decide(client, staff_token("reviewer2"), application_id).status_code == 200
    assert decide(client, staff_token("leader1"), application_id).status_code == 200
    assert client.get(f"/api/v1/reimbursements/{application_id}", headers=headers).json["status"] == "paid"
    paid = upload(client, headers, application_id, "invoice", png(22), "又一张.png")
    assert (paid.status_code, paid.json["errors"]["reason"]) == (409, "invalid_transition")


def test_a_leader_acting_on_a_step_not_theirs_is_forbidden_before_the_state_is_judged(client, insured,
                                                                                     staff_token):
    _, headers = insured
    response = client.post("/api/v1/reimbursements", headers=headers, json={
        "visit_date": "2026-01-05", "institution_name": "宁夏医科大学总医院", "hospital_level": "tertiary",
        "cross_province": False, "self_paid_by_choice": False,
        "invoices": [{"number": "NX-INV-9", "amount": "500.00", "electronic": False}],
        "items": [{"name": "药品", "amount": "500.00", "in_scope": True}], "payee": {"kind": "social_security_card"}})
    application_id = response.json["application_id"]  # no materials uploaded: approving would be 409
    leader = decide(client, staff_token("leader1"), application_id)
    assert (leader.status_code, leader.json["errors"]["reason"]) == (403, "wrong_role")
    reviewer = decide(client, staff_token("reviewer1"), application_id)
    assert (reviewer.status_code, reviewer.json["errors"]["reason"]) == (409, "materials_missing")
