"""The settlement statement (结算清单) PDF: rendered by a job, cached on disk, served to the person.

After a settlement or reimbursement the person can view or print the statement (NX §23). Rendering takes a
moment, so it runs as a job (``render_statement``) through the outbox; the file is kept under STATEMENT_DIR,
named by the settlement and its number of refunds, so a refund makes the next request render a fresh statement.
In synchronous mode (no worker) the job runs at once and the first request already gets the PDF.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import redis
from flask import current_app

from backend.domain.identity import mask_id_number
from backend.extensions import db, redis_store
from backend.models import Person, Region, Settlement, utcnow
from backend.reports import StatementData, StatementLine, StatementRefund, render_statement
from backend.services import outbox, policies
from backend.services.benefits import settlement_sample
from backend.services.settlement_records import statement_lines
from backend.services.settlement_views import MED_TYPE_LABELS
from backend.services.settlements import owned_settlement

READY = "ready"
PENDING = "pending"
RETRY_AFTER_SECONDS = 2
PENDING_MARK_SECONDS = 120  # a render asked for is not asked for again meanwhile; after that it is retried
log = logging.getLogger(__name__)
TITLE = "门诊费用结算清单"
# The agencies that issue the statement: NM §17 names 自治区医疗保险服务中心; NX's is the regional agency.
ISSUERS = {"nm": "内蒙古自治区医疗保险服务中心", "nx": "宁夏回族自治区医疗保障经办机构"}
LEVEL_LABELS = {"tertiary": "三级", "secondary": "二级", "primary": "一级及以下"}
PERSON_TYPE_LABELS = {"employed": "在职职工", "retired": "退休人员", "flexible": "灵活就业人员"}


def statement_pdf(person_id: int, setl_id: str) -> tuple[bytes | None, str]:
    """(PDF bytes, "ready"), or (None, "pending") while the job makes it. Another person's: 404."""
    settlement = owned_settlement(person_id, setl_id)
    path = cache_path(settlement)
    if not path.exists():
        _ask_for_render(settlement)
    if path.exists():
        return path.read_bytes(), READY
    return None, PENDING


def cache_path(settlement: Settlement) -> Path:
    return Path(current_app.config["STATEMENT_DIR"]) / f"{settlement.id}-r{len(settlement.refunds)}.pdf"


def _ask_for_render(settlement: Settlement) -> None:
    refund_count = len(settlement.refunds)
    mark = redis_store.key("statement-render", settlement.id, refund_count)
    try:
        if not redis_store.client.set(mark, 1, nx=True, ex=PENDING_MARK_SECONDS):
            return
    except redis.RedisError:  # no queue either: the outbox row waits for the periodic drain (rendering is idempotent)
        log.warning("statement %s asked for without Redis; queued through the outbox", settlement.id)
    outbox.add("render_statement", setl_id=settlement.id, refund_count=refund_count)
    db.session.commit()
    if current_app.config["JOBS_SYNCHRONOUS"]:
        outbox.drain()


def render_and_store(setl_id: str, refund_count: int) -> str:
    """The job's work; safe to run twice (an existing file is kept). Returns what it did."""
    settlement = db.session.get(Settlement, setl_id)
    if settlement is None:
        return "settlement_missing"
    path = cache_path(settlement)  # the current refund count: a stale request renders the newest statement
    if path.exists():
        return "exists"
    pdf = render_statement(statement_data(settlement))
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside and renamed, so a reader never sees half a file.
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".part")
    with os.fdopen(handle, "wb") as out:
        out.write(pdf)
    os.replace(temporary, path)
    return "rendered"


def statement_data(settlement: Settlement) -> StatementData:
    person = db.session.get(Person, settlement.person_id)
    region = db.session.get(Region, person.region_code)
    refunded = {n for row in settlement.refunds for n in (row.line_nos or ())}
    return StatementData(
        title=TITLE,
        setl_id=settlement.id,
        person_name=person.name,
        masked_id_number=mask_id_number(person.id_number),
        region_label=region.name if region else person.region_code,
        person_type_label=PERSON_TYPE_LABELS[person.person_type],
        institution_name=settlement.institution_name or "",
        institution_level_label=LEVEL_LABELS.get(settlement.institution_level or "", ""),
        visit_date=settlement.visit_date,
        settled_at=settlement.settled_at,
        med_type_label=MED_TYPE_LABELS.get(settlement.bucket or settlement.med_type, settlement.med_type),
        lines=tuple(StatementLine(line.code, line.name, line.amount_fen, line.in_scope, number in refunded)
                    for number, line in enumerate(statement_lines(settlement), start=1)),
        medfee_sumamt=settlement.medfee_sumamt,
        inscp_scp_amt=settlement.inscp_scp_amt,
        act_pay_dedc=settlement.act_pay_dedc,
        hifp_pay=settlement.hifp_pay,
        acct_pay=settlement.acct_pay,
        acct_mulaid_pay=settlement.acct_mulaid_pay,
        psn_cash_pay=settlement.psn_cash_pay,
        balc=settlement.balc,
        refunds=tuple(StatementRefund(row.refunded_at, row.hifp_pay, row.acct_pay, row.acct_mulaid_pay,
                                      row.psn_cash_pay, tuple(row.line_nos or ()))
                      for row in sorted(settlement.refunds, key=lambda row: row.id)),
        explanation=tuple(settlement.explanation),
        sample_label=settlement_sample(policies.version(settlement.policy_version_code),
                                       settlement.bucket or settlement.med_type, settlement.reasons)["label"],
        issuer=ISSUERS.get(person.region_code, "医疗保障经办机构"),
        generated_at=utcnow(),
    )
