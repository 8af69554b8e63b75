"""jax-grad: ``jax.jit(jax.grad(cost))``, the gradient derived and compiled by JAX.

Only the cost is written, J(W, b) = (‖XW + b − Y‖² + λ‖W‖²)/(2m), in ``jax.numpy``;
``jax.grad`` transforms it into a function returning (∂J/∂W, ∂J/∂b), and ``jax.jit``
traces that once and hands it to the XLA compiler, which fuses the elementwise work
into the two matrix products. This is what a JAX user would write instead of any of
the other implementations.

prepare (untimed) turns on float64 (``jax_enable_x64``: JAX computes in float32
unless told otherwise — a process-wide setting) and runs CPU computations on the calling
thread (``jax_cpu_enable_async_dispatch`` off: the timed call waits for its result
anyway, and handing each call to a worker thread and back cost a thread wake-up of tens
of µs, at random, on a small machine), copies the arrays to JAX's default
device (the CPU here, a GPU where jaxlib has CUDA) and makes one call, which compiles
the gradient for these shapes and this dtype; jit caches the compiled code, so later
calls (and later prepares of the same shapes) only run it. The timed call waits for
the result (``block_until_ready``: JAX dispatches asynchronously) and turns it into
numpy arrays with ``np.asarray``, a copy of the n·k + k numbers (on a GPU, the
device→host transfer) that the contract's numpy results require, included in the time.

Logistic regression writes only its cost, the cross-entropy with f = σ(z), z = XW + b:
−[Y log f + (1 − Y) log(1 − f)] = softplus(z) − Y·z, with softplus(z) = log(1 + e^z)
as ``jnp.logaddexp(0, z)``, which neither overflows nor takes log(0) for any z.
``jax.grad`` derives σ(z) − Y from it, stably too (logaddexp's own derivative), and
XLA fuses the sigmoid into the elementwise work between the two products.

Threads: XLA sizes its CPU thread pool when JAX starts; gradrace's ``--threads``
(threadpoolctl and numba) does not reach it, so on the CPU JAX may use every core.
"""

from __future__ import annotations

import contextlib
import functools

import numpy as np

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

#: For one output (k = 1) XLA's two products are matrix-vector products, which stream X
#: below the read bandwidth a plain sum reaches: the model fits their cost per element of X.
XLA_GEMV = Term(
    "per element of X through XLA's matrix-vector products (k = 1)",
    lambda m, n, k, s: m * n if k == 1 else 0.0,
)

#: (shapes, dtype, device) for which the jitted gradient has been compiled in this process.
_COMPILED: set[tuple] = set()


@functools.cache
def _jax():
    """Import JAX on first use (keeping the registry cheap), enable float64, build the gradient."""
    import jax

    jax.config.update("jax_enable_x64", True)
    with contextlib.suppress(AttributeError):  # a JAX without asynchronous CPU dispatch
        jax.config.update("jax_cpu_enable_async_dispatch", False)
    import jax.numpy as jnp

    def cost(X, Y, W, b, lam):
        m = X.shape[0]
        residual = X @ W + b - Y  # (m, k)
        return (jnp.sum(residual**2) + lam * jnp.sum(W**2)) / (2 * m)  # ()  J(W, b)

    return jax, jax.jit(jax.grad(cost, argnums=(2, 3)))  # (X, Y, W, b, lam) -> (dW, db)


@functools.cache
def _jax_logistic():
    """JAX and the jitted gradient of the logistic cost (built on first use, as ``_jax``)."""
    jax, _ = _jax()
    import jax.numpy as jnp

    def cost(X, Y, W, b, lam):
        m = X.shape[0]
        z = X @ W + b  # (m, k)   the logits
        loss = jnp.logaddexp(0.0, z) - Y * z  # (m, k)   cross-entropy of σ(z), for any z
        return jnp.sum(loss) / m + lam * jnp.sum(W**2) / (2 * m)  # ()  J(W, b)

    return jax, jax.jit(jax.grad(cost, argnums=(2, 3)))  # (X, Y, W, b, lam) -> (dW, db)


def _prepare(X, Y, W, b, lam, built):
    """Copy the problem to JAX's default device and compile ``built``'s gradient for its shapes."""
    validate_inputs(X, Y, W, b, lam)
    jax, grad = built()
    device = jax.devices()[0]
    lam_array = np.asarray(lam, dtype=X.dtype)  # ()  λ in the input dtype
    args = tuple(jax.device_put(a, device) for a in (X, Y, W, b, lam_array))
    key = (built.__name__, X.shape, Y.shape, X.dtype.str, str(device))
    if key not in _COMPILED:
        jax.block_until_ready(grad(*args))  # trace and compile once (jit caches it)
        _COMPILED.add(key)
    return args


def prepare(X, Y, W, b, lam):
    """Copy the problem to JAX's default device and compile the gradient for its shapes."""
    return _prepare(X, Y, W, b, lam, _jax)


def logistic_prepare(X, Y, W, b, lam):
    """prepare, compiling the gradient of the logistic cost."""
    return _prepare(X, Y, W, b, lam, _jax_logistic)


def gradient(X, Y, W, b, lam, built=_jax):
    jax, grad = built()
    dW, db = jax.block_until_ready(grad(X, Y, W, b, lam))  # (n, k), (k,)  wait for the device
    return np.asarray(dW), np.asarray(db)  # device → host: n·k + k numbers


def logistic_gradient(X, Y, W, b, lam):
    """The timed call of the logistic version: the jitted gradient of the logistic cost."""
    return gradient(X, Y, W, b, lam, _jax_logistic)


def with_params(args, W, b):
    """The prepared arrays at a new point (W, b): W and b are put on the data's device."""
    jax, _ = _jax()
    X, Y, _, _, lam = args
    device = jax.devices()[0]
    W_dev, b_dev = jax.block_until_ready((jax.device_put(W, device), jax.device_put(b, device)))
    return X, Y, W_dev, b_dev, lam


LOGISTIC = Implementation(
    name="jax-grad",
    problem="logistic",
    gradient=logistic_gradient,
    prepare=logistic_prepare,
    with_params=with_params,
    description="jax.jit(jax.grad(cost)) of the cross-entropy, softplus(z) − Y·z, in float64.",
    cost=Cost(
        passes="2: XLA's X @ W and, from jax.grad, Xᵀ @ (σ(z) − Y); elementwise work fused",
        temporaries="the (m, k) logits and residual; copying dW, db back to numpy",
        flops="4·m·n·k, plus an exp per sample and output (the sigmoid, fused): for small n "
        "the exp, not the read of X, bounds the time",
        overhead="dispatch of the jitted function, block_until_ready, np.asarray",
        elements=two_passes,
        flop_count=lambda m, n, k: matvec_flops(m, n, k) + 8 * m * k,
        parallel=True,
        fitted=(XLA_GEMV, PER_SIGMOID),
    ),
)

IMPLEMENTATION = Implementation(
    name="jax-grad",
    gradient=gradient,
    prepare=prepare,
    with_params=with_params,
    description="jax.jit(jax.grad(cost)) with float64 enabled: JAX derives and XLA compiles.",
    cost=Cost(
        passes="2: XLA's X @ W and, from jax.grad, Xᵀ @ the residual; elementwise work fused",
        temporaries="the (m, k) residual; copying dW, db back to numpy",
        flops="4·m·n·k, on XLA's own thread pool (not limited by --threads)",
        overhead="dispatch of the jitted function, block_until_ready, np.asarray; per sample "
        "and output, XLA's fused loop over the residual (fitted)",
        elements=two_passes,
        parallel=True,
        fitted=(XLA_GEMV, PER_ROW),
    ),
    also=(LOGISTIC,),
)
