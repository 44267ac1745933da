"""Dialogue paths: forms (happy, re-prompt, cancel, interruption), sign-in, the region question, handover."""

from __future__ import annotations

import pytest

from backend.domain.identity import mask_id_number
from backend.domain.money import apply_share, fen_to_yuan, percent_label, yuan_to_fen
from backend.intents import dialogue, nlu, replies
from backend.intents.types import Context, Message, State
from backend.services import people, policies, sharing
from backend.services.benefits import local_today

# The 张 family of the README's demo data: 张伟 (nx, employed) already lets his father 张建国 use his account.
ZHANG_WEI = ("张伟", "640104198506120314")
LI_NA = ("李娜", "640106198709150428")  # his wife
ZHANG_JIANGUO = ("张建国", "640104195803150014")  # his father
WRONG_CHECK_DIGIT = "640106198709150427"


class Conversation:
    """One person talking to the dialogue, state kept between messages as the chat service keeps it."""

    def __init__(self, person=None):
        self.person = person
        self.state = State(person_id=person.id if person else None)
        self.today = local_today()

    def say(self, text: str) -> dialogue.Turn:
        ctx = Context(self.person.id if self.person else None, self.today, told_region=self.state.region)
        return dialogue.respond(self.state, Message.understood(nlu.understand(text, self.today)), ctx)


def texts(turn: dialogue.Turn) -> str:
    return "\n".join(reply.get("text", "") for reply in turn.replies)


def active_given(person) -> list[tuple[str, str]]:
    return [(g.relation, people.get(g.relative_person_id).name)
            for g in sharing.list_grants(person.id, "given", status="active")]


@pytest.fixture
def zhang_wei(make_person):
    owner = make_person(name=ZHANG_WEI[0], id_number=ZHANG_WEI[1], opening_balance_fen=120_000)
    make_person(name=LI_NA[0], id_number=LI_NA[1])
    make_person(name=ZHANG_JIANGUO[0], id_number=ZHANG_JIANGUO[1], person_type="retired")
    sharing.grant(owner.id, relative_name=ZHANG_JIANGUO[0], relative_id_number=ZHANG_JIANGUO[1], relation="father",
                  promise_accepted=True, channel="app")
    return owner


@pytest.fixture
def talk():
    return Conversation


# --- sharing_grant ---------------------------------------------------------------------------------------------


def test_a_grant_is_made_after_relation_name_id_number_and_consent(zhang_wei, talk):
    chat = talk(zhang_wei)

    asked = chat.say("我想开通家庭共济")
    assert asked.intent == "sharing_grant" and asked.replies[0]["type"] == "choices"
    assert "spouse" in [choice["value"] for choice in asked.replies[0]["choices"]]
    assert "姓名" in texts(chat.say("老婆"))
    assert "身份证" in texts(chat.say(LI_NA[0]))
    confirm = chat.say(LI_NA[1])
    assert "承诺书" in texts(confirm) and mask_id_number(LI_NA[1]) in texts(confirm)
    assert LI_NA[1] not in texts(confirm)
    done = chat.say("同意")

    assert "已为您开通" in texts(done)
    assert ("spouse", "李娜") in active_given(zhang_wei)
    assert chat.state.form is None


def test_slots_already_in_the_first_message_are_filled_at_once(zhang_wei, talk):
    chat = talk(zhang_wei)

    turn = chat.say("给我老婆开通家庭共济 她叫李娜")

    assert chat.state.form.slots == {"relation": "spouse", "name": "李娜"}
    assert chat.state.form.awaiting == "id_number"
    assert texts(turn) == replies.GRANT_ASK_ID.format(name="李娜")


def test_an_id_number_with_a_wrong_check_digit_is_asked_for_again_saying_why(zhang_wei, talk):
    chat = talk(zhang_wei)
    chat.say("给我老婆开通家庭共济 她叫李娜")

    turn = chat.say(WRONG_CHECK_DIGIT)

    assert texts(turn) == replies.ID_PROBLEMS["checksum"]
    assert chat.state.form.awaiting == "id_number" and "id_number" not in chat.state.form.slots
    assert "承诺书" in texts(chat.say(f"{LI_NA[1][:6]} {LI_NA[1][6:14]} {LI_NA[1][14:]}"))
    assert chat.state.form.slots["id_number"] == LI_NA[1]


def test_the_third_failure_in_a_row_hands_over_after_two_reprompts(zhang_wei, talk):
    chat = talk(zhang_wei)
    chat.say("给我老婆开通家庭共济 她叫李娜")

    first, second = chat.say(WRONG_CHECK_DIGIT), chat.say("64010619870915")
    third = chat.say(WRONG_CHECK_DIGIT)

    assert first.handoff is None and second.handoff is None
    assert third.handoff == "reprompts_exhausted" and third.intent == "handoff_human"
    assert chat.state.form is None
    assert active_given(zhang_wei) == [("father", "张建国")]


def test_a_relation_the_policy_in_force_does_not_allow_is_refused_with_the_allowed_ones(make_person, talk):
    liu_qiang = make_person(region="nm")
    allowed = policies.in_force("nm", local_today()).sharing.relations
    assert "sibling" not in allowed
    chat = talk(liu_qiang)

    turn = chat.say("给我哥开通家庭共济")

    assert turn.replies[0]["type"] == "choices"
    assert {choice["value"] for choice in turn.replies[0]["choices"]} == set(allowed)
    assert "relation" not in chat.state.form.slots


@pytest.mark.parametrize("step_answers, cancel", [
    ([], "算了"), (["老婆"], "不办了"), (["老婆", "李娜"], "取消"), (["老婆", "李娜", LI_NA[1]], "算了，不弄了"),
])
def test_cancelling_at_any_step_changes_nothing_and_forgets_the_id_number(zhang_wei, talk, step_answers, cancel):
    chat = talk(zhang_wei)
    chat.say("我要办家庭共济授权")
    for answer in step_answers:
        chat.say(answer)

    turn = chat.say(cancel)

    assert texts(turn) == replies.CANCELLED.format(form="家庭共济授权")
    assert chat.state.form is None
    assert LI_NA[1] not in str(chat.state.to_dict())
    assert active_given(zhang_wei) == [("father", "张建国")]


def test_saying_no_to_the_promise_cancels_the_grant(zhang_wei, talk):
    chat = talk(zhang_wei)
    for message in ("给我老婆开通家庭共济 她叫李娜", LI_NA[1]):
        chat.say(message)

    turn = chat.say("不同意")

    assert "已取消" in texts(turn) and active_given(zhang_wei) == [("father", "张建国")]


def test_a_question_in_the_middle_of_a_form_is_answered_and_the_form_resumes(zhang_wei, talk):
    deductible = policies.in_force("nx", local_today()).benefits.deductible.amount_fen.employed
    chat = talk(zhang_wei)
    chat.say("给我老婆开通家庭共济")

    turn = chat.say("起付线是多少")

    assert f"{fen_to_yuan(deductible)} 元" in texts(turn)
    assert texts(turn).endswith(replies.GRANT_ASK_NAME.format(relation="配偶"))
    assert chat.state.form.awaiting == "name" and chat.state.form.failures == 0
    chat.say("李娜")
    assert chat.state.form.slots["name"] == "李娜"


def test_asking_for_a_human_in_the_middle_of_a_form_hands_over_at_once(zhang_wei, talk):
    chat = talk(zhang_wei)
    chat.say("给我老婆开通家庭共济 她叫李娜")

    turn = chat.say("转人工")

    assert turn.handoff == "requested" and chat.state.form is None


# --- sharing_revoke ----------------------------------------------------------------------------------------------


def test_a_grant_named_in_the_request_is_confirmed_and_revoked(zhang_wei, talk):
    chat = talk(zhang_wei)

    confirm = chat.say("把给我爸的共济授权取消掉")
    assert "张建国" in texts(confirm) and confirm.replies[0]["type"] == "choices"
    done = chat.say("确认")

    assert "已解除" in texts(done) and active_given(zhang_wei) == []


def test_with_several_grants_the_person_chooses_which_one_to_revoke(zhang_wei, talk):
    sharing.grant(zhang_wei.id, relative_name=LI_NA[0], relative_id_number=LI_NA[1], relation="spouse",
                  promise_accepted=True, channel="app")
    chat = talk(zhang_wei)

    choose = chat.say("我要解除家庭共济授权")
    options = choose.replies[0]["choices"]
    assert len(options) == 2
    wife = next(number for number, option in enumerate(options, 1) if "李娜" in option["label"])
    chat.say(str(wife))
    chat.say("是的")

    assert active_given(zhang_wei) == [("father", "张建国")]


def test_revoking_with_no_active_grant_says_so(talk, make_person):
    chat = talk(make_person())

    turn = chat.say("解除家庭共济")

    assert texts(turn) == replies.REVOKE_NONE and chat.state.form is None


# --- benefit_estimate ----------------------------------------------------------------------------------------


def test_an_estimate_asks_for_the_amount_and_the_level_then_answers_from_the_engine(talk, make_person):
    person = make_person(person_type="employed")
    policy = policies.in_force("nx", local_today())
    deductible = policy.benefits.deductible.amount_fen.employed
    share = policy.benefits.general.share_bp.tertiary.employed
    chat = talk(person)

    assert texts(chat.say("帮我估算一下能报多少钱")) == replies.ESTIMATE_ASK_AMOUNT
    assert chat.say("3000").replies[0]["type"] == "choices"
    turn = chat.say("三甲")

    # Nothing used this year: the fund pays its tertiary share of what is above the deductible.
    assert f"统筹基金支付 {fen_to_yuan(apply_share(yuan_to_fen(3000) - deductible, share))} 元" in texts(turn)
    assert chat.state.form is None


def test_an_estimate_with_amount_and_level_in_one_message_answers_at_once(talk, make_person):
    chat = talk(make_person())

    turn = chat.say("在三级医院看门诊花了两千五能报多少")

    assert turn.intent == "benefit_estimate" and "统筹基金支付" in texts(turn)


def test_a_policy_question_naming_a_level_is_answered_not_taken_as_the_level(talk, make_person):
    share = policies.in_force("nx", local_today()).benefits.general.share_bp.tertiary.employed
    chat = talk(make_person())
    chat.say("帮我估算一下能报多少钱")
    chat.say("3000元")

    turn = chat.say("三甲医院的报销比例是多少")

    assert f"三级医院 {percent_label(share)}" in texts(turn)
    assert "hospital_level" not in chat.state.form.slots and chat.state.form.awaiting == "hospital_level"
    assert "统筹基金支付" in texts(chat.say("社区医院"))


def test_a_level_that_cannot_be_read_is_asked_again_with_the_choices(talk, make_person):
    chat = talk(make_person())
    chat.say("估算报销 3000元")

    turn = chat.say("嗯那个")

    assert turn.replies[0]["text"] == replies.DID_NOT_UNDERSTAND
    assert turn.replies[1]["type"] == "choices" and chat.state.form.failures == 1


# --- not signed in, the region ------------------------------------------------------------------------------


@pytest.mark.parametrize("text, intent", [
    ("我想给我妈开通家庭共济", "sharing_grant"),
    ("我的个人账户还有多少钱", "account_balance"),
    ("今年门诊统筹还剩多少额度", "caps_remaining"),
    ("我的报销审核到哪一步了", "reimbursement_status"),
])
def test_personal_intents_ask_an_anonymous_person_to_sign_in(app, talk, text, intent):
    chat = talk()

    turn = chat.say(text)

    assert turn.intent == intent
    assert turn.replies == [{"type": "card", "card": "sign_in", "title": replies.SIGN_IN_TITLE,
                             "text": replies.SIGN_IN_BODY.format(what=replies.INTENT_LABELS[intent]),
                             "intent": intent}]
    assert chat.state.form is None


def test_a_policy_question_from_an_anonymous_person_asks_for_the_region_first(app, talk):
    deductible = policies.in_force("nm", local_today()).benefits.deductible.amount_fen
    chat = talk()

    ask = chat.say("起付线是多少")
    assert ask.replies[0]["type"] == "choices" and ask.replies[0]["text"] == replies.ASK_REGION
    answer = chat.say("内蒙古")

    assert f"在职职工 {fen_to_yuan(deductible.employed)} 元" in texts(answer)
    assert f"退休人员 {fen_to_yuan(deductible.retired)} 元" in texts(answer)
    assert chat.state.region == "nm"


def test_a_policy_question_naming_the_region_is_answered_at_once(app, talk):
    caps = policies.in_force("nx", local_today()).benefits.general.cap_fen

    turn = talk().say("宁夏门诊统筹一年最多报多少")

    assert f"在职职工 {fen_to_yuan(caps.employed)} 元" in texts(turn)


# --- low confidence and handover -----------------------------------------------------------------------------


def test_an_unclear_message_offers_two_intents_then_asks_to_rephrase_then_hands_over(app, talk):
    chat = talk()

    offer = chat.say("我想查一下")
    assert offer.replies[0]["type"] == "choices" and offer.replies[0]["text"] == replies.CLARIFY
    assert len(offer.replies[0]["choices"]) == 3  # the top two and 都不是
    rephrase = chat.say("我想查一下")
    assert texts(rephrase) == replies.REPHRASE and rephrase.handoff is None
    handover = chat.say("我想查一下")

    assert handover.handoff == "not_understood"


def test_picking_an_offered_intent_acts_on_it(zhang_wei, talk):
    chat = talk(zhang_wei)
    offered = chat.say("我想查一下").replies[0]["choices"]

    turn = chat.say("1")

    assert turn.intent == offered[0]["value"] and chat.state.unclear == 0


def test_a_clear_question_after_an_unclear_one_is_answered_normally(app, talk):
    chat = talk()
    chat.say("我想查一下")

    turn = chat.say("零星报销要带什么材料")

    assert turn.intent == "reimbursement_materials" and chat.state.unclear == 0


def test_asking_for_a_human_hands_over_at_once(app, talk):
    turn = talk().say("转人工")

    assert turn.handoff == "requested" and texts(turn) == replies.HANDOVER


def test_an_out_of_scope_question_is_answered_as_such(app, talk):
    turn = talk().say("今天天气怎么样")

    assert turn.intent == "out_of_scope" and texts(turn) == replies.OUT_OF_SCOPE and turn.handoff is None
