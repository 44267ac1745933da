"""Settlement requests as they arrive: checked completely, before anything is read or written.

Amounts arrive as yuan and leave this module as integer fen. Field names are the national platform's 2207 names
(DESIGN §2).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation

from backend.domain import benefits as engine
from backend.errors import Unprocessable
from backend.services import identity

MAX_LINES = 500
MAX_LINE_FEN = 9_999_999_999  # 99,999,999.99 yuan: far above any outpatient bill, far below the column's range
REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,63}$")  # order, refund and invoice numbers

# --- requests ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FeeLine:
    code: str
    name: str
    amount: int  # fen
    in_scope: bool
    account_eligible: bool = True
    use: str | None = None  # public_health | fitness | wellness …: judged against the policy's excluded uses


@dataclass(frozen=True)
class SettlementRequest:
    id_number: str
    visit_date: dt.date
    med_type: str
    lines: tuple[FeeLine, ...]
    use_account: bool
    order_no: str | None = None
    invoice_no: str | None = None
    disease_code: str | None = None

    def fingerprint(self) -> str:
        """The same visit posted twice has the same fingerprint, however its amounts were written."""
        data = {**asdict(self), "visit_date": self.visit_date.isoformat()}
        # A line without a use hashes as before the field existed, so earlier orders still repeat exactly.
        data["lines"] = [{k: v for k, v in line.items() if k != "use" or v is not None} for line in data["lines"]]
        return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@dataclass(frozen=True)
class ManualVisit:
    """A visit paid by the person and claimed manually (零星报销, NX §23); lines are (name, fen, in_scope)."""

    visit_date: dt.date
    hospital_level: str
    institution_name: str
    cross_province: bool
    med_type: str
    lines: tuple[tuple[str, int, bool], ...]




@dataclass(frozen=True)
class RefundRequest:
    refund_no: str
    line_nos: tuple[int, ...] | None  # None: everything not refunded yet

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()


def refuse(message: str, reason: str, **details: object) -> Unprocessable:
    return Unprocessable(message, reason=reason, **details)


SIGNED_AMOUNT_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def parse_yuan(value: object, field: str) -> int:
    """A yuan amount (number or string, at most two decimals, not negative) as fen."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise refuse("金额应为数字", "invalid_amount", field=field)
    if isinstance(value, str) and not SIGNED_AMOUNT_TEXT.fullmatch(value):  # no blanks, exponents, full-width digits
        raise refuse("金额应为数字，最多两位小数", "invalid_amount", field=field)
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise refuse("金额应为数字", "invalid_amount", field=field) from None
    if not amount.is_finite():
        raise refuse("金额应为数字", "invalid_amount", field=field)
    if amount < 0:
        raise refuse("金额不能为负数", "negative_amount", field=field)
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise refuse("金额最多保留两位小数", "invalid_amount", field=field)
    if fen > MAX_LINE_FEN:
        raise refuse("金额超出允许范围", "amount_too_large", field=field)
    return int(fen)


def parse_date(value: object, field: str, *, today: dt.date) -> dt.date:
    try:
        day = dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        day = None
    if day is None:
        raise refuse("日期格式应为 YYYY-MM-DD", "invalid_date", field=field)
    if day > today:
        raise refuse("日期不能晚于今天", "date_in_future", field=field)
    return day


def reference(body: Mapping, key: str, *, required: bool = False) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not REFERENCE.match(value):
        raise refuse(f"{key} 应为 1–64 位字母、数字或 _ . - /", f"invalid_{key}", field=key)
    return value


def _text(item: Mapping, key: str, field: str, max_length: int) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise refuse(f"费用明细的 {key} 应为 1–{max_length} 个字符", "invalid_line", field=field)
    return value.strip()


def _flag(item: Mapping, key: str, field: str, default: bool | None = None) -> bool:
    value = item.get(key, default)
    if not isinstance(value, bool):
        raise refuse(f"{key} 应为 true 或 false", "invalid_line", field=field)
    return value


USE_CODE = re.compile(r"^[a-z][a-z_]{0,31}$")


def _use(item: Mapping, field: str) -> str | None:
    value = item.get("use")
    if value is None:
        return None
    if not isinstance(value, str) or not USE_CODE.match(value):
        raise refuse("use 应为费用用途代码，如 public_health、fitness、wellness", "invalid_line", field=field)
    return value


def parse_lines(items: object) -> tuple[FeeLine, ...]:
    if not isinstance(items, list) or not items:
        raise refuse("至少需要一条费用明细", "no_lines", field="items")
    if len(items) > MAX_LINES:
        raise refuse(f"费用明细最多 {MAX_LINES} 条", "too_many_lines", field="items")
    lines = []
    for index, item in enumerate(items):
        field = f"items[{index}]"
        if not isinstance(item, Mapping):
            raise refuse("费用明细格式不正确", "invalid_line", field=field)
        lines.append(FeeLine(
            code=_text(item, "code", f"{field}.code", 64),
            name=_text(item, "name", f"{field}.name", 200),
            amount=parse_yuan(item.get("amount"), f"{field}.amount"),
            in_scope=_flag(item, "in_scope", f"{field}.in_scope"),
            account_eligible=_flag(item, "account_eligible", f"{field}.account_eligible", default=True),
            use=_use(item, f"{field}.use"),
        ))
    return tuple(lines)


def parse_id_number(value: object) -> str:
    return identity.checked_id_number(value, field="id_number")


def parse_request(body: Mapping, *, today: dt.date) -> SettlementRequest:
    """Check a settlement request completely before anything is read or written."""
    id_number = parse_id_number(body.get("id_number"))
    med_type = body.get("med_type")
    if med_type not in engine.MED_TYPES:
        raise refuse("医疗类别应为 general 或 chronic", "unknown_med_type", field="med_type")
    disease_code = body.get("disease_code")
    if disease_code is not None and (not isinstance(disease_code, str) or not 0 < len(disease_code) <= 32):
        raise refuse("病种编码不正确", "invalid_disease_code", field="disease_code")
    use_account = body.get("use_account", False)
    if not isinstance(use_account, bool):
        raise refuse("use_account 应为 true 或 false", "invalid_use_account", field="use_account")
    return SettlementRequest(
        id_number=id_number,
        visit_date=parse_date(body.get("visit_date"), "visit_date", today=today),
        med_type=med_type,
        lines=parse_lines(body.get("items")),
        use_account=use_account,
        order_no=reference(body, "order_no"),
        invoice_no=reference(body, "invoice_no"),
        disease_code=disease_code,
    )


def parse_refund(body: Mapping) -> RefundRequest:
    refund_no = reference(body, "refund_no", required=True)
    line_nos = body.get("line_nos")
    if line_nos is None:
        return RefundRequest(refund_no, None)
    if (not isinstance(line_nos, list) or not line_nos
            or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in line_nos)
            or len(set(line_nos)) != len(line_nos)):
        raise refuse("line_nos 应为不重复的明细序号（从 1 开始）", "invalid_line_nos", field="line_nos")
    return RefundRequest(refund_no, tuple(sorted(line_nos)))

