"""Prometheus metrics at ``GET /metrics`` (DESIGN §4.11). docs/operations.md says what each one means.

Counted at the HTTP edge, from what each response says, so no view or service carries metric code:
- request latency by endpoint, method and status;
- settlements and refunds by institution and outcome (settled, replayed, refused, unauthenticated, error);
- chat turns by intent and whether the bot fell back (did not understand);
- rate-limit refusals (every 429) by endpoint.
Read at scrape time: the outbox backlog, and the RQ queues' depth, running and failed jobs.

Under gunicorn each worker is its own process: with ``PROMETHEUS_MULTIPROC_DIR`` set (the web unit sets it, and
gunicorn.conf.py empties it at start and tidies after each worker exits) prometheus_client writes each
process's values to files there and a scrape sums them, whichever worker answers it.
"""

from __future__ import annotations

import hmac
import logging
import os
import time

from flask import Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

from backend.errors import Unauthorized
from backend.services import operations

log = logging.getLogger(__name__)
business_log = logging.getLogger("medins.institutions")

START_KEY = "medins.request_started"
UNMATCHED = "unmatched"
SETTLE_ENDPOINT = "institution_settlements.Settlements"
REFUND_ENDPOINT = "institution_settlements.SettlementRefundResource"
CHAT_TURN_ENDPOINT = "chat.Messages"
FALLBACK_INTENTS = {None, "out_of_scope"}

REQUEST_LATENCY = Histogram(
    "medins_http_request_duration_seconds", "Time to answer a request, by endpoint, method and status.",
    ["endpoint", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
SETTLEMENTS = Counter("medins_settlements_total", "Settlement requests from institutions, by outcome.",
                      ["institution", "outcome"])
REFUNDS = Counter("medins_refunds_total", "Refund requests from institutions, by outcome.", ["institution", "outcome"])
CHAT_TURNS = Counter("medins_chat_turns_total", "Chatbot turns answered, by intent and whether it fell back.",
                     ["intent", "fallback"])
RATE_LIMITED = Counter("medins_rate_limit_refusals_total", "Requests refused with 429, by endpoint.", ["endpoint"])


def register_metrics(app: Flask) -> None:
    app.before_request(_start_timer)
    app.after_request(_count)
    app.add_url_rule("/metrics", endpoint="metrics", view_func=metrics_view)


def _start_timer() -> None:
    request.environ[START_KEY] = time.perf_counter()


def _count(response: Response) -> Response:
    endpoint = request.url_rule.endpoint if request.url_rule else UNMATCHED
    started = request.environ.get(START_KEY)
    if started is not None:
        REQUEST_LATENCY.labels(endpoint, request.method, str(response.status_code)).observe(
            time.perf_counter() - started)
    if response.status_code == 429:
        RATE_LIMITED.labels(endpoint).inc()
    try:
        _count_business_outcome(endpoint, response)
    except Exception:  # a metric must never cost the caller their answer
        log.exception("metrics: could not count the outcome of %s", endpoint)
    return response


def _count_business_outcome(endpoint: str, response: Response) -> None:
    if endpoint in (SETTLE_ENDPOINT, REFUND_ENDPOINT):
        outcome = _outcome(response)
        institution = "unverified" if outcome == "unauthenticated" else _institution_label()
        counter, kind = (SETTLEMENTS, "settlement") if endpoint == SETTLE_ENDPOINT else (REFUNDS, "refund")
        counter.labels(institution, outcome).inc()
        body = response.get_json(silent=True) or {}
        business_log.info("%s %s: %s", kind, outcome, body.get("setl_id") or request.view_args.get("setl_id"), extra={
            "event": kind, "outcome": outcome, "institution": institution, "status": response.status_code,
            "setl_id": body.get("setl_id") or request.view_args.get("setl_id"),
            "reason": (body.get("errors") or {}).get("reason") if response.status_code >= 400 else None,
        })
    elif endpoint == CHAT_TURN_ENDPOINT and response.status_code == 200:
        body = response.get_json(silent=True) or {}
        intent = body.get("intent")
        fallback = body.get("fallback", intent in FALLBACK_INTENTS)
        CHAT_TURNS.labels(intent or "none", "true" if fallback else "false").inc()


def _institution_label() -> str:
    # Only a verified signature names the institution: an unverified header must not mint new label values.
    institution = g.get("institution")
    return institution.code if institution is not None else "unverified"


def _outcome(response: Response) -> str:
    status = response.status_code
    if status >= 500:
        return "error"
    if status == 401:
        return "unauthenticated"
    if status >= 400:
        return "refused"
    if status == 201 and response.headers.get("Idempotent-Replayed") != "true":
        return "settled" if request.url_rule.endpoint == SETTLE_ENDPOINT else "refunded"
    return "replayed"


def metrics_view() -> Response:
    """Prometheus text format. With METRICS_TOKEN set, only a caller presenting it as a Bearer token may read."""
    _check_token()
    body = generate_latest(_process_registry()) + generate_latest(_scrape_registry())
    return Response(body, mimetype=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


def _check_token() -> None:
    expected = current_app.config.get("METRICS_TOKEN")
    if not expected:
        return
    presented = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(presented.encode(), expected.encode()):
        raise Unauthorized("需要监控令牌", reason="metrics_token_required")


def _process_registry():
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def _scrape_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(BacklogCollector())
    return registry


class BacklogCollector:
    """Gauges read from the database and Redis when scraped; a source that does not answer is left out and
    ``medins_metrics_source_up`` says so."""

    def __init__(self) -> None:
        self._families: list[GaugeMetricFamily] = []

    def collect(self):
        up = GaugeMetricFamily("medins_metrics_source_up", "1 when the source of the backlog gauges answered.",
                               labels=["source"])
        up.add_metric(["database"], self._safely(self._outbox))
        up.add_metric(["redis"], self._safely(self._queues))
        yield from self._families
        yield up

    def _safely(self, read) -> float:
        try:
            self._families.extend(read())
            return 1.0
        except Exception as exc:
            log.warning("metrics: %s not read: %s", read.__name__.strip("_"), type(exc).__name__)
            return 0.0

    @staticmethod
    def _outbox():
        backlog = operations.outbox_backlog()
        pending = GaugeMetricFamily("medins_outbox_pending", "Outbox messages written but not yet handed to RQ.")
        pending.add_metric([], backlog.pending)
        age = GaugeMetricFamily("medins_outbox_oldest_pending_age_seconds",
                                "Age of the oldest outbox message not yet handed to RQ (0 when none).")
        age.add_metric([], backlog.oldest_age_seconds)
        return [pending, age]

    @staticmethod
    def _queues():
        states = operations.queue_states()
        families = {
            "waiting": GaugeMetricFamily("medins_rq_queue_depth", "Jobs waiting in an RQ queue.", labels=["queue"]),
            "started": GaugeMetricFamily("medins_rq_started_jobs", "Jobs a worker is running now.", labels=["queue"]),
            "failed": GaugeMetricFamily("medins_rq_failed_jobs", "Jobs in an RQ queue's failed registry.",
                                        labels=["queue"]),
        }
        for state in states:
            for attribute, family in families.items():
                family.add_metric([state.name], getattr(state, attribute))
        return list(families.values())
