"""Small hand-built problems shared by the engine tests."""

from __future__ import annotations

from itertools import permutations

from jobs.scheduling.problem import (
    ChangeoverRule,
    Job,
    Machine,
    Mode,
    Objective,
    Operation,
    Problem,
    Setup,
)


def chain(job: str, steps: list[list[tuple[str, int]]], setups: list[Setup] | None = None) -> list[Operation]:
    """Operations ``job-0, job-1, ...`` in routing order; each step lists ``(machine, minutes)``."""
    ops = []
    for k, modes in enumerate(steps):
        ops.append(
            Operation(
                f"{job}-{k}",
                job,
                [Mode(m, 0, d) for m, d in modes],
                predecessors=[f"{job}-{k - 1}"] if k else [],
                setup=setups[k] if setups else Setup(),
            )
        )
    return ops


def two_machine_flow(objective: Objective | None = None) -> Problem:
    """Three jobs through M1 then M2: (3, 2), (1, 4), (2, 2). Johnson's rule: makespan 9 is optimal
    (M2 has 8 minutes of work and cannot start before minute 1)."""
    times = {"J1": (3, 2), "J2": (1, 4), "J3": (2, 2)}
    ops = []
    for job, (a, b) in times.items():
        ops += chain(job, [[("M1", a)], [("M2", b)]])
    return Problem(
        [Machine("M1", "A"), Machine("M2", "B")],
        [Job(j) for j in times],
        ops,
        objective=objective or Objective.makespan_only(),
    )


def flexible_case() -> Problem:
    """Two jobs, two identical machines, the second step of each job may go to either: makespan 5.

    J1: 2 min on M1, then 3 min on M1 or M2.  J2: 2 min on M2, then 3 min on M1 or M2.
    """
    ops = chain("J1", [[("M1", 2)], [("M1", 3), ("M2", 3)]]) + chain("J2", [[("M2", 2)], [("M1", 3), ("M2", 3)]])
    return Problem(
        [Machine("M1", "A"), Machine("M2", "A")], [Job("J1"), Job("J2")], ops, objective=Objective.makespan_only()
    )


SDST_P = {"J1": (4, 3), "J2": (2, 5), "J3": (5, 2)}
SDST_S = {  # setup[machine][(from, to)]
    "M1": {("J1", "J2"): 6, ("J2", "J1"): 1, ("J1", "J3"): 2, ("J3", "J1"): 7, ("J2", "J3"): 1, ("J3", "J2"): 5},
    "M2": {("J1", "J2"): 4, ("J2", "J1"): 2, ("J1", "J3"): 1, ("J3", "J1"): 6, ("J2", "J3"): 3, ("J3", "J2"): 2},
}


def tiny_sdst() -> Problem:
    """A 3-job, 2-machine permutation flow shop with sequence-dependent setups (first setup free)."""
    ops = []
    for job, (a, b) in SDST_P.items():
        ops += chain(job, [[("M1", a)], [("M2", b)]], [Setup(program=job)] * 2)
    rules = [
        ChangeoverRule("program", frm, to, minutes, work_center=m)
        for m, table in SDST_S.items()
        for (frm, to), minutes in table.items()
    ]
    return Problem(
        [Machine("M1", "M1"), Machine("M2", "M2")],
        [Job(j) for j in SDST_P],
        ops,
        changeover_rules=rules,
        permutation_groups=[["M1", "M2"]],
        objective=Objective.makespan_only(),
    )


def tiny_sdst_optimum() -> int:
    """Brute force over the 6 permutations, computed independently of the engine."""
    best = None
    for perm in permutations(SDST_P):
        c1 = c2 = 0
        prev = None
        for job in perm:
            a, b = SDST_P[job]
            s1 = SDST_S["M1"].get((prev, job), 0) if prev else 0
            s2 = SDST_S["M2"].get((prev, job), 0) if prev else 0
            c1 = c1 + s1 + a
            c2 = max(c1, c2 + s2) + b
            prev = job
        best = c2 if best is None else min(best, c2)
    assert best is not None
    return best


FIXTURE_RULES = [
    ChangeoverRule("fixture", "*", "*", 60, work_center="MILL"),
    ChangeoverRule("material", "*", "*", 15),
]


def grouping_case() -> Problem:
    """One mill, six 30-minute operations alternating between two fixtures in EDD order.

    Grouping by fixture needs one changeover (60 min, the machine has VISE mounted); the EDD
    order needs five. Due dates are loose enough for any order.
    """
    ops, jobs = [], []
    for n in range(6):
        fixture = "VISE" if n % 2 == 0 else "PLATE"
        job = f"WO-{n + 1}"
        jobs.append(Job(job, due=10_000 + n))
        ops.append(Operation(f"{job}/10", job, [Mode("M1", 0, 30)], setup=Setup(fixture=fixture)))
    return Problem(
        [Machine("M1", "MILL", initial_setup=Setup(fixture="VISE"))],
        jobs,
        ops,
        changeover_rules=FIXTURE_RULES,
    )
