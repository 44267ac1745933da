"""One chat turn end to end: transcript redaction, the Redis state and its lock, ownership, the human hold."""

from __future__ import annotations

import datetime as dt
import re
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from backend.errors import NotFound, TooManyRequests, Unauthorized
from backend.extensions import db, redis_store
from backend.intents import conversation, handlers, replies
from backend.models import ChatEscalation, ChatMessage
from backend.models.chat import ChatSession
from backend.services import chat, sharing
from backend.services import chat_sessions as sessions
from tests.conftest import valid_id_number

OWNER = ("张伟", "640104198506120314")
WIFE = ("李娜", "640106198709150428")
WRONG_CHECK_DIGIT = "640106198709150427"


@pytest.fixture
def owner(make_person):
    make_person(name=WIFE[0], id_number=WIFE[1])
    return make_person(name=OWNER[0], id_number=OWNER[1])


def transcript(session_id: str) -> list[ChatMessage]:
    return list(db.session.scalars(select(ChatMessage).where(ChatMessage.session_id == session_id)
                                   .order_by(ChatMessage.id)))


def raw_state(session_id: str) -> str:
    return (redis_store.client.get(sessions.state_key(session_id)) or b"").decode()


def test_id_numbers_are_masked_in_the_stored_transcript_even_when_mistyped(app, owner):
    turn = conversation.post_message("给我老婆开通家庭共济 她叫李娜", person_id=owner.id)
    session_id = turn["session_id"]
    for text in (WRONG_CHECK_DIGIT, WRONG_CHECK_DIGIT[:17], WIFE[1], "同意"):
        conversation.post_message(text, person_id=owner.id, session_id=session_id)

    stored = "\n".join(row.text + str(row.payload or "") for row in transcript(session_id))
    assert WIFE[1] not in stored and WRONG_CHECK_DIGIT not in stored and WRONG_CHECK_DIGIT[:17] not in stored
    assert "640106********0428" in stored and "640106********0427" in stored
    assert [g.relation for g in sharing.list_grants(owner.id, "given", status="active")] == ["spouse"]


def test_the_redis_state_holds_the_id_number_only_while_the_form_needs_it(app, owner):
    session_id = conversation.post_message("给我老婆开通家庭共济 她叫李娜", person_id=owner.id)["session_id"]

    conversation.post_message(WIFE[1], person_id=owner.id, session_id=session_id)
    assert WIFE[1] in raw_state(session_id)  # the confirmation still needs it
    conversation.post_message("同意", person_id=owner.id, session_id=session_id)

    assert raw_state(session_id) and WIFE[1] not in raw_state(session_id)


def test_the_state_is_kept_under_the_key_prefix_and_expires_after_the_idle_time(app, owner):
    session_id = conversation.post_message("给我老婆开通家庭共济", person_id=owner.id)["session_id"]

    key = sessions.state_key(session_id)
    assert key.startswith(app.config["REDIS_KEY_PREFIX"])
    assert 0 < redis_store.client.ttl(key) <= app.config["CHAT_SESSION_IDLE_SECONDS"] == 30 * 60


def test_an_expired_state_starts_the_conversation_afresh_but_keeps_the_transcript(app, owner):
    session_id = conversation.post_message("给我老婆开通家庭共济", person_id=owner.id)["session_id"]
    redis_store.client.delete(sessions.state_key(session_id))

    turn = conversation.post_message("李娜", person_id=owner.id, session_id=session_id)

    assert turn["intent"] != "sharing_grant"
    assert len(transcript(session_id)) == 4


def test_a_refusal_of_the_sharing_service_is_told_to_the_person(app, owner):
    not_insured_here = valid_id_number("64010619900101001")
    session_id = conversation.post_message("给我老婆开通家庭共济 她叫王芳", person_id=owner.id)["session_id"]
    conversation.post_message(not_insured_here, person_id=owner.id, session_id=session_id)

    turn = conversation.post_message("同意", person_id=owner.id, session_id=session_id)

    assert turn["replies"][0]["text"].startswith("没能办成：")
    assert sharing.list_grants(owner.id, "given") == []


def test_a_turn_that_fails_still_keeps_the_persons_message_for_the_agents(app, owner, monkeypatch):
    session_id = conversation.post_message("你好", person_id=owner.id)["session_id"]

    def broken(message, ctx):
        raise RuntimeError("a handler bug")

    monkeypatch.setitem(handlers.ANSWERS, "goodbye", broken)
    with pytest.raises(RuntimeError):
        conversation.post_message("谢谢，再见", person_id=owner.id, session_id=session_id)

    assert [(row.sender, row.text) for row in transcript(session_id)][-1] == ("user", "谢谢，再见")
    assert not redis_store.client.exists(sessions.lock_key(session_id))


def _post_at_once(app, texts: list[str], session_id: str, person_id: int) -> list[dict]:
    results: list[dict] = [{}] * len(texts)
    barrier = threading.Barrier(len(texts))

    def post(index: int) -> None:
        with app.app_context():
            barrier.wait()
            results[index] = conversation.post_message(texts[index], person_id=person_id, session_id=session_id)
            db.session.remove()

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(texts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.real_commits
def test_messages_sent_at_once_to_one_session_are_taken_one_turn_at_a_time(app, owner):
    session_id = conversation.post_message("你好", person_id=owner.id)["session_id"]
    db.session.commit()

    # Each unclear message moves the handover ladder one step: only turns taken one after the other on the
    # state the previous turn saved produce exactly one clarification, one request to rephrase, one handover.
    results = _post_at_once(app, ["我想查一下"] * 3, session_id, owner.id)

    kinds = sorted("handover" if r["handoff"] else r["replies"][0]["type"] for r in results)
    assert kinds == ["choices", "handover", "text"]
    assert db.session.scalar(select(ChatEscalation).where(ChatEscalation.session_id == session_id)) is not None


@pytest.mark.real_commits
def test_no_turn_is_lost_or_interleaved_when_many_messages_arrive_at_once(app, owner):
    session_id = conversation.post_message("你好", person_id=owner.id)["session_id"]
    db.session.commit()

    _post_at_once(app, ["谢谢"] * 8, session_id, owner.id)

    senders = [row.sender for row in transcript(session_id)]
    assert senders == ["user", "bot"] * 9


def test_a_message_that_cannot_get_the_session_lock_in_time_is_refused_without_a_turn(app, owner):
    session_id = conversation.post_message("你好", person_id=owner.id)["session_id"]
    app.config["CHAT_LOCK_WAIT_SECONDS"] = 0
    held = redis_store.client.lock(sessions.lock_key(session_id), timeout=30)
    assert held.acquire(blocking=False)

    with pytest.raises(TooManyRequests):
        conversation.post_message("谢谢", person_id=owner.id, session_id=session_id)
    assert len(transcript(session_id)) == 2


def test_an_anonymous_session_is_read_and_continued_only_with_its_secret(app):
    first = conversation.post_message("你好", person_id=None)
    session_id, secret = first["session_id"], first["session_secret"]

    assert conversation.post_message("谢谢", person_id=None, session_id=session_id, secret=secret)["replies"]
    assert len(chat.messages(session_id, person_id=None, secret=secret)["messages"]) == 4
    for wrong in (None, "0" * 32):
        with pytest.raises(NotFound):
            chat.messages(session_id, person_id=None, secret=wrong)
        with pytest.raises(NotFound):
            conversation.post_message("你好", person_id=None, session_id=session_id, secret=wrong)


def test_a_persons_session_is_theirs_alone(app, owner, make_person):
    session_id = conversation.post_message("你好", person_id=owner.id)["session_id"]
    stranger = make_person()

    with pytest.raises(NotFound):
        chat.messages(session_id, person_id=stranger.id, secret=None)
    with pytest.raises(NotFound):
        conversation.post_message("你好", person_id=stranger.id, session_id=session_id)
    with pytest.raises(Unauthorized):
        chat.messages(session_id, person_id=None, secret=chat.session_secret(session_id))


def test_signing_in_after_the_sign_in_card_makes_the_anonymous_session_the_persons(app, owner):
    first = conversation.post_message("我的个人账户还有多少钱", person_id=None)
    assert first["replies"][0]["card"] == "sign_in"

    conversation.post_message("我的个人账户还有多少钱", person_id=owner.id, session_id=first["session_id"],
                      secret=first["session_secret"])

    assert db.session.get(ChatSession, first["session_id"]).person_id == owner.id
    with pytest.raises(Unauthorized):
        chat.messages(first["session_id"], person_id=None, secret=first["session_secret"])


def test_while_an_escalation_is_open_the_bot_only_acknowledges_and_answers_once_it_is_closed(app, owner, make_person):
    session_id = conversation.post_message("转人工", person_id=owner.id)["session_id"]
    escalation = db.session.scalar(select(ChatEscalation).where(ChatEscalation.session_id == session_id))
    assert (escalation.status, escalation.reason) == ("waiting", "requested")

    quiet = conversation.post_message("你好，在吗", person_id=owner.id, session_id=session_id)
    assert quiet == {"session_id": session_id, "intent": None, "handoff": True,
                     "replies": [{"type": "text", "text": replies.WAITING_FIRST_IN_LINE}]}
    escalation.status, escalation.closed_at, escalation.closed_reason = "closed", escalation.created_at, "agent"
    db.session.commit()

    answered = conversation.post_message("你好", person_id=owner.id, session_id=session_id)
    assert answered["intent"] == "greeting" and answered["handoff"] is False


def test_a_hold_no_agent_acts_on_lapses_after_the_timeout_and_the_bot_resumes(app, owner):
    session_id = conversation.post_message("转人工", person_id=owner.id)["session_id"]
    escalation = db.session.scalar(select(ChatEscalation).where(ChatEscalation.session_id == session_id))
    timeout = dt.timedelta(seconds=app.config["CHAT_HUMAN_TIMEOUT_SECONDS"])
    assert timeout == dt.timedelta(minutes=10)
    escalation.last_agent_activity_at -= timeout
    db.session.commit()

    turn = conversation.post_message("你好", person_id=owner.id, session_id=session_id)

    assert turn["replies"][0]["text"] == replies.HUMAN_TIMED_OUT and turn["intent"] == "greeting"
    db.session.refresh(escalation)
    assert (escalation.status, escalation.closed_reason) == ("closed", "timeout")


# --- the chat-eval command ---------------------------------------------------------------------------------------

EVAL_SAMPLE = Path(__file__).parent.parent / "intents" / "data" / "eval_sample.jsonl"


def test_chat_eval_prints_per_intent_scores_the_confusions_and_accuracy_last(app):
    # Six questions the NLU gets right, one of them labelled wrongly on purpose (a weather question as a
    # greeting): 5 of 6 correct; greeting has no true positive (F1 0), out_of_scope precision 1/2 (F1 2/3).
    result = app.test_cli_runner().invoke(args=["chat-eval", str(EVAL_SAMPLE)])

    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert re.fullmatch(r"accuracy=\d\.\d{4} macro_f1=\d\.\d{4}", lines[-1])
    macro_f1 = (4 * 1.0 + 0.0 + 2 / 3) / 6
    assert lines[-1] == f"accuracy={5 / 6:.4f} macro_f1={macro_f1:.4f}"
    assert "  greeting -> out_of_scope: 1" in lines
    assert any(line.split()[:2] == ["out_of_scope", "0.5000"] for line in lines)


def test_chat_eval_can_cross_validate_the_training_data_first(app):
    result = app.test_cli_runner().invoke(args=["chat-eval", "--cross-validate", "--folds", "2", str(EVAL_SAMPLE)])

    assert result.exit_code == 0, result.output
    assert result.output.startswith("2-fold cross-validation over")
    assert sum(line.startswith("accuracy=") for line in result.output.splitlines()) == 2
    assert result.output.strip().splitlines()[-1] == f"accuracy={5 / 6:.4f} macro_f1={(4 + 2 / 3) / 6:.4f}"


def test_the_waiting_acknowledgement_tells_the_place_in_the_queue(app, owner, make_person):
    ahead = [make_person() for _ in range(2)]
    for person in ahead:
        conversation.post_message("转人工", person_id=person.id)
    session_id = conversation.post_message("转人工", person_id=owner.id)["session_id"]

    turn = conversation.post_message("还要等多久", person_id=owner.id, session_id=session_id)

    minutes = 3 * app.config["CHAT_MINUTES_PER_WAITING_PERSON"]
    assert turn["replies"] == [{"type": "text", "text": replies.WAITING_FOR_AGENT.format(ahead=2, minutes=minutes)}]
    assert turn["handoff"] is True


def test_one_turn_writes_its_records_in_one_commit(app, owner, monkeypatch):
    session_id = conversation.post_message("你好", person_id=owner.id)["session_id"]
    commits = []
    real_commit = db.session.commit
    monkeypatch.setattr(db.session, "commit", lambda: (commits.append(1), real_commit())[1])

    conversation.post_message("我的余额还有多少", person_id=owner.id, session_id=session_id)

    assert len(commits) == 1
