"""gradrace: check and time implementations of the ridge-regression gradient.

The public API: the plugin contract (``Implementation`` with its traits ``Cost`` and
``Term``, ``params_at``), the problem and its
reference (``make_problem``, ``reference_gradient``, ``reference_cost``), the
registry (``load_registry``), the agreement check (``run_check``) and the timing
run (``run``, ``load_results``); for notebooks, ``check`` and ``race`` (from
``gradrace.notebook``, imported on first use) return results that display as HTML.
"""

from gradrace.bench.agreement import TOLERANCE
from gradrace.bench.check import run_check
from gradrace.bench.implementation import (
    PER_ELEMENT,
    PER_ROW,
    Cost,
    Implementation,
    Term,
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

#: Names served by ``gradrace.notebook``, imported only when first used.
_NOTEBOOK = ("check", "race")
__all__ += _NOTEBOOK


def __getattr__(name: str):
    if name in _NOTEBOOK:
        from gradrace import notebook

        value = getattr(notebook, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gradrace' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_NOTEBOOK))
