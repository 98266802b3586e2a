"""The peer: PyJobShop (CP-SAT backend) on the same problem, for side-by-side figures.

The problem is handed to PyJobShop as its own model: one machine per machine, one task per
operation with one mode per eligible machine, end-before-start precedences (with minimum
waits), sequence-dependent setup times between every pair of operations that can share a
machine (from our changeover rules), ``SameSequence`` between consecutive machines of a
permutation group, and the makespan objective (benchmark instances). Calendars, fixtures
and fixed operations are not translated: the peer runs on benchmark instances only.
"""

from __future__ import annotations

import time

from jobs.scheduling.instance import Instance
from jobs.scheduling.problem import Assignment, ProblemError, Solution


def solve_pyjobshop(inst: Instance, time_limit: float, workers: int) -> tuple[Solution | None, float, str]:
    """Solve with PyJobShop; returns (solution or None, seconds, status)."""
    import pyjobshop

    if any(not cal.always for cal in inst.calendars) or any(f is not None for f in inst.fixed):
        raise ProblemError("the PyJobShop peer runs on benchmark instances only (no calendars or fixed operations)")
    t0 = time.monotonic()
    model = pyjobshop.Model()
    machines = [model.add_machine(name=mid) for mid in inst.machine_ids]
    jobs = [model.add_job(name=jid) for jid in inst.job_ids]
    tasks = []
    for i in range(inst.n):
        task = model.add_task(jobs[inst.job_of[i]], earliest_start=inst.release[i], name=inst.op_ids[i])
        for k, s, r in inst.modes[i]:
            model.add_mode(task, machines[k], s + r)
        tasks.append(task)
    for i in range(inst.n):
        for p, wait in inst.preds[i]:
            model.add_end_before_start(tasks[p], tasks[i], wait)
    if inst.has_changeovers:
        for k, ops in enumerate(inst.eligible_ops):
            for a in ops:
                for b in ops:
                    if a != b:
                        c = inst.chg_ops(k, a, b)
                        if c:
                            model.add_setup_time(machines[k], tasks[a], tasks[b], c)
    for group in inst.permutation_groups:
        for a, b in zip(group, group[1:], strict=False):
            ta = [tasks[i] for i in inst.eligible_ops[a]]
            tb = [tasks[i] for i in inst.eligible_ops[b]]
            # pair the tasks of each job: same job order on both machines
            by_job_b = {inst.job_of[i]: tasks[i] for i in inst.eligible_ops[b]}
            pairs = [
                (t, by_job_b[inst.job_of[i]])
                for i, t in zip(inst.eligible_ops[a], ta, strict=True)
                if inst.job_of[i] in by_job_b
            ]
            if pairs and len(pairs) == len(ta) == len(tb):
                model.add_same_sequence(machines[a], machines[b], [x for x, _ in pairs], [y for _, y in pairs])
    model.set_objective(weight_makespan=1)
    result = model.solve("ortools", time_limit=time_limit, display=False, num_workers=workers)
    seconds = time.monotonic() - t0
    if not result.best.tasks or result.objective == float("inf"):
        return None, seconds, result.status.value
    placed = []
    for i, st in enumerate(result.best.tasks):
        placed.append((i, st.resources[0], st.start, st.end))
    per_machine: dict[int, list[tuple[int, int, int, int]]] = {}
    for row in placed:
        per_machine.setdefault(row[1], []).append(row)
    assignments = {}
    for k, rows in per_machine.items():
        rows.sort(key=lambda r: (r[2], r[3]))
        prev = -1
        for i, _, start, end in rows:
            assignments[inst.op_ids[i]] = Assignment(inst.machine_ids[k], start, end, inst.chg_ops(k, prev, i))
            prev = i
    return Solution(assignments, solver="pyjobshop"), seconds, result.status.value
