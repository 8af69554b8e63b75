"""numba-fused's logistic version: each kernel, the choice between them, determinism, and
the sigmoid itself. Tolerances as in test_logistic.py: float64 1e-12, float32 1e-4."""

import numba
import numpy as np
import pytest

from gradrace import _load, make_problem, reference_gradient
from gradrace._jit import set_threads
from gradrace.bench.reference import sigmoid
from gradrace.implementations import numba_fused
from gradrace.implementations import numba_fused_logistic as nfl

TOLERANCE = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-4}

KERNELS = {
    "few-rows": nfl._few_rows,
    "serial": nfl._serial_kernel,
    "parallel": nfl._parallel_kernel,
    "any-size": nfl._kernel,
}


def relative_errors(out, problem):
    ref_dW, ref_db = reference_gradient(*problem.args, problem="logistic")
    dW, db = out
    return (
        np.linalg.norm(dW - ref_dW) / np.linalg.norm(ref_dW),
        np.linalg.norm(db - ref_db) / np.linalg.norm(ref_db),
    )


def assert_agrees(out, problem):
    dW, db = out
    assert dW.shape == problem.W.shape and db.shape == problem.b.shape
    assert dW.dtype == problem.dtype and db.dtype == problem.dtype
    assert max(relative_errors(out, problem)) < TOLERANCE[problem.dtype]


@pytest.fixture(autouse=True)
def quiet(monkeypatch):
    """No other work on the machine, whatever runs beside the tests (a test that needs a
    load injects its own)."""
    monkeypatch.setattr(_load, "recent_others", lambda: 0.0)


@pytest.fixture
def threads():
    """Restore numba's thread count after a test that changes it."""
    before = numba.get_num_threads()
    yield
    set_threads(before)


def test_it_is_numba_fused_for_the_logistic_problem():
    impl = numba_fused.IMPLEMENTATION
    assert impl.for_problem("logistic") is nfl.LOGISTIC
    assert nfl.LOGISTIC.name == "numba-fused" and nfl.LOGISTIC.problem == "logistic"


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    ("m", "n", "k"),
    [
        (1, 3, 1),  # a single row: no full group of rows
        (7, 1, 1),  # a single feature
        (9, 5, 3),  # two groups of four rows and one left over
        (257, 6, 1),  # SUM_ROWS + 1 rows: a second summation block of one row
        (1_027, 3, 1),  # k = 1 with blocks of SUM_ENTRIES / 3 rows and a tail
        (1_031, 13, 4),  # k > 1: many groups, a tail of three, several chunks
        (600, 8, 1),  # the widest X whose tiles are transposed (NARROW_MAX)
        (600, 9, 2),  # the narrowest whose are not
        (600, 17, 2),
        (8_300, 1, 2),  # one feature: blocks of SUM_ENTRIES rows, tiles transposed
    ],
)
def test_every_kernel_agrees_with_the_reference_across_block_boundaries(kernel, dtype, m, n, k):
    p = make_problem(m, n, k, dtype, lam=m / 3, seed=m + n + k, problem="logistic")
    X, Y, W, b, lam, _ = nfl.prepare(*p.args)
    assert_agrees(nfl.gradient(X, Y, W, b, lam, KERNELS[kernel]), p)


LOGITS = np.concatenate(
    [
        np.linspace(-50, 50, 1001),
        [-1e3, -745.2, -708.5, -708.0, -707.9, -88.8, 0.0, 88.8, 707.9, 708.5, 745.2, 1e3],
        [np.inf, -np.inf],
    ]
)


def exact_sigmoid(z):
    """σ(z) in extended precision, for the sigmoids to be judged against."""
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-np.asarray(z, dtype=np.longdouble)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_scalar_sigmoid_is_exact_to_a_few_ulps_and_finite_for_any_logit(dtype):
    z = LOGITS.astype(dtype)
    got = np.array([nfl._sigmoid(v, dtype(1)) for v in z], dtype=np.float64)
    eps, tiny = np.finfo(dtype).eps, np.finfo(dtype).tiny
    np.testing.assert_allclose(got, exact_sigmoid(z), rtol=8 * eps, atol=tiny)
    assert (got[z == 0] == 0.5).all() and got[z == 1e3] == 1.0 and got[z == -1e3] == 0.0


@pytest.mark.parametrize("count", [len(LOGITS), nfl.TILE, 5, 1])
def test_the_tile_sigmoid_is_exact_to_a_few_ulps_and_finite_for_any_logit(count):
    for start in range(0, len(LOGITS), count):
        z = LOGITS[start : start + count]  # (count,)
        f, scale = np.empty(len(z)), np.empty(len(z))
        nfl._sigmoids(z, f, scale)
        # below 2^−1021 an e^(−|z|) is taken as 0: an absolute error under 1e-307
        np.testing.assert_allclose(f, exact_sigmoid(z), rtol=4 * np.finfo(float).eps, atol=1e-307)
        assert np.isfinite(f).all()
    f, scale = np.empty(3), np.empty(3)
    nfl._sigmoids(np.array([0.0, 1e3, -1e3]), f, scale)
    assert f.tolist() == [0.5, 1.0, 0.0]


def test_the_tile_sigmoid_keeps_nan():
    f, scale = np.empty(3), np.empty(3)
    nfl._sigmoids(np.array([np.nan, 1.0, -np.nan]), f, scale)
    assert np.isnan(f[0]) and np.isnan(f[2]) and f[1] == pytest.approx(1 / (1 + np.exp(-1.0)))


@pytest.mark.parametrize(("n", "k"), [(4000, 1), (300, 1), (300, 3), (20, 1), (2, 5)])
def test_tiles_of_every_size_agree(n, k):
    """Tiles of 16 rows (n = 4000), of TILE_ENTRIES / n rows (n = 300), of TILE rows (n = 20)
    and transposed ones of NARROW_TILE rows (n = 2), with tails, against the reference."""
    p = make_problem(4 * nfl.TILE + 7, n, k, seed=n + k, problem="logistic")
    assert_agrees(nfl.serial_gradient(*p.args), p)


def test_tile_sizes_span_what_the_tiles_test_covers():
    assert (
        nfl.TILE_ENTRIES // 4000 < 16 < nfl.TILE_ENTRIES // 300 < nfl.TILE < nfl.TILE_ENTRIES // 20
    )
    assert 2 <= nfl.NARROW_MAX < 20 and nfl.NARROW_TILE < 4 * nfl.TILE + 7


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_work_buffers_are_staggered_not_4k_apart(dtype):
    """The kernel's buffers start STAGGER entries beyond one another's end: none of their
    starts is a multiple of 4 KiB from another's."""
    step = (nfl.TILE + nfl.STAGGER) * 8
    starts = [i * step for i in range(4)]  # z, f, 2^n and r, in bytes
    assert all((b - a) % 4096 for a in starts for b in starts if b > a)
    row = (nfl.NARROW_TILE + nfl.STAGGER) * np.dtype(dtype).itemsize  # a transposed row
    assert all((j * row) % 4096 for j in range(1, nfl.NARROW_MAX))


@pytest.mark.parametrize("k", [1, 5])
def test_float32_sums_stay_accurate_over_many_rows(k):
    p = make_problem(200_003, 4, k, "float32", seed=k, problem="logistic")
    out = nfl.gradient(*nfl.prepare(*p.args))
    assert max(relative_errors(out, p)) < 1e-5


def test_prepare_picks_the_kernel_by_size(monkeypatch):
    monkeypatch.setattr(_load, "recent_others", lambda: 0.0)  # a quiet machine, whatever runs
    small, medium, large = (nfl.SUM_ROWS, 10, 1), (nfl.SUM_ROWS + 1, 10, 1), (50_000, 4, 1)
    assert nfl.pick_kernel(*small) is nfl._few_rows
    assert nfl.pick_kernel(*medium) is nfl._serial_kernel
    assert nfl.pick_kernel(*large) is nfl._parallel_kernel
    assert medium[0] * medium[1] * medium[2] < nfl.PARALLEL_MIN_WORK
    p = make_problem(*large, seed=0, problem="logistic")
    assert nfl.prepare(*p.args)[-1] is nfl._parallel_kernel


def test_a_loaded_machine_gets_the_serial_kernel(monkeypatch, threads):
    set_threads(numba.config.NUMBA_NUM_THREADS)
    monkeypatch.setattr(_load, "recent_others", lambda: float(_load.usable_cores()))
    p = make_problem(50_000, 20, 1, seed=10, problem="logistic")
    args = nfl.prepare(*p.args)
    assert args[-1] is nfl._serial_kernel
    assert_agrees(nfl.gradient(*args), p)


def test_a_partly_loaded_machine_gets_fewer_threads(monkeypatch, threads):
    monkeypatch.setattr(_load, "threads_to_use", lambda count: 2)
    monkeypatch.setattr(nfl, "threads", lambda: 3)  # as if numba had three threads
    p = make_problem(50_000, 20, 1, seed=11, problem="logistic")
    kernel = nfl.prepare(*p.args)[-1]
    assert kernel.__name__.endswith("_on_2")
    before = numba.get_num_threads()
    assert_agrees(nfl.gradient(*nfl.prepare(*p.args)), p)
    assert numba.get_num_threads() == before  # put back after the call


def test_public_functions_agree_without_a_picked_kernel():
    p = make_problem(3_001, 7, 3, seed=1, problem="logistic")
    for fn in (nfl.gradient, nfl.serial_gradient, nfl.parallel_gradient, nfl.logistic_gradient):
        assert_agrees(fn(*p.args), p)


def test_the_public_function_validates_its_input():
    p = make_problem(5, 2, seed=0, problem="logistic")
    X = p.X.copy()
    X[0, 0] = np.inf
    with pytest.raises(ValueError, match="X contains NaN or infinity"):
        nfl.logistic_gradient(X, p.Y, p.W, p.b, p.lam)


def test_parallel_result_does_not_depend_on_the_thread_count(threads):
    p = make_problem(40_000, 9, 3, seed=2, problem="logistic")
    args = nfl.prepare(*p.args)[:5]
    set_threads(1)
    one = nfl.parallel_gradient(*args)
    set_threads(numba.config.NUMBA_NUM_THREADS)
    first, again = nfl.parallel_gradient(*args), nfl.parallel_gradient(*args)
    for a, b, c in zip(one, first, again, strict=True):
        np.testing.assert_array_equal(a, b)  # bit for bit: the chunks depend on the shape only
        np.testing.assert_array_equal(b, c)


def test_chunks_are_a_power_of_two_set_by_the_shape_alone():
    assert nfl.chunk_count(10**9, 10**12) == nfl.MAX_CHUNKS
    assert nfl.chunk_count(100, 10**9) == 8  # at least eight rows each
    assert nfl.chunk_count(10**6, 2 * nfl.CHUNK_WORK - 1) == 1
    assert nfl.chunk_count(10**6, 2 * nfl.CHUNK_WORK) == 2
    m, n = 50_001, 7  # each chunk's residual sum, against numpy's
    p = make_problem(m, n, 1, seed=3, problem="logistic")
    X, Y, W, b, lam, _ = nfl.prepare(*p.args)
    chunks = nfl.chunk_count(m, m * n)
    totals, totals_b = np.zeros((chunks, 1, n)), np.zeros((chunks, 1))
    nfl._chunks_parallel(X, Y, np.ascontiguousarray(W.T), b, totals, totals_b)
    starts = [m * t // chunks for t in range(chunks + 1)]
    residual = sigmoid(X @ W + b) - Y  # (m, 1)
    expected = [residual[starts[t] : starts[t + 1]].sum() for t in range(chunks)]
    np.testing.assert_allclose(totals_b[:, 0], expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_long_and_short_rows_take_the_logits_loop_meant_for_them(dtype):
    """Rows of LONG_ROW_BYTES or more go one at a time, shorter ones four at a time: both
    loops give every row's logit, including the rows left over from groups of four."""
    itemsize = np.dtype(dtype).itemsize
    rng = np.random.default_rng(5)
    w = rng.standard_normal(nfl.LONG_ROW_BYTES // itemsize)
    X = rng.standard_normal((23, w.size)).astype(dtype)
    z_one, z_four = np.empty(23), np.empty(23)
    nfl._logits_one(X, 2, 21, w.astype(dtype), 0.5, z_one)
    nfl._logits(X, 2, 21, w.astype(dtype), 0.5, z_four)
    expected = X[2:].astype(np.float64) @ w.astype(dtype) + 0.5  # (21,)
    np.testing.assert_allclose(z_one[:21], expected, rtol=1e-5 if itemsize == 4 else 1e-12)
    np.testing.assert_allclose(z_four[:21], expected, rtol=1e-5 if itemsize == 4 else 1e-12)


@pytest.mark.parametrize(("n", "k"), [(31, 1), (32, 2), (100, 3)])
def test_kernels_agree_on_either_side_of_the_long_row_bound(n, k):
    """n = 31 and 32 float64 rows straddle LONG_ROW_BYTES (256 bytes): the kernels agree
    with the reference over several tiles on both sides of it."""
    p = make_problem(3 * nfl.TILE + 5, n, k, seed=n, problem="logistic")
    for kernel in KERNELS.values():
        assert_agrees(nfl.gradient(*nfl.prepare(*p.args)[:5], kernel), p)


@pytest.mark.parametrize("kernel", KERNELS)
def test_inputs_are_unchanged_and_outputs_are_fresh(kernel):
    p = make_problem(700, 6, 2, seed=4, problem="logistic")
    saved = [a.copy() for a in p.args[:4]]
    X, Y, W, b, lam, _ = nfl.prepare(*p.args)
    dW, db = nfl.gradient(X, Y, W, b, lam, KERNELS[kernel])
    for a, s in zip(p.args[:4], saved, strict=True):
        np.testing.assert_array_equal(a, s)
    assert not np.shares_memory(dW, W) and not np.shares_memory(db, b)


def test_gradient_without_prepare_accepts_strided_arrays():
    p = make_problem(1_500, 6, 2, seed=6, problem="logistic")
    X, Y = np.hstack([p.X, p.X])[:, :6], np.hstack([p.Y, p.Y])[:, :2]  # strided views
    assert not X.flags.c_contiguous and not Y.flags.c_contiguous
    assert_agrees(nfl.gradient(X, Y, p.W, p.b, p.lam), p)


@pytest.mark.skipif(numba.config.DISABLE_JIT, reason="NUMBA_DISABLE_JIT=1: nothing is compiled")
def test_prepare_compiles_for_the_dtype_at_hand():
    for dtype in (np.float64, np.float32):
        nfl.prepare(*make_problem(5, 2, dtype=dtype, seed=0, problem="logistic").args)
        for kernel in (nfl._few_rows, nfl._serial_kernel, nfl._parallel_kernel):
            assert any(str(sig[0].dtype) == np.dtype(dtype).name for sig in kernel.signatures)
