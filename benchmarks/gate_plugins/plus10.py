"""normal.py with +10 % work at every size: after the gradient, the call spins for a tenth of
the time the gradient took (an extra pass over X would add far more than 10 % at small sizes,
where a call is mostly numpy's overhead)."""

import time

from normal import my_gradient as normal


def my_gradient(X, Y, W, b, lam):
    start = time.perf_counter()
    result = normal(X, Y, W, b, lam)
    until = start + 1.1 * (time.perf_counter() - start)
    while time.perf_counter() < until:
        pass
    return result
