"""gradrace: check and time implementations of the ridge-regression gradient.

The public API: the plugin contract (``Implementation`` with its traits ``Cost``,
``Term`` and ``Terms``, ``params_at``), ``course`` (a function written as the course's
``(X, y, w, b, lambda_) -> (dj_db, dj_dw)`` as an Implementation), the problem and its
reference (``make_problem``, ``reference_gradient``, ``reference_cost``), the registry
(``load_registry``), the agreement check (``run_check``) and the timing run (``run``,
``load_results``); for notebooks, ``check`` and ``race`` return results that display as
HTML.

Names are imported on first use, so ``import gradrace`` (and reading a results file)
stays light: numba and the implementations load only when something needs them.
"""

from __future__ import annotations

import importlib

_WHERE = {
    "TOLERANCE": "gradrace.bench.agreement",
    "run_check": "gradrace.bench.check",
    "course": "gradrace.bench.course",
    "Terms": "gradrace.bench.implementation",
    "PER_ELEMENT": "gradrace.bench.implementation",
    "PER_ROW": "gradrace.bench.implementation",
    "PER_FEATURE": "gradrace.bench.implementation",
    "PER_SIGMOID": "gradrace.bench.implementation",
    "on_every_core": "gradrace.bench.implementation",
    "per_parallel_launch": "gradrace.bench.implementation",
    "Cost": "gradrace.bench.implementation",
    "Implementation": "gradrace.bench.implementation",
    "Term": "gradrace.bench.implementation",
    "params_at": "gradrace.bench.implementation",
    "Problem": "gradrace.bench.problem",
    "ProblemTooLarge": "gradrace.bench.problem",
    "make_problem": "gradrace.bench.problem",
    "validate_inputs": "gradrace.bench.problem",
    "reference_cost": "gradrace.bench.reference",
    "reference_gradient": "gradrace.bench.reference",
    "load_registry": "gradrace.bench.registry",
    "load_results": "gradrace.bench.results",
    "run": "gradrace.bench.runner",
    "Status": "gradrace.bench.status",
    "check": "gradrace.notebook",
    "race": "gradrace.notebook",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gradrace' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
