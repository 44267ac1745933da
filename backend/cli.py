"""Flask commands for operators: init-db, seed-demo, import-people, worker, scheduler."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import with_appcontext


def register_commands(app: Flask) -> None:
    for command in (init_db, seed_demo, import_people, worker, scheduler, clearing, allocate, chat_eval, check_ledger):
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
    from backend import demo

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


@click.command("clearing")
@click.option("--month", required=True, help="The month to clear, YYYY-MM (it must have ended).")
@click.option("--institution", default=None, help="One institution's code (default: every active one).")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the CSV here (default: standard output).")
@click.option("--preview", is_flag=True, help="Report only; do not freeze the month.")
@with_appcontext
def clearing(month: str, institution: str | None, out: str | None, preview: bool) -> None:
    """Monthly clearing with institutions (NX §29): freeze the month and write the CSV for finance."""
    from pathlib import Path

    from backend.errors import AppError
    from backend.services import clearing as service

    try:
        rows = service.reports(month, institution) if preview else service.freeze(month, institution)
    except AppError as exc:
        raise click.ClickException(f"{exc.reason}: {exc.message}") from None
    text = service.csv_text(rows)
    if out:
        Path(out).write_text("\ufeff" + text, encoding="utf-8")  # the BOM lets spreadsheets read UTF-8
        click.echo(f"{len(rows)} institution(s), month {month}, {'preview' if preview else 'frozen'}: {out}",
                   err=True)
    else:
        click.echo(text, nl=False)
    if not all(row["reconciled"] for row in rows):
        click.echo("not reconciled: see the checks of the staff API report", err=True)
        sys.exit(1)


@click.command("allocate")
@click.option("--period", required=True, help="The month to credit, YYYY-MM.")
@with_appcontext
def allocate(period: str) -> None:
    """Credit individual accounts for a month (NX §5, NM §3); safe to run again: one credit per account and period."""
    import contextlib

    from backend.domain.money import fen_to_yuan
    from backend.errors import AppError
    from backend.services import credits

    id_range = credits.account_id_range()
    length = id_range[1] - id_range[0] + 1 if id_range else 0
    # A progress bar on a terminal only: logs and cron mail get the summary line alone.
    bar = (click.progressbar(length=length, label=f"allocating {period}") if sys.stdout.isatty() and length
           else contextlib.nullcontext())
    with bar:
        try:
            report = credits.allocate(period, progress=getattr(bar, "update", None))
        except AppError as exc:
            raise click.ClickException(f"{exc.reason}: {exc.message}") from None
    for region in report.regions_without_policy:
        click.echo(f"{region}: no policy version in force for {period}, nobody credited", err=True)
    click.echo(f"{period}: {report.monthly_credits} monthly credit(s), {fen_to_yuan(report.monthly_fen)} yuan; "
               f"{report.lump_credits} lump credit(s), {fen_to_yuan(report.lump_fen)} yuan "
               f"(policy {', '.join(report.policy_versions.values()) or 'none'})")


@click.command("check-ledger")
@with_appcontext
def check_ledger() -> None:
    """Check the ledger invariants in SQL (balances, balanced postings, payments, refunds, accumulators);
    exits 1 when any is broken."""
    from backend.services import ledger_checks

    counts = ledger_checks.violations()
    for name, count in counts.items():
        click.echo(f"{'ok  ' if count == 0 else 'FAIL'} {name}: {count} violation(s)")
    if any(counts.values()):
        sys.exit(1)


@click.command("chat-eval")
@click.argument("examples_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--cross-validate", is_flag=True,
              help="First print the k-fold cross-validation over the shipped training data.")
@click.option("--folds", default=5, show_default=True, help="k for --cross-validate.")
@click.option("--no-baseline", is_flag=True, help="Skip the TF-IDF + logistic-regression baseline.")
def chat_eval(examples_file: str, cross_validate: bool, folds: int, no_baseline: bool) -> None:
    """Intent accuracy on labelled questions (JSON lines {"text", "intent"}): per-intent precision / recall / F1,
    the confusions, accuracy at high and low confidence, out-of-scope recall, the baseline's figures beside, and
    last the project's `accuracy=0.XXXX macro_f1=0.XXXX` (DESIGN §4.7)."""
    from backend.intents import evaluation, nlu

    try:
        examples = nlu.load_examples(examples_file)
    except (ValueError, KeyError, TypeError) as exc:
        raise click.ClickException(f"{examples_file}: every line must be JSON with \"text\" and \"intent\" ({exc})")
    training = nlu.load_examples(nlu.TRAINING_FILE)
    if cross_validate:
        click.echo(f"{folds}-fold cross-validation over {len(training)} training examples:")
        for line in evaluation.format_report(evaluation.cross_validate(training, k=folds)):
            click.echo(line)
        click.echo("")
    report = evaluation.evaluate_examples(examples)
    if not no_baseline:
        for line in evaluation.baseline_lines(training, examples, report):
            click.echo(line)
        click.echo("")
    click.echo(f"project on {examples_file} ({len(examples)} examples):")
    for line in evaluation.format_report(report):
        click.echo(line)


@click.command("worker")
@click.option("--queues", default="high,default,low", show_default=True, help="Comma-separated, by priority.")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@with_appcontext
def worker(queues: str, burst: bool) -> None:
    """Run an RQ worker for this app (needs REDIS_URL)."""
    from backend.jobs import load_all_jobs, recovery

    connection = _real_redis()
    load_all_jobs()
    recovery.recover(connection)  # what a worker killed before this one left behind
    recovery.worker(queues.split(","), connection).work(burst=burst, with_scheduler=True)


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
