"""Numba options in one place, so every kernel in gradrace compiles the same way.

``cache=True`` writes compiled machine code next to the module, so a second run
(or a timing worker process) loads it instead of compiling again. Setting
``NUMBA_DISABLE_JIT=1`` turns every kernel back into plain Python, which lets
coverage see jitted code.
"""

from __future__ import annotations

import functools

import numba

#: Options shared by every serial kernel.
JIT_OPTIONS: dict = {"cache": True, "nogil": True}

#: Options for kernels that split their loop over threads with ``numba.prange``.
PARALLEL_JIT_OPTIONS: dict = {**JIT_OPTIONS, "parallel": True}

#: Floating-point licence for kernels whose speed rests on sums: ``reassoc`` lets LLVM
#: split a sum over several vector accumulators (a dot product is otherwise one scalar
#: chain, bound by the adder's latency); ``contract`` fuses ``a * b + c`` into one FMA.
#: No ``nnan``/``ninf``/``nsz``/``arcp``: NaN, infinity and division keep IEEE semantics.
FASTMATH: frozenset[str] = frozenset({"reassoc", "contract"})

#: Options of serial kernels that reassociate their sums (``FASTMATH``).
FAST_JIT_OPTIONS: dict = {**JIT_OPTIONS, "fastmath": set(FASTMATH)}

#: Options of kernels for tiny problems, called in microseconds: ``FAST_JIT_OPTIONS``
#: holding the GIL, since releasing and retaking it costs about 50 ns a call.
FAST_GIL_JIT_OPTIONS: dict = {**FAST_JIT_OPTIONS, "nogil": False}

#: Options of parallel kernels that reassociate their sums (``FASTMATH``).
FAST_PARALLEL_JIT_OPTIONS: dict = {**PARALLEL_JIT_OPTIONS, "fastmath": set(FASTMATH)}

#: Options of kernels whose exactness rests on their order of operations (an exp's range
#: reduction, a rounding by adding and subtracting a constant), so no ``reassoc``: only
#: ``contract``, which fuses ``a * b + c`` into one FMA, rounding once instead of twice.
CONTRACT_JIT_OPTIONS: dict = {**JIT_OPTIONS, "fastmath": {"contract"}}

njit = functools.partial(numba.njit, **JIT_OPTIONS)
njit_parallel = functools.partial(numba.njit, **PARALLEL_JIT_OPTIONS)
njit_fast = functools.partial(numba.njit, **FAST_JIT_OPTIONS)
njit_fast_gil = functools.partial(numba.njit, **FAST_GIL_JIT_OPTIONS)
njit_fast_parallel = functools.partial(numba.njit, **FAST_PARALLEL_JIT_OPTIONS)
njit_contract = functools.partial(numba.njit, **CONTRACT_JIT_OPTIONS)
prange = numba.prange


def set_threads(threads: int) -> int:
    """Set numba's thread count (bounded by what numba was started with); return it."""
    threads = max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS))
    numba.set_num_threads(threads)
    return threads


def threads() -> int:
    """The threads numba's parallel kernels use now (as the harness set them)."""
    return numba.get_num_threads()


def with_threads(kernel, count: int):
    """``kernel`` run with numba's thread count set to ``count`` for the call, then put back:
    a parallel kernel on fewer threads than the harness set (about a microsecond a call)."""

    def call(*args):
        before = numba.get_num_threads()
        numba.set_num_threads(count)
        try:
            return kernel(*args)
        finally:
            numba.set_num_threads(before)

    call.__name__ = call.__qualname__ = f"{getattr(kernel, '__name__', 'kernel')}_on_{count}"
    return call
