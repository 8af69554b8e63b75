"""``gradrace fit``: gradient descent on a ``make_problem`` dataset with any implementation.

The loop of the classic lab, with the gradient swappable::

    W, b = 0, 0
    repeat:   dW, db = gradient(X, Y, W, b, λ)      # the chosen implementation
              W, b = W − α·dW, b − α·db

It prints the cost J(W, b) as it falls, stops when the gradient is small, reports
iterations per second, how far the result is from the ridge optimum and from the
generative weights of ``make_problem``, and writes a convergence plot.

**Learning rate.** make_problem's features lie in [0, 1): every column has mean ½, so
the weights and the bias are strongly coupled and the Hessian of J,

    H = X̃ᵀX̃/m + diag(λ/m, …, λ/m, 0)        X̃ = [X 1] (m, n+1),

is ill-conditioned (condition number 63 for m=1000, n=5; it grows with n). The data is
kept as it is (no standardization: the point is the lab's loop on the lab's data). Plain
gradient descent converges for α < 2/L with L the largest eigenvalue of H; the default
is the textbook step α = 1/L, with which every step lowers J by at least ‖∇J‖²/(2L).
L is estimated, untimed, by power iteration on H (each step two products with X, about
the cost of one gradient; a few dozen steps). The number of iterations then grows like
L/μ · log(1/tol), μ the smallest eigenvalue: 829 for m=1000, n=5 at the float64 default
tolerance, a few hundredths of a second with numpy-dot.

**Stopping.** The descent stops when ‖∇J(W, b)‖ ≤ tol · ‖∇J(0, 0)‖, the norm of the
gradient the implementation returns relative to the first one (scale-free), or after
``iterations`` steps, or when J stops being finite or grows past 10⁶ times its start
(diverged). Default tol: 1e-8 in float64, 1e-5 in float32 (whose rounding puts a floor
on the gradient's relative size not far below that).

**prepare in the loop.** The contract's ``prepare(X, Y, W, b, λ)`` takes W and b, and
whatever it returns (a layout, device copies) may hold them. An implementation that
provides ``with_params(args, W, b)`` moves its prepared arguments to the new point
without touching the data: fit prepares once, then calls ``with_params`` each step (so
gram computes XᵀX once, as it is meant to be used, and jax-grad copies only W and b to
its device). One without it is prepared again every step, the only way to give it a
new W that respects the contract. The summary splits the loop's time into prepare,
with_params, gradient and update, and iterations per second count them all. The cost
printed and plotted is computed outside the timed loop, in float64.

The implementation is also checked once, before the descent, against the reference
gradient at make_problem's evaluation point: one that raises or breaks the contract is
refused; one that disagrees still descends (its "gradient" may even converge somewhere),
but the fit reports it and fails.

**Logistic regression** (``--problem logistic``: labels in {0, 1}, the implementation's
logistic version). J is the regularized cross-entropy; its Hessian is X̃ᵀSX̃/m +
diag(λ/m, …, 0) with S = diag(σ(1 − σ)) ≤ ¼, so L is the top eigenvalue of
X̃ᵀX̃/(4m) + diag(λ/m, …, 0), a bound valid everywhere, and α = 1/L again lowers J at
every step. There is no closed form for the optimum: it is found, untimed, by Newton's
method with a backtracking line search in float64 (with λ = 0 on separable labels it
does not exist, and the descent does not converge either).
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gradrace.bench import arguments
from gradrace.bench.agreement import ERROR, evaluate
from gradrace.bench.explain import describe_exception
from gradrace.bench.implementation import Implementation
from gradrace.bench.interrupt import PLUGIN_RAISES, pass_on_ctrl_c, watching_ctrl_c
from gradrace.bench.problem import Problem, _logit_scale
from gradrace.bench.reference import sigmoid


class Unusable(ValueError):
    """The implementation fails the agreement check outright: it is at fault (exit code 1)."""


#: Default relative gradient-norm tolerance per dtype.
DEFAULT_TOL = {np.dtype(np.float64): 1e-8, np.dtype(np.float32): 1e-5}
#: J growing past this multiple of its start means the descent diverged.
DIVERGED_FACTOR = 1e6


def _augmented(problem: Problem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """X̃ = [X 1] and Y in float64, and the regularization of each parameter (0 for b)."""
    X = np.asarray(problem.X, dtype=np.float64)  # (m, n)
    X_aug = np.hstack([X, np.ones((problem.m, 1))])  # (m, n+1)
    reg = np.full(problem.n + 1, problem.lam / problem.m)  # (n+1,)  λ/m for W
    reg[-1] = 0.0  # the bias is not regularized
    return X_aug, np.asarray(problem.Y, dtype=np.float64), reg


def _curvature(problem: Problem) -> float:
    """The largest second derivative of the loss in the prediction: 1 (squares), ¼ (σ)."""
    return 0.25 if problem.problem == "logistic" else 1.0


def lipschitz(problem: Problem, steps: int = 100, rtol: float = 1e-6) -> float:
    """L = largest eigenvalue of H = c·X̃ᵀX̃/m + diag(λ/m, …, 0), by power iteration, with
    c = 1 (linear) or ¼ (logistic: a bound on its Hessian everywhere)."""
    X_aug, _, reg = _augmented(problem)
    c = _curvature(problem)
    v = np.ones(problem.n + 1) / math.sqrt(problem.n + 1)  # (n+1,)  near the top eigenvector
    estimate = 0.0
    for _ in range(steps):
        Hv = c * X_aug.T @ (X_aug @ v) / problem.m + reg * v  # (n+1,)
        new = float(np.linalg.norm(Hv))
        v = Hv / new
        if abs(new - estimate) <= rtol * new:
            return new
        estimate = new
    return estimate


def ridge_optimum(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """The exact minimizer (W*, b*) of J, from the normal equations H·[W; b] = X̃ᵀY/m.

    Where H is singular (λ = 0 and m ≤ n) it is the minimizer of least norm, the one that
    gradient descent from zero converges to."""
    X_aug, Y, reg = _augmented(problem)
    H = X_aug.T @ X_aug / problem.m + np.diag(reg)  # (n+1, n+1)
    theta = np.linalg.lstsq(H, X_aug.T @ Y / problem.m, rcond=None)[0]  # (n+1, k)
    return theta[:-1], theta[-1]  # (n, k), (k,)


def optimum(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """The minimizer (W*, b*) of ``problem``'s J: ``ridge_optimum`` or ``logistic_optimum``."""
    return (logistic_optimum if problem.problem == "logistic" else ridge_optimum)(problem)


def logistic_optimum(problem: Problem, steps: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """The minimizer (W*, b*) of the regularized cross-entropy, one output at a time, by
    Newton's method with a backtracking line search (the last iterate when there is none)."""
    X_aug, Y, reg = _augmented(problem)
    theta = np.column_stack([_newton(X_aug, Y[:, c], reg, steps) for c in range(problem.k)])
    return theta[:-1], theta[-1]  # (n, k), (k,)


def _newton(X_aug: np.ndarray, y: np.ndarray, reg: np.ndarray, steps: int) -> np.ndarray:
    m = X_aug.shape[0]

    def cost(t):  # (n+1,) -> J
        z = X_aug @ t  # (m,)
        return float(np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * np.sum(reg * t**2))

    t = np.zeros(X_aug.shape[1])  # (n+1,)
    for _ in range(steps):
        s = sigmoid(X_aug @ t)  # (m,)
        g = X_aug.T @ (s - y) / m + reg * t  # (n+1,)
        H = (X_aug.T * (s * (1 - s))) @ X_aug / m + np.diag(reg)  # (n+1, n+1)
        step = np.linalg.lstsq(H, g, rcond=None)[0]  # (n+1,)
        decrease, a, now = float(g @ step), 1.0, cost(t)
        if decrease <= 1e-30:
            break
        while cost(t - a * step) > now - 1e-4 * a * decrease and a > 1e-12:
            a /= 2
        t = t - a * step
    return t


class _Cost:
    """J(W, b) in float64 with X and Y converted once (the bookkeeping outside the timing).

    It is summed by a compiled loop rather than with ``X @ W``: a BLAS call leaves
    OpenBLAS's threads spinning for a while, on the cores that the next gradient call
    needs, and made a parallel numba gradient 17 times slower in this loop."""

    def __init__(self, problem: Problem):
        from gradrace._cost_loop import cross_entropies, squared_residuals  # numba loads here

        self.logistic = problem.problem == "logistic"
        self.squares = squared_residuals
        self.entropies = cross_entropies
        self.X = np.ascontiguousarray(problem.X, dtype=np.float64)  # (m, n)
        self.Y = np.ascontiguousarray(problem.Y, dtype=np.float64)  # (m, k)
        self.m, self.lam = problem.m, problem.lam

    def __call__(self, W, b) -> float:
        W = np.asarray(W, dtype=np.float64)  # (n, k)
        Wt = np.ascontiguousarray(W.T)  # (k, n)
        b = np.asarray(b, dtype=np.float64)  # (k,)
        penalty = self.lam * np.sum(W**2) / (2 * self.m)
        if self.logistic:
            return float(self.entropies(self.X, self.Y, Wt, b) / self.m + penalty)
        return float(self.squares(self.X, self.Y, Wt, b) / (2 * self.m) + penalty)


@dataclass
class FitResult:
    """What one descent did: the parameters found, its history and where the time went."""

    implementation: str
    W: np.ndarray  # (n, k)
    b: np.ndarray  # (k,)
    lr: float
    lipschitz: float
    tol: float
    iterations: int = 0
    converged: bool = False
    diverged: bool = False
    fault: str = ""  # the implementation broke the descent (a non-finite gradient): why
    agrees: bool = True
    agreement: str = ""
    costs: list[float] = field(default_factory=list)  # J after 0, 1, 2, … steps
    grad_norms: list[float] = field(default_factory=list)  # ‖∇J‖ at 0, 1, 2, … steps
    prepare_s: float = 0.0
    params_s: float = 0.0  # with_params: the prepared arguments moved to the new (W, b)
    gradient_s: float = 0.0
    update_s: float = 0.0
    problem: str = "linear"  # the problem descended: linear or logistic
    W_star: np.ndarray | None = None  # (n, k) the optimum
    b_star: np.ndarray | None = None  # (k,)
    cost_star: float = float("nan")
    W_true: np.ndarray | None = None  # (n, k) make_problem's generative weights
    b_true: np.ndarray | None = None  # (k,)

    @property
    def seconds(self) -> float:
        """Time of the loop: prepare, with_params, gradient and update, over the iterations."""
        return self.prepare_s + self.params_s + self.gradient_s + self.update_s

    @property
    def iterations_per_s(self) -> float:
        return self.iterations / self.seconds if self.seconds > 0 else float("nan")

    @property
    def ok(self) -> bool:
        return self.converged and self.agrees and not self.fault

    def distance(self, W_ref, b_ref) -> tuple[float, float]:
        """(‖W − W_ref‖/‖W_ref‖, ‖b − b_ref‖/‖b_ref‖), in float64."""
        return tuple(
            float(
                np.linalg.norm(np.asarray(x, np.float64) - ref) / max(np.linalg.norm(ref), 1e-300)
            )
            for x, ref in ((self.W, W_ref), (self.b, b_ref))
        )  # type: ignore[return-value]


def _report_at(iteration: int) -> bool:
    """Print at 0, 1, 2, 5, 10, 20, 50, 100, …: evenly spaced on the plot's log scale."""
    if iteration < 3:
        return True
    digits = 10 ** int(math.log10(iteration))
    return iteration % digits == 0 and iteration // digits in (1, 2, 5)


@watching_ctrl_c()  # a plugin raising KeyboardInterrupt is its failure
def fit(
    impl: Implementation,
    problem: Problem,
    *,
    lr: float | None = None,
    iterations: int = 20_000,
    tol: float | None = None,
    report: Callable[[str], None] | None = print,
) -> FitResult:
    """Gradient descent from W = 0, b = 0 on ``problem`` with ``impl``'s gradient (its
    version for ``problem.problem``)."""
    say = report or (lambda text: None)
    why = impl.applies_to(problem.problem, problem.k)
    if why:
        raise ValueError(f"{impl.name} cannot be used on this problem: it {why}")
    impl = impl.for_problem(problem.problem)
    dtype = problem.dtype
    L = lipschitz(problem)
    lr = 1.0 / L if lr is None else arguments.number("lr", lr, above=0)
    tol = DEFAULT_TOL[dtype] if tol is None else arguments.number("tol", tol, minimum=0)
    iterations = arguments.integer("iterations", iterations, minimum=0)
    how = f"1/L, L = {L:.4g} by power iteration" if lr == 1.0 / L else f"L = {L:.4g}"
    say(f"learning rate α = {lr:.4g} ({how}); stop at ‖∇J‖ ≤ {tol:g} · ‖∇J₀‖")
    W_star, b_star = optimum(problem)
    cost = _Cost(problem)
    result = FitResult(
        impl.name,
        np.zeros((problem.n, problem.k), dtype),
        np.zeros(problem.k, dtype),
        lr,
        L,
        tol,
        problem=problem.problem,
        W_star=W_star,
        b_star=b_star,
        cost_star=cost(W_star, b_star),
        **_generative(problem),
    )
    outcome = evaluate(impl, problem)
    if outcome.status == ERROR:  # raised, wrong shape or dtype, NaN, modified its input
        raise Unusable(f"{impl.name} cannot be used for a descent: {outcome.message}")
    result.agrees, result.agreement = outcome.agrees, outcome.message or outcome.kind
    if not outcome.agrees:
        say(
            f"warning: {impl.name} disagrees with the reference gradient on this problem "
            f"({outcome.kind}: {outcome.message}); descending anyway"
        )

    X, Y, lam = problem.X, problem.Y, problem.lam
    W, b = result.W, result.b
    result.costs.append(cost(W, b))
    say(f"{'iteration':>9}  {'cost J':>12}  {'J − J*':>10}  {'‖∇J‖':>10}")
    first_norm, args = None, None
    for i in range(iterations + 1):
        t0 = time.perf_counter()
        moving = args is not None and impl.with_params is not None
        try:
            if args is None:
                args = impl.prepare_args(X, Y, W, b, lam)
            else:  # with_params where there is one, else prepare again
                args = impl.args_at(args, X, Y, W, b, lam)
            t1 = time.perf_counter()
            dW, db = impl.call(args)  # (n, k), (k,)
        except PLUGIN_RAISES as exc:  # the plugin's failure: said, not a traceback
            pass_on_ctrl_c(exc)
            raise Unusable(
                f"{impl.name} failed at step {i} of the descent: {describe_exception(exc)}"
            ) from None
        t2 = time.perf_counter()
        if moving:
            result.params_s += t1 - t0
        else:
            result.prepare_s += t1 - t0
        result.gradient_s += t2 - t1

        norm = math.sqrt(
            float(np.sum(np.square(dW, dtype=np.float64)))
            + float(np.sum(np.square(db, dtype=np.float64)))
        )
        result.grad_norms.append(norm)
        if not math.isfinite(norm):
            _non_finite_gradient(result, i, say)
            break
        first_norm = norm if first_norm is None else first_norm
        if _report_at(i) or norm <= tol * first_norm or i == iterations:
            now = result.costs[-1]
            say(f"{i:>9}  {now:>12.6e}  {now - result.cost_star:>10.3e}  {norm:>10.3e}")
        if norm <= tol * first_norm:
            result.converged = True
            break
        if i == iterations:
            break

        t3 = time.perf_counter()
        W = (W - lr * np.asarray(dW)).astype(dtype, copy=False)  # (n, k)
        b = (b - lr * np.asarray(db)).astype(dtype, copy=False)  # (k,)
        result.update_s += time.perf_counter() - t3
        result.iterations = i + 1
        now = cost(W, b)
        result.costs.append(now)
        limit = DIVERGED_FACTOR * max(result.costs[0], 1e-300)
        if not math.isfinite(now) or now > limit:
            result.diverged = True
            say(f"{i + 1:>9}  {now:>12.6e}  diverged: lower the learning rate (α = {lr:.3g})")
            break
    result.W, result.b = W, b
    return result


def _generative(problem: Problem) -> dict:
    """make_problem's generative weights as the model's W and b: for logistic labels, drawn
    from σ(scale·(X − ½)W_true + b_true), that is scale·W_true and b_true − ½·scale·ΣW_true."""
    W_true = np.asarray(problem.W_true, dtype=np.float64)  # (n, k)
    b_true = np.asarray(problem.b_true, dtype=np.float64)  # (k,)
    if problem.problem != "logistic":
        return {"W_true": problem.W_true, "b_true": problem.b_true}
    scale = _logit_scale(problem.n)
    return {"W_true": scale * W_true, "b_true": b_true - 0.5 * scale * W_true.sum(axis=0)}


def _non_finite_gradient(result: FitResult, step: int, say: Callable[[str], None]) -> None:
    """A NaN or infinite gradient: the learning rate's fault if J was already growing (a
    divergence), the implementation's if J was finite and not growing (a safe step)."""
    costs = result.costs
    growing = len(costs) > 1 and not costs[-1] <= costs[-2]
    if growing or not math.isfinite(costs[-1]):
        result.diverged = True
        why = f"the gradient overflowed while J grew; lower the learning rate (α = {result.lr:.3g})"
        say(f"{step:>9}  {costs[-1]:>12.6e}  diverged: {why}")
        return
    result.fault = (
        f"{result.implementation} returned a non-finite gradient (NaN or infinity) at step "
        f"{step}, though the cost J = {costs[-1]:.6e} was finite and "
        f"{'decreasing' if len(costs) > 1 else 'at its start'}: the implementation is at "
        "fault, not the learning rate"
    )
    say(f"{step:>9}  {costs[-1]:>12.6e}  stopped: {result.fault}")


def summary(result: FitResult) -> str:
    """The lines printed after the descent."""
    if result.fault:
        verdict = f"FAILED after {result.iterations} iterations: {result.fault}"
    elif result.converged:
        verdict = f"converged after {result.iterations} iterations (‖∇J‖ ≤ {result.tol:g} · ‖∇J₀‖)"
    elif result.diverged:
        verdict = f"DIVERGED after {result.iterations} iterations"
    else:
        verdict = f"NOT converged after {result.iterations} iterations (tolerance {result.tol:g})"
    seconds = result.seconds
    share = lambda s: f"{100 * s / seconds:.0f}%" if seconds > 0 else "-"  # noqa: E731
    lines = [
        verdict,
        f"{result.implementation}: {result.iterations_per_s:,.0f} iterations/s "
        f"({seconds:.3g} s: prepare {share(result.prepare_s)}, with_params "
        f"{share(result.params_s)}, gradient {share(result.gradient_s)}, update "
        f"{share(result.update_s)})",
    ]
    dW, db = result.distance(result.W_star, result.b_star)
    lines.append(
        f"distance to the {_optimum_words(result)} (W*, b*): ‖W−W*‖/‖W*‖ = {dW:.2e}, "
        f"‖b−b*‖/‖b*‖ = {db:.2e}"
    )
    if result.W_true is not None:
        tW, tb = result.distance(result.W_true, result.b_true)
        lines.append(
            f"distance to the generative weights (make_problem): ‖W−W_true‖/‖W_true‖ "
            f"= {tW:.2e}, ‖b−b_true‖/‖b_true‖ = {tb:.2e}"
        )
    if not result.agrees:
        lines.append(f"{result.implementation} DISAGREES with the reference: {result.agreement}")
    return "\n".join(lines)


def _optimum_words(result: FitResult) -> str:
    return "regularized logistic optimum" if result.problem == "logistic" else "ridge optimum"


#: matplotlib's formats that are not image files one would open, or that need LaTeX.
_NOT_IMAGES = {"raw", "rgba", "pgf"}


def image_formats() -> list[str]:
    """The file extensions ``write_plot`` can write (matplotlib's Agg canvas)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    return sorted(set(FigureCanvasAgg.get_supported_filetypes()) - _NOT_IMAGES)


def check_plot_path(path: str | Path, option: str = "--plot") -> Path:
    """Refuse, before the descent, a plot path that ``write_plot`` could not write: an
    extension that is not an image format, a folder that does not exist or is not writable."""
    path = Path(path)
    formats = image_formats()
    extension = path.suffix.lower().lstrip(".")
    if extension not in formats:
        shown = f".{extension}" if extension else "no extension"
        known = ", ".join("." + f for f in formats)
        raise ValueError(f"{option} {path}: {shown} is not an image format; use one of {known}")
    folder = path.parent
    if not folder.is_dir():
        raise ValueError(f"{option} {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"{option} {path}: the folder {folder} is not writable")
    return path


def write_plot(result: FitResult, path: str | Path, title: str = "") -> Path:
    """A PNG of J and J − J* against the iteration, both on a log scale (matplotlib, Agg)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    costs = np.asarray(result.costs)  # (iterations + 1,)
    gap = costs - result.cost_star  # (iterations + 1,)
    gap = np.where(gap > 0, gap, np.nan)  # rounding can put J a hair under J*: leave a gap
    steps = np.arange(len(costs))
    fig = Figure(figsize=(10, 4), layout="constrained")
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2)
    left.semilogy(steps, costs, color="tab:blue")
    left.axhline(
        result.cost_star, color="gray", linestyle="--", label=f"J* ({_optimum_words(result)})"
    )
    what = "cross-entropy " if result.problem == "logistic" else ""
    left.set(xlabel="iteration", ylabel=f"{what}cost J(W, b)", title=f"{what}cost")
    left.legend()
    right.semilogy(steps, gap, color="tab:orange")
    right.set(xlabel="iteration", ylabel="J − J*", title="distance to the optimum's cost")
    for ax in (left, right):
        ax.grid(True, which="both", alpha=0.3)
    fig.suptitle(
        title
        or f"gradient descent with {result.implementation}: α = {result.lr:.3g}, "
        f"{result.iterations_per_s:,.0f} iterations/s"
    )
    fig.savefig(path, dpi=100)
    return path


# -- The command ---------------------------------------------------------------------------


def _only_plugin(registry) -> str:
    """The implementation to fit when --impl is not given: the one --plugin loaded."""
    loaded = [e.name for e in registry if e.origin.startswith("--plugin ")]
    if len(loaded) != 1:
        raise ValueError(
            "--impl NAME is needed: say which implementation to fit "
            "(it may be left out when one --plugin is given)"
        )
    return loaded[0]


def cmd_fit(args) -> int:
    from gradrace.bench.loading import load_registry_safely
    from gradrace.bench.problem import make_problem

    here = Path.cwd()  # a plugin may change directory at import or when called: not our paths
    if args.plot is not None:  # before the plugins load: a bad path wastes nothing
        check_plot_path(here / args.plot)
    registry = load_registry_safely(
        args.plugin,
        entry_points=args.entry_points,
        convention=args.convention,
        plain_problem=args.problem,
    )
    for error in registry.errors:
        print(f"gradrace: plugin not loaded: {error}", file=sys.stderr)
    if args.impl is None:
        args.impl = _only_plugin(registry)
    plot = check_plot_path(here / (args.plot or f"gradrace-fit-{args.impl}.png"))
    if args.impl in registry.unavailable:
        raise ValueError(f"{args.impl} is unavailable: {registry.unavailable[args.impl]}")
    impl = registry.one(args.impl)
    m, n, k, dtype = args.m, args.n, args.k, args.dtype
    problem = make_problem(
        m, n, k, dtype, lam=args.lam, seed=args.seed, noise=args.noise, problem=args.problem
    )
    data = "logistic, labels in {0, 1}" if args.problem == "logistic" else f"noise={args.noise:g}"
    print(
        f"gradrace fit: {impl.name} on m={m} n={n} k={k} {dtype}, λ={args.lam:g}, "
        f"{data}, seed={args.seed}"
    )
    try:
        result = fit(impl, problem, lr=args.lr, iterations=args.iterations, tol=args.tol)
    except Unusable as exc:
        print(f"gradrace: {exc}", file=sys.stderr)
        return 1
    print(summary(result))
    print(f"Plot: {write_plot(result, plot)}")
    return 0 if result.ok else 1


def add_fit_parser(sub) -> None:
    """Add the ``fit`` subcommand to the ``gradrace`` parser."""
    from gradrace.options import convention_option, dtype, finite, positive, problem, size

    p = sub.add_parser(
        "fit",
        help="gradient descent with an implementation's gradient: "
        "cost, iterations/s, convergence plot",
    )
    p.add_argument(
        "--impl", metavar="NAME", help="the implementation to use (default: the one --plugin loads)"
    )
    p.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="MODULE:ATTR",
        help="load an implementation from module:attr or path/to/file.py:attr (repeatable)",
    )
    p.add_argument(
        "--no-entry-points",
        dest="entry_points",
        action="store_false",
        help="ignore implementations installed through entry points",
    )
    convention_option(p)
    p.add_argument(
        "--problem",
        type=problem(),
        default="linear",
        help="linear (ridge regression, the default) or logistic (labels in {0, 1}, the "
        "cross-entropy); a plain function whose name holds neither 'logistic' nor "
        "'sigmoid' is read as this problem",
    )
    p.add_argument("--m", type=size("--m"), default="1000", help="samples (default 1000)")
    p.add_argument("--n", type=size("--n"), default="5", help="features (default 5)")
    p.add_argument("--k", type=size("--k"), default="1", help="outputs (default 1)")
    p.add_argument("--dtype", type=dtype(), default="float64", help="float64 (default) or float32")
    p.add_argument(
        "--lam", type=finite(minimum=0), default=1.0, help="regularization λ (default 1)"
    )
    p.add_argument(
        "--noise",
        type=finite(minimum=0),
        default=0.01,
        help="standard deviation of the noise added to Y (default 0.01; linear only)",
    )
    p.add_argument(
        "--lr", type=positive(float), help="learning rate α (default 1/L, see gradrace.fit)"
    )
    p.add_argument(
        "--iterations",
        type=positive(int, zero_allowed=True),
        default=20_000,
        help="most gradient steps (default 20000)",
    )
    p.add_argument(
        "--tol",
        type=positive(float, zero_allowed=True),
        help="stop when ‖∇J‖ ≤ tol·‖∇J₀‖ (default 1e-8 float64, 1e-5 float32)",
    )
    p.add_argument(
        "--seed",
        type=positive(int, zero_allowed=True),
        default=0,
        help="make_problem's seed (default 0)",
    )
    p.add_argument(
        "--plot",
        metavar="PATH",
        help="where to write the convergence plot (default gradrace-fit-NAME.png)",
    )
    p.add_argument(
        "--dask-scheduler",
        metavar="ADDRESS",
        help="run the dask implementation on this dask.distributed scheduler "
        "(sets GRADRACE_DASK_SCHEDULER)",
    )
    p.set_defaults(func=cmd_fit)
