"""Plugins that declare problems: one technique for both, and one for logistic only."""

import numpy as np

from gradrace import Cost, Implementation


def _sigmoid(z):
    return np.exp(-np.logaddexp(0.0, -z))


def linear(X, Y, W, b, lam):
    m, r = X.shape[0], X @ W + b - Y
    return X.T @ r / m + (lam / m) * W, r.mean(axis=0)


def logistic(X, Y, W, b, lam):
    m, r = X.shape[0], _sigmoid(X @ W + b) - Y
    return X.T @ r / m + (lam / m) * W, r.mean(axis=0)


def _cost(flops: str) -> Cost:
    return Cost(passes="X twice", temporaries="(m, k) residual", flops=flops, overhead="numpy")


#: The same technique for both problems, under one name.
both = Implementation(
    name="two-problems",
    gradient=linear,
    description="two matrix products",
    cost=_cost("4·m·n·k"),
    also=(
        Implementation(
            name="two-problems",
            gradient=logistic,
            description="two matrix products and a sigmoid",
            cost=_cost("4·m·n·k + a sigmoid per m·k"),
            problem="logistic",
        ),
    ),
)

#: A logistic gradient only: not applicable on linear cases.
logistic_only = Implementation(name="logistic-only", gradient=logistic, problem="logistic")
