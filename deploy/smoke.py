"""make prod-smoke: the production layout, run for real on this machine's PostgreSQL and Redis.

It starts gunicorn, one RQ worker and the scheduler with the very commands and environment of the systemd units in
deploy/systemd (paths moved from /opt/medins to this checkout), after the one-off migration step; waits for
readiness; settles a visit as an institution; asks for the visit's statement as the insured person and waits for
the worker to render it; checks /metrics and that the worker's log lines carry the request's id; then stops
everything. Every wait polls against a deadline; any failure stops the processes and exits non-zero.

Environment: SMOKE_DATABASE_URL (default: database ops_smoke on 127.0.0.1:5432, dropped and created anew),
SMOKE_REDIS_URL (default redis://127.0.0.1:6379/8, emptied first), SMOKE_PORT (default: a free port).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNITS = ROOT / "deploy" / "systemd"
INSTALLED_ROOT = "/opt/medins"
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/ops_smoke"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/8"
DEMO_PERSON = "640104198506120314"  # 张伟 (NX), seeded by seed-demo
INSTITUTION = "NX-T-001"
STARTUP_SECONDS = 90
JOB_SECONDS = 90
STOP_SECONDS = 30


class SmokeFailure(Exception):
    pass


# --- the units, as systemd would run them -------------------------------------------------------------------------

@dataclass
class Unit:
    name: str
    exec_start: list[str]
    environment: dict[str, str] = field(default_factory=dict)
    working_directory: str = INSTALLED_ROOT


def read_unit(file_name: str, runtime_dir: Path) -> Unit:
    """ExecStart, Environment= and WorkingDirectory of a unit, moved from the installed paths to this checkout."""
    unit = Unit(name=file_name, exec_start=[])

    def moved(text: str) -> str:
        text = text.replace(INSTALLED_ROOT, str(ROOT))
        return text.replace("/run/", f"{runtime_dir}/")

    for line in (UNITS / file_name).read_text().splitlines():
        key, _, value = line.partition("=")
        if key == "ExecStart":
            unit.exec_start = moved(value).split()
        elif key == "Environment":
            name, _, setting = value.partition("=")
            unit.environment[name] = moved(setting)
        elif key == "WorkingDirectory":
            unit.working_directory = moved(value)
    if not unit.exec_start:
        raise SmokeFailure(f"{file_name} has no ExecStart")
    return unit


def environment_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


# --- the run ---------------------------------------------------------------------------------------------------

class Smoke:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = int(os.environ.get("SMOKE_PORT") or free_port())
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}
        self.env = self._environment()

    def _environment(self) -> dict[str, str]:
        env = {name: value for name, value in os.environ.items() if not name.startswith(("TEST_", "FLASK_", "DEV_"))}
        env.update(environment_file(ROOT / "deploy" / "medins.env.example"))
        files = self.workdir / "files"
        env.update({
            "DATABASE_URL": os.environ.get("SMOKE_DATABASE_URL", DEFAULT_DATABASE_URL),
            "REDIS_URL": os.environ.get("SMOKE_REDIS_URL", DEFAULT_REDIS_URL),
            "SECRET_KEY": secrets.token_urlsafe(48),
            "UPLOAD_DIR": str(files / "uploads"),
            "STATEMENT_DIR": str(files / "statements"),
            "INSTANCE_DIR": str(files / "instance"),
            "GUNICORN_WORKERS": "2",
            "PYTHONUNBUFFERED": "1",
        })
        return env

    def run(self) -> None:
        started = time.monotonic()
        self.prepare_database_and_redis()
        self.one_off("migrate", read_unit("medins-migrate.service", self.workdir / "run").exec_start)
        self.one_off("seed-demo", [str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi", "seed-demo"])
        web = read_unit("medins-web.service", self.workdir / "run")
        web.environment["GUNICORN_BIND"] = f"127.0.0.1:{self.port}"
        Path(web.environment["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)
        for unit in (web, read_unit("medins-worker@.service", self.workdir / "run"),
                     read_unit("medins-scheduler.service", self.workdir / "run")):
            self.start(unit)
        self.wait_until_ready()
        setl_id = self.settle()
        request_id = self.statement_rendered_by_the_worker(setl_id)
        self.metrics_count_the_settlement()
        self.worker_logged_under(request_id)
        self.all_still_running()
        say(f"passed in {time.monotonic() - started:.1f} s")

    def prepare_database_and_redis(self) -> None:
        import psycopg
        import redis

        url = self.env["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
        server, _, name = url.rpartition("/")
        # A fresh database every run: the smoke checks a first deployment, and a database left by an earlier run
        # holds institution secrets encrypted under that run's (random) SECRET_KEY, which this run cannot read.
        with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{name}"')
            say(f"created database {name}")
        redis.Redis.from_url(self.env["REDIS_URL"]).flushdb()
        say(f"database {name} and {self.env['REDIS_URL']} ready")

    def one_off(self, name: str, command: list[str]) -> None:
        result = subprocess.run(command, cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            raise SmokeFailure(f"{name} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        say(f"{name}: {result.stdout.strip().splitlines()[-1] if result.stdout.strip() else 'done'}")

    def start(self, unit: Unit) -> None:
        name = unit.name.split("@")[0].removesuffix(".service")
        log = self.workdir / f"{name}.log"
        self.logs[name] = log
        with log.open("wb") as output:
            self.processes[name] = subprocess.Popen(
                unit.exec_start, cwd=unit.working_directory, env={**self.env, **unit.environment},
                stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        say(f"started {name}: {' '.join(unit.exec_start)}")

    def wait_until_ready(self) -> None:
        def ready():
            self.all_still_running()
            status, body, _ = http("GET", f"{self.base_url}/readyz")
            return status == 200 and json.loads(body)["status"] == "ok"

        poll(ready, STARTUP_SECONDS, "readiness (/readyz)")
        status, _, _ = http("GET", f"{self.base_url}/livez")
        if status != 200:
            raise SmokeFailure(f"/livez answered {status}")
        say("ready: /livez and /readyz answer 200")

    def settle(self) -> str:
        body = json.dumps({
            "id_number": DEMO_PERSON, "visit_date": time.strftime("%Y-%m-%d"), "med_type": "general",
            "items": [{"code": "SMOKE1", "name": "阿莫西林胶囊", "amount": "120.00", "in_scope": True}],
            "use_account": False, "order_no": f"SMOKE-{secrets.token_hex(6)}",
        }, ensure_ascii=False).encode()
        timestamp = str(int(time.time()))
        signature = hmac.new(f"demo-secret-{INSTITUTION}".encode(), timestamp.encode() + b"\n" + body,
                             hashlib.sha256).hexdigest()
        status, answer, _ = http("POST", f"{self.base_url}/api/v1/institution/settlements", body, {
            "Content-Type": "application/json", "X-Institution-Code": INSTITUTION, "X-Timestamp": timestamp,
            "X-Signature": signature, "X-Request-ID": "smoke-settle"})
        if status != 201:
            raise SmokeFailure(f"settlement answered {status}: {answer[:500]!r}")
        setl_id = json.loads(answer)["setl_id"]
        say(f"settled {setl_id}")
        return setl_id

    def statement_rendered_by_the_worker(self, setl_id: str) -> str:
        token = self.person_token()
        request_id = f"smoke-statement-{secrets.token_hex(4)}"
        url = f"{self.base_url}/api/v1/settlements/{setl_id}/statement.pdf"
        headers = {"Authorization": f"Bearer {token}", "X-Request-ID": request_id}
        first, _, _ = http("GET", url, headers=headers)
        if first != 202:
            raise SmokeFailure(f"the first statement request answered {first}, not 202 (asked of the worker)")

        def rendered():
            self.all_still_running()
            status, body, content_type = http("GET", url, headers={**headers, "X-Request-ID": f"{request_id}-poll"})
            return status == 200 and content_type == "application/pdf" and body.startswith(b"%PDF")

        poll(rendered, JOB_SECONDS, "the statement job (worker)")
        say("statement rendered by the worker and served by the web process")
        return request_id

    def person_token(self) -> str:
        """The insured person's token, issued by the app itself (no mini-program login in a smoke run)."""
        code = ("from backend import create_app\nfrom backend.services import auth\n"
                f"app = create_app()\nwith app.app_context():\n    print(auth.dev_login({DEMO_PERSON!r})['access_token'])")
        result = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-c", code], cwd=ROOT,
                                env={**self.env, "LOG_LEVEL": "WARNING"}, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise SmokeFailure(f"could not issue the person's token:\n{result.stderr}")
        return result.stdout.strip().splitlines()[-1]

    def metrics_count_the_settlement(self) -> None:
        status, body, _ = http("GET", f"{self.base_url}/metrics")
        text = body.decode()
        wanted = (f'medins_settlements_total{{institution="{INSTITUTION}",outcome="settled"}}',
                  'medins_rq_queue_depth{queue="default"}', "medins_outbox_pending",
                  'medins_http_request_duration_seconds_count{endpoint="institution_settlements.Settlements"')
        missing = [name for name in wanted if name not in text]
        if status != 200 or missing:
            raise SmokeFailure(f"/metrics answered {status}, missing {missing}")
        say("metrics: the settlement, request latency, queues and outbox are counted")

    def worker_logged_under(self, request_id: str) -> None:
        lines = [json.loads(line) for line in self.logs["medins-worker"].read_text().splitlines()
                 if line.startswith("{")]
        traced = [line for line in lines if line.get("request_id") == request_id]
        if not any(line.get("message") == "job render_statement done" for line in traced):
            raise SmokeFailure(f"no worker log line 'job render_statement done' with request id {request_id}")
        say(f"worker's JSON log lines carry the request id {request_id}")

    def all_still_running(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise SmokeFailure(f"{name} exited with {process.returncode}:\n{tail(self.logs[name])}")

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for name, process in self.processes.items():
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                say(f"{name} did not stop within {STOP_SECONDS} s: killed")
        say("stopped web, worker and scheduler")


# --- helpers -----------------------------------------------------------------------------------------------------

def http(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None):
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read(), response.headers.get_content_type()
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers.get_content_type()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, b"", ""


def poll(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise SmokeFailure(f"{what}: not done within {seconds:.0f} s")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


def say(message: str) -> None:
    print(f"prod-smoke: {message}", flush=True)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="medins-smoke-") as workdir:
        smoke = Smoke(Path(workdir))
        try:
            smoke.run()
            return 0
        except SmokeFailure as failure:
            say(f"FAILED: {failure}")
            for name, log in smoke.logs.items():
                print(f"--- {name} (last lines)\n{tail(log)}", flush=True)
            return 1
        finally:
            smoke.stop()


if __name__ == "__main__":
    sys.exit(main())
