"""Designated hospitals and pharmacies (定点医疗机构 / 定点零售药店)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, EncryptedText, UtcDateTime, utcnow

INSTITUTION_KINDS = ("hospital", "community_health_centre", "pharmacy")  # as backend.domain.policy
INSTITUTION_LEVELS = ("tertiary", "secondary", "primary")


class Institution(Base):
    __tablename__ = "institutions"
    __table_args__ = (
        CheckConstraint(f"kind IN {INSTITUTION_KINDS}", name="kind"),
        CheckConstraint(f"level IN {INSTITUTION_LEVELS}", name="level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))  # "community_health_centre" is 23 characters
    level: Mapped[str] = mapped_column(String(16))
    grade: Mapped[str | None] = mapped_column(String(8))  # 甲/乙; cap-adjustment requests need 二级甲等+ (NX §17)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    # HMAC key for the signed API: verifying an HMAC needs the key itself, so it is encrypted, not hashed.
    secret: Mapped[str] = mapped_column(EncryptedText)
    is_chronic_certifier: Mapped[bool] = mapped_column(default=False)  # 认定医院 (NX §15)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
