"""torch-autograd: PyTorch derives the gradient from the cost; nobody writes ∂J/∂W.

The timed call computes only the cost J(W, b) = (‖XW + b − Y‖² + λ‖W‖²)/(2m), the way
a deep-learning framework's forward pass would, while autograd records every operation
on its tape; ``torch.autograd.grad`` then walks the tape backwards and returns ∂J/∂W
and ∂J/∂b. The backward pass ends up doing the same products as torch-manual's
closed form (Xᵀ times the residual), so the difference between the two is the price
of the tape: recording, an extra pass over the residual, and the scalar cost itself.

prepare (untimed) is torch-manual's — ``torch.from_numpy`` without a copy, torch's
threads set to numba's, an optional GPU via ``GRADRACE_TORCH_DEVICE=cuda`` — plus
making W and b autograd leaves (``requires_grad``), which are views of the same memory.
``torch.autograd.grad`` returns fresh gradients, so no ``.grad`` accumulates between
calls and nothing has to be zeroed.

Logistic regression records the cost a torch user would write,
``binary_cross_entropy_with_logits`` of the logits z = XW + b (stable for any z: it
never takes log(0)), plus the same penalty; its backward pass gives σ(z) − Y and
then the same Xᵀ product.
"""

from __future__ import annotations

from gradrace.bench.implementation import (
    PER_ROW,
    PER_SIGMOID,
    Cost,
    Implementation,
    matvec_flops,
    two_passes,
)
from gradrace.implementations import torch_manual
from gradrace.implementations.torch_manual import TORCH_GEMV, load_torch, to_numpy


def prepare(X, Y, W, b, lam):
    """torch-manual's tensors, with W and b as leaves autograd differentiates with respect to."""
    X, Y, W, b, lam = torch_manual.prepare(X, Y, W, b, lam)
    return X, Y, W.detach().requires_grad_(True), b.detach().requires_grad_(True), lam


def gradient(X, Y, W, b, lam):
    torch = load_torch()
    m = X.shape[0]
    residual = X @ W + b - Y  # (m, k)   recorded on autograd's tape
    cost = (residual.square().sum() + lam * W.square().sum()) / (2 * m)  # ()  J(W, b)
    dW, db = torch.autograd.grad(cost, (W, b))  # (n, k), (k,)  the backward pass
    return to_numpy(dW), to_numpy(db)


def logistic_gradient(X, Y, W, b, lam):
    torch = load_torch()
    m = X.shape[0]
    z = X @ W + b  # (m, k)   the logits, recorded on the tape
    loss = torch.nn.functional.binary_cross_entropy_with_logits(z, Y, reduction="sum")  # ()
    cost = loss / m + lam * W.square().sum() / (2 * m)  # ()  J(W, b)
    dW, db = torch.autograd.grad(cost, (W, b))  # (n, k), (k,)  the backward pass
    return to_numpy(dW), to_numpy(db)


def with_params(args, W, b):
    """The prepared tensors at a new point (W, b), W and b again leaves of the tape."""
    X, Y, W, b, lam = torch_manual.with_params(args, W, b)
    return X, Y, W.detach().requires_grad_(True), b.detach().requires_grad_(True), lam


LOGISTIC = Implementation(
    name="torch-autograd",
    problem="logistic",
    gradient=logistic_gradient,
    prepare=prepare,
    with_params=with_params,
    description="PyTorch autograd of binary_cross_entropy_with_logits plus the penalty.",
    cost=Cost(
        passes="2: forward X @ W, backward Xᵀ @ grad; more passes over the (m, k) logits",
        temporaries="(m, k) logits and the loss's own on the tape; the backward's σ(z) − Y",
        flops="4·m·n·k, plus exps per sample and output (the loss forward, σ backward): "
        "for small n the exps, not the read of X, bound the time",
        overhead="recording the tape and walking it backwards",
        elements=lambda m, n, k: two_passes(m, n, k) + 4 * m * k,  # the loss's (m, k) more
        flop_count=lambda m, n, k: matvec_flops(m, n, k) + 16 * m * k,
        parallel=True,
        fitted=(TORCH_GEMV, PER_SIGMOID),
    ),
)

IMPLEMENTATION = Implementation(
    name="torch-autograd",
    gradient=gradient,
    prepare=prepare,
    with_params=with_params,
    description="PyTorch autograd of the ridge cost: torch.autograd.grad(J, (W, b)).",
    cost=Cost(
        passes="2: forward X @ W, backward Xᵀ @ grad; one more pass over the (m, k) residual",
        temporaries="(m, k) residual and its square kept on the tape; the scalar cost",
        flops="4·m·n·k + the cost's 3·m·k",
        overhead="recording the tape and walking it backwards",
        elements=two_passes,
        parallel=True,
        fitted=(TORCH_GEMV, PER_ROW),  # PER_ROW: the tape's (m, k) temporaries beyond their bytes
    ),
    also=(LOGISTIC,),
)
