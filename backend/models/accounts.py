"""Individual accounts and the append-only double-entry journal (both books: personal sub-ledger and funds)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.models.base import Base, Fen, UtcDateTime, utcnow

ACCOUNT_STATUSES = ("open", "closed")
ENTRY_SIDES = ("debit", "credit")


class IndividualAccount(Base):
    """个人账户. ``balance_fen`` caches the sum of its journal entries; the CHECK is the last line of defence."""

    __tablename__ = "individual_accounts"
    __table_args__ = (
        CheckConstraint("balance_fen >= 0", name="balance_non_negative"),
        CheckConstraint(f"status IN {ACCOUNT_STATUSES}", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), unique=True)
    balance_fen: Mapped[int] = mapped_column(Fen, default=0)
    status: Mapped[str] = mapped_column(String(16), default="open")
    opened_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    closed_reason: Mapped[str | None] = mapped_column(String(32))  # transfer_out | payout


class LedgerAccount(Base):
    """Chart of accounts for the fund book (the personal sub-ledger uses one code per individual account)."""

    __tablename__ = "ledger_accounts"

    code: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    book: Mapped[str] = mapped_column(String(32))
    normal_side: Mapped[str] = mapped_column(String(8))


class LedgerPosting(Base):
    """One business event. Never updated or deleted: a correction is a new posting that reverses it."""

    __tablename__ = "ledger_postings"

    id: Mapped[int] = mapped_column(primary_key=True)
    business_key: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[str] = mapped_column(String(48), index=True)
    memo: Mapped[str] = mapped_column(String(400), default="")
    # Who spent and where, for the person's journal view ("who spent it and where").
    actor_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id"))
    settlement_id: Mapped[str | None] = mapped_column(ForeignKey("settlements.id"), index=True)
    reverses_posting_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_postings.id"))
    occurred_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    entries: Mapped[list[LedgerEntry]] = relationship(back_populates="posting", cascade="all")


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint(f"side IN {ENTRY_SIDES}", name="side"),
        Index("ix_ledger_entries_account_posting", "individual_account_id", "posting_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    posting_id: Mapped[int] = mapped_column(ForeignKey("ledger_postings.id"), index=True)
    account_code: Mapped[str] = mapped_column(String(128), index=True)
    # Set for entries on a personal sub-ledger account, so a person's journal is one indexed look-up.
    individual_account_id: Mapped[int | None] = mapped_column(ForeignKey("individual_accounts.id"))
    side: Mapped[str] = mapped_column(String(8))
    amount_fen: Mapped[int] = mapped_column(Fen)

    posting: Mapped[LedgerPosting] = relationship(back_populates="entries")


class AccountContribution(Base):
    """A 居民医保 or 长护险 contribution paid from an individual account, booked for the person it pays for (NX §31:
    the resident fund books it as that relative's individual contribution). The beneficiary's contribution for a
    year is paid once, whoever pays it."""

    __tablename__ = "account_contributions"
    __table_args__ = (
        UniqueConstraint("kind", "beneficiary_id_number", "year", name="uq_account_contributions_beneficiary_year"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    individual_account_id: Mapped[int] = mapped_column(ForeignKey("individual_accounts.id"), index=True)
    posting_id: Mapped[int] = mapped_column(ForeignKey("ledger_postings.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(32))  # resident_insurance | long_term_care
    year: Mapped[int] = mapped_column(Integer)
    relation: Mapped[str] = mapped_column(String(32))  # "self" or the relation as a grant names it
    beneficiary_name: Mapped[str] = mapped_column(String(64))
    beneficiary_id_number: Mapped[str] = mapped_column(String(18))
    amount_fen: Mapped[int] = mapped_column(Fen)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
