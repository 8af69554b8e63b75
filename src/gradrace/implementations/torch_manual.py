"""torch-manual: the closed-form gradient of numpy-dot, written with PyTorch tensors.

The same two matrix products, ``X @ W`` for every prediction and ``X.T @ residual``
for the sum over samples, but on torch tensors, so torch's kernels and torch's own
thread pool do the work. It is the baseline for torch-autograd, which lets torch
derive the same gradient from the cost instead of writing it out.

prepare (untimed) wraps the arrays with ``torch.from_numpy``, which shares their
memory instead of copying. torch keeps a thread pool of its own that threadpoolctl
does not reach, so prepare also sets ``torch.set_num_threads`` to numba's thread count,
which gradrace sets to the run's ``--threads``: torch then uses as many threads as BLAS
and numba do. With ``GRADRACE_TORCH_DEVICE=cuda`` prepare copies the tensors to the GPU
instead (the transfer is preparation), and the timed call ends with
``torch.cuda.synchronize()`` and the copy of the small (n, k) and (k,) results back
to the host, because the contract returns numpy arrays. On the CPU, torch computes
synchronously and ``.numpy()`` shares the result's memory: nothing is copied.

Logistic regression changes the residual to σ(z) − Y, with ``torch.sigmoid``: one
fused kernel, stable for any z (it never forms e^(−z) for large negative z), the
same products around it.
"""

from __future__ import annotations

import functools
import os

from gradrace.bench.implementation import (
    PER_ROW,
    PER_SIGMOID,
    Cost,
    Implementation,
    Term,
    matvec_flops,
    two_passes,
)
from gradrace.bench.problem import validate_inputs

#: For one output (k = 1) torch's two products are matrix-vector products, which on some
#: machines stream X far below the read bandwidth a plain sum reaches (docs/performance.md),
#: from cache and from memory alike: the model fits their time as a multiple of the read
#: of X timed beside them.
TORCH_GEMV = Term(
    "the read of X timed beside it, for torch's matrix-vector products (k = 1)",
    lambda m, n, k, s: m * n * s if k == 1 else 0.0,
    streamed=True,
)

#: Environment variable naming the torch device to run on ("cpu", the default, or "cuda").
DEVICE_ENV = "GRADRACE_TORCH_DEVICE"


@functools.cache
def load_torch():
    """Import torch on first use, so that loading gradrace's registry stays cheap."""
    import torch

    return torch


def to_numpy(tensor):
    """A result tensor as a numpy array: shared memory on the CPU, a device→host copy on a GPU."""
    torch = load_torch()
    if tensor.device.type == "cuda":
        torch.cuda.synchronize(tensor.device)  # wait for the kernels: time the work, not the launch
    return tensor.detach().cpu().numpy()


def prepare(X, Y, W, b, lam):
    """Wrap (or, on a GPU, copy) the arrays as tensors and match torch's threads to numba's."""
    import numba

    validate_inputs(X, Y, W, b, lam)
    torch = load_torch()
    torch.set_num_threads(numba.get_num_threads())
    device = torch.device(os.environ.get(DEVICE_ENV) or "cpu")
    tensors = [torch.from_numpy(a).to(device) for a in (X, Y, W, b)]  # no copy on the CPU
    if device.type == "cuda":
        torch.cuda.synchronize(device)  # the host→device copy finishes before the timing starts
    return (*tensors, float(lam))


def gradient(X, Y, W, b, lam):
    m = X.shape[0]
    residual = X @ W + b - Y  # (m, k)   prediction error of every sample and output
    dW = X.T @ residual / m + (lam / m) * W  # (n, k)
    db = residual.sum(dim=0) / m  # (k,)     the bias is not regularized
    return to_numpy(dW), to_numpy(db)


def logistic_gradient(X, Y, W, b, lam):
    torch = load_torch()
    m = X.shape[0]
    residual = torch.sigmoid(X @ W + b) - Y  # (m, k)   σ(z) − Y, stable for any z
    dW = X.T @ residual / m + (lam / m) * W  # (n, k)
    db = residual.sum(dim=0) / m  # (k,)
    return to_numpy(dW), to_numpy(db)


def with_params(args, W, b):
    """The prepared tensors at a new point (W, b): W and b go where X already is."""
    torch = load_torch()
    X, Y, _, _, lam = args
    W_t, b_t = (torch.from_numpy(a).to(X.device) for a in (W, b))
    if X.device.type == "cuda":
        torch.cuda.synchronize(X.device)
    return X, Y, W_t, b_t, lam


LOGISTIC = Implementation(
    name="torch-manual",
    problem="logistic",
    gradient=logistic_gradient,
    prepare=prepare,
    with_params=with_params,
    description="The closed-form logistic gradient with PyTorch tensors and torch.sigmoid.",
    cost=Cost(
        passes="2 through torch's BLAS: X @ W, then X.T @ residual",
        temporaries="3 × (m, k): X @ W, + b, its sigmoid, − Y (the residual)",
        flops="4·m·n·k, plus an exp per sample and output in torch.sigmoid: for small n the "
        "exp, not the read of X, bounds the time",
        overhead="torch operator dispatch",
        elements=lambda m, n, k: two_passes(m, n, k) + 2 * m * k,  # the sigmoid's (m, k)
        flop_count=lambda m, n, k: matvec_flops(m, n, k) + 8 * m * k,
        parallel=True,
        fitted=(TORCH_GEMV, PER_SIGMOID),
    ),
)

IMPLEMENTATION = Implementation(
    name="torch-manual",
    gradient=gradient,
    prepare=prepare,
    with_params=with_params,
    description="The closed-form gradient (X @ W, then X.T @ residual) with PyTorch tensors.",
    cost=Cost(
        passes="2 through torch's BLAS: X @ W, then X.T @ residual",
        temporaries="3 × (m, k), as numpy-dot",
        flops="4·m·n·k",
        overhead="torch operator dispatch",
        elements=two_passes,
        parallel=True,
        fitted=(TORCH_GEMV, PER_ROW),  # PER_ROW: the (m, k) temporaries beyond their bytes
    ),
    also=(LOGISTIC,),
)
