"""Latency end to end: from a state change at an agent to the board and the terminal a person looks at.

    python -m bench.collector.latency --url http://127.0.0.1:8000 --port 47000 --out latency.json

With gunicorn serving Spindle (`--url`) on the database the collector writes, this starts the fake agents (a busy
floor: every machine one observation per second, 5 % of them execution changes) and the real collector, then every
few seconds changes one "pinned" machine's execution (ACTIVE <-> FEED_HOLD: running <-> idle, no operation being on
it) at an agent, and notes when each simulated screen first shows the new state:

- **board screens**, each as board.html's htmx poll does it: the page, then `GET /board/?v=<the version it shows>`
  with `HX-Request: true` every poll interval (5 s, `--board-poll`); a 204 swaps nothing and the next poll follows
  the interval, a new fragment is swapped in and its element starts its own interval. Each screen starts at a
  random moment, so the polls fall at random phases, as on a shop floor;
- **terminals** of the changed machines: the terminal page, fetched every `--terminal-poll` seconds (the page has no
  poll of its own yet: this stands in for one), its station tab showing the machine's state.

The latency of a (screen, change) is the time the screen received the answer that shows the new state minus the time
the agent recorded the change; a poll only sees a change at its next poll, so the poll interval is in it. Where the
time goes: the agent serving it (`/bench/served`), the collector committing it (the open interval, polled in the
database every 0.1 s), and the rest (the board's render window and the screen's poll).
"""

import argparse
import asyncio
import json
import random
import re
import statistics
import threading
import time
from importlib import import_module
from pathlib import Path

import httpx
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.db import connection

from bench.collector.harness import (
    Agents,
    collector_start,
    collector_stop,
    connected_machines,
    cpu_seconds,
    load_average,
    shop_make,
    tree_seconds,
    wait_until,
)
from machines.models import Machine, MachineStateEvent

TILE = re.compile(r'<article class="tile[^"]*" id="tile-\d+" data-machine="([^"]+)" data-state="([^"]+)"')
VERSION = re.compile(r'id="board-live"[^>]*data-version="([^"]+)"')
POLL = re.compile(r'id="board-live"[^>]*hx-trigger="every ([\d.]+)s"')
STATION_TAB = re.compile(r'class="station-tab active"[^>]*>\s*(\S+) <span class="state state-([\w-]+)"')
EXPECTED = {"ACTIVE": "running", "FEED_HOLD": "idle"}  # no operation on the machine: timeline.py


def session_cookie() -> dict[str, str]:
    """A logged-in session of a bench user, made as the login view makes it (no password hashing)."""
    user, _ = get_user_model().objects.get_or_create(username="bench-screen", defaults={"is_staff": False})
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY], store[BACKEND_SESSION_KEY] = str(user.pk), settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return {settings.SESSION_COOKIE_NAME: store.session_key}


class Change:
    def __init__(self, machine: str, execution: str, at: float, sequence: int, agent_url: str) -> None:
        self.machine, self.execution, self.at, self.sequence = machine, execution, at, sequence
        self.agent_url = agent_url
        self.state = EXPECTED[execution]
        self.served_at: float | None = None
        self.committed_at: float | None = None


class Screen:
    """What one screen (a board or a terminal) has shown, and when it first showed each change."""

    def __init__(self, kind: str, name: str) -> None:
        self.kind, self.name = kind, name
        self.seen: dict[Change, float] = {}
        self.requests = 0
        self.errors = 0

    def shows(self, states: dict[str, str], received: float, changes: dict[str, list[Change]]) -> None:
        for machine, state in states.items():
            for change in reversed(changes.get(machine, [])):
                if change.at < received:  # the latest change made before this answer arrived
                    if state == change.state and change not in self.seen:
                        self.seen[change] = received
                    break


async def board_screen(screen: Screen, client: httpx.AsyncClient, url: str, poll: float, phase: float,
                       changes: dict[str, list[Change]], stop: asyncio.Event) -> None:
    await asyncio.sleep(phase)
    page = await client.get(f"{url}/board/")
    version = VERSION.search(page.text)
    assert version, "the board page has no live part"
    held = version.group(1)
    screen.shows(dict(TILE.findall(page.text)), time.time(), changes)
    tick = time.monotonic()
    while not stop.is_set():
        tick += poll
        await asyncio.sleep(max(0.0, tick - time.monotonic()))
        try:
            answer = await client.get(f"{url}/board/", params={"v": held}, headers={"HX-Request": "true"})
        except httpx.HTTPError:
            screen.errors += 1
            continue
        screen.requests += 1
        if answer.status_code == 200:
            received = time.time()
            found = VERSION.search(answer.text)
            if found:
                held = found.group(1)
            screen.shows(dict(TILE.findall(answer.text)), received, changes)
            tick = time.monotonic()  # the swapped-in element starts its own `every` interval
        elif answer.status_code != 204:
            screen.errors += 1


async def terminal_screen(screen: Screen, client: httpx.AsyncClient, url: str, machine_id: int, poll: float,
                          phase: float, changes: dict[str, list[Change]], stop: asyncio.Event) -> None:
    await asyncio.sleep(phase)
    tick = time.monotonic()
    while not stop.is_set():
        try:
            answer = await client.get(f"{url}/terminal/{machine_id}/")
        except httpx.HTTPError:
            screen.errors += 1
        else:
            screen.requests += 1
            tab = STATION_TAB.search(answer.text)
            if answer.status_code == 200 and tab:
                screen.shows({tab.group(1): tab.group(2)}, time.time(), changes)
            else:
                screen.errors += 1
        tick += poll
        await asyncio.sleep(max(0.0, tick - time.monotonic()))


def watch_commits(changes: dict[str, list[Change]], stop: threading.Event) -> None:
    """When each change's interval is open in the database: the collector's part of the latency."""
    while not stop.is_set():
        now = time.time()
        rows = MachineStateEvent.objects.filter(machine__code__in=list(changes), ended_at__isnull=True).values_list(
            "machine__code", "state")
        for machine, state in rows:
            for change in reversed(changes[machine]):
                if change.at < now:
                    if change.committed_at is None and state == change.state:
                        change.committed_at = now
                    break
        stop.wait(0.1)
    connection.close()


def _logins(machines: list[str], sessions: int) -> tuple[dict[str, int], list[dict[str, str]]]:
    ids = dict(Machine.objects.filter(code__in=machines).values_list("code", "pk"))
    cookies = [session_cookie() for _ in range(sessions)]
    connection.close()
    return ids, cookies


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(round(share * len(ordered) + 0.5)) - 1))]


def summary(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    return {"n": len(values), "p50": round(statistics.median(values), 2), "p95": round(percentile(values, 0.95), 2),
            "max": round(max(values), 2), "mean": round(statistics.fmean(values), 2)}


async def measure(args: argparse.Namespace, agents: Agents, gunicorn: list[int]) -> dict:
    pinned = {name: agents.url(agent) for agent in agents.stats for name in agent["pinned"]}
    ids, cookies = await asyncio.to_thread(_logins, list(pinned), 1 + args.terminals * len(pinned))
    cookie = cookies.pop()
    changes: dict[str, list[Change]] = {name: [] for name in pinned}
    stop = asyncio.Event()
    rng = random.Random(args.seed)
    screens: list[Screen] = []
    tasks = []
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    clients = []
    board_client = httpx.AsyncClient(cookies=cookie, timeout=30, limits=limits)
    clients.append(board_client)
    page = await board_client.get(f"{args.url}/board/")
    poll = args.board_poll or float(POLL.search(page.text).group(1))  # type: ignore[union-attr]
    for number in range(args.screens):
        screen = Screen("board", f"board-{number}")
        screens.append(screen)
        tasks.append(asyncio.create_task(board_screen(screen, board_client, args.url, poll, rng.uniform(0, poll),
                                                      changes, stop)))
    for machine in pinned:
        for number in range(args.terminals):
            client = httpx.AsyncClient(cookies=cookies.pop(), timeout=30)  # a terminal's own session
            clients.append(client)
            screen = Screen("terminal", f"terminal-{machine}-{number}")
            screens.append(screen)
            tasks.append(asyncio.create_task(terminal_screen(screen, client, args.url, ids[machine],
                                                             args.terminal_poll, rng.uniform(0, args.terminal_poll),
                                                             changes, stop)))
    watching = threading.Event()
    watcher = threading.Thread(target=watch_commits, args=(changes, watching), daemon=True)
    watcher.start()
    await asyncio.sleep(max(poll, args.terminal_poll) + 2)  # every screen has its page
    cpu_before = {"gunicorn": sum(tree_seconds(pid) for pid in gunicorn)}
    began = time.monotonic()
    executions = dict.fromkeys(pinned, "ACTIVE")
    order = list(pinned)
    async with httpx.AsyncClient(timeout=10) as agent_client:
        for number in range(args.changes):
            await asyncio.sleep(rng.uniform(0.8, 1.2) * args.every)
            machine = order[number % len(order)]
            executions[machine] = "FEED_HOLD" if executions[machine] == "ACTIVE" else "ACTIVE"
            made = (await agent_client.get(f"{pinned[machine]}/bench/change",
                                           params={"device": machine, "execution": executions[machine]})).json()
            changes[machine].append(Change(machine, executions[machine], made["at"], made["sequence"],
                                           pinned[machine]))
        await asyncio.sleep(args.settle)  # the last change reaches every screen
        stop.set()
        for change in (change for machine_changes in changes.values() for change in machine_changes):
            answer = await agent_client.get(f"{change.agent_url}/bench/served", params={"sequence": change.sequence})
            change.served_at = answer.json()["served_at"]
    seconds = time.monotonic() - began
    gunicorn_cpu = sum(tree_seconds(pid) for pid in gunicorn) - cpu_before["gunicorn"]
    watching.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    for client in clients:
        await client.aclose()
    watcher.join()

    every_change = [change for machine_changes in changes.values() for change in machine_changes]
    result: dict = {"changes": len(every_change), "screens": args.screens,
                    "terminals": args.terminals * len(pinned), "board_poll": poll,
                    "terminal_poll": args.terminal_poll, "seconds": round(seconds, 1),
                    "gunicorn_cpu_percent": round(100 * gunicorn_cpu / seconds, 1)}
    result["agent_served"] = summary([c.served_at - c.at for c in every_change if c.served_at])
    result["committed"] = summary([c.committed_at - c.at for c in every_change if c.committed_at])
    for kind in ("board", "terminal"):
        mine = [screen for screen in screens if screen.kind == kind]
        latencies = [at - change.at for screen in mine for change, at in screen.seen.items()]
        expected = sum(len(changes[machine]) for machine in changes) * len(mine) if kind == "board" else sum(
            len(changes[screen.name.split("-")[1]]) for screen in mine)
        result[kind] = {**summary(latencies), "missed": expected - len(latencies),
                        "requests": sum(screen.requests for screen in mine),
                        "errors": sum(screen.errors for screen in mine)}
        # After the commit: the board's render window and the poll.
        result[f"{kind}_after_commit"] = summary([at - change.committed_at for screen in mine
                                                  for change, at in screen.seen.items() if change.committed_at])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="Spindle behind gunicorn.")
    parser.add_argument("--port", type=int, required=True, help="The first fake agent's port.")
    parser.add_argument("--agents", type=int, default=6)
    parser.add_argument("--devices", type=int, default=10, help="Machines per agent (the first of each is timed).")
    parser.add_argument("--rate", type=float, default=60, help="Observations/s of the whole floor.")
    parser.add_argument("--changes", type=int, default=60)
    parser.add_argument("--every", type=float, default=3.0, help="Seconds between timed changes (+-20 %%).")
    parser.add_argument("--screens", type=int, default=20, help="Board screens.")
    parser.add_argument("--terminals", type=int, default=3, help="Terminals per timed machine.")
    parser.add_argument("--board-poll", type=float, default=0,
                        help="Seconds between a board's polls (default: as the page's hx-trigger says).")
    parser.add_argument("--terminal-poll", type=float, default=3.0,
                        help="Seconds between a terminal page's fetches (the page has no poll of its own yet).")
    parser.add_argument("--settle", type=float, default=15.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--gunicorn-pid", type=int, action="append", default=[])
    parser.add_argument("--log", default="/dev/null", help="The collector's output.")
    parser.add_argument("--collector-args", default="", help="Options for machines_collect.")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    load_before = load_average()
    agents = Agents.start(port=args.port, agents=args.agents, devices=args.devices, rate=args.rate, pinned=1)
    machines = len(shop_make(agents))
    collector = collector_start(Path(args.log), *args.collector_args.split())
    try:
        wait_until(lambda: connected_machines() == machines, timeout=180, what="every machine connected",
                   process=collector)
        collector_cpu = cpu_seconds(collector.pid)
        began = time.monotonic()
        result = asyncio.run(measure(args, agents, args.gunicorn_pid))
        result["collector_cpu_percent"] = round(100 * (cpu_seconds(collector.pid) - collector_cpu)
                                                / (time.monotonic() - began), 1)
    finally:
        collector_stop(collector)
        agents.stop()
    result |= {"machines": machines, "floor_rate": args.rate, "collector_args": args.collector_args,
               "load_before": load_before, "load_after": load_average()}
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
