"""Delivering notifications written to the outbox by ``backend.services.notifications.notify``."""

from backend.jobs import job
from backend.services import notifications


@job(notifications.DELIVER_JOB, queue="default")
def deliver_notification(person_id: int, kind: str, title: str, body: str, dedupe_key: str,
                         data: dict | None = None) -> bool:
    """Safe to run twice: the notification is unique per person and dedupe key, and pushed only when stored."""
    return notifications.deliver(person_id, kind, title, body, dedupe_key, data or {})
