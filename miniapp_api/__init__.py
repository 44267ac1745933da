"""Blueprints for the WeChat and Alipay mini-programs (insured people)."""

from flask import Flask


def blueprints(app: Flask) -> list:
    from miniapp_api import auth

    found = [auth.blp]
    if app.config["DEV_LOGIN"]:
        found.append(auth.dev_blp)
    return found
