"""Flask commands for operators: init-db, seed-demo, import-people, worker, scheduler."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import with_appcontext


def register_commands(app: Flask) -> None:
    for command in (init_db, seed_demo, import_people, worker, scheduler):
        app.cli.add_command(command)


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the schema to the newest migration, then load the shipped policy versions."""
    from flask_migrate import upgrade

    from backend.services import policies

    upgrade(revision="heads")
    added = policies.load_shipped()
    click.echo(f"schema at head; {added} policy version(s) added")


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Demo people, families, institutions, staff and history (safe to run again)."""
    from backend.services import demo

    summary = demo.seed()
    click.echo(", ".join(f"{name}: {count}" for name, count in summary.items()))


@click.command("import-people")
@click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
@with_appcontext
def import_people(csv_file) -> None:
    """Import or update insured people from the core system's CSV; bad rows are reported and skipped."""
    from backend.services import people

    report = people.import_csv(csv_file)
    for line_no, problem in report.errors:
        click.echo(f"line {line_no}: {problem}", err=True)
    click.echo(f"created {report.created}, updated {report.updated}, rejected {len(report.errors)}")
    if report.errors:
        sys.exit(1)


@click.command("worker")
@click.option("--queues", default="high,default,low", show_default=True, help="Comma-separated, by priority.")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@with_appcontext
def worker(queues: str, burst: bool) -> None:
    """Run an RQ worker for this app (needs REDIS_URL)."""
    from rq import Worker

    from backend.jobs import load_all_jobs

    connection = _real_redis()
    load_all_jobs()
    Worker(queues.split(","), connection=connection).work(burst=burst, with_scheduler=True)


@click.command("scheduler")
@with_appcontext
def scheduler() -> None:
    """Run RQ's cron scheduler with the periodic jobs of backend.jobs.schedule (needs REDIS_URL)."""
    from rq.cron import CronScheduler

    from backend.jobs import REGISTRY, load_all_jobs
    from backend.jobs.schedule import SCHEDULE

    connection = _real_redis()
    load_all_jobs()
    cron = CronScheduler(connection=connection)
    for periodic in SCHEDULE:
        definition = REGISTRY[periodic.job_name]
        cron.register(
            _execute_function(), queue_name=definition.queue, args=(periodic.job_name, dict(periodic.kwargs)),
            interval=periodic.interval_seconds, cron=periodic.cron,
        )
    cron.start()


def _execute_function():
    from backend.jobs.runner import execute

    return execute


def _real_redis():
    if current_app.extensions["redis_backend"] != "redis":
        raise click.ClickException("REDIS_URL is not set: the embedded mode runs jobs inline, without a worker")
    return current_app.extensions["redis"]
