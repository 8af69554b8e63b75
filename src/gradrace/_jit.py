"""Numba options in one place, so every kernel in gradrace compiles the same way.

``cache=True`` writes compiled machine code next to the module, so a second run
(or a timing worker process) loads it instead of compiling again. Setting
``NUMBA_DISABLE_JIT=1`` turns every kernel back into plain Python, which lets
coverage see jitted code.
"""

from __future__ import annotations

import functools
import os

import numba
import numba.core.config

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

#: ``GRADRACE_NUMBA_VECTORS``: ``wide`` (the default) tunes numba's code generation for
#: the loops gradrace's kernels are made of (``WIDE`` and ``NO_GATHER``); ``native`` leaves
#: numba's own choice. Setting ``NUMBA_CPU_FEATURES`` yourself also leaves it alone.
VECTORS_VARIABLE = "GRADRACE_NUMBA_VECTORS"

#: Where the processor has AVX-512, as clang's ``-mprefer-vector-width=512``: LLVM tunes
#: today's AVX-512 processors to 256-bit vectors (against the clock slowdown wide ones
#: caused on early parts), so numba's loops would get half the width BLAS uses.
WIDE = "-prefer-256-bit"
#: Where the processor has gather instructions (AVX2; numba's LLVM, 20 on, knows the flag): a
#: loop reading every n-th entry loads vectors and shuffles them instead of gathering each
#: lane. LLVM's own tuning gathers on today's AMD and Intel processors; on the AMD machine
#: gathers made numba-fused's narrow kernels several times slower (docs/performance.md).
NO_GATHER = "+prefer-no-gather"


def _host_features() -> str:
    """The processor's features as numba would compile for them (``NUMBA_ENABLE_AVX`` and
    numba's own exclusions applied)."""
    import llvmlite.binding as llvm
    from numba.core.codegen import get_host_cpu_features

    llvm.initialize_native_target()
    return get_host_cpu_features()


def _tuning(features: str) -> tuple[str, ...]:
    """The flags gradrace adds to ``features`` (see ``WIDE`` and ``NO_GATHER``)."""
    present = features.split(",")
    wide = (WIDE,) if "+avx512f" in present else ()
    return wide + ((NO_GATHER,) if "+avx2" in present else ())


def _codegen_started() -> bool:
    """Whether numba has set up its code generator in this process (its CPU features
    are fixed from then on)."""
    from numba.core.registry import cpu_target

    return "_toplevel_target_context" in vars(cpu_target)


def use_wide_vectors() -> bool:
    """Tune numba's code generation (``WIDE``, ``NO_GATHER``) before it compiles anything;
    return whether numba now compiles with full-width vectors.

    It applies to every numba function this process compiles, a plugin's too, so all of
    them are compiled alike; the run records it (``numba_vectors``, ``numba_tuning``).
    """
    if os.environ.get(VECTORS_VARIABLE, "wide") == "native":
        return wide_vectors()
    if os.environ.get("NUMBA_CPU_FEATURES") or numba.core.config.CPU_FEATURES is not None:
        return wide_vectors()
    if numba.config.DISABLE_JIT or _codegen_started():
        return wide_vectors()
    features = _host_features()
    flags = _tuning(features) if features else ()
    if flags:
        numba.core.config.CPU_FEATURES = ",".join((features, *flags))
    return wide_vectors()


def tuning_flags() -> str:
    """The tuning flags (``WIDE``, ``NO_GATHER``) in numba's CPU features in this process,
    gradrace's or a user's own ``NUMBA_CPU_FEATURES``; '' for none."""
    features = (numba.core.config.CPU_FEATURES or "").split(",")
    return ",".join(flag for flag in (WIDE, NO_GATHER) if flag in features)


def wide_vectors() -> bool:
    """Whether numba compiles this process's loops with full-width AVX-512 vectors."""
    features = (numba.core.config.CPU_FEATURES or "").split(",")
    return "+avx512f" in features and WIDE in features


use_wide_vectors()

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
