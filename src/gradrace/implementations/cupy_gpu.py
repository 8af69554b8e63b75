"""cupy: numpy-dot's two matrix products on an NVIDIA GPU, through CuPy and cuBLAS.

CuPy is numpy's interface on CUDA arrays, so the timed call is numpy-dot's code
unchanged; ``X @ W`` and ``X.T @ residual`` run as cuBLAS kernels. It shows what the
same formula gains (or, for small problems, loses to kernel-launch latency) on a GPU.

prepare (untimed) copies X, Y, W and b to the GPU (``cp.asarray``) and waits for the
copy to finish: host→device transfer is preparation. The timed call waits for the
GPU too — CUDA kernels run asynchronously, so without
``cp.cuda.get_current_stream().synchronize()`` the time would be that of launching
them — and then copies dW and db back to the host (``.get()``), because the contract
returns numpy arrays. That device→host copy of n·k + k numbers is included in the time;
it is a few microseconds, next to the m·n·k work of the products.

It needs a CUDA GPU and a CuPy built for its CUDA version (``pip install
"gradrace[cupy]"`` installs ``cupy-cuda12x``); where CuPy is installed without a usable
GPU, prepare raises an error saying so.
"""

from __future__ import annotations

import functools

from gradrace.bench.implementation import PER_ELEMENT, Cost, Implementation
from gradrace.bench.problem import validate_inputs


@functools.cache
def _load_cupy():
    import cupy as cp

    return cp


def _cupy():
    """CuPy, imported on first use, after checking that there is a GPU to run on."""
    cp = _load_cupy()
    try:
        count = cp.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDARuntimeError: no driver, no device
        raise RuntimeError(f"CuPy is installed but no CUDA GPU is usable: {exc}") from exc
    if count == 0:
        raise RuntimeError("CuPy is installed but no CUDA GPU is visible")
    return cp


def prepare(X, Y, W, b, lam):
    """Copy the problem to the GPU and wait until the copy is done."""
    validate_inputs(X, Y, W, b, lam)
    cp = _cupy()
    args = (*(cp.asarray(a) for a in (X, Y, W, b)), float(lam))
    cp.cuda.get_current_stream().synchronize()
    return args


def gradient(X, Y, W, b, lam):
    cp = _load_cupy()
    m = X.shape[0]
    residual = X @ W + b - Y  # (m, k)   on the GPU
    dW = X.T @ residual / m + (lam / m) * W  # (n, k)
    db = residual.sum(axis=0) / m  # (k,)     the bias is not regularized
    cp.cuda.get_current_stream().synchronize()  # wait for the kernels, not just their launch
    return dW.get(), db.get()  # device → host: n·k + k numbers


def with_params(args, W, b):
    """The data already on the GPU at a new point (W, b): only W and b are copied over."""
    cp = _load_cupy()
    X, Y, _, _, lam = args
    W_gpu, b_gpu = cp.asarray(W), cp.asarray(b)
    cp.cuda.get_current_stream().synchronize()
    return X, Y, W_gpu, b_gpu, lam


IMPLEMENTATION = Implementation(
    name="cupy",
    gradient=gradient,
    prepare=prepare,
    with_params=with_params,
    description="numpy-dot's products on an NVIDIA GPU with CuPy (cuBLAS); time includes sync.",
    cost=Cost(
        passes="2 cuBLAS products on the GPU; X was copied there in prepare",
        temporaries="3 × (m, k) on the GPU; dW, db copied back to the host",
        flops="4·m·n·k on the GPU: the host's bandwidth and peak do not apply",
        overhead="kernel launches, a stream synchronize, the device→host copy",
        elements=lambda m, n, k: 0.0,
        flop_count=lambda m, n, k: 0.0,
        parallel=True,
        fitted=(PER_ELEMENT,),
    ),
)
