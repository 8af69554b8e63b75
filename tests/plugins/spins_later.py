"""A plugin whose import, in gradrace's spawned processes only, starts a process that
sleeps a moment and then computes for 20 s: found late, in the worker, and charged to it."""

import multiprocessing
import subprocess
import sys

from gradrace.implementations.numpy_dot import gradient as good_gradient

if multiprocessing.parent_process() is not None:  # the probe and the worker, not gradrace
    spin = "import time\nend = time.monotonic() + 20\nwhile time.monotonic() < end: pass"
    subprocess.Popen(["sh", "-c", f'sleep 1; exec "{sys.executable}" -c "{spin}"'])


def gradient(X, Y, W, b, lam):
    return good_gradient(X, Y, W, b, lam)
