"""Dispatch baselines (what shops do by hand) and the left-shift decoder.

* FIFO: first come, first served — jobs in order of release, then as given.
* EDD: earliest due date first.

Both take the operations in priority order as they become ready and put each on the
eligible machine where it finishes first. They are the baselines every run is compared with.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence

from ..instance import Instance, Schedule
from ..problem import InfeasibleError
from .timeline import Timeline


def fifo(inst: Instance) -> Schedule:
    """First come, first served: when a machine can take work, the job released first (then listed first)."""
    topo_pos = {i: r for r, i in enumerate(inst.topo)}
    release = [min((inst.release[i] for i in ops), default=0) for ops in inst.job_ops]
    key = [(release[inst.job_of[i]], inst.job_of[i], topo_pos[i], i) for i in range(inst.n)]
    return enforce_permutations(inst, machine_dispatch(inst, static=key))


def edd(inst: Instance) -> Schedule:
    """Earliest due date first (jobs without a due date last, heavier jobs first on ties), then FIFO."""
    topo_pos = {i: r for r, i in enumerate(inst.topo)}
    far = 10**15

    def prio(i: int) -> tuple[int, ...]:
        j = inst.job_of[i]
        due = inst.due[j]
        return (far if due is None else due, -inst.weight[j], j, topo_pos[i], i)

    return enforce_permutations(inst, machine_dispatch(inst, static=[prio(i) for i in range(inst.n)]))


def decode(inst: Instance, sched: Schedule) -> Schedule:
    """Left-shift a schedule: keep machines and machine sequences, start everything as early as possible."""
    return decode_sequences(inst, sched.sequences(inst.n_machines), sched.start)


def decode_sequences(inst: Instance, seqs: list[list[int]], guide: list[int] | None = None) -> Schedule:
    """Time a schedule given each machine's sequence: every operation as early as possible.

    Operations are placed when their job predecessors and machine predecessor are placed
    (fixed operations stay where they are); among those, the one with the smallest ``guide``
    (the start times of the schedule being re-timed) goes first, so fixtures are taken in the
    same order as there. Raises :class:`InfeasibleError` when the sequences contradict the
    precedences.
    """
    n = inst.n
    machine_of = [-1] * n
    nxt = [-1] * n
    indegree = [len(p) for p in inst.preds]
    for k, seq in enumerate(seqs):
        prev = -1
        for i in seq:
            machine_of[i] = k
            if prev >= 0 and inst.fixed[i] is None:
                nxt[prev] = i
                indegree[i] += 1
            if inst.fixed[i] is None:
                prev = i
    if guide is None:
        guide = [0] * n
        for seq in seqs:
            for p, i in enumerate(seq):
                guide[i] = p
    tl = Timeline(inst)
    stack = [(guide[i], i) for i in range(n) if indegree[i] == 0]
    heapq.heapify(stack)
    placed = 0
    while stack:
        _, i = heapq.heappop(stack)
        placed += 1
        if inst.fixed[i] is None:
            k = machine_of[i]
            spot = tl.probe(i, k, tl.ready_time(i))
            if spot is None:
                raise tl.no_room(i)
            tl.commit(i, k, spot)
        for s, _ in inst.succs[i]:
            indegree[s] -= 1
            if indegree[s] == 0:
                heapq.heappush(stack, (guide[s], s))
        s = nxt[i]
        if s >= 0:
            indegree[s] -= 1
            if indegree[s] == 0:
                heapq.heappush(stack, (guide[s], s))
    if placed < n:
        stuck = next(inst.op_ids[i] for i in range(n) if indegree[i] > 0)
        raise InfeasibleError(f"machine sequences contradict the routing order (at operation {stuck!r})")
    return tl.finish()


def enforce_permutations(inst: Instance, sched: Schedule) -> Schedule:
    """Make every permutation group process jobs in one order (the order jobs reach the group first)."""
    if not inst.permutation_groups:
        return sched
    seqs = sched.sequences(inst.n_machines)
    for group in inst.permutation_groups:
        first: dict[int, int] = {}
        for k in group:
            for i in seqs[k]:
                j = inst.job_of[i]
                first[j] = min(first.get(j, sched.start[i]), sched.start[i])
        for k in group:
            seqs[k].sort(key=lambda i: (first[inst.job_of[i]], inst.job_of[i], sched.start[i]))
    return decode_sequences(inst, seqs, sched.start)


def machine_dispatch(
    inst: Instance,
    score: Callable[[int, int, int, int], float] | None = None,
    static: Sequence[tuple[int, ...]] | None = None,
) -> Schedule:
    """Event-driven dispatching, machine by machine, as a dispatch list works on the floor.

    The machine that frees up first takes, among the operations waiting for it (ready by
    then), the one with the smallest ``score(op, machine, time, changeover)``; if none is ready
    it waits for the first to become ready. Fast: the cost of a step is a scan of the
    machine's queue and one placement, so thousands of operations take well under a second.
    ``static`` (a key per operation) replaces ``score`` for fixed priority rules.
    """
    tl = Timeline(inst)
    n, m = inst.n, inst.n_machines
    remaining = [len(p) for p in inst.preds]
    ready_at = [0] * n
    queue: list[set[int]] = [set() for _ in range(m)]
    version = [0] * m
    heap: list[tuple[int, int, int]] = []  # (decision time, machine, version)
    sleeping = [True] * m

    def wake(k: int, t: int) -> None:
        version[k] += 1
        sleeping[k] = False
        due_at[k] = t
        heapq.heappush(heap, (t, k, version[k]))

    due_at = [0] * m

    def add(i: int) -> None:
        if inst.fixed[i] is not None:
            for s, _ in inst.succs[i]:
                remaining[s] -= 1
                if remaining[s] == 0:
                    add(s)
            return
        ready_at[i] = tl.ready_time(i)
        for k, _, _ in inst.modes[i]:
            queue[k].add(i)
            t = max(tl.free[k], ready_at[i])
            if sleeping[k] or t < due_at[k]:
                wake(k, t)

    for i in range(n):
        if remaining[i] == 0:
            add(i)
    left = sum(1 for i in range(n) if inst.fixed[i] is None)
    while left:
        if not heap:
            stuck = next(i for k in range(m) for i in queue[k])
            raise tl.no_room(stuck)
        t, k, ver = heapq.heappop(heap)
        if ver != version[k]:
            continue
        waiting = queue[k]
        if not waiting:
            sleeping[k] = True
            continue
        t = max(t, tl.free[k])
        ready = [i for i in waiting if ready_at[i] <= t]
        if not ready:
            wake(k, min(ready_at[i] for i in waiting))
            continue
        if static is not None:
            best = min(ready, key=static.__getitem__)
        elif score is not None:
            prev = tl.last[k]
            prev_cls = inst.initial_class[k] if prev < 0 else inst.op_class[prev]
            best = min(ready, key=lambda i: (score(i, k, t, inst.chg(k, prev_cls, inst.op_class[i])), i))
        else:
            raise ValueError("machine_dispatch needs a score or a static key")
        spot = tl.probe(best, k, ready_at[best])
        dl = tl.deadline[best]
        if spot is None or (dl is not None and spot[4] > dl):
            waiting.discard(best)  # cannot go here; another eligible machine must take it
            if not any(best in queue[q] for q, _, _ in inst.modes[best]):
                raise tl.no_room(best)
            wake(k, t)
            continue
        tl.commit(best, k, spot)
        left -= 1
        for q, _, _ in inst.modes[best]:
            queue[q].discard(best)
        wake(k, tl.free[k])
        for succ, _ in inst.succs[best]:
            remaining[succ] -= 1
            if remaining[succ] == 0:
                add(succ)
    return tl.finish()
