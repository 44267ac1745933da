"""Dialogue state per chat session (a JSON dict the chatbot reads back into its own type), in Redis: ``<prefix>chat:state:<session id>`` as JSON, idle expiry, a lock.

The state expires CHAT_SESSION_IDLE_SECONDS after the last turn (30 min by default): a half-finished form is
forgotten, the transcript (database) is not. Every turn runs under the session's lock (redis-py's ``Lock``,
``<prefix>chat:lock:<session id>``) so two messages sent at once are processed one after the other and never
read the same state; the lock's own timeout frees a session whose worker died mid-turn.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app
from redis.exceptions import LockError, LockNotOwnedError
from redis.lock import Lock

from backend.errors import TooManyRequests
from backend.extensions import redis_store

log = logging.getLogger(__name__)


def state_key(session_id: str) -> str:
    return redis_store.key("chat", "state", session_id)


def lock_key(session_id: str) -> str:
    return redis_store.key("chat", "lock", session_id)


def load(session_id: str) -> dict | None:
    raw = redis_store.client.get(state_key(session_id))
    return json.loads(raw) if raw else None


def save(session_id: str, state: dict) -> None:
    """Store the state and push its expiry another idle period away."""
    redis_store.client.set(state_key(session_id), json.dumps(state, ensure_ascii=False),
                           ex=current_app.config["CHAT_SESSION_IDLE_SECONDS"])


class SessionLock(Lock):
    """redis-py's Lock, released by compare-and-delete in a WATCH transaction rather than its Lua script: the
    embedded mode's fakeredis runs no Lua, and both modes should take the same path."""

    def do_release(self, expected_token: bytes) -> None:
        def compare_and_delete(pipe) -> None:
            if pipe.get(self.name) != expected_token:
                raise LockNotOwnedError("Cannot release a lock that's no longer owned", lock_name=self.name)
            pipe.multi()
            pipe.delete(self.name)

        self.redis.transaction(compare_and_delete, self.name)


@contextmanager
def locked(session_id: str) -> Iterator[None]:
    """Hold the session's lock for one turn; 429 when another message still holds it after the wait."""
    config = current_app.config
    lock = redis_store.client.lock(lock_key(session_id), timeout=config["CHAT_LOCK_SECONDS"],
                                   blocking_timeout=config["CHAT_LOCK_WAIT_SECONDS"], thread_local=False,
                                   lock_class=SessionLock)
    if not lock.acquire():
        raise TooManyRequests("上一条消息还在处理中，请稍后再发", reason="chat_session_busy")
    try:
        yield
    finally:
        try:
            lock.release()
        except LockError:  # the turn outlived the lock's timeout; another turn may already hold a new one
            log.warning("chat session lock expired before the turn ended: %s", session_id)
