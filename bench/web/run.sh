#!/usr/bin/env bash
# The web benchmark of the shop floor (issue 3): queries per board poll and terminal page at each shop size, then
# p95 latencies under simulated terminals (locust, in its own process) against gunicorn with the production
# settings, as ratios to a trivial logged-in view measured in the same run. Writes bench/web/RESULTS.md.
#
#   bash bench/web/run.sh                      # query counts on the small and the large shop, load on the large
#   SIZE=small bash bench/web/run.sh           # a quick try: the small shop only
#   bash bench/web/run.sh --sizes small,large --terminals 100 --measure 90
#   WORKERS=N (gunicorn sync workers, default cores + 1)
#   options: --sizes LIST  --terminals N  --measure SECONDS  --reference N (terminals of the low-load reference run
#   made first, 0 for none; default 5)  --no-load (query counts only)  --no-cache (seed anew)
#
# Starts a throwaway PostgreSQL and Redis on free loopback ports under a temporary folder, and stops everything it
# started even when a step fails. A seeded shop is kept as a pg_dump in $BENCH_CACHE (default
# /tmp/spindle-bench-cache), keyed by the size, the date, the migrations and the seed command, so that a second run
# the same day skips the seeding (the large seed takes ten minutes or more). Raw output of each run: bench/web/out/<time>/.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/common.sh

SIZE=${SIZE:-large}
SIZES=$([ "$SIZE" = small ] && echo small || echo "small,$SIZE")
TERMINALS=${TERMINALS:-100}
MEASURE=${MEASURE:-90}
REFERENCE=${REFERENCE:-5}  # terminals of the low-load reference run before the main one (0: none)
SPAWN_RATE=${SPAWN_RATE:-20}
LOAD=1
USE_CACHE=1
COMMAND="${WORKERS:+WORKERS=$WORKERS }bash bench/web/run.sh $*"
while [ $# -gt 0 ]; do
    case $1 in
        --sizes) SIZES=$2; shift 2 ;;
        --terminals) TERMINALS=$2; shift 2 ;;
        --measure) MEASURE=$2; shift 2 ;;
        --reference) REFERENCE=$2; shift 2 ;;
        --no-load) LOAD=0; shift ;;
        --no-cache) USE_CACHE=0; shift ;;
        -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
        *) echo "Unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
IFS=, read -r -a SIZE_LIST <<< "$SIZES"
LOAD_SIZE=${SIZE_LIST[-1]}  # the load runs on the last (largest) shop

STARTED=$(date +%s)
ensure_packages "benchmark servers, driver build" postgresql redis-server libpq-dev gcc
ensure_venv requirements.txt

# locust in a virtual environment of its own (see bench/web/requirements-locust.txt).
LOCUST_VENV=${LOCUST_VENV:-bench/web/.venv-locust}
LOCUST_STAMP="$LOCUST_VENV/.installed-$(sha256sum bench/web/requirements-locust.txt | cut -c1-16)"
if [ ! -f "$LOCUST_STAMP" ]; then
    echo "== Installing locust into $LOCUST_VENV"
    [ -x "$LOCUST_VENV/bin/python" ] || "$PYTHON" -m venv "$LOCUST_VENV"
    "$LOCUST_VENV/bin/pip" install -q --disable-pip-version-check -r bench/web/requirements-locust.txt
    touch "$LOCUST_STAMP"
fi

PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
WORK=$(mktemp -d /tmp/spindle-bench.XXXXXX)
OUT=bench/web/out/$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
CACHE=${BENCH_CACHE:-/tmp/spindle-bench-cache}
PG_PORT=$(free_port)
REDIS_PORT=$(free_port)
WEB_PORT=$(free_port)
CORES=$(nproc)
# Sync workers, cores + 1: PostgreSQL, Redis and locust run on the same cores, so gunicorn's usual 2 x cores + 1
# oversubscribes them (5 workers served 12.2 requests/s where 3 served 14.3, one run each on the shared 2-core
# machine); the one worker more than cores covers a worker waiting on PostgreSQL (a commit's fsync, a row lock).
# Threads would not add throughput to views that are mostly Python (the GIL).
WORKERS=${WORKERS:-$((CORES + 1))}
GUNICORN_PID=""

as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cleanup() {
    local status=$?
    set +e
    if [ -n "$GUNICORN_PID" ] && kill -0 "$GUNICORN_PID" 2>/dev/null; then
        kill -TERM "$GUNICORN_PID"
        wait "$GUNICORN_PID" 2>/dev/null
    fi
    [ -f "$WORK/pg/postmaster.pid" ] && as_postgres "$PG_BIN/pg_ctl" -D "$WORK/pg" -m fast stop >/dev/null 2>&1
    [ -f "$WORK/redis.pid" ] && kill "$(cat "$WORK/redis.pid")" 2>/dev/null
    [ -f "$WORK/pg.log" ] && cp "$WORK/pg.log" "$OUT/postgres.log"
    rm -rf "$WORK"
    if [ "$status" != 0 ]; then
        echo "!! The benchmark failed (exit $status); raw output and logs are in $OUT" >&2
        [ -f "$OUT/gunicorn.log" ] && tail -n 30 "$OUT/gunicorn.log" >&2
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

STEPS_FILE="$OUT/steps.tsv"
: > "$STEPS_FILE"
# step NAME command...: runs the command and notes how long it took.
step() {
    local name=$1; shift
    local began
    began=$(date +%s)
    "$@"
    printf '%s\t%s\n' "$name" "$(($(date +%s) - began))" >> "$STEPS_FILE"
}

cat /proc/loadavg > "$OUT/load-before.txt"

[ "$(id -u)" = 0 ] && chown postgres "$WORK"
echo "== Starting PostgreSQL on 127.0.0.1:$PG_PORT and Redis on 127.0.0.1:$REDIS_PORT (in $WORK)"
as_postgres "$PG_BIN/initdb" -D "$WORK/pg" -U spindle --auth=trust -E UTF8 >/dev/null
# Durable as in production (fsync and synchronous commit on): a terminal action's latency includes its commit.
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
PY="$VENV/bin/python"

# The cache key: the schema and the seed. Other code the seed writes through (services, models' methods) may change
# without a new key, as other work goes on in the tree; --no-cache (or a new day) seeds anew.
CODE_HASH=$(find core jobs machines inspection reporting shopfloor demo -name '*.py' -not -path '*/tests/*' \
    \( -path '*/migrations/*' -o -path 'demo/*' \) | sort | xargs cat | sha256sum | cut -c1-12)

# seed SIZE: a fresh database spindle_SIZE holding the seeded shop (from the cache when it has it).
seed() {
    local size=$1 db=spindle_$1
    local dump="$CACHE/$size-$(date +%F)-${SHOP_TIME_ZONE:-default}-$CODE_HASH.dump"
    as_postgres "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U spindle "$db"
    export DATABASE_URL="postgres://spindle@127.0.0.1:$PG_PORT/$db"
    if [ "$USE_CACHE" = 1 ] && [ -f "$dump" ]; then
        echo "== Restoring the $size shop from $dump"
        "$PG_BIN/pg_restore" -h 127.0.0.1 -p "$PG_PORT" -U spindle -d "$db" --no-owner -j 2 "$dump"
        "$PY" manage.py migrate --noinput -v0  # nothing to do unless the cache key missed a migration
    else
        echo "== Migrating and seeding the $size shop (the large one takes many minutes)"
        "$PY" manage.py migrate --noinput -v0
        "$PY" manage.py seed_demo --size "$size" 2>&1 | tee "$OUT/seed-$size.log"
        if [ "$USE_CACHE" = 1 ]; then
            mkdir -p "$CACHE"
            "$PG_BIN/pg_dump" -h 127.0.0.1 -p "$PG_PORT" -U spindle -Fc -f "$dump.tmp" "$db" && mv "$dump.tmp" "$dump"
        fi
    fi
    "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U spindle -d "$db" -qc "VACUUM ANALYZE" >/dev/null
}

echo "== collectstatic (the production storage needs its manifest to render a page)"
DATABASE_URL="postgres://spindle@127.0.0.1:$PG_PORT/postgres" step collectstatic "$PY" manage.py collectstatic --noinput -v0

for size in "${SIZE_LIST[@]}"; do
    step "seed $size" seed "$size"
    export DATABASE_URL="postgres://spindle@127.0.0.1:$PG_PORT/spindle_$size"
    echo "== Putting the $size floor to work and making $TERMINALS operator accounts"
    step "prepare $size" "$PY" -m bench.web.prepare --terminals "$TERMINALS" --out "$OUT/terminals-$size.json"
    echo "== Queries per request ($size shop)"
    step "queries $size" "$PY" -m bench.web.queries --terminals "$OUT/terminals-$size.json" --label "$size" \
        --out "$OUT/queries-$size.json" --sql "$OUT/queries-$size.sql"
done

if [ "$LOAD" = 1 ]; then
    export DATABASE_URL="postgres://spindle@127.0.0.1:$PG_PORT/spindle_$LOAD_SIZE"
    echo "== Starting gunicorn on 127.0.0.1:$WEB_PORT with $WORKERS workers ($LOAD_SIZE shop)"
    "$VENV/bin/gunicorn" config.wsgi:application --bind "127.0.0.1:$WEB_PORT" --workers "$WORKERS" \
        --timeout 120 --log-level warning --error-logfile "$OUT/gunicorn.log" &
    GUNICORN_PID=$!
    for _ in $(seq 1 120); do
        curl -fsS -o /dev/null "http://127.0.0.1:$WEB_PORT/healthz" 2>/dev/null && break
        kill -0 "$GUNICORN_PID" 2>/dev/null || { echo "gunicorn died" >&2; exit 1; }
        sleep 0.5
    done
    curl -fsS -o /dev/null "http://127.0.0.1:$WEB_PORT/healthz"
    # locust_run NAME TERMINALS MEASURE: one headless run; its CSVs are $OUT/NAME_stats.csv etc.
    # --run-time is only a safety net: the locustfile stops 15 + MEASURE seconds after the last terminal logged in.
    locust_run() {
        local name=$1 users=$2 measure=$3 began
        echo "== locust ($name): $users terminals, spawn rate $SPAWN_RATE/s, measured for $measure s from 15 s after the last login"
        began=$(date +%s)
        TERMINALS_FILE="$OUT/terminals-$LOAD_SIZE.json" MEASURE_SECONDS="$measure" \
            LOGIN_STATS_FILE="$OUT/$name-logins.json" \
            "$LOCUST_VENV/bin/locust" -f bench/web/locustfile.py --headless \
            --users "$users" --spawn-rate "$SPAWN_RATE" --run-time "$((measure + 600))s" \
            --host "http://127.0.0.1:$WEB_PORT" --csv "$OUT/$name" --only-summary --exit-code-on-error 0 \
            --loglevel WARNING 2>&1 | tee "$OUT/$name.log"
        printf '%s\t%s\n' "$name" "$(($(date +%s) - began))" >> "$STEPS_FILE"
    }
    # A few terminals first: the same requests through the same stack with the server far from saturated.
    [ "$REFERENCE" -gt 0 ] && locust_run reference "$REFERENCE" 60
    locust_run locust "$TERMINALS" "$MEASURE"
    kill -TERM "$GUNICORN_PID"
    wait "$GUNICORN_PID" 2>/dev/null || true
    GUNICORN_PID=""
fi

"$PY" - "$OUT" <<EOF
import json, os, platform, subprocess, sys
out = sys.argv[1]
steps = dict(line.rstrip("\n").split("\t") for line in open(f"{out}/steps.tsv"))
cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
dirty = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True).stdout.strip()
postgres = subprocess.run(["$PG_BIN/postgres", "--version"], capture_output=True, text=True).stdout.split()[2]
json.dump({
    "command": """$COMMAND""".strip(), "sizes": "$SIZES".split(","), "load_size": "$LOAD_SIZE" if $LOAD else None,
    "terminals": $TERMINALS, "reference_terminals": $REFERENCE, "cores": $CORES, "cpu": cpu, "gunicorn_workers": $WORKERS,
    "settings": os.environ["DJANGO_SETTINGS_MODULE"], "postgres": postgres,
    "load": {"before": [float(x) for x in open(f"{out}/load-before.txt").read().split()[:3]]},
    "steps": {name: int(seconds) for name, seconds in steps.items()},
    "total_seconds": $(($(date +%s) - STARTED)),
    "date": "$(date -u +%FT%TZ)", "commit": commit + (" + uncommitted changes" if dirty else ""),
}, open(f"{out}/meta.json", "w"), indent=1)
EOF
echo
"$PY" -m bench.web.report "$OUT" bench/web/RESULTS.md
echo
echo "== Done in $(($(date +%s) - STARTED)) s; raw output in $OUT; the table is in bench/web/RESULTS.md"
