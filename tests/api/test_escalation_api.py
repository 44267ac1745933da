"""Handover to a service agent: the person asks, an agent lists, claims, replies and closes; the bot resumes."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from backend.extensions import db
from backend.intents import replies
from backend.models import ChatEscalation, StaffUser
from backend.services import tokens

ESCALATIONS = "/api/v1/staff/escalations"
MESSAGES = "/api/v1/chat/messages"
ZHANG_WEI = ("张伟", "640104198506120314")


@pytest.fixture
def staff(app):
    """Authorization headers for a member of staff with the roles given, created on first use."""

    def headers(username: str, roles: tuple[str, ...] = ("agent",)) -> dict[str, str]:
        member = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
        if member is None:
            member = StaffUser(username=username, display_name=username, password_hash="!", roles=list(roles))
            db.session.add(member)
            db.session.commit()
        return {"Authorization": f"Bearer {tokens.issue_access_token('staff', str(member.id), roles=list(roles))}"}

    return headers


@pytest.fixture
def person(make_person, person_headers):
    return person_headers(make_person(name=ZHANG_WEI[0], id_number=ZHANG_WEI[1]))


def say(client, headers, text, session=None):
    response = client.post(MESSAGES, json={"text": text, **({"session_id": session} if session else {})},
                           headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def transcript(client, headers, session, after=None):
    query = f"?after={after}" if after is not None else ""
    response = client.get(f"/api/v1/chat/sessions/{session}/messages{query}", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def test_a_person_reaches_an_agent_and_the_bot_answers_again_after_the_agent_closes(client, person, staff):
    agent = staff("agent1")

    asked = say(client, person, "你说的我看不懂 给我转真人")
    session = asked["session_id"]
    assert asked["handoff"] is True and asked["replies"][0]["text"] == replies.HANDOVER

    queue = client.get(ESCALATIONS, headers=agent).json
    waiting = next(e for e in queue if e["session_id"] == session)
    assert waiting["status"] == "waiting" and waiting["reason"] == "requested"
    assert waiting["person"] == {"name": "张伟", "id_number_masked": "640104********0314", "region": "nx",
                                 "person_type": "employed", "status": "active"}

    claimed = client.post(f"{ESCALATIONS}/{waiting['escalation_id']}/claim", headers=agent)
    assert claimed.status_code == 200 and claimed.json["status"] == "claimed"
    assert [m["text"] for m in claimed.json["transcript"]][:1] == ["你说的我看不懂 给我转真人"]

    quiet = say(client, person, "我媳妇的身份证是640106198709150428，能帮我开共济吗", session)
    assert quiet["handoff"] is True and quiet["intent"] is None
    assert quiet["replies"] == [{"type": "text", "text": replies.AGENT_WILL_READ}]
    seen = transcript(client, person, session)["messages"][-1]["id"]

    answer = client.post(f"{ESCALATIONS}/{waiting['escalation_id']}/replies", headers=agent,
                         json={"text": "您好，我是客服小陈，可以在小程序「家庭共济」里直接授权。"})
    assert answer.status_code == 201
    newer = transcript(client, person, session, after=seen)
    assert [(m["sender"], m["text"]) for m in newer["messages"]] == [
        ("agent", "您好，我是客服小陈，可以在小程序「家庭共济」里直接授权。")]
    assert newer["handoff"] is True and newer["escalation_status"] == "claimed"

    detail = client.get(f"{ESCALATIONS}/{waiting['escalation_id']}", headers=agent).json
    agent_view = "\n".join(m["text"] for m in detail["transcript"])
    assert "640106********0428" in agent_view and "640106198709150428" not in agent_view

    closed = client.post(f"{ESCALATIONS}/{waiting['escalation_id']}/close", headers=agent)
    assert closed.status_code == 200 and closed.json["closed_reason"] == "agent"
    after_close = transcript(client, person, session, after=newer["messages"][-1]["id"])
    assert [m["text"] for m in after_close["messages"]] == [replies.HUMAN_CLOSED]
    assert after_close["handoff"] is False

    again = say(client, person, "你好", session)
    assert again["intent"] == "greeting" and again["handoff"] is False
    assert client.get(ESCALATIONS, headers=agent).json == []


def test_only_one_agent_can_claim_an_escalation_and_only_they_can_reply(client, person, staff):
    first, second = staff("agent1"), staff("agent2")
    say(client, person, "转人工")
    escalation = client.get(ESCALATIONS, headers=first).json[0]["escalation_id"]

    assert client.post(f"{ESCALATIONS}/{escalation}/claim", headers=first).status_code == 200
    refused = client.post(f"{ESCALATIONS}/{escalation}/claim", headers=second)
    reply = client.post(f"{ESCALATIONS}/{escalation}/replies", headers=second, json={"text": "我来"})

    assert refused.status_code == 409 and refused.json["errors"]["reason"] == "escalation_not_waiting"
    assert reply.status_code == 409 and reply.json["errors"]["reason"] == "escalation_claimed_by_other"
    assert client.get(ESCALATIONS, headers=second).json == []  # claimed by someone else: not in their queue


def test_escalations_are_for_service_agents_only(client, person, staff):
    assert client.get(ESCALATIONS, headers=staff("reviewer1", ("first_reviewer",))).status_code == 403
    assert client.get(ESCALATIONS, headers=person).status_code in (401, 403)
    assert client.get(ESCALATIONS).status_code == 401


def test_a_waiting_escalation_no_agent_takes_lapses_and_leaves_the_queue(client, app, person, staff):
    session = say(client, person, "转人工")["session_id"]
    escalation = db.session.scalar(select(ChatEscalation).where(ChatEscalation.session_id == session))
    escalation.last_agent_activity_at -= dt.timedelta(seconds=app.config["CHAT_HUMAN_TIMEOUT_SECONDS"])
    db.session.commit()

    assert client.get(ESCALATIONS, headers=staff("agent1")).json == []
    messages = transcript(client, person, session)
    assert messages["handoff"] is False and messages["messages"][-1]["text"] == replies.HUMAN_TIMED_OUT
    late = client.post(f"{ESCALATIONS}/{escalation.id}/claim", headers=staff("agent1"))
    assert late.status_code == 409
