"""Settlements (national 2207 names), their lines and refunds, year-to-date accumulators, invoices, clearing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.models.base import Base, Fen, JsonDocument, UtcDateTime, utcnow

SETTLEMENT_SOURCES = ("direct", "manual")
SETTLEMENT_STATUSES = ("settled", "partially_refunded", "refunded")
AMOUNT_COLUMNS = (
    "medfee_sumamt", "inscp_scp_amt", "act_pay_dedc", "hifp_pay", "acct_pay", "acct_mulaid_pay", "psn_cash_pay",
)


class Settlement(Base):
    __tablename__ = "settlements"
    __table_args__ = (
        UniqueConstraint("institution_id", "order_no"),
        CheckConstraint(f"source IN {SETTLEMENT_SOURCES}", name="source"),
        CheckConstraint(f"status IN {SETTLEMENT_STATUSES}", name="status"),
        CheckConstraint(" AND ".join(f"{c} >= 0" for c in AMOUNT_COLUMNS), name="amounts_non_negative"),
        # The parts always add up to the total (DESIGN §2: every posting balances).
        CheckConstraint("hifp_pay + acct_pay + acct_mulaid_pay + psn_cash_pay = medfee_sumamt", name="parts_sum"),
        Index("ix_settlements_person_date", "person_id", "visit_date"),
        Index("ix_settlements_institution_month", "institution_id", "clearing_month"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # setl_id
    source: Mapped[str] = mapped_column(String(16), default="direct")
    status: Mapped[str] = mapped_column(String(24), default="settled")
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id"))
    order_no: Mapped[str | None] = mapped_column(String(64))  # the institution's own number (idempotency)
    application_id: Mapped[str | None] = mapped_column(ForeignKey("applications.id"))
    visit_date: Mapped[dt.date] = mapped_column(Date)
    benefit_year: Mapped[int] = mapped_column(Integer)
    med_type: Mapped[str] = mapped_column(String(16))
    in_region: Mapped[bool] = mapped_column(default=True)
    policy_version_code: Mapped[str] = mapped_column(String(64))
    medfee_sumamt: Mapped[int] = mapped_column(Fen)
    inscp_scp_amt: Mapped[int] = mapped_column(Fen)
    act_pay_dedc: Mapped[int] = mapped_column(Fen)
    hifp_pay: Mapped[int] = mapped_column(Fen)
    acct_pay: Mapped[int] = mapped_column(Fen)
    acct_mulaid_pay: Mapped[int] = mapped_column(Fen)
    psn_cash_pay: Mapped[int] = mapped_column(Fen)
    balc: Mapped[int | None] = mapped_column(Fen)
    reasons: Mapped[list[str]] = mapped_column(JsonDocument, default=list)
    explanation: Mapped[list[str]] = mapped_column(JsonDocument, default=list)
    clearing_month: Mapped[str] = mapped_column(String(7), index=True)  # "YYYY-MM" it is cleared in
    settled_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Where it happened, as printed on the statement (a manual claim's institution has no row of its own).
    institution_name: Mapped[str | None] = mapped_column(String(128))
    institution_level: Mapped[str | None] = mapped_column(String(16))
    bucket: Mapped[str | None] = mapped_column(String(16))  # the one bucket the lines were settled in
    fund_share_bp: Mapped[int | None] = mapped_column(Integer)
    disease_code: Mapped[str | None] = mapped_column(String(32))
    invoice_no: Mapped[str | None] = mapped_column(String(64))  # a direct settlement's invoice (InvoiceRecord too)
    # sha256 of the canonical request: a repeated order number with another body is refused, not replayed.
    request_hash: Mapped[str | None] = mapped_column(String(64))
    # What the engine was given (person snapshot, institution, accumulators before): a partial refund re-runs
    # the engine on the remaining lines with exactly this input, so refunds restore the accumulators exactly.
    engine_input: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)

    lines: Mapped[list[SettlementLine]] = relationship(back_populates="settlement", cascade="all")
    refunds: Mapped[list[SettlementRefund]] = relationship(back_populates="settlement", cascade="all")


class SettlementLine(Base):
    __tablename__ = "settlement_lines"
    __table_args__ = (CheckConstraint("amount_fen >= 0", name="amount_non_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    settlement_id: Mapped[str] = mapped_column(ForeignKey("settlements.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    amount_fen: Mapped[int] = mapped_column(Fen)
    in_scope: Mapped[bool] = mapped_column()
    account_eligible: Mapped[bool] = mapped_column(default=True)  # as the institution sent it
    use_category: Mapped[str | None] = mapped_column(String(32))  # public_health | fitness | wellness …, or none
    bucket: Mapped[str | None] = mapped_column(String(32))

    settlement: Mapped[Settlement] = relationship(back_populates="lines")


class SettlementRefund(Base):
    """退费 along the original channels (NX §28); lands in the clearing month open when it happens."""

    __tablename__ = "settlement_refunds"
    __table_args__ = (
        UniqueConstraint("settlement_id", "refund_no"),
        CheckConstraint("hifp_pay >= 0 AND acct_pay >= 0 AND acct_mulaid_pay >= 0 AND psn_cash_pay >= 0",
                        name="amounts_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    settlement_id: Mapped[str] = mapped_column(ForeignKey("settlements.id"), index=True)
    refund_no: Mapped[str] = mapped_column(String(64))
    medfee_sumamt: Mapped[int] = mapped_column(Fen)
    hifp_pay: Mapped[int] = mapped_column(Fen)
    acct_pay: Mapped[int] = mapped_column(Fen)
    acct_mulaid_pay: Mapped[int] = mapped_column(Fen)
    psn_cash_pay: Mapped[int] = mapped_column(Fen)
    clearing_month: Mapped[str] = mapped_column(String(7), index=True)
    refunded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    line_nos: Mapped[list[int] | None] = mapped_column(JsonDocument)  # the lines refunded (1-based)
    balc: Mapped[int | None] = mapped_column(Fen)  # the person's own account balance after the refund
    request_hash: Mapped[str | None] = mapped_column(String(64))

    settlement: Mapped[Settlement] = relationship(back_populates="refunds")


class Accumulator(Base):
    """Year-to-date total per person × benefit year × bucket; the cache of the accumulator entries below."""

    __tablename__ = "accumulators"
    __table_args__ = (CheckConstraint("amount_fen >= 0", name="amount_non_negative"),)

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    bucket: Mapped[str] = mapped_column(String(48), primary_key=True)
    amount_fen: Mapped[int] = mapped_column(Fen, default=0)


class AccumulatorEntry(Base):
    """Append-only deltas (from settlements and their refunds) that the accumulators are derived from."""

    __tablename__ = "accumulator_entries"
    __table_args__ = (Index("ix_accumulator_entries_person_year", "person_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    year: Mapped[int] = mapped_column(Integer)
    bucket: Mapped[str] = mapped_column(String(48))
    delta_fen: Mapped[int] = mapped_column(Fen)
    settlement_id: Mapped[str | None] = mapped_column(ForeignKey("settlements.id"), index=True)
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("settlement_refunds.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class InvoiceRecord(Base):
    """Every invoice number reimbursed or settled anywhere: the same fee is never paid twice (NX §25)."""

    __tablename__ = "invoice_records"

    number: Mapped[str] = mapped_column(String(64), primary_key=True)
    settlement_id: Mapped[str | None] = mapped_column(ForeignKey("settlements.id"))
    application_id: Mapped[str | None] = mapped_column(ForeignKey("applications.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class ClearingReport(Base):
    """A cleared (frozen) month for one institution (NX §10, §29). Late refunds land in the next open month."""

    __tablename__ = "clearing_reports"
    __table_args__ = (UniqueConstraint("institution_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    month: Mapped[str] = mapped_column(String(7))
    totals: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    frozen_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
