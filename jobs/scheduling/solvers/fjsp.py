"""A lean CP-SAT model for pure-makespan flexible job shops (Brandimarte-like instances).

When a problem has no changeovers, no calendars, no fixtures, no fixed operations, no
permutation groups and only the makespan counts (:func:`is_pure_fjsp`), the general model of
:mod:`.cpsat` carries machinery it does not need. This model is the textbook one: per
operation a start and an end, one optional fixed-size interval per eligible machine (exactly
one present), a no-overlap per machine, precedences with waits, and ``minimize cmax``. On top:

* start/end domains from heads and tails (least work before and after each operation in its
  job), and the horizon cut to the warm start's makespan (nothing worse is ever wanted);
* lower bounds on the makespan: the longest job path, and the total least work over the
  machines (``m * cmax >= sum of chosen durations``); a redundant cumulative of capacity
  ``m`` over the operations' own intervals;
* a complete hint from the warm start.

Solutions are re-timed by the exact decoder, so what leaves here passes the validator.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Mapping

from ortools.sat.python import cp_model

from ..instance import Instance, Schedule
from .dispatch import decode_sequences
from .runner import Cancel, Progress, SubResult, run_model

LNS_WORKERS = 4  # threads per LNS sub-solve
STEP_LIMIT = 2.0  # seconds per LNS sub-solve
SECONDARY = False  # LNS sub-problems: total completion time as tie-breaker
FULL_SHARE = 0.05  # share of the time for the whole model before the LNS (a bound, and the easy instances)


def is_pure_fjsp(inst: Instance) -> bool:
    """True when only the makespan matters and nothing but machines and precedences constrains it."""
    if inst.has_changeovers or inst.permutation_groups or inst.n == 0:
        return False
    if any(not cal.always for cal in inst.calendars):
        return False
    if any(f >= 0 for f in inst.fixture) or any(f is not None for f in inst.fixed):
        return False
    w = inst.objective.weights
    if w is not None:
        return w[0] == 0 and w[1] == 0 and w[2] > 0
    # lexicographic default: tardiness first, so only when no job has a weighted due date
    return all(d is None or not wt for d, wt in zip(inst.due, inst.weight, strict=True))


def heads_tails(inst: Instance) -> tuple[list[int], list[int], list[int]]:
    """Least duration, earliest start and least work after each operation (its job's successors)."""
    dmin = [min(s + r for _, s, r in modes) for modes in inst.modes]
    head = [0] * inst.n
    for i in inst.topo:
        h = inst.release[i]
        for p, wait in inst.preds[i]:
            h = max(h, head[p] + dmin[p] + wait)
        head[i] = h
    tail = [0] * inst.n
    for i in reversed(inst.topo):
        t = 0
        for s, wait in inst.succs[i]:
            t = max(t, wait + dmin[s] + tail[s])
        tail[i] = t
    return dmin, head, tail


def lower_bound(inst: Instance) -> int:
    """Longest job path, and the least total work spread over all machines."""
    dmin, head, tail = heads_tails(inst)
    path = max(head[i] + dmin[i] + tail[i] for i in range(inst.n))
    work = -(-sum(dmin) // max(1, inst.n_machines))
    return max(path, work)


class LeanModel:
    """The lean FJSP model, hinted with (and bounded by) a valid schedule."""

    def __init__(
        self,
        inst: Instance,
        hint: Schedule,
        redundant: bool = True,
        fixed_machine: set[int] | None = None,
        chains: list[tuple[int, int]] | None = None,
        secondary: bool = False,
    ):
        """``fixed_machine``: operations kept on the hint's machine; ``chains``: pairs ``(a, b)`` on
        one machine where ``b`` must start after ``a`` ends (both for the LNS sub-problems)."""
        self.inst = inst
        md = self.model = cp_model.CpModel()
        H = max(hint.end)
        fixed_machine = fixed_machine or set()
        dmin, head, tail = heads_tails(inst)
        self.lb = lower_bound(inst)
        self.start: list[cp_model.IntVar] = []
        self.end: list[cp_model.IntVar] = []
        self.pres: list[list[tuple[int, cp_model.IntVar | int]]] = []  # (machine, presence literal or 1)
        per_machine: list[list[cp_model.IntervalVar]] = [[] for _ in range(inst.n_machines)]
        all_ivs: list[cp_model.IntervalVar] = []
        energy: list[cp_model.LinearExprT] = []
        for i in range(inst.n):
            lo = head[i]
            hi = max(lo, H - tail[i] - dmin[i])
            modes = inst.modes[i]
            if i in fixed_machine:
                modes = [(hint.machine[i], *inst.mode_of[i][hint.machine[i]])]
            durs = [s + r for _, s, r in modes]
            st = md.new_int_var(lo, hi, f"s{i}")
            en = md.new_int_var(lo + min(durs), max(lo + min(durs), H - tail[i]), f"e{i}")
            self.start.append(st)
            self.end.append(en)
            lits: list[tuple[int, cp_model.IntVar | int]] = []
            if len(modes) == 1:
                k, s, r = modes[0]
                per_machine[k].append(md.new_interval_var(st, s + r, en, f"iv{i}"))
                lits.append((k, 1))
                energy.append(s + r)
            else:
                for k, s, r in modes:
                    lit = md.new_bool_var(f"p{i}_{k}")
                    per_machine[k].append(md.new_optional_interval_var(st, s + r, en, lit, f"iv{i}_{k}"))
                    lits.append((k, lit))
                    energy.append(lit * (s + r))
                md.add_exactly_one(lit for _, lit in lits)
            self.pres.append(lits)
            if redundant:
                size = md.new_int_var(min(durs), max(durs), f"d{i}")
                if len(lits) > 1:
                    md.add(size == sum(lit * d for (_, lit), d in zip(lits, durs, strict=True)))
                all_ivs.append(md.new_interval_var(st, size, en, f"all{i}"))
        for ivs in per_machine:
            if len(ivs) > 1:
                md.add_no_overlap(ivs)
        for i in range(inst.n):
            for p, wait in inst.preds[i]:
                md.add(self.start[i] >= self.end[p] + wait)
        for a, b in chains or ():
            md.add(self.start[b] >= self.end[a])
        self.cmax = md.new_int_var(self.lb, max(self.lb, H), "cmax")
        for i in range(inst.n):
            if not inst.succs[i]:
                md.add(self.cmax >= self.end[i])
        if redundant:
            md.add(inst.n_machines * self.cmax >= sum(energy))
            if inst.n_machines > 1:
                md.add_cumulative(all_ivs, [1] * len(all_ivs), inst.n_machines)
        if secondary:  # then the jobs' total completion time: a more compact schedule at equal makespan
            lasts = [self.end[i] for i in range(inst.n) if not inst.succs[i]]
            md.minimize(self.cmax * (len(lasts) * H + 1) + sum(lasts))
        else:
            md.minimize(self.cmax)
        # complete hint
        md.add_hint(self.cmax, H)
        for i in range(inst.n):
            md.add_hint(self.start[i], hint.start[i])
            md.add_hint(self.end[i], hint.end[i])
            for k, present in self.pres[i]:
                if not isinstance(present, int):
                    md.add_hint(present, hint.machine[i] == k)
        self.hint = hint

    def extract(self, solver: cp_model.CpSolver) -> Schedule:
        inst = self.inst
        machine = [-1] * inst.n
        start = [solver.value(v) for v in self.start]
        for i in range(inst.n):
            for k, lit in self.pres[i]:
                if isinstance(lit, int) or solver.boolean_value(lit):
                    machine[i] = k
                    break
        seqs: list[list[int]] = [[] for _ in range(inst.n_machines)]
        for i in range(inst.n):
            seqs[machine[i]].append(i)
        for seq in seqs:
            seq.sort(key=lambda i: (start[i], i))
        return decode_sequences(inst, seqs, start)

    def solve(
        self,
        time_limit: float,
        workers: int = 8,
        seed: int = 0,
        progress: Progress | None = None,
        cancel: Cancel | None = None,
        t0: float | None = None,
        extra: Mapping[str, object] | None = None,
    ) -> SubResult:
        return run_model(
            self.model,
            self.extract,
            lambda cb: (0, 0, cb.value(self.cmax)),
            time_limit=time_limit,
            workers=workers,
            seed=seed,
            progress=progress,
            cancel=cancel,
            t0=t0,
            extra=extra,
        )


def critical_path(inst: Instance, sched: Schedule, rng: random.Random) -> list[int]:
    """One critical path of a left-shifted schedule, from an operation ending at the makespan back to
    time zero (ties between a job and a machine predecessor broken at random)."""
    mpred = [-1] * inst.n
    for seq in sched.sequences(inst.n_machines):
        for a, b in zip(seq, seq[1:], strict=False):
            mpred[b] = a
    cmax = max(sched.end)
    i = rng.choice([i for i in range(inst.n) if sched.end[i] == cmax])
    path = [i]
    while True:
        cands = [p for p, wait in inst.preds[i] if sched.end[p] + wait == sched.start[i]]
        if mpred[i] >= 0 and sched.end[mpred[i]] == sched.start[i]:
            cands.append(mpred[i])
        if not cands:
            return path
        i = rng.choice(cands)
        path.append(i)


class FjspLns:
    """Large-neighbourhood search over the lean model: free a subset of operations (machine and
    order), keep every other operation on its machine and in its machine order, and let CP-SAT
    re-solve with a short limit; accept schedules no longer than the current one."""

    def __init__(self, inst: Instance, start: Schedule, seed: int = 0, workers: int = 4):
        self.inst = inst
        self.best = start
        self.cur = start
        self.rng = random.Random(seed)
        self.seed = seed
        self.workers = workers
        self.size = float(min(inst.n, max(8, inst.n // 6)))
        self.lb = lower_bound(inst)
        self.iterations = 0
        self.improvements = 0

    def neighbourhood(self) -> set[int]:
        inst, cur, rng = self.inst, self.cur, self.rng
        size = max(4, int(self.size))
        kind = rng.random()
        if kind < 0.4:  # the critical path and what runs around it in time
            path = critical_path(inst, cur, rng)
            free = set(rng.sample(path, min(len(path), size // 2)))
            order = sorted(range(inst.n), key=lambda i: cur.start[i])
            pos = {i: p for p, i in enumerate(order)}
            for _ in range(4 * size):
                if len(free) >= size:
                    break
                p = pos[rng.choice(path)] + rng.randint(-4, 4)
                if 0 <= p < inst.n:
                    free.add(order[p])
            return free
        if kind < 0.7:  # a time window
            order = sorted(range(inst.n), key=lambda i: (cur.start[i], rng.random()))
            a = rng.randrange(0, max(1, inst.n - size + 1))
            return set(order[a : a + size])
        # a few machines, whole
        seqs = cur.sequences(inst.n_machines)
        ks = list(range(inst.n_machines))
        rng.shuffle(ks)
        free = set()
        for k in ks:
            if len(free) >= size:
                break
            free.update(seqs[k])
        return free

    def step(self, time_limit: float) -> bool:
        inst, cur = self.inst, self.cur
        free = self.neighbourhood()
        chains: list[tuple[int, int]] = []
        for seq in cur.sequences(inst.n_machines):
            kept = [i for i in seq if i not in free]
            chains.extend(zip(kept, kept[1:], strict=False))
        fixed = {i for i in range(inst.n) if i not in free}
        sub = LeanModel(inst, cur, redundant=False, fixed_machine=fixed, chains=chains, secondary=SECONDARY)
        res = sub.solve(time_limit, self.workers, self.seed + self.iterations)
        self.iterations += 1
        if res.status == "OPTIMAL":
            self.size = min(inst.n, self.size * 1.08 + 0.5)
        else:
            self.size = max(6.0, self.size * 0.92)
        if res.schedule is None:
            return False
        new = res.schedule
        if max(new.end) <= max(cur.end):
            improved = max(new.end) < max(self.best.end)
            self.cur = new
            if improved:
                self.best = new
                self.improvements += 1
            return improved
        return False

    def run(
        self,
        deadline: float,
        cancel: Cancel | None = None,
        on_improve: Callable[[Schedule], None] | None = None,
        step_limit: float | None = None,
    ) -> None:
        step_limit = STEP_LIMIT if step_limit is None else step_limit
        while time.monotonic() < deadline - 0.05 and max(self.best.end) > self.lb:
            if cancel is not None and cancel():
                return
            left = deadline - time.monotonic()
            if self.step(min(step_limit, left)) and on_improve is not None:
                on_improve(self.best)


def solve_fjsp(
    inst: Instance,
    hint: Schedule,
    time_limit: float,
    workers: int = 8,
    seed: int = 0,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    t0: float | None = None,
    full_share: float = FULL_SHARE,
) -> SubResult:
    """The lean model warm-started from ``hint`` for ``full_share`` of the time, then the LNS from
    its best schedule for the rest (unless the model proved optimality). Never worse than the hint."""
    deadline = time.monotonic() + time_limit
    t0 = time.monotonic() if t0 is None else t0
    lean = LeanModel(inst, hint)
    if max(hint.end) <= lean.lb:
        return SubResult(hint, "OPTIMAL", max(hint.end), lean.lb)
    left = max(0.1, deadline - time.monotonic())
    res = lean.solve(left * full_share if full_share < 1 else left, workers, seed, progress, cancel, t0)
    if res.schedule is None or max(res.schedule.end) > max(hint.end):
        res.schedule = hint
    if res.status == "OPTIMAL" or full_share >= 1 or (cancel is not None and cancel()):
        return res
    search = FjspLns(inst, res.schedule, seed, min(workers, LNS_WORKERS))
    bound = res.bound
    if bound is not None:
        search.lb = max(search.lb, math.ceil(bound - 1e-6))  # nothing below CP-SAT's bound exists

    def improved(sched: Schedule) -> None:
        if progress is not None:
            progress(time.monotonic() - t0, (0, 0, max(sched.end)), bound)

    search.run(deadline, cancel, improved)
    best = search.best
    status = "OPTIMAL" if bound is not None and max(best.end) <= bound else "FEASIBLE"
    return SubResult(
        best, status, max(best.end), bound, res.first_solution_seconds, res.solutions + search.improvements
    )
