#!/usr/bin/env bash
# `make demo`: the embedded default on one host, with no server to install beforehand.
# Installs what is missing, migrates the SQLite file under var/, seeds the demo shop, then runs
# the web server, a Celery worker (file-system broker under var/broker), Celery beat, two replay
# agents of recorded MTConnect data and the collector that feeds three demo machines from them,
# until Ctrl-C or SIGTERM, and stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

PORT=${PORT:-8000}
export DJANGO_SETTINGS_MODULE=config.settings.local
export PYTHONUNBUFFERED=1  # log lines reach the terminal as they happen

# psycopg2 is pinned from source: it builds against libpq even when the demo uses SQLite.
# WeasyPrint (traveler PDFs) renders with the system's pango and needs a font.
ensure_packages "PostgreSQL driver build, PDF rendering" \
    libpq-dev gcc libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
ensure_venv requirements.txt

VAR=${SPINDLE_VAR_DIR:-var}
mkdir -p "$VAR/log" "$VAR/run"

# The web port must be free; the replay agents take the first two free ports above it.
AGENT_PORTS=$("$VENV/bin/python" - "$PORT" <<'EOF'
import itertools, socket, sys
def free(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as runserver does: TIME_WAIT is no conflict
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True
port = int(sys.argv[1])
if not free(port):
    sys.exit(f"Port {port} on 127.0.0.1 is in use: stop what runs there or choose another, e.g. PORT=8001 make demo")
print(*itertools.islice((p for p in range(port + 1, 65536) if free(p)), 2))
EOF
) || exit 1
read -r OKUMA_PORT VMC_PORT <<<"$AGENT_PORTS"
OKUMA_URL="http://127.0.0.1:$OKUMA_PORT"
VMC_URL="http://127.0.0.1:$VMC_PORT"

echo "== Migrating the database"
"$VENV/bin/python" manage.py migrate --noinput
echo "== Seeding the demo shop"
# Every run: a shop seeded before keeps its connected machines, pointed at this run's agents.
"$VENV/bin/python" manage.py seed_demo --agent "okuma=$OKUMA_URL" --agent "vmc-haas=$VMC_URL"

PIDS=()
NAMES=()
STOPPING=0

# start NAME command...: runs the command in its own session (so that the terminal's Ctrl-C reaches
# only this script, which then stops everything in order), its output prefixed on the terminal and
# copied to var/log/NAME.log (rewritten at each start).
start() {
    local name=$1; shift
    # The log pipe ignores Ctrl-C: it must outlive the process it reads, which logs its shutdown.
    setsid "$@" > >(trap '' INT TERM; sed -u "s/^/[$name] /" | tee "$VAR/log/$name.log") 2>&1 < /dev/null &
    PIDS+=("$!")
    NAMES+=("$name")
}

alive() { kill -0 "$1" 2>/dev/null; }

stop_all() {
    set +e
    trap '' INT TERM
    [ ${#PIDS[@]} -eq 0 ] && return 0
    echo "== Stopping ${NAMES[*]} (the worker finishes its running tasks first; up to 30 s)"
    local pid
    # SIGTERM to each main process only: the worker's warm shutdown lets its pool finish the
    # running tasks (a pool process killed directly, or SIGKILL, would lose its task).
    for pid in "${PIDS[@]}"; do
        alive "$pid" && kill -TERM "$pid" 2>/dev/null
    done
    local deadline=$((SECONDS + 30)) running=1
    while [ $running = 1 ] && [ $SECONDS -lt $deadline ]; do
        running=0
        for pid in "${PIDS[@]}"; do alive "$pid" && running=1; done
        [ $running = 1 ] && sleep 0.1
    done
    for pid in "${PIDS[@]}"; do
        # The main process or what is left of its group (each was started as a group leader).
        if alive "$pid" || kill -0 -- "-$pid" 2>/dev/null; then
            echo "== Killing process group $pid" >&2
            kill -KILL -- "-$pid" 2>/dev/null
        fi
    done
    wait 2>/dev/null
    PIDS=()
    echo "== Spindle stopped"
}
trap stop_all EXIT
trap 'STOPPING=1' INT TERM

echo "== Starting web on 127.0.0.1:$PORT, worker, beat, the replay agents and the collector (logs also in $VAR/log/)"
start web "$VENV/bin/python" manage.py runserver "127.0.0.1:$PORT" --noreload
# One worker node on one host: no peers to mingle, gossip or exchange heartbeats with.
# Prefork with two processes, so that one long task (a schedule solve) leaves a slot free.
start worker "$VENV/bin/celery" -A config worker --loglevel=INFO --concurrency=2 -Q celery,scheduling \
    --hostname "spindle-demo@%h" --without-gossip --without-mingle --without-heartbeat
start beat "$VENV/bin/celery" -A config beat --loglevel=INFO \
    --scheduler django_celery_beat.schedulers:DatabaseScheduler --pidfile "$VAR/run/celerybeat.pid"
# Recorded MTConnect agents, looping, and the collector that reads them into the connected machines' status logs.
start agent-okuma "$VENV/bin/python" manage.py mtconnect_replay --recording okuma --port "$OKUMA_PORT"
start agent-vmc-haas "$VENV/bin/python" manage.py mtconnect_replay --recording vmc-haas --port "$VMC_PORT"
start collector "$VENV/bin/python" manage.py machines_collect --heartbeat-file "$VAR/run/collector.heartbeat"

URL="http://127.0.0.1:$PORT"
ready=0
deadline=$((SECONDS + 120))
while [ $SECONDS -lt $deadline ]; do
    [ $STOPPING = 1 ] && break
    for i in "${!PIDS[@]}"; do
        alive "${PIDS[$i]}" || { echo "== ${NAMES[$i]} exited during start-up; see $VAR/log/${NAMES[$i]}.log" >&2; exit 1; }
    done
    if "$VENV/bin/python" -c "import sys, urllib.request
try:
    sys.exit(urllib.request.urlopen('$URL/healthz', timeout=2).status != 200)
except Exception:
    sys.exit(1)" 2>/dev/null; then
        ready=1
        break
    fi
    sleep 0.5 || true
done
if [ $ready = 1 ]; then
    cat <<EOF

  Spindle is running at $URL/  (health: $URL/healthz)
  Demo logins, password spindle-demo for each:
    operator   - shop-floor terminal
    inspector  - inspection
    planner    - planning board
    manager    - reports
    admin      - everything, including $URL/admin/
  Connected machines (marked live on the board): replayed MTConnect agents at $OKUMA_URL
  (Okuma) and $VMC_URL (VMC and Haas), read by the collector; the others are operator-only.
  Press Ctrl-C to stop them all.

EOF
elif [ $STOPPING = 0 ]; then
    echo "== $URL/healthz did not answer 200 within 120 s; see $VAR/log/" >&2
    exit 1
fi

# Run until Ctrl-C / SIGTERM (the trap sets STOPPING) or until one of the processes exits.
while [ $STOPPING = 0 ]; do
    for i in "${!PIDS[@]}"; do
        if ! alive "${PIDS[$i]}"; then
            echo "== ${NAMES[$i]} exited unexpectedly; see $VAR/log/${NAMES[$i]}.log" >&2
            exit 1
        fi
    done
    sleep 0.5 || true
done
exit 0
