"""Blueprints for agency staff: the JSON staff API (flask-smorest) and the server-rendered console (staff_api.console)."""

from flask import Flask


def blueprints(app: Flask) -> list:
    from staff_api import (
        applications, audit_log, auth, clearing, counter, escalations, monitoring, people, policies, users,
    )

    return [auth.blp, applications.blp, applications.chronic_blp, policies.blp, clearing.blp, counter.blp,
            escalations.blp, people.blp, users.blp, audit_log.blp, monitoring.blp]
