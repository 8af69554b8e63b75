"""A course-style plain function that imports fine and hangs when called: the trial call
that tells its convention (in the probe process) must be named, not its import."""

import time


def compute_gradient_linear_reg(X, y, w, b, lambda_):
    while True:
        time.sleep(1)
