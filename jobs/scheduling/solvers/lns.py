"""Large-neighbourhood search on top of the constructive heuristic.

Each step frees a window of the schedule — a stretch of consecutive operations on a few
machines that share work (same work center or shared eligible operations) — freezes the
rest in time, and re-solves the window with the CP-SAT model of :mod:`.cpsat` (operations
may change machine among the chosen ones and change order; changeovers into the frozen
operation after each stretch count). The result is re-timed by the exact decoder, which
pulls everything after the window earlier, and kept when the objective is no worse.

The heuristic guides the choice of windows: stretches around operations with large
changeovers or late jobs are chosen more often than random ones, and the window grows
while sub-problems solve to optimality quickly and shrinks when they time out.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from ..instance import Instance, Schedule
from .cpsat import CpSub, Slot
from .runner import Cancel

# small sub-problems: skip the expensive presolve steps, the hint is complete and feasible
SUB_PARAMS = {"cp_model_probing_level": 0, "symmetry_level": 0}


class WindowLns:
    def __init__(self, inst: Instance, schedule: Schedule, seed: int = 0, workers: int = 8):
        self.inst = inst
        self.best = schedule
        self.best_key = inst.key(schedule)
        self.rng = random.Random(seed)
        self.workers = workers
        self.size = 14  # operations per window, adapted
        self.iterations = 0
        self.improvements = 0
        self.proven = False
        self.peers: list[list[int]] = self._peers()

    def _peers(self) -> list[list[int]]:
        """Machines that share eligible operations with each machine."""
        inst = self.inst
        share: list[dict[int, int]] = [{} for _ in range(inst.n_machines)]
        for modes in inst.modes:
            ks = [k for k, _, _ in modes]
            for a in ks:
                for b in ks:
                    if a != b:
                        share[a][b] = share[a].get(b, 0) + 1
        return [sorted(d, key=lambda b: -d[b]) for d in share]

    def _anchor(self, seqs: list[list[int]]) -> int:
        inst, sched, rng = self.inst, self.best, self.rng
        roll = rng.random()
        movable = [i for i in range(inst.n) if inst.fixed[i] is None]
        if roll < 0.4 and inst.has_changeovers:
            heavy = [i for i in movable if sched.changeover[i] > 0]
            if heavy:
                return max(rng.sample(heavy, min(4, len(heavy))), key=lambda i: sched.changeover[i])
        if roll < 0.75:
            late: list[int] = []
            for j, ops in enumerate(inst.job_ops):
                due = inst.due[j]
                if due is not None and ops and max(sched.end[i] for i in ops) > due:
                    late.extend(i for i in ops if inst.fixed[i] is None)
            if late:
                return rng.choice(late)
            if inst.objective.weights is not None and inst.objective.weights[0] == 0:
                cmax = max(sched.end)
                tail = [i for i in movable if sched.end[i] >= cmax * 0.7]
                if tail:
                    return rng.choice(tail)
        return rng.choice(movable)

    def neighbourhood(self) -> tuple[list[int], dict[int, list[int]], dict[int, Slot]] | None:
        """Free a stretch of consecutive operations on some machines; returns (free, allowed, slots).

        Two shapes: the stretch around an anchor operation on its machine and the machines that
        share its work (re-assignment and re-sequencing within a work center), or a time window
        across all machines (re-timing along routings).
        """
        inst, sched, rng = self.inst, self.best, self.rng
        seqs = sched.sequences(inst.n_machines)
        pos = {}
        for seq in seqs:
            for p, i in enumerate(seq):
                pos[i] = p
        anchor = self._anchor(seqs)
        k0 = sched.machine[anchor]
        t_anchor = sched.start[anchor]
        stretch: dict[int, tuple[int, int]] = {}
        if rng.random() < 0.5 or not self.peers[k0]:
            movable = [i for i in range(inst.n) if inst.fixed[i] is None]
            near = sorted(movable, key=lambda i: (abs(sched.start[i] - t_anchor), rng.random()))[: self.size]
            for i in near:
                k = sched.machine[i]
                a, b = stretch.get(k, (pos[i], pos[i]))
                stretch[k] = (min(a, pos[i]), max(b, pos[i]))
        else:
            n_machines = rng.choice((2, 2, 3, 3, 4))
            machines = [k0]
            for k in self.peers[k0]:
                if len(machines) >= n_machines:
                    break
                if rng.random() < 0.8:
                    machines.append(k)
            per_machine = max(2, self.size // len(machines))
            for k in machines:
                seq = seqs[k]
                if not seq:
                    stretch[k] = (0, -1)
                    continue
                centre = (
                    pos[anchor] if k == k0 else min(range(len(seq)), key=lambda p: abs(sched.start[seq[p]] - t_anchor))
                )
                a = max(0, centre - rng.randint(0, per_machine - 1))
                stretch[k] = (a, min(len(seq) - 1, a + per_machine - 1))
        free: list[int] = []
        slots: dict[int, Slot] = {}
        for k, (a, b) in stretch.items():
            seq = seqs[k]
            # never free a fixed operation: keep the part of the stretch before the first one
            for p in range(a, b + 1):
                if inst.fixed[seq[p]] is not None:
                    b = p - 1
                    break
            if a > b and seq:
                continue
            prev = seq[a - 1] if a > 0 else -1
            nxt = seq[b + 1] if b + 1 < len(seq) else -1
            slots[k] = Slot(
                sched.end[prev] if prev >= 0 else 0,
                inst.op_class[prev] if prev >= 0 else inst.initial_class[k],
                nxt,
                sched.start[nxt] if nxt >= 0 else 0,
            )
            free.extend(seq[a : b + 1])
        if not free:
            return None
        allowed = {i: [k for k, _, _ in inst.modes[i] if k in slots] for i in free}
        return free, allowed, slots

    def step(self, time_limit: float, cancel: Cancel | None = None) -> bool:
        inst = self.inst
        hood = self.neighbourhood()
        if hood is None:
            return False
        free, allowed, slots = hood
        horizon = max(max(self.best.end), 1) + sum(max(s + r for _, s, r in inst.modes[i]) for i in free)
        sub = CpSub(inst, free, allowed, slots, self.best, horizon, hint=self.best)
        res = sub.solve(
            time_limit, workers=min(2, self.workers), seed=self.rng.randrange(1 << 30), cancel=cancel, extra=SUB_PARAMS
        )
        self.iterations += 1
        if res.status == "OPTIMAL" and len(free) == sum(1 for f in inst.fixed if f is None):
            self.proven = True  # the whole problem was the neighbourhood: nothing left to find
        if res.status == "OPTIMAL":
            self.size = min(60, self.size + 1)
        elif res.status in ("FEASIBLE", "UNKNOWN"):
            self.size = max(6, self.size - 2)
        if res.schedule is None:
            return False
        key = inst.key(res.schedule)
        if key <= self.best_key:
            better = key < self.best_key
            self.best, self.best_key = res.schedule, key
            self.improvements += better
            return better
        return False

    def run(
        self,
        deadline: float,
        step_limit: float = 1.0,
        cancel: Cancel | None = None,
        on_improve: Callable[[Schedule], None] | None = None,
        max_steps: int | None = None,
    ) -> Schedule:
        steps = 0
        while True:
            left = deadline - time.monotonic()
            if left < 0.05 or (cancel is not None and cancel()) or (max_steps is not None and steps >= max_steps):
                break
            if self.proven:
                break
            steps += 1
            if self.step(min(step_limit, left), cancel) and on_improve is not None:
                on_improve(self.best)
        return self.best
