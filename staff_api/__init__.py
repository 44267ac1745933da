"""Blueprints (and, later, the server-rendered console) for agency staff."""

from flask import Flask


def blueprints(app: Flask) -> list:
    from staff_api import auth

    from staff_api import applications

    from staff_api import clearing, policies

    from staff_api import counter

    from staff_api import escalations

    return [auth.blp, applications.blp, applications.chronic_blp, policies.blp, clearing.blp, counter.blp,
            escalations.blp]
