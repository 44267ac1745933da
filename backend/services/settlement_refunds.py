"""Refunds of direct settlements, wholly or some of their lines, along the original channels (NX §28).

One use case = one transaction: the refund locks the person like a settlement does, replays the engine on the
original input and appends the refund, the account postings and the accumulator deltas — or writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backend.domain import benefits as engine
from backend.errors import Conflict, Forbidden, NotFound
from backend.extensions import db
from backend.models import Institution, Settlement, SettlementLine, SettlementRefund, utcnow
from backend.services import accounts, benefits, clearing, policies
from backend.services.benefits import add_to_accumulators, snapshot_from_dict
from backend.services.settlement_records import ordered_lines, own_balance
from backend.services.settlement_requests import RefundRequest, parse_refund, refuse
from backend.services.settlement_views import refund_view


def refund(institution: Institution, setl_id: str, body: Mapping, *, now: dt.datetime | None = None) -> dict:
    """Refund a settlement, wholly or some of its lines, along the original channels (NX §28)."""
    return refund_outcome(institution, setl_id, body, now=now)[0]


def refund_outcome(institution: Institution, setl_id: str, body: Mapping, *,
                   now: dt.datetime | None = None) -> tuple[dict, bool]:
    """(response body, created): ``created`` is False when the refund number was used before with this body."""
    now = now or utcnow()
    request = parse_refund(body)
    try:
        view, created = _refund(institution, _settlement_of(institution, setl_id), request, now)
        if created:
            db.session.commit()
        else:
            db.session.rollback()
    except IntegrityError:
        db.session.rollback()  # the same refund number committed by a concurrent request
        settlement = _settlement_of(institution, setl_id)
        row = _refund_by_no(settlement, request.refund_no)
        if row is None:
            raise
        return _repeat_of_refund(settlement, row, request), False
    except Exception:
        db.session.rollback()
        raise
    return view, created


def _settlement_of(institution: Institution, setl_id: str) -> Settlement:
    settlement = db.session.get(Settlement, setl_id)
    if settlement is None:
        raise NotFound("未找到该结算", reason="settlement_not_found")
    if settlement.institution_id != institution.id:
        raise Forbidden("只有原结算机构可以办理退费", reason="not_the_settling_institution")
    return settlement


def _refund_by_no(settlement: Settlement, refund_no: str) -> SettlementRefund | None:
    return db.session.scalar(select(SettlementRefund).where(
        SettlementRefund.settlement_id == settlement.id, SettlementRefund.refund_no == refund_no))


def _repeat_of_refund(settlement: Settlement, row: SettlementRefund, request: RefundRequest) -> dict:
    if row.request_hash != request.fingerprint():
        raise Conflict("该退费单号已用于另一笔不同的退费", reason="refund_no_reused", refund_no=request.refund_no)
    return refund_view(settlement, row)


def _refund(institution: Institution, settlement: Settlement, request: RefundRequest,
            now: dt.datetime) -> tuple[dict, bool]:
    benefits.lock_person(settlement.person_id)  # the same lock as settlements: accumulators move one at a time
    db.session.expire(settlement)  # read again, with its refunds, now that the person is locked
    earlier = _refund_by_no(settlement, request.refund_no)
    if earlier is not None:
        return _repeat_of_refund(settlement, earlier, request), False
    lines = ordered_lines(settlement)
    chosen, left = _refunded_lines(settlement, len(lines), request.line_nos)
    now_paid = _replay_engine(settlement, lines, sorted(chosen + left))
    after = _replay_engine(settlement, lines, left) if left else None
    parts = _refund_parts(settlement, now_paid, after)
    row = SettlementRefund(
        settlement_id=settlement.id, refund_no=request.refund_no, line_nos=chosen,
        request_hash=request.fingerprint(), clearing_month=clearing.open_month(institution.id, now),
        refunded_at=now, **parts,
    )
    settlement.refunds.append(row)
    db.session.flush()
    if parts["acct_pay"] or parts["acct_mulaid_pay"]:
        accounts.refund_to_accounts(settlement.id, f"{settlement.id}/{request.refund_no}", parts["acct_pay"],
                                    parts["acct_mulaid_pay"])
    deltas = _delta_difference(after.accumulator_deltas if after else {}, now_paid.accumulator_deltas)
    add_to_accumulators(settlement.person_id, settlement.benefit_year, deltas, settlement_id=settlement.id,
                        refund_id=row.id)
    settlement.status = "partially_refunded" if left else "refunded"
    row.balc = own_balance(settlement.person_id)
    db.session.flush()
    return refund_view(settlement, row), True



def _refunded_lines(settlement: Settlement, line_count: int,
                    asked: tuple[int, ...] | None) -> tuple[list[int], list[int]]:
    """(the lines refunded now, the lines still settled after it); a refund never exceeds the original."""
    refunded = {n for row in settlement.refunds for n in (row.line_nos or ())}
    remaining = [n for n in range(1, line_count + 1) if n not in refunded]
    if not remaining:
        raise Conflict("该结算已全额退费", reason="already_refunded")
    chosen = list(asked) if asked is not None else remaining
    unknown = [n for n in chosen if n > line_count]
    if unknown:
        raise refuse("退费明细序号不存在", "unknown_line_no", line_nos=unknown)
    twice = [n for n in chosen if n in refunded]
    if twice:
        raise Conflict("这些明细已退费", reason="line_already_refunded", line_nos=twice)
    return sorted(chosen), [n for n in remaining if n not in chosen]


def _replay_engine(settlement: Settlement, lines: list[SettlementLine], line_nos: list[int]) -> engine.Settlement:
    """The settlement of just these lines, with exactly the input the original had (its own policy version,
    the person as they were, the accumulators before it): so refunds add up to the original exactly."""
    given = settlement.engine_input
    visit = engine.Visit(
        service_date=settlement.visit_date, institution_level=given["institution_level"],
        institution_kind=given["institution_kind"], in_region=given["in_region"], med_type=settlement.med_type,
        lines=tuple(engine.Line(line.code, line.name, line.amount_fen, line.in_scope, line.account_eligible,
                                line.use_category)
                    for line in (lines[n - 1] for n in line_nos)),
        disease_code=settlement.disease_code,
    )
    return engine.settle(policies.version(settlement.policy_version_code), snapshot_from_dict(given["person"]),
                         visit, given["year_to_date"])


def _refund_parts(settlement: Settlement, now_paid: engine.Settlement, after: engine.Settlement | None) -> dict:
    """Split the refund by channel. The fund returns what it paid for the refunded lines; of the personal part,
    cash is returned first, then the accounts (sharers' before the person's own: the last drawn is refunded
    first) — but always enough account money that the accounts never keep paying more than the remaining lines
    allow them to."""
    total = now_paid.medfee_sumamt - (after.medfee_sumamt if after else 0)
    fund = now_paid.hifp_pay - (after.hifp_pay if after else 0)
    personal = total - fund
    net = {channel: getattr(settlement, channel) - sum(getattr(r, channel) for r in settlement.refunds)
           for channel in ("acct_pay", "acct_mulaid_pay", "psn_cash_pay")}
    accounts_keep_at_most = after.account_payable if after else 0
    from_accounts_at_least = max(0, net["acct_pay"] + net["acct_mulaid_pay"] - accounts_keep_at_most)
    cash = min(net["psn_cash_pay"], personal - from_accounts_at_least)
    from_accounts = personal - cash
    shared = min(net["acct_mulaid_pay"], from_accounts)
    own = from_accounts - shared
    if own > net["acct_pay"] or min(fund, cash, shared, own) < 0:
        raise Conflict("退费金额超出原结算", reason="refund_exceeds_original")
    return {"medfee_sumamt": total, "hifp_pay": fund, "acct_pay": own, "acct_mulaid_pay": shared,
            "psn_cash_pay": cash}


def _delta_difference(after: Mapping[str, int], before: Mapping[str, int]) -> dict[str, int]:
    names = set(after) | set(before)
    return {name: after.get(name, 0) - before.get(name, 0) for name in sorted(names)
            if after.get(name, 0) != before.get(name, 0)}

