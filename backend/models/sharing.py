"""Family sharing grants (家庭共济). A revoke closes a grant; granting again creates a new one."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, UtcDateTime, utcnow

GRANT_STATUSES = ("active", "revoked")
GRANT_CHANNELS = ("wechat", "alipay", "chat", "counter", "web", "app")


class SharingGrant(Base):
    __tablename__ = "sharing_grants"
    __table_args__ = (
        CheckConstraint(f"status IN {GRANT_STATUSES}", name="status"),
        CheckConstraint("owner_person_id <> relative_person_id", name="not_self"),
        # At most one active grant per owner and relative, enforced by the database too.
        Index(
            "uq_sharing_grants_active_pair",
            "owner_person_id",
            "relative_person_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        Index("ix_sharing_grants_relative_status", "relative_person_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    relative_person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    relation: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="active")
    channel: Mapped[str] = mapped_column(String(16))
    policy_version_code: Mapped[str] = mapped_column(String(64))
    promise_text_version: Mapped[str] = mapped_column(String(32))  # which 承诺书 text was accepted
    promise_accepted_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    signed_promise_path: Mapped[str | None] = mapped_column(String(400))  # counter: the scanned signed paper
    granted_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    revoked_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    granted_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    revoke_channel: Mapped[str | None] = mapped_column(String(16))
    revoke_signed_promise_path: Mapped[str | None] = mapped_column(String(400))  # counter revoke: its scanned paper
