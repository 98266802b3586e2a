"""The scheduling problem and its solution as plain dataclasses.

Time is integer minutes from the start of the horizon (minute 0 = "now" for a planner run).
Nothing here knows about Django: the jobs app builds a :class:`Problem` from the database,
the benchmark readers build one from a file, and every solver returns a :class:`Solution`.

Conventions (the validator in :mod:`jobs.scheduling.validate` checks all of them):

* An operation runs on one of its eligible machines (a :class:`Mode`). It occupies the
  machine during ``[start, end)`` with ``end = start + mode.setup + mode.run``; ``setup`` is
  the operation's own planned setup (first piece, probing), ``run`` its cycle time.
* The sequence-dependent **changeover** before it, sized by the changeover rules from the
  previous operation on the machine (or the machine's current setup), takes place right
  before it: ``[start - changeover, start)``; the previous operation must have ended by then.
* Calendars: a machine with ``windows`` works only inside them. An operation together with
  its changeover never crosses a gap between windows (work is not split over a weekend);
  the changeover and the operation's own setup must lie in *attended* time, the run may go
  on into unattended (lights-out) time.
* With ``Problem.runs_resume_after_breaks`` the *run* may cross breaks (time outside every
  window): the part stays clamped at the end of a shift and the run goes on at the next
  window. The run needs ``run`` minutes of working time (attended or not), so
  ``end = start + setup + run + (break minutes crossed)``; the end is never inside a break
  and never after the calendar's last window. The changeover and the setup still lie in one
  attended segment, the start lies in working time, and the machine and the fixture stay
  occupied over the breaks, ``[start - changeover, end)`` as always.
* A fixture is a unary resource: operations using the same fixture never overlap,
  changeover included.
* Operations of a job follow their ``predecessors``; a successor starts no earlier than
  ``predecessor.end + predecessor.wait_after``.
* Fixed operations (in progress, or locked by the planner) keep their machine and start;
  they are exempt from calendar and earliest-start checks (they are facts, not proposals),
  and they end at ``start + setup + run`` whatever the calendar: give them the minutes
  they still take.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

WILDCARD = "*"
ATTRIBUTES: tuple[str, ...] = ("fixture", "material", "tool_kit", "program")


class ProblemError(ValueError):
    """The problem cannot be scheduled as given; the message names the culprit."""


class InfeasibleError(ProblemError):
    """No schedule satisfies the constraints (for example the calendars end too early)."""


@dataclass(frozen=True)
class Setup:
    """Setup attributes of an operation, or what is mounted on a machine now.

    ``None`` means "no requirement" on an operation and "nothing known / nothing mounted" on a
    machine. An attribute whose target value is ``None`` never costs a changeover.
    """

    fixture: str | None = None
    material: str | None = None
    tool_kit: str | None = None
    program: str | None = None

    def value(self, attribute: str) -> str | None:
        value: str | None = getattr(self, attribute)
        return value


@dataclass(frozen=True)
class Window:
    """A working window ``[start, end)`` of a machine's calendar; unattended = lights-out."""

    start: int
    end: int
    attended: bool = True


@dataclass
class Machine:
    """A machine. ``windows=None`` means always available and attended."""

    id: str
    work_center: str = ""
    windows: list[Window] | None = None
    initial_setup: Setup = field(default_factory=Setup)


@dataclass(frozen=True)
class Mode:
    """One eligible machine for an operation, with the durations on that machine."""

    machine: str
    setup: int
    run: int

    @property
    def duration(self) -> int:
        """Working minutes; an operation whose run resumes after breaks spans the breaks too."""
        return self.setup + self.run


@dataclass(frozen=True)
class Placement:
    """Where a fixed operation is: its machine and start minute (may be negative if started)."""

    machine: str
    start: int


@dataclass
class Job:
    """A work order: tardiness is ``max(0, completion - due) * weight``."""

    id: str
    due: int | None = None
    weight: int = 1
    release: int = 0


@dataclass
class Operation:
    """A schedulable operation (one routing step of a job)."""

    id: str
    job: str
    modes: list[Mode]
    predecessors: list[str] = field(default_factory=list)
    wait_after: int = 0
    setup: Setup = field(default_factory=Setup)
    release: int = 0
    fixed: Placement | None = None

    @property
    def fixture(self) -> str | None:
        """The fixture this operation needs, a unary resource (``setup.fixture``)."""
        return self.setup.fixture

    def mode_on(self, machine: str) -> Mode | None:
        for mode in self.modes:
            if mode.machine == machine:
                return mode
        return None


@dataclass(frozen=True)
class Fixture:
    """A fixture and the work centers it fits (empty tuple: it fits none)."""

    id: str
    work_centers: tuple[str, ...]


@dataclass(frozen=True)
class ChangeoverRule:
    """Minutes a changeover takes when ``attribute`` changes from ``from_value`` to ``to_value``.

    ``work_center``, ``from_value`` and ``to_value`` accept ``"*"`` (any). Of the rules that
    match, the most specific (fewest wildcards) wins; a higher ``priority`` breaks ties; then
    the earlier rule. Minutes of all attributes that change between two operations add up.
    """

    attribute: str
    from_value: str = WILDCARD
    to_value: str = WILDCARD
    minutes: int = 0
    work_center: str = WILDCARD
    priority: int = 0


@dataclass(frozen=True)
class Objective:
    """Weighted tardiness, total changeover minutes, makespan.

    ``weights=None`` (the default) compares lexicographically in that order; otherwise the
    objective is ``w_tardiness * T + w_changeover * C + w_makespan * Cmax``.
    """

    weights: tuple[int, int, int] | None = None

    @staticmethod
    def makespan_only() -> Objective:
        return Objective(weights=(0, 0, 1))


@dataclass
class Problem:
    """Everything a solver needs. See the module docstring for the conventions."""

    machines: list[Machine]
    jobs: list[Job]
    operations: list[Operation]
    changeover_rules: list[ChangeoverRule] = field(default_factory=list)
    fixtures: list[Fixture] = field(default_factory=list)
    permutation_groups: list[list[str]] = field(default_factory=list)
    objective: Objective = field(default_factory=Objective)
    name: str = ""
    # False: an operation never crosses a calendar break. True: its run stops at the end of a
    # window and resumes at the next one (changeover and setup still in one attended segment).
    runs_resume_after_breaks: bool = False


@dataclass(frozen=True)
class Assignment:
    """Where and when one operation runs; ``changeover`` minutes precede ``start``."""

    machine: str
    start: int
    end: int
    changeover: int = 0


@dataclass
class Solution:
    """A schedule: one assignment per operation id."""

    assignments: dict[str, Assignment]
    solver: str = ""

    def by_machine(self) -> dict[str, list[tuple[str, Assignment]]]:
        """Operations per machine in start order."""
        out: dict[str, list[tuple[str, Assignment]]] = {}
        for op_id, a in self.assignments.items():
            out.setdefault(a.machine, []).append((op_id, a))
        for seq in out.values():
            seq.sort(key=lambda item: (item[1].start, item[1].end))
        return out


@dataclass(frozen=True)
class Figures:
    """What a planner compares between schedules."""

    weighted_tardiness: int
    tardy_jobs: int
    changeover_total: int
    makespan: int

    def key(self, objective: Objective) -> tuple[int, ...]:
        """Smaller is better."""
        if objective.weights is None:
            return (self.weighted_tardiness, self.changeover_total, self.makespan)
        wt, wc, wm = objective.weights
        return (wt * self.weighted_tardiness + wc * self.changeover_total + wm * self.makespan,)


ViolationKind = Literal[
    "missing",
    "unknown_operation",
    "eligibility",
    "duration",
    "release",
    "precedence",
    "overlap",
    "changeover",
    "fixture",
    "calendar",
    "attended",
    "fixed",
    "permutation",
]


@dataclass(frozen=True)
class Violation:
    """One broken constraint, naming the operation (and machine) concerned."""

    kind: str
    operation: str | None
    message: str
    machine: str | None = None
