"""The collector benchmark's RESULTS.md from one run's output folder:

    python -m bench.collector.report OUT bench/collector/RESULTS.md
"""

import json
import platform
import subprocess
import sys
from pathlib import Path

INGEST = ("throughput", "catchup", "floor500", "floor500-10x50", "floor500-50x10")


def _load(value: list[float]) -> str:
    return " / ".join(f"{x:.2f}" for x in value)


def ingest_rows(out: Path) -> list[str]:
    rows = ["| scenario | agents × machines | offered obs/s | **applied obs/s** | state changes/s (events written/s) "
            "| **collector CPU, % of one core** | PostgreSQL CPU % | fake agents CPU % | behind at the end (obs) "
            "| window s | load average before → after |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for name in INGEST:
        path = out / f"{name}.json"
        if not path.exists():
            continue
        r = json.loads(path.read_text())
        offered = f"backlog {r['backlog_per_agent']:,} per agent" if r["backlog_per_agent"] else \
            f"{r['offered_per_second']:,.0f}"
        rows.append(
            f"| {name} | {r['agents']} × {r['devices_per_agent']} = {r['machines']} | {offered} | "
            f"**{r['applied_per_second']:,.0f}** | {r['state_changes_per_second']:,.0f} "
            f"({r['state_events_per_second']:,.0f}) | **{r['collector_cpu_percent']}** | {r['postgres_cpu_percent']} | "
            f"{r['agents_cpu_percent']} | {r['lag_at_end']['observations']:,} | {r['window_seconds']} | "
            f"{_load(r['load_before'])} → {_load(r['load_after'])} |")
    return rows


def latency_rows(out: Path) -> list[str]:
    path = out / "latency.json"
    if not path.exists():
        return []
    r = json.loads(path.read_text())

    def cell(summary: dict) -> str:
        return f"{summary['p50']} / **{summary['p95']}** / {summary['max']}" if summary.get("n") else "-"

    return [
        f"{r['machines']} machines on {r['machines'] // 10} agents, the floor at {r['floor_rate']:.0f} observations/s "
        f"(5 % of them execution changes), {r['changes']} timed changes; {r['screens']} board screens polling every "
        f"{r['board_poll']} s (as the page says), {r['terminals']} terminals fetching their page every "
        f"{r['terminal_poll']} s; gunicorn {r['gunicorn_cpu_percent']} % and the collector "
        f"{r['collector_cpu_percent']} % of a core; load average {_load(r['load_before'])} → "
        f"{_load(r['load_after'])}.",
        "",
        "| seconds from the change at the agent to … | samples | p50 / **p95** / max |",
        "|---|---:|---|",
        f"| the agent serving it to the collector | {r['agent_served']['n']} | {cell(r['agent_served'])} |",
        f"| its interval open in PostgreSQL (polled every 0.1 s) | {r['committed']['n']} | {cell(r['committed'])} |",
        f"| **a board screen showing it** (target p95 ≤ 5 s) | {r['board']['n']} (missed {r['board']['missed']}) | "
        f"{cell(r['board'])} |",
        f"| … of which after the commit (render window, poll) | {r['board_after_commit']['n']} | "
        f"{cell(r['board_after_commit'])} |",
        f"| **a terminal showing it** (its page every {r['terminal_poll']} s) | {r['terminal']['n']} "
        f"(missed {r['terminal']['missed']}) | {cell(r['terminal'])} |",
        f"| … of which after the commit | {r['terminal_after_commit']['n']} | {cell(r['terminal_after_commit'])} |",
        "",
        f"Requests: boards {r['board']['requests']} ({r['board']['errors']} errors), terminals "
        f"{r['terminal']['requests']} ({r['terminal']['errors']} errors).",
    ]


def main() -> None:
    out, target = Path(sys.argv[1]), Path(sys.argv[2])
    meta = json.loads((out / "meta.json").read_text()) if (out / "meta.json").exists() else {}
    with open("/proc/cpuinfo") as info:
        cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), "?")
    cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                           text=True).stdout.strip()
    uptime = {when: (out / f"uptime-{when}.txt").read_text().strip() for when in ("before", "after")
              if (out / f"uptime-{when}.txt").exists()}
    lines = [
        "# Collector benchmark: results of the last run",
        "",
        f"`{meta.get('command', 'bash bench/collector/run.sh')}` on {meta.get('date', '?')}, commit {commit}"
        f"{' + uncommitted changes' if dirty else ''}; {cores} cores ({cpu}), Python {platform.python_version()}, "
        f"PostgreSQL {meta.get('postgres', '?')} durable "
        "(fsync and synchronous commit on), the production settings. Method: [README.md](README.md).",
        "",
        f"- uptime before: `{uptime.get('before', '?')}`",
        f"- uptime after: `{uptime.get('after', '?')}`",
        "",
        "## Ingestion: the real `manage.py machines_collect` process",
        "",
        *ingest_rows(out),
        "",
        "## Latency: a state change at the agent to the board and the terminal",
        "",
        *(latency_rows(out) or ["(not run)"]),
        "",
    ]
    target.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
