"""gradrace: check and time implementations of the ridge-regression gradient.

The public API: the plugin contract (``Implementation`` with its traits ``Cost``,
``Term`` and ``Terms``, ``params_at``), ``course`` (a function written as the course's
``(X, y, w, b, lambda_) -> (dj_db, dj_dw)`` as an Implementation), the problem and its
reference (``make_problem``, ``reference_gradient``, ``reference_cost``), the
registry (``load_registry``), the agreement check (``run_check``) and the timing
run (``run``, ``load_results``).
"""

from gradrace.bench.agreement import TOLERANCE
from gradrace.bench.check import run_check
from gradrace.bench.course import course
from gradrace.bench.implementation import (
    PER_ELEMENT,
    PER_ROW,
    Cost,
    Implementation,
    Term,
    Terms,
    params_at,
)
from gradrace.bench.problem import Problem, ProblemTooLarge, make_problem, validate_inputs
from gradrace.bench.reference import reference_cost, reference_gradient
from gradrace.bench.registry import load_registry
from gradrace.bench.results import load_results
from gradrace.bench.runner import run
from gradrace.bench.status import Status

__all__ = [
    "PER_ELEMENT",
    "PER_ROW",
    "TOLERANCE",
    "Cost",
    "Implementation",
    "Problem",
    "ProblemTooLarge",
    "Status",
    "Term",
    "Terms",
    "course",
    "load_registry",
    "load_results",
    "make_problem",
    "params_at",
    "reference_cost",
    "reference_gradient",
    "run",
    "run_check",
    "validate_inputs",
]
