"""Shared fixtures. The suite runs on PostgreSQL and Redis when TEST_DATABASE_URL / TEST_REDIS_URL are set,
on the embedded default (SQLite file + fakeredis) otherwise. Builders are fixtures that return callables."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import Connection, Engine, text

from backend import create_app
from backend.config import TestConfig
from backend.domain.people import PersonRecord
from backend.extensions import api, db, limiter
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


@pytest.fixture(scope="session")
def shared_app(migrated_database: str) -> Flask:
    """The one app of the run (building one costs more than most tests: the OpenAPI document is generated),
    on a database holding the base state every test starts from: the shipped policy versions."""
    db.session.session_factory.class_ = SessionJoiningAConnection
    app = build_app(migrated_database)
    with app.app_context():
        load_base_state()
    _SHARED_APP_GLOBALS.update({ext: dict(vars(ext)) for ext in (api, limiter)})
    return app


# The unbound extension objects remember the newest app they were given: the shared app's state, to restore.
_SHARED_APP_GLOBALS: dict[object, dict[str, object]] = {}


def load_base_state() -> None:
    from backend.services import policies

    policies.load_shipped()


class SessionJoiningAConnection(FlaskSession):
    """Flask-SQLAlchemy picks the app's engine even for a session given a connection; this one honours it."""

    def get_bind(self, *args: object, **kwargs: object):
        return self.bind if self.bind is not None else super().get_bind(*args, **kwargs)


@pytest.fixture
def isolated_database(request: pytest.FixtureRequest, shared_app: Flask) -> Iterator[None]:
    """What a test writes is gone afterwards (see ``isolation``); a test marked ``real_commits`` commits."""
    with isolation(shared_app, real_commits=request.node.get_closest_marker("real_commits") is not None):
        yield


@contextmanager
def isolation(app: Flask, *, real_commits: bool = False) -> Iterator[None]:
    """Undo what is written inside. Normally nothing reaches the database: every session joins one connection
    whose transaction is rolled back at the end, the services' commits becoming savepoints (inside an enclosing
    isolation, a savepoint of its own). With ``real_commits`` (threads, forked workers: other connections must see
    the writes) everything is committed, and afterwards every table is emptied and the base state loaded again."""
    if real_commits:
        yield
        with app.app_context():
            db.session.remove()
            _empty_all_tables()
            load_base_state()
            db.session.remove()
        return
    with app.app_context():
        engine = db.engine
    with _joined_connection(engine):
        yield


_JOINED: list[Connection] = []  # the connection every session joins, while an isolation is open


@contextmanager
def _joined_connection(engine: Engine) -> Iterator[None]:
    if _JOINED:
        savepoint = _JOINED[-1].begin_nested()
        try:
            yield
        finally:
            if savepoint.is_active:
                savepoint.rollback()
        return
    factory = db.session.session_factory
    saved = dict(factory.kw)
    with _rolled_back_connection(engine) as connection:
        factory.configure(bind=connection, join_transaction_mode="create_savepoint")
        _JOINED.append(connection)
        try:
            yield
        finally:
            _JOINED.pop()
            factory.kw.clear()
            factory.kw.update(saved)


@contextmanager
def _rolled_back_connection(engine: Engine) -> Iterator[Connection]:
    connection = engine.connect()
    driver = connection.connection.driver_connection
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:
        # pysqlite opens and ends transactions on its own and so breaks SAVEPOINTs; take the transaction over.
        previous, driver.isolation_level = driver.isolation_level, None
    transaction = connection.begin()
    if sqlite:
        connection.exec_driver_sql("BEGIN")
    try:
        yield connection
    finally:
        transaction.rollback()
        if sqlite:
            driver.isolation_level = previous
        connection.close()


# Settings the code reads per request (not when the app is built): overriding them needs no app of its own.
READ_PER_REQUEST = {
    "UPLOAD_DIR", "STATEMENT_DIR", "MAX_CONTENT_LENGTH", "IDEMPOTENCY_LOCK_SECONDS", "PLATFORM_TIMEOUT_SECONDS",
    "WECHAT_API_BASE", "WECHAT_APPID", "WECHAT_SECRET", "WECHAT_NOTIFY_TEMPLATE_ID",
    "ALIPAY_GATEWAY", "ALIPAY_APP_ID", "ALIPAY_PRIVATE_KEY", "ALIPAY_PUBLIC_KEY", "ALIPAY_NOTIFY_TEMPLATE_ID",
}


@pytest.fixture
def make_app(shared_app: Flask, isolated_database: None, migrated_database: str) -> Iterator[Callable[..., Flask]]:
    """The run's app (its config overridden for the test where the settings are read per request); with other
    overrides, or ``own=True`` (a test adding routes), a new app on the same database and under the same isolation. Redis is flushed, rate limits forgotten and the shared app's config and extensions
    restored afterwards."""
    built: list[Flask] = []
    config, extensions = dict(shared_app.config), dict(shared_app.extensions)

    def factory(*, own: bool = False, **overrides: object) -> Flask:
        if not own and set(overrides) <= READ_PER_REQUEST:
            shared_app.config.update(overrides)
            return shared_app
        app = build_app(migrated_database, **overrides)
        built.append(app)
        return app

    yield factory
    for app in built:
        reset_app_state(app)
    shared_app.config.clear()
    shared_app.config.update(config)
    shared_app.extensions.clear()
    shared_app.extensions.update(extensions)
    with shared_app.app_context():
        shared_app.extensions["redis"].flushdb()
        limiter.reset()


def reset_app_state(app: Flask) -> None:
    """Once done with an app built apart from the shared one: flush its Redis, forget its rate limits, close its
    connections and give the unbound extension objects back to the shared app."""
    with app.app_context():
        db.session.remove()
        app.extensions["redis"].flushdb()
        limiter.reset()
        db.engine.dispose()
    for ext, state in _SHARED_APP_GLOBALS.items():
        vars(ext).clear()
        vars(ext).update(state)


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


@pytest.fixture
def staff_member(app: Flask) -> Callable[..., object]:
    """Create (or update) a staff account with the password demo-<username> and the given roles."""
    from backend.services import staff as staff_service

    default_roles = {"reviewer1": ["first_reviewer"], "reviewer2": ["second_reviewer"], "leader1": ["leader"],
                     "agent1": ["agent"], "admin1": ["admin"]}

    def create(username: str, roles: list[str] | None = None):
        member = staff_service.upsert(username, username, f"demo-{username}", roles or default_roles[username])
        db.session.commit()
        return member

    return create
