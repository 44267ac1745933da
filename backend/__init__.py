"""The application factory: a table of contents of register_* calls."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

from backend.config import Config


class DatabaseIntegerConverter(IntegerConverter):
    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("min", 0)
        kwargs.setdefault("max", 2**31 - 1)  # INTEGER primary keys on PostgreSQL
        super().__init__(map, *args, **kwargs)


def create_app(config: object | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_object(config or Config())
    register_logging(app)
    register_observability(app)
    register_json(app)
    register_proxies(app)
    register_extensions(app)
    register_error_handlers(app)
    register_blueprints(app)
    register_request_hooks(app)
    register_cli(app)
    register_startup(app)
    return app


def register_logging(app: Flask) -> None:
    from backend.logging_setup import configure_logging

    configure_logging(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])


def register_observability(app: Flask) -> None:
    from backend.observability.hooks import register_observability as register

    register(app)


def register_json(app: Flask) -> None:
    # Chinese text readable in responses and logs instead of \uXXXX escapes.
    app.json.ensure_ascii = False
    # Ids in URLs are database integers: a number beyond their range is simply not found (404), never a 500.
    app.url_map.converters["int"] = DatabaseIntegerConverter


def register_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXY_COUNT reverse proxies the client's address is read from X-Forwarded-For (that many
    hops from the right); with none configured the header is ignored, so a client cannot choose its own IP."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    hops = app.config["TRUSTED_PROXY_COUNT"]
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0, x_prefix=0)


def register_extensions(app: Flask) -> None:
    from backend import models  # noqa: F401  (every table registered before migrations look)
    from sqlalchemy import event

    from backend import secret_box
    from backend.extensions import api, db, enforce_sqlite_foreign_keys, job_queue, limiter, migrate, redis_store

    db.init_app(app)
    secret_box.init_app(app)
    with app.app_context():
        event.listen(db.engine, "connect", enforce_sqlite_foreign_keys)
    migrate.init_app(app, db, directory=str(app.config.get("MIGRATIONS_DIR", _migrations_dir())),
                     render_as_batch=True, compare_type=True)
    redis_store.init_app(app)
    job_queue.init_app(app)
    limiter.init_app(app)
    register_api_document(app, api)


def register_api_document(app: Flask, api) -> None:
    """flask-smorest with the conventions every operation shares (backend.web.openapi)."""
    from backend.web.openapi import ConventionsPlugin, register_field_conventions, register_openapi

    api.init_app(app, spec_kwargs={"extra_plugins": [ConventionsPlugin(app)]})
    register_field_conventions(api.ma_plugin)
    register_openapi(app, api)


def register_error_handlers(app: Flask) -> None:
    from backend.errors import register_error_handlers as register

    register(app)


def register_blueprints(app: Flask) -> None:
    from backend.extensions import api
    from institution_api import blueprints as institution_blueprints
    from miniapp_api import blueprints as miniapp_blueprints
    from staff_api import blueprints as staff_blueprints
    from backend.health import blueprint as health_blueprint
    from staff_api.console import register as register_console

    app.register_blueprint(health_blueprint)
    register_console(app)
    for blueprint in (*miniapp_blueprints(app), *staff_blueprints(app), *institution_blueprints(app)):
        api.register_blueprint(blueprint)


def register_request_hooks(app: Flask) -> None:
    from backend.extensions import db
    from backend.services import outbox
    from backend.web import security_headers
    from backend.web.input_hygiene import refuse_hostile_input

    app.before_request(refuse_hostile_input)
    security_headers.register(app)

    @app.after_request
    def drain_outbox(response):
        # Work written to the outbox by this request's (committed) transaction starts now.
        if response.status_code < 500:
            outbox.drain_after_request()
        return response

    @app.teardown_appcontext
    def discard_uncommitted(exc):
        if exc is not None:
            db.session.rollback()


def register_cli(app: Flask) -> None:
    from backend.cli import register_commands

    register_commands(app)


def register_startup(app: Flask) -> None:
    """Load what must exist before gunicorn forks (jieba's dictionary) so each worker shares it."""
    from backend.jobs import load_all_jobs

    import backend.intents

    load_all_jobs()
    backend.intents.load()


def _migrations_dir() -> str:
    from backend.config import PROJECT_ROOT

    return str(PROJECT_ROOT / "migrations")
