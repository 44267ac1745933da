"""Blueprints for designated hospitals and pharmacies; every request is signed (DESIGN §4.6)."""

from flask import Flask


def blueprints(app: Flask) -> list:
    from institution_api import admissions, bench, chronic, eligibility, ping, settlements

    return [ping.blp, settlements.blp, eligibility.blp, admissions.blp, chronic.blp, *bench.blueprints()]
