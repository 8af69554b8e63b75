"""A plugin that imports fine in the probe process and hangs in gradrace's own process."""

import multiprocessing
import time

from gradrace.implementations.numpy_dot import IMPLEMENTATION as NUMPY_DOT

if multiprocessing.current_process().name == "MainProcess":
    while True:
        time.sleep(0.05)

IMPLEMENTATION = NUMPY_DOT.__class__(name="hides-from-the-probe", gradient=NUMPY_DOT.gradient)
