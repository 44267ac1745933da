"""Blueprints for designated hospitals and pharmacies; every request is signed (DESIGN §4.6)."""

from flask import Flask


def blueprints(app: Flask) -> list:
    from institution_api import ping

    return [ping.blp]
