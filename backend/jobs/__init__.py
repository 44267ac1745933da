"""RQ jobs: thin, idempotent, take ids. Each declares its queue where it is defined.

Jobs are registered by name so that the outbox (a database row) can name the work it stands for without importing
this package; ``backend.jobs.runner.execute`` runs a job by name inside a fresh app context.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class JobDefinition:
    name: str
    queue: str
    func: Callable[..., Any]


REGISTRY: dict[str, JobDefinition] = {}


def job(name: str, queue: str = "default") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        if name in REGISTRY and REGISTRY[name].func is not func:
            raise RuntimeError(f"job {name!r} registered twice")
        REGISTRY[name] = JobDefinition(name, queue, func)
        return func

    return register


def load_all_jobs() -> None:
    """Import every job module so the registry is complete (worker start-up and app creation)."""
    from backend.jobs import housekeeping, outbox  # noqa: F401
    from backend.jobs import credits, notifications  # noqa: F401
    from backend.jobs import applications  # noqa: F401
    from backend.jobs import statements  # noqa: F401
    from backend.jobs import monitoring  # noqa: F401
    from backend.jobs import recovery  # noqa: F401
