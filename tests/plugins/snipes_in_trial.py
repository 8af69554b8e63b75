"""A plain function whose first call leaves a sleeping thread behind that ends the process
once misbehaving.py has been imported there: in the probe that reads conventions, the loss
falls on the next plugin's import."""

import os
import sys
import threading
import time

from gradrace.implementations import numpy_dot

_armed: list = []


def _aim() -> None:
    while True:
        time.sleep(0.01)
        loaded = [getattr(m, "__file__", None) or "" for m in list(sys.modules.values())]
        if any(f.endswith("misbehaving.py") for f in loaded):
            os._exit(9)


def gradient(X, Y, W, b, lam):
    if not _armed:
        _armed.append(threading.Thread(target=_aim, daemon=True))
        _armed[0].start()
    return numpy_dot.gradient(X, Y, W, b, lam)
