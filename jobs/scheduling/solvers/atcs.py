"""A setup-aware constructive heuristic: ATCS dispatching in a Giffler–Thompson frame.

At each step the machine that can finish a ready operation first is chosen; among the ready
operations that could start on it before that, the one with the highest ATCS index
(Lee, Bhaskaran & Pinedo, 1997) goes next::

    I = w / p * exp(-max(slack, 0) / (k1 * p_avg)) * exp(-changeover / (k2 * s_avg))

with ``slack = due - remaining work of the job - completion``. The changeover term groups
operations that share fixture, material and tool kit behind one setup. Without due dates
(makespan objective) the "due date" is a lower bound of the makespan, so jobs with the most
work left go first. :func:`atcs_grid` runs a small grid of ``(k1, k2)`` and keeps the best.
"""

from __future__ import annotations

import heapq
import math
import random
import time
from collections.abc import Callable

from ..instance import Instance, Schedule
from ..problem import InfeasibleError
from .dispatch import enforce_permutations, machine_dispatch
from .timeline import Spot, Timeline

GT_MAX_OPS = 600
GRID: tuple[tuple[float, float], ...] = (
    (3.0, 0.1),
    (1.0, 0.5),
    (2.0, 0.2),
    (0.5, 1.0),
    (1.0, 2.0),
    (0.3, 0.3),
    (2.0, 5.0),
    (5.0, 1.0),
    (6.0, 0.05),
)


def _tails(inst: Instance, min_dur: list[int]) -> list[int]:
    tail = [0] * inst.n
    for i in reversed(inst.topo):
        best = 0
        for s, wait in inst.succs[i]:
            v = wait + min_dur[s] + tail[s]
            if v > best:
                best = v
        tail[i] = best
    return tail


class _Stats:
    def __init__(self, inst: Instance, seed: int = 0):
        self.min_dur = [min(s + r for _, s, r in modes) for modes in inst.modes]
        self.tail = _tails(inst, self.min_dur)
        self.p_avg = max(1.0, sum(self.min_dur) / max(1, inst.n))
        rng = random.Random(seed)
        samples = []
        if inst.has_changeovers:
            for k in range(inst.n_machines):
                ops = inst.eligible_ops[k]
                if len(ops) < 2:
                    continue
                for _ in range(min(60, len(ops) * 2)):
                    a, b = rng.choice(ops), rng.choice(ops)
                    samples.append(inst.chg_ops(k, a, b))
        self.s_avg = (sum(samples) / len(samples)) if samples else 0.0
        total = sum(self.min_dur)
        longest_job = max((self.min_dur[ops[0]] + self.tail[ops[0]] for ops in inst.job_ops if ops), default=0)
        self.cmax_lb = max(longest_job, total // max(1, inst.n_machines))
        uses_tardiness = inst.objective.weights is None or inst.objective.weights[0] > 0
        self.makespan_mode = not uses_tardiness or all(d is None for d in inst.due)
        self.due = [
            (d if (d is not None and uses_tardiness) else self.cmax_lb + inst.release[ops[0]] if ops else 0)
            for d, ops in zip(inst.due, inst.job_ops, strict=True)
        ]


def atcs(
    inst: Instance,
    k1: float = 1.0,
    k2: float = 0.5,
    stats: _Stats | None = None,
    noise: float = 0.0,
    seed: int = 0,
    rule: Callable[[int], tuple[int, ...]] | None = None,
    deadline: float | None = None,
    stop: Callable[[], bool] | None = None,
) -> Schedule | None:
    """One ATCS construction with look-ahead ``k1`` and setup scaling ``k2`` (``None`` past ``deadline``).

    With ``rule`` (a key to minimise per operation) the ATCS index is replaced by that static
    priority (non-delay dispatching by a fixed rule).

    Placements are probed lazily: a probe made before the machine last changed is a lower
    bound, refreshed only when it could be the earliest finish or in the conflict set.
    """
    st = stats or _Stats(inst)
    rng = random.Random(seed)
    tl = Timeline(inst)
    n, m = inst.n, inst.n_machines
    remaining = [len(p) for p in inst.preds]
    ready_at = [0] * n
    cand_on: list[set[int]] = [set() for _ in range(m)]
    probe: dict[tuple[int, int], tuple[Spot | None, int | None, int]] = {}  # (op, machine) -> (placement, end, stamp)
    heaps: list[list[tuple[int, int]]] = [[] for _ in range(m)]
    stamp = [0] * m
    fstamp = [0] * (inst.n_fixtures + 1)  # index -1 (no fixture) is the last one, never bumped
    fixture_of = inst.fixture
    p_scale = k1 * st.p_avg
    s_scale = k2 * st.s_avg if st.s_avg > 0 else 1.0

    def do_probe(i: int, k: int) -> None:
        pl = tl.probe(i, k, ready_at[i])
        end = None
        if pl is not None:
            end = pl[4]
            dl = tl.deadline[i]
            if dl is not None and end > dl:
                end = None
        probe[(i, k)] = (pl, end, stamp[k] + fstamp[fixture_of[i]] * 1_000_003)
        if end is not None:
            heapq.heappush(heaps[k], (end, i))

    def best_of(k: int) -> int | None:
        h = heaps[k]
        cands = cand_on[k]
        while h:
            end, i = h[0]
            if i not in cands:
                heapq.heappop(h)
                continue
            _, e, stp = probe[(i, k)]
            if stp != stamp[k] + fstamp[fixture_of[i]] * 1_000_003:
                heapq.heappop(h)
                do_probe(i, k)
                continue
            if e != end:
                heapq.heappop(h)
                continue
            return end
        return None

    def add_candidate(i: int) -> None:
        ready_at[i] = tl.ready_time(i)
        for k, _, _ in inst.modes[i]:
            cand_on[k].add(i)
            do_probe(i, k)

    def release(i: int) -> list[int]:
        new = []
        for s, _ in inst.succs[i]:
            remaining[s] -= 1
            if remaining[s] == 0:
                new.append(s)
        return new

    todo = [i for i in range(n) if remaining[i] == 0]
    while todo:
        i = todo.pop()
        if inst.fixed[i] is not None:
            todo.extend(release(i))
        else:
            add_candidate(i)
    left = sum(1 for i in range(n) if inst.fixed[i] is None)
    while left:
        if left % 64 == 0 and ((deadline is not None and time.monotonic() > deadline) or (stop is not None and stop())):
            return None
        k_star, e_star = -1, None
        for k in range(m):
            if not cand_on[k]:
                continue
            e = best_of(k)
            if e is not None and (e_star is None or e < e_star):
                k_star, e_star = k, e
        if e_star is None:  # no machine has a candidate that fits
            stuck = next(i for k in range(m) for i in cand_on[k])
            raise tl.no_room(stuck)
        best_i, best_idx = -1, -1.0
        best_rule: tuple[int, ...] | None = None
        for i in list(cand_on[k_star]):
            pl, end, stp = probe[(i, k_star)]
            if pl is None or pl[0] >= e_star:
                continue
            if stp != stamp[k_star] + fstamp[fixture_of[i]] * 1_000_003:
                do_probe(i, k_star)
                pl, end, _ = probe[(i, k_star)]
                if pl is None or pl[0] >= e_star:
                    continue
            if end is None:
                continue
            if rule is not None:
                rk = rule(i)
                if best_rule is None or rk < best_rule:
                    best_i, best_rule = i, rk
                continue
            s, r = inst.mode_of[i][k_star]
            j = inst.job_of[i]
            if st.makespan_mode:  # most work remaining first
                idx = st.tail[i] + s + r + p_scale
            else:
                slack = st.due[j] - st.tail[i] - end
                idx = (inst.weight[j] or 1) / max(1, s + r)
                if slack > 0:
                    idx *= math.exp(-slack / p_scale)
            if pl[1]:
                idx *= math.exp(-pl[1] / s_scale)
            if noise:
                idx *= 1.0 + noise * rng.random()
            if idx > best_idx or (idx == best_idx and i < best_i):
                best_i, best_idx = i, idx
        if best_i < 0:  # the earliest finisher itself
            best_i = heaps[k_star][0][1]
        i = best_i
        pl = probe[(i, k_star)][0]
        assert pl is not None  # only operations that fit are candidates or on the heaps
        tl.commit(i, k_star, pl)
        stamp[k_star] += 1
        left -= 1
        for k, _, _ in inst.modes[i]:
            cand_on[k].discard(i)
            probe.pop((i, k), None)
        if fixture_of[i] >= 0:
            fstamp[fixture_of[i]] += 1
        todo = release(i)
        while todo:
            s = todo.pop()
            if inst.fixed[s] is not None:
                todo.extend(release(s))
            else:
                add_candidate(s)
    return tl.finish()


def atcs_dispatch(inst: Instance, k1: float = 1.0, k2: float = 0.5, stats: _Stats | None = None) -> Schedule:
    """ATCS on the event-driven dispatcher (machine by machine): the fast variant for large shops."""
    st = stats or _Stats(inst)
    p_scale = k1 * st.p_avg
    s_scale = k2 * st.s_avg if st.s_avg > 0 else 1.0

    def score(i: int, k: int, t: int, c: int) -> float:
        s, r = inst.mode_of[i][k]
        j = inst.job_of[i]
        if st.makespan_mode:
            idx = st.tail[i] + s + r + p_scale
        else:
            slack = st.due[j] - st.tail[i] - (t + c + s + r)
            idx = (inst.weight[j] or 1) / max(1, s + r)
            if slack > 0:
                idx *= math.exp(-slack / p_scale)
        if c:
            idx *= math.exp(-c / s_scale)
        return -idx

    return machine_dispatch(inst, score)


def atcs_grid(
    inst: Instance,
    grid: tuple[tuple[float, float], ...] = GRID,
    deadline: float | None = None,
    on_schedule: Callable[[Schedule], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> Schedule | None:
    """Run ATCS for each ``(k1, k2)`` of the grid (until ``deadline``) and return the best schedule.

    Returns ``None`` when cancelled before the first schedule was built, or when no variant
    fits the calendars (greedy placement can run out of calendar where the dispatch baseline,
    which the engine always has, does not).
    """
    st = _Stats(inst)
    best: Schedule | None = None
    best_key = None
    # the event-driven variants are fast; the Giffler-Thompson frame is better but slower, so on
    # large problems it runs after them, best-first, while the deadline allows
    variants = [(False, k1, k2) for k1, k2 in grid]  # (event-driven, k1, k2)
    if inst.n > GT_MAX_OPS:
        quick = [(True, k1, k2) for k1, k2 in grid[:4]]
        variants = quick[:1] + variants[:1] + quick[1:] + variants[1:]
    for event_driven, k1, k2 in variants:
        if cancel is not None and cancel():
            break
        try:
            built = (
                atcs_dispatch(inst, k1, k2, st)
                if event_driven
                else atcs(inst, k1, k2, st, deadline=None if best is None else deadline, stop=cancel)
            )
            if built is None:  # past the deadline or cancelled
                break
            sched = enforce_permutations(inst, built)
        except InfeasibleError:
            continue  # this variant's order does not fit before the calendars end; others may
        key = inst.key(sched)
        if best_key is None or key < best_key:
            best, best_key = sched, key
            if on_schedule:
                on_schedule(sched)
        if deadline is not None and time.monotonic() > deadline:
            break
    return best
