"""Blueprints for the WeChat and Alipay mini-programs (insured people)."""

from flask import Flask


def blueprints(app: Flask) -> list:
    from miniapp_api import auth

    found = [auth.blp]
    from miniapp_api import applications, reimbursements

    found += [reimbursements.blp, applications.blp, applications.payout_blp, applications.chronic_blp]
    from miniapp_api import benefits, settlements

    found += [benefits.blp, settlements.blp]
    from miniapp_api import account, notifications, sharing

    found += [account.blp, sharing.blp, notifications.blp]
    from miniapp_api import chat

    found.append(chat.blp)
    if app.config["DEV_LOGIN"]:
        found.append(auth.dev_blp)
    return found
