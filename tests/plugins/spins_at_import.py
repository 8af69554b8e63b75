"""A plugin whose import starts a thread that keeps computing (it stops after 20 s)."""

import threading
import time

from gradrace.implementations.numpy_dot import gradient as good_gradient


def spin() -> None:
    end = time.monotonic() + 20.0
    x = 0
    while time.monotonic() < end:
        x += 1


threading.Thread(target=spin, name="spinner", daemon=True).start()


def gradient(X, Y, W, b, lam):
    return good_gradient(X, Y, W, b, lam)
