"""The OR-Tools CP-SAT model.

One model builder serves the full problem and the sub-problems of the large-neighbourhood
search (:mod:`.lns`): a set of *free* operations, each with the machines it may use, is
scheduled into one *slot* per machine (after a given setup and end time, before an optional
frozen operation); everything else is frozen in time and only bounds the free operations.

Model: per free operation a start/end and an optional interval per allowed machine (exactly
one present); per machine a no-overlap, and where changeovers can occur an ``AddCircuit``
over the operations (arc literals carry the changeover minutes: ``arc(a, b) => start_b >=
end_a + changeover(a, b)``); the changeover sits right before its operation, so intervals
``[start - changeover, end)`` avoid calendar breaks and other uses of the same fixture,
and ``[start - changeover, start + setup)`` avoids unattended time; precedences with
minimum waits; permutation groups by one order literal per pair of jobs. The objective is
the lexicographic (or weighted) sum of weighted tardiness, changeover minutes and makespan.

When runs resume after breaks (``Problem.runs_resume_after_breaks``), an operation's
duration on a machine with breaks depends on its start: the allowed starts are cut into
pieces on which the break minutes crossed are constant (:meth:`.Calendar.resume_pieces`),
pieces with the same offset share one literal, exactly one literal holds when the operation
is on the machine, the start lies in that literal's pieces and the interval's size is
``setup + run + offset``. The pieces keep starts and ends out of breaks, so the breaks leave
the machine's no-overlap; the intervals span them, holding machine and fixture.

Solutions are re-timed by the exact decoder (:func:`.dispatch.decode_sequences`), so what
leaves here always passes the validator.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from ortools.sat.python import cp_model

from ..instance import Instance, Schedule
from .dispatch import decode_sequences
from .runner import Cancel, Progress, SubResult, run_model

SAFE = 2**61
Presence = cp_model.IntVar | int  # an operation's literal for a machine, or 1 where it has only that one
Expr = cp_model.LinearExpr | int  # a variable, a linear expression or a constant
Arc = tuple[int, int, cp_model.BoolVarT]  # a circuit arc: (from node, to node, literal)


@dataclass
class Slot:
    """Where free operations may go on one machine."""

    lo: int  # earliest start of a changeover
    prev_class: int  # setup class mounted before the first free operation
    next_op: int = -1  # frozen operation right after the slot (-1: none)
    next_start: int = 0


@dataclass(frozen=True)
class _Tardiness:
    """A job's tardiness variable, for the hint."""

    job: int
    due: int
    base: int  # the latest end of the job's frozen operations
    var: cp_model.IntVar


@dataclass(frozen=True)
class _Duration:
    """The duration of ``i`` on ``k`` when runs resume after breaks, with its literal per offset."""

    i: int
    k: int
    var: cp_model.IntVar
    choice: list[tuple[int, cp_model.IntVar]]


@dataclass(frozen=True)
class _SetupOn:
    """Whether the setup part of ``i`` on ``k`` exists (an operation without setup minutes)."""

    i: int
    k: int
    lit: cp_model.IntVar


@dataclass(frozen=True)
class _Occupation:
    """What ``i`` occupies on ``k``: its changeover and the operation."""

    i: int
    k: int
    start: cp_model.IntVar
    size: cp_model.IntVar


@dataclass(frozen=True)
class _SetupPart:
    """The changeover and setup of ``i`` on ``k``, which must lie in attended time."""

    i: int
    k: int
    start: cp_model.IntVar
    size: cp_model.IntVar
    end: cp_model.IntVar


def objective_scales(
    inst: Instance, horizon: int, chg_ub: int, tard_ub: int, makespan_lb: int = 0
) -> tuple[int, int, int]:
    """Integer weights (tardiness, changeover, makespan) that order like the problem's objective."""
    if inst.objective.weights is not None:
        return inst.objective.weights
    b = max(1, horizon - makespan_lb + 1)
    a = b * (chg_ub + 1)
    if a * (tard_ub + 1) < SAFE:
        return a, b, 1
    a = chg_ub + 1  # too large to keep makespan in the sum: drop it (tie-breaker only)
    if a * (tard_ub + 1) < SAFE:
        return a, 1, 0
    return 1, 0, 0


class CpSub:
    """Build and solve one CP-SAT (sub-)model."""

    def __init__(
        self,
        inst: Instance,
        free: list[int],
        allowed: dict[int, list[int]],
        slots: dict[int, Slot],
        frozen: Schedule | None,
        horizon: int,
        hint: Schedule | None = None,
        fixed_nodes: dict[int, list[int]] | None = None,
    ):
        self.inst = inst
        self.free = free
        self.allowed = allowed
        self.slots = slots
        self.frozen = frozen
        self.horizon = horizon
        self.fixed_nodes = fixed_nodes or {}
        # the auxiliary variables, hinted too (CP-SAT takes a complete hint at once)
        self._aux: list[_Tardiness | _Duration | _SetupOn | _Occupation | _SetupPart] = []
        self._max_in: dict[tuple[int, int], int] = {}  # the largest changeover into (operation, machine)
        self._arcs: dict[int, tuple[list[int], dict[int, int], list[Arc]]] = {}  # machine: (ops, node, arcs)
        self._order: dict[tuple[int, int], cp_model.IntVar] = {}  # (job, job): the first is first
        self.model = cp_model.CpModel()
        self._build(hint)

    # -- model ---------------------------------------------------------------------
    def _build(self, hint: Schedule | None) -> None:
        inst, md, H = self.inst, self.model, self.horizon
        free_set = set(self.free)
        fixed_nodes = {i for ops in self.fixed_nodes.values() for i in ops}
        frozen = self.frozen
        self.start: dict[int, cp_model.IntVar] = {}
        self.end: dict[int, cp_model.IntVar] = {}
        self.pres: dict[tuple[int, int], Presence] = {}
        self.chg_expr: dict[tuple[int, int], Expr] = {}
        # per (operation, machine): its duration on the machine, changeover excluded (a variable
        # when runs resume after breaks and the break minutes crossed depend on the start)
        self.dur: dict[tuple[int, int], cp_model.IntVar | int] = {}
        self.dur_ub: dict[tuple[int, int], int] = {}
        plain: dict[int, list[cp_model.IntervalVar]] = {k: [] for k in self.slots}
        occ: dict[int, list[cp_model.IntervalVar]] = {k: [] for k in self.slots}
        setup_part: dict[int, list[cp_model.IntervalVar]] = {k: [] for k in self.slots}
        fixture_ivs: dict[int, list[cp_model.IntervalVar]] = {}
        nodes: dict[int, list[int]] = {k: [] for k in self.slots}

        # bounds from frozen neighbours
        lb: dict[int, int] = {}
        ub_end: dict[int, int] = {}
        for i in self.free:
            lo = inst.release[i]
            for p, wait in inst.preds[i]:
                if p not in free_set and frozen is not None:
                    lo = max(lo, frozen.end[p] + wait)
            lb[i] = lo
            hi = H
            for s, _ in inst.succs[i]:
                if s not in free_set and frozen is not None:
                    hi = min(hi, frozen.start[s] - inst.wait_after[i])
            ub_end[i] = hi

        for i in self.free + sorted(fixed_nodes):
            if i in fixed_nodes:
                k0, st0 = inst.placement(i)
                s, r = inst.mode_of[i][k0]
                self.start[i] = md.new_int_var(st0, st0, f"s{i}")
                self.end[i] = md.new_int_var(st0 + s + r, st0 + s + r, f"e{i}")
                self.pres[(i, k0)] = 1
                nodes[k0].append(i)
                plain[k0].append(md.new_interval_var(self.start[i], s + r, self.end[i], f"iv{i}"))
                continue
            ks = self.allowed[i]
            min_d = min(inst.mode_of[i][k][0] + inst.mode_of[i][k][1] for k in ks)
            max_d = max(inst.mode_of[i][k][0] + inst.mode_of[i][k][1] for k in ks)
            s_lo = max(lb[i], min(self.slots[k].lo for k in ks))
            s_hi = max(s_lo, ub_end[i] - min_d)
            pieces = {k: self._resume_pieces(i, k, s_lo, s_hi) for k in ks}
            max_off = max((max(p, default=0) for p in pieces.values() if p is not None), default=0)
            self.start[i] = md.new_int_var(s_lo, s_hi, f"s{i}")
            self.end[i] = md.new_int_var(s_lo + min_d, max(s_lo + min_d, s_hi + max_d + max_off), f"e{i}")
            lits = []
            for k in ks:
                s, r = inst.mode_of[i][k]
                lit = md.new_bool_var(f"p{i}_{k}") if len(ks) > 1 else 1
                self.pres[(i, k)] = lit
                nodes[k].append(i)
                by_offset = pieces[k]
                dur = s + r if by_offset is None else self._resume_duration(i, k, lit, by_offset)
                self.dur[(i, k)] = dur
                if len(ks) > 1:
                    lits.append(lit)
                    iv = md.new_optional_interval_var(self.start[i], dur, self.end[i], lit, f"iv{i}_{k}")
                    md.add(self.end[i] == self.start[i] + dur).only_enforce_if(lit)
                else:
                    iv = md.new_interval_var(self.start[i], dur, self.end[i], f"iv{i}_{k}")
                plain[k].append(iv)
            if lits:
                md.add_exactly_one(lits)

        # precedences among modelled operations
        modelled = set(self.start)
        for i in modelled:
            for p, wait in inst.preds[i]:
                if p in modelled and not (p in fixed_nodes and i in fixed_nodes):
                    md.add(self.start[i] >= self.end[p] + wait)

        # machines
        self.arc_chg: list[tuple[cp_model.IntVar, int]] = []
        self.const_chg = 0
        self.n_arcs = 0
        for k, slot in self.slots.items():
            ops = nodes[k]
            cal = inst.calendars[k]
            hi_k = slot.next_start if slot.next_op >= 0 else H
            # with runs resuming, operations span breaks: the start pieces keep starts and ends
            # out of them, and the setup parts keep changeovers and setups in attended time
            breaks = cal.breaks(slot.lo, hi_k) if not cal.always and not inst.runs_resume else []
            unattended = cal.unattended(slot.lo, hi_k) if not cal.always else []
            chg_needed = inst.has_changeovers and self._machine_has_changeovers(k, ops, slot)
            if not ops:
                if slot.next_op >= 0:
                    self.const_chg += inst.chg(k, slot.prev_class, inst.op_class[slot.next_op])
                continue
            if not chg_needed:
                for i in ops:
                    lit = self.pres[(i, k)]
                    if i not in fixed_nodes:
                        self._enforce(md.add(self.start[i] >= slot.lo), lit)
                        if slot.next_op >= 0:
                            self._enforce(md.add(self.end[i] <= slot.next_start), lit)
                    self.chg_expr[(i, k)] = 0
                md.add_no_overlap(plain[k])
                if breaks:  # fixed operations are facts: exempt from the calendar
                    brk = [md.new_fixed_size_interval_var(a, b - a, f"brk{k}_{a}") for a, b in breaks]
                    movable = [iv for i, iv in zip(ops, plain[k], strict=True) if i not in fixed_nodes]
                    md.add_no_overlap(movable + brk)
                if unattended:
                    self._setup_parts(k, ops, fixed_nodes, unattended, setup_part)
                for i in ops:
                    if inst.fixture[i] >= 0:
                        fixture_ivs.setdefault(inst.fixture[i], []).append(self._plain_iv(i, plain[k], ops))
                continue
            self._circuit(k, ops, slot, fixed_nodes)
            md.add_no_overlap(plain[k])
            need_occ = breaks or any(inst.fixture[i] >= 0 for i in ops)
            if need_occ:
                for i in ops:
                    if i in fixed_nodes:
                        continue
                    s, r = inst.mode_of[i][k]
                    lit = self.pres[(i, k)]
                    chg = self.chg_expr[(i, k)]
                    cs = md.new_int_var(-H, H, f"cs{i}_{k}")
                    self._enforce(md.add(cs == self.start[i] - chg), lit)
                    self._enforce(md.add(cs >= slot.lo), lit)
                    dur_ub = self.dur_ub.get((i, k), s + r)
                    size = md.new_int_var(s + r, dur_ub + self._max_in[(i, k)], f"sz{i}_{k}")
                    md.add(size == chg + self.dur[(i, k)])
                    self._aux.append(_Occupation(i, k, cs, size))
                    if isinstance(lit, int):
                        iv = md.new_interval_var(cs, size, self.end[i], f"occ{i}_{k}")
                    else:
                        iv = md.new_optional_interval_var(cs, size, self.end[i], lit, f"occ{i}_{k}")
                    occ[k].append(iv)
                    if inst.fixture[i] >= 0:
                        fixture_ivs.setdefault(inst.fixture[i], []).append(iv)
                if breaks:
                    brk = [md.new_fixed_size_interval_var(a, b - a, f"brk{k}_{a}") for a, b in breaks]
                    md.add_no_overlap(occ[k] + brk)
            if unattended:
                self._setup_parts(k, ops, fixed_nodes, unattended, setup_part, with_chg=True)

        # fixtures: unary resources, frozen uses as fixed intervals
        if fixture_ivs and frozen is not None:
            modelled_ops = set(self.start)
            for i in range(inst.n):
                f = inst.fixture[i]
                if f in fixture_ivs and i not in modelled_ops and frozen.machine[i] >= 0:
                    a, b = frozen.start[i] - frozen.changeover[i], frozen.end[i]
                    if b > a:
                        fixture_ivs[f].append(md.new_fixed_size_interval_var(a, b - a, f"fx{i}"))
        for ivs in fixture_ivs.values():
            if len(ivs) > 1:
                md.add_no_overlap(ivs)

        self._permutations(fixed_nodes)
        self._objective(fixed_nodes)
        if hint is not None:
            self._hint(hint, fixed_nodes)

    def _resume_pieces(self, i: int, k: int, lo: int, hi: int) -> dict[int, list[tuple[int, int]]] | None:
        """Starts of ``i`` on ``k`` in ``[lo, hi]`` grouped by the break minutes its run crosses
        (``None``: the duration is ``setup + run`` whatever the start: runs do not resume, the
        machine is always available or there is no run)."""
        inst = self.inst
        cal = inst.calendars[k]
        s, r = inst.mode_of[i][k]
        if not inst.runs_resume or cal.always or r == 0:
            return None
        by_offset: dict[int, list[tuple[int, int]]] = {}
        for a, b, off in cal.resume_pieces(max(lo, self.slots[k].lo), hi, s, r):
            by_offset.setdefault(off, []).append((a, b))
        return by_offset

    def _resume_duration(
        self, i: int, k: int, lit: Presence, by_offset: dict[int, list[tuple[int, int]]]
    ) -> cp_model.IntVar | int:
        """The duration ``setup + run + offset`` of ``i`` on ``k``, with one literal per offset whose
        start pieces the start must lie in (exactly one when the operation is on ``k``)."""
        inst, md = self.inst, self.model
        s, r = inst.mode_of[i][k]
        if not by_offset:  # no start on this machine finishes before its calendar ends
            if isinstance(lit, int):
                md.add_bool_or([])  # its only machine: no schedule (the hint is one, so this does not happen)
            else:
                md.add(lit == 0)
            return s + r
        self.dur_ub[(i, k)] = s + r + max(by_offset)
        if len(by_offset) == 1:
            ((off, ivs),) = by_offset.items()
            ct = md.add_linear_expression_in_domain(self.start[i], cp_model.Domain.from_intervals(ivs))
            self._enforce(ct, lit)
            return s + r + off
        choice = []
        for off, ivs in sorted(by_offset.items()):
            b = md.new_bool_var(f"o{i}_{k}_{off}")
            md.add_linear_expression_in_domain(self.start[i], cp_model.Domain.from_intervals(ivs)).only_enforce_if(b)
            choice.append((off, b))
        md.add(sum(b for _, b in choice) == lit)
        if isinstance(lit, int):  # the only machine: its allowed starts bound the start directly
            allowed = [iv for ivs in by_offset.values() for iv in ivs]
            md.add_linear_expression_in_domain(self.start[i], cp_model.Domain.from_intervals(allowed))
        values = sorted({s + r} | {s + r + off for off in by_offset})
        dur = md.new_int_var_from_domain(cp_model.Domain.from_values(values), f"d{i}_{k}")
        md.add(dur == s + r + sum(off * b for off, b in choice))
        self._aux.append(_Duration(i, k, dur, choice))
        return dur

    @staticmethod
    def _enforce(ct: cp_model.Constraint, lit: Presence) -> None:
        if not isinstance(lit, int):
            ct.only_enforce_if(lit)

    @staticmethod
    def _plain_iv(i: int, ivs: list[cp_model.IntervalVar], ops: list[int]) -> cp_model.IntervalVar:
        return ivs[ops.index(i)]

    def _setup_parts(
        self,
        k: int,
        ops: list[int],
        fixed_nodes: set[int],
        unattended: list[tuple[int, int]],
        setup_part: dict[int, list[cp_model.IntervalVar]],
        with_chg: bool = False,
    ) -> None:
        inst, md, H = self.inst, self.model, self.horizon
        parts: list[cp_model.IntervalVar] = []
        for i in ops:
            if i in fixed_nodes:
                continue
            s, _ = inst.mode_of[i][k]
            chg = self.chg_expr.get((i, k), 0) if with_chg else 0
            if s == 0 and isinstance(chg, int):  # never any setup or changeover time
                continue
            lit = self.pres[(i, k)]
            if s == 0:
                # CP-SAT's no-overlap also refuses a zero-size interval strictly inside a gap, and a
                # run with no setup may start in lights-out time: the part exists only with a changeover
                lit = md.new_bool_var(f"sc{i}_{k}")
                md.add(chg >= 1).only_enforce_if(lit)
                md.add(chg == 0).only_enforce_if(lit.Not())
                self._aux.append(_SetupOn(i, k, lit))
            cs = md.new_int_var(-H, H, f"ss{i}_{k}")
            self._enforce(md.add(cs == self.start[i] - chg), lit)
            ce = md.new_int_var(-H, 2 * H, f"se{i}_{k}")
            self._enforce(md.add(ce == self.start[i] + s), lit)
            size = md.new_int_var(0, H, f"ssz{i}_{k}")
            self._enforce(md.add(size == chg + s), lit)
            self._aux.append(_SetupPart(i, k, cs, size, ce))
            if isinstance(lit, int):
                parts.append(md.new_interval_var(cs, size, ce, f"sp{i}_{k}"))
            else:
                parts.append(md.new_optional_interval_var(cs, size, ce, lit, f"sp{i}_{k}"))
        if parts:
            gaps = [md.new_fixed_size_interval_var(a, b - a, f"ua{k}_{a}") for a, b in unattended]
            md.add_no_overlap(parts + gaps)
        setup_part[k] = parts

    def _machine_has_changeovers(self, k: int, ops: list[int], slot: Slot) -> bool:
        inst = self.inst
        classes = {inst.op_class[i] for i in ops}
        if slot.next_op >= 0:
            classes.add(inst.op_class[slot.next_op])
        src = classes | {slot.prev_class}
        return any(inst.chg(k, a, b) for a in src for b in classes if a != b)

    def _circuit(self, k: int, ops: list[int], slot: Slot, fixed_nodes: set[int]) -> None:
        inst, md = self.inst, self.model
        arcs: list[Arc] = []
        incoming: dict[int, list[tuple[cp_model.IntVar, int]]] = {i: [] for i in ops}
        idx = {i: n + 1 for n, i in enumerate(ops)}
        job_preds = {i: {p for p, _ in inst.preds[i]} for i in ops}
        nxt_cls = inst.op_class[slot.next_op] if slot.next_op >= 0 else -1
        for i in ops:
            lit = self.pres[(i, k)]
            if not isinstance(lit, int):
                arcs.append((idx[i], idx[i], lit.Not()))
            # first on the machine
            first = md.new_bool_var(f"f{k}_{i}")
            arcs.append((0, idx[i], first))
            c0 = inst.chg(k, slot.prev_class, inst.op_class[i])
            if i not in fixed_nodes:
                md.add(self.start[i] >= slot.lo + c0).only_enforce_if(first)
            incoming[i].append((first, c0))
            # last on the machine
            last = md.new_bool_var(f"l{k}_{i}")
            arcs.append((idx[i], 0, last))
            if slot.next_op >= 0:
                cn = inst.chg(k, inst.op_class[i], nxt_cls)
                md.add(self.end[i] + cn <= slot.next_start).only_enforce_if(last)
                if cn:
                    self.arc_chg.append((last, cn))
        for i in ops:
            fi = inst.fixed[i] if i in fixed_nodes else None
            for j in ops:
                if i == j or j in job_preds[i]:  # j precedes i in its job: i -> j is impossible
                    continue
                fj = inst.fixed[j] if j in fixed_nodes else None
                if fi is not None and fj is not None and fi[1] > fj[1]:
                    continue
                lit = md.new_bool_var(f"a{k}_{i}_{j}")
                arcs.append((idx[i], idx[j], lit))
                c = inst.chg(k, inst.op_class[i], inst.op_class[j])
                md.add(self.start[j] >= self.end[i] + c).only_enforce_if(lit)
                incoming[j].append((lit, c))
        empty = md.new_bool_var(f"empty{k}")
        arcs.append((0, 0, empty))
        if slot.next_op >= 0:
            ce = inst.chg(k, slot.prev_class, nxt_cls)
            if ce:
                self.arc_chg.append((empty, ce))
        md.add_circuit(arcs)
        self.n_arcs += len(arcs)
        for i in ops:
            terms = [(lit, c) for lit, c in incoming[i] if c]
            self.arc_chg.extend(terms)
            self._max_in[(i, k)] = max((c for _, c in terms), default=0)
            self.chg_expr[(i, k)] = sum(lit * c for lit, c in terms) if terms else 0
        self._arcs[k] = (ops, idx, arcs)

    def _permutations(self, fixed_nodes: set[int]) -> None:
        inst, md = self.inst, self.model
        modelled = set(self.start)
        for group in inst.permutation_groups:
            per_machine: dict[int, dict[int, int]] = {}
            for k in group:
                for i in modelled:
                    if (i, k) in self.pres:
                        per_machine.setdefault(k, {})[inst.job_of[i]] = i
            jobs = sorted({j for d in per_machine.values() for j in d})
            for x, a in enumerate(jobs):
                for b in jobs[x + 1 :]:
                    pairs = [(d[a], d[b], k) for k, d in per_machine.items() if a in d and b in d]
                    if not pairs:
                        continue
                    y = md.new_bool_var(f"ord{a}_{b}")
                    self._order[(a, b)] = y
                    for ia, ib, k in pairs:
                        pa, pb = self.pres[(ia, k)], self.pres[(ib, k)]
                        enf = [v for v in (pa, pb) if not isinstance(v, int)]
                        md.add(self.start[ib] >= self.end[ia]).only_enforce_if([y, *enf])
                        md.add(self.start[ia] >= self.end[ib]).only_enforce_if([y.Not(), *enf])

    def _objective(self, fixed_nodes: set[int]) -> None:
        inst, md, H = self.inst, self.model, self.horizon
        frozen = self.frozen
        modelled = set(self.start)
        # makespan
        frozen_cmax = 0
        if frozen is not None:
            frozen_cmax = max(
                (frozen.end[i] for i in range(inst.n) if i not in modelled and frozen.machine[i] >= 0), default=0
            )
        cmax = md.new_int_var(frozen_cmax, max(H, frozen_cmax), "cmax")
        self.cmax_lb = frozen_cmax
        # redundant but strong for makespan: the work left in the job after each operation
        tail = self._tails(modelled)
        for i in modelled:
            md.add(cmax >= self.end[i] + tail[i])
        self.cmax = cmax
        # tardiness per job touched
        tard_terms = []
        tard_ub = 0
        jobs = {inst.job_of[i] for i in modelled}
        for j in sorted(jobs):
            due = inst.due[j]
            if due is None or not inst.weight[j]:
                continue
            ends = [self.end[i] for i in inst.job_ops[j] if i in modelled]
            base = 0
            if frozen is not None:
                base = max((frozen.end[i] for i in inst.job_ops[j] if i not in modelled), default=0)
            t = md.new_int_var(0, max(0, max(H, base) - due), f"t{j}")
            md.add(t >= base - due)
            for e in ends:
                md.add(t >= e - due)
            tard_terms.append((t, inst.weight[j]))
            self._aux.append(_Tardiness(j, due, base, t))
            tard_ub += inst.weight[j] * max(0, max(H, base) - due)
        chg_ub = self._chg_ub()
        wa, wb, wc = objective_scales(inst, H, chg_ub, tard_ub)
        self.weights = (wa, wb, wc)
        tard = sum(t * w for t, w in tard_terms) if tard_terms else 0
        chg = sum(lit * c for lit, c in self.arc_chg) if self.arc_chg else 0
        self.tard_expr, self.chg_sum = tard, chg
        md.minimize(wa * tard + wb * chg + wc * cmax)

    def _tails(self, modelled: set[int]) -> dict[int, int]:
        """Least minutes the job still needs after each modelled operation (its successors' work)."""
        inst = self.inst
        tail: dict[int, int] = {}
        for i in reversed(inst.topo):
            if i not in modelled:
                continue
            best = 0
            for s, wait in inst.succs[i]:
                if s in modelled:
                    dur = (
                        min(inst.mode_of[s][k][0] + inst.mode_of[s][k][1] for k in self.allowed.get(s, []))
                        if (s in self.allowed)
                        else sum(inst.mode_of[s][inst.placement(s)[0]])
                    )
                    best = max(best, wait + dur + tail[s])
            tail[i] = best
        return tail

    def _chg_ub(self) -> int:
        """An upper bound of the changeover sum: the largest changeover into each operation and slot end."""
        inst = self.inst
        per_op: dict[int, int] = {}
        for (i, _k), c in self._max_in.items():
            per_op[i] = max(per_op.get(i, 0), c)
        total = sum(per_op.values())
        for k, slot in self.slots.items():
            if slot.next_op >= 0:
                nxt = inst.op_class[slot.next_op]
                total += max((inst.chg(k, inst.op_class[i], nxt) for i in per_op), default=0)
                total += inst.chg(k, slot.prev_class, nxt)
        return total

    def _hint(self, hint: Schedule, fixed_nodes: set[int]) -> None:
        md, inst = self.model, self.inst
        # auxiliary variables too: CP-SAT takes a complete hint at once, a partial one it must repair
        cmax = self.cmax_lb
        for i in self.start:
            cmax = max(cmax, hint.end[i])
        md.add_hint(self.cmax, cmax)
        for aux in self._aux:
            if isinstance(aux, _Tardiness):
                done = max([aux.base] + [hint.end[i] for i in inst.job_ops[aux.job] if i in self.start])
                md.add_hint(aux.var, max(0, done - aux.due))
                continue
            i, k = aux.i, aux.k
            on = hint.machine[i] == k
            chg = hint.changeover[i] if on else 0
            s, r = inst.mode_of[i][k]
            if on:
                dur = hint.end[i] - hint.start[i]
            else:  # what the model's constraints give an absent operation
                fixed_dur = self.dur.get((i, k), s + r)
                dur = fixed_dur if isinstance(fixed_dur, int) else s + r
            if isinstance(aux, _SetupOn):
                md.add_hint(aux.lit, chg > 0)
                continue
            if isinstance(aux, _Duration):
                md.add_hint(aux.var, dur)
                for off, b_off in aux.choice:
                    md.add_hint(b_off, on and dur == s + r + off)
                continue
            md.add_hint(aux.start, hint.start[i] - chg)
            if isinstance(aux, _Occupation):
                md.add_hint(aux.size, chg + dur)
            else:
                md.add_hint(aux.size, chg + s)
                md.add_hint(aux.end, hint.start[i] + s)
        for i in self.start:
            if i in fixed_nodes:
                continue
            md.add_hint(self.start[i], hint.start[i])
            md.add_hint(self.end[i], hint.end[i])
            for k in self.allowed[i]:
                lit = self.pres[(i, k)]
                if not isinstance(lit, int):
                    md.add_hint(lit, hint.machine[i] == k)
        for k, (ops, idx, arcs) in self._arcs.items():
            seq = sorted((i for i in ops if hint.machine[i] == k), key=lambda i: (hint.start[i], i))
            used = set()
            if seq:
                used.add((0, idx[seq[0]]))
                used.add((idx[seq[-1]], 0))
                for a, b in zip(seq, seq[1:], strict=False):
                    used.add((idx[a], idx[b]))
            else:
                used.add((0, 0))
            for a, b, arc in arcs:
                if a == b and a != 0:  # a self-loop is the negated presence, hinted above
                    continue
                if a == b == 0:
                    md.add_hint(arc, not seq)
                    continue
                md.add_hint(arc, (a, b) in used)
        for (a, b), y in self._order.items():
            ia = min((hint.start[i] for i in inst.job_ops[a] if i in self.start), default=0)
            ib = min((hint.start[i] for i in inst.job_ops[b] if i in self.start), default=0)
            md.add_hint(y, ia <= ib)

    # -- solve ---------------------------------------------------------------------
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
            self._extract,
            self._figures,
            time_limit=time_limit,
            workers=workers,
            seed=seed,
            progress=progress,
            cancel=cancel,
            t0=t0,
            extra=extra,
        )

    def _figures(self, cb: cp_model.CpSolverSolutionCallback) -> tuple[int, int, int]:
        tard, chg = (e if isinstance(e, int) else cb.value(e) for e in (self.tard_expr, self.chg_sum))
        return tard, chg, cb.value(self.cmax)

    def _extract(self, solver: cp_model.CpSolver) -> Schedule:
        inst = self.inst
        machine = [-1] * inst.n
        start = [0] * inst.n
        if self.frozen is not None:
            machine = self.frozen.machine[:]
            start = self.frozen.start[:]
        for i in self.start:
            start[i] = solver.value(self.start[i])
            if (fixed := inst.fixed[i]) is not None:
                machine[i] = fixed[0]
                continue
            for k in self.allowed[i]:
                lit = self.pres[(i, k)]
                if isinstance(lit, int) or solver.boolean_value(lit):
                    machine[i] = k
                    break
        seqs: list[list[int]] = [[] for _ in range(inst.n_machines)]
        for i in range(inst.n):
            if machine[i] >= 0:
                seqs[machine[i]].append(i)
        for seq in seqs:
            seq.sort(key=lambda i: (start[i], i))
        return decode_sequences(inst, seqs, start)


def full_horizon(inst: Instance, hint: Schedule) -> int:
    """A horizon for the full model: the hint's makespan, with room to trade it for the first objectives."""
    cmax = max(hint.end) if inst.n else 0
    w = inst.objective.weights
    if w is not None and w[0] == 0 and w[1] == 0:
        return cmax
    longest = max((s + r for modes in inst.modes for _, s, r in modes), default=0)
    return cmax + max(cmax // 4, 2 * longest)


def build_full(inst: Instance, hint: Schedule, horizon: int | None = None) -> CpSub:
    """The CP-SAT model of the whole problem, hinted with ``hint``."""
    free = [i for i in range(inst.n) if inst.fixed[i] is None]
    allowed = {i: [k for k, _, _ in inst.modes[i]] for i in free}
    slots = {k: Slot(0, inst.initial_class[k]) for k in range(inst.n_machines)}
    fixed_nodes: dict[int, list[int]] = {}
    for i, fixed in enumerate(inst.fixed):
        if fixed is not None:
            fixed_nodes.setdefault(fixed[0], []).append(i)
    return CpSub(inst, free, allowed, slots, None, horizon or full_horizon(inst, hint), hint, fixed_nodes)


def arc_count(inst: Instance) -> int:
    """How many arc literals the full model's circuits would need (its size driver)."""
    if not inst.has_changeovers:
        return 0
    return sum(len(ops) * len(ops) for ops in inst.eligible_ops)


def solve_cpsat(
    inst: Instance,
    hint: Schedule,
    time_limit: float,
    workers: int = 8,
    seed: int = 0,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    t0: float | None = None,
) -> SubResult:
    """Solve the full model warm-started from ``hint``; the result is never worse than the hint.

    ``time_limit`` counts from the call: building a large model eats into it.
    """
    deadline = time.monotonic() + time_limit
    sub = build_full(inst, hint)
    res = sub.solve(max(0.1, deadline - time.monotonic()), workers, seed, progress, cancel, t0)
    if res.schedule is None or inst.key(res.schedule) > inst.key(hint):
        res.schedule = hint
    return res
