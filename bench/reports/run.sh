#!/usr/bin/env bash
# The report benchmark on PostgreSQL with the large seed. The cluster lives in $BENCH_PGDATA (default
# /tmp/spindle-bench-reports) and is kept, so the seed (many minutes) is made once; `stop` stops it.
#   bash bench/reports/run.sh          # start the cluster, migrate, seed if empty, run the benchmark
#   bash bench/reports/run.sh stop
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/common.sh
ensure_venv requirements-dev.txt

DATA=${BENCH_PGDATA:-/tmp/spindle-bench-reports}
PORT=${BENCH_PGPORT:-55471}
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if [ "${1:-}" = stop ]; then
    as_postgres "$PG_BIN/pg_ctl" -D "$DATA/pg" -m fast stop
    exit 0
fi
if [ ! -d "$DATA/pg" ]; then
    mkdir -p "$DATA"; [ "$(id -u)" = 0 ] && chown postgres "$DATA"
    as_postgres "$PG_BIN/initdb" -D "$DATA/pg" -U spindle --auth=trust -E UTF8 >/dev/null
fi
if ! as_postgres "$PG_BIN/pg_ctl" -D "$DATA/pg" status >/dev/null 2>&1; then
    as_postgres "$PG_BIN/pg_ctl" -D "$DATA/pg" -l "$DATA/pg.log" -w -o \
        "-c listen_addresses=127.0.0.1 -p $PORT -k $DATA -c fsync=off -c synchronous_commit=off -c shared_buffers=512MB -c work_mem=64MB" \
        start >/dev/null
    as_postgres "$PG_BIN/createdb" -h 127.0.0.1 -p "$PORT" -U spindle spindle 2>/dev/null || true
fi
export DJANGO_SETTINGS_MODULE=config.settings.local
export DATABASE_URL="postgres://spindle@127.0.0.1:$PORT/spindle"
export SPINDLE_VAR_DIR="$DATA/var"
"$VENV/bin/python" manage.py migrate -v 0
if [ "$("$VENV/bin/python" manage.py shell -c 'from machines.models import MachineStateEvent as E; print(E.objects.exists())')" != True ]; then
    echo "== Seeding the large shop (many minutes)"
    time "$VENV/bin/python" manage.py seed_demo --size large
fi
"$VENV/bin/python" -m bench.reports "$@"
