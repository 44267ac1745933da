"""Benchmark of the settlement endpoint on PostgreSQL under gunicorn, against a one-row endpoint on the same stack.

Both endpoints are signed institution requests served by the same gunicorn (preloaded app, the README's settings)
on the same PostgreSQL and Redis: the baseline (``/api/v1/institution/bench/one-row``, registered only when
BENCH_ENDPOINTS=1) verifies the signature, parses the same body and writes one row; the settlement endpoint does the
real work (lock the person, read the accumulators, run the engine, write the settlement, its lines, the account
posting and the accumulators). Clients are separate processes on loopback, a bounded number of requests each.

Targets (issue 3): settlement throughput ≥ 0.5 × the one-row endpoint's; its p99 latency is reported beside the
baseline's (the same ratio read the other way: p99 ≤ 2 × the baseline's). The engine alone is
``bench/engine_bench.py``. Uses its own database (BENCH_DATABASE_URL, default ``bench_benefits``), recreated on
every run; rows report ``met=None`` when PostgreSQL or Redis is not reachable.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.harness import Row

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_benefits")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3")
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "800"))  # per endpoint, split over the clients
WARMUP = 40
PEOPLE = 200
WORKERS, THREADS = os.environ.get("BENCH_GUNICORN_WORKERS", "2"), os.environ.get("BENCH_GUNICORN_THREADS", "4")
INSTITUTION = "NM-T-001"
SECRET = f"demo-secret-{INSTITUTION}"
SETTLE_PATH = "/api/v1/institution/settlements"
ONE_ROW_PATH = "/api/v1/institution/bench/one-row"
TARGET_RATIO = 0.5


def rows() -> list[Row]:
    try:
        id_numbers = _prepare_database()
    except Exception as exc:  # no PostgreSQL/Redis here: say so instead of failing the whole bench run
        print(f"settlement bench skipped: {type(exc).__name__}: {exc}", file=sys.stderr)
        return [_unavailable("settlement endpoint throughput", "/s"), _unavailable("settlement endpoint p99", "ms")]
    with _gunicorn() as port:
        for path in (ONE_ROW_PATH, SETTLE_PATH):
            _load(port, path, id_numbers, f"warm-{len(path)}", WARMUP, use_account=True)
        baseline = _load(port, ONE_ROW_PATH, id_numbers, "base", REQUESTS, use_account=True)
        by_account = _load(port, SETTLE_PATH, id_numbers, "account", REQUESTS, use_account=True)
        in_cash = _load(port, SETTLE_PATH, id_numbers, "cash", REQUESTS, use_account=False)
    found = []
    for label, settle in (("own account pays", by_account), ("paid in cash", in_cash)):
        found += [
            Row(name=f"settlement, {label} ({CLIENTS} clients)", value=settle["throughput"], unit="/s",
                baseline_name="signed one-row endpoint", baseline_value=baseline["throughput"],
                target=f"ratio >= {TARGET_RATIO}", met=settle["throughput"] / baseline["throughput"] >= TARGET_RATIO),
            Row(name=f"settlement, {label}: p99", value=settle["p99_ms"], unit="ms",
                baseline_name="one-row endpoint p99", baseline_value=baseline["p99_ms"],
                target=f"ratio <= {1 / TARGET_RATIO:g}", met=settle["p99_ms"] <= baseline["p99_ms"] / TARGET_RATIO),
        ]
    return found


def _unavailable(name: str, unit: str) -> Row:
    return Row(name=name, value=float("nan"), unit=unit, baseline_name="PostgreSQL not reachable",
               baseline_value=float("nan"), target=f"ratio >= {TARGET_RATIO}", met=None)


# --- the database ---------------------------------------------------------------------------------------------

def _prepare_database() -> list[str]:
    """A fresh schema with the policies, the demo institutions and PEOPLE insured people with some balance."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from backend import create_app
    from backend.config import TestConfig
    from backend.domain.people import PersonRecord
    from backend.extensions import db
    from backend.models import Institution
    from backend import demo
    from backend.services import people, policies
    from tests.conftest import valid_id_number

    app = create_app(TestConfig(database_url=DATABASE_URL, redis_url=REDIS_URL))
    with app.app_context():
        app.extensions["redis"].ping()
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        upgrade(revision="heads")
        policies.load_shipped()
        for code, name, kind, level, grade, region, certifier in demo.DEMO_INSTITUTIONS:
            db.session.add(Institution(code=code, name=name, kind=kind, level=level, grade=grade, region_code=region,
                                       secret=demo.demo_secret(code), is_chronic_certifier=certifier))
        id_numbers = []
        for serial in range(PEOPLE):
            id_number = valid_id_number(f"150102{1950 + serial % 50}{serial % 12 + 1:02d}{serial % 28 + 1:02d}"
                                        f"{serial:03d}")
            people.upsert(PersonRecord(
                id_number=id_number, name=f"压测{serial}", region="nm", person_type="employed", status="active",
                contribution_base_fen=600_000, monthly_credit_fen=0, opening_balance_fen=500_000))
            id_numbers.append(id_number)
        db.session.commit()
        db.engine.dispose()
    return id_numbers


# --- the server -------------------------------------------------------------------------------------------------

class _gunicorn:
    """gunicorn with the project's config on a free loopback port; stopped (by its own pid) on exit."""

    def __enter__(self) -> int:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        env = {**os.environ, "DATABASE_URL": DATABASE_URL, "REDIS_URL": REDIS_URL, "SECRET_KEY": "bench-only",
               "BENCH_ENDPOINTS": "1", "GUNICORN_BIND": f"127.0.0.1:{self.port}", "GUNICORN_WORKERS": WORKERS,
               "GUNICORN_THREADS": THREADS, "LOG_LEVEL": "WARNING"}
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen([sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py",
                                         "wsgi:app"], cwd=PROJECT_ROOT, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn exited: " + self._log_tail())
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    return self.port
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer /healthz: " + self._log_tail())

    def __exit__(self, *exc_info) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()

    def _log_tail(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-2000:]


# --- the clients ------------------------------------------------------------------------------------------------

def _load(port: int, path: str, id_numbers: list[str], run: str, requests: int, *, use_account: bool) -> dict:
    """``requests`` requests from CLIENTS processes at once; throughput over the wall time, p99 of the latencies.
    Each client settles for its own people, so clients do not wait on each other's person locks."""
    per_client = max(1, requests // CLIENTS)
    jobs = [(port, path, id_numbers[i::CLIENTS], f"{run}-{i}", per_client, use_account) for i in range(CLIENTS)]
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(CLIENTS) as pool:
        results = pool.starmap(_client, jobs)
    elapsed = time.perf_counter() - started
    latencies = sorted(latency for latencies, _ in results for latency in latencies)
    failures = sum(failed for _, failed in results)
    if failures:
        raise RuntimeError(f"{failures} of {len(latencies)} requests to {path} failed")
    return {"throughput": len(latencies) / elapsed, "p99_ms": 1000 * _percentile(latencies, 0.99),
            "median_ms": 1000 * statistics.median(latencies)}


def _client(port: int, path: str, id_numbers: list[str], name: str, count: int,
            use_account: bool) -> tuple[list[float], int]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies, failed = [], 0
    for number in range(count):
        body = json.dumps({
            "id_number": id_numbers[number % len(id_numbers)], "visit_date": "2024-05-10", "med_type": "general",
            "items": [{"code": "XN02BEA001", "name": "布洛芬缓释胶囊", "amount": "120.00", "in_scope": True},
                      {"code": "001102000010000", "name": "一般诊疗费", "amount": "10.00", "in_scope": True},
                      {"code": "ZF000000001", "name": "营养补充剂", "amount": "15.50", "in_scope": False}],
            "use_account": use_account, "order_no": f"{name}-{number}",
        }, ensure_ascii=False).encode()
        stamp = str(int(time.time()))
        signature = hmac.new(SECRET.encode(), stamp.encode() + b"\n" + body, hashlib.sha256).hexdigest()
        started = time.perf_counter()
        connection.request("POST", path, body=body, headers={
            "Content-Type": "application/json", "X-Institution-Code": INSTITUTION, "X-Timestamp": stamp,
            "X-Signature": signature})
        response = connection.getresponse()
        response.read()
        latencies.append(time.perf_counter() - started)
        failed += response.status not in (200, 201)
    connection.close()
    return latencies, failed


def _percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]
