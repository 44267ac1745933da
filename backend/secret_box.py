"""Encryption at rest of the secrets this service must be able to read back (institutions' HMAC keys).

Fernet (AES-128-CBC + HMAC-SHA256) with the keys in SECRETS_ENCRYPTION_KEY: comma-separated, the first encrypts and
all decrypt, so a key is rotated by putting the new one first. Without it, one key is derived from SECRET_KEY.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, MultiFernet
from flask import Flask, current_app


def init_app(app: Flask) -> None:
    app.extensions["secret_box"] = box_for(app.config.get("SECRETS_ENCRYPTION_KEY"), app.config["SECRET_KEY"])


def box_for(keys: str | None, secret_key: str) -> MultiFernet:
    if keys:
        return MultiFernet([Fernet(key.strip().encode()) for key in keys.split(",") if key.strip()])
    derived = hashlib.sha256(b"medins:secret-box:" + secret_key.encode()).digest()
    return MultiFernet([Fernet(base64.urlsafe_b64encode(derived))])


def current() -> MultiFernet:
    return current_app.extensions["secret_box"]
