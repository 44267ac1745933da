"""The agent's day in the browser: a chat escalation answered beside the caller's context, the reply reaching the
citizen's chat session and the citizen's next message appearing without a reload; counter sharing with a scanned
承诺书, then viewing the stored scan again."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import new_person
from tests.e2e import citizen

MESSAGES = "/api/v1/chat/messages"


@pytest.fixture
def caller(live_app):
    person = new_person(601, name="来电人乙", opening_balance_fen=88_800)
    client = live_app.test_client()
    return person, client, citizen.sign_in(client, person.id_number)


def say(client, headers, text, session=None):
    response = client.post(MESSAGES, headers=headers,
                           json={"text": text, **({"session_id": session} if session else {})})
    assert response.status_code == 200, response.json
    return response.json


def test_a_chat_escalation_answered_in_the_console_reaches_the_citizen(staff_page, caller, screenshot):
    person, client, headers = caller
    session = say(client, headers, "我要转人工客服")["session_id"]

    agent = staff_page("agent1")
    agent.get_by_role("link", name="人工客服").first.click()
    row = agent.get_by_role("row", name=re.compile("来电人乙"))
    row.get_by_role("button", name="接入").click()
    expect(agent.get_by_role("status")).to_contain_text("已接入")
    context = agent.get_by_role("complementary", name="来电人信息")
    expect(context).to_contain_text("888.00")
    expect(context).to_contain_text(person.id_number[:6])
    expect(context).not_to_contain_text(person.id_number)

    expect(agent.locator("#transcript")).to_contain_text("我要转人工客服")
    agent.get_by_label("回复").fill("您好，我是客服小陈，请问需要办理什么？")
    agent.get_by_role("button", name="发送").click()
    messages = client.get(f"/api/v1/chat/sessions/{session}/messages", headers=headers).json["messages"]
    assert (messages[-1]["sender"], messages[-1]["text"]) == ("agent", "您好，我是客服小陈，请问需要办理什么？")

    say(client, headers, "我想给我父亲开通家庭共济", session)
    expect(agent.locator("#transcript")).to_contain_text("您好，我是客服小陈")
    expect(agent.locator("#transcript")).to_contain_text("我想给我父亲开通家庭共济")  # polled, no reload
    screenshot(agent, "06-chat-session")

    agent.once("dialog", lambda dialog: dialog.accept())
    agent.get_by_role("button", name="结束会话").click()
    expect(agent.get_by_role("status")).to_contain_text("会话已结束")
    after = client.get(f"/api/v1/chat/sessions/{session}/messages", headers=headers).json
    assert after["handoff"] is False


def test_counter_sharing_with_a_scanned_promise_and_viewing_it_back(staff_page, live_app, screenshot):
    owner = new_person(701, name="窗口授权人", opening_balance_fen=120_000)
    relative = new_person(702, name="窗口亲属")
    agent = staff_page("agent1")
    agent.get_by_role("link", name="窗口服务").click()
    agent.get_by_label("姓名").fill("窗口授权")
    agent.get_by_role("button", name="查找").click()
    row = agent.get_by_role("row", name=re.compile("窗口授权人"))
    expect(row).not_to_contain_text(owner.id_number)
    row.get_by_role("link", name="办理").click()
    expect(agent.get_by_role("heading", level=1)).to_contain_text("窗口授权人")

    agent.get_by_label("被授权人姓名").fill("窗口亲属")
    agent.get_by_label("被授权人身份证号码").fill(relative.id_number)
    agent.get_by_label("关系").select_option(label="配偶")
    agent.get_by_label("签字的承诺书扫描件").set_input_files(files=[{
        "name": "承诺书.png", "mimeType": "image/png", "buffer": citizen.sample_png("SIGNED PROMISE")}])
    agent.get_by_label("已核验本人身份证件原件").check()
    agent.get_by_role("button", name="授权（即时生效）").click()
    expect(agent.get_by_role("status")).to_contain_text("已为其授权窗口亲属")
    screenshot(agent, "07-counter-person")

    with agent.expect_popup() as popup:
        agent.get_by_role("link", name="授权承诺书").click()
    scan = popup.value
    scan.wait_for_load_state()
    assert scan.evaluate("document.contentType") == "image/png"

    agent.get_by_text("查看完整号码").click()
    agent.get_by_label("查看原因").fill("核对证件")
    agent.get_by_role("button", name="显示（记入审计）").click()
    expect(agent.locator("#id-number")).to_have_text(owner.id_number)
    admin = staff_page("admin1")
    admin.goto("/staff/audit?group=reads")
    expect(admin.locator("table")).to_contain_text("read.id_number")
    expect(admin.locator("table")).to_contain_text("read.promise")
