"""WeChat mini-program server API: sign-in (code2Session) and subscribe messages.

Shapes (developers.weixin.qq.com, 小程序服务端 API; checked 2025):

code2Session — ``GET {base}/sns/jscode2session?appid=APPID&secret=SECRET&js_code=CODE
&grant_type=authorization_code``
    success: ``{"openid": "...", "session_key": "...", "unionid": "..."}`` (``unionid`` only when the
    mini-program is bound to an Open Platform account; recent answers carry no ``errcode`` at all,
    older ones ``"errcode": 0``).
    failure: ``{"errcode": N, "errmsg": "..."}`` with 40029 invalid code, 40163 code already used,
    45011 rate limit (100 calls per user per minute), 40226 high-risk user blocked, -1 system busy,
    40013 invalid appid, 40125 invalid secret.
    The code is single-use, so this client never retries the exchange by itself.

getStableAccessToken — ``POST {base}/cgi-bin/stable_token`` with JSON
``{"grant_type": "client_credential", "appid": ..., "secret": ...}``
    success: ``{"access_token": "...", "expires_in": 7200}``.
    We use the stable token rather than ``GET /cgi-bin/token`` because several gunicorn workers and RQ
    workers each hold their own cache: in normal mode (``force_refresh`` absent) every process gets
    the same token instead of each fetch invalidating the others' tokens.
    failure: 40001/40125 bad secret, 40013 bad appid, 40164 caller IP not allow-listed, 45009/45011 quota.

subscribeMessage.send — ``POST {base}/cgi-bin/message/subscribe/send?access_token=TOKEN`` with JSON
``{"touser": openid, "template_id": ..., "page"?: ..., "data": {"thing1": {"value": "..."}},
"miniprogram_state"?: "developer"|"trial"|"formal", "lang": "zh_CN"}``
    success: ``{"errcode": 0, "errmsg": "ok"}``.
    failure: 40001/40014/42001 token invalid or expired (refetch once and retry once), 43101 user refused
    or has no subscription left, 40003 invalid openid, 40037 invalid template_id, 47003 template data
    invalid, 41030 invalid page.

The ``session_key`` is dropped as soon as the answer is parsed: it decrypts the user's private data
and WeChat asks that it never leave the developer's server, and nothing in this backend needs it.
Nothing here logs secrets, tokens, codes or session keys.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests

from backend.integrations.errors import (
    WECHAT,
    AuthCodeInvalid,
    MessageRejected,
    PlatformError,
    PlatformMisconfigured,
    PlatformUnavailable,
    RateLimited,
    SubscriptionRefused,
    UnexpectedPlatformError,
    UserHighRisk,
    json_object,
    send_http_request,
    utf8_text,
)

logger = logging.getLogger(__name__)

# Refresh a cached access token this long before WeChat says it expires (at most a tenth of its life):
# the platform itself rotates stable tokens 5 minutes early.
TOKEN_REFRESH_MARGIN_S = 300

_TOKEN_REJECTED = frozenset({40001, 40014, 42001})

_LOGIN_ERRORS: dict[int, type[PlatformError]] = {
    -1: PlatformUnavailable,
    40029: AuthCodeInvalid,
    40163: AuthCodeInvalid,
    41008: AuthCodeInvalid,
    45011: RateLimited,
    40226: UserHighRisk,
    40013: PlatformMisconfigured,
    40125: PlatformMisconfigured,
    41002: PlatformMisconfigured,
    41004: PlatformMisconfigured,
}

_TOKEN_ERRORS: dict[int, type[PlatformError]] = {
    -1: PlatformUnavailable,
    40001: PlatformMisconfigured,
    40002: PlatformMisconfigured,
    40013: PlatformMisconfigured,
    40125: PlatformMisconfigured,
    40164: PlatformMisconfigured,
    40243: PlatformMisconfigured,
    45009: RateLimited,
    45011: RateLimited,
}

_SEND_ERRORS: dict[int, type[PlatformError]] = {
    -1: PlatformUnavailable,
    43101: SubscriptionRefused,
    40003: MessageRejected,
    40037: MessageRejected,
    41030: MessageRejected,
    47003: MessageRejected,
    45009: RateLimited,
    45011: RateLimited,
}


@dataclass(frozen=True)
class WeChatSession:
    """Who signed in. Deliberately without ``session_key``."""

    openid: str
    unionid: str | None = None


@dataclass(frozen=True)
class _CachedToken:
    value: str
    refresh_at: float


class WeChatClient:
    """A thin client for one mini-program (one appid). Safe to share between threads."""

    def __init__(
        self,
        base_url: str,
        appid: str,
        secret: str,
        timeout: float = 5.0,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._appid = appid
        self._secret = secret
        self._timeout = timeout
        self._session = session or requests.Session()
        self._clock = clock
        self._token: _CachedToken | None = None
        self._token_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"WeChatClient(base_url={self._base_url!r}, appid={self._appid!r})"

    def code_to_session(self, js_code: str) -> WeChatSession:
        """Exchange the code from ``wx.login`` for the user's openid (and unionid when bound)."""
        if not js_code:
            raise AuthCodeInvalid(WECHAT, platform_code="41008", platform_message="missing code")
        response = send_http_request(
            self._session,
            WECHAT,
            "GET",
            f"{self._base_url}/sns/jscode2session",
            timeout=self._timeout,
            params={
                "appid": self._appid,
                "secret": self._secret,
                "js_code": js_code,
                "grant_type": "authorization_code",
            },
        )
        answer = json_object(utf8_text(response), WECHAT)
        _raise_for_errcode(answer, _LOGIN_ERRORS, "jscode2session")
        openid = answer.get("openid")
        if not isinstance(openid, str) or not openid:
            raise UnexpectedPlatformError(WECHAT, platform_message="jscode2session answer without openid")
        unionid = answer.get("unionid")
        return WeChatSession(openid=openid, unionid=unionid if isinstance(unionid, str) and unionid else None)

    def send_subscribe_message(
        self,
        openid: str,
        template_id: str,
        data: Mapping[str, str],
        page: str | None = None,
        *,
        miniprogram_state: str | None = None,
        lang: str = "zh_CN",
    ) -> None:
        """Send one subscribe message; ``data`` maps template keywords ("thing1") to their text.

        Returns quietly when WeChat accepted it. ``SubscriptionRefused`` / ``MessageRejected`` mean
        "not delivered, don't retry"; ``PlatformUnavailable`` / ``RateLimited`` mean "retry later".
        """
        body: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "data": {keyword: {"value": value} for keyword, value in data.items()},
            "lang": lang,
        }
        if page:
            body["page"] = page
        if miniprogram_state:
            body["miniprogram_state"] = miniprogram_state
        access_token = self._access_token()
        answer = self._post_subscribe_message(body, access_token)
        if _errcode(answer) in _TOKEN_REJECTED:
            # The cached token was rotated or expired on WeChat's side: fetch the current one, retry once.
            self._forget_token(access_token)
            answer = self._post_subscribe_message(body, self._access_token())
            if _errcode(answer) in _TOKEN_REJECTED:
                raise PlatformUnavailable(
                    WECHAT, platform_code=str(_errcode(answer)), platform_message="fresh access token refused"
                )
        _raise_for_errcode(answer, _SEND_ERRORS, "subscribe/send")

    def _post_subscribe_message(self, body: dict[str, Any], access_token: str) -> dict[str, Any]:
        response = send_http_request(
            self._session,
            WECHAT,
            "POST",
            f"{self._base_url}/cgi-bin/message/subscribe/send",
            timeout=self._timeout,
            params={"access_token": access_token},
            json=body,
        )
        return json_object(utf8_text(response), WECHAT)

    def _access_token(self) -> str:
        with self._token_lock:
            token = self._token
            if token is None or self._clock() >= token.refresh_at:
                token = self._fetch_token()
                self._token = token
            return token.value

    def _forget_token(self, rejected: str) -> None:
        with self._token_lock:
            # Another thread may already have replaced it with a fresh one: keep that.
            if self._token is not None and self._token.value == rejected:
                self._token = None

    def _fetch_token(self) -> _CachedToken:
        requested_at = self._clock()
        response = send_http_request(
            self._session,
            WECHAT,
            "POST",
            f"{self._base_url}/cgi-bin/stable_token",
            timeout=self._timeout,
            json={"grant_type": "client_credential", "appid": self._appid, "secret": self._secret},
        )
        answer = json_object(utf8_text(response), WECHAT)
        _raise_for_errcode(answer, _TOKEN_ERRORS, "stable_token")
        value = answer.get("access_token")
        expires_in = answer.get("expires_in")
        if not isinstance(value, str) or not value or not isinstance(expires_in, int) or expires_in <= 0:
            raise UnexpectedPlatformError(WECHAT, platform_message="stable_token answer without a token")
        margin = min(TOKEN_REFRESH_MARGIN_S, expires_in / 10)
        return _CachedToken(value=value, refresh_at=requested_at + expires_in - margin)


def _errcode(answer: Mapping[str, Any]) -> int:
    errcode = answer.get("errcode", 0)
    return errcode if isinstance(errcode, int) else -1


def _raise_for_errcode(answer: Mapping[str, Any], known: Mapping[int, type[PlatformError]], api: str) -> None:
    errcode = _errcode(answer)
    if errcode == 0:
        return
    errmsg = answer.get("errmsg")
    error_class = known.get(errcode, UnexpectedPlatformError)
    log = logger.error if error_class in (PlatformMisconfigured, UnexpectedPlatformError) else logger.info
    log("wechat %s failed: errcode=%s", api, errcode)
    raise error_class(WECHAT, platform_code=str(errcode), platform_message=errmsg if isinstance(errmsg, str) else None)
