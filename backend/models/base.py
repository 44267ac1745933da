"""Declarative base, naming convention (Alembic needs named constraints on SQLite), shared column types."""

from __future__ import annotations

import datetime as dt
import secrets
import time

from sqlalchemy import JSON, BigInteger, DateTime, Integer, MetaData, Text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from backend import secret_box

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Integer fen; BIGINT on PostgreSQL (a fund's totals exceed 2^31 fen), INTEGER on SQLite (its rowid type).
Fen = BigInteger().with_variant(Integer(), "sqlite")
# JSON documents: JSONB on PostgreSQL for indexing later, JSON text on SQLite.
JsonDocument = JSON().with_variant(postgresql.JSONB(), "postgresql").with_variant(sqlite.JSON(), "sqlite")


class UtcDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both databases (SQLite keeps no zone, so it is restored on read)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: use utcnow()")
        value = value.astimezone(dt.timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_public_id(prefix: str) -> str:
    """Time-ordered, unguessable id for objects shown to callers (e.g. "ST01JD3K…"): 48-bit ms + 60 random bits."""
    value = (int(time.time() * 1000) << 60) | secrets.randbits(60)
    chars = []
    for _ in range(22):
        value, index = divmod(value, 32)
        chars.append(_CROCKFORD[index])
    return prefix + "".join(reversed(chars))


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class EncryptedText(TypeDecorator):
    """Text stored encrypted (backend.secret_box): a database dump or a read replica does not reveal it."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect):
        return None if value is None else secret_box.current().encrypt(value.encode()).decode()

    def process_result_value(self, value: str | None, dialect):
        return None if value is None else secret_box.current().decrypt(value.encode()).decode()
