#!/usr/bin/env bash
# `make test`: installs what is missing, starts a throwaway PostgreSQL and Redis on loopback,
# runs ruff, mypy, Django's checks and the whole pytest suite, then the tests marked `dialects` again on SQLite (the
# demo's database), and stops what it started even on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

# psycopg2 builds against libpq; WeasyPrint needs pango; the browser tests drive Debian's Chromium;
# the document tests read PDFs back with poppler and decode their QR codes with zbar.
ensure_packages "test servers, driver build, browser, documents" \
    postgresql redis-server libpq-dev gcc chromium fonts-dejavu-core libpango-1.0-0 libpangoft2-1.0-0 \
    libharfbuzz-subset0 poppler-utils zbar-tools
ensure_venv requirements-dev.txt

PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
WORK=$(mktemp -d /tmp/spindle-test.XXXXXX)
PG_PORT=$(free_port)
REDIS_PORT=$(free_port)

as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cleanup() {
    set +e
    [ -f "$WORK/pg/postmaster.pid" ] && as_postgres "$PG_BIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1
    [ -f "$WORK/redis.pid" ] && kill "$(cat "$WORK/redis.pid")" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

[ "$(id -u)" = 0 ] && chown postgres "$WORK"
echo "== Starting PostgreSQL on 127.0.0.1:$PG_PORT and Redis on 127.0.0.1:$REDIS_PORT (in $WORK)"
as_postgres "$PG_BIN/initdb" -D "$WORK/pg" -U spindle --auth=trust -E UTF8 >/dev/null
# Durability off: a throwaway cluster for tests only.
as_postgres "$PG_BIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg.log" -w -o \
    "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $WORK -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null
as_postgres "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U spindle spindle
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes --save '' --appendonly no \
    --dir "$WORK" --pidfile "$WORK/redis.pid" --logfile "$WORK/redis.log"

export DJANGO_SETTINGS_MODULE=config.settings.test
export DATABASE_URL="postgres://spindle@127.0.0.1:$PG_PORT/spindle"
export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export REDIS_CACHE_URL="redis://127.0.0.1:$REDIS_PORT/1"  # each test empties the cache, never the broker
export SPINDLE_VAR_DIR="$WORK/var" MEDIA_ROOT="$WORK/media"
export DJANGO_ALLOW_ASYNC_UNSAFE=true  # Playwright's sync API beside Django's live server

echo "== ruff"
"$VENV/bin/ruff" check .
echo "== mypy"
"$VENV/bin/python" scripts/mypy_baseline.py
echo "== manage.py check"
"$VENV/bin/python" manage.py check
echo "== makemigrations --check"
"$VENV/bin/python" manage.py makemigrations --check --dry-run
echo "== pytest"
"$VENV/bin/pytest" "$@"
# The demo runs on SQLite, and the reports and the machine state totals have SQL for each database: the tests
# marked `dialects` among those asked for run again on SQLite (an in-memory test database). Exit status 5 is
# pytest's "no test selected": the tests asked for had none of them.
echo "== pytest on SQLite: the tests marked dialects"
status=0
DATABASE_URL="sqlite:///$WORK/spindle.sqlite3" "$VENV/bin/pytest" "$@" -m dialects || status=$?
[ "$status" = 0 ] || [ "$status" = 5 ] || exit "$status"
