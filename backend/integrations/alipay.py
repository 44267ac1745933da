"""Alipay mini-program OpenAPI (gateway v1): sign-in (alipay.system.oauth.token) and subscribe messages.

Request (opendocs.alipay.com, 公共请求参数 / 签名; checked 2025): ``POST {gateway}`` (``.../gateway.do``)
with the common parameters ``app_id``, ``method``, ``format=JSON``, ``charset=utf-8``, ``sign_type=RSA2``,
``timestamp`` ("yyyy-MM-dd HH:mm:ss", Beijing time), ``version=1.0`` and ``sign`` in the query string and
the business parameters in the form body, as the official SDKs do.
``sign`` = base64(SHA256withRSA(app private key, content)) where content is every parameter except
``sign`` and except empty values, sorted by name, joined as ``k=v&k=v`` with raw (not URL-encoded)
values, UTF-8.

alipay.system.oauth.token — business parameters ``grant_type=authorization_code``, ``code=AUTH_CODE``
(the authCode from ``my.getAuthCode``; single use, expires within a day).
    success: ``{"alipay_system_oauth_token_response": {"user_id": "2088...", "access_token": "...",
    "expires_in": ..., "refresh_token": "...", "re_expires_in": ..., "auth_start": "..."}, "sign": "..."}``
    — apps switched to Alipay's OpenID scheme get ``open_id`` instead of ``user_id``; this answer has
    no ``code`` field.
    failure: ``{"error_response": {"code": "40002", "msg": "Invalid Arguments",
    "sub_code": "isv.code-invalid", "sub_msg": "授权码code无效"}, "sign": "..."}``.
    The access and refresh tokens only serve user-info calls this backend does not make: they are
    dropped, never returned.

alipay.open.app.mini.templatemessage.send (also the send call for subscribe-message templates) —
``biz_content`` = JSON ``{"to_user_id" | "to_open_id": ..., "user_template_id": ..., "page": ...,
"data": "{\\"keyword1\\": {\\"value\\": \\"...\\"}}"}`` (``data`` is itself a JSON string; ``form_id`` is
only for the legacy form/payment templates and is not sent).
    success: ``{"alipay_open_app_mini_templatemessage_send_response": {"code": "10000", "msg": "Success"},
    "sign": "..."}``; failure: same node with e.g. ``"code": "40004", "msg": "Business Failed",
    "sub_code": "USER_TEMPLATE_ILLEGAL"``.

Response signature: ``sign`` covers the raw JSON text of the ``..._response`` (or ``error_response``)
value exactly as it appears in the body, so it is cut out of the text rather than re-serialised.
Gateway codes: 10000 success, 20000 service unavailable, 20001 bad auth token, 40001 missing
parameter, 40002 invalid parameter, 40004 business failure, 40006 insufficient permissions.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from backend.integrations.errors import (
    ALIPAY,
    AuthCodeInvalid,
    MessageRejected,
    PlatformError,
    PlatformMisconfigured,
    PlatformUnavailable,
    ResponseSignatureInvalid,
    UnexpectedPlatformError,
    json_object,
    send_http_request,
    utf8_text,
)

logger = logging.getLogger(__name__)

OAUTH_TOKEN_METHOD = "alipay.system.oauth.token"
TEMPLATE_MESSAGE_METHOD = "alipay.open.app.mini.templatemessage.send"

# Alipay reads the timestamp as Beijing time; China has no daylight saving, so a fixed offset is exact.
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")

_SUCCESS = "10000"

_SUB_CODE_ERRORS: dict[str, type[PlatformError]] = {
    "isv.code-invalid": AuthCodeInvalid,
    "isv.invalid-app-id": PlatformMisconfigured,
    "isv.invalid-signature": PlatformMisconfigured,
    "isv.invalid-signature-type": PlatformMisconfigured,
    "isv.missing-signature": PlatformMisconfigured,
    "isv.invalid-timestamp": PlatformMisconfigured,
    "isv.insufficient-isv-permissions": PlatformMisconfigured,
}

_GATEWAY_CODE_ERRORS: dict[str, type[PlatformError]] = {
    "20000": PlatformUnavailable,
    "20001": PlatformMisconfigured,
    "40006": PlatformMisconfigured,
}


@dataclass(frozen=True)
class AlipayUser:
    """Who signed in: ``user_id`` ("2088...") or, for apps on Alipay's OpenID scheme, ``open_id``."""

    user_id: str | None = None
    open_id: str | None = None

    def __post_init__(self) -> None:
        if not (self.user_id or self.open_id):
            raise ValueError("an Alipay user needs a user_id or an open_id")

    @property
    def subject(self) -> str:
        """The identifier to bind to a person: the open_id when the app uses OpenIDs, else user_id."""
        return self.open_id or self.user_id  # type: ignore[return-value]


class AlipayClient:
    """A thin client for one Alipay mini-program (one app_id). Safe to share between threads."""

    def __init__(
        self,
        gateway_url: str,
        app_id: str,
        private_key_pem: str,
        alipay_public_key_pem: str | None = None,
        timeout: float = 5.0,
        *,
        session: requests.Session | None = None,
    ) -> None:
        self._gateway_url = gateway_url
        self._app_id = app_id
        self._private_key = load_rsa_private_key(private_key_pem)
        self._alipay_public_key = load_rsa_public_key(alipay_public_key_pem) if alipay_public_key_pem else None
        self._timeout = timeout
        self._session = session or requests.Session()

    def __repr__(self) -> str:
        return f"AlipayClient(gateway_url={self._gateway_url!r}, app_id={self._app_id!r})"

    def auth_code_to_user(self, auth_code: str) -> AlipayUser:
        """Exchange the authCode from ``my.getAuthCode`` for the user's id; the tokens are dropped."""
        if not auth_code:
            raise AuthCodeInvalid(ALIPAY, platform_code="isv.code-invalid", platform_message="missing code")
        node = self._call(OAUTH_TOKEN_METHOD, {"grant_type": "authorization_code", "code": auth_code})
        user_id = node.get("user_id")
        open_id = node.get("open_id")
        user_id = user_id if isinstance(user_id, str) and user_id else None
        open_id = open_id if isinstance(open_id, str) and open_id else None
        if not (user_id or open_id):
            raise UnexpectedPlatformError(ALIPAY, platform_message="oauth.token answer without user_id/open_id")
        return AlipayUser(user_id=user_id, open_id=open_id)

    def send_subscribe_message(
        self,
        user_template_id: str,
        data: Mapping[str, str],
        *,
        to_user_id: str | None = None,
        to_open_id: str | None = None,
        page: str | None = None,
    ) -> None:
        """Send one subscribe message to a user_id or an open_id; ``data`` maps "keyword1" to its text.

        Returns quietly when Alipay accepted it. ``MessageRejected`` means "not delivered, don't
        retry"; ``PlatformUnavailable`` means "retry later".
        """
        if bool(to_user_id) == bool(to_open_id):
            raise ValueError("give exactly one of to_user_id and to_open_id")
        biz: dict[str, Any] = {
            "user_template_id": user_template_id,
            "data": json.dumps({keyword: {"value": value} for keyword, value in data.items()}, ensure_ascii=False),
        }
        if to_user_id:
            biz["to_user_id"] = to_user_id
        else:
            biz["to_open_id"] = to_open_id
        if page:
            biz["page"] = page
        self._call(TEMPLATE_MESSAGE_METHOD, {"biz_content": json.dumps(biz, ensure_ascii=False)})

    def _call(self, method: str, business_params: Mapping[str, str]) -> dict[str, Any]:
        common = {
            "app_id": self._app_id,
            "method": method,
            "format": "JSON",
            "charset": "utf-8",
            "sign_type": "RSA2",
            "timestamp": datetime.now(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
            "version": "1.0",
        }
        common["sign"] = sign_params({**common, **business_params}, self._private_key)
        response = send_http_request(
            self._session,
            ALIPAY,
            "POST",
            self._gateway_url,
            timeout=self._timeout,
            params=common,
            data=dict(business_params),
            headers={"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"},
        )
        return self._checked_node(utf8_text(response), method)

    def _checked_node(self, text: str, method: str) -> dict[str, Any]:
        document = json_object(text, ALIPAY)
        node_key = method.replace(".", "_") + "_response"
        if node_key not in document:
            node_key = "error_response"
        node = document.get(node_key)
        if not isinstance(node, dict):
            raise PlatformUnavailable(ALIPAY, platform_code="invalid_response")
        code = str(node.get("code", _SUCCESS))
        self._verify_signature(text, node_key, document.get("sign"), succeeded=code == _SUCCESS)
        if node_key == "error_response" or code != _SUCCESS:
            _raise_for_error_node(node, method)
        return node

    def _verify_signature(self, text: str, node_key: str, sign: Any, *, succeeded: bool) -> None:
        if self._alipay_public_key is None:
            return
        if not sign and not succeeded:
            # Alipay cannot sign some gateway rejections (an unknown app_id, say); a forged failure
            # only denies service, so unsigned failures are accepted as failures.
            return
        raw_node = raw_json_value(text, node_key)
        if not isinstance(sign, str) or raw_node is None or not verify_signature(
            raw_node, sign, self._alipay_public_key
        ):
            logger.error("alipay answer to %s failed signature verification", node_key)
            raise ResponseSignatureInvalid(ALIPAY)


def _raise_for_error_node(node: Mapping[str, Any], method: str) -> None:
    code = str(node.get("code", ""))
    sub_code = node.get("sub_code") if isinstance(node.get("sub_code"), str) else None
    sub_msg = node.get("sub_msg") if isinstance(node.get("sub_msg"), str) else None
    error_class = _SUB_CODE_ERRORS.get(sub_code or "") or _GATEWAY_CODE_ERRORS.get(code)
    if error_class is None:
        error_class = MessageRejected if method == TEMPLATE_MESSAGE_METHOD else UnexpectedPlatformError
    log = logger.error if error_class in (PlatformMisconfigured, UnexpectedPlatformError) else logger.info
    log("alipay %s failed: code=%s sub_code=%s", method, code, sub_code)
    raise error_class(ALIPAY, platform_code=sub_code or code, platform_message=sub_msg or node.get("msg"))


def sign_content(params: Mapping[str, str]) -> str:
    """The string Alipay signs: non-empty params except ``sign``, sorted by name, ``k=v`` joined by ``&``."""
    return "&".join(f"{key}={params[key]}" for key in sorted(params) if key != "sign" and params[key])


def sign_params(params: Mapping[str, str], private_key: rsa.RSAPrivateKey) -> str:
    signature = private_key.sign(sign_content(params).encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def verify_signature(content: str, sign: str, public_key: rsa.RSAPublicKey) -> bool:
    try:
        public_key.verify(base64.b64decode(sign), content.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def raw_json_value(text: str, key: str) -> str | None:
    """The exact text of the value of top-level ``key`` in a JSON object, as the platform wrote it."""
    marker = f'"{key}"'
    position = text.find(marker)
    if position < 0:
        return None
    colon = text.find(":", position + len(marker))
    if colon < 0:
        return None
    start = colon + 1
    while start < len(text) and text[start] in " \t\r\n":
        start += 1
    try:
        _, end = json.JSONDecoder().raw_decode(text, start)
    except ValueError:
        return None
    return text[start:end]


def load_rsa_private_key(key: str) -> rsa.RSAPrivateKey:
    """Load a PEM (PKCS#1 or PKCS#8) or the bare base64 body Alipay's key tool prints."""
    try:
        if "-----BEGIN" in key:
            loaded = serialization.load_pem_private_key(key.encode("ascii"), password=None)
        else:
            loaded = serialization.load_der_private_key(base64.b64decode("".join(key.split())), password=None)
    except (ValueError, TypeError, binascii.Error):
        loaded = None
    if not isinstance(loaded, rsa.RSAPrivateKey):
        # Never echo the key material itself.
        raise ValueError("the Alipay app private key is not a readable RSA private key")
    return loaded


def load_rsa_public_key(key: str) -> rsa.RSAPublicKey:
    """Load a PEM or the bare base64 body of Alipay's public key (SubjectPublicKeyInfo)."""
    try:
        if "-----BEGIN" in key:
            loaded = serialization.load_pem_public_key(key.encode("ascii"))
        else:
            loaded = serialization.load_der_public_key(base64.b64decode("".join(key.split())))
    except (ValueError, TypeError, binascii.Error):
        loaded = None
    if not isinstance(loaded, rsa.RSAPublicKey):
        raise ValueError("the Alipay public key is not a readable RSA public key")
    return loaded
