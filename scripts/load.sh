#!/usr/bin/env bash
# `make load`: a bounded load run on loopback against gunicorn + PostgreSQL + Redis + an RQ worker + the scheduler,
# then the ledger invariants in SQL. Prints requests, errors, p50/p99 and the invariants; exits non-zero on any 5xx,
# any violation or queued work left undone. Creates (drops and re-creates) its own database.
#
# Settings (environment): LOAD_PG_URL (server, default postgresql://postgres@127.0.0.1:5432), LOAD_DATABASE
# (medins_load), LOAD_REDIS_URL (redis://127.0.0.1:6379/15, flushed), LOAD_PORT (8390), LOAD_DURATION (45s),
# LOAD_USERS (24: three people for each hospital), LOAD_GUNICORN_WORKERS (4).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PG_URL=${LOAD_PG_URL:-postgresql://postgres@127.0.0.1:5432}
DATABASE=${LOAD_DATABASE:-medins_load}
REDIS=${LOAD_REDIS_URL:-redis://127.0.0.1:6379/15}
PORT=${LOAD_PORT:-8390}
WORK=$(mktemp -d)
PIDS=()

stop_all() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
}
trap stop_all EXIT

psql "$PG_URL/postgres" -q -c "DROP DATABASE IF EXISTS $DATABASE WITH (FORCE)" -c "CREATE DATABASE $DATABASE"
redis-cli -u "$REDIS" flushdb > /dev/null

export DATABASE_URL="${PG_URL/postgresql:/postgresql+psycopg:}/$DATABASE" REDIS_URL="$REDIS" DEV_LOGIN=1 \
  SECRET_KEY="load-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" INSTANCE_DIR="$WORK/instance" \
  REDIS_KEY_PREFIX="medins-load:" GUNICORN_BIND="127.0.0.1:$PORT" \
  GUNICORN_WORKERS="${LOAD_GUNICORN_WORKERS:-4}" GUNICORN_THREADS=4 FLASK_APP=wsgi
$BIN/flask init-db > /dev/null
$BIN/flask seed-demo > /dev/null

$BIN/gunicorn --config gunicorn.conf.py wsgi:app > "$WORK/gunicorn.log" 2>&1 & PIDS+=($!)
$BIN/flask worker > "$WORK/worker.log" 2>&1 & PIDS+=($!)
$BIN/flask scheduler > "$WORK/scheduler.log" 2>&1 & PIDS+=($!)
for _ in $(seq 1 240); do
  curl -fs "http://127.0.0.1:$PORT/healthz" > /dev/null && break
  sleep 0.5
done
curl -fs "http://127.0.0.1:$PORT/healthz" > /dev/null || { echo "gunicorn did not start"; tail "$WORK/gunicorn.log"; exit 1; }

echo "load: ${LOAD_USERS:-24} users for ${LOAD_DURATION:-45s} against 127.0.0.1:$PORT (database $DATABASE)"
LOAD_STATUS_FILE="$WORK/statuses.json" $BIN/locust -f loadtest/locustfile.py --headless --only-summary \
  --host "http://127.0.0.1:$PORT" -u "${LOAD_USERS:-24}" -r "${LOAD_USERS:-24}" -t "${LOAD_DURATION:-45s}" \
  --csv "$WORK/load" --exit-code-on-error 0 > "$WORK/locust.log" 2>&1

queued_left=$($BIN/python -m loadtest.queued_left 90 2>/dev/null | tail -1)
stop_all
ledger_exit=0
$BIN/flask check-ledger || ledger_exit=$?
grep -E " 500 | 502 | 503 | 504 |Traceback" "$WORK/gunicorn.log" | head -5 || true
$BIN/python loadtest/report.py "$WORK" "$ledger_exit" "${queued_left:-unknown}"
