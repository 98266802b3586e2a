"""Permutation flow shop with sequence-dependent setups: NEH + iterated greedy.

For a problem that is one permutation flow shop (every job visits the machines of one
permutation group in the group's order, one operation per machine, one machine per
operation, no calendar, fixture or fixed operation), the state of the art is a search over
the job permutation: NEH construction, then iterated greedy (Ruiz & Stützle 2008: destroy
``d`` jobs, re-insert each at its best position, insertion local search, accept worse
permutations with a small constant temperature). Makespan insertion uses Taillard's
acceleration extended to setups (heads, tails and the setups on both sides of the
inserted job); other objectives evaluate whole sequences.
"""

from __future__ import annotations

import math
import multiprocessing
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import permutations
from typing import TYPE_CHECKING

from ..instance import Instance, Schedule
from .dispatch import decode_sequences

if TYPE_CHECKING:
    from multiprocessing.context import ForkProcess
    from multiprocessing.queues import Queue

EXHAUSTIVE_MAX_JOBS = 7
Cost = tuple[int, ...]  # a permutation's cost, smaller is better (the makespan alone, or the problem's key)


@dataclass
class FlowShop:
    """Dense data of a permutation flow shop view of an instance."""

    jobs: list[int]  # job indices of the instance, in the order used below
    machines: list[int]  # machine indices in visiting order
    ops: list[list[int]]  # ops[j][k]: operation of job j on the k-th machine
    p: list[list[int]]  # p[k][j]
    setup: list[list[list[int]]]  # setup[k][a][b]; row/column n = the machine's initial setup
    release: list[int]
    makespan_only: bool


def flow_shop_view(inst: Instance) -> FlowShop | None:
    """The flow-shop data if the instance is a pure permutation flow shop, else ``None``."""
    if len(inst.permutation_groups) != 1:
        return None
    machines = inst.permutation_groups[0]
    if sorted(machines) != list(range(inst.n_machines)):
        return None
    if any(not inst.calendars[k].always for k in machines):
        return None
    pos = {k: t for t, k in enumerate(machines)}
    jobs, ops = [], []
    for j, chain in enumerate(inst.job_ops):
        if not chain:
            continue
        if len(chain) != len(machines):
            return None
        row = []
        for t, i in enumerate(chain):
            if (
                len(inst.modes[i]) != 1
                or pos.get(inst.modes[i][0][0]) != t
                or inst.fixed[i] is not None
                or inst.fixture[i] >= 0
                or inst.wait_after[i]
            ):
                return None
            if t and [p for p, _ in inst.preds[i]] != [chain[t - 1]]:
                return None
            row.append(i)
        jobs.append(j)
        ops.append(row)
    n = len(jobs)
    p = [[inst.modes[ops[j][t]][0][1] + inst.modes[ops[j][t]][0][2] for j in range(n)] for t in range(len(machines))]
    setup = []
    for t, k in enumerate(machines):
        cls = [inst.op_class[ops[j][t]] for j in range(n)] + [inst.initial_class[k]]
        setup.append([[inst.chg(k, cls[a], cls[b]) if b < n else 0 for b in range(n + 1)] for a in range(n + 1)])
    release = [max(inst.release[i] for i in ops[j]) if ops[j] else 0 for j in range(n)]
    w = inst.objective.weights
    makespan_only = w is not None and w[0] == 0 and w[1] == 0
    return FlowShop(jobs, machines, ops, p, setup, release, makespan_only)


class IteratedGreedy:
    def __init__(self, fs: FlowShop, inst: Instance, seed: int = 0):
        self.fs, self.inst = fs, inst
        self.n, self.m = len(fs.jobs), len(fs.machines)
        self.rng = random.Random(seed)
        self.fast = fs.makespan_only and not any(fs.release)
        self.partial_ls = False  # IG_RS_LS variant: measured no better here, fewer iterations

    # -- evaluation ----------------------------------------------------------------
    def completion(self, seq: list[int]) -> list[list[int]]:
        """c[k][i]: completion of the i-th job of ``seq`` on the k-th machine."""
        fs, n = self.fs, self.n
        c: list[list[int]] = []
        prev_row = None
        for k in range(self.m):
            pk, sk = fs.p[k], fs.setup[k]
            row = []
            t = 0
            prev = n
            for idx, j in enumerate(seq):
                ready = fs.release[j] if prev_row is None else prev_row[idx]
                s = sk[prev][j]
                start = max(ready, t + s)
                t = start + pk[j]
                row.append(t)
                prev = j
            c.append(row)
            prev_row = row
        return c

    def cost(self, seq: list[int]) -> Cost:
        c = self.completion(seq)
        if self.fs.makespan_only:
            return (c[-1][-1] if seq else 0,)
        return self.inst.key(self.schedule(seq))

    def schedule(self, seq: list[int]) -> Schedule:
        seqs: list[list[int]] = [[] for _ in range(self.inst.n_machines)]
        for t, k in enumerate(self.fs.machines):
            seqs[k] = [self.fs.ops[j][t] for j in seq]
        return decode_sequences(self.inst, seqs)

    def best_insertion(self, seq: list[int], j: int) -> tuple[int, Cost]:
        """Best position to insert ``j`` into ``seq`` (first best on ties) and the cost there."""
        if not self.fast:
            costs = [self.cost(seq[:r] + [j] + seq[r:]) for r in range(len(seq) + 1)]
            best_pos = min(range(len(costs)), key=costs.__getitem__)  # min keeps the first of equals
            return best_pos, costs[best_pos]
        fs, m, n = self.fs, self.m, self.n
        L = len(seq)
        # heads e[k][i] (i = 0..L, e[k][0] = 0 before the first job), tails q[k][i] (i = 0..L-1, q[k][L] = 0)
        e = []
        prev_row = [0] * (L + 1)
        for k in range(m):
            pk, sk = fs.p[k], fs.setup[k]
            row = [0] * (L + 1)
            t, prev = 0, n
            for i in range(L):
                x = seq[i]
                a = t + sk[prev][x]
                b = prev_row[i + 1]
                t = (a if a > b else b) + pk[x]
                row[i + 1] = t
                prev = x
            e.append(row)
            prev_row = row
        q: list[list[int]] = [[] for _ in range(m)]
        nxt_row = [0] * (L + 1)
        for k in range(m - 1, -1, -1):
            pk, sk = fs.p[k], fs.setup[k]
            row = [0] * (L + 1)
            t = 0
            for i in range(L - 1, -1, -1):
                x = seq[i]
                a = (t + sk[x][seq[i + 1]]) if i + 1 < L else 0
                b = nxt_row[i]
                t = (a if a > b else b) + pk[x]
                row[i] = t
            q[k] = row
            nxt_row = row
        best_pos, best_val = 0, -1  # every val is >= 0
        pj = [fs.p[k][j] for k in range(m)]
        for r in range(L + 1):
            before = seq[r - 1] if r > 0 else n
            after = seq[r] if r < L else -1
            f = 0
            val = 0
            for k in range(m):
                sk = fs.setup[k]
                a = e[k][r] + sk[before][j]
                f = (a if a > f else f) + pj[k]
                tail = (sk[j][after] + q[k][r]) if after >= 0 else 0
                v = f + tail
                if v > val:
                    val = v
            if best_val < 0 or val < best_val:
                best_pos, best_val = r, val
        return best_pos, (best_val,)

    # -- construction and search -----------------------------------------------------
    def neh(self) -> list[int]:
        fs, n = self.fs, self.n
        avg_setup = [
            sum(sum(fs.setup[k][a][j] for a in range(n) if a != j) / max(1, n - 1) for k in range(self.m))
            for j in range(n)
        ]
        order = sorted(range(n), key=lambda j: -(sum(fs.p[k][j] for k in range(self.m)) + avg_setup[j]))
        seq: list[int] = []
        for j in order:
            r, _ = self.best_insertion(seq, j)
            seq.insert(r, j)
        return seq

    def local_search(self, seq: list[int], cost: Cost, deadline: float) -> tuple[list[int], Cost]:
        improved = True
        while improved and time.monotonic() < deadline:
            improved = False
            for j in self.rng.sample(seq, len(seq)):
                rest = [x for x in seq if x != j]
                r, c = self.best_insertion(rest, j)
                if c < cost:
                    seq, cost = rest[:r] + [j] + rest[r:], c
                    improved = True
        return seq, cost

    def run(
        self,
        time_limit: float,
        max_iterations: int | None = None,
        d: int = 4,
        tau: float = 0.5,
        on_improve: Callable[[list[int], Cost], None] | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> tuple[list[int], Cost, int]:
        start = time.monotonic()
        deadline = start + time_limit
        fs = self.fs
        total_p = sum(sum(row) for row in fs.p)
        temperature = tau * total_p / (self.n * self.m * 10)
        seq = self.neh()
        cost = self.cost(seq)
        if on_improve:
            on_improve(seq, cost)  # a first schedule before the (long on big instances) local search
        seq, cost = self.local_search(seq, cost, deadline)
        best, best_cost = seq[:], cost
        if on_improve:
            on_improve(best, best_cost)
        it = 0
        d = min(d, max(1, self.n - 1))
        while time.monotonic() < deadline and (max_iterations is None or it < max_iterations):
            if cancel is not None and it % 16 == 0 and cancel():
                break
            it += 1
            partial = seq[:]
            removed = [partial.pop(self.rng.randrange(len(partial))) for _ in range(d)]
            if self.partial_ls and len(partial) > 1:  # IG with local search on the partial permutation
                partial, _ = self.local_search(partial, self.cost(partial), deadline)
            for j in removed:
                r, _ = self.best_insertion(partial, j)
                partial.insert(r, j)
            new_cost = self.cost(partial)
            partial, new_cost = self.local_search(partial, new_cost, deadline)
            if new_cost < cost:
                seq, cost = partial, new_cost
                if cost < best_cost:
                    best, best_cost = seq[:], cost
                    if on_improve:
                        on_improve(best, best_cost)
            elif temperature > 0 and self.rng.random() < math.exp(-(new_cost[0] - cost[0]) / temperature):
                seq, cost = partial, new_cost
        return best, best_cost, it


def _child(
    fs: FlowShop, inst: Instance, seed: int, time_limit: float, out: Queue[tuple[Cost, list[int]]]
) -> None:  # pragma: no cover - subprocess
    ig = IteratedGreedy(fs, inst, seed)
    best, cost, _ = ig.run(time_limit)
    out.put((cost, best))


def solve_flow_shop(
    inst: Instance,
    fs: FlowShop,
    time_limit: float,
    seed: int = 0,
    max_iterations: int | None = None,
    on_improve: Callable[[Schedule], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    workers: int = 1,
) -> Schedule:
    """Iterated greedy over the job permutation; returns the timed schedule of the best permutation.

    With ``workers > 1`` independent searches with other seeds run in child processes (where
    the platform allows it: not inside a daemonic worker process) and the best permutation wins.
    """
    ig = IteratedGreedy(fs, inst, seed)
    if len(fs.jobs) <= EXHAUSTIVE_MAX_JOBS:  # small enough to try every permutation: exact
        exact = min(permutations(range(len(fs.jobs))), key=lambda seq: ig.cost(list(seq)))
        return ig.schedule(list(exact))
    children: list[ForkProcess] = []
    queue: Queue[tuple[Cost, list[int]]] | None = None
    if workers > 1 and max_iterations is None:
        try:
            ctx = multiprocessing.get_context("fork")
            queue = ctx.Queue()
            for w in range(1, workers):
                proc = ctx.Process(target=_child, args=(fs, inst, seed + 7919 * w, time_limit, queue), daemon=True)
                proc.start()
                children.append(proc)
        except (AssertionError, OSError, ValueError):  # e.g. inside a daemonic (Celery prefork) process
            children = []

    def report(seq: list[int], cost: Cost) -> None:
        if on_improve:
            on_improve(ig.schedule(seq))

    best, best_cost, _ = ig.run(time_limit, max_iterations, on_improve=report, cancel=cancel)
    if children and queue is not None:
        stopped = cancel is not None and cancel()
        for _ in children:
            if stopped:
                break
            try:
                cost, seq = queue.get(timeout=max(1.0, time_limit * 0.2))
            except Exception:  # noqa: BLE001 - a child that died only loses its own search
                continue
            if cost < best_cost:
                best, best_cost = seq, cost
        for proc in children:
            if proc.is_alive():
                proc.terminate()
            proc.join(timeout=1)
    return ig.schedule(best)
