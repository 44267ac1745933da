"""Notifications to insured people: an in-app inbox, plus a WeChat/Alipay subscribe message when possible.

``notify`` only writes an outbox message in the caller's transaction, so nothing is announced for work that
rolled back; the ``deliver_notification`` job then stores the in-app notification (once per person × dedupe key,
so a job run twice notifies once) and pushes a subscribe message to each platform the person is bound on, when
that platform's template is configured (``WECHAT_NOTIFY_TEMPLATE_ID`` / ``ALIPAY_NOTIFY_TEMPLATE_ID``).
A push is best effort: the inbox is the record, and a refused or failed push is logged, never retried.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from backend.errors import NotFound
from backend.extensions import db
from backend.integrations.errors import PlatformError
from backend.models import Notification, PlatformBinding, utcnow
from backend.services import outbox, paging, platforms
from backend.services.credits import BEIJING

log = logging.getLogger(__name__)

DELIVER_JOB = "deliver_notification"
# Subscribe-message fields are short: WeChat's "thing" keywords take at most 20 characters.
PUSH_TEXT_LIMIT = 20
ALIPAY_USER_ID_PREFIX = "2088"  # Alipay user_ids are "2088" + 12 digits; anything else bound is an open_id


def notify(person_id: int, kind: str, title: str, body: str, *, dedupe_key: str,
           data: dict | None = None) -> None:
    """Announce something to a person after the current transaction commits. Never commits by itself."""
    outbox.add(DELIVER_JOB, person_id=person_id, kind=kind, title=title, body=body, dedupe_key=dedupe_key,
               data=dict(data or {}))


def deliver(person_id: int, kind: str, title: str, body: str, dedupe_key: str, data: dict) -> bool:
    """Store the in-app notification and push it; returns False when it had been delivered before. Commits."""
    notification = Notification(person_id=person_id, kind=kind, title=title, body=body, dedupe_key=dedupe_key,
                                data=data)
    db.session.add(notification)
    try:
        db.session.commit()
    except IntegrityError:  # delivered already (the job ran twice): the unique key says so
        db.session.rollback()
        return False
    _push(notification)
    return True


def list_for_person(person_id: int, *, unread_only: bool, page: int, page_size: int) -> tuple[list[Notification], int]:
    query = select(Notification).where(Notification.person_id == person_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    offset, limit = paging.window(page, page_size)
    items = db.session.scalars(
        query.order_by(Notification.created_at.desc(), Notification.id.desc())
        .offset(offset).limit(limit)
    ).all()
    return list(items), total


def unread_count(person_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.person_id == person_id, Notification.read_at.is_(None)))


def mark_read(person_id: int, notification_id: int) -> Notification:
    """Mark one of the person's notifications read (another person's is 404). Commits."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.person_id != person_id:
        raise NotFound("未找到该消息", reason="notification_not_found")
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.commit()
    return notification


def mark_all_read(person_id: int) -> int:
    result = db.session.execute(
        update(Notification)
        .where(Notification.person_id == person_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    db.session.commit()
    return result.rowcount


def view(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.id,
        "kind": notification.kind,
        "title": notification.title,
        "body": notification.body,
        "data": notification.data or {},
        "created_at": notification.created_at,
        "read": notification.read_at is not None,
        "read_at": notification.read_at,
    }


def _push(notification: Notification) -> None:
    bindings = db.session.scalars(select(PlatformBinding).where(
        PlatformBinding.person_id == notification.person_id)).all()
    for binding in bindings:
        sender = _SENDERS.get(binding.platform)
        template_id = current_app.config[f"{binding.platform.upper()}_NOTIFY_TEMPLATE_ID"]
        if sender is None or not template_id:
            continue
        try:
            sender(binding.platform_user_id, template_id, notification)
        except PlatformError as exc:
            log.info("notification %s not pushed to %s: %s", notification.id, binding.platform, exc.code)


def _push_wechat(openid: str, template_id: str, notification: Notification) -> None:
    platforms.wechat().send_subscribe_message(openid, template_id, {
        "thing1": _short(notification.title),
        "thing2": _short(notification.body),
        "time3": _local_time(notification),
    }, page="pages/notifications/index")


def _push_alipay(subject: str, template_id: str, notification: Notification) -> None:
    recipient = ({"to_user_id": subject} if subject.startswith(ALIPAY_USER_ID_PREFIX) and subject.isdigit()
                 else {"to_open_id": subject})
    platforms.alipay().send_subscribe_message(template_id, {
        "keyword1": _short(notification.title),
        "keyword2": _short(notification.body),
        "keyword3": _local_time(notification),
    }, page="pages/notifications/index", **recipient)


_SENDERS = {"wechat": _push_wechat, "alipay": _push_alipay}


def _short(text: str) -> str:
    return text if len(text) <= PUSH_TEXT_LIMIT else text[: PUSH_TEXT_LIMIT - 1] + "…"


def _local_time(notification: Notification) -> str:
    return notification.created_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
