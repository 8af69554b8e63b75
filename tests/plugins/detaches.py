"""A plugin whose gradient starts a long ``sleep`` in a new session, once per process,
and appends its pid to the file named by ``GRADRACE_TEST_PIDFILE``."""

import os
import subprocess

from gradrace.implementations.numpy_dot import gradient as good_gradient

_started = []


def starts_sleep(X, Y, W, b, lam):
    if not _started:
        child = subprocess.Popen(["sleep", "300"], start_new_session=True)
        _started.append(child)
        with open(os.environ["GRADRACE_TEST_PIDFILE"], "a") as f:
            f.write(f"{child.pid}\n")
    return good_gradient(X, Y, W, b, lam)
