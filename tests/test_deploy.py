"""The production layout in deploy/ agrees with itself: the compose file and the container run the commands the
systemd units run, there is exactly one scheduler, migrations are a one-off step, and the environment example holds
every setting the units and the smoke run rely on. (Docker cannot run here; `make prod-smoke` runs the units.)"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from deploy.smoke import environment_file, read_unit

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def _unit_command(name: str, tmp_path) -> list[str]:
    """The unit's command as a container runs it: the venv is on PATH there, the checkout at /opt/medins."""
    command = read_unit(name, tmp_path).exec_start
    return [Path(command[0]).name, *[part.replace(str(DEPLOY.parent), "/opt/medins") for part in command[1:]]]


def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_runs_web_worker_scheduler_and_migrations_with_the_units_commands(tmp_path):
    services = _compose()["services"]
    assert set(services) == {"postgres", "redis", "migrate", "web", "worker", "scheduler"}
    assert services["web"]["command"] == _unit_command("medins-web.service", tmp_path)
    assert services["worker"]["command"] == _unit_command("medins-worker@.service", tmp_path)
    assert services["scheduler"]["command"] == _unit_command("medins-scheduler.service", tmp_path)
    assert services["migrate"]["command"] == _unit_command("medins-migrate.service", tmp_path)


def test_there_is_exactly_one_scheduler_and_migrations_run_once_before_anything_serves():
    services = _compose()["services"]
    assert services["scheduler"]["deploy"]["replicas"] == 1
    assert services["migrate"]["restart"] == "no"
    for name in ("web", "worker", "scheduler"):
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert not (DEPLOY / "systemd" / "medins-scheduler@.service").exists()
    assert "Type=oneshot" in (DEPLOY / "systemd" / "medins-migrate.service").read_text()


def test_web_and_worker_share_the_files_the_worker_renders_and_the_web_serves():
    app = _compose()["x-app"]
    assert "medins-files:/var/lib/medins" in app["volumes"]
    env = environment_file(DEPLOY / "medins.env.example")
    assert env["STATEMENT_DIR"].startswith("/var/lib/medins/") and env["UPLOAD_DIR"].startswith("/var/lib/medins/")


def test_the_container_starts_the_web_command_of_the_unit(tmp_path):
    text = (DEPLOY / "Containerfile").read_text()
    cmd = re.search(r"^CMD (\[.*\])$", text, re.M).group(1)
    assert yaml.safe_load(cmd) == _unit_command("medins-web.service", tmp_path)
    assert "requirements.txt" in text and "requirements-dev.txt" not in text


def test_the_environment_example_sets_what_production_mode_requires():
    env = environment_file(DEPLOY / "medins.env.example")
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "TRUSTED_PROXY_COUNT", "LOG_FORMAT"} <= set(env)
    assert env["DATABASE_URL"].startswith("postgresql+psycopg://")
    assert "DEV_LOGIN" not in env


def test_the_nginx_example_replaces_forwarded_for_and_keeps_metrics_internal():
    text = (DEPLOY / "nginx" / "medins.conf").read_text()
    assert "TRUSTED_PROXY_COUNT" in text
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in text
    metrics = text[text.index("location = /metrics"):]
    assert "deny all;" in metrics[:metrics.index("}")]
