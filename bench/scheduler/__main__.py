"""Scheduler benchmark: ``python -m bench.scheduler FILE... --time-limit S --workers W --solver NAME --json OUT``.

FILE is a benchmark instance (format recognised from its folder: ``fjsp/``, ``sdst-pfsp/``,
``jsp/``) or a JSON problem (``bench/scheduler/shop/*.json``). ``--solver`` takes one of
ours (a name in ``jobs.scheduling.engine.SOLVERS``) or ``pyjobshop`` (the peer); give it several
times, or comma-separated, to run them side by side. Benchmark instances are solved for makespan;
JSON problems with their own objective.

Prints a table; ``--json OUT`` writes a list with one object per instance and solver:
``instance, solver, makespan, best_known, gap_pct, seconds, first_solution_seconds,
changeover_total, valid, schedule`` (``schedule``: ``{job, operation, machine, start, end}``
with 0-based indices in the file's order), plus ``weighted_tardiness``, ``tardy_jobs``,
``violations`` and ``peak_rss_mb``.

``--generate N M SEED OUT`` writes a generated shop of N operations on M machines instead.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

from jobs.scheduling.engine import SOLVERS, solve
from jobs.scheduling.instance import Instance, compile_problem
from jobs.scheduling.problem import ProblemError, Solution
from jobs.scheduling.readers import best_known, read_instance
from jobs.scheduling.validate import validate

PEERS = ("pyjobshop",)


def schedule_rows(inst: Instance, solution: Solution) -> list[dict[str, int]]:
    """``{job, operation, machine, start, end}`` with 0-based indices in the file's order."""
    position: dict[int, int] = {}
    op_pos: list[int] = []
    for i in range(inst.n):
        j = inst.job_of[i]
        op_pos.append(position.get(j, 0))
        position[j] = op_pos[-1] + 1
    rows = []
    for i, oid in enumerate(inst.op_ids):
        a = solution.assignments.get(oid)
        if a is None:
            continue
        rows.append(
            {
                "job": inst.job_of[i],
                "operation": op_pos[i],
                "machine": inst.machine_index[a.machine],
                "start": a.start,
                "end": a.end,
            }
        )
    return rows


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_one(path: str, solver: str, time_limit: float, workers: int, seed: int) -> dict:
    problem = read_instance(path)
    inst = compile_problem(problem)
    bks = best_known(path)
    t0 = time.monotonic()
    first = None
    status = ""
    if solver == "pyjobshop":
        from .peer import solve_pyjobshop

        solution, seconds, status = solve_pyjobshop(inst, time_limit, workers)
    else:
        result = solve(inst, solver=solver, time_limit=time_limit, workers=workers, seed=seed)
        solution, seconds, first, status = result.solution, result.seconds, result.first_solution_seconds, result.status
        solver = solver if solver != "auto" else f"auto:{result.solver}"
    if solution is None:
        return {
            "instance": path,
            "solver": solver,
            "makespan": None,
            "best_known": bks,
            "gap_pct": None,
            "seconds": round(time.monotonic() - t0, 3),
            "first_solution_seconds": None,
            "changeover_total": None,
            "valid": False,
            "schedule": [],
            "status": status,
        }
    violations = validate(inst, solution)
    sched = inst.from_solution(solution)
    figures = inst.figures(sched)
    gap = None if bks is None else round(100.0 * (figures.makespan - bks) / bks, 2)
    return {
        "instance": path,
        "solver": solver,
        "makespan": figures.makespan,
        "best_known": bks,
        "gap_pct": gap,
        "seconds": round(seconds, 3),
        "first_solution_seconds": None if first is None else round(first, 3),
        "changeover_total": figures.changeover_total,
        "valid": not violations,
        "schedule": schedule_rows(inst, solution),
        "weighted_tardiness": figures.weighted_tardiness,
        "tardy_jobs": figures.tardy_jobs,
        "status": status,
        "violations": [v.message for v in violations[:20]],
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def _fmt(v: object) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.2f}"
    return str(v)


def print_table(rows: list[dict], out=sys.stdout) -> None:
    cols = [
        ("instance", "instance"),
        ("solver", "solver"),
        ("makespan", "makespan"),
        ("best_known", "bks"),
        ("gap_pct", "gap%"),
        ("seconds", "s"),
        ("first_solution_seconds", "first s"),
        ("changeover_total", "changeover"),
        ("tardy_jobs", "tardy"),
        ("weighted_tardiness", "w.tard"),
        ("valid", "valid"),
    ]
    table = [[h for _, h in cols]] + [[_fmt(r.get(k)) for k, _ in cols] for r in rows]
    widths = [max(len(row[c]) for row in table) for c in range(len(cols))]
    for n, row in enumerate(table):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)), file=out)
        if n == 0:
            print("  ".join("-" * w for w in widths), file=out)
    gaps: dict[str, list[float]] = {}
    for r in rows:
        if r.get("gap_pct") is not None:
            gaps.setdefault(r["solver"].split(":")[0], []).append(r["gap_pct"])
    for solver, g in gaps.items():
        print(f"mean gap {solver}: {sum(g) / len(g):.2f}% over {len(g)} instance(s)", file=out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scheduler", description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="*", help="instance files (fjsp/, sdst-pfsp/, jsp/ folders, or .json)")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per instance and solver")
    parser.add_argument("--workers", type=int, default=8, help="CP-SAT workers (and search processes)")
    parser.add_argument("--solver", action="append", help="solver(s): " + ", ".join([*SOLVERS, *PEERS]))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", dest="json_out", help="write the results as a JSON list here")
    parser.add_argument(
        "--generate",
        nargs=4,
        metavar=("N_OPS", "N_MACHINES", "SEED", "OUT"),
        help="write a generated shop problem (JSON) and exit",
    )
    args = parser.parse_args(argv)
    if args.generate:
        from jobs.scheduling.generator import generate_shop
        from jobs.scheduling.io import save_problem

        n_ops, n_machines, seed, out = args.generate
        save_problem(generate_shop(int(n_ops), int(n_machines), int(seed)), out, indent=None)
        print(f"wrote {out}")
        return 0
    if not args.files:
        parser.error("give at least one instance file")
    solvers = [s for spec in (args.solver or ["auto", "pyjobshop"]) for s in spec.split(",") if s]
    for s in solvers:
        if s not in SOLVERS and s not in PEERS:
            parser.error(f"unknown solver {s!r}")
    rows = []
    for path in args.files:
        for solver in solvers:
            try:
                row = run_one(path, solver, args.time_limit, args.workers, args.seed)
            except ProblemError as exc:
                print(f"{path} [{solver}]: {exc}", file=sys.stderr)
                continue
            rows.append(row)
            print(
                f"{path} [{row['solver']}] makespan {row['makespan']} (bks {row['best_known']}, gap "
                f"{_fmt(row['gap_pct'])}%) changeover {row['changeover_total']} valid {row['valid']} "
                f"in {row['seconds']:.1f}s",
                file=sys.stderr,
                flush=True,
            )
            if args.json_out:  # written as it goes: a long run can be followed and survives a stop
                Path(args.json_out).write_text(json.dumps(rows, indent=1) + "\n")
    print_table(rows)
    return 0 if all(r["valid"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
