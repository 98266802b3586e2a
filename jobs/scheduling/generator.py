"""A seeded generator of high-mix CNC shop instances.

``generate_shop(n_operations, n_machines, seed)`` builds a shop with work centers (3- and
5-axis mills, lathes, deburr benches, CMMs), part families that share fixtures, materials
and tool kits, routings of 2–5 steps, batches of 1–50, rule-based changeovers (fixture
swaps dominate, material and tool-kit changes add up, a program load is short; same-family
fixture swaps are cheaper), two attended shifts on weekdays with lights-out nights on the
mills, weekends off, releases, due dates and priorities. The same arguments always give the
same problem.
"""

from __future__ import annotations

import random
from typing import TypedDict

from .problem import (
    ChangeoverRule,
    Fixture,
    Job,
    Machine,
    Mode,
    Operation,
    Problem,
    Setup,
    Window,
)

DAY = 24 * 60
WEEK = 7 * DAY


class WorkCenterSpec(TypedDict):
    """A generated work center: its share of the machines, fixtures, tool kits, whether it runs
    lights-out at night, and its changeover minutes (any fixture, within a fixture family, tool kit)."""

    share: float
    fixtures: int
    kits: int
    night: bool
    fixture: int
    family: int
    tool_kit: int


WORK_CENTERS: dict[str, WorkCenterSpec] = {
    "3AX": {"share": 0.30, "fixtures": 10, "kits": 5, "night": True, "fixture": 60, "family": 25, "tool_kit": 30},
    "5AX": {"share": 0.20, "fixtures": 8, "kits": 4, "night": True, "fixture": 90, "family": 35, "tool_kit": 40},
    "LATHE": {"share": 0.25, "fixtures": 6, "kits": 4, "night": True, "fixture": 45, "family": 20, "tool_kit": 30},
    "DEBURR": {"share": 0.10, "fixtures": 0, "kits": 0, "night": False, "fixture": 0, "family": 0, "tool_kit": 0},
    "CMM": {"share": 0.15, "fixtures": 4, "kits": 0, "night": False, "fixture": 20, "family": 10, "tool_kit": 0},
}
MATERIALS = ("AL6061", "AL7075", "SS304", "SS316", "TI64", "BRASS360", "PEEK", "4140")
ROUTES = (
    ("LATHE", "3AX", "DEBURR", "CMM"),
    ("3AX", "DEBURR", "CMM"),
    ("5AX", "DEBURR", "CMM"),
    ("LATHE", "5AX", "DEBURR", "CMM"),
    ("3AX", "5AX", "DEBURR"),
    ("LATHE", "DEBURR"),
    ("3AX", "3AX", "DEBURR", "CMM"),
    ("LATHE", "3AX", "5AX", "DEBURR", "CMM"),
)


def _calendar(weeks: int, night: bool) -> list[Window]:
    windows = []
    for day in range(weeks * 7):
        if day % 7 >= 5:  # weekend off
            continue
        base = day * DAY
        windows.append(Window(base + 6 * 60, base + 22 * 60, True))  # two attended shifts
        if night:
            windows.append(Window(base + 22 * 60, base + 30 * 60, False))  # lights-out until 6:00
    return windows


def _machine_counts(n_machines: int) -> dict[str, int]:
    counts = {wc: max(1, round(spec["share"] * n_machines)) for wc, spec in WORK_CENTERS.items()}
    while sum(counts.values()) > n_machines:
        if max(counts.values()) > 1:
            wc = max(counts, key=lambda w: counts[w])
        else:  # fewer machines than work centers: the smallest work centers go
            wc = min((w for w in counts if counts[w]), key=lambda w: WORK_CENTERS[w]["share"])
        counts[wc] -= 1
    while sum(counts.values()) < n_machines:
        wc = min(counts, key=lambda w: counts[w] / WORK_CENTERS[w]["share"])
        counts[wc] += 1
    return counts


def generate_shop(n_operations: int = 500, n_machines: int = 20, seed: int = 1, due_factor: float = 1.0) -> Problem:
    """A reproducible high-mix shop with about ``n_operations`` operations on ``n_machines`` machines."""
    if n_machines < 1 or n_operations < 1:
        raise ValueError("a shop needs at least one machine and one operation")
    rng = random.Random(seed)
    counts = _machine_counts(n_machines)
    machines_by_wc: dict[str, list[str]] = {}
    speed: dict[str, float] = {}
    fixtures: list[Fixture] = []
    fixture_pool: dict[str, list[str]] = {}
    kit_pool: dict[str, list[str]] = {}
    for wc, spec in WORK_CENTERS.items():
        fixture_pool[wc] = [f"{wc}-FX{x + 1:02d}" for x in range(spec["fixtures"])]
        kit_pool[wc] = [f"{wc}-TK{x + 1}" for x in range(spec["kits"])]
        if counts[wc]:
            fixtures.extend(Fixture(f, (wc,)) for f in fixture_pool[wc])
        machines_by_wc[wc] = [f"{wc}-{x + 1:02d}" for x in range(counts[wc])]
        for mid in machines_by_wc[wc]:
            speed[mid] = rng.choice((0.85, 1.0, 1.0, 1.15))

    # parts: a routing, a material and per step a fixture, tool kit, program and times
    n_parts = max(4, n_operations // 12)
    parts = []
    routes = [r for r in ([wc for wc in route if counts[wc]] for route in ROUTES) if r]
    for p in range(n_parts):
        route = rng.choice(routes)
        material = rng.choice(MATERIALS[: 4 + p % 4])
        steps = []
        for s, wc in enumerate(route):
            pool = fixture_pool[wc]
            fixture = None
            if pool:
                fixture = pool[(p * 3 + s) % len(pool)] if rng.random() < 0.8 else rng.choice(pool)
            kit = rng.choice(kit_pool[wc]) if kit_pool[wc] else None
            setup = rng.randint(10, 40) if wc not in ("DEBURR", "CMM") else rng.randint(5, 15)
            cycle = rng.uniform(2, 14) if wc != "CMM" else rng.uniform(2, 6)
            steps.append((wc, fixture, kit, f"O{p + 1:03d}{(s + 1) * 10}", setup, cycle, rng.choice((0, 0, 0, 60))))
        parts.append((material, steps))

    machines: list[Machine] = []
    jobs: list[Job] = []
    ops: list[Operation] = []
    total_work = 0.0
    wc_work: dict[str, float] = {}
    j = 0
    while len(ops) < n_operations:
        material, steps = parts[rng.randrange(n_parts)]
        qty = rng.choice((1, 2, 5, 5, 10, 10, 20, 25, 50))
        jid = f"WO-{j + 1:04d}"
        prev = None
        chain = []
        for s, (wc, fixture, kit, program, setup, cycle, wait) in enumerate(steps):
            if len(ops) >= n_operations:
                break
            run = max(1, round(cycle * min(qty, 20) + cycle * 0.3 * max(0, qty - 20)))
            modes = [Mode(mid, setup, max(1, round(run * speed[mid]))) for mid in machines_by_wc[wc]]
            total_work += setup + run
            wc_work[wc] = wc_work.get(wc, 0.0) + setup + run
            oid = f"{jid}/{(s + 1) * 10}"
            ops.append(
                Operation(
                    oid,
                    jid,
                    modes,
                    predecessors=[prev] if prev else [],
                    wait_after=wait,
                    setup=Setup(fixture, material if wc != "CMM" else None, kit, program),
                )
            )
            chain.append(oid)
            prev = oid
        jobs.append(Job(jid, None, rng.choice((1, 1, 1, 2, 3))))
        j += 1

    # calendars long enough for the load (working minutes per week: 80 h attended + 40 h nights)
    per_machine = total_work / max(1, n_machines)
    busiest = max(wc_work[wc] / max(1, len(machines_by_wc[wc])) for wc in wc_work)
    weeks = max(3, int(busiest / (80 * 60) * 3) + 2)
    for wc, mids in machines_by_wc.items():
        for mid in mids:
            init = Setup(
                rng.choice(fixture_pool[wc]) if fixture_pool[wc] else None,
                rng.choice(MATERIALS),
                rng.choice(kit_pool[wc]) if kit_pool[wc] else None,
                None,
            )
            machines.append(Machine(mid, wc, _calendar(weeks, WORK_CENTERS[wc]["night"]), init))

    # releases and due dates: spread over the first weeks, allowance proportional to the work
    span = max(per_machine, busiest * 0.8) * 1.6
    by_job: dict[str, list[Operation]] = {}
    for op in ops:
        by_job.setdefault(op.job, []).append(op)
    for job in jobs:
        work = sum(min(m.setup + m.run for m in op.modes) for op in by_job[job.id])
        job.release = int(rng.uniform(0, span * 0.35)) // 60 * 60
        allowance = work * rng.uniform(3, 8) + rng.uniform(0.2, 1.0) * span
        job.due = int(job.release + allowance * due_factor) // 60 * 60 + 14 * 60

    rules: list[ChangeoverRule] = []
    for wc, spec in WORK_CENTERS.items():
        if spec["fixture"]:
            rules.append(ChangeoverRule("fixture", "*", "*", spec["fixture"], wc))
            pool = fixture_pool[wc]
            # same-family swaps (neighbouring fixtures share a base plate) are cheaper
            for a in range(0, len(pool) - 1, 2):
                for x, y in ((pool[a], pool[a + 1]), (pool[a + 1], pool[a])):
                    rules.append(ChangeoverRule("fixture", x, y, spec["family"], wc))
        if spec["tool_kit"]:
            rules.append(ChangeoverRule("tool_kit", "*", "*", spec["tool_kit"], wc))
        rules.append(ChangeoverRule("program", "*", "*", 5 if wc != "CMM" else 3, wc))
    rules.append(ChangeoverRule("material", "*", "*", 15))
    rules.append(ChangeoverRule("material", "*", "TI64", 30, priority=1))  # titanium needs a washdown
    return Problem(
        machines, jobs, ops, changeover_rules=rules, fixtures=fixtures, name=f"shop-{n_operations}x{n_machines}-s{seed}"
    )


def generate_sdst_pfsp(n_jobs: int, n_machines: int, setup_ratio: float, seed: int = 1) -> str:
    """A permutation flow shop with sequence-dependent setups in the ``sdst-pfsp`` text format.

    Like Ruiz's SDST sets: processing times uniform in 1..99, setup times uniform in
    1..``99 * setup_ratio`` (0.1, 0.5, 1.0, 1.25 for the 10/50/100/125% classes).
    """
    rng = random.Random(seed)
    lines = [str(n_jobs), str(n_machines)]
    for _ in range(n_jobs):
        lines.append("\t".join(str(rng.randint(1, 99)) for _ in range(n_machines)))
    top = max(1, round(99 * setup_ratio))
    for _ in range(n_machines):
        for _ in range(n_jobs):
            lines.append("\t".join(str(rng.randint(1, top)) for _ in range(n_jobs)))
    return "\n".join(lines) + "\n"
