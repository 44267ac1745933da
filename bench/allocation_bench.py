"""Benchmarks of the individual-account ledger (issue 4), each against a baseline measured in the same run.

1. Monthly allocation of ``BENCH_ALLOCATION_ACCOUNTS`` accounts (default 1,000,000) on PostgreSQL —
   ``credits.allocate`` (postings, their two entries each, the balances, eligibility from the policy in force) —
   against a bare ``INSERT … SELECT`` of the same number of postings into the same table (target: ratio <= 2),
   and, for context, against bare ``INSERT … SELECT``s of the same postings and their entries (the rows the
   allocation writes, without its eligibility rules, idempotency guard, locks and balance updates).
2. Account payments per second on the settlement path: ``accounts.pay_from_accounts`` and a commit per payment,
   against one guarded ``UPDATE … WHERE balance >= amount`` and a commit per payment. No target in the issue.

The database is a scratch one created and dropped here: a new database on the PostgreSQL server of
``BENCH_DATABASE_URL`` (or ``TEST_DATABASE_URL``); without one, a SQLite file with at most
``SQLITE_ACCOUNTS`` accounts, and the allocation target is reported as not judged ("n/a").
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.harness import Row

DEFAULT_ACCOUNTS = 1_000_000
SQLITE_ACCOUNTS = 50_000
DEFAULT_PAYMENTS = 2_000
PAYMENT_FEN = 100
TARGET_RATIO = 2.0
PERIOD = "2026-10"
# The baselines: the same rows written by bare INSERT … SELECT, without eligibility, idempotency or balances.
BARE_POSTINGS = """(business_key, kind, memo, actor_person_id, occurred_at, created_at)
    SELECT 'credit:' || CAST(a.id AS VARCHAR(20)) || ':' || :period, 'monthly_credit', :memo, a.person_id,
           CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
    FROM individual_accounts a"""
BARE_PARAMS = {"period": PERIOD, "memo": f"{PERIOD} 个人账户划入"}
BARE_ENTRIES = """
    INSERT INTO ledger_entries (posting_id, account_code, individual_account_id, side, amount_fen)
    SELECT lp.id, 'personal_clearing:allocation', NULL, 'debit', 1 FROM ledger_postings lp
    UNION ALL
    SELECT lp.id, 'personal:' || CAST(a.id AS VARCHAR(20)), a.id, 'credit', 1
    FROM ledger_postings lp JOIN individual_accounts a ON a.person_id = lp.actor_person_id"""


def rows() -> list[Row]:
    accounts = int(os.environ.get("BENCH_ALLOCATION_ACCOUNTS", DEFAULT_ACCOUNTS))
    payments = int(os.environ.get("BENCH_PAYMENTS", DEFAULT_PAYMENTS))
    server_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    with _scratch_database(server_url) as url:
        on_postgres = url.startswith("postgresql")
        app = _app(url)
        with app.app_context():
            if not on_postgres:
                accounts = min(accounts, SQLITE_ACCOUNTS)
            allocation = _allocation(accounts)
            paying = _payments(payments)
            from backend.extensions import db

            db.session.remove()
            db.engine.dispose()
    where = "PostgreSQL" if on_postgres else "SQLite"
    return [
        Row(name=f"allocation of {accounts:,} accounts ({where})", value=allocation["seconds"], unit="s",
            baseline_name="bare INSERT…SELECT postings", baseline_value=allocation["baseline_seconds"],
            target=f"ratio <= {TARGET_RATIO:g}",
            met=(allocation["seconds"] / allocation["baseline_seconds"] <= TARGET_RATIO) if on_postgres else None),
        Row(name=f"allocation of {accounts:,} accounts ({where})", value=allocation["seconds"], unit="s",
            baseline_name="bare INSERT…SELECT postings+entries",
            baseline_value=allocation["journal_baseline_seconds"], target="reported (context)", met=None),
        Row(name=f"account payments, settlement path ({where})", value=paying["per_second"], unit="/s",
            baseline_name="guarded UPDATE + commit", baseline_value=paying["baseline_per_second"],
            target="reported (no target)", met=None),
    ]


# --- allocation --------------------------------------------------------------------------------------------------
def _allocation(n_accounts: int) -> dict[str, float]:
    from backend.extensions import db
    from backend.services import credits

    _insert_people_and_accounts(n_accounts)
    postings_only = _timed(lambda: db.session.execute(text(f"INSERT INTO ledger_postings {BARE_POSTINGS}"),
                                                       BARE_PARAMS))
    _empty_journal()

    def journal_rows() -> None:
        db.session.execute(text(f"INSERT INTO ledger_postings {BARE_POSTINGS}"), BARE_PARAMS)
        db.session.execute(text(BARE_ENTRIES))

    with_entries = _timed(journal_rows)
    _empty_journal()
    report = None

    def allocate() -> None:
        nonlocal report
        report = credits.allocate(PERIOD)

    seconds = _timed(allocate)
    if report.monthly_credits != n_accounts:
        raise RuntimeError(f"allocation credited {report.monthly_credits} of {n_accounts} accounts")
    return {"seconds": seconds, "baseline_seconds": postings_only, "journal_baseline_seconds": with_entries}


def _insert_people_and_accounts(n_accounts: int) -> None:
    """People in both regions: four in five employed (paid up), one in five retired; one account each."""
    from backend.extensions import db

    numbers = ("WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < :n) SELECT i FROM g"
               if db.engine.dialect.name == "sqlite" else "SELECT generate_series(1, :n) AS i")
    db.session.execute(text(f"""
        INSERT INTO people (id_number, name, region_code, person_type, status, contribution_base_fen,
                            monthly_credit_fen, contribution_paid_through, living_out_of_province,
                            created_at, updated_at)
        SELECT CAST(100000000000000000 + i AS VARCHAR(18)), 'bench',
               CASE WHEN i % 3 = 0 THEN 'nm' ELSE 'nx' END,
               CASE WHEN i % 5 = 0 THEN 'retired' ELSE 'employed' END,
               'active', 300000 + (i % 1000) * 1000, 0, :period, false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
        FROM ({numbers}) numbers
    """), {"n": n_accounts, "period": PERIOD})
    db.session.execute(text("""
        INSERT INTO individual_accounts (person_id, balance_fen, status, opened_at)
        SELECT id, 0, 'open', CURRENT_TIMESTAMP FROM people ORDER BY id
    """))
    db.session.commit()
    _analyze()


def _empty_journal() -> None:
    from backend.extensions import db

    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("TRUNCATE ledger_entries, ledger_postings"))
    else:
        db.session.execute(text("DELETE FROM ledger_entries"))
        db.session.execute(text("DELETE FROM ledger_postings"))
    db.session.commit()
    _analyze()


def _analyze() -> None:
    from backend.extensions import db

    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE" if db.engine.dialect.name == "postgresql" else "ANALYZE"))


# --- payments ----------------------------------------------------------------------------------------------------
def _payments(n_payments: int) -> dict[str, float]:
    from backend.extensions import db
    from backend.models import IndividualAccount, Settlement
    from backend.models.settlements import AMOUNT_COLUMNS
    from backend.services import accounts

    first_account = db.session.scalar(text("SELECT MIN(id) FROM individual_accounts"))
    payer_account = db.session.get(IndividualAccount, first_account)
    db.session.execute(text("UPDATE individual_accounts SET balance_fen = 0 WHERE id = :id"), {"id": payer_account.id})
    _fund(payer_account.id, 2 * n_payments * PAYMENT_FEN)
    ids = [f"BENCH{i:08d}" for i in range(n_payments)]
    db.session.execute(Settlement.__table__.insert(), [dict(
        id=setl_id, source="direct", status="settled", person_id=payer_account.person_id, visit_date=_today(),
        benefit_year=_today().year, med_type="general", in_region=True, policy_version_code="bench",
        reasons=[], explanation=[], clearing_month=PERIOD, settled_at=_now(),
        **{column: 0 for column in AMOUNT_COLUMNS}) for setl_id in ids])
    db.session.commit()

    def settlement_path() -> None:
        for setl_id in ids:
            accounts.pay_from_accounts(payer_account.person_id, PAYMENT_FEN, setl_id)
            db.session.commit()

    def guarded_update() -> None:
        for _ in ids:
            db.session.execute(text(
                "UPDATE individual_accounts SET balance_fen = balance_fen - :amount "
                "WHERE id = :id AND balance_fen >= :amount"), {"amount": PAYMENT_FEN, "id": payer_account.id})
            db.session.commit()

    seconds = _timed(settlement_path)
    baseline = _timed(guarded_update)
    return {"per_second": n_payments / seconds, "baseline_per_second": n_payments / baseline}


def _fund(account_id: int, amount: int) -> None:
    from backend.domain import ledger as rules
    from backend.services import ledger

    ledger.post(rules.opening_balance(account_id, amount))


def _today():
    import datetime as dt

    return dt.date(2026, 10, 15)


def _now():
    from backend.models import utcnow

    return utcnow()


# --- plumbing ----------------------------------------------------------------------------------------------------
def _timed(work) -> float:
    from backend.extensions import db

    started = time.perf_counter()
    work()
    db.session.commit()
    return time.perf_counter() - started


def _app(url: str):
    from flask_migrate import upgrade

    from backend import create_app
    from backend.config import Config
    from backend.extensions import db
    from backend.services import policies

    config = Config()
    config.SQLALCHEMY_DATABASE_URI = url
    config.LOG_LEVEL = "WARNING"
    app = create_app(config)
    with app.app_context():
        upgrade(revision="heads")
        policies.load_shipped()
        db.session.remove()
    return app


@contextlib.contextmanager
def _scratch_database(server_url: str | None) -> Iterator[str]:
    if not server_url or not server_url.startswith("postgresql"):
        with tempfile.TemporaryDirectory() as directory:
            yield f"sqlite:///{Path(directory) / 'bench.sqlite3'}"
        return
    url = make_url(server_url)
    name = f"medins_bench_{secrets.token_hex(4)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
