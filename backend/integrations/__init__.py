"""Thin HTTP clients for the WeChat and Alipay mini-program platforms (sign-in, subscribe messages).

Configured by constructor arguments only (no Flask here); the app factory builds them from config.
"""

from backend.integrations.alipay import AlipayClient, AlipayUser
from backend.integrations.errors import (
    AuthCodeInvalid,
    MessageRejected,
    PlatformError,
    PlatformMisconfigured,
    PlatformUnavailable,
    RateLimited,
    ResponseSignatureInvalid,
    SubscriptionRefused,
    UnexpectedPlatformError,
    UserHighRisk,
)
from backend.integrations.wechat import WeChatClient, WeChatSession

__all__ = [
    "AlipayClient",
    "AlipayUser",
    "AuthCodeInvalid",
    "MessageRejected",
    "PlatformError",
    "PlatformMisconfigured",
    "PlatformUnavailable",
    "RateLimited",
    "ResponseSignatureInvalid",
    "SubscriptionRefused",
    "UnexpectedPlatformError",
    "UserHighRisk",
    "WeChatClient",
    "WeChatSession",
]
