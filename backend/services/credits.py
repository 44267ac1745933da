"""Credits to individual accounts (NX §5, NM §3), written set-based in SQL: a few statements per chunk of accounts.

Who gets what, from the policy version in force for the month credited:

- employed: ``contribution_base × employed_credit_ratio_bp`` every month, only once that month's contribution has
  fully arrived, i.e. ``contribution_paid_through >= period`` as imported from the core system (NX §5, NM §3);
- retired: the fixed monthly amount ``retiree_credit.base_fen × ratio_bp`` (NM §3: 3 % of the 2021 average
  pension until 2022-12, 2 % from 2023-01-01 — two policy versions, not code);
- flexible: per ``flexible_credit.timing`` — monthly like the employed with their own ratio, or (NX §5) one lump
  credit for the contribution year once the whole year has arrived (``contribution_paid_through >= YYYY-12``),
  by the first allocation of a month of that year run after it arrived (the daily job allocates the previous and
  the current month, so a year paid up in January is still credited; later than that, allocate ``YYYY-12``).

Every credit is one posting with a unique business key (``credit:<account_id>:<period>``, or
``lump_credit:<account_id>:<YYYY-01>..<YYYY-12>`` as ``backend.domain.ledger`` builds them), so running an
allocation twice credits once: postings already there are skipped (``NOT EXISTS``, and ``ON CONFLICT DO NOTHING``
against a concurrent run on PostgreSQL) and balances move only for the postings actually inserted.
Amounts use integer half-up rounding, ``(base × bp + 5000) / 10000``, the same as ``money.apply_share``.

On PostgreSQL each batch is one statement (data-modifying CTEs: postings, their two entries, the balances); the
accounts are locked in id order first, as payments lock them, so the two never deadlock. Elsewhere (SQLite, one
writer at a time) it is three statements in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import bindparam, func, select, text

from backend.domain import ledger as rules
from backend.domain.money import BASIS_POINTS
from backend.domain.people import PERIOD, REGIONS
from backend.domain.policy import Policy
from backend.errors import AppError, Unprocessable
from backend.extensions import db
from backend.models import IndividualAccount, utcnow
from backend.models.base import UtcDateTime
from backend.services import policies

BEIJING = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")  # business dates are China Standard Time
DEFAULT_CHUNK_SIZE = 100_000  # accounts per transaction: bounded lock time, progress, and restartable
MONTHS_PER_YEAR = 12
HALF = BASIS_POINTS // 2
WORK_MEM = "64MB"  # PostgreSQL, per allocation transaction
# Insured here as in sharing: arrears pause benefits (NM §13) but the months already paid are still credited.
CREDITED_STATUSES = ("active", "arrears")


def local_today() -> dt.date:
    return dt.datetime.now(BEIJING).date()


def month_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def previous_month(period: str) -> str:
    year, month = (int(part) for part in period.split("-"))
    return f"{year - 1:04d}-12" if month == 1 else f"{year:04d}-{month - 1:02d}"


def half_up_share_sql(base_sql: str, bp_sql: str) -> str:
    """SQL for ``apply_share(base, bp)`` on non-negative integers: integer division rounds half up after +5000."""
    return f"(({base_sql}) * ({bp_sql}) + {HALF}) / {BASIS_POINTS}"


@dataclass
class AllocationReport:
    period: str
    monthly_credits: int = 0
    monthly_fen: int = 0
    lump_credits: int = 0
    lump_fen: int = 0
    policy_versions: dict[str, str] = field(default_factory=dict)
    regions_without_policy: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "period": self.period, "monthly_credits": self.monthly_credits, "monthly_fen": self.monthly_fen,
            "lump_credits": self.lump_credits, "lump_fen": self.lump_fen,
            "policy_versions": dict(self.policy_versions), "regions_without_policy": list(self.regions_without_policy),
        }


@dataclass(frozen=True)
class _Batch:
    """One kind of credit for a set of regions: the SELECT of what each eligible account gets, and its kind."""

    kind: rules.PostingKind
    eligible_sql: str  # columns: account_id, person_id, amount_fen, business_key, memo
    params: dict[str, object]


def account_id_range() -> tuple[int, int] | None:
    low, high = db.session.execute(select(func.min(IndividualAccount.id), func.max(IndividualAccount.id))).one()
    return None if low is None else (low, high)


def allocate(period: str, *, today: dt.date | None = None, chunk_size: int = DEFAULT_CHUNK_SIZE,
             progress: Callable[[int], None] | None = None) -> AllocationReport:
    """Credit every eligible account for ``period`` ("YYYY-MM"); safe to run again. Commits once per chunk.

    ``progress`` is called after each chunk with the number of account ids it covered.
    """
    _check_period(period, today or local_today())
    report = AllocationReport(period)
    batches = _batches(period, report)
    id_range = account_id_range()
    if id_range is None or not batches:
        return report
    first, last = id_range
    for low in range(first, last + 1, chunk_size):
        high = min(low + chunk_size - 1, last)
        for batch in batches:
            count, amount = _credit(batch, low, high)
            if batch.kind is rules.PostingKind.MONTHLY_CREDIT:
                report.monthly_credits += count
                report.monthly_fen += amount
            else:
                report.lump_credits += count
                report.lump_fen += amount
        db.session.commit()
        if progress is not None:
            progress(high - low + 1)
    return report


def _monthly_amounts(policy: Policy) -> dict[str, int | None]:
    """Per person type, the rule's ratio (bp) or, for retirees, the fixed amount (fen); None: not monthly."""
    account = policy.account
    return {
        "employed_bp": account.employed_credit_ratio_bp,
        "flexible_bp": account.flexible_credit.ratio_bp if account.flexible_credit.timing == "monthly" else None,
        "retiree_fen": account.retiree_credit.monthly_fen,
    }


# --- what each account gets ------------------------------------------------------------------------------------
def _check_period(period: str, today: dt.date) -> None:
    if not isinstance(period, str) or not PERIOD.match(period):
        raise Unprocessable("期间格式应为 YYYY-MM", reason="period_invalid", period=str(period))
    if period > month_of(today):
        raise Unprocessable("不能为尚未到来的月份划入个人账户", reason="period_in_future", period=period)


def _policy(region: str, on_date: dt.date) -> Policy | None:
    try:
        return policies.in_force(region, on_date)
    except AppError as exc:
        if exc.reason == "no_policy_in_force":
            return None
        raise


def _batches(period: str, report: AllocationReport) -> list[_Batch]:
    year, month = (int(part) for part in period.split("-"))
    monthly_rows, lump_rows = [], []
    for region in REGIONS:
        policy = _policy(region, dt.date(year, month, 1))
        if policy is None:
            report.regions_without_policy.append(region)
            continue
        report.policy_versions[region] = policy.version
        amounts = _monthly_amounts(policy)
        monthly_rows.append({
            "region_code": region, "employed_bp": amounts["employed_bp"],
            "flexible_monthly": 0 if amounts["flexible_bp"] is None else 1,
            "flexible_bp": amounts["flexible_bp"] or 0, "retiree_fen": amounts["retiree_fen"],
        })
        flexible = policy.account.flexible_credit
        if flexible.timing == "lump_sum":
            lump_rows.append({
                "region_code": region, "flexible_bp": flexible.ratio_bp,
                "first_month": f"{year:04d}-01", "last_month": f"{year:04d}-12",
                "memo": rules.lump_credit(0, f"{year:04d}-01", f"{year:04d}-12", 1).memo,
            })
    batches = [_monthly_batch(period, monthly_rows)] if monthly_rows else []
    return batches + ([_lump_batch(lump_rows)] if lump_rows else [])


def _monthly_batch(period: str, rows: list[dict]) -> _Batch:
    table, params = _rules_table(rows, text_columns=("region_code",))
    employed = half_up_share_sql("p.contribution_base_fen", "r.employed_bp")
    flexible = half_up_share_sql("p.contribution_base_fen", "r.flexible_bp")
    sql = f"""
        SELECT a.id AS account_id, a.person_id AS person_id,
               CASE p.person_type WHEN 'retired' THEN r.retiree_fen
                                  WHEN 'flexible' THEN {flexible}
                                  ELSE {employed} END AS amount_fen,
               'credit:' || CAST(a.id AS VARCHAR(20)) || ':' || CAST(:period AS VARCHAR(7)) AS business_key,
               CAST(:memo AS VARCHAR(400)) AS memo
        FROM individual_accounts a
        JOIN people p ON p.id = a.person_id
        JOIN ({table}) r ON r.region_code = p.region_code
        WHERE a.id BETWEEN :first_id AND :last_id
          AND a.status = 'open'
          AND p.status IN {CREDITED_STATUSES}
          AND (p.person_type = 'retired'
               OR (p.person_type = 'employed' AND p.contribution_paid_through >= :period)
               OR (p.person_type = 'flexible' AND r.flexible_monthly = 1
                   AND p.contribution_paid_through >= :period))
    """
    memo = rules.monthly_credit(0, period, 1).memo
    return _Batch(rules.PostingKind.MONTHLY_CREDIT, sql, {**params, "period": period, "memo": memo})


def _lump_batch(rows: list[dict]) -> _Batch:
    table, params = _rules_table(rows, text_columns=("region_code", "first_month", "last_month", "memo"))
    amount = half_up_share_sql(f"p.contribution_base_fen * {MONTHS_PER_YEAR}", "r.flexible_bp")
    sql = f"""
        SELECT a.id AS account_id, a.person_id AS person_id, {amount} AS amount_fen,
               'lump_credit:' || CAST(a.id AS VARCHAR(20)) || ':' || r.first_month || '..' || r.last_month
                   AS business_key,
               r.memo AS memo
        FROM individual_accounts a
        JOIN people p ON p.id = a.person_id
        JOIN ({table}) r ON r.region_code = p.region_code
        WHERE a.id BETWEEN :first_id AND :last_id
          AND a.status = 'open'
          AND p.status IN {CREDITED_STATUSES}
          AND p.person_type = 'flexible'
          AND p.contribution_paid_through >= r.last_month
    """
    return _Batch(rules.PostingKind.LUMP_CREDIT, sql, params)


def _rules_table(rows: list[dict], text_columns: tuple[str, ...]) -> tuple[str, dict[str, object]]:
    """A derived table of per-region parameters (``SELECT … UNION ALL SELECT …``, valid on both databases)."""
    selects, params = [], {}
    for index, row in enumerate(rows):
        columns = []
        for name, value in row.items():
            key = f"{name}_{index}"
            params[key] = value
            sql_type = "VARCHAR(400)" if name in text_columns else "BIGINT"
            columns.append(f"CAST(:{key} AS {sql_type}) AS {name}")
        selects.append("SELECT " + ", ".join(columns))
    return " UNION ALL ".join(selects), params


# --- writing the postings ----------------------------------------------------------------------------------------
def _credit(batch: _Batch, first_id: int, last_id: int) -> tuple[int, int]:
    """Post the batch's credits for accounts ``first_id..last_id``; returns (postings, fen) actually added."""
    params = {**batch.params, "first_id": first_id, "last_id": last_id, "kind": str(batch.kind),
              "clearing": rules.CLEARING_ALLOCATION, "prefix": rules.PERSONAL_ACCOUNT_PREFIX, "now": utcnow()}
    if db.session.get_bind().dialect.name == "postgresql":
        return _credit_in_one_statement(batch, params)
    return _credit_in_steps(batch, params)


def _statement(sql: str):
    return text(sql).bindparams(bindparam("now", type_=UtcDateTime()))


def _credit_in_one_statement(batch: _Batch, params: dict[str, object]) -> tuple[int, int]:
    # The chunk's hash joins fit in memory instead of spilling to disk; LOCAL ends with the transaction.
    db.session.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
    row = db.session.execute(_statement(f"""
        WITH eligible AS MATERIALIZED (
            SELECT e.* FROM ({batch.eligible_sql}) e
            WHERE e.amount_fen > 0
              AND NOT EXISTS (SELECT 1 FROM ledger_postings lp WHERE lp.business_key = e.business_key)
        ),
        locked AS MATERIALIZED (
            SELECT a.id FROM individual_accounts a JOIN eligible e ON e.account_id = a.id
            ORDER BY a.id FOR NO KEY UPDATE OF a  -- the lock order of backend.services.locks
        ),
        new_postings AS (
            INSERT INTO ledger_postings (business_key, kind, memo, actor_person_id, occurred_at, created_at)
            SELECT e.business_key, :kind, e.memo, e.person_id, :now, :now
            FROM eligible e WHERE EXISTS (SELECT 1 FROM locked l WHERE l.id = e.account_id)
            ON CONFLICT (business_key) DO NOTHING
            RETURNING id, actor_person_id
        ),
        credited AS MATERIALIZED (
            SELECT n.id AS posting_id, e.account_id, e.amount_fen
            FROM new_postings n JOIN eligible e ON e.person_id = n.actor_person_id
        ),
        new_entries AS (
            INSERT INTO ledger_entries (posting_id, account_code, individual_account_id, side, amount_fen)
            SELECT posting_id, :clearing, NULL, 'debit', amount_fen FROM credited
            UNION ALL
            SELECT posting_id, :prefix || CAST(account_id AS VARCHAR(20)), account_id, 'credit', amount_fen
            FROM credited
        ),
        moved AS (
            UPDATE individual_accounts a SET balance_fen = a.balance_fen + c.amount_fen
            FROM credited c WHERE a.id = c.account_id
        )
        SELECT COUNT(*), COALESCE(SUM(amount_fen), 0) FROM credited
    """), params).one()
    return int(row[0]), int(row[1])


def _credit_in_steps(batch: _Batch, params: dict[str, object]) -> tuple[int, int]:
    """The same in three statements. Correct because one writer holds the database from the first one on, and
    because every committed posting has its entries: credit postings without entries are this transaction's."""
    inserted = db.session.execute(_statement(f"""
        INSERT INTO ledger_postings (business_key, kind, memo, actor_person_id, occurred_at, created_at)
        SELECT e.business_key, :kind, e.memo, e.person_id, :now, :now FROM ({batch.eligible_sql}) e
        WHERE e.amount_fen > 0
          AND NOT EXISTS (SELECT 1 FROM ledger_postings lp WHERE lp.business_key = e.business_key)
    """), params).rowcount
    if not inserted:
        return 0, 0
    entries_before = db.session.scalar(text("SELECT COALESCE(MAX(id), 0) FROM ledger_entries"))
    new_postings = f"""
        FROM ({batch.eligible_sql}) e JOIN ledger_postings lp ON lp.business_key = e.business_key
        WHERE NOT EXISTS (SELECT 1 FROM ledger_entries x WHERE x.posting_id = lp.id)
    """
    db.session.execute(text(f"""
        INSERT INTO ledger_entries (posting_id, account_code, individual_account_id, side, amount_fen)
        SELECT lp.id, :clearing, NULL, 'debit', e.amount_fen {new_postings}
        UNION ALL
        SELECT lp.id, :prefix || CAST(e.account_id AS VARCHAR(20)), e.account_id, 'credit', e.amount_fen
        {new_postings}
    """), params)
    row = db.session.execute(text("""
        SELECT COUNT(*), COALESCE(SUM(amount_fen), 0) FROM ledger_entries
        WHERE id > :entries_before AND individual_account_id IS NOT NULL
    """), {"entries_before": entries_before}).one()
    db.session.execute(text("""
        UPDATE individual_accounts SET balance_fen = balance_fen + credited.amount_fen
        FROM (SELECT individual_account_id, amount_fen FROM ledger_entries
              WHERE id > :entries_before AND individual_account_id IS NOT NULL) credited
        WHERE individual_accounts.id = credited.individual_account_id
    """), {"entries_before": entries_before})
    return int(row[0]), int(row[1])
