"""Chat limits per caller (the signed-in person, else the session), a separate per-address ceiling, the client
address from X-Forwarded-For only behind configured proxies, and over-long messages answered by the bot."""

from __future__ import annotations

import pytest

from backend.intents import replies

MESSAGES = "/api/v1/chat/messages"
NLU = "/api/v1/chat/nlu"


@pytest.fixture
def limited(make_app):
    def build(**overrides):
        settings = {"CHAT_MESSAGE_RATE_LIMIT": "3/minute", "CHAT_NLU_RATE_LIMIT": "3/minute",
                    "CHAT_IP_RATE_LIMIT": "100/minute", **overrides}
        app = make_app(**settings)
        return app, app.test_client()

    return build


def _say(client, text="你好", headers=None, **body):
    return client.post(MESSAGES, json={"text": text, **body}, headers=headers or {})


def test_two_signed_in_people_behind_one_address_each_have_their_own_allowance(limited, make_person):
    app, client = limited()
    with app.app_context():
        id_numbers = [make_person().id_number, make_person().id_number]
    tokens = [client.post("/api/v1/auth/dev-login", json={"id_number": number}).json["access_token"]
              for number in id_numbers]
    one, other = ({"Authorization": f"Bearer {token}"} for token in tokens)

    codes = [_say(client, headers=one).status_code for _ in range(4)]

    assert codes == [200, 200, 200, 429]
    assert _say(client, headers=other).status_code == 200


def test_an_anonymous_session_is_limited_by_itself_not_by_the_address(limited):
    app, client = limited()
    first = _say(client).json
    session = {"session_id": first["session_id"], "session_secret": first["session_secret"]}

    codes = [_say(client, **session).status_code for _ in range(4)]

    assert codes == [200, 200, 200, 429]
    assert _say(client).status_code == 200  # a new conversation from the same address


def test_the_per_address_ceiling_stops_many_callers_from_one_address(limited, make_person):
    app, client = limited(CHAT_IP_RATE_LIMIT="4/minute")
    with app.app_context():
        id_numbers = [make_person().id_number for _ in range(5)]
    tokens = [client.post("/api/v1/auth/dev-login", json={"id_number": number}).json["access_token"]
              for number in id_numbers]

    codes = [_say(client, headers={"Authorization": f"Bearer {token}"}).status_code for token in tokens]

    assert codes == [200, 200, 200, 200, 429]  # five people, one message each, one address


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_ceiling(limited):
    app, client = limited(CHAT_IP_RATE_LIMIT="2/minute", TRUSTED_PROXY_COUNT=1)

    def from_(address):
        return _say(client, headers={"X-Forwarded-For": address}).status_code

    assert [from_("203.0.113.7") for _ in range(3)] == [200, 200, 429]
    assert from_("198.51.100.9") == 200


def test_without_a_trusted_proxy_a_forwarded_address_is_ignored(limited):
    app, client = limited(CHAT_IP_RATE_LIMIT="2/minute")

    codes = [_say(client, headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code for n in range(3)]

    assert codes == [200, 200, 429]  # a client cannot pick a fresh address per request


def test_the_nlu_limit_is_per_signed_in_person(limited, make_person):
    app, client = limited()
    with app.app_context():
        id_number = make_person().id_number
    token = client.post("/api/v1/auth/dev-login", json={"id_number": id_number}).json["access_token"]

    signed = [client.post(NLU, json={"text": "你好"}, headers={"Authorization": f"Bearer {token}"}).status_code
              for _ in range(4)]

    assert signed == [200, 200, 200, 429]
    assert client.post(NLU, json={"text": "你好"}).status_code == 200  # the anonymous caller's own allowance


def test_a_message_longer_than_the_bot_reads_is_answered_by_the_bot(client):
    response = _say(client, "我想问一下" * 120)

    assert response.status_code == 200
    text = response.json["replies"][0]["text"]
    assert text == replies.TOO_LONG.format(length=600, limit=500)
    assert response.json["handoff"] is False
