"""The built-in implementations, one module per technique, each a worked example.

``BUILTINS`` need only gradrace's own dependencies. ``OPTIONAL`` ones need a library
installed through an extra (``pip install "gradrace[jax]"``): the registry lists
them when that library is importable and otherwise says which extra is missing.
Their modules import the library lazily, so loading the registry stays cheap.
"""

from __future__ import annotations

from gradrace.implementations import (
    einsum,
    gram,
    numba_fused,
    numba_loops,
    numpy_blocked,
    numpy_dot,
    python_loops,
    reshaped_mn1,
)

#: Built-ins in the order they are listed and plotted: from the slowest idea to the fastest.
BUILTINS = (
    python_loops.IMPLEMENTATION,
    numpy_dot.IMPLEMENTATION,
    einsum.IMPLEMENTATION,
    reshaped_mn1.IMPLEMENTATION,
    numba_loops.IMPLEMENTATION,
    numba_fused.IMPLEMENTATION,
    numpy_blocked.IMPLEMENTATION,
    gram.IMPLEMENTATION,
)

#: name -> (module defining IMPLEMENTATION, libraries it needs, the extra that installs them)
OPTIONAL: dict[str, tuple[str, tuple[str, ...], str]] = {
    "jax-grad": ("gradrace.implementations.jax_grad", ("jax", "jaxlib"), "jax"),
    "torch-autograd": ("gradrace.implementations.torch_autograd", ("torch",), "torch"),
    "torch-manual": ("gradrace.implementations.torch_manual", ("torch",), "torch"),
    "dask": ("gradrace.implementations.dask_chunks", ("dask",), "dask"),
    "cupy": ("gradrace.implementations.cupy_gpu", ("cupy",), "cupy"),
}
