"""Reviewing in the browser: a reimbursement through 初审 → 复审 → 审签 by three members of staff in three browser
contexts; a return for material, the citizen's supplement through the API, then approval."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import new_person
from tests.e2e import citizen


@pytest.fixture
def applicant(live_app):
    person = new_person(501, name="报销人甲", opening_balance_fen=50_000)
    client = live_app.test_client()
    return person, client, citizen.sign_in(client, person.id_number)


def decide(page, decision: str, comment: str = "", reason: str | None = None) -> None:
    page.get_by_label("审核决定").select_option(label=decision)
    if reason:
        page.get_by_label("理由").select_option(label=reason)
    if comment:
        page.get_by_label("审核意见").fill(comment)
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_role("status")).to_contain_text("已提交")


def open_from_queue(page, application_id: str) -> None:
    page.get_by_role("link", name="审核工作台", exact=True).click()
    page.get_by_role("link", name=application_id).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(application_id)


def test_a_reimbursement_goes_through_three_steps_by_three_staff(staff_page, applicant, screenshot):
    person, client, headers = applicant
    application_id = citizen.file_reimbursement(client, headers)
    first, second, leader = staff_page("reviewer1"), staff_page("reviewer2"), staff_page("leader1")

    first.goto("/staff/review/")
    screenshot(first, "03-review-queue")
    open_from_queue(first, application_id)
    expect(first.locator(".attachments img")).to_be_visible()
    first.get_by_label("审核决定").select_option(label="不予通过")
    first.get_by_role("button", name="提交").click()  # no reason code: refused, and the page says why
    expect(first.get_by_role("alert")).to_contain_text("请填写审核理由")
    expect(first.get_by_role("heading", level=1)).to_contain_text(application_id)
    first.get_by_role("button", name="领取").click()
    expect(first.get_by_role("status")).to_contain_text("已领取")
    screenshot(first, "04-review-case")
    first.locator(".attachments").scroll_into_view_if_needed()
    screenshot(first, "04b-review-materials")
    decide(first, "通过", "票据齐全")

    open_from_queue(second, application_id)
    decide(second, "通过")

    open_from_queue(leader, application_id)
    preview = leader.get_by_role("heading", name="试算结果（按当前累计额，未入账）")
    expect(preview).to_be_visible()
    expect(leader.locator(".explanation li").first).to_be_visible()
    expect(leader.get_by_text("初审 · 通过")).to_be_visible()
    screenshot(leader, "05-review-sign-off")
    decide(leader, "通过")

    status = client.get(f"/api/v1/reimbursements/{application_id}", headers=headers).json
    assert status["status"] == "paid" and [s["step"] for s in status["steps"]] == [
        "first_review", "second_review", "sign_off"]

    # Separation of duties is shown: the first reviewer may not act on a later step of the same case.
    first.goto(f"/staff/review/{application_id}")
    expect(first.get_by_role("button", name="提交")).to_have_count(0)


def test_a_return_for_material_then_the_supplement_then_approval(staff_page, applicant):
    person, client, headers = applicant
    application_id = citizen.file_reimbursement(client, headers, number="NX-E2E-0002")
    first = staff_page("reviewer1")
    open_from_queue(first, application_id)
    decide(first, "退回补充材料", "发票图片不清晰，请重新拍照上传", reason="材料不全")

    status = client.get(f"/api/v1/reimbursements/{application_id}", headers=headers).json
    assert status["status"] == "returned" and status["steps"][-1]["comment"] == "发票图片不清晰，请重新拍照上传"
    citizen.upload(client, headers, application_id, "invoice", "发票-清晰.png", citizen.sample_png("CLEAR COPY"))
    supplemented = client.post(f"/api/v1/reimbursements/{application_id}/supplement", headers=headers,
                               json={"comment": "已重新上传"})
    assert supplemented.status_code == 200, supplemented.json

    open_from_queue(first, application_id)
    expect(first.locator(".attachments figure")).to_have_count(3)
    expect(first.get_by_text("退回补充 · 初审 王经办")).to_be_visible()
    decide(first, "通过")
    second, leader = staff_page("reviewer2"), staff_page("leader1")
    open_from_queue(second, application_id)
    decide(second, "通过")
    open_from_queue(leader, application_id)
    decide(leader, "通过")
    assert client.get(f"/api/v1/reimbursements/{application_id}", headers=headers).json["status"] == "paid"
