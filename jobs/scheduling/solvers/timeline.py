"""Append-only schedule construction shared by the constructive solvers and the decoder.

A :class:`Timeline` places operations one at a time, each after the last operation already
placed on its machine, at the earliest minute where the changeover and the operation fit
the calendar, the fixture is free and no fixed operation is in the way. Fixed operations are
on the timeline from the start; the changeover before each of them is settled when the
machine's sequence reaches it.
"""

from __future__ import annotations

from bisect import bisect_left, insort

from ..instance import Instance, Schedule
from ..problem import InfeasibleError

NEG = -(10**12)
Spot = tuple[int, int, int, int, int]  # where an operation fits: (start, changeover, last_before, fixed_passed, end)


class Timeline:
    def __init__(self, inst: Instance):
        self.inst = inst
        n, m = inst.n, inst.n_machines
        self.sched = Schedule.empty(n)
        self.done = [False] * n
        self.free = [0] * m  # end of the last operation placed on the machine
        self.last = [-1] * m  # last operation placed (-1: initial setup)
        self.fixed_on: list[list[int]] = [[] for _ in range(m)]
        self.fixed_ptr = [0] * m
        self.fixture_busy: list[list[tuple[int, int]]] = [[] for _ in range(inst.n_fixtures)]
        self.deadline: list[int | None] = [None] * n  # latest end because of fixed successors
        for i, fx in enumerate(inst.fixed):
            if fx is None:
                continue
            k, start = fx
            end = inst.end_time(i, k, start)
            assert end is not None  # fixed: start + setup + run
            self.sched.machine[i], self.sched.start[i], self.sched.end[i] = k, start, end
            self.fixed_on[k].append(i)
            if inst.fixture[i] >= 0:
                worst = max((inst.chg(k, c, inst.op_class[i]) for c in self._classes_on(k)), default=0)
                insort(self.fixture_busy[inst.fixture[i]], (start - worst, end))
            for p, wait in inst.preds[i]:
                if inst.fixed[p] is None:
                    limit = start - wait
                    cur = self.deadline[p]
                    self.deadline[p] = limit if cur is None else min(cur, limit)
        for k in range(m):
            self.fixed_on[k].sort(key=lambda i: self.sched.start[i])

    def _classes_on(self, k: int) -> set[int]:
        inst = self.inst
        return {inst.op_class[i] for i in inst.eligible_ops[k]} | {inst.initial_class[k]}

    def ready_time(self, i: int) -> int:
        inst = self.inst
        t = inst.release[i]
        sched = self.sched
        for p, wait in inst.preds[i]:
            e = sched.end[p] + wait
            if e > t:
                t = e
        return t

    def probe(self, i: int, k: int, ready: int) -> Spot | None:
        """Earliest ``(start, changeover, last_before, fixed_passed, end)`` of op ``i`` on machine ``k``."""
        inst = self.inst
        setup, run = inst.mode_of[i][k]
        cal = inst.calendars[k]
        free, last, ptr = self.free[k], self.last[k], self.fixed_ptr[k]
        fixed_on = self.fixed_on[k]
        cls = inst.op_class[i]
        f = inst.fixture[i]
        busy = self.fixture_busy[f] if f >= 0 else None
        t = ready
        for _ in range(100000):
            prev_cls = inst.initial_class[k] if last < 0 else inst.op_class[last]
            c = inst.chg(k, prev_cls, cls)
            lo = max(t, free + c, c)
            x = cal.earliest_start(lo, c, setup, run)
            if x is None:
                return None
            end = cal.finish(x, setup, run)
            assert end is not None  # earliest_start only returns starts that finish
            if ptr < len(fixed_on):
                fx = fixed_on[ptr]
                fstart = self.sched.start[fx]
                if end + inst.chg(k, cls, inst.op_class[fx]) > fstart:
                    free, last, ptr = self.sched.end[fx], fx, ptr + 1
                    continue
            if busy:
                # uses of one fixture never overlap, so sorted by start they are sorted by end:
                # only the last intervals starting before our end can conflict
                j = bisect_left(busy, (end, NEG))
                conflict = None
                for _, be in busy[max(0, j - 2) : j]:
                    if be > x - c:
                        conflict = be if conflict is None else max(conflict, be)
                if conflict is not None:
                    t = max(t, conflict + c)
                    continue
            return x, c, last, ptr, end
        return None

    def commit(self, i: int, k: int, placed: Spot) -> None:
        inst = self.inst
        x, c, last, ptr, end = placed
        for q in range(self.fixed_ptr[k], ptr):  # settle the changeovers of passed fixed ops
            fx = self.fixed_on[k][q]
            prev = self.last[k] if q == self.fixed_ptr[k] else self.fixed_on[k][q - 1]
            self.sched.changeover[fx] = inst.chg_ops(k, prev, fx)
            self.done[fx] = True
        s = self.sched
        s.machine[i], s.start[i], s.end[i], s.changeover[i] = k, x, end, c
        self.done[i] = True
        self.free[k] = end
        self.last[k] = i
        self.fixed_ptr[k] = ptr
        if inst.fixture[i] >= 0:
            insort(self.fixture_busy[inst.fixture[i]], (x - c, end))

    def finish(self) -> Schedule:
        """Settle the changeovers of fixed operations after the last placed one."""
        inst = self.inst
        for k in range(inst.n_machines):
            fixed_on = self.fixed_on[k]
            for q in range(self.fixed_ptr[k], len(fixed_on)):
                fx = fixed_on[q]
                prev = self.last[k] if q == self.fixed_ptr[k] else fixed_on[q - 1]
                self.sched.changeover[fx] = inst.chg_ops(k, prev, fx)
                self.done[fx] = True
            self.fixed_ptr[k] = len(fixed_on)
        return self.sched

    def place_best(self, i: int, machines: list[int] | None = None) -> None:
        """Place ``i`` on the eligible machine where it ends first (ties: smaller changeover)."""
        inst = self.inst
        ready = self.ready_time(i)
        deadline = self.deadline[i]
        best = None
        best_key = None
        for k, _, _ in inst.modes[i]:
            if machines is not None and k not in machines:
                continue
            placed = self.probe(i, k, ready)
            if placed is None:
                continue
            end = placed[4]
            if deadline is not None and end > deadline:
                continue
            key = (end, placed[1], k)
            if best_key is None or key < best_key:
                best, best_key = (k, placed), key
        if best is None:
            raise self.no_room(i)
        self.commit(i, best[0], best[1])

    def no_room(self, i: int) -> InfeasibleError:
        inst = self.inst
        ks = [inst.machine_ids[k] for k, _, _ in inst.modes[i]]
        names = ", ".join(ks[:5]) + (f" and {len(ks) - 5} more" if len(ks) > 5 else "")
        why = "the calendars end" if self.deadline[i] is None else "a fixed later operation of its job"
        message = f"operation {inst.op_ids[i]!r} does not fit on {names} before {why}"
        cals = [(inst.calendars[k], s + r) for k, s, r in inst.modes[i]]
        if not inst.runs_resume and all(not c.always and d > max(b - a for a, b in c.available) for c, d in cals):
            message += (
                " (it is longer than any working window; runs_resume_after_breaks lets a run go on after a break)"
            )
        return InfeasibleError(message)
