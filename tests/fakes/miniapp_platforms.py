"""A fake WeChat + Alipay mini-program platform: a real HTTP server on 127.0.0.1, for tests.

    with FakeMiniappPlatforms() as fake:
        fake.add_wechat_user("code-1", openid="o-alice", unionid="u-alice")
        client = fake.wechat_client()            # or build one from fake.wechat_base_url / appid / secret
        client.code_to_session("code-1")         # -> WeChatSession(openid="o-alice", unionid="u-alice")
        fake.requests_to("/sns/jscode2session")  # what the client sent

It answers like the real platforms (see the docstrings of backend/integrations/wechat.py and alipay.py):
- WeChat ``GET /sns/jscode2session``, ``GET /cgi-bin/token``, ``POST /cgi-bin/stable_token``,
  ``POST /cgi-bin/message/subscribe/send``; login codes are single use (40163 when reused, 40029 when
  unknown), the appid and secret are checked, tokens expire and can be expired on demand (42001).
- Alipay ``POST /gateway.do`` for ``alipay.system.oauth.token`` and
  ``alipay.open.app.mini.templatemessage.send``: checks app_id, timestamp and the RSA2 request signature
  with the app public key (``isv.invalid-signature`` otherwise) and signs its answers with the
  platform key, whose public half the client verifies with (``alipay_public_key_pem``).
- ``simulate_outage("http_500" | "slow")`` for either or both platforms.
Every request is recorded (``requests``) before any outage or error applies.
"""

from __future__ import annotations

import base64
import functools
import json
import re
import secrets
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from backend.integrations import AlipayClient, WeChatClient

WECHAT = "wechat"
ALIPAY = "alipay"
ALIPAY_GATEWAY_PATH = "/gateway.do"

OAUTH_TOKEN_METHOD = "alipay.system.oauth.token"
TEMPLATE_MESSAGE_METHOD = "alipay.open.app.mini.templatemessage.send"
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
_BEIJING = timezone(timedelta(hours=8))


@functools.lru_cache(maxsize=None)
def generated_rsa_private_key_pem(purpose: str) -> str:
    """A 2048-bit RSA key as PKCS#8 PEM, generated once per test run and per purpose."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


@functools.lru_cache(maxsize=None)
def _loaded_private_key(private_key_pem: str) -> rsa.RSAPrivateKey:
    # Loading validates the key (~50 ms for 2048 bits); once per key keeps each test's setup fast.
    key = serialization.load_pem_private_key(private_key_pem.encode("ascii"), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def public_key_pem(private_key_pem: str) -> str:
    key = _loaded_private_key(private_key_pem)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def alipay_sign_content(params: dict[str, str]) -> str:
    """What the gateway verifies: non-empty params except ``sign``, sorted, ``k=v`` joined by ``&``."""
    return "&".join(f"{key}={value}" for key, value in sorted(params.items()) if key != "sign" and value)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake received it. ``params`` merges the query string and the form body."""

    platform: str
    http_method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    json: Any
    headers: dict[str, str]
    signature_valid: bool | None = None  # Alipay only: did ``sign`` verify with the app public key?

    @property
    def params(self) -> dict[str, str]:
        return {**self.query, **self.form}


@dataclass(frozen=True)
class DeliveredMessage:
    """A subscribe message the fake accepted; ``data`` is keyword -> text (the value wrappers removed)."""

    platform: str
    recipient: str
    template_id: str
    page: str | None
    data: dict[str, str]


@dataclass
class _AlipayAccount:
    user_id: str | None
    open_id: str | None


@dataclass
class _Outage:
    kind: str
    delay_s: float


@dataclass
class _State:
    wechat_codes: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    wechat_code_failures: dict[str, tuple[int, str]] = field(default_factory=dict)
    used_wechat_codes: set[str] = field(default_factory=set)
    wechat_openids: set[str] = field(default_factory=set)
    wechat_refusing: set[str] = field(default_factory=set)
    wechat_tokens: dict[str, float] = field(default_factory=dict)
    current_wechat_token: str | None = None
    alipay_codes: dict[str, _AlipayAccount] = field(default_factory=dict)
    alipay_code_failures: dict[str, dict[str, str]] = field(default_factory=dict)
    used_alipay_codes: set[str] = field(default_factory=set)
    alipay_rejecting: dict[str, tuple[str, str]] = field(default_factory=dict)
    outages: dict[str, _Outage] = field(default_factory=dict)


class FakeMiniappPlatforms:
    """Both platforms behind one loopback server. Use as a context manager, or ``start()``/``stop()``."""

    def __init__(
        self,
        *,
        wechat_appid: str = "wx0000000000test",
        wechat_secret: str = "wechat-test-secret",
        wechat_token_lifetime_s: int = 7200,
        alipay_app_id: str = "2021000000000001",
        alipay_app_private_key_pem: str | None = None,
        alipay_platform_private_key_pem: str | None = None,
    ) -> None:
        self.wechat_appid = wechat_appid
        self.wechat_secret = wechat_secret
        self.wechat_token_lifetime_s = wechat_token_lifetime_s
        self.alipay_app_id = alipay_app_id
        # The app key pair: the client signs with the private half, the "gateway" verifies with the public.
        self.alipay_app_private_key_pem = alipay_app_private_key_pem or generated_rsa_private_key_pem("alipay-app")
        self.alipay_app_public_key_pem = public_key_pem(self.alipay_app_private_key_pem)
        # The platform key pair: the fake signs answers, the client verifies with ``alipay_public_key_pem``.
        platform_pem = alipay_platform_private_key_pem or generated_rsa_private_key_pem("alipay-platform")
        self._platform_key = _loaded_private_key(platform_pem)
        self.alipay_public_key_pem = public_key_pem(platform_pem)
        self._app_public_key = serialization.load_pem_public_key(self.alipay_app_public_key_pem.encode("ascii"))
        self.corrupt_alipay_signatures = False

        self.wechat_messages: list[DeliveredMessage] = []
        self.alipay_messages: list[DeliveredMessage] = []
        self.wechat_tokens_issued: list[str] = []
        self.issued_session_keys: list[str] = []
        self.issued_alipay_tokens: list[str] = []
        self.handler_errors: list[str] = []  # tracebacks of bugs in the fake itself, answered with HTTP 500
        self._requests: list[RecordedRequest] = []
        self._state = _State()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._address: tuple[str, int] | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle -------------------------------------------------------------------------------

    def start(self) -> FakeMiniappPlatforms:
        self._stopping.clear()
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        self._address = server.server_address[:2]
        # A short poll interval keeps stop() (and so each test's teardown) fast.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-miniapp-platforms", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()  # wakes handlers sleeping in a "slow" outage
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> FakeMiniappPlatforms:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """Kept after ``stop()``, when the port refuses connections (handy for "unreachable" tests)."""
        if self._address is None:
            raise RuntimeError("the fake platform server was never started")
        host, port = self._address
        return f"http://{host}:{port}"

    @property
    def wechat_base_url(self) -> str:
        return self.base_url

    @property
    def alipay_gateway_url(self) -> str:
        return self.base_url + ALIPAY_GATEWAY_PATH

    def wechat_client(self, timeout: float = 2.0, **kwargs: Any) -> WeChatClient:
        return WeChatClient(self.wechat_base_url, self.wechat_appid, self.wechat_secret, timeout, **kwargs)

    def alipay_client(self, timeout: float = 2.0, *, verify_responses: bool = True, **kwargs: Any) -> AlipayClient:
        return AlipayClient(
            self.alipay_gateway_url,
            self.alipay_app_id,
            self.alipay_app_private_key_pem,
            self.alipay_public_key_pem if verify_responses else None,
            timeout,
            **kwargs,
        )

    # ---- scripting the platforms -----------------------------------------------------------------

    def add_wechat_user(self, code: str, openid: str, unionid: str | None = None) -> None:
        """``code`` (single use) signs in as ``openid``; the openid also becomes a message recipient."""
        with self._lock:
            self._state.wechat_codes[code] = (openid, unionid)
            self._state.wechat_openids.add(openid)

    def fail_wechat_code(self, code: str, errcode: int, errmsg: str | None = None) -> None:
        """Answer ``code`` with this errcode (45011 rate limit, 40226 high risk, -1 busy, ...)."""
        messages = {
            -1: "system error",
            40029: "invalid code",
            40226: "code blocked",
            45011: "api minute-quota reach limit  mustslower  retry next minute",
        }
        with self._lock:
            self._state.wechat_code_failures[code] = (errcode, errmsg or messages.get(errcode, "error"))

    def expire_wechat_token(self) -> None:
        """Every access token issued so far now answers 42001 "access_token expired"."""
        with self._lock:
            for token in self._state.wechat_tokens:
                self._state.wechat_tokens[token] = 0.0

    def refuse_wechat_subscription(self, openid: str) -> None:
        """Sends to ``openid`` answer 43101 "user refuse to accept the msg"."""
        with self._lock:
            self._state.wechat_refusing.add(openid)

    def add_alipay_user(self, auth_code: str, *, user_id: str | None = None, open_id: str | None = None) -> None:
        """``auth_code`` (single use) signs in as this user_id ("2088...") and/or open_id."""
        if not (user_id or open_id):
            raise ValueError("give a user_id or an open_id")
        with self._lock:
            self._state.alipay_codes[auth_code] = _AlipayAccount(user_id, open_id)

    def fail_alipay_code(
        self, auth_code: str, *, code: str = "40002", sub_code: str = "isv.code-invalid", sub_msg: str = "授权码code无效"
    ) -> None:
        """Answer ``auth_code`` with this error (e.g. code="20000", sub_code="isp.unknow-error")."""
        msg = {"20000": "Service Currently Unavailable", "40002": "Invalid Arguments"}.get(code, "Business Failed")
        with self._lock:
            failure = {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg}
            self._state.alipay_code_failures[auth_code] = failure

    def reject_alipay_message(
        self, recipient: str, *, sub_code: str = "USER_TEMPLATE_ILLEGAL", sub_msg: str = "模板非法"
    ) -> None:
        """Sends to this user_id/open_id answer 40004 "Business Failed" with ``sub_code``."""
        with self._lock:
            self._state.alipay_rejecting[recipient] = (sub_code, sub_msg)

    def simulate_outage(self, kind: str, *, platform: str | None = None, delay_s: float = 2.0) -> None:
        """``"http_500"``: answer 500 with an HTML page; ``"slow"``: answer only after ``delay_s``."""
        if kind not in ("http_500", "slow"):
            raise ValueError(f"unknown outage kind {kind!r}")
        with self._lock:
            for name in (platform,) if platform else (WECHAT, ALIPAY):
                self._state.outages[name] = _Outage(kind, delay_s)

    def end_outage(self) -> None:
        with self._lock:
            self._state.outages.clear()

    # ---- what happened -------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [request for request in self.requests if request.path == path]

    def alipay_requests(self, method: str) -> list[RecordedRequest]:
        return [request for request in self.requests_to(ALIPAY_GATEWAY_PATH) if request.params.get("method") == method]

    # ---- request handling (server threads) -------------------------------------------------------

    def _handle(self, handler: _Handler, http_method: str) -> None:
        request = self._record(handler, http_method)
        with self._lock:
            outage = self._state.outages.get(request.platform)
        if outage is not None and outage.kind == "http_500":
            handler.reply(500, "<html><body><h1>500 Internal Server Error</h1></body></html>", "text/html")
            return
        if outage is not None and self._stopping.wait(outage.delay_s):
            return
        route = self._routes().get((http_method, request.path))
        if route is None:
            handler.reply(404, "<html><body>404 Not Found</body></html>", "text/html")
            return
        try:
            body = route(request)
        except Exception:  # a bug in the fake must not pass for a network failure of the platform
            self.handler_errors.append(traceback.format_exc())
            handler.reply(500, "fake platform bug, see handler_errors", "text/plain")
            return
        handler.reply(200, body, "application/json;charset=utf-8" if request.platform == ALIPAY else "application/json")

    def _routes(self) -> dict[tuple[str, str], Callable[[RecordedRequest], str]]:
        return {
            ("GET", "/sns/jscode2session"): self._jscode2session,
            ("GET", "/cgi-bin/token"): self._wechat_token,
            ("POST", "/cgi-bin/stable_token"): self._wechat_stable_token,
            ("POST", "/cgi-bin/message/subscribe/send"): self._wechat_send,
            ("POST", ALIPAY_GATEWAY_PATH): self._alipay_gateway,
        }

    def _record(self, handler: _Handler, http_method: str) -> RecordedRequest:
        url = urlsplit(handler.path)
        raw = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        content_type = handler.headers.get("Content-Type", "")
        form: dict[str, str] = {}
        document: Any = None
        if "application/json" in content_type:
            try:
                document = json.loads(raw or b"null")
            except ValueError:
                document = None
        elif "application/x-www-form-urlencoded" in content_type:
            form = _single_values(parse_qs(raw.decode("utf-8"), keep_blank_values=True))
        query = _single_values(parse_qs(url.query, keep_blank_values=True))
        platform = ALIPAY if url.path == ALIPAY_GATEWAY_PATH else WECHAT
        signature_valid = self._alipay_signature_valid({**query, **form}) if platform == ALIPAY else None
        request = RecordedRequest(
            platform, http_method, url.path, query, form, document, dict(handler.headers.items()), signature_valid
        )
        with self._lock:
            self._requests.append(request)
        return request

    # ---- WeChat --------------------------------------------------------------------------------

    def _jscode2session(self, request: RecordedRequest) -> str:
        params = request.query
        if params.get("appid") != self.wechat_appid:
            return _wechat_error(40013, "invalid appid")
        if params.get("secret") != self.wechat_secret:
            return _wechat_error(40125, "invalid appsecret")
        if params.get("grant_type") != "authorization_code":
            return _wechat_error(40002, "invalid grant_type")
        code = params.get("js_code")
        if not code:
            return _wechat_error(41008, "missing code")
        with self._lock:
            state = self._state
            if code in state.wechat_code_failures:
                return _wechat_error(*state.wechat_code_failures[code])
            if code in state.used_wechat_codes:
                return _wechat_error(40163, "code been used")
            if code not in state.wechat_codes:
                return _wechat_error(40029, "invalid code")
            state.used_wechat_codes.add(code)
            openid, unionid = state.wechat_codes[code]
            session_key = base64.b64encode(secrets.token_bytes(16)).decode("ascii")
            self.issued_session_keys.append(session_key)
        answer = {"session_key": session_key, "openid": openid}
        if unionid:
            answer["unionid"] = unionid
        return json.dumps(answer)

    def _wechat_token(self, request: RecordedRequest) -> str:
        return self._issue_wechat_token(request.query, reuse_current=False)

    def _wechat_stable_token(self, request: RecordedRequest) -> str:
        body = request.json if isinstance(request.json, dict) else {}
        return self._issue_wechat_token(body, reuse_current=not body.get("force_refresh"))

    def _issue_wechat_token(self, params: dict[str, Any], *, reuse_current: bool) -> str:
        if params.get("grant_type") != "client_credential":
            return _wechat_error(40002, "invalid grant_type")
        if params.get("appid") != self.wechat_appid:
            return _wechat_error(40013, "invalid appid")
        if params.get("secret") != self.wechat_secret:
            return _wechat_error(40001, "invalid credential, access_token is invalid or not latest")
        now = time.monotonic()
        with self._lock:
            state = self._state
            current = state.current_wechat_token
            if reuse_current and current is not None and state.wechat_tokens[current] > now:
                return json.dumps({"access_token": current, "expires_in": int(state.wechat_tokens[current] - now)})
            token = "fake-token-" + secrets.token_urlsafe(24)
            state.wechat_tokens[token] = now + self.wechat_token_lifetime_s
            state.current_wechat_token = token
            self.wechat_tokens_issued.append(token)
        return json.dumps({"access_token": token, "expires_in": self.wechat_token_lifetime_s})

    def _wechat_send(self, request: RecordedRequest) -> str:
        token = request.query.get("access_token")
        body = request.json if isinstance(request.json, dict) else {}
        with self._lock:
            state = self._state
            if not token:
                return _wechat_error(41001, "access_token missing")
            if token not in state.wechat_tokens:
                return _wechat_error(40001, "invalid credential, access_token is invalid or not latest")
            if state.wechat_tokens[token] <= time.monotonic():
                return _wechat_error(42001, "access_token expired")
            openid = body.get("touser")
            if openid not in state.wechat_openids:
                return _wechat_error(40003, "invalid openid")
            if not body.get("template_id"):
                return _wechat_error(40037, "invalid template_id")
            data = _unwrapped_values(body.get("data"))
            if data is None:
                return _wechat_error(47003, "argument invalid! data.value is empty")
            if openid in state.wechat_refusing:
                return _wechat_error(43101, "user refuse to accept the msg")
            self.wechat_messages.append(DeliveredMessage(WECHAT, openid, body["template_id"], body.get("page"), data))
        return json.dumps({"errcode": 0, "errmsg": "ok"})

    # ---- Alipay --------------------------------------------------------------------------------

    def _alipay_signature_valid(self, params: dict[str, str]) -> bool:
        try:
            self._app_public_key.verify(
                base64.b64decode(params.get("sign", "")),
                alipay_sign_content(params).encode("utf-8"),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except (InvalidSignature, ValueError):
            return False
        return True

    def _alipay_gateway(self, request: RecordedRequest) -> str:
        params = request.params
        method = params.get("method", "")
        node_key = _node_key(method) if method == TEMPLATE_MESSAGE_METHOD else "error_response"
        if method not in (OAUTH_TOKEN_METHOD, TEMPLATE_MESSAGE_METHOD):
            return self._alipay_answer(node_key, _alipay_error("40002", "isv.invalid-method", "不存在的方法名"))
        rejection = self._alipay_common_rejection(params, request.signature_valid)
        if rejection is not None:
            return self._alipay_answer(node_key, rejection)
        if method == OAUTH_TOKEN_METHOD:
            return self._alipay_oauth_token(params)
        return self._alipay_send(params)

    def _alipay_common_rejection(self, params: dict[str, str], signature_valid: bool | None) -> dict[str, str] | None:
        if params.get("app_id") != self.alipay_app_id:
            return _alipay_error("40002", "isv.invalid-app-id", "无效的AppID参数")
        if not params.get("sign"):
            return _alipay_error("40001", "isv.missing-signature", "缺少签名参数")
        if params.get("sign_type") != "RSA2":
            return _alipay_error("40002", "isv.invalid-signature-type", "无效的签名类型")
        if not _TIMESTAMP.match(params.get("timestamp", "")):
            return _alipay_error("40002", "isv.invalid-timestamp", "非法的时间戳参数")
        if not signature_valid:
            return _alipay_error("40002", "isv.invalid-signature", "验签出错")
        return None

    def _alipay_oauth_token(self, params: dict[str, str]) -> str:
        if params.get("grant_type") != "authorization_code":
            rejection = _alipay_error("40002", "isv.grant-type-invalid", "grant_type无效")
            return self._alipay_answer("error_response", rejection)
        code = params.get("code", "")
        with self._lock:
            state = self._state
            if code in state.alipay_code_failures:
                return self._alipay_answer("error_response", state.alipay_code_failures[code])
            if code not in state.alipay_codes or code in state.used_alipay_codes:
                return self._alipay_answer("error_response", _alipay_error("40002", "isv.code-invalid", "授权码code无效"))
            state.used_alipay_codes.add(code)
            account = state.alipay_codes[code]
            access_token = "authusrB" + secrets.token_hex(16)
            refresh_token = "authusrB" + secrets.token_hex(16)
            self.issued_alipay_tokens.extend([access_token, refresh_token])
        node: dict[str, Any] = {
            "access_token": access_token,
            "auth_start": datetime.now(_BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
            "expires_in": 1296000,
            "re_expires_in": 2592000,
            "refresh_token": refresh_token,
        }
        if account.user_id:
            node["user_id"] = account.user_id
        if account.open_id:
            node["open_id"] = account.open_id
        return self._alipay_answer(_node_key(OAUTH_TOKEN_METHOD), node)

    def _alipay_send(self, params: dict[str, str]) -> str:
        node_key = _node_key(TEMPLATE_MESSAGE_METHOD)
        try:
            biz = json.loads(params.get("biz_content", ""))
            data = _unwrapped_values(json.loads(biz["data"]))
            recipient = biz.get("to_user_id") or biz.get("to_open_id")
            template_id = biz["user_template_id"]
        except (ValueError, KeyError, TypeError):
            biz, data, recipient, template_id = None, None, None, None
        if not biz or data is None or not recipient or not template_id:
            return self._alipay_answer(node_key, _alipay_error("40002", "isv.invalid-parameter", "参数无效"))
        with self._lock:
            rejection = self._state.alipay_rejecting.get(recipient)
            if rejection is None:
                self.alipay_messages.append(DeliveredMessage(ALIPAY, recipient, template_id, biz.get("page"), data))
        if rejection is not None:
            return self._alipay_answer(node_key, _alipay_error("40004", *rejection, msg="Business Failed"))
        return self._alipay_answer(node_key, {"code": "10000", "msg": "Success"})

    def _alipay_answer(self, node_key: str, node: dict[str, Any]) -> str:
        """``{"<node_key>": {...}, "sign": "..."}`` signed over the node's exact JSON text."""
        node_json = json.dumps(node, ensure_ascii=False, separators=(",", ":"))
        signed = node_json + ("tampered" if self.corrupt_alipay_signatures else "")
        signature = self._platform_key.sign(signed.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
        return '{"%s":%s,"sign":"%s"}' % (node_key, node_json, base64.b64encode(signature).decode("ascii"))


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeMiniappPlatforms/1.0"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.server.fake._handle(self, "GET")  # type: ignore[attr-defined]

    def do_POST(self) -> None:  # noqa: N802
        self.server.fake._handle(self, "POST")  # type: ignore[attr-defined]

    def reply(self, status: int, body: str, content_type: str) -> None:
        payload = body.encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout test); nothing to tell it

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep test output quiet
        pass


def _single_values(parsed: dict[str, list[str]]) -> dict[str, str]:
    return {key: values[-1] for key, values in parsed.items()}


def _unwrapped_values(data: Any) -> dict[str, str] | None:
    """``{"thing1": {"value": "x"}}`` -> ``{"thing1": "x"}``; None when any value is missing or empty."""
    if not isinstance(data, dict) or not data:
        return None
    values = {}
    for keyword, wrapper in data.items():
        if not isinstance(wrapper, dict) or not wrapper.get("value"):
            return None
        values[keyword] = str(wrapper["value"])
    return values


def _wechat_error(errcode: int, errmsg: str) -> str:
    return json.dumps({"errcode": errcode, "errmsg": f"{errmsg} rid: {secrets.token_hex(4)}-{secrets.token_hex(4)}"})


def _alipay_error(code: str, sub_code: str, sub_msg: str, *, msg: str | None = None) -> dict[str, str]:
    default_msg = {"40001": "Missing Required Arguments", "40002": "Invalid Arguments"}.get(code, "Business Failed")
    return {"code": code, "msg": msg or default_msg, "sub_code": sub_code, "sub_msg": sub_msg}


def _node_key(method: str) -> str:
    return method.replace(".", "_") + "_response"
