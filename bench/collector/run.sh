#!/usr/bin/env bash
# The machine connectivity benchmark (issue "Machine connectivity", Performance): the real collector process
# (`manage.py machines_collect`) following fast fake MTConnect agents (bench/collector/agent.py) into PostgreSQL,
# and the time from a state change at an agent to the board and the terminal (gunicorn, simulated screens).
#
#   bash bench/collector/run.sh                    # every scenario below (about 10 minutes)
#   bash bench/collector/run.sh throughput catchup # some of them: throughput catchup floor500 latency
#                                                  # (and floor500-10x50 floor500-50x10)
#   MEASURE=60 (seconds per ingestion window), CHANGES=60 (state changes timed by the latency scenario),
#   LATENCY_ARGS="--terminal-poll 3 ..." (options of bench/collector/latency.py)
#   BENCH_SHELL="command" bash bench/collector/run.sh shell   # a command on a fresh database (profiling)
#
# Starts a throwaway PostgreSQL (durable, as in production) and Redis on free loopback ports, migrates one database
# and copies it for each scenario, and stops everything it started on exit. Raw output: bench/collector/out/<time>/;
# the summary: bench/collector/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/common.sh

SCENARIOS=("$@")
[ ${#SCENARIOS[@]} -eq 0 ] && SCENARIOS=(throughput catchup floor500 floor500-10x50 floor500-50x10 latency)
COMMAND="${MEASURE:+MEASURE=$MEASURE }${LATENCY_ARGS:+LATENCY_ARGS=\"$LATENCY_ARGS\" }bash bench/collector/run.sh $*"
MEASURE=${MEASURE:-60}
CHANGES=${CHANGES:-60}

ensure_packages "benchmark servers, driver build" postgresql redis-server libpq-dev gcc
ensure_venv requirements.txt
PY="$VENV/bin/python"

PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
WORK=$(mktemp -d /tmp/spindle-bench-collector.XXXXXX)
OUT=bench/collector/out/$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
PG_PORT=$(free_port)
REDIS_PORT=$(free_port)
WEB_PORT=$(free_port)
# A run of free ports for the agents (each agent listens on its own), below the ephemeral range that the
# collector's own connections take their local ports from.
AGENT_PORT=$("$PYTHON" - <<'EOF'
import random, socket
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
for _ in range(200):
    base = random.randrange(10000, low - 64)
    sockets = []
    try:
        for port in range(base, base + 64):
            s = socket.socket(); s.bind(("127.0.0.1", port)); sockets.append(s)
    except OSError:
        continue
    finally:
        for s in sockets: s.close()
    print(base); break
EOF
)
GUNICORN_PID=""

as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cleanup() {
    local status=$?
    set +e
    if [ -n "$GUNICORN_PID" ] && kill -0 "$GUNICORN_PID" 2>/dev/null; then
        kill -TERM "$GUNICORN_PID"; wait "$GUNICORN_PID" 2>/dev/null
    fi
    [ -f "$WORK/pg/postmaster.pid" ] && as_postgres "$PG_BIN/pg_ctl" -D "$WORK/pg" -m fast stop >/dev/null 2>&1
    [ -f "$WORK/redis.pid" ] && kill "$(cat "$WORK/redis.pid")" 2>/dev/null
    [ -f "$WORK/pg.log" ] && cp "$WORK/pg.log" "$OUT/postgres.log"
    rm -rf "$WORK"
    [ "$status" != 0 ] && echo "!! The benchmark failed (exit $status); raw output and logs are in $OUT" >&2
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

uptime | tee "$OUT/uptime-before.txt"
[ "$(id -u)" = 0 ] && chown postgres "$WORK"
echo "== Starting PostgreSQL on 127.0.0.1:$PG_PORT and Redis on 127.0.0.1:$REDIS_PORT (in $WORK)"
as_postgres "$PG_BIN/initdb" -D "$WORK/pg" -U spindle --auth=trust -E UTF8 >/dev/null
# Durable as in production (fsync and synchronous commit on): every batch the collector writes is a commit.
as_postgres "$PG_BIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg.log" -w -o \
    "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $WORK -c max_connections=200" start >/dev/null
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes --save '' --appendonly no \
    --dir "$WORK" --pidfile "$WORK/redis.pid" --logfile "$WORK/redis.log"

export DJANGO_SETTINGS_MODULE=bench.web.settings
export SECRET_KEY
SECRET_KEY=$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(50))')
export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export ALLOWED_HOSTS="127.0.0.1,localhost"
export SECURE_SSL_REDIRECT=false
export STATIC_ROOT="$WORK/static" SPINDLE_VAR_DIR="$WORK/var" MEDIA_ROOT="$WORK/media"
export LOG_LEVEL=WARNING
export PYTHONUNBUFFERED=1
BENCH_POSTMASTER_PID=$(head -n 1 "$WORK/pg/postmaster.pid")
export BENCH_POSTMASTER_PID

echo "== Migrating (one database, copied for each scenario)"
as_postgres "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U spindle spindle_template
DATABASE_URL="postgres://spindle@127.0.0.1:$PG_PORT/spindle_template" "$PY" manage.py migrate --noinput -v0

# database NAME: a fresh copy of the migrated database, which DATABASE_URL then names.
database() {
    as_postgres "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U spindle -T spindle_template "spindle_$1"
    export DATABASE_URL="postgres://spindle@127.0.0.1:$PG_PORT/spindle_$1"
}

# ingest NAME args...: one ingestion scenario on its own database.
ingest() {
    local name=$1; shift
    database "$name"
    echo "== $name: $*"
    "$PY" -m bench.collector.ingest --label "$name" --port "$AGENT_PORT" --measure "$MEASURE" \
        --log "$OUT/collector-$name.log" --out "$OUT/$name.json" "$@"
}

# latency: gunicorn as bench/web runs it (cores + 1 sync workers, the production settings), the timed changes.
latency() {
    database latency
    echo "== latency: collectstatic, gunicorn on 127.0.0.1:$WEB_PORT"
    "$PY" manage.py collectstatic --noinput -v0
    "$VENV/bin/gunicorn" config.wsgi:application --bind "127.0.0.1:$WEB_PORT" --workers "$(($(nproc) + 1))" \
        --timeout 120 --log-level warning --error-logfile "$OUT/gunicorn.log" &
    GUNICORN_PID=$!
    for _ in $(seq 1 120); do
        curl -fsS -o /dev/null "http://127.0.0.1:$WEB_PORT/healthz" 2>/dev/null && break
        sleep 0.5
    done
    echo "== latency: $CHANGES timed state changes"
    "$PY" -m bench.collector.latency --url "http://127.0.0.1:$WEB_PORT" --port "$AGENT_PORT" \
        --changes "$CHANGES" --gunicorn-pid "$GUNICORN_PID" --log "$OUT/collector-latency.log" \
        --out "$OUT/latency.json" ${LATENCY_ARGS:-}
    kill -TERM "$GUNICORN_PID"; wait "$GUNICORN_PID" 2>/dev/null || true
    GUNICORN_PID=""
}

for scenario in "${SCENARIOS[@]}"; do
    case $scenario in
        # 5,000 observations/s offered by 10 agents of 10 machines (50 per machine per second).
        throughput) ingest throughput --agents 10 --devices 10 --rate 5000 ;;
        # What one collector applies at most: 20 agents holding 30,000 observations each, the machines' cursors at
        # the first (a collector back after an outage). 20 agents: one streams at most 1,000 per 0.5 s.
        catchup) ingest catchup --agents 20 --devices 5 --rate 0 --backlog 30000 ;;
        # 500 machines at one observation per second each, across 20 agents of 25.
        floor500) ingest floor500 --agents 20 --devices 25 --rate 500 ;;
        # The same floor on fewer, larger agents and on more, smaller ones: the collector's cost is per document.
        floor500-10x50) ingest floor500-10x50 --agents 10 --devices 50 --rate 500 ;;
        floor500-50x10) ingest floor500-50x10 --agents 50 --devices 10 --rate 500 ;;
        latency) latency ;;
        shell) database shell; bash -c "$BENCH_SHELL" ;;
        *) echo "Unknown scenario $scenario (see the head of this file)" >&2; exit 2 ;;
    esac
done

uptime | tee "$OUT/uptime-after.txt"
"$PY" - "$OUT" <<EOF
import json, subprocess, sys
postgres = subprocess.run(["$PG_BIN/postgres", "--version"], capture_output=True, text=True).stdout.split()[2]
json.dump({"command": """$COMMAND""".strip(), "date": "$(date -u +%FT%TZ)", "postgres": postgres},
          open(f"{sys.argv[1]}/meta.json", "w"))
EOF
[ "${SCENARIOS[*]}" != shell ] && "$PY" -m bench.collector.report "$OUT" bench/collector/RESULTS.md
echo "== Done; raw output in $OUT; the summary is in bench/collector/RESULTS.md"
