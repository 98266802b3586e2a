"""The problem (and solution) as a JSON file: export, share, replay.

The schema is ``jobs/scheduling/problem.schema.json`` (JSON Schema 2020-12); in short::

    {
      "format": "spindle-scheduling-problem", "version": 1, "name": "...",
      "objective": {"weights": null},            # null = lexicographic; else [tardiness, changeover, makespan]
      "runs_resume_after_breaks": false,         # true: a run pauses over calendar breaks and goes on after
      "machines": [{"id": "M1", "work_center": "5AX",
                    "initial_setup": {"fixture": "F1", "material": "AL6061", "tool_kit": null, "program": null},
                    "windows": [{"start": 0, "end": 480, "attended": true}, ...] or null}],
      "jobs": [{"id": "WO-1", "due": 2880, "weight": 1, "release": 0}],
      "operations": [{"id": "WO-1/10", "job": "WO-1",
                      "modes": [{"machine": "M1", "setup": 30, "run": 120}],
                      "predecessors": [], "wait_after": 0, "release": 0,
                      "setup": {"fixture": "F1", "material": "AL6061", "tool_kit": "TK-3", "program": "O1001"},
                      "fixed": null or {"machine": "M1", "start": 0}}],
      "changeover_rules": [{"attribute": "fixture", "from": "*", "to": "*", "minutes": 45,
                            "work_center": "5AX", "priority": 0}],
      "fixtures": [{"id": "F1", "work_centers": ["5AX"]}],
      "permutation_groups": [["M1", "M2"]]
    }

All times are integer minutes from the horizon start. Omitted optional keys take the
defaults of the dataclasses in :mod:`jobs.scheduling.problem`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .problem import (
    ATTRIBUTES,
    WILDCARD,
    ChangeoverRule,
    Fixture,
    Job,
    Machine,
    Mode,
    Objective,
    Operation,
    Placement,
    Problem,
    ProblemError,
    Setup,
    Solution,
    Window,
)

FORMAT = "spindle-scheduling-problem"
VERSION = 1
SCHEMA_PATH = Path(__file__).with_name("problem.schema.json")


def _setup_to(s: Setup) -> dict[str, str | None]:
    return {a: s.value(a) for a in ATTRIBUTES}


def _setup_from(d: dict[str, Any] | None) -> Setup:
    d = d or {}
    unknown = set(d) - set(ATTRIBUTES)
    if unknown:
        raise ProblemError(f"unknown setup attribute(s): {', '.join(sorted(unknown))}")
    return Setup(**{a: (None if d.get(a) is None else str(d[a])) for a in ATTRIBUTES})


def problem_to_dict(p: Problem) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "name": p.name,
        "objective": {"weights": None if p.objective.weights is None else list(p.objective.weights)},
        "runs_resume_after_breaks": p.runs_resume_after_breaks,
        "machines": [
            {
                "id": m.id,
                "work_center": m.work_center,
                "initial_setup": _setup_to(m.initial_setup),
                "windows": None
                if m.windows is None
                else [{"start": w.start, "end": w.end, "attended": w.attended} for w in m.windows],
            }
            for m in p.machines
        ],
        "jobs": [{"id": j.id, "due": j.due, "weight": j.weight, "release": j.release} for j in p.jobs],
        "operations": [
            {
                "id": o.id,
                "job": o.job,
                "modes": [{"machine": md.machine, "setup": md.setup, "run": md.run} for md in o.modes],
                "predecessors": list(o.predecessors),
                "wait_after": o.wait_after,
                "release": o.release,
                "setup": _setup_to(o.setup),
                "fixed": None if o.fixed is None else {"machine": o.fixed.machine, "start": o.fixed.start},
            }
            for o in p.operations
        ],
        "changeover_rules": [
            {
                "attribute": r.attribute,
                "from": r.from_value,
                "to": r.to_value,
                "minutes": r.minutes,
                "work_center": r.work_center,
                "priority": r.priority,
            }
            for r in p.changeover_rules
        ],
        "fixtures": [{"id": f.id, "work_centers": list(f.work_centers)} for f in p.fixtures],
        "permutation_groups": [list(g) for g in p.permutation_groups],
    }


def _req(d: dict[str, Any], key: str, where: str) -> Any:
    if key not in d:
        raise ProblemError(f"{where}: missing {key!r}")
    return d[key]


def problem_from_dict(d: dict[str, Any]) -> Problem:
    """Build a :class:`Problem` from its JSON form; raises :class:`ProblemError` on malformed input."""
    if not isinstance(d, dict):
        raise ProblemError("a problem must be a JSON object")
    if d.get("format", FORMAT) != FORMAT:
        raise ProblemError(f"not a {FORMAT} file (format {d.get('format')!r})")
    try:
        weights = (d.get("objective") or {}).get("weights")
        machines = []
        for k, m in enumerate(_req(d, "machines", "problem")):
            where = f"machine #{k + 1}"
            windows = m.get("windows")
            machines.append(
                Machine(
                    id=str(_req(m, "id", where)),
                    work_center=str(m.get("work_center", "")),
                    windows=None
                    if windows is None
                    else [Window(int(w["start"]), int(w["end"]), bool(w.get("attended", True))) for w in windows],
                    initial_setup=_setup_from(m.get("initial_setup")),
                )
            )
        jobs = [
            Job(
                id=str(_req(j, "id", f"job #{k + 1}")),
                due=None if j.get("due") is None else int(j["due"]),
                weight=int(j.get("weight", 1)),
                release=int(j.get("release", 0)),
            )
            for k, j in enumerate(_req(d, "jobs", "problem"))
        ]
        ops = []
        for k, o in enumerate(_req(d, "operations", "problem")):
            where = f"operation #{k + 1}"
            fixed = o.get("fixed")
            ops.append(
                Operation(
                    id=str(_req(o, "id", where)),
                    job=str(_req(o, "job", where)),
                    modes=[
                        Mode(str(md["machine"]), int(md.get("setup", 0)), int(md["run"])) for md in o.get("modes", [])
                    ],
                    predecessors=[str(x) for x in o.get("predecessors", [])],
                    wait_after=int(o.get("wait_after", 0)),
                    setup=_setup_from(o.get("setup")),
                    release=int(o.get("release", 0)),
                    fixed=None if fixed is None else Placement(str(fixed["machine"]), int(fixed["start"])),
                )
            )
        rules = [
            ChangeoverRule(
                attribute=str(r["attribute"]),
                from_value=str(r.get("from", WILDCARD)),
                to_value=str(r.get("to", WILDCARD)),
                minutes=int(r["minutes"]),
                work_center=str(r.get("work_center", WILDCARD)),
                priority=int(r.get("priority", 0)),
            )
            for r in d.get("changeover_rules", [])
        ]
        fixtures = [
            Fixture(str(f["id"]), tuple(str(w) for w in f.get("work_centers", []))) for f in d.get("fixtures", [])
        ]
        groups = [[str(x) for x in g] for g in d.get("permutation_groups", [])]
        runs_resume = d.get("runs_resume_after_breaks", False)
        if not isinstance(runs_resume, bool):
            raise ProblemError(f"runs_resume_after_breaks must be true or false, not {runs_resume!r}")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, ProblemError):
            raise
        raise ProblemError(f"malformed problem: {exc!r}") from exc
    return Problem(
        machines,
        jobs,
        ops,
        changeover_rules=rules,
        fixtures=fixtures,
        permutation_groups=groups,
        objective=Objective(None if weights is None else tuple(int(w) for w in weights)),  # type: ignore[arg-type]
        name=str(d.get("name", "")),
        runs_resume_after_breaks=runs_resume,
    )


def save_problem(problem: Problem, path: str | Path, indent: int | None = 1) -> None:
    Path(path).write_text(json.dumps(problem_to_dict(problem), indent=indent) + "\n")


def load_problem(path: str | Path) -> Problem:
    try:
        data = json.loads(Path(path).read_text())
    except json.JSONDecodeError as exc:
        raise ProblemError(f"{path}: not JSON ({exc})") from exc
    problem = problem_from_dict(data)
    if not problem.name:
        problem.name = Path(path).stem
    return problem


def solution_to_dict(solution: Solution) -> dict[str, Any]:
    return {
        "solver": solution.solver,
        "assignments": [
            {"operation": oid, "machine": a.machine, "start": a.start, "end": a.end, "changeover": a.changeover}
            for oid, a in solution.assignments.items()
        ],
    }


def solution_from_dict(d: dict[str, Any]) -> Solution:
    from .problem import Assignment

    return Solution(
        {
            str(a["operation"]): Assignment(str(a["machine"]), int(a["start"]), int(a["end"]), int(a["changeover"]))
            for a in d["assignments"]
        },
        solver=str(d.get("solver", "")),
    )
