"""gradrace: check and time implementations of the ridge-regression gradient.

The public API: the plugin contract (``Implementation``, ``params_at``), the problem and its
reference (``make_problem``, ``reference_gradient``, ``reference_cost``), the
registry (``load_registry``), the agreement check (``run_check``) and the timing
run (``run``, ``load_results``).

The names are imported on first use, so that ``import gradrace.pytest_plugin`` (which
pytest loads in every session where gradrace is installed) stays free of numpy and numba.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gradrace.bench.agreement import TOLERANCE
    from gradrace.bench.check import run_check
    from gradrace.bench.implementation import Implementation, params_at
    from gradrace.bench.problem import Problem, ProblemTooLarge, make_problem, validate_inputs
    from gradrace.bench.reference import reference_cost, reference_gradient
    from gradrace.bench.registry import load_registry
    from gradrace.bench.results import load_results
    from gradrace.bench.runner import run

_HOMES = {
    "TOLERANCE": "gradrace.bench.agreement",
    "Implementation": "gradrace.bench.implementation",
    "Problem": "gradrace.bench.problem",
    "ProblemTooLarge": "gradrace.bench.problem",
    "load_registry": "gradrace.bench.registry",
    "load_results": "gradrace.bench.results",
    "make_problem": "gradrace.bench.problem",
    "params_at": "gradrace.bench.implementation",
    "reference_cost": "gradrace.bench.reference",
    "reference_gradient": "gradrace.bench.reference",
    "run": "gradrace.bench.runner",
    "run_check": "gradrace.bench.check",
    "validate_inputs": "gradrace.bench.problem",
}

__all__ = [
    "TOLERANCE",
    "Implementation",
    "Problem",
    "ProblemTooLarge",
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


def __getattr__(name: str):
    """Import a public name from its module on first use."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'gradrace' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
