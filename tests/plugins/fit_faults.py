"""A plugin that breaks a descent: right at first, then a NaN gradient a few steps in.

Loaded by tests with ``--plugin tests/plugins/fit_faults.py:nan_at_step_5``.
"""

import numpy as np

from gradrace import Implementation
from gradrace.implementations.numpy_dot import gradient as good_gradient


def nan_after(steps: int) -> Implementation:
    """Agrees with the reference, but returns NaN ``steps`` calls after it is called at
    W = 0, b = 0 (where a descent starts; the agreement check never evaluates there)."""
    state = {"since_start": None}

    def gradient(X, Y, W, b, lam):
        if not W.any() and not b.any():
            state["since_start"] = 0
        elif state["since_start"] is not None:
            state["since_start"] += 1
        dW, db = good_gradient(X, Y, W, b, lam)
        if state["since_start"] == steps:
            return np.full_like(dW, np.nan), db
        return dW, db

    return Implementation(
        name=f"nan-at-step-{steps}",
        gradient=gradient,
        description="a NaN gradient in the middle of a descent",
    )


nan_at_step_5 = nan_after(5)
