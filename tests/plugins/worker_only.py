"""A plugin that imports fine in gradrace's own process and probe, but not in the
measuring worker (as one whose import depends on the process it lands in):
``GRADRACE_TEST_WORKER_IMPORT`` says what it does there, ``hang`` or ``exit``."""

import multiprocessing
import os
import time

from gradrace.implementations.numpy_dot import gradient

if multiprocessing.current_process().name == "gradrace-worker":
    if os.environ.get("GRADRACE_TEST_WORKER_IMPORT") == "hang":
        while True:
            time.sleep(0.1)
    if os.environ.get("GRADRACE_TEST_WORKER_IMPORT") == "exit":
        os._exit(3)

fine_elsewhere = gradient
