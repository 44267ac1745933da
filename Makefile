# make run   — the service with demo data on the embedded default (SQLite + in-process Redis), port $(PORT)
# make test  — install into .venv and run the whole suite (PostgreSQL/Redis when TEST_DATABASE_URL/TEST_REDIS_URL)
# make bench — benchmarks, each printed with a ratio against its baseline measured in the same run
# make load  — a bounded load run (gunicorn + PostgreSQL + Redis + workers), then the ledger invariants
# make worker — an RQ worker (production: needs REDIS_URL)
# make lint  — ruff: lint rules and formatting check (pyproject.toml [tool.ruff])
# make prod-smoke — gunicorn + a worker + the scheduler on the local PostgreSQL/Redis, as deploy/ runs them

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export FLASK_APP := wsgi

.PHONY: install install-runtime fonts browser run test bench load worker scheduler lint prod-smoke clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Runtime only (make run): the test and lint tools are not needed to serve.
$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

# Everything (make test, lint, bench): requirements-dev.txt includes requirements.txt.
$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@ $(VENV)/.runtime-installed

install: $(VENV)/.installed fonts browser

install-runtime: $(VENV)/.runtime-installed fonts

fonts:
	bash scripts/install-fonts.sh

# Debian's chromium for the console's browser tests (Playwright never downloads one); skipped tests say why.
browser:
	bash scripts/install-browser.sh

run: install-runtime
	DEV_LOGIN=1 $(BIN)/flask init-db
	DEV_LOGIN=1 $(BIN)/flask seed-demo
	# One worker: the embedded Redis lives in-process; threads serve concurrent requests.
	DEV_LOGIN=1 SESSION_COOKIE_SECURE=0 $(BIN)/gunicorn --config gunicorn.conf.py --workers 1 --threads 8 --bind 127.0.0.1:$(PORT) wsgi:app

test: install
	$(BIN)/pytest

bench: install
	$(BIN)/python -m bench

load: install
	bash scripts/load.sh

worker: install-runtime
	$(BIN)/flask worker

scheduler: install-runtime
	$(BIN)/flask scheduler

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

prod-smoke: install
	$(BIN)/python deploy/smoke.py

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis
