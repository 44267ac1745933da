"""Redis connection as a Flask extension: a real server at REDIS_URL, or fakeredis in-process when unset."""

from __future__ import annotations

import fakeredis
import redis
from flask import Flask, current_app


class RedisStore:
    def init_app(self, app: Flask) -> None:
        url = app.config.get("REDIS_URL")
        if url:
            client = redis.Redis.from_url(url)
            backend = "redis"
        else:
            # One in-process server per app, shared by its threads (embedded mode only).
            client = fakeredis.FakeRedis(server=fakeredis.FakeServer())
            backend = "fakeredis"
        app.extensions["redis"] = client
        app.extensions["redis_backend"] = backend

    @property
    def client(self) -> redis.Redis:
        return current_app.extensions["redis"]

    @property
    def backend(self) -> str:
        return current_app.extensions["redis_backend"]

    def key(self, *parts: object) -> str:
        """Every key this service writes carries the configured prefix, so a shared Redis stays tidy."""
        return current_app.config["REDIS_KEY_PREFIX"] + ":".join(str(p) for p in parts)
