"""Readers for public benchmark instances (see ``shared/benchmarks/README.md``).

Every reader returns a :class:`Problem` with the makespan objective. Ids are 0-based and
follow the file: machine ``m{k}``, job ``j{j}``, operation ``j{j}-o{k}`` (the k-th operation
of job j in the file's order), so a schedule maps back to the file by index.

* ``fjsp/``: flexible job shop (SchedulingLab text, machines numbered from 0);
* ``sdst-pfsp/``: permutation flow shop with sequence-dependent setup times; every machine is
  its own work center whose changeover rules hold the file's setup matrix (``program`` =
  job), and all machines form one permutation group;
* ``jsp/``: classic job shop, Taillard format (machines numbered from 1 in the file).
"""

from __future__ import annotations

import csv
from pathlib import Path

from .problem import ChangeoverRule, Job, Machine, Mode, Objective, Operation, Problem, ProblemError, Setup

FORMATS = ("fjsp", "sdst-pfsp", "jsp")


def _numbers(path: Path) -> list[int]:
    try:
        return [int(tok) for tok in path.read_text().split()]
    except ValueError as exc:
        raise ProblemError(f"{path}: not a list of integers ({exc})") from exc


class _Tokens:
    def __init__(self, path: Path):
        self.path = path
        self.values = _numbers(path)
        self.pos = 0

    def next(self) -> int:
        if self.pos >= len(self.values):
            raise ProblemError(f"{self.path}: file ends early")
        self.pos += 1
        return self.values[self.pos - 1]


def _chain(job: str, n_ops: int) -> list[list[str]]:
    return [[] if k == 0 else [f"{job}-o{k - 1}"] for k in range(n_ops)]


def read_fjsp(path: str | Path) -> Problem:
    """Flexible job shop: ``jobs machines`` then per job ``n_ops`` and per op ``k (machine dur)*k``."""
    path = Path(path)
    tok = _Tokens(path)
    n_jobs, n_machines = tok.next(), tok.next()
    if tok.pos < len(tok.values) and len(path.read_text().split("\n")[0].split()) > 2:
        tok.next()  # some files add the average number of machines per operation
    machines = [Machine(f"m{k}", work_center=f"m{k}") for k in range(n_machines)]
    jobs, ops = [], []
    for j in range(n_jobs):
        jid = f"j{j}"
        jobs.append(Job(jid))
        n_ops = tok.next()
        preds = _chain(jid, n_ops)
        for k in range(n_ops):
            modes = []
            for _ in range(tok.next()):
                machine, duration = tok.next(), tok.next()
                if not 0 <= machine < n_machines:
                    raise ProblemError(f"{path}: job {j} operation {k} names machine {machine} of {n_machines}")
                modes.append(Mode(f"m{machine}", 0, duration))
            ops.append(Operation(f"{jid}-o{k}", jid, modes, predecessors=preds[k]))
    return Problem(machines, jobs, ops, objective=Objective.makespan_only(), name=path.stem)


def read_sdst_pfsp(path: str | Path) -> Problem:
    """Permutation flow shop with sequence-dependent setups (Naderi, Ruiz & Roshanaei format)."""
    path = Path(path)
    tok = _Tokens(path)
    n, m = tok.next(), tok.next()
    proc = [[tok.next() for _ in range(m)] for _ in range(n)]
    rules = []
    for k in range(m):
        for a in range(n):
            for b in range(n):
                minutes = tok.next()
                if a != b and minutes:
                    rules.append(ChangeoverRule("program", f"j{a}", f"j{b}", minutes, work_center=f"m{k}"))
    machines = [Machine(f"m{k}", work_center=f"m{k}") for k in range(m)]
    jobs, ops = [], []
    for j in range(n):
        jid = f"j{j}"
        jobs.append(Job(jid))
        preds = _chain(jid, m)
        for k in range(m):
            ops.append(
                Operation(
                    f"{jid}-o{k}", jid, [Mode(f"m{k}", 0, proc[j][k])], predecessors=preds[k], setup=Setup(program=jid)
                )
            )
    return Problem(
        machines,
        jobs,
        ops,
        changeover_rules=rules,
        permutation_groups=[[mc.id for mc in machines]],
        objective=Objective.makespan_only(),
        name=path.stem,
    )


def read_jsp(path: str | Path) -> Problem:
    """Job shop, Taillard format: ``n``, ``m``, durations (n x m), machine order (n x m, from 1)."""
    path = Path(path)
    tok = _Tokens(path)
    n, m = tok.next(), tok.next()
    dur = [[tok.next() for _ in range(m)] for _ in range(n)]
    order = [[tok.next() for _ in range(m)] for _ in range(n)]
    machines = [Machine(f"m{k}", work_center=f"m{k}") for k in range(m)]
    jobs, ops = [], []
    for j in range(n):
        jid = f"j{j}"
        jobs.append(Job(jid))
        preds = _chain(jid, m)
        for k in range(m):
            machine = order[j][k] - 1
            if not 0 <= machine < m:
                raise ProblemError(f"{path}: job {j} operation {k} names machine {order[j][k]} (1..{m})")
            ops.append(Operation(f"{jid}-o{k}", jid, [Mode(f"m{machine}", 0, dur[j][k])], predecessors=preds[k]))
    return Problem(machines, jobs, ops, objective=Objective.makespan_only(), name=path.stem)


def instance_format(path: str | Path) -> str:
    """The format of a benchmark file, recognised from its folder (``fjsp/``, ``sdst-pfsp/``, ``jsp/``) or ``.json``."""
    path = Path(path)
    if path.suffix == ".json":
        return "json"
    for part in reversed(path.resolve().parts[:-1]):
        if part in FORMATS:
            return part
    raise ProblemError(
        f"{path}: cannot tell the format (expected a .json file or a file under fjsp/, sdst-pfsp/, jsp/)"
    )


def read_instance(path: str | Path) -> Problem:
    """Read any supported file: a JSON problem (see :mod:`jobs.scheduling.io`) or a benchmark instance."""
    fmt = instance_format(path)
    if fmt == "json":
        from .io import load_problem

        return load_problem(path)
    return {"fjsp": read_fjsp, "sdst-pfsp": read_sdst_pfsp, "jsp": read_jsp}[fmt](path)


def best_known(path: str | Path) -> int | None:
    """Best-known makespan of a benchmark file from the nearest ``bks.csv`` above it, if any."""
    path = Path(path).resolve()
    for folder in path.parents:
        table = folder / "bks.csv"
        if table.exists():
            key = path.relative_to(folder).with_suffix("").as_posix()
            with table.open(newline="") as fh:
                for row in csv.DictReader(fh):
                    if row.get("instance") == key:
                        return int(row["best_known"])
            return None
    return None
