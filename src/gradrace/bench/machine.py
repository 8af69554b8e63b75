"""The machine a run measures on: threads, memory bandwidth, peak flops, versions.

The read bandwidth is the floor every gradient has to respect: X must be read at
least once. It is measured in the same run as the timings (a STREAM-like parallel
sum over an array far larger than the caches) so ratios to it are meaningful.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import shlex
import sys
import time
from importlib.metadata import PackageNotFoundError, version

import numpy as np

from gradrace._jit import (
    njit_fast,
    njit_parallel,
    prange,
    set_threads,
    tuning_flags,
    wide_vectors,
)
from gradrace._load import threads_to_use

BANDWIDTH_BYTES = 256 * 2**20  # 256 MiB: far beyond any L3 cache


def cpu_count() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def set_all_threads(threads: int):
    """Pin BLAS (threadpoolctl) and numba to ``threads``; return the threadpoolctl limiter."""
    from threadpoolctl import threadpool_limits

    limiter = threadpool_limits(limits=threads)
    set_threads(threads)
    return limiter


@njit_fast
def _chunk_sum(chunk):
    # fastmath's reassociation lets LLVM keep several vector accumulators; a plain sum is
    # one chain of dependent additions and measures the adder's latency, not memory.
    total = 0.0
    for i in range(chunk.shape[0]):  # indexing vectorizes; ``for x in chunk`` does not
        total += chunk[i]
    return total


@njit_parallel
def _parallel_sum(a, chunks):
    size = (a.shape[0] + chunks - 1) // chunks
    partial = np.zeros(chunks)
    for c in prange(chunks):
        partial[c] = _chunk_sum(a[c * size : min((c + 1) * size, a.shape[0])])
    return partial.sum()


@njit_fast
def _pair_sum(a, b):
    """The sum of a and of b, in one compiled call."""
    return _chunk_sum(a) + _chunk_sum(b)


@njit_parallel
def _parallel_pair_sum(a, b, chunks):
    """The sum of a and of b in one parallel region, each chunk a share of both: two
    launches would add a launch's cost to the floor."""
    size_a = (a.shape[0] + chunks - 1) // chunks
    size_b = (b.shape[0] + chunks - 1) // chunks
    partial = np.zeros(chunks)
    for c in prange(chunks):
        part_a = a[c * size_a : min((c + 1) * size_a, a.shape[0])]
        part_b = b[c * size_b : min((c + 1) * size_b, b.shape[0])]
        partial[c] = _chunk_sum(part_a) + _chunk_sum(part_b)
    return partial.sum()


#: X smaller than this is read on one thread: a parallel launch would cost more than the read.
PARALLEL_READ_BYTES = 1 << 20


def read_once(X: np.ndarray, threads: int, Y: np.ndarray | None = None):
    """A call that reads every entry of X (and of Y, when given) once, a sum like the
    bandwidth measurement: the memory floor of any gradient, timed beside the
    implementations in each case's rounds. Both are read in one compiled call (one
    parallel region), as a kernel reads them. Like a kernel, it takes no more threads
    than the cores other work leaves free (gradrace/_load.py): on a loaded machine a
    parallel read would wait for a parked thread, and the floor would be a scheduler slice."""
    a = np.ascontiguousarray(X).reshape(-1)
    b = np.ascontiguousarray(Y if Y is not None else X[:0]).reshape(-1).astype(a.dtype, copy=False)
    large = a.nbytes + b.nbytes >= PARALLEL_READ_BYTES
    threads = threads_to_use(threads) if threads > 1 and large else 1
    if threads > 1:
        _parallel_pair_sum(a[:1000], b[:1000], threads)  # compile (or load from cache) first
        return lambda: _parallel_pair_sum(a, b, threads)
    _pair_sum(a[:1000], b[:1000])
    return lambda: _pair_sum(a, b)


#: The side of the square matrix product the in-round compute probe times: large enough
#: for BLAS to run near its peak, small enough to stay in cache and take about a millisecond.
COMPUTE_PROBE_SIZE = 384


def compute_probe(dtype) -> tuple:
    """(a call, its flops): a fixed matrix product in ``dtype``, timed beside the
    implementations in each case's rounds, so that the peak flop rate (and how fast the
    machine ran at that moment) is known for every case. Like the read of X and Y, it
    runs on no more BLAS threads than the cores other work leaves free (gradrace/_load.py):
    on a loaded machine a product on every thread waits for parked ones, and the peak
    would fall below what one core of the kernels reaches."""
    size = COMPUTE_PROBE_SIZE
    a = np.random.default_rng(0).random((size, size)).astype(dtype)  # (s, s)
    out = np.empty_like(a)  # (s, s)
    flops = 2.0 * size**3
    blas = _blas_libraries()
    threads = min((lib.num_threads for lib in blas.lib_controllers), default=1)
    use = threads_to_use(threads) if threads > 1 else threads
    if use >= threads:
        return (lambda: np.matmul(a, a, out=out)), flops

    def fewer_threads():
        with blas.limit(limits=use):  # about 10 µs, against a product of about a millisecond
            return np.matmul(a, a, out=out)

    return fewer_threads, flops


def exp_probe(X: np.ndarray, W: np.ndarray, b: np.ndarray):
    """A call that takes the exp of the case's logits X @ W + b, m·k of them, with numpy
    (its vectorized exp) on one thread: the least work a logistic gradient adds to the
    linear one, timed beside the implementations in each case's rounds. The run divides
    it by the threads it may use."""
    z = np.negative(np.abs(X @ W + b)).reshape(-1)  # (m·k,)  −|z| ≤ 0, as a stable sigmoid takes
    out = np.empty_like(z)  # (m·k,)
    return lambda: np.exp(z, out=out)


def _blas_libraries():
    """threadpoolctl's controller of the loaded BLAS libraries."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController().select(user_api="blas")


def measure_read_bandwidth(nbytes: int = BANDWIDTH_BYTES, repeats: int = 5) -> float:
    """Memory-read bandwidth in GB/s: the best of ``repeats`` parallel sums of ``nbytes``,
    split in one chunk per thread."""
    import numba

    chunks = threads_to_use(numba.get_num_threads())
    a = np.ones(nbytes // 8)
    _parallel_sum(a[:1000], chunks)  # compile (or load from cache) outside the measurement
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        _parallel_sum(a, chunks)
        best = min(best, time.perf_counter() - t0)
    return a.nbytes / best / 1e9


def measure_peak_gflops(size: int = 1000, repeats: int = 3) -> float:
    """Floating-point peak as BLAS reaches it: the best float64 matrix product, in GFLOP/s."""
    rng = np.random.default_rng(0)
    a, b = rng.random((size, size)), rng.random((size, size))
    a @ b
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * size**3 / best / 1e9


def machine_figures() -> dict:
    """What the timing process measures of its machine, and the environment it runs in."""
    return {
        "bandwidth_gbs": measure_read_bandwidth(),
        "peak_gflops": measure_peak_gflops(),
        "env": _relevant_env(),
    }


def _relevant_env() -> dict:
    prefixes = ("OPENBLAS_", "OMP_", "GOMP_", "KMP_", "MKL_", "NUMBA_", "GOTO", "BLIS_")
    return {k: v for k, v in sorted(os.environ.items()) if k.startswith(prefixes)}


def cache_sizes(root: str = "/sys/devices/system/cpu/cpu0/cache") -> dict[str, int]:
    """Bytes of each data cache level one core sees, e.g. {"L1": 49152, "L2": 1048576,
    "L3": 33554432}, from Linux's sysfs; empty where it cannot be read."""
    sizes = {}
    try:
        for index in sorted(os.listdir(root)):
            if not index.startswith("index"):
                continue
            folder = os.path.join(root, index)
            with open(os.path.join(folder, "type")) as f:
                if f.read().strip() == "Instruction":
                    continue
            with open(os.path.join(folder, "level")) as f:
                level = f"L{f.read().strip()}"
            with open(os.path.join(folder, "size")) as f:
                text = f.read().strip().upper()
            scale = {"K": 2**10, "M": 2**20, "G": 2**30}.get(text[-1:], 1)
            sizes[level] = int(text.rstrip("KMG")) * scale
    except (OSError, ValueError):
        return {}
    return sizes


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(dist: str) -> str | None:
    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def command_line() -> str:
    """The command as the user typed it, as far as argv tells: ``gradrace run …``, also when
    started as ``python -m gradrace`` (whose argv[0] is gradrace's ``__main__.py``)."""
    program = [os.path.basename(sys.argv[0])]
    if program == ["__main__.py"]:
        program = ["python", "-m", os.path.basename(os.path.dirname(sys.argv[0]))]
    return shlex.join([*program, *sys.argv[1:]])


def environment() -> dict:
    """Versions, CPU, BLAS and the environment variables that change BLAS behaviour."""
    from threadpoolctl import threadpool_info

    return {
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "command": command_line(),
        "gradrace": _version("gradrace"),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": _version("numba"),
        "numba_vectors": "wide" if wide_vectors() else "native",
        "numba_tuning": tuning_flags() or "none",
        "pandas": _version("pandas"),
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cores": cpu_count(),
        "caches": cache_sizes(),
        "blas": [
            {k: info.get(k) for k in ("internal_api", "version", "num_threads", "architecture")}
            for info in threadpool_info()
        ],
        "env": _relevant_env(),
    }
