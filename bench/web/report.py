"""The results table of bench/web/run.sh: `python -m bench.web.report OUT_DIR` prints it and writes RESULTS.md.

Reads what the run left in OUT_DIR: meta.json (the run's facts), queries-<size>.json (bench.web.queries),
locust_stats.csv and locust_failures.csv (locust --csv), logins.json (the locustfile)."""

import csv
import json
import sys
from pathlib import Path

QUERY_TARGET = 15
RATIO_TARGET = 5.0
BASELINE = "me (baseline)"
MEASURED = ["board fragment", "terminal page", "terminal report"]
# The requests whose query count the issue bounds (the others are shown for information).
QUERY_BOUNDED = {"poll_unchanged", "poll_changed", "poll_cached", "terminal_page"}


def read_json(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.exists() else None


def query_section(out: Path, sizes: list[str]) -> list[str]:
    runs = {size: read_json(out / f"queries-{size}.json") for size in sizes}
    runs = {size: run for size, run in runs.items() if run}
    if not runs:
        return ["No query counts (the query step did not run)."]
    last = list(runs)[-1]
    lines = ["| request | " + " | ".join(f"queries, {size}" for size in runs) + " | constant | target | "
             + " | ".join(f"ms in process (CPU), {size}" for size in runs) + f" | time / time(me), {last} |",
             "|---|" + "---:|" * len(runs) + "---|---|" + "---:|" * (len(runs) + 1)]
    first = next(iter(runs.values()))
    me = runs[last]["measures"]["me"]["median_ms"]
    for key, row in first["measures"].items():
        counts = [run["measures"][key]["queries"] for run in runs.values()]
        spread = [run["measures"][key]["queries_min"] for run in runs.values()]
        constant = "yes" if len(set(counts + spread)) == 1 else "**no**"
        target = (("met" if max(counts) <= QUERY_TARGET else "**missed**") + f" (≤ {QUERY_TARGET})"
                  if key in QUERY_BOUNDED else "—")
        times = [f"{run['measures'][key]['median_ms']:.0f} ({run['measures'][key].get('median_cpu_ms', 0):.0f})"
                 for run in runs.values()]
        ratio = runs[last]["measures"][key]["median_ms"] / me if me else 0
        lines.append(f"| {row['label']} | " + " | ".join(str(count) for count in counts)
                     + f" | {constant} | {target} | " + " | ".join(times) + f" | {ratio:.1f} |")
    lines.append("")
    lines.append("Shops: " + "; ".join(
        f"{size}: {run['shop']['machines']} machines, {run['shop']['open_operations']:,} open operations, "
        f"{run['shop']['machine_state_events']:,} machine state events, {run['shop']['production_entries']:,} "
        "production entries" for size, run in runs.items()) + ".")
    lines.append(f"Each count is the largest of {first['repeat']} repetitions after a warm-up ('constant': the same in "
                 "every repetition and at every size); session and user look-ups included. The times are the median "
                 "of the same request made alone through django.test.Client (wall time, and in brackets the CPU "
                 "time of the Django process, the database's work not included), on the shared, loaded machine; "
                 "the last column divides the wall times by that of /api/v1/me/: what the p95 ratios would tend to "
                 "on an unsaturated server.")
    return lines


def locust_rows(out: Path, name: str) -> dict[str, dict]:
    path = out / f"{name}_stats.csv"
    if not path.exists():
        return {}
    with path.open() as file:
        return {row["Name"]: row for row in csv.DictReader(file)}


def saturation(rows: dict[str, dict], terminals: int) -> tuple[float, float]:
    """(requests/s served, requests/s the terminals would send if every answer were instant): each terminal waits
    1-3 s, 2 s on average, between actions. Far below it, the server is saturated and every request waits in the
    same queue: latencies then say how long the queue is, and ratios between them tend to 1 whatever the views cost."""
    served = float(rows["Aggregated"]["Requests/s"]) if "Aggregated" in rows else 0.0
    return served, terminals / 2.0


def locust_section(out: Path, name: str, terminals: int, reference: dict[str, dict] | None = None) -> list[str]:
    rows = locust_rows(out, name)
    if not rows:
        return [f"No locust figures for this run ({name})."]
    logins = read_json(out / f"{name}-logins.json") or {}
    baseline = float(rows[BASELINE]["95%"]) if BASELINE in rows else None
    lines = ["| request | requests | failures | median ms | p95 ms | p99 ms | max ms | req/s | p95 / p95(me) "
             "| target |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for request in [*MEASURED, BASELINE, "Aggregated"]:
        row = rows.get(request)
        if row is None:
            continue
        p95 = float(row["95%"])
        ratio = f"{p95 / baseline:.1f}" if baseline and request in MEASURED else ("1" if request == BASELINE else "")
        target = ("met" if p95 / baseline <= RATIO_TARGET else "**missed**") + f" (≤ {RATIO_TARGET:.0f})" \
            if baseline and request in MEASURED else ""
        lines.append(f"| {request} | {row['Request Count']} | {row['Failure Count']} | {float(row['50%']):.0f} | "
                     f"{p95:.0f} | {float(row['99%']):.0f} | {float(row['Max Response Time']):.0f} | "
                     f"{float(row['Requests/s']):.1f} | {ratio} | {target} |")
    lines.append("")
    served, offered = saturation(rows, terminals)
    lines.append(f"Served {served:.1f} requests/s; the terminals would send ~{offered:.1f}/s if answers were instant "
                 "(each waits 1–3 s between actions). " + (
                     "**The server was saturated**: every request queued behind the others, so these latencies are "
                     "mostly queueing and the ratios say little about what each view costs."
                     if served < 0.7 * offered else "The server kept up."))
    if reference and BASELINE in reference and BASELINE in rows:
        lines.append(f"Queueing: `/api/v1/me/` took a median {float(rows[BASELINE]['50%']):.0f} ms here against "
                     f"{float(reference[BASELINE]['50%']):.0f} ms in the reference run below; "
                     "the difference is the time a request waited for a free worker.")
    lines.append(f"Measured for {logins.get('window_seconds')} s from {logins.get('settle_seconds', 0):.0f} s after "
                 f"the last login ({logins.get('logins', '?')} "
                 f"logins, {logins.get('login_failures', '?')} refused; login p50 {logins.get('login_p50_ms', '?')} "
                 f"ms, p95 {logins.get('login_p95_ms', '?')} ms, not counted above). Load average at the start and "
                 f"end of the window: {triple(logins.get('load_start'))} and {triple(logins.get('load_end'))}.")
    failures = out / f"{name}_failures.csv"
    if failures.exists():
        with failures.open() as file:
            failed = list(csv.DictReader(file))
        if failed:
            lines.append("")
            lines.append("Failures:")
            lines += [f"- {row['Method']} {row['Name']}: {row['Error']} ({row['Occurrences']}×)" for row in failed]
        else:
            lines.append("No failures.")
    return lines


def triple(value) -> str:
    return " / ".join(f"{number:.2f}" for number in value) if value else "?"


def machine_section(meta: dict) -> list[str]:
    load = meta.get("load", {})
    return [
        f"- Machine: {meta.get('cores', '?')} cores, {meta.get('cpu', '?')}; shared with other work during the run.",
        f"- Load average (1 / 5 / 15 min) before the run: {triple(load.get('before'))} (each locust window's is "
        "given with it).",
        f"- gunicorn {meta.get('gunicorn_workers', '?')} sync workers "
        f"({'cores + 1' if meta.get('gunicorn_workers') == meta.get('cores', 0) + 1 else 'WORKERS'}), settings "
        f"`{meta.get('settings', '?')}`; PostgreSQL {meta.get('postgres', '?')} and Redis on loopback; "
        "locust in its own process on the same machine.",
        f"- Command: `{meta.get('command', '?')}`; run time {meta.get('total_seconds', '?')} s "
        f"({'; '.join(f'{name} {seconds} s' for name, seconds in meta.get('steps', {}).items())}).",
        f"- Date: {meta.get('date', '?')}; commit {meta.get('commit', '?')}.",
    ]


def main() -> None:
    out = Path(sys.argv[1])
    results = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).with_name("RESULTS.md")
    meta = read_json(out / "meta.json") or {}
    sizes = meta.get("sizes", ["small", "large"])
    text = [
        "# Web benchmark results",
        "",
        "Written by `bash bench/web/run.sh`; what is measured and how: bench/web/README.md.",
        "",
        "## Queries per request",
        "",
        *query_section(out, sizes),
        "",
        f"## Latency under {meta.get('terminals', 100)} simulated terminals ({meta.get('load_size', '?')} shop)",
        "",
        "Task weights board fragment 3 : terminal page 3 : report 2 : me 2, each terminal waiting 1–3 s between "
        "actions; the board fragment is asked without a version, so it is always answered with the board (its body "
        "is rendered at most once per 2 s for every viewer, whatever changed meanwhile).",
        "",
        *locust_section(out, "locust", meta.get("terminals", 100), locust_rows(out, "reference")),
        "",
        *([f"## Reference: {meta['reference_terminals']} terminals, same server, same run", "",
           *locust_section(out, "reference", meta["reference_terminals"]), ""]
          if meta.get("reference_terminals") else []),
        "## The run",
        "",
        *machine_section(meta),
        "",
    ]
    results.write_text("\n".join(text))
    print("\n".join(text))


if __name__ == "__main__":
    main()
