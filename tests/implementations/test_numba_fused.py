"""numba-fused: each of its kernels, the size-based choice between them, and determinism."""

import numba
import numpy as np
import pytest

from gradrace import TOLERANCE, _load, make_problem, reference_gradient
from gradrace._jit import set_threads
from gradrace.implementations import _fused_sums, numba_narrow
from gradrace.implementations import numba_fused as nf

KERNELS = {
    "few-rows": nf._few_rows,
    "serial": nf._serial_kernel,
    "parallel": nf._parallel_kernel,
    "any-size": nf._kernel,
}


def relative_errors(out, problem):
    ref_dW, ref_db = reference_gradient(*problem.args)
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


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    ("m", "n", "k"),
    [
        (1, 3, 1),  # a single row: no full group of rows
        (7, 1, 1),  # a single feature
        (9, 5, 3),  # one group of eight rows and one left over
        (257, 6, 1),  # SUM_ROWS + 1 rows: past the kernel without work arrays
        (1_027, 3, 1),  # k = 1 with two-pass blocks of 32 KiB / (3·itemsize) rows and a tail
        (1_031, 13, 4),  # k > 1: many groups of eight, a tail of seven, several chunks
        (600, 17, 2),  # k = 2: the software pipeline's first and last columns only
        (1_031, 64, 1),  # float64 long rows (≥ LONG_ROW_BYTES): groups a quarter of X apart
        (259, 100, 1),  # long rows: groups a quarter of X apart, a tail of three
        (259, 1_030, 1),  # rows past L1_ROW_BYTES: groups not pipelined, a tail of three
        (2_051, 100, 1),  # long rows: two float32 pieces, float64 one; a tail of three
        (1_031, 40, 3),  # k > 1, long rows: groups an eighth of X apart, a tail of seven
    ],
)
def test_every_kernel_agrees_with_the_reference_across_group_and_block_edges(
    kernel, dtype, m, n, k
):
    p = make_problem(m, n, k, dtype, lam=m / 3, seed=m + n + k)
    X, Y, W, b, lam, _ = nf.prepare(*p.args)
    assert_agrees(nf.gradient(X, Y, W, b, lam, KERNELS[kernel]), p)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("m", [3, 4, 7, 8, 9, 259])
def test_the_longest_rows_loop_sums_what_the_pipelined_one_does(dtype, m):
    """_one_output_longest (each group's residuals, then its outer products) and
    _one_output_long (the two pipelined) add up the same rows, the last m mod 4 too."""
    n = nf.L1_ROW_BYTES // np.dtype(dtype).itemsize
    p = make_problem(m, n, 1, dtype, seed=m)
    w, b0 = p.W[:, 0], p.b[0]
    rtol = 1e-4 if dtype == np.float32 else 1e-12
    acc, acc_long = np.zeros(n, dtype=dtype), np.zeros(n, dtype=dtype)
    rsum = nf._one_output(p.X, p.Y, w, b0, acc)  # picks _one_output_longest
    assert rsum == nf._one_output_longest(p.X, p.Y, w, b0, np.zeros(n, dtype=dtype))
    rsum_long = nf._one_output_long(p.X, p.Y, w, b0, acc_long)
    np.testing.assert_allclose(acc, acc_long, rtol=rtol, atol=rtol * np.abs(acc_long).max())
    np.testing.assert_allclose(rsum, rsum_long, rtol=rtol, atol=rtol * abs(rsum_long) + rtol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("m", [3, 4, 7, 8, 9, 259])
def test_long_and_short_row_loops_sum_the_same_rows(dtype, m):
    """_one_output_long (rows a quarter of X apart) and _one_output's loop for
    short rows (side by side) add up every row, those left over from groups of four too."""
    n = nf.LONG_ROW_BYTES // np.dtype(dtype).itemsize
    p = make_problem(m, n, 1, dtype, seed=m)
    w, b0 = p.W[:, 0], p.b[0]
    R = (p.X.astype(np.float64) @ w + b0 - p.Y[:, 0]).astype(dtype)  # (m,)
    rtol = 1e-4 if dtype == np.float32 else 1e-12
    acc = np.zeros(n, dtype=dtype)
    rsum = nf._one_output_long(p.X, p.Y, w, b0, acc)
    np.testing.assert_allclose(acc, p.X.T @ R, rtol=rtol, atol=rtol * np.abs(p.X.T @ R).max())
    np.testing.assert_allclose(rsum, R.sum(), rtol=rtol, atol=rtol * np.abs(R).sum())
    assert nf._one_output(p.X, p.Y, w, b0, np.zeros(n, dtype=dtype)) == rsum  # the same loop
    short = p.X[:, : n - 1].copy()  # one feature less: a short row
    acc = np.zeros(n - 1, dtype=dtype)
    rsum = nf._one_output(short, p.Y, w[: n - 1].copy(), b0, acc)
    R = (short.astype(np.float64) @ w[: n - 1] + b0 - p.Y[:, 0]).astype(dtype)
    np.testing.assert_allclose(acc, short.T @ R, rtol=rtol, atol=rtol * np.abs(short.T @ R).max())
    np.testing.assert_allclose(rsum, R.sum(), rtol=rtol, atol=rtol * np.abs(R).sum())


@pytest.mark.parametrize(("n", "k"), [(4, 1), (4, 5), (100, 1), (100, 3)])
def test_float32_sums_stay_accurate_over_many_rows(n, k):
    """Short rows sum in blocks, long ones in pieces of groups spread over each chunk."""
    p = make_problem(200_003, n, k, "float32", seed=k)
    out = nf.gradient(*nf.prepare(*p.args))
    assert max(relative_errors(out, p)) < TOLERANCE[np.dtype(np.float32)] / 100


def test_prepare_picks_the_kernel_by_size(threads, monkeypatch):
    monkeypatch.setattr(_load, "recent_others", lambda: 0.0)  # a quiet machine, whatever runs
    set_threads(numba.config.NUMBA_NUM_THREADS)
    small, medium, large = (nf.SUM_ROWS, 20, 1), (nf.SUM_ROWS + 1, 20, 1), (50_000, 20, 1)
    assert nf.pick_kernel(*small) is nf._few_rows
    assert nf.pick_kernel(*medium) is nf._serial_kernel
    assert nf.pick_kernel(*large) is nf._parallel_kernel
    assert large[0] * large[1] * large[2] >= nf.PARALLEL_MIN_WORK
    assert nf.pick_kernel(nf.SUM_ROWS + 1, 1_000, 1_000) is nf._parallel_kernel  # m·n·k counts
    assert nf.pick_kernel(*large, threads=1) is nf._serial_kernel
    p = make_problem(*small, seed=0)
    assert nf.prepare(*p.args)[-1] is nf._few_rows
    p = make_problem(*large, seed=0)
    expected = nf._parallel_kernel if numba.get_num_threads() > 1 else nf._serial_kernel
    assert nf.prepare(*p.args)[-1] is expected


def test_narrow_x_with_one_output_gets_a_kernel_compiled_for_its_width():
    serial, parallel = nf.narrow_kernels(4)
    assert nf.pick_kernel(nf.SUM_ROWS + 1, 4, 1) is serial
    assert nf.pick_kernel(50_000, 4, 1) is parallel
    assert nf.pick_kernel(50_000, 4, 1, threads=1) is serial
    assert nf.pick_kernel(50_000, 4, 2) is nf._parallel_kernel  # k > 1: the generic kernel
    assert nf.pick_kernel(200_000, 1, 1) is nf._parallel_kernel  # one feature: rows are the vector
    wide = numba_narrow.NARROW_MAX + 1
    assert nf.pick_kernel(50_000, wide, 1) is nf._parallel_kernel
    assert nf.pick_kernel(nf.SUM_ROWS, 4, 1) is nf._few_rows
    with pytest.raises(ValueError, match="narrow kernels are for 2 to"):
        nf.narrow_kernels(wide)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("n", range(2, numba_narrow.NARROW_MAX + 1))
def test_every_narrow_kernel_agrees_with_the_reference(dtype, n):
    m = max(nf.SUM_ROWS, nf.SUM_ENTRIES // n) + 3  # float32: a second block of its sums
    p = make_problem(m, n, 1, dtype, lam=m / 3, seed=n)
    X, Y, W, b, lam, _ = nf.prepare(*p.args)
    for kernel in nf.narrow_kernels(n):
        assert_agrees(nf.gradient(X, Y, W, b, lam, kernel), p)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("n", range(1, 17))
@pytest.mark.parametrize("m", [nf.SUM_ROWS + 1, 12_345])
def test_the_picked_kernel_agrees_at_every_small_width(dtype, n, m):
    p = make_problem(m, n, 1, dtype, lam=1.5, seed=m + n)
    assert_agrees(nf.gradient(*nf.prepare(*p.args)), p)


def test_float32_sums_stay_accurate_in_the_narrow_kernels():
    p = make_problem(300_001, 3, 1, "float32", seed=8)
    out = nf.gradient(*nf.prepare(*p.args))
    assert max(relative_errors(out, p)) < TOLERANCE[np.dtype(np.float32)] / 100


def test_block_rows_blocks_float32_and_not_float64():
    assert _fused_sums.block_rows(10**6, 4, 4) == nf.SUM_ENTRIES // 4
    assert _fused_sums.block_rows(10**6, 100, 4) == nf.SUM_ROWS
    assert _fused_sums.block_rows(10**6, 100, 8) == 10**6  # one block: already float64
    assert _fused_sums.block_rows(0, 100, 8) == 1  # a step range() accepts


@pytest.mark.parametrize(
    ("m", "n"), [(1_000_003, 1), (1_000_003, 3), (200_003, 40)]
)  # one feature, narrow rows (both kernels), long rows: each one block of float64 sums
def test_float64_sums_in_one_block_stay_accurate(m, n):
    p = make_problem(m, n, 1, seed=n)
    X, Y, W, b, lam, _ = nf.prepare(*p.args)
    narrow = nf.narrow_kernels(n)[:1] if n == 3 else ()
    for kernel in (nf._serial_kernel, *narrow):
        out = nf.gradient(X, Y, W, b, lam, kernel)
        assert max(relative_errors(out, p)) < 1e-12  # the tolerance is 1e-8


def test_narrow_parallel_result_does_not_depend_on_the_thread_count(threads):
    p = make_problem(60_001, 5, 1, seed=9)
    args = nf.prepare(*p.args)[:5]
    parallel = nf.narrow_kernels(5)[1]
    set_threads(1)
    one = nf.gradient(*args, parallel)
    set_threads(numba.config.NUMBA_NUM_THREADS)
    for a, b in zip(one, nf.gradient(*args, parallel), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_loaded_machine_gets_the_serial_kernel(monkeypatch, threads):
    set_threads(numba.config.NUMBA_NUM_THREADS)
    monkeypatch.setattr(_load, "recent_others", lambda: float(_load.usable_cores()))
    p = make_problem(50_000, 20, 1, seed=10)
    args = nf.prepare(*p.args)
    assert args[-1] is nf._serial_kernel
    assert_agrees(nf.gradient(*args), p)
    p = make_problem(50_000, 4, 1, seed=10)
    monkeypatch.setattr(nf, "_NARROW_WINS", {})  # where the narrow kernel is the faster:
    monkeypatch.setattr(
        nf,
        "_best_in_turn",
        lambda kernels, *a: [0.0 if k in nf.narrow_kernels(4) else 1.0 for k in kernels],
    )
    assert nf.prepare(*p.args)[-1] is nf.narrow_kernels(4)[0]


def test_a_partly_loaded_machine_gets_fewer_threads(monkeypatch, threads):
    monkeypatch.setattr(_load, "threads_to_use", lambda count: 2)
    for module in (nf, _fused_sums):  # as if numba had three threads, whatever ran before
        monkeypatch.setattr(module, "threads", lambda: 3)
    p = make_problem(50_000, 20, 1, seed=11)
    kernel = nf.prepare(*p.args)[-1]
    assert kernel.__name__.endswith("_on_2")
    before = numba.get_num_threads()
    assert_agrees(nf.gradient(*nf.prepare(*p.args)), p)
    assert numba.get_num_threads() == before  # put back after the call


def test_public_functions_agree_without_a_picked_kernel():
    p = make_problem(3_001, 7, 3, seed=1)
    for fn in (nf.gradient, nf.serial_gradient, nf.parallel_gradient, nf.ridge_gradient):
        assert_agrees(fn(*p.args), p)


def test_parallel_result_does_not_depend_on_the_thread_count(threads):
    p = make_problem(40_000, 9, 3, seed=2)
    args = nf.prepare(*p.args)[:5]
    set_threads(1)
    one = nf.parallel_gradient(*args)
    set_threads(numba.config.NUMBA_NUM_THREADS)
    first, again = nf.parallel_gradient(*args), nf.parallel_gradient(*args)
    for a, b, c in zip(one, first, again, strict=True):
        np.testing.assert_array_equal(a, b)  # bit for bit: the chunks depend on m only
        np.testing.assert_array_equal(b, c)


def test_chunks_are_a_power_of_two_set_by_the_shape_alone():
    assert nf.chunk_count(10**9, 10**12) == nf.MAX_CHUNKS
    assert nf.chunk_count(10**6, 10**6 - 1) == 16  # at least CHUNK_WORK each
    assert nf.chunk_count(100, 10**9) == 8  # at least eight rows each
    assert nf.chunk_count(10**6, 2 * nf.CHUNK_WORK - 1) == 1
    assert nf.chunk_count(10**6, 2 * nf.CHUNK_WORK) == 2
    m, n = 50_001, 7  # each chunk's residual sum, against numpy's
    p = make_problem(m, n, 1, seed=3)
    X, Y, W, b, lam, _ = nf.prepare(*p.args)
    chunks = nf.chunk_count(m, m * n)
    assert chunks == 8
    totals, totals_b = np.zeros((chunks, 1, n)), np.zeros((chunks, 1))
    nf._chunks_parallel(X, Y, np.ascontiguousarray(W.T), b, totals, totals_b)
    starts = [m * t // chunks for t in range(chunks + 1)]
    residual = X @ W + b - Y  # (m, 1)
    expected = [residual[starts[t] : starts[t + 1]].sum() for t in range(chunks)]
    np.testing.assert_allclose(totals_b[:, 0], expected, rtol=1e-10)


@pytest.mark.parametrize("kernel", KERNELS)
def test_inputs_are_unchanged_and_outputs_are_fresh(kernel):
    p = make_problem(700, 6, 2, seed=4)
    saved = [a.copy() for a in p.args[:4]]
    X, Y, W, b, lam, _ = nf.prepare(*p.args)
    dW, db = nf.gradient(X, Y, W, b, lam, KERNELS[kernel])
    for a, s in zip(p.args[:4], saved, strict=True):
        np.testing.assert_array_equal(a, s)
    assert not np.shares_memory(dW, W) and not np.shares_memory(db, b)
    assert dW.flags.c_contiguous and db.flags.c_contiguous


def test_prepare_makes_the_arrays_c_contiguous():
    p = make_problem(50, 4, 3, seed=5)
    X = np.asfortranarray(p.X)
    W = np.asfortranarray(p.W)
    args = nf.prepare(X, p.Y, W, p.b, p.lam)
    assert all(a.flags.c_contiguous for a in args[:4])
    assert_agrees(nf.gradient(*args), p)


@pytest.mark.parametrize(("n", "k"), [(1, 1), (6, 2)])
def test_gradient_without_prepare_accepts_strided_arrays(n, k):
    p = make_problem(1_500, n, k, seed=6)
    X, Y = np.hstack([p.X, p.X])[:, :n], np.hstack([p.Y, p.Y])[:, :k]  # strided views
    assert not X.flags.c_contiguous and not Y.flags.c_contiguous
    assert_agrees(nf.gradient(X, Y, p.W, p.b, p.lam), p)


def test_prepare_compiles_for_the_dtype_at_hand():
    for dtype in (np.float64, np.float32):
        nf.prepare(*make_problem(5, 2, dtype=dtype, seed=0).args)
        for kernel in (nf._few_rows, nf._serial_kernel, nf._parallel_kernel):
            signatures = getattr(kernel, "signatures", None)
            if signatures:  # absent when NUMBA_DISABLE_JIT=1 turns the kernels into Python
                assert any(str(sig[0].dtype) == np.dtype(dtype).name for sig in signatures)


@pytest.mark.parametrize(("narrow_s", "expected"), [(1.0, "generic"), (0.1, "narrow")])
def test_narrow_x_gets_the_narrow_kernel_only_where_it_is_faster_here(
    monkeypatch, narrow_s, expected
):
    serial, parallel = nf.narrow_kernels(6)
    timed = {parallel: narrow_s, nf._parallel_kernel: 0.5}
    monkeypatch.setattr(nf, "_best_in_turn", lambda kernels, *args: [timed[k] for k in kernels])
    monkeypatch.setattr(nf, "_NARROW_WINS", {})
    p = make_problem(60_000, 6, 1, seed=3)
    X, Y, W, b, lam = p.args
    chosen = nf.faster_here(parallel, 1, X, Y, W, b, lam)
    assert chosen is (parallel if expected == "narrow" else nf._parallel_kernel)
    timed[parallel] = 1.0 - narrow_s + 0.05  # the other way round now: the first choice holds
    assert nf.faster_here(parallel, 1, X, Y, W, b, lam) is chosen
    assert_agrees(nf.gradient(X, Y, W, b, lam, chosen), p)


def test_the_narrow_and_generic_kernels_are_timed_in_turn(monkeypatch):
    calls = []
    monkeypatch.setattr(nf, "gradient", lambda *args: calls.append(args[-1]))
    best = nf._best_in_turn(("narrow", "generic"), *make_problem(300, 6, 1, seed=3).args)
    assert calls == ["narrow", "generic"] * nf.CHOOSE_CALLS  # a busy moment hits both
    assert len(best) == 2 and all(t >= 0 for t in best)
