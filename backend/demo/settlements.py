"""Demo settlement history: visits settled and one refunded through the institution's own use cases."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from backend.extensions import db
from backend.models import Institution, Settlement
from backend.services import people, settlement_refunds, settlements
from backend.services.benefits import LOCAL_ZONE

# (order number, institution, ID number, days ago, items (code, name, yuan, in scope), use the account)
DEMO_VISITS = (
    ("DEMO-0001", "NX-T-001", "640104198506120314", 40,
     (("001102000010000", "一般诊疗费", "10.00", True), ("XJ01CAA040E001", "阿莫西林胶囊", "2990.00", True),
      ("ZF000000001", "营养补充剂", "120.00", False)), True),
    ("DEMO-0002", "NX-P-001", "640104198506120314", 12, (("XC09AAA001", "卡托普利片", "280.00", True),), True),
    ("DEMO-0003", "NX-S-001", "640104195803150014", 25, (("XA10BAA001", "二甲双胍片", "1500.00", True),), True),
    ("DEMO-0004", "NM-T-001", "150102198203050313", 30, (("XN02BEA001", "布洛芬缓释胶囊", "3000.00", True),), True),
    ("DEMO-0005", "NM-C-001", "150102195506180023", 18, (("001102000010000", "一般诊疗费", "800.00", True),), False),
    ("DEMO-0006", "NM-S-001", "150105198809230713", 9, (("XR05CBA001", "氨溴索片", "2000.00", True),), True),
)
DEMO_REFUNDS = (("NM-S-001", "DEMO-0006", "DEMO-R0001"),)  # (institution, order number, refund number)


def seed_history() -> int:
    """Settle the demo visits through the service, once per order number (safe to run again); returns how many
    were settled now. Dates are days before today, so the demo's caps show this year's use."""
    today = dt.datetime.now(LOCAL_ZONE).date()
    added = 0
    for order_no, code, id_number, days_ago, items, use_account in DEMO_VISITS:
        institution = _institution(code)
        if institution is None or people.by_id_number(id_number) is None or _settlement(institution, order_no):
            continue
        settlements.settle_direct(institution, {
            "id_number": id_number, "visit_date": (today - dt.timedelta(days=days_ago)).isoformat(),
            "med_type": "general", "use_account": use_account, "order_no": order_no,
            "items": [{"code": c, "name": n, "amount": a, "in_scope": s} for c, n, a, s in items],
        })
        added += 1
    for code, order_no, refund_no in DEMO_REFUNDS:
        institution = _institution(code)
        settlement = _settlement(institution, order_no) if institution else None
        if settlement is not None:
            settlement_refunds.refund(institution, settlement.id, {"refund_no": refund_no})  # a repeat answers the same
    return added


def _institution(code: str) -> Institution | None:
    return db.session.scalar(select(Institution).where(Institution.code == code))


def _settlement(institution: Institution, order_no: str) -> Settlement | None:
    return db.session.scalar(select(Settlement).where(
        Settlement.institution_id == institution.id, Settlement.order_no == order_no))
