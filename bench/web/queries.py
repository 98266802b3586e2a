"""Queries per request of the board and the terminal: `python -m bench.web.queries --terminals T.json --out Q.json`.

Run against a seeded and prepared database (bench/web/prepare.py), with the settings gunicorn gets. Each request
goes through the whole middleware stack (django.test.Client, logged in as a bench operator with force_login) and its
queries are counted with CaptureQueriesContext, session and user look-ups included. Every request is made once to
warm up, then REPEAT times; the counts must not vary (and must not grow with the shop: compare the sizes). The
in-process time of each request is noted too (one request at a time, no concurrency), and the CPU time this Python
process spent on it (time.process_time: the database's own work is not in it), which a busy machine inflates far
less than the wall time."""

import argparse
import json
import os
import re
import statistics
import time
import uuid
from collections import Counter

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.web.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from jobs.choices import JobStatus, OperationStatus  # noqa: E402
from jobs.models import JobOperation, ProductionEntry  # noqa: E402
from machines.models import Machine, MachineStateEvent  # noqa: E402
from reporting.board import board_version  # noqa: E402
from shopfloor.views.board import REFRESH_SECONDS  # noqa: E402

REPEAT = 5
HX = {"HTTP_HX_REQUEST": "true"}

# (key, label) in the order of the results table.
MEASURES = [
    ("poll_unchanged", "board poll, nothing changed (204)"),
    ("poll_changed", "board poll after a change (fragment, rendered)"),
    ("poll_cached", "board poll, same version, another viewer (cached)"),
    ("board_page", "board, full page (same version: cached body)"),
    ("terminal_page", "terminal page (running operation)"),
    ("terminal_report", "terminal action: report 1 good"),
    ("me", "GET /api/v1/me/ (baseline)"),
]


def shape(sql: str) -> str:
    """The query with its literals taken out, to spot the same query made again and again (N+1)."""
    return re.sub(r"\b\d+\b|'[^']*'", "?", sql)


def measure(client: Client, method: str, path: str, expect: int, **extra) -> tuple[int, float, list[str], float]:
    with CaptureQueriesContext(connection) as captured:
        began, cpu_began = time.perf_counter(), time.process_time()
        response = getattr(client, method)(path, **extra)
        elapsed, cpu = (time.perf_counter() - began) * 1000, (time.process_time() - cpu_began) * 1000
    if response.status_code != expect:
        raise SystemExit(f"{method.upper()} {path}: {response.status_code}, expected {expect}\n"
                         f"{response.content[:2000].decode(errors='replace')}")
    if path.startswith("/terminal/") and b'role="alert"' in response.content:  # a refusal shown on the panel
        raise SystemExit(f"{method.upper()} {path}: the page shows an error\n{response.content[:3000].decode()}")
    return len(captured.captured_queries), elapsed, [query["sql"] for query in captured.captured_queries], cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--terminals", required=True, help="the JSON written by bench.web.prepare")
    parser.add_argument("--out", required=True, help="where to write the counts (JSON)")
    parser.add_argument("--sql", help="where to write the SQL of the last repetition of each request")
    parser.add_argument("--label", default="")
    args = parser.parse_args()

    with open(args.terminals) as file:
        terminal = json.load(file)["terminals"][0]
    machine_id, operation_id = terminal["machine_id"], terminal["operation_id"]
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(get_user_model().objects.get(username=terminal["username"]))

    def report():
        return measure(client, "post", f"/terminal/{machine_id}/operations/{operation_id}/report/", 200,
                       data={"good": "1", "scrap": "0", "confirm_overrun": "true", "nonce": uuid.uuid4().hex}, **HX)

    def requests(version: str) -> dict:
        results = {"poll_unchanged": measure(client, "get", f"/board/?v={version}", 204, **HX)}
        results["terminal_report"] = report()  # the change the next poll must show
        time.sleep(REFRESH_SECONDS)  # once the last render is this old, a change is drawn anew
        results["poll_changed"] = measure(client, "get", f"/board/?v={version}", 200, **HX)
        # What the load test's board task asks (no version): the body of this version is rendered already.
        results["poll_cached"] = measure(client, "get", "/board/", 200, **HX)
        results["board_page"] = measure(client, "get", "/board/", 200)
        results["terminal_page"] = measure(client, "get", f"/terminal/{machine_id}/", 200)
        results["me"] = measure(client, "get", "/api/v1/me/", 200)
        return results

    requests(board_version(today=timezone.localdate()))  # warm-up: the session learns its station, caches fill
    runs = [requests(board_version(today=timezone.localdate())) for _ in range(REPEAT)]

    shop = {
        "machines": Machine.objects.filter(active=True).count(),
        "open_operations": JobOperation.objects.filter(job__status__in=JobStatus.open())
        .exclude(status=OperationStatus.DONE).count(),
        "machine_state_events": MachineStateEvent.objects.count(),
        "production_entries": ProductionEntry.objects.count(),
    }
    out = {"label": args.label, "shop": shop, "repeat": REPEAT, "measures": {}}
    for key, label in MEASURES:
        counts = [run[key][0] for run in runs]
        times = [run[key][1] for run in runs]
        cpu = [run[key][3] for run in runs]
        repeated = Counter(shape(sql) for sql in runs[-1][key][2])
        out["measures"][key] = {
            "label": label, "queries": max(counts), "queries_min": min(counts),
            "median_ms": round(statistics.median(times), 1), "median_cpu_ms": round(statistics.median(cpu), 1),
            "repeated_shapes": sum(count - 1 for count in repeated.values() if count > 1),
        }
    with open(args.out, "w") as file:
        json.dump(out, file, indent=1)
    if args.sql:
        with open(args.sql, "w") as file:
            for key, label in MEASURES:
                file.write(f"=== {label}: {len(runs[-1][key][2])} queries\n")
                for number, sql in enumerate(runs[-1][key][2], start=1):
                    file.write(f"{number:3d}. {sql}\n")
                file.write("\n")
    width = max(len(label) for _, label in MEASURES)
    print(f"  {args.label}: {shop['machines']} machines, {shop['open_operations']} open operations, "
          f"{shop['machine_state_events']} state events")
    for key, label in MEASURES:
        row = out["measures"][key]
        spread = "" if row["queries"] == row["queries_min"] else f" (min {row['queries_min']})"
        print(f"  {label:<{width}}  {row['queries']:>3} queries{spread}  {row['median_ms']:>7.1f} ms in process, "
              f"{row['median_cpu_ms']:>6.1f} ms of it Python CPU")


if __name__ == "__main__":
    main()
