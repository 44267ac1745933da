"""Liveness and readiness, apart (DESIGN §4.2, §4.11).

- ``GET /livez``: the process answers. An orchestrator restarts a web process only when this fails, so it never
  looks at the database or Redis: an outage of either must not get healthy web processes killed.
- ``GET /readyz``: the database and Redis answer. A load balancer sends traffic only while this is 200.
- ``GET /healthz``: kept for existing monitors; the same checks as ``/readyz``.

None of them names the database or Redis product in use: anonymous callers learn only "ok" or "unavailable".
"""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from sqlalchemy import text

from backend.extensions import db, redis_store

log = logging.getLogger(__name__)
blueprint = Blueprint("health", __name__)


@blueprint.get("/livez")
def livez():
    return jsonify({"status": "ok"})


@blueprint.get("/readyz")
def readyz():
    return _readiness()


@blueprint.get("/healthz")
def healthz():
    return _readiness()


def _readiness():
    checks = {"database": _database_answers(), "redis": _redis_answers()}
    ready = all(checks.values())
    body = {"status": "ok" if ready else "unavailable",
            "checks": {name: "ok" if answered else "unavailable" for name, answered in checks.items()}}
    response = jsonify(body)
    response.status_code = 200 if ready else 503
    response.headers["Cache-Control"] = "no-store"
    return response


def _database_answers() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception as exc:
        log.warning("readiness: the database does not answer: %s", type(exc).__name__)
        db.session.rollback()
        return False
    finally:
        db.session.remove()


def _redis_answers() -> bool:
    try:
        return bool(redis_store.client.ping())
    except Exception as exc:
        log.warning("readiness: Redis does not answer: %s", type(exc).__name__)
        return False
