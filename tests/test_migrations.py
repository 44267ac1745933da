"""Migrations run up (and down and up again) on the database in use, and leave no drift from the models."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from backend.extensions import db
from backend.models import Base
from backend.services import policies
from tests.conftest import build_app


@pytest.fixture
def scratch_database_url(database_url: str, tmp_path) -> Iterator[str]:
    """An empty database of the same kind as the suite's: a new SQLite file, or a new PostgreSQL database."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'scratch.sqlite3'}"
        return
    name = f"medins_migrations_{secrets.token_hex(4)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _drift() -> list:
    with db.engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)


def test_upgrading_an_empty_database_to_head_matches_the_models(scratch_database_url):
    app = build_app(scratch_database_url)
    with app.app_context():
        upgrade(revision="heads")
        assert _drift() == []
        tables = set(inspect(db.engine).get_table_names())
        assert {"people", "individual_accounts", "ledger_entries", "settlements", "outbox_messages"} <= tables
        db.engine.dispose()


def test_downgrading_to_base_and_upgrading_again_works(scratch_database_url):
    app = build_app(scratch_database_url)
    with app.app_context():
        upgrade(revision="heads")
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade(revision="heads")
        assert _drift() == []
        db.engine.dispose()


def test_init_db_creates_the_schema_and_loads_the_policy_versions_once(scratch_database_url):
    app = build_app(scratch_database_url)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["init-db"])
    second = runner.invoke(args=["init-db"])
    assert first.exit_code == 0, first.output
    assert f"{len(policies.shipped_documents())} policy version(s) added" in first.output
    assert "0 policy version(s) added" in second.output
    with app.app_context():
        db.engine.dispose()
