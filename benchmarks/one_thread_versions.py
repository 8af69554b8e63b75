"""numba-fused as prepare picks its threads, and always on one thread: two versions of one
implementation, so a run pairs their rounds (a plugin for a benchmark, not a test).

    python /work/shared/tools/busy.py 400 &
    gradrace run --plugin benchmarks/one_thread_versions.py:PICKED \\
        --plugin benchmarks/one_thread_versions.py:ONE_THREAD \\
        --impl numba-fused@picked --impl numba-fused@one-thread --m 1000,100000 --n 100
    gradrace report RUN --baseline numba-fused@one-thread

On a busy machine, the paired ratio says whether the threads prepare chose cost more than
one thread would have under the same load.
"""

from gradrace import Implementation
from gradrace.implementations import numba_fused as nf


def prepare_one_thread(X, Y, W, b, lam):
    """numba-fused's prepare, then the kernel it would pick on one thread."""
    X, Y, W, b, lam, _ = nf.prepare(X, Y, W, b, lam)
    return X, Y, W, b, lam, nf.kernel_for(X, Y, W, b, lam, use=1)


PICKED = Implementation(name="numba-fused@picked", gradient=nf.gradient, prepare=nf.prepare)
ONE_THREAD = Implementation(
    name="numba-fused@one-thread", gradient=nf.gradient, prepare=prepare_one_thread
)
