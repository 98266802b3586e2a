"""The validator: checks any solution against every constraint of its problem.

``validate(problem, solution)`` returns the list of violations (empty = valid). Every
solver's output is validated in the tests and in the benchmark harness.
"""

from __future__ import annotations

from itertools import pairwise

from .instance import Instance, compile_problem
from .problem import Problem, Solution, Violation


def validate(problem: Problem | Instance, solution: Solution) -> list[Violation]:
    """All violated constraints of ``solution`` (an empty list means the schedule is valid)."""
    inst = problem if isinstance(problem, Instance) else compile_problem(problem)
    out: list[Violation] = []

    def bad(kind: str, i: int | None, message: str, machine: int | None = None) -> None:
        out.append(
            Violation(
                kind,
                None if i is None else inst.op_ids[i],
                message,
                None if machine is None else inst.machine_ids[machine],
            )
        )

    # every operation exactly once, on a known machine
    placed: dict[int, tuple[int, int, int, int]] = {}
    for oid, a in solution.assignments.items():
        i = inst.op_index.get(oid)
        if i is None:
            out.append(Violation("unknown_operation", oid, f"operation {oid!r} is not in the problem"))
            continue
        k = inst.machine_index.get(a.machine)
        if k is None or k not in inst.mode_of[i]:
            bad("eligibility", i, f"{oid} is on {a.machine!r}, which is not an eligible machine")
            continue
        placed[i] = (k, a.start, a.end, a.changeover)
    for i in range(inst.n):
        if i not in placed and inst.op_ids[i] not in solution.assignments:
            bad("missing", i, f"{inst.op_ids[i]} is not scheduled")

    for i, (k, start, end, chg) in placed.items():
        setup, run = inst.mode_of[i][k]
        oid = inst.op_ids[i]
        cal = inst.calendars[k]
        expected_end = inst.end_time(i, k, start)  # break-aware when runs resume after breaks
        if expected_end is not None and end != expected_end:
            crossed = expected_end - start - setup - run
            bad(
                "duration",
                i,
                f"{oid} lasts {end - start} min on {inst.machine_ids[k]}, expected {setup + run}"
                + (f" plus {crossed} min of breaks" if crossed else ""),
                k,
            )
        if chg < 0:
            bad("changeover", i, f"{oid} has a negative changeover", k)
        fixed = inst.fixed[i]
        if fixed is not None:
            if fixed != (k, start):
                bad(
                    "fixed",
                    i,
                    f"{oid} is fixed at {inst.machine_ids[fixed[0]]} minute {fixed[1]}, "
                    f"scheduled at {inst.machine_ids[k]} minute {start}",
                    k,
                )
            continue
        if start < inst.release[i] or start - chg < 0:
            bad("release", i, f"{oid} starts at {start} (changeover from {start - chg}), before {inst.release[i]}", k)
        available, attended = cal.check(start, chg, setup, run)
        where = inst.machine_ids[k]
        if inst.runs_resume and run and end != expected_end and cal.ends_in_break(end):
            bad("calendar", i, f"the run of {oid} ends at {end}, in a break of {where}", k)
        if not available:
            if not inst.runs_resume:
                bad("calendar", i, f"{oid} [{start - chg}, {end}) is not inside working time of {where}", k)
            elif expected_end is None:
                bad("calendar", i, f"the run of {oid} does not finish before the calendar of {where} ends", k)
            else:
                bad("calendar", i, f"{oid} starts at {start}, outside working time of {where}", k)
        elif not attended:
            bad("attended", i, f"changeover/setup of {oid} [{start - chg}, {start + setup}) is not in attended time", k)

    # precedence with minimum waits
    for i, (_, start, _, _) in placed.items():
        for p, wait in inst.preds[i]:
            both_fixed = inst.fixed[i] is not None and inst.fixed[p] is not None
            if p in placed and not both_fixed and start < placed[p][2] + wait:
                bad(
                    "precedence",
                    i,
                    f"{inst.op_ids[i]} starts at {start}, before {inst.op_ids[p]} ends at {placed[p][2]}"
                    + (f" plus a wait of {wait}" if wait else ""),
                )

    # machines: no overlap (changeover included) and changeovers sized by the rules
    per_machine: dict[int, list[int]] = {}
    for i, (k, *_rest) in placed.items():
        per_machine.setdefault(k, []).append(i)
    for k, ops in per_machine.items():
        ops.sort(key=lambda i: (placed[i][1], placed[i][2], i))
        prev = -1
        for i in ops:
            _, start, end, chg = placed[i]
            expected = inst.chg_ops(k, prev, i)
            if chg != expected:
                after = "the machine's current setup" if prev < 0 else inst.op_ids[prev]
                bad("changeover", i, f"{inst.op_ids[i]} has changeover {chg}, rules give {expected} after {after}", k)
            if prev >= 0 and start - chg < placed[prev][2]:
                bad(
                    "overlap",
                    i,
                    f"{inst.op_ids[i]} (changeover from {start - chg}) overlaps {inst.op_ids[prev]} "
                    f"(ends {placed[prev][2]}) on {inst.machine_ids[k]}",
                    k,
                )
            prev = i

    # fixtures are unary resources
    per_fixture: dict[int, list[int]] = {}
    for i in placed:
        if inst.fixture[i] >= 0:
            per_fixture.setdefault(inst.fixture[i], []).append(i)
    for ops in per_fixture.values():
        ops.sort(key=lambda i: (placed[i][1] - placed[i][3], placed[i][2]))
        for x, y in pairwise(ops):
            if placed[y][1] - placed[y][3] < placed[x][2]:
                fixture = inst.problem.operations[x].fixture
                bad("fixture", y, f"{inst.op_ids[y]} and {inst.op_ids[x]} use fixture {fixture!r} at the same time")

    # permutation groups: the same job order on every machine of the group
    for g, group in enumerate(inst.permutation_groups):
        orders: list[dict[int, int]] = []
        for k in group:
            pos: dict[int, int] = {}
            for rank, i in enumerate(per_machine.get(k, [])):
                pos.setdefault(inst.job_of[i], rank)
            orders.append(pos)
        for x in range(len(group)):
            for y in range(x + 1, len(group)):
                common = [j for j in orders[x] if j in orders[y]]
                seq_x = sorted(common, key=orders[x].__getitem__)
                seq_y = sorted(common, key=orders[y].__getitem__)
                if seq_x != seq_y:
                    first = next(a for a, b in zip(seq_x, seq_y, strict=True) if a != b)
                    out.append(
                        Violation(
                            "permutation",
                            None,
                            f"permutation group #{g + 1}: machines {inst.machine_ids[group[x]]} and "
                            f"{inst.machine_ids[group[y]]} process jobs in different orders "
                            f"(first difference at job {inst.job_ids[first]})",
                            inst.machine_ids[group[x]],
                        )
                    )
    return out
