"""A checked, index-based view of a :class:`Problem` that the solvers work on.

:func:`compile_problem` rejects bad input with a :class:`ProblemError` whose message names
the culprit (an operation with no eligible machine, a calendar with no working time, a
cycle in precedence, a fixture that fits no machine, ...). Solvers use integer indices:
operations ``0..n-1`` in the problem's order, machines ``0..m-1``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .calendars import Calendar
from .changeovers import ChangeoverRules
from .problem import Assignment, Figures, Machine, Objective, Problem, ProblemError, Setup, Solution


@dataclass
class Schedule:
    """Index-based schedule: per operation its machine, start, end and changeover (-1 = unset)."""

    machine: list[int]
    start: list[int]
    end: list[int]
    changeover: list[int]

    @classmethod
    def empty(cls, n: int) -> Schedule:
        return cls([-1] * n, [0] * n, [0] * n, [0] * n)

    def copy(self) -> Schedule:
        return Schedule(self.machine[:], self.start[:], self.end[:], self.changeover[:])

    def sequences(self, n_machines: int) -> list[list[int]]:
        seqs: list[list[int]] = [[] for _ in range(n_machines)]
        for i, m in enumerate(self.machine):
            seqs[m].append(i)
        for seq in seqs:
            seq.sort(key=lambda i: (self.start[i], self.end[i], i))
        return seqs


class Instance:
    """Index arrays of a checked problem. Build with :func:`compile_problem`."""

    def __init__(self, problem: Problem):
        self.problem = problem
        self.objective: Objective = problem.objective
        self._check_ids()
        self.machine_ids = [m.id for m in problem.machines]
        self.machine_index = {mid: k for k, mid in enumerate(self.machine_ids)}
        self.work_center = [m.work_center for m in problem.machines]
        self.n_machines = len(self.machine_ids)
        self.runs_resume = problem.runs_resume_after_breaks
        self.calendars = [self._calendar(m, self.runs_resume) for m in problem.machines]

        self.job_ids = [j.id for j in problem.jobs]
        job_index = {jid: k for k, jid in enumerate(self.job_ids)}
        self.due = [j.due for j in problem.jobs]
        self.weight = [j.weight for j in problem.jobs]
        self.op_ids = [o.id for o in problem.operations]
        self.op_index = {oid: k for k, oid in enumerate(self.op_ids)}
        self.n = len(self.op_ids)

        fixture_fits = {f.id: f.work_centers for f in problem.fixtures}
        machine_wcs = set(self.work_center)
        for f in problem.fixtures:
            if not any(wc in machine_wcs for wc in f.work_centers):
                raise ProblemError(
                    f"fixture {f.id!r} fits no machine (compatible work centers: {', '.join(f.work_centers) or 'none'})"
                )

        self.job_of: list[int] = []
        self.modes: list[list[tuple[int, int, int]]] = []  # (machine, setup, run)
        self.mode_of: list[dict[int, tuple[int, int]]] = []
        self.release: list[int] = []
        self.fixed: list[tuple[int, int] | None] = []
        self.wait_after: list[int] = []
        setup_classes: dict[Setup, int] = {}
        self.op_class: list[int] = []
        fixture_ids: dict[str, int] = {}
        self.fixture: list[int] = []
        for op in problem.operations:
            if op.job not in job_index:
                raise ProblemError(f"operation {op.id!r} belongs to unknown job {op.job!r}")
            job = problem.jobs[job_index[op.job]]
            self.job_of.append(job_index[op.job])
            if not op.modes:
                raise ProblemError(f"operation {op.id!r} (job {op.job!r}) has no eligible machine")
            modes: list[tuple[int, int, int]] = []
            for mode in op.modes:
                if mode.machine not in self.machine_index:
                    raise ProblemError(f"operation {op.id!r} names unknown machine {mode.machine!r}")
                if mode.setup < 0 or mode.run < 0:
                    raise ProblemError(f"operation {op.id!r} has a negative duration on machine {mode.machine!r}")
                k = self.machine_index[mode.machine]
                if op.fixture in fixture_fits and self.work_center[k] not in fixture_fits[op.fixture]:
                    continue
                modes.append((k, mode.setup, mode.run))
            if not modes:
                raise ProblemError(
                    f"operation {op.id!r} needs fixture {op.fixture!r}, which fits none of its eligible machines"
                )
            seen: dict[int, tuple[int, int]] = {}
            for k, s, r in modes:
                if k in seen:
                    raise ProblemError(f"operation {op.id!r} lists machine {self.machine_ids[k]!r} twice")
                seen[k] = (s, r)
            self.modes.append(modes)
            self.mode_of.append(seen)
            self.release.append(max(op.release, job.release))
            self.wait_after.append(op.wait_after)
            if op.fixed is not None:
                fixed_on = self.machine_index.get(op.fixed.machine)
                if fixed_on is None or fixed_on not in seen:
                    raise ProblemError(
                        f"operation {op.id!r} is fixed on {op.fixed.machine!r}, "
                        "which is not one of its eligible machines"
                    )
                self.fixed.append((fixed_on, op.fixed.start))
            else:
                self.fixed.append(None)
            self.op_class.append(setup_classes.setdefault(op.setup, len(setup_classes)))
            if op.fixture is None:
                self.fixture.append(-1)
            else:
                self.fixture.append(fixture_ids.setdefault(op.fixture, len(fixture_ids)))
        self.initial_class = [setup_classes.setdefault(m.initial_setup, len(setup_classes)) for m in problem.machines]
        self.classes: list[Setup] = [None] * len(setup_classes)  # type: ignore[list-item]
        for setup, k in setup_classes.items():
            self.classes[k] = setup
        self.n_fixtures = len(fixture_ids)

        self.preds: list[list[tuple[int, int]]] = [[] for _ in range(self.n)]
        self.succs: list[list[tuple[int, int]]] = [[] for _ in range(self.n)]
        for i, op in enumerate(problem.operations):
            for pid in op.predecessors:
                p = self.op_index.get(pid)
                if p is None:
                    raise ProblemError(f"operation {op.id!r} follows unknown operation {pid!r}")
                self.preds[i].append((p, self.wait_after[p]))
                self.succs[p].append((i, self.wait_after[p]))
        self.topo = self._topological_order()
        self.job_ops: list[list[int]] = [[] for _ in self.job_ids]
        for i in self.topo:
            self.job_ops[self.job_of[i]].append(i)

        self.rules = ChangeoverRules(problem.changeover_rules)
        self._chg_cache: list[dict[int, int]] = [{} for _ in range(self.n_machines)]
        self._n_classes = len(self.classes)
        wc_first: dict[str, int] = {}
        self._chg_owner = [wc_first.setdefault(wc, k) for k, wc in enumerate(self.work_center)]

        self.permutation_groups: list[list[int]] = []
        for g, group in enumerate(problem.permutation_groups):
            ks = []
            for mid in group:
                if mid not in self.machine_index:
                    raise ProblemError(f"permutation group #{g + 1} names unknown machine {mid!r}")
                ks.append(self.machine_index[mid])
            self.permutation_groups.append(ks)
        self.has_changeovers = bool(self.rules)
        self.eligible_ops: list[list[int]] = [[] for _ in range(self.n_machines)]
        for i, modes in enumerate(self.modes):
            for k, _, _ in modes:
                self.eligible_ops[k].append(i)

    # -- checks ------------------------------------------------------------------------
    def _check_ids(self) -> None:
        p = self.problem
        for what, ids in (
            ("machine", [m.id for m in p.machines]),
            ("job", [j.id for j in p.jobs]),
            ("operation", [o.id for o in p.operations]),
        ):
            seen: set[str] = set()
            for x in ids:
                if x in seen:
                    raise ProblemError(f"{what} id {x!r} appears twice")
                seen.add(x)
        if not p.machines:
            raise ProblemError("the problem has no machine")

    @staticmethod
    def _calendar(machine: Machine, runs_resume: bool) -> Calendar:
        if machine.windows is not None:
            for w in machine.windows:
                if w.end < w.start:
                    raise ProblemError(f"calendar of machine {machine.id!r} has a window ending before it starts")
        cal = Calendar(machine.windows, runs_resume)
        if not cal.always and not cal.working_minutes:
            raise ProblemError(f"calendar of machine {machine.id!r} has no working time")
        return cal

    def _topological_order(self) -> list[int]:
        indegree = [len(p) for p in self.preds]
        order = [i for i in range(self.n) if indegree[i] == 0]
        head = 0
        while head < len(order):
            i = order[head]
            head += 1
            for s, _ in self.succs[i]:
                indegree[s] -= 1
                if indegree[s] == 0:
                    order.append(s)
        if len(order) < self.n:
            raise ProblemError("precedence cycle: " + " -> ".join(self._find_cycle(indegree)))
        return order

    def _find_cycle(self, indegree: list[int]) -> list[str]:
        start = next(i for i in range(self.n) if indegree[i] > 0)
        path: list[int] = []
        seen: dict[int, int] = {}
        i = start
        while i not in seen:
            seen[i] = len(path)
            path.append(i)
            i = next(p for p, _ in self.preds[i] if indegree[p] > 0)
        cycle = path[seen[i] :] + [i]
        return [self.op_ids[k] for k in reversed(cycle)]

    def placement(self, i: int) -> tuple[int, int]:
        """Where fixed operation ``i`` is: ``(machine, start)``."""
        fixed = self.fixed[i]
        if fixed is None:
            raise ValueError(f"operation {self.op_ids[i]!r} is not fixed")
        return fixed

    # -- durations -------------------------------------------------------------------
    def end_time(self, i: int, k: int, start: int) -> int | None:
        """When operation ``i`` started at ``start`` on machine ``k`` ends (``None``: not before the
        calendar ends). ``start + setup + run`` unless runs resume after breaks; fixed operations
        always end at ``start + setup + run`` (they are exempt from the calendar)."""
        setup, run = self.mode_of[i][k]
        if self.fixed[i] is not None:
            return start + setup + run
        return self.calendars[k].finish(start, setup, run)

    # -- changeovers -------------------------------------------------------------------
    def chg(self, machine: int, from_class: int, to_class: int) -> int:
        """Changeover minutes on ``machine`` between two setup classes."""
        if from_class == to_class:
            return 0
        owner = self._chg_owner[machine]
        cache = self._chg_cache[owner]
        key = from_class * self._n_classes + to_class
        v = cache.get(key)
        if v is None:
            v = self.rules.minutes(self.work_center[machine], self.classes[from_class], self.classes[to_class])
            cache[key] = v
        return v

    def chg_ops(self, machine: int, prev: int, op: int) -> int:
        """Changeover before ``op`` on ``machine`` after ``prev`` (-1: the machine's initial setup)."""
        a = self.initial_class[machine] if prev < 0 else self.op_class[prev]
        return self.chg(machine, a, self.op_class[op])

    # -- conversions -------------------------------------------------------------------
    def to_solution(self, sched: Schedule, solver: str = "") -> Solution:
        return Solution(
            {
                self.op_ids[i]: Assignment(
                    self.machine_ids[sched.machine[i]], sched.start[i], sched.end[i], sched.changeover[i]
                )
                for i in range(self.n)
            },
            solver=solver,
        )

    def from_solution(self, solution: Solution) -> Schedule:
        sched = Schedule.empty(self.n)
        for oid, a in solution.assignments.items():
            i = self.op_index[oid]
            sched.machine[i] = self.machine_index[a.machine]
            sched.start[i], sched.end[i], sched.changeover[i] = a.start, a.end, a.changeover
        return sched

    def figures(self, sched: Schedule) -> Figures:
        """Weighted tardiness, tardy jobs, changeover total and makespan of a schedule."""
        wt = tardy = 0
        for j, ops in enumerate(self.job_ops):
            if not ops:
                continue
            done = max(sched.end[i] for i in ops)
            due = self.due[j]
            if due is not None and done > due:
                tardy += 1
                wt += (done - due) * self.weight[j]
        makespan = max(sched.end) if self.n else 0
        return Figures(wt, tardy, sum(sched.changeover), makespan)

    def key(self, sched: Schedule) -> tuple[int, ...]:
        return self.figures(sched).key(self.objective)


def compile_problem(problem: Problem) -> Instance:
    """Check ``problem`` and index it; raises :class:`ProblemError` naming the culprit."""
    return Instance(problem)
