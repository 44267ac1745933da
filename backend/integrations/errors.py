"""Named failures of the WeChat and Alipay mini-program platforms, and where HTTP answers become them.

Every error carries a stable, machine-readable ``code`` ("wechat_code_invalid", "alipay_unavailable", ...)
built from the platform and the kind of failure, the platform's own code (``platform_code``: WeChat's
``errcode`` or Alipay's ``sub_code``/``code``) for operators, a Chinese ``message`` for people, and
``retryable``: whether the same call may succeed later.

Callers decide by class:
- ``AuthCodeInvalid``: the login code is wrong, used or expired; the mini-program must call wx.login /
  my.getAuthCode again. ``UserHighRisk``: WeChat refuses this user's sign-in; retrying will not help.
- ``PlatformUnavailable`` / ``RateLimited``: try again later (network, timeout, 5xx, "system busy").
- ``MessageRejected`` (and its child ``SubscriptionRefused``): the message was not delivered and sending
  it again will not help.
- ``PlatformMisconfigured``: our appid / secret / keys / IP allow-list are wrong; an operator must act.
- ``ResponseSignatureInvalid``: an Alipay answer failed verification; treat it as hostile, don't use it.
- ``UnexpectedPlatformError``: an answer this client cannot classify; logged with its platform code.

The messages never contain secrets, tokens, session keys or login codes, and no error is chained to a
``requests`` exception (whose text holds the request URL, and with it WeChat's ``secret`` parameter).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import requests

logger = logging.getLogger(__name__)

WECHAT = "wechat"
ALIPAY = "alipay"


class PlatformError(Exception):
    """Base of every mini-program platform failure."""

    kind = "unexpected_error"
    retryable = False
    default_message = "第三方平台返回了无法识别的结果"

    def __init__(
        self,
        platform: str,
        *,
        platform_code: str | None = None,
        platform_message: str | None = None,
        message: str | None = None,
    ) -> None:
        self.platform = platform
        self.code = f"{platform}_{self.kind}"
        self.platform_code = platform_code
        self.platform_message = platform_message
        self.message = message or self.default_message
        super().__init__(self.message)

    def __str__(self) -> str:
        detail = f" (platform code {self.platform_code})" if self.platform_code else ""
        return f"{self.code}: {self.message}{detail}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, platform_code={self.platform_code!r}, "
            f"platform_message={self.platform_message!r})"
        )


class UnexpectedPlatformError(PlatformError):
    """A platform answer this client does not know how to classify (an unlisted errcode, say)."""


class PlatformUnavailable(PlatformError):
    """Network failure, timeout, HTTP 5xx, unreadable answer or the platform saying it is busy."""

    kind = "unavailable"
    retryable = True
    default_message = "第三方平台暂时不可用,请稍后再试"


class RateLimited(PlatformError):
    """The platform's call quota was hit (WeChat 45011: 100 logins per user per minute)."""

    kind = "rate_limited"
    retryable = True
    default_message = "请求过于频繁,请稍后再试"


class AuthCodeInvalid(PlatformError):
    """The login code is wrong, already used or expired (WeChat 40029/40163, Alipay isv.code-invalid)."""

    kind = "code_invalid"
    default_message = "登录凭证无效或已过期,请重新登录"


class UserHighRisk(PlatformError):
    """WeChat 40226: the platform blocks sign-in for this user as high-risk."""

    kind = "user_high_risk"
    default_message = "该微信账号存在安全风险,暂时无法登录"


class PlatformMisconfigured(PlatformError):
    """Our own credentials or keys are refused (bad appid/secret, signature, IP not allow-listed)."""

    kind = "misconfigured"
    default_message = "第三方平台接入配置有误,请联系管理员"


class ResponseSignatureInvalid(PlatformError):
    """An Alipay answer whose signature does not verify with the configured Alipay public key."""

    kind = "response_signature_invalid"
    default_message = "第三方平台返回的数据验签失败"


class MessageRejected(PlatformError):
    """The platform refused to deliver this message (bad recipient, template or data): don't retry."""

    kind = "message_rejected"
    default_message = "消息未能送达"


class SubscriptionRefused(MessageRejected):
    """WeChat 43101: the user has not (or no longer) subscribed to this template: not delivered."""

    kind = "subscription_refused"
    default_message = "用户未订阅该消息,消息未送达"


def send_http_request(
    session: requests.Session, platform: str, method: str, url: str, *, timeout: float, **kwargs: Any
) -> requests.Response:
    """Send one request and turn transport failures into named errors.

    The error is raised outside the ``except`` block on purpose: chaining would keep the ``requests``
    exception, whose text contains the full URL with WeChat's ``secret`` or an access token.
    """
    failure = None
    try:
        response = session.request(method, url, timeout=timeout, **kwargs)
    except requests.Timeout:
        failure = "timeout"
    except requests.RequestException:
        failure = "network_error"
    if failure is not None:
        logger.warning("%s platform call failed: %s", platform, failure)
        raise PlatformUnavailable(platform, platform_code=failure)
    status = response.status_code
    if status >= 500:
        logger.warning("%s platform answered HTTP %s", platform, status)
        raise PlatformUnavailable(platform, platform_code=f"http_{status}")
    if status == 429:
        raise RateLimited(platform, platform_code="http_429")
    if status != 200:
        # A 4xx from these gateways means we call the wrong URL or are refused at the door.
        logger.error("%s platform answered HTTP %s", platform, status)
        raise PlatformMisconfigured(platform, platform_code=f"http_{status}")
    return response


def utf8_text(response: requests.Response) -> str:
    """Both platforms answer UTF-8; requests would guess ISO-8859-1 for a text/plain without charset."""
    return response.content.decode("utf-8", errors="replace")


def json_object(text: str, platform: str) -> dict[str, Any]:
    """Parse a platform answer that must be a JSON object; anything else counts as an outage."""
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        logger.warning("%s platform answered something that is not a JSON object", platform)
        raise PlatformUnavailable(platform, platform_code="invalid_json")
    return document
