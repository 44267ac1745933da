"""The WeChat and Alipay clients against the fake platforms over loopback (no patching of requests)."""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import re
import time
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from backend.integrations import (
    AlipayClient,
    AlipayUser,
    AuthCodeInvalid,
    MessageRejected,
    PlatformMisconfigured,
    PlatformUnavailable,
    RateLimited,
    ResponseSignatureInvalid,
    SubscriptionRefused,
    UnexpectedPlatformError,
    UserHighRisk,
    WeChatClient,
    WeChatSession,
)
from tests.fakes.miniapp_platforms import DeliveredMessage, FakeMiniappPlatforms, generated_rsa_private_key_pem

OAUTH_TOKEN = "alipay.system.oauth.token"
TEMPLATE_MESSAGE = "alipay.open.app.mini.templatemessage.send"


@pytest.fixture
def fake():
    with FakeMiniappPlatforms() as platforms:
        yield platforms
    assert platforms.handler_errors == []


def verify_rsa2(public_key_pem: str, content: str, sign: str) -> None:
    """Raises InvalidSignature unless ``sign`` is SHA256withRSA over ``content`` (UTF-8)."""
    public_key = serialization.load_pem_public_key(public_key_pem.encode("ascii"))
    public_key.verify(base64.b64decode(sign), content.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())


def alipay_content_to_sign(params: dict[str, str]) -> str:
    # Alipay's rule, spelled out independently of the client: drop sign and empty values, sort, k=v&k=v.
    return "&".join(f"{key}={params[key]}" for key in sorted(params) if key != "sign" and params[key])


# ---- WeChat sign-in -------------------------------------------------------------------------------


def test_wechat_code_signs_in_as_the_openid_and_unionid_of_that_user(fake):
    fake.add_wechat_user("code-alice", openid="o-alice", unionid="u-alice")

    assert fake.wechat_client().code_to_session("code-alice") == WeChatSession(openid="o-alice", unionid="u-alice")


def test_wechat_user_without_open_platform_binding_has_no_unionid(fake):
    fake.add_wechat_user("code-bob", openid="o-bob")

    assert fake.wechat_client().code_to_session("code-bob").unionid is None


def test_wechat_code_exchange_sends_appid_secret_code_and_grant_type(fake):
    fake.add_wechat_user("code-alice", openid="o-alice")

    fake.wechat_client().code_to_session("code-alice")

    [request] = fake.requests_to("/sns/jscode2session")
    assert request.http_method == "GET"
    assert request.query == {
        "appid": fake.wechat_appid,
        "secret": fake.wechat_secret,
        "js_code": "code-alice",
        "grant_type": "authorization_code",
    }


def test_wechat_session_key_appears_nowhere_in_what_the_client_returns_or_keeps(fake):
    fake.add_wechat_user("code-alice", openid="o-alice", unionid="u-alice")
    client = fake.wechat_client()

    session = client.code_to_session("code-alice")

    [session_key] = fake.issued_session_keys
    assert set(dataclasses.asdict(session)) == {"openid", "unionid"}
    assert session_key not in repr(session)
    assert all(session_key not in repr(value) for value in vars(client).values())


@pytest.mark.parametrize(
    ("errcode", "error_class", "code"),
    [
        (40029, AuthCodeInvalid, "wechat_code_invalid"),
        (45011, RateLimited, "wechat_rate_limited"),
        (40226, UserHighRisk, "wechat_user_high_risk"),
        (-1, PlatformUnavailable, "wechat_unavailable"),
        (40999, UnexpectedPlatformError, "wechat_unexpected_error"),
    ],
)
def test_wechat_login_errcodes_become_named_errors(fake, errcode, error_class, code):
    fake.fail_wechat_code("code-x", errcode)

    with pytest.raises(error_class) as raised:
        fake.wechat_client().code_to_session("code-x")

    assert raised.value.code == code
    assert raised.value.platform_code == str(errcode)


def test_unknown_wechat_code_is_an_invalid_code(fake):
    with pytest.raises(AuthCodeInvalid) as raised:
        fake.wechat_client().code_to_session("never-issued")

    assert raised.value.code == "wechat_code_invalid"
    assert raised.value.retryable is False


def test_wechat_code_cannot_be_used_twice(fake):
    fake.add_wechat_user("code-alice", openid="o-alice")
    client = fake.wechat_client()
    client.code_to_session("code-alice")

    with pytest.raises(AuthCodeInvalid) as raised:
        client.code_to_session("code-alice")

    assert raised.value.platform_code == "40163"


def test_empty_wechat_code_is_refused_without_calling_wechat(fake):
    with pytest.raises(AuthCodeInvalid):
        fake.wechat_client().code_to_session("")

    assert fake.requests == []


def test_wrong_wechat_secret_is_a_configuration_error(fake):
    fake.add_wechat_user("code-alice", openid="o-alice")
    client = WeChatClient(fake.wechat_base_url, fake.wechat_appid, "not-the-secret", 2.0)

    with pytest.raises(PlatformMisconfigured) as raised:
        client.code_to_session("code-alice")

    assert raised.value.code == "wechat_misconfigured"


# ---- outages (both platforms) --------------------------------------------------------------------


def wechat_login(fake: FakeMiniappPlatforms, timeout: float) -> None:
    fake.add_wechat_user("code-alice", openid="o-alice")
    fake.wechat_client(timeout).code_to_session("code-alice")


def alipay_login(fake: FakeMiniappPlatforms, timeout: float) -> None:
    fake.add_alipay_user("auth-alice", user_id="2088000000000001")
    fake.alipay_client(timeout).auth_code_to_user("auth-alice")


def wechat_send(fake: FakeMiniappPlatforms, timeout: float) -> None:
    fake.add_wechat_user("code-alice", openid="o-alice")
    fake.wechat_client(timeout).send_subscribe_message("o-alice", "tmpl-1", {"thing1": "审核通过"})


def alipay_send(fake: FakeMiniappPlatforms, timeout: float) -> None:
    fake.alipay_client(timeout).send_subscribe_message("tmpl-1", {"keyword1": "审核通过"}, to_user_id="2088000000000001")


PLATFORM_CALLS = [
    pytest.param(wechat_login, "wechat", id="wechat-login"),
    pytest.param(wechat_send, "wechat", id="wechat-send"),
    pytest.param(alipay_login, "alipay", id="alipay-login"),
    pytest.param(alipay_send, "alipay", id="alipay-send"),
]


@pytest.mark.parametrize(("call", "platform"), PLATFORM_CALLS)
def test_http_500_from_the_platform_is_platform_unavailable(fake, call, platform):
    fake.simulate_outage("http_500")

    with pytest.raises(PlatformUnavailable) as raised:
        call(fake, 2.0)

    assert raised.value.code == f"{platform}_unavailable"
    assert raised.value.platform_code == "http_500"
    assert raised.value.retryable is True


@pytest.mark.parametrize(("call", "platform"), PLATFORM_CALLS)
def test_platform_slower_than_the_timeout_is_platform_unavailable(fake, call, platform):
    fake.simulate_outage("slow", delay_s=2.0)
    started = time.monotonic()

    with pytest.raises(PlatformUnavailable) as raised:
        call(fake, 0.2)

    assert raised.value.platform_code == "timeout"
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize(("call", "platform"), PLATFORM_CALLS)
def test_unreachable_platform_is_platform_unavailable(call, platform):
    stopped = FakeMiniappPlatforms().start()
    stopped.stop()  # its port now refuses connections

    with pytest.raises(PlatformUnavailable) as raised:
        call(stopped, 2.0)

    assert raised.value.platform_code == "network_error"


def test_outage_error_carries_no_trace_of_the_secret_or_the_request_url(fake):
    fake.simulate_outage("slow", delay_s=2.0)

    with pytest.raises(PlatformUnavailable) as raised:
        wechat_login(fake, 0.2)

    error = raised.value
    assert fake.wechat_secret not in f"{error} {error!r} {error.args}"
    assert error.__cause__ is None and error.__context__ is None


def test_client_logs_carry_no_secret_code_session_key_or_token(fake, caplog):
    fake.add_wechat_user("code-alice", openid="o-alice")
    fake.add_alipay_user("auth-alice", user_id="2088000000000001")
    wechat, alipay = fake.wechat_client(), fake.alipay_client()

    with caplog.at_level(logging.DEBUG, logger="backend.integrations"):
        wechat.code_to_session("code-alice")
        wechat.send_subscribe_message("o-alice", "tmpl-1", {"thing1": "审核通过"})
        alipay.auth_code_to_user("auth-alice")
        with pytest.raises(AuthCodeInvalid):
            wechat.code_to_session("code-alice")  # already used
        with pytest.raises(AuthCodeInvalid):
            alipay.auth_code_to_user("auth-alice")  # already used
        fake.simulate_outage("http_500")
        with pytest.raises(PlatformUnavailable):
            wechat.code_to_session("code-bob")

    confidential = [fake.wechat_secret, "code-alice", "auth-alice", *fake.issued_session_keys]
    confidential += [*fake.wechat_tokens_issued, *fake.issued_alipay_tokens]
    assert caplog.records, "the failures above are expected to be logged"
    assert all(value not in caplog.text for value in confidential)


# ---- WeChat subscribe messages -------------------------------------------------------------------


def test_subscribe_messages_reuse_one_cached_access_token(fake):
    fake.add_wechat_user("code-alice", openid="o-alice")
    client = fake.wechat_client()

    client.send_subscribe_message("o-alice", "tmpl-review", {"thing1": "报销申请", "phrase2": "审核通过"}, "pages/apply")
    client.send_subscribe_message("o-alice", "tmpl-review", {"thing1": "报销申请", "phrase2": "已退回"})

    assert fake.wechat_messages == [
        DeliveredMessage("wechat", "o-alice", "tmpl-review", "pages/apply", {"thing1": "报销申请", "phrase2": "审核通过"}),
        DeliveredMessage("wechat", "o-alice", "tmpl-review", None, {"thing1": "报销申请", "phrase2": "已退回"}),
    ]
    [token_request] = fake.requests_to("/cgi-bin/stable_token")
    assert token_request.json == {
        "grant_type": "client_credential",
        "appid": fake.wechat_appid,
        "secret": fake.wechat_secret,
    }
    [token] = fake.wechat_tokens_issued
    sends = fake.requests_to("/cgi-bin/message/subscribe/send")
    assert [send.query["access_token"] for send in sends] == [token, token]


def test_access_token_expired_by_wechat_is_refetched_and_the_send_retried_once(fake):
    fake.add_wechat_user("code-alice", openid="o-alice")
    client = fake.wechat_client()
    client.send_subscribe_message("o-alice", "tmpl-1", {"thing1": "第一条"})

    fake.expire_wechat_token()
    client.send_subscribe_message("o-alice", "tmpl-1", {"thing1": "第二条"})

    old_token, new_token = fake.wechat_tokens_issued
    sends = fake.requests_to("/cgi-bin/message/subscribe/send")
    assert [send.query["access_token"] for send in sends] == [old_token, old_token, new_token]
    assert [message.data["thing1"] for message in fake.wechat_messages] == ["第一条", "第二条"]


def test_access_token_is_refetched_shortly_before_its_lifetime_ends(fake):
    fake.add_wechat_user("code-alice", openid="o-alice")
    now = [1000.0]
    client = fake.wechat_client(clock=lambda: now[0])
    client.send_subscribe_message("o-alice", "tmpl-1", {"thing1": "一"})

    # expires_in is 7200 s; the client refreshes 300 s early (min(300, 7200 / 10)), i.e. at +6900 s.
    now[0] = 1000.0 + 6899
    client.send_subscribe_message("o-alice", "tmpl-1", {"thing1": "二"})
    assert len(fake.requests_to("/cgi-bin/stable_token")) == 1

    now[0] = 1000.0 + 6900
    client.send_subscribe_message("o-alice", "tmpl-1", {"thing1": "三"})
    assert len(fake.requests_to("/cgi-bin/stable_token")) == 2


def test_user_who_refused_the_subscription_gets_a_do_not_retry_error(fake):
    fake.add_wechat_user("code-alice", openid="o-alice")
    fake.refuse_wechat_subscription("o-alice")

    with pytest.raises(SubscriptionRefused) as raised:
        fake.wechat_client().send_subscribe_message("o-alice", "tmpl-1", {"thing1": "审核通过"})

    assert raised.value.code == "wechat_subscription_refused"
    assert raised.value.platform_code == "43101"
    assert isinstance(raised.value, MessageRejected) and raised.value.retryable is False
    assert fake.wechat_messages == []


def test_message_to_an_unknown_openid_is_rejected_not_retried(fake):
    with pytest.raises(MessageRejected) as raised:
        fake.wechat_client().send_subscribe_message("o-stranger", "tmpl-1", {"thing1": "审核通过"})

    assert raised.value.code == "wechat_message_rejected"
    assert raised.value.platform_code == "40003"


def test_token_endpoint_outage_makes_the_send_platform_unavailable(fake):
    fake.add_wechat_user("code-alice", openid="o-alice")
    fake.simulate_outage("http_500", platform="wechat")

    with pytest.raises(PlatformUnavailable):
        fake.wechat_client().send_subscribe_message("o-alice", "tmpl-1", {"thing1": "审核通过"})

    assert [request.path for request in fake.requests] == ["/cgi-bin/stable_token"]


# ---- Alipay sign-in ------------------------------------------------------------------------------


def test_alipay_auth_code_signs_in_as_that_user_id(fake):
    fake.add_alipay_user("auth-alice", user_id="2088000000000001")

    user = fake.alipay_client().auth_code_to_user("auth-alice")

    assert user == AlipayUser(user_id="2088000000000001")
    assert user.subject == "2088000000000001"


def test_alipay_app_on_the_openid_scheme_signs_in_with_the_open_id(fake):
    fake.add_alipay_user("auth-bob", open_id="074aBobOpenId")

    user = fake.alipay_client().auth_code_to_user("auth-bob")

    assert user == AlipayUser(open_id="074aBobOpenId")
    assert user.subject == "074aBobOpenId"


def test_alipay_access_and_refresh_tokens_are_never_returned(fake):
    fake.add_alipay_user("auth-alice", user_id="2088000000000001")

    user = fake.alipay_client().auth_code_to_user("auth-alice")

    assert set(dataclasses.asdict(user)) == {"user_id", "open_id"}
    assert len(fake.issued_alipay_tokens) == 2
    assert all(token not in repr(user) for token in fake.issued_alipay_tokens)


def test_alipay_request_carries_the_common_parameters_and_business_parameters(fake):
    fake.add_alipay_user("auth-alice", user_id="2088000000000001")

    fake.alipay_client().auth_code_to_user("auth-alice")

    [request] = fake.alipay_requests(OAUTH_TOKEN)
    assert request.http_method == "POST"
    assert {key: request.query[key] for key in ("app_id", "method", "format", "charset", "sign_type", "version")} == {
        "app_id": fake.alipay_app_id,
        "method": OAUTH_TOKEN,
        "format": "JSON",
        "charset": "utf-8",
        "sign_type": "RSA2",
        "version": "1.0",
    }
    assert request.form == {"grant_type": "authorization_code", "code": "auth-alice"}
    # Alipay reads the timestamp as Beijing time (UTC+8), whatever the server's own zone.
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", request.query["timestamp"])
    sent_at = datetime.strptime(request.query["timestamp"], "%Y-%m-%d %H:%M:%S")
    beijing_now = datetime.now(timezone(timedelta(hours=8))).replace(tzinfo=None)
    assert abs(beijing_now - sent_at) < timedelta(minutes=1)


def test_alipay_request_signature_verifies_with_the_app_public_key(fake):
    fake.add_alipay_user("auth-alice", user_id="2088000000000001")

    fake.alipay_client().auth_code_to_user("auth-alice")

    [request] = fake.alipay_requests(OAUTH_TOKEN)
    params = request.params
    verify_rsa2(fake.alipay_app_public_key_pem, alipay_content_to_sign(params), params["sign"])
    assert request.signature_valid is True
    # The signature covers the business parameters too: a changed code no longer verifies.
    with pytest.raises(InvalidSignature):
        verify_rsa2(fake.alipay_app_public_key_pem, alipay_content_to_sign({**params, "code": "x"}), params["sign"])


def test_alipay_key_given_as_bare_base64_like_alipays_key_tool_prints_it(fake):
    fake.add_alipay_user("auth-alice", user_id="2088000000000001")
    bare_key = "".join(line for line in fake.alipay_app_private_key_pem.splitlines() if "-----" not in line)
    bare_public = "".join(line for line in fake.alipay_public_key_pem.splitlines() if "-----" not in line)
    client = AlipayClient(fake.alipay_gateway_url, fake.alipay_app_id, bare_key, bare_public, 2.0)

    assert client.auth_code_to_user("auth-alice").user_id == "2088000000000001"


def test_unknown_alipay_auth_code_is_an_invalid_code(fake):
    with pytest.raises(AuthCodeInvalid) as raised:
        fake.alipay_client().auth_code_to_user("never-issued")

    assert raised.value.code == "alipay_code_invalid"
    assert raised.value.platform_code == "isv.code-invalid"


def test_alipay_auth_code_cannot_be_used_twice(fake):
    fake.add_alipay_user("auth-alice", user_id="2088000000000001")
    client = fake.alipay_client()
    client.auth_code_to_user("auth-alice")

    with pytest.raises(AuthCodeInvalid):
        client.auth_code_to_user("auth-alice")


def test_alipay_service_unavailable_answer_is_platform_unavailable(fake):
    fake.fail_alipay_code("auth-alice", code="20000", sub_code="isp.unknow-error", sub_msg="系统繁忙")

    with pytest.raises(PlatformUnavailable) as raised:
        fake.alipay_client().auth_code_to_user("auth-alice")

    assert raised.value.code == "alipay_unavailable"


def test_request_signed_with_the_wrong_private_key_is_a_configuration_error(fake):
    fake.add_alipay_user("auth-alice", user_id="2088000000000001")
    client = AlipayClient(
        fake.alipay_gateway_url,
        fake.alipay_app_id,
        generated_rsa_private_key_pem("someone-else"),
        fake.alipay_public_key_pem,
        2.0,
    )

    with pytest.raises(PlatformMisconfigured) as raised:
        client.auth_code_to_user("auth-alice")

    assert raised.value.code == "alipay_misconfigured"
    assert raised.value.platform_code == "isv.invalid-signature"
    assert fake.alipay_requests(OAUTH_TOKEN)[0].signature_valid is False


def test_alipay_answer_with_a_bad_signature_is_refused(fake):
    fake.add_alipay_user("auth-alice", user_id="2088000000000001")
    fake.corrupt_alipay_signatures = True

    with pytest.raises(ResponseSignatureInvalid) as raised:
        fake.alipay_client().auth_code_to_user("auth-alice")

    assert raised.value.code == "alipay_response_signature_invalid"


def test_alipay_answers_are_not_verified_when_no_alipay_public_key_is_configured(fake):
    fake.add_alipay_user("auth-alice", user_id="2088000000000001")
    fake.corrupt_alipay_signatures = True

    user = fake.alipay_client(verify_responses=False).auth_code_to_user("auth-alice")

    assert user.user_id == "2088000000000001"


# ---- Alipay subscribe messages -------------------------------------------------------------------


def test_alipay_subscribe_message_is_sent_as_signed_biz_content(fake):
    fake.alipay_client().send_subscribe_message(
        "tmpl-review", {"keyword1": "报销申请", "keyword2": "审核通过"}, to_user_id="2088000000000001", page="pages/apply"
    )

    assert fake.alipay_messages == [
        DeliveredMessage(
            "alipay", "2088000000000001", "tmpl-review", "pages/apply", {"keyword1": "报销申请", "keyword2": "审核通过"}
        )
    ]
    [request] = fake.alipay_requests(TEMPLATE_MESSAGE)
    biz = json.loads(request.form["biz_content"])
    assert set(biz) == {"to_user_id", "user_template_id", "page", "data"}
    assert json.loads(biz["data"]) == {"keyword1": {"value": "报销申请"}, "keyword2": {"value": "审核通过"}}
    verify_rsa2(fake.alipay_app_public_key_pem, alipay_content_to_sign(request.params), request.params["sign"])


def test_alipay_subscribe_message_can_go_to_an_open_id(fake):
    fake.alipay_client().send_subscribe_message("tmpl-review", {"keyword1": "审核通过"}, to_open_id="074aBobOpenId")

    assert [message.recipient for message in fake.alipay_messages] == ["074aBobOpenId"]
    [request] = fake.alipay_requests(TEMPLATE_MESSAGE)
    assert "to_user_id" not in json.loads(request.form["biz_content"])


def test_alipay_message_refused_by_the_platform_is_rejected_not_retried(fake):
    fake.reject_alipay_message("2088000000000001")

    with pytest.raises(MessageRejected) as raised:
        fake.alipay_client().send_subscribe_message("tmpl-review", {"keyword1": "审核通过"}, to_user_id="2088000000000001")

    assert raised.value.code == "alipay_message_rejected"
    assert raised.value.platform_code == "USER_TEMPLATE_ILLEGAL"
    assert raised.value.retryable is False
    assert fake.alipay_messages == []


@pytest.mark.parametrize("recipients", [{}, {"to_user_id": "2088000000000001", "to_open_id": "074aBobOpenId"}])
def test_alipay_message_needs_exactly_one_recipient(fake, recipients):
    with pytest.raises(ValueError):
        fake.alipay_client().send_subscribe_message("tmpl-review", {"keyword1": "审核通过"}, **recipients)

    assert fake.requests == []
