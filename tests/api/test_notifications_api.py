"""Notifications: written to the outbox with the use case, stored once, pushed to WeChat/Alipay when possible."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from backend.extensions import db
from backend.models import Notification, PlatformBinding
from backend.services import notifications, outbox
from tests.fakes.miniapp_platforms import FakeMiniappPlatforms

INBOX = "/api/v1/notifications"


def announce(person, key: str, title: str = "家庭共济授权成功") -> None:
    notifications.notify(person.id, "sharing_granted", title, "您已授权父亲共济使用您的个人账户。", dedupe_key=key)
    db.session.commit()
    outbox.drain()


def test_a_notification_reaches_the_inbox_and_can_be_marked_read(client, make_person, person_headers):
    person = make_person()
    announce(person, "k-1")
    headers = person_headers(person)
    inbox = client.get(INBOX, headers=headers)
    assert inbox.status_code == 200 and json.loads(inbox.headers["X-Pagination"])["total"] == 1
    assert (inbox.json[0]["title"], inbox.json[0]["read"]) == ("家庭共济授权成功", False)
    assert client.get(f"{INBOX}/unread-count", headers=headers).json == {"unread": 1}
    read = client.post(f"{INBOX}/{inbox.json[0]['id']}/read", headers=headers)
    assert read.status_code == 200 and read.json["read"] is True
    assert client.get(INBOX, query_string={"unread": "true"}, headers=headers).json == []


def test_marking_all_read_counts_what_was_unread(client, make_person, person_headers):
    person = make_person()
    announce(person, "k-1")
    announce(person, "k-2")
    headers = person_headers(person)
    assert client.post(f"{INBOX}/read-all", headers=headers).json == {"marked": 2}
    assert client.get(f"{INBOX}/unread-count", headers=headers).json == {"unread": 0}


def test_another_persons_notification_is_404(client, make_person, person_headers):
    owner, outsider = make_person(), make_person()
    announce(owner, "k-1")
    notification_id = db.session.scalar(select(Notification.id))
    response = client.post(f"{INBOX}/{notification_id}/read", headers=person_headers(outsider))
    assert (response.status_code, response.json["errors"]["reason"]) == (404, "notification_not_found")
    assert client.get(INBOX, headers=person_headers(outsider)).json == []


def test_a_delivery_run_twice_notifies_once(app, make_person):
    person = make_person()
    assert notifications.deliver(person.id, "k", "标题", "正文", "same-key", {}) is True
    assert notifications.deliver(person.id, "k", "标题", "正文", "same-key", {}) is False
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 1


def test_nothing_is_announced_for_work_that_rolled_back(app, make_person):
    person = make_person()
    notifications.notify(person.id, "k", "标题", "正文", dedupe_key="rolled-back")
    db.session.rollback()
    outbox.drain()
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0


@pytest.fixture
def platforms():
    with FakeMiniappPlatforms() as fake:
        yield fake


@pytest.fixture
def pushing_app(app, make_app, platforms):
    """An app with the templates configured, its context above the default one that make_person also uses."""
    app = make_app(
        WECHAT_API_BASE=platforms.wechat_base_url, WECHAT_APPID=platforms.wechat_appid,
        WECHAT_SECRET=platforms.wechat_secret, ALIPAY_GATEWAY=platforms.alipay_gateway_url,
        ALIPAY_APP_ID=platforms.alipay_app_id, ALIPAY_PRIVATE_KEY=platforms.alipay_app_private_key_pem,
        ALIPAY_PUBLIC_KEY=platforms.alipay_public_key_pem, PLATFORM_TIMEOUT_SECONDS=2.0,
        WECHAT_NOTIFY_TEMPLATE_ID="tmpl-wechat", ALIPAY_NOTIFY_TEMPLATE_ID="tmpl-alipay",
    )
    with app.app_context():
        yield app


def bound(make_person, platform: str, subject: str):
    person = make_person()
    db.session.add(PlatformBinding(platform=platform, platform_user_id=subject, person_id=person.id))
    db.session.commit()
    return person


def test_a_person_bound_on_wechat_gets_a_subscribe_message(pushing_app, platforms, make_person):
    platforms.add_wechat_user("code-x", openid="o-zhangwei")
    person = bound(make_person, "wechat", "o-zhangwei")
    announce(person, "k-push")
    [message] = platforms.wechat_messages
    assert (message.recipient, message.template_id) == ("o-zhangwei", "tmpl-wechat")
    assert message.data["thing1"] == "家庭共济授权成功"
    assert len(message.data["thing2"]) <= notifications.PUSH_TEXT_LIMIT


def test_a_person_bound_on_alipay_gets_a_subscribe_message(pushing_app, platforms, make_person):
    platforms.add_alipay_user("auth-x", user_id="2088000000000001")
    person = bound(make_person, "alipay", "2088000000000001")
    announce(person, "k-push")
    [message] = platforms.alipay_messages
    assert (message.recipient, message.template_id) == ("2088000000000001", "tmpl-alipay")


def test_a_refused_push_still_leaves_the_notification_in_the_inbox(pushing_app, platforms, make_person):
    platforms.add_wechat_user("code-y", openid="o-refuses")
    platforms.refuse_wechat_subscription("o-refuses")
    person = bound(make_person, "wechat", "o-refuses")
    announce(person, "k-refused")
    assert platforms.wechat_messages == []
    assert db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.person_id == person.id)) == 1


def test_without_a_configured_template_nothing_is_pushed(app, make_person):
    person = bound(make_person, "wechat", "o-nobody")
    announce(person, "k-quiet")  # would fail to connect if it tried: WECHAT_API_BASE is the real one
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 1
