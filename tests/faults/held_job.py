"""A job for the worker-kill test: its first run signals that it started and then holds until its worker dies."""

from __future__ import annotations

import redis


def hold(redis_url: str, name: str) -> int:
    connection = redis.Redis.from_url(redis_url)
    attempt = connection.incr(f"{name}:attempts")
    if attempt == 1:
        connection.rpush(f"{name}:started", 1)
        connection.blpop([f"{name}:never-pushed"], timeout=0)  # held until the worker is SIGKILLed
    return connection.incr(f"{name}:done")
