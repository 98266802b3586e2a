"""Ingestion: the real collector process following fake agents, observations/s applied and its CPU.

    python -m bench.collector.ingest --agents 10 --devices 10 --rate 5000 --measure 60 --port 47000 --out r.json

Steady (`--rate`): the agents make `rate` observations per second between them; after `--warmup` seconds the window
opens and counts what the collector applied (by its cursors) and the CPU of the collector, PostgreSQL and the agents.
Catch-up (`--backlog N --rate 0`): each agent already holds N observations and every machine's cursor stands at
the first, as after a collector outage: the collector applies them as fast as it can, and the window is the first
`--measure` seconds of that (or until it is done).
"""

import argparse
import json
import os
import time
from pathlib import Path

import httpx

from bench.collector.harness import (
    Agents,
    applied,
    collector_start,
    collector_stop,
    connected_machines,
    cpu_seconds,
    cursors,
    load_average,
    mtconnect_events,
    shop_make,
    tree_seconds,
    wait_until,
)


def sample(collector_pid: int, agents_pid: int, postmaster: int, client: httpx.Client) -> dict:
    counts = applied(client)
    return {"time": time.monotonic(), "collector_cpu": cpu_seconds(collector_pid),
            "postgres_cpu": tree_seconds(postmaster), "agents_cpu": cpu_seconds(agents_pid),
            "observations": counts["observations"], "executions": counts["executions"],
            "state_events": mtconnect_events()}


def run(args: argparse.Namespace) -> dict:
    postmaster = int(os.environ["BENCH_POSTMASTER_PID"])
    load_before = load_average()
    agents = Agents.start(port=args.port, agents=args.agents, devices=args.devices, rate=args.rate,
                          backlog=args.backlog, buffer_size=max(131_072, args.backlog + 10_000))
    machines = len(shop_make(agents, cursors_at_first=args.backlog > 0))
    collector = collector_start(Path(args.log))
    series = []
    try:
        with httpx.Client(timeout=30) as client:
            wait_until(lambda: connected_machines() == machines, timeout=180, what="every machine connected",
                       process=collector)
            if not args.backlog:
                time.sleep(args.warmup)
            first = last = sample(collector.pid, agents.process.pid, postmaster, client)
            series.append(first)
            backlog_total = args.backlog * args.agents
            while last["time"] - first["time"] < args.measure - 1e-3:
                time.sleep(min(args.step, args.measure - (last["time"] - first["time"])))
                last = sample(collector.pid, agents.process.pid, postmaster, client)
                series.append(last)
                if args.backlog and last["observations"] >= backlog_total:
                    break  # caught up: the rest would measure an idle collector
            lag = {url: max(client.get(f"{url}/bench/stats").json()["next"] - min(devices.values()), 0)
                   for url, devices in cursors().items()}
    finally:
        status = collector_stop(collector)
        agents.stop()
    seconds = last["time"] - first["time"]

    def per_second(key: str) -> float:
        return (last[key] - first[key]) / seconds

    return {
        "label": args.label, "agents": args.agents, "devices_per_agent": args.devices, "machines": machines,
        "offered_per_second": args.rate, "backlog_per_agent": args.backlog, "window_seconds": round(seconds, 1),
        "applied_per_second": round(per_second("observations"), 1),
        "state_changes_per_second": round(per_second("executions"), 1),
        "state_events_per_second": round(per_second("state_events"), 1),
        "collector_cpu_percent": round(100 * per_second("collector_cpu"), 1),
        "postgres_cpu_percent": round(100 * per_second("postgres_cpu"), 1),
        "agents_cpu_percent": round(100 * per_second("agents_cpu"), 1),
        "lag_at_end": {"observations": sum(lag.values()), "max_per_agent": max(lag.values(), default=0)},
        "collector_exit": status, "load_before": load_before, "load_after": load_average(),
        "series": [{key: round(value - (first["time"] if key == "time" else 0), 2) for key, value in point.items()}
                   for point in series],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--label", default="ingest")
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--devices", type=int, default=10, help="Devices (machines) per agent.")
    parser.add_argument("--rate", type=float, default=5000, help="Observations per second, all agents together.")
    parser.add_argument("--backlog", type=int, default=0, help="Observations each agent holds at the start.")
    parser.add_argument("--measure", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=10)
    parser.add_argument("--step", type=float, default=5, help="Seconds between the samples of the series.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", default="/dev/null", help="The collector's output.")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    result = run(args)
    Path(args.out).write_text(json.dumps(result, indent=1))
    series = result.pop("series")
    print(json.dumps(result))
    print(f"   {len(series)} samples; applied/s per step:",
          [round((b["observations"] - a["observations"]) / max(b["time"] - a["time"], 1e-9))
           for a, b in zip(series, series[1:], strict=False)])


if __name__ == "__main__":
    main()
