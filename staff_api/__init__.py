"""Blueprints (and, later, the server-rendered console) for agency staff."""

from flask import Flask


def blueprints(app: Flask) -> list:
    from staff_api import auth

    return [auth.blp]
