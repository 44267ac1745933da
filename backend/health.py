"""GET /healthz: which database and Redis are in use, and whether they answer."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from backend.extensions import db, redis_store

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz():
    database = {"backend": db.engine.dialect.name, "ok": _database_answers()}
    redis = {"backend": redis_store.backend, "ok": _redis_answers()}
    healthy = database["ok"] and redis["ok"]
    body = {"status": "ok" if healthy else "unavailable", "database": database, "redis": redis}
    return jsonify(body), 200 if healthy else 503


def _database_answers() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:
        db.session.rollback()
        return False
    finally:
        db.session.remove()


def _redis_answers() -> bool:
    try:
        return bool(redis_store.client.ping())
    except Exception:
        return False
