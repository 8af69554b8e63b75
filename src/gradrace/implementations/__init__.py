"""The built-in implementations, one module per technique, each a worked example."""

from __future__ import annotations

from gradrace.implementations import einsum, numba_loops, numpy_dot, python_loops, reshaped_mn1

#: Built-ins in the order they are listed and plotted: from the slowest idea to the fastest.
BUILTINS = (
    python_loops.IMPLEMENTATION,
    numpy_dot.IMPLEMENTATION,
    einsum.IMPLEMENTATION,
    reshaped_mn1.IMPLEMENTATION,
    numba_loops.IMPLEMENTATION,
)
