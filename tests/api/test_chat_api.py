"""The chatbot over HTTP: /chat/nlu, /chat/messages, the transcript, and answers from the person's own data."""

from __future__ import annotations

import datetime as dt

import pytest

from backend.domain.money import fen_to_yuan, percent_label
from backend.domain.sharing import RELATION_LABELS
from backend.intents import replies
from backend.services import people, policies
from backend.services.benefits import local_today
from tests.conftest import signed_request

NLU = "/api/v1/chat/nlu"
MESSAGES = "/api/v1/chat/messages"
SECRET_HEADER = "X-Chat-Session-Secret"
ZHANG_WEI = "640104198506120314"  # README demo: nx, employed; grants to his father 张建国
LI_NA = ("李娜", "640106198709150428")


def say(client, text, headers=None, session=None, secret=None):
    body = {"text": text, "session_id": session, "session_secret": secret}
    response = client.post(MESSAGES, json=body, headers=headers or {})
    assert response.status_code == 200, response.json
    return response.json


def all_text(turn: dict) -> str:
    return "\n".join(reply.get("text", "") for reply in turn["replies"])


def test_nlu_needs_no_sign_in_and_answers_in_the_contract_shape(client):
    response = client.post(NLU, json={"text": "我想给我老婆开通家庭共济，她的身份证640106198709150428"})

    assert response.status_code == 200
    body = response.json
    assert body["intent"] == "sharing_grant" and 0 < body["confidence"] <= 1
    assert {score["intent"] for score in body["ranking"]} >= {"sharing_grant", "out_of_scope"}
    assert {(e["type"], e["value"]) for e in body["entities"]} >= {("relation", "spouse"),
                                                                  ("id_number", "640106198709150428")}
    assert set(body["entities"][0]) == {"type", "value", "text", "start", "end"}


def test_nlu_is_rate_limited_per_caller(client, app):
    limit = int(app.config["CHAT_NLU_RATE_LIMIT"].split("/")[0])
    codes = [client.post(NLU, json={"text": "你好"}).status_code for _ in range(limit + 1)]

    assert codes[:limit] == [200] * limit
    last = client.post(NLU, json={"text": "你好"})
    assert last.status_code == 429 and last.json["errors"]["reason"] == "too_many_requests"


def test_an_empty_message_is_refused(client):
    assert client.post(MESSAGES, json={"text": ""}).status_code == 422


def test_an_anonymous_conversation_is_read_back_with_its_session_secret_only(client):
    first = say(client, "我的医保卡里还有多少钱")
    assert first["replies"][0]["card"] == "sign_in" and first["handoff"] is False
    session, secret = first["session_id"], first["session_secret"]
    second = say(client, "零星报销要交哪些东西", session=session, secret=secret)
    assert all_text(second) == replies.REIMBURSEMENT_MATERIALS

    path = f"/api/v1/chat/sessions/{session}/messages"
    everything = client.get(path, headers={SECRET_HEADER: secret})
    newer = client.get(f"{path}?after={everything.json['messages'][1]['id']}", headers={SECRET_HEADER: secret})

    assert [m["sender"] for m in everything.json["messages"]] == ["user", "bot", "user", "bot"]
    assert [m["text"] for m in newer.json["messages"]] == ["零星报销要交哪些东西", replies.REIMBURSEMENT_MATERIALS]
    assert client.get(path).status_code == 404
    assert client.get(path, headers={SECRET_HEADER: "f" * 32}).status_code == 404


def test_a_signed_in_persons_session_is_not_readable_by_anyone_else(client, make_person, person_headers):
    owner, stranger = make_person(), make_person()
    session = say(client, "你好", headers=person_headers(owner))["session_id"]
    path = f"/api/v1/chat/sessions/{session}/messages"

    assert client.get(path, headers=person_headers(owner)).status_code == 200
    assert client.get(path, headers=person_headers(stranger)).status_code == 404
    assert client.post(MESSAGES, json={"session_id": session, "text": "你好"},
                       headers=person_headers(stranger)).status_code == 404
    assert client.get(path).status_code == 401


def test_a_grant_made_in_conversation_is_visible_through_the_sharing_api(client, make_person, person_headers):
    owner = make_person(name="张伟", id_number=ZHANG_WEI)
    wife = make_person(name=LI_NA[0], id_number=LI_NA[1])
    headers = person_headers(owner)

    session = say(client, "想给我媳妇开通家庭共济怎么操作", headers=headers)["session_id"]
    for text in ("她叫李娜", LI_NA[1]):
        say(client, text, headers=headers, session=session)
    done = say(client, "同意", headers=headers, session=session)

    assert "已为您开通" in all_text(done)
    given = client.get("/api/v1/sharing/grants?direction=given", headers=headers).json
    received = client.get("/api/v1/sharing/grants?direction=received", headers=person_headers(wife)).json
    assert [(g["relation"], g["relative"]["name"], g["channel"], g["status"]) for g in given] == [
        ("spouse", "李娜", "chat", "active")]
    assert [g["owner"]["name"] for g in received] == ["张伟"]


def test_a_retried_message_with_the_same_idempotency_key_is_one_turn(client, make_person, person_headers):
    headers = {**person_headers(make_person()), "Idempotency-Key": "chat-retry-1"}
    first = client.post(MESSAGES, json={"text": "你好"}, headers=headers)
    again = client.post(MESSAGES, json={"text": "你好"}, headers=headers)

    assert again.json == first.json and again.headers.get("Idempotent-Replayed") == "true"
    path = f"/api/v1/chat/sessions/{first.json['session_id']}/messages"
    assert len(client.get(path, headers=headers).json["messages"]) == 2


# --- every catalogue intent, asked in words that are not in the training data, by a signed-in demo person --------


@pytest.fixture
def demo_person(client, demo_data, person_headers):
    """张伟 of the demo data, signed in, with one settlement at NX-T-001 yesterday."""
    person = people.by_id_number(ZHANG_WEI)
    visit = (local_today() - dt.timedelta(days=1)).isoformat()
    settled = signed_request(client, "/api/v1/institution/settlements", {
        "id_number": ZHANG_WEI, "visit_date": visit, "med_type": "general", "use_account": True,
        "items": [{"code": "YP001", "name": "阿莫西林胶囊", "amount": "800", "in_scope": True}],
    })
    assert settled.status_code in (200, 201), settled.json
    return person, person_headers(person), settled.json


def test_every_catalogue_question_gets_the_signed_in_persons_own_answer(client, demo_person):
    person, headers, settlement = demo_person
    policy = policies.in_force("nx", local_today())
    account = client.get("/api/v1/account", headers=headers).json
    caps = client.get("/api/v1/benefits/caps", headers=headers).json
    applications = client.get("/api/v1/applications", headers=headers).json
    estimate = client.post("/api/v1/benefits/estimate", json={"amount": "2600", "hospital_level": "tertiary"},
                           headers=headers).json
    tertiary_share = percent_label(policy.benefits.general.share_bp.tertiary.employed)
    allowed_use = policy.account.allowed_uses[0][1]

    expected = [  # (question from tests/intents/data/unseen.jsonl, intent, what the answer must contain)
        ("您好呀，有人值班吗", "greeting", [replies.GREETING]),
        ("我现在都给谁开了家庭共济", "sharing_list", ["父亲张建国"]),
        ("帮我查一下个人账户还剩多少钱", "account_balance", [f"{account['balance']} 元"]),
        ("查一下个人账户的进出明细", "account_history", [f"{account['balance']} 元", settlement["acct_pay"]]),
        ("个人账户里的钱可以去药店买医疗器械吗", "account_policy", [allowed_use]),
        ("父亲去世了，他个人账户的钱怎么领出来", "account_payout", [replies.ACCOUNT_PAYOUT]),
        ("医保跨省转移接续在哪里办", "account_transfer", [replies.ACCOUNT_TRANSFER]),
        ("我今年门诊统筹的额度还有多少", "caps_remaining",
         [f"剩余 {caps['general']['remaining']} 元", f"已累计 {caps['deductible']['used']} 元"]),
        ("在三甲医院看门诊报销比例是多少", "benefit_policy", [f"三级医院 {tertiary_share}"]),
        ("我在三甲医院花了2600块能报多少", "benefit_estimate", [f"统筹基金支付 {estimate['hifp_pay']} 元",
                                                          *estimate["explanation"]]),
        ("怎样申请手工报销", "reimbursement_apply", [replies.REIMBURSEMENT_APPLY]),
        ("手工报销需要准备什么", "reimbursement_materials", [replies.REIMBURSEMENT_MATERIALS]),
        ("提交的零星报销有结果没", "reimbursement_status",
         [a["status_label"] for a in applications[:3]] or [replies.APPLICATIONS_NONE]),
        ("查一下上次看病的结算单", "settlement_details",
         ["宁夏医科大学总医院", f"统筹基金支付 {settlement['hifp_pay']} 元"]),
        ("慢特病认定去哪个医院", "chronic_certification", [replies.CHRONIC_CERTIFICATION]),
        ("我想申请提高慢病的支付限额", "chronic_cap_adjust", [replies.CHRONIC_CAP_ADJUST]),
        ("异地就医备案在哪里办", "offsite_care", [replies.OFFSITE_CARE]),
        ("我的养老金什么时候到账", "out_of_scope", [replies.OUT_OF_SCOPE]),
        ("谢谢您 拜拜", "goodbye", [replies.GOODBYE]),
    ]
    for question, intent, fragments in expected:
        turn = say(client, question, headers=headers)
        assert turn["intent"] == intent, question
        for fragment in fragments:
            assert fragment in all_text(turn), (question, fragment, all_text(turn))


def test_the_forms_and_the_handover_start_from_their_own_words(client, demo_person):
    _, headers, _ = demo_person

    grant = say(client, "我要把我婆婆加进家庭共济", headers=headers)
    revoke = say(client, "解除我爸的家庭共济", headers=headers)
    human = say(client, "帮我接人工客服", headers=headers)

    assert grant["intent"] == "sharing_grant" and all_text(grant) == replies.GRANT_ASK_NAME.format(
        relation=RELATION_LABELS["mother_in_law"])
    assert revoke["intent"] == "sharing_revoke" and "张建国" in all_text(revoke)
    assert human["intent"] == "handoff_human" and human["handoff"] is True


def test_policy_numbers_in_answers_follow_the_policy_version_in_force(client, make_person, person_headers):
    retired = make_person(region="nm", person_type="retired")
    policy = policies.in_force("nm", local_today())

    turn = say(client, "门诊统筹一年的封顶是多少", headers=person_headers(retired))

    assert f"{fen_to_yuan(policy.benefits.general.cap_fen.retired)} 元" in all_text(turn)
    assert fen_to_yuan(policy.benefits.general.cap_fen.employed) not in all_text(turn)
