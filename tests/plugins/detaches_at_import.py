"""A plugin that starts a long ``sleep`` in a new session when it is imported, and appends
its pid to the file named by ``GRADRACE_TEST_PIDFILE``."""

import os
import subprocess

from gradrace.implementations.numpy_dot import IMPLEMENTATION as NUMPY_DOT

_child = subprocess.Popen(["sleep", "300"], start_new_session=True)
with open(os.environ["GRADRACE_TEST_PIDFILE"], "a") as f:
    f.write(f"{_child.pid}\n")

IMPLEMENTATION = NUMPY_DOT.__class__(name="detached-at-import", gradient=NUMPY_DOT.gradient)
