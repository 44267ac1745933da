"""Shared fixtures. The suite runs on PostgreSQL and Redis when TEST_DATABASE_URL / TEST_REDIS_URL are set,
on the embedded default (SQLite file + fakeredis) otherwise. Builders are fixtures that return callables."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from backend import create_app
from backend.config import TestConfig
from backend.domain.people import PersonRecord
from backend.extensions import db, limiter
from backend.models import Base
from backend.web.signature import sign

POSTGRES = bool(os.environ.get("TEST_DATABASE_URL"))
REAL_REDIS = bool(os.environ.get("TEST_REDIS_URL"))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


def build_app(database_url: str, **overrides: object) -> Flask:
    config = TestConfig(database_url=database_url)
    for key, value in overrides.items():
        setattr(config, key, value)
    return create_app(config)


@pytest.fixture(scope="session")
def migrated_database(database_url: str) -> str:
    """A database upgraded to the newest migration, once per run (a fresh schema on PostgreSQL)."""
    from flask_migrate import upgrade

    app = build_app(database_url)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        upgrade(revision="heads")
        db.engine.dispose()
    return database_url


@pytest.fixture
def make_app(migrated_database: str) -> Iterator[Callable[..., Flask]]:
    """Build apps on the migrated database; every table is emptied afterwards and Redis flushed."""
    built: list[Flask] = []

    def factory(**overrides: object) -> Flask:
        app = build_app(migrated_database, **overrides)
        with app.app_context():
            from backend.services import policies

            policies.load_shipped()
        built.append(app)
        return app

    yield factory
    for app in built:
        reset_app_state(app)


def reset_app_state(app: Flask) -> None:
    """Empty every table and Redis, forget rate limits and close the app's connections."""
    with app.app_context():
        db.session.remove()
        _empty_all_tables()
        app.extensions["redis"].flushdb()
        limiter.reset()
        db.engine.dispose()


def _empty_all_tables() -> None:
    # DELETE, not TRUNCATE: on tables holding a handful of rows it is several times faster on PostgreSQL.
    with db.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Iterator[Flask]:
    app = make_app()
    with app.app_context():
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make_person(app: Flask) -> Callable[..., object]:
    """Insert an insured person with an open individual account; returns the Person."""
    counter = iter(range(1, 10_000))
    return lambda **fields: new_person(next(counter), **fields)


def new_person(serial: int, **fields: object):
    """Insert (or update) the person numbered ``serial`` with an open account; fields override the defaults."""
    from backend.services import people

    record = PersonRecord(**{
        "id_number": valid_id_number(f"640104{1950 + serial % 50}{serial % 12 + 1:02d}{serial % 28 + 1:02d}"
                                     f"{serial % 1000:03d}"),
        "name": f"测试{serial}",
        "region": "nx",
        "person_type": "employed",
        "status": "active",
        "contribution_base_fen": 600_000,
        "monthly_credit_fen": 0,
        **fields,
    })
    people.upsert(record)
    db.session.commit()
    return people.by_id_number(record.id_number)


def valid_id_number(first_17: str) -> str:
    from stdnum.cn import ric

    return first_17 + ric.calc_check_digit(first_17 + "0")


@pytest.fixture
def person_headers(client: FlaskClient) -> Callable[[object], dict[str, str]]:
    def headers(person) -> dict[str, str]:
        response = client.post("/api/v1/auth/dev-login", json={"id_number": person.id_number})
        assert response.status_code == 200, response.json
        return {"Authorization": f"Bearer {response.json['access_token']}"}

    return headers


@pytest.fixture
def demo_data(app: Flask) -> None:
    from backend import demo

    demo.seed()


@pytest.fixture
def demo_parties(app: Flask) -> None:
    """The demo institutions and staff without the demo people (faster than demo_data)."""
    from backend import demo

    demo.seed_parties()


@pytest.fixture
def staff_headers(client: FlaskClient, demo_parties: None) -> Callable[[str], dict[str, str]]:
    def headers(username: str) -> dict[str, str]:
        response = client.post("/api/v1/staff/auth/login",
                               json={"username": username, "password": f"demo-{username}"})
        assert response.status_code == 200, response.json
        return {"Authorization": f"Bearer {response.json['access_token']}"}

    return headers


def signed_request(client: FlaskClient, path: str, body: object, code: str = "NX-T-001", *,
                   timestamp: int | None = None, secret: str | None = None, headers: dict[str, str] | None = None):
    """POST as an institution with a correct signature (timestamp and secret overridable)."""
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = sign(secret or f"demo-secret-{code}", stamp, raw)
    return client.post(path, data=raw, content_type="application/json", headers={
        "X-Institution-Code": code, "X-Timestamp": stamp, "X-Signature": signature, **(headers or {}),
    })


@pytest.fixture
def signed_post(client: FlaskClient, demo_parties: None) -> Callable[..., object]:
    """signed_request bound to this test's client, with the demo institutions in place."""

    def post(path: str, body: object, code: str = "NX-T-001", **kwargs: object):
        return signed_request(client, path, body, code, **kwargs)

    return post


def run_together(app, *calls):
    """Run the calls in threads, each in its own app context (its own session and connection), started at once."""
    start = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(index, call):
        with app.app_context():
            start.wait()
            try:
                results[index] = call()
            except Exception as exc:  # reported to the test, not lost in the thread
                results[index] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results
