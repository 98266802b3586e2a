"""The scheduling engine: pure Python, no Django import. Dataclasses in, plan out.

Entry points (see each module's docstring):

* :mod:`.problem` — ``Problem`` and its parts (``Machine``, ``Window``, ``Job``, ``Operation``,
  ``Mode``, ``Setup``, ``Placement``, ``ChangeoverRule``, ``Fixture``, ``Objective``),
  ``Solution``/``Assignment``, ``Figures``, ``ProblemError``/``InfeasibleError``;
* :func:`.engine.solve` — ``solve(problem, solver="auto", time_limit=30, workers=8, seed=0,
  progress=None, cancel=None) -> Result``; :func:`.engine.baseline` — the EDD/FIFO baseline;
  :data:`.engine.SOLVERS` — the solvers by name (label, when ``auto`` picks each);
* :func:`.validate.validate` — every violated constraint of a solution;
* :mod:`.io` — the problem as a JSON file (schema: ``problem.schema.json`` beside this file);
* :mod:`.readers` — benchmark instances; :mod:`.generator` — seeded high-mix shops.
"""

from .engine import SOLVERS, Result, Solver, baseline, solve
from .instance import compile_problem
from .io import load_problem, problem_from_dict, problem_to_dict, save_problem
from .problem import (
    Assignment,
    ChangeoverRule,
    Figures,
    Fixture,
    InfeasibleError,
    Job,
    Machine,
    Mode,
    Objective,
    Operation,
    Placement,
    Problem,
    ProblemError,
    Setup,
    Solution,
    Violation,
    Window,
)
from .validate import validate

__all__ = [
    "SOLVERS",
    "Assignment",
    "ChangeoverRule",
    "Figures",
    "Fixture",
    "InfeasibleError",
    "Job",
    "Machine",
    "Mode",
    "Objective",
    "Operation",
    "Placement",
    "Problem",
    "ProblemError",
    "Result",
    "Setup",
    "Solution",
    "Solver",
    "Violation",
    "Window",
    "baseline",
    "compile_problem",
    "load_problem",
    "problem_from_dict",
    "problem_to_dict",
    "save_problem",
    "solve",
    "validate",
]
