"""The WeChat and Alipay clients of this app, built once from its configuration (they cache access tokens)."""

from __future__ import annotations

from flask import current_app

from backend.errors import ServiceUnavailable
from backend.integrations.alipay import AlipayClient
from backend.integrations.wechat import WeChatClient


def wechat() -> WeChatClient:
    config = current_app.config
    if "wechat_client" not in current_app.extensions:
        if not (config["WECHAT_APPID"] and config["WECHAT_SECRET"]):
            raise ServiceUnavailable("微信登录尚未配置", reason="wechat_not_configured")
        current_app.extensions["wechat_client"] = WeChatClient(
            config["WECHAT_API_BASE"], config["WECHAT_APPID"], config["WECHAT_SECRET"],
            config["PLATFORM_TIMEOUT_SECONDS"],
        )
    return current_app.extensions["wechat_client"]


def alipay() -> AlipayClient:
    config = current_app.config
    if "alipay_client" not in current_app.extensions:
        if not (config["ALIPAY_APP_ID"] and config["ALIPAY_PRIVATE_KEY"]):
            raise ServiceUnavailable("支付宝登录尚未配置", reason="alipay_not_configured")
        current_app.extensions["alipay_client"] = AlipayClient(
            config["ALIPAY_GATEWAY"], config["ALIPAY_APP_ID"], config["ALIPAY_PRIVATE_KEY"],
            config["ALIPAY_PUBLIC_KEY"], config["PLATFORM_TIMEOUT_SECONDS"],
        )
    return current_app.extensions["alipay_client"]
