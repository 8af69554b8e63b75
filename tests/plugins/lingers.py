"""A plugin whose import leaves a non-daemon thread that sleeps for ten minutes."""

import threading
import time

from gradrace.implementations.numpy_dot import gradient as good_gradient

threading.Timer(0.1, time.sleep, (600,)).start()


def gradient(X, Y, W, b, lam):
    return good_gradient(X, Y, W, b, lam)
