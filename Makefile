# make run   — the service with demo data on the embedded default (SQLite + in-process Redis), port $(PORT)
# make test  — install into .venv and run the whole suite (PostgreSQL/Redis when TEST_DATABASE_URL/TEST_REDIS_URL)
# make bench — benchmarks, each printed with a ratio against its baseline measured in the same run
# make load  — a bounded load run (gunicorn + PostgreSQL + Redis + workers), then the ledger invariants
# make worker — an RQ worker (production: needs REDIS_URL)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export FLASK_APP := wsgi

.PHONY: install fonts browser run test bench load worker scheduler lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed fonts browser

fonts:
	bash scripts/install-fonts.sh

# Debian's chromium for the console's browser tests (Playwright never downloads one); skipped tests say why.
browser:
	bash scripts/install-browser.sh

run: install
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

worker: install
	$(BIN)/flask worker

scheduler: install
	$(BIN)/flask scheduler

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis
