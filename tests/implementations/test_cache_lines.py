"""Windows on whole cache lines: numba-fused's loop over long rows, wherever X lies."""

import numpy as np
import pytest

from gradrace.implementations import _cache_lines
from gradrace.implementations import numba_fused as nf


def placed(m, n, dtype, offset, fill=np.nan):
    """X (m, n) of random entries starting ``offset`` bytes past a line, inside a buffer
    whose other entries are ``fill``: a load outside X (a NaN times a zero weight) would
    make the sums NaN."""
    itemsize = np.dtype(dtype).itemsize
    buffer = np.full(m * n + 3 * 64 // itemsize, fill, dtype=dtype)
    start = (-buffer.ctypes.data % 64 + offset) % 64 // itemsize + 64 // itemsize
    X = buffer[start : start + m * n].reshape(m, n)
    X[:] = np.random.default_rng(m * n + offset).random((m, n))
    assert X.ctypes.data % 64 == offset
    return X


@pytest.mark.parametrize("n", [40, 41, 44, 64, 100, 101, 300, 511, 512, 1000, 1001])
@pytest.mark.parametrize("m", [1, 2, 3, 6, 10, 11, 37, 259])
@pytest.mark.parametrize("offset", [0, 8, 16, 56])
def test_the_long_rows_loops_sum_every_row_once_and_read_nothing_outside_x(n, m, offset):
    X = placed(m, n, np.float64, offset)
    rng = np.random.default_rng(n)
    Y, w, b0 = rng.random((m, 1)), rng.random(n), 0.3
    acc = np.zeros(n)
    rsum = nf._one_output(X, Y, w, b0, acc)  # pipelined or, from 512 features, not
    R = X @ w + b0 - Y[:, 0]  # (m,)
    np.testing.assert_allclose(acc, X.T @ R, rtol=1e-12, atol=1e-12 * np.abs(X.T @ R).max())
    np.testing.assert_allclose(rsum, R.sum(), rtol=1e-12, atol=1e-12 * np.abs(R).sum())


@pytest.mark.parametrize("offset", [0, 16])
def test_the_kernels_agree_with_the_reference_wherever_x_lies(offset):
    X = placed(3_001, 100, np.float64, offset)
    rng = np.random.default_rng(offset)
    Y, W, b = rng.random((3_001, 1)), rng.random((100, 1)), rng.random(1)
    expected = (X.T @ (X @ W + b - Y) + 2.0 * W) / 3_001
    for kernel in (nf._serial_kernel, nf._parallel_kernel):
        dW, _ = nf.gradient(X, Y, W, b, 2.0, kernel)
        np.testing.assert_allclose(dW, expected, rtol=1e-12)


@pytest.mark.parametrize(
    ("n", "per_line", "classes"),
    [(64, 8, 1), (100, 8, 2), (44, 8, 2), (42, 8, 4), (41, 8, 8), (100, 16, 4)],
)
def test_rows_fall_into_as_many_classes_as_their_starts_take_places_in_a_line(n, per_line, classes):
    assert _cache_lines.row_classes(n, per_line) == classes
    starts = {(i * n) % per_line for i in range(64)}
    assert len(starts) == classes


@pytest.mark.parametrize("offset", [0, 24, 40])
def test_each_class_gets_the_weights_at_its_own_offset_on_a_line(offset):
    n, classes = 100, 2
    X = placed(9, n, np.float64, offset, fill=0.0)
    w = np.arange(1.0, n + 1)
    wc, offsets, length = _cache_lines.windows(X, w.reshape(1, n), 1, classes)
    assert wc.shape == (classes, length) and length % 8 == 0
    for c in range(classes):
        assert wc[c].ctypes.data % 64 == 0
        row = X[1 + c]
        assert (row.ctypes.data - offsets[c] * 8) % 64 == 0  # the window starts on a line
        np.testing.assert_array_equal(wc[c, offsets[c] : offsets[c] + n], w)
        assert not wc[c, : offsets[c]].any() and not wc[c, offsets[c] + n :].any()
        assert offsets[c] + n <= length


def test_each_class_s_partial_sums_are_added_back_from_its_window():
    acc = np.ones((1, 3))
    accs = np.arange(16.0).reshape(2, 8)
    _cache_lines.add_back(acc, accs, np.array([1, 4]))
    np.testing.assert_array_equal(acc, 1 + np.array([[1 + 12, 2 + 13, 3 + 14]]))


def test_with_several_outputs_each_class_holds_every_column_of_w_in_turn():
    n, k, classes = 100, 3, 2
    X = placed(9, n, np.float64, 16, fill=0.0)
    Wt = np.arange(1.0, k * n + 1).reshape(k, n)
    Wc, offsets, length = _cache_lines.windows(X, Wt, 1, classes)
    assert Wc.shape == (classes * k, length)
    for c in range(classes):
        for col in range(k):
            np.testing.assert_array_equal(Wc[c * k + col, offsets[c] : offsets[c] + n], Wt[col])
    acc = np.zeros((k, n))
    _cache_lines.add_back(acc, Wc, offsets)
    np.testing.assert_array_equal(acc, classes * Wt)


@pytest.mark.parametrize("n", [40, 41, 80, 100, 1000])
@pytest.mark.parametrize("k", [2, 10])
@pytest.mark.parametrize("m", [1, 9, 10, 19, 37, 131])
@pytest.mark.parametrize("offset", [0, 16, 56])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_many_outputs_loop_sums_every_row_once_and_reads_nothing_outside_x(
    n, k, m, offset, dtype
):
    X = placed(m, n, dtype, offset)
    rng = np.random.default_rng(n + k)
    Y, Wt = rng.random((m, k)).astype(dtype), rng.random((k, n)).astype(dtype)
    b = rng.random(k).astype(dtype)
    acc, rsum = np.zeros((k, n), dtype), np.zeros(k, dtype)
    nf._many_outputs(X, Y, Wt, b, acc, rsum)
    X64 = X.astype(np.float64)
    R = X64 @ Wt.T + b - Y  # (m, k)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(acc, R.T @ X64, rtol=tol, atol=tol * np.abs(R.T @ X64).max())
    np.testing.assert_allclose(rsum, R.sum(axis=0), rtol=tol, atol=tol * np.abs(R).sum())


@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize(("n", "dtype"), [(41, "f8"), (100, "f8"), (600, "f8"), (100, "f4")])
@pytest.mark.parametrize("offset", [8, 40])
def test_every_kernel_among_nans_agrees_with_the_reference(k, n, dtype, offset):
    X = placed(2_051, n, dtype, offset)
    rng = np.random.default_rng(k * n)
    Y, W, b = (rng.random(shape).astype(dtype) for shape in ((2_051, k), (n, k), (k,)))
    X64 = X.astype(np.float64)
    expected_dW = (X64.T @ (X64 @ W + b - Y) + 2.0 * W) / 2_051
    expected_db = (X64 @ W + b - Y).mean(axis=0)
    rtol = 1e-11 if dtype == "f8" else 1e-5
    for kernel in (nf._serial_kernel, nf._parallel_kernel):
        dW, db = nf.gradient(X, Y, W, b, 2.0, kernel)
        np.testing.assert_allclose(dW, expected_dW, rtol=rtol)
        np.testing.assert_allclose(db, expected_db, rtol=rtol)


@pytest.mark.parametrize(("dtype", "n", "rtol"), [(np.float64, 64, 1e-12), (np.float32, 100, 1e-5)])
def test_x_off_a_boundary_of_its_entries_is_read_as_it_lies(dtype, n, rtol):
    m, size = 203, np.dtype(dtype).itemsize
    raw = np.zeros(size * m * n + 2 * size, dtype=np.uint8)
    start = (size // 2 - raw.ctypes.data) % size
    X = raw[start : start + size * m * n].view(dtype).reshape(m, n)
    X[:] = np.random.default_rng(0).random((m, n))
    assert X.ctypes.data % size == size // 2 and np.isfinite(X).all()
    assert nf._window_classes(X, 1) == 0
    Y = np.random.default_rng(1).random((m, 1)).astype(dtype)
    w = np.random.default_rng(2).random(n).astype(dtype)
    acc = np.zeros(n, dtype)
    rsum = nf._one_output(X, Y, w, dtype(0.3), acc)
    X64 = X.astype(np.float64)
    R = X64 @ w + dtype(0.3) - Y[:, 0]
    np.testing.assert_allclose(acc, X64.T @ R, rtol=rtol)
    np.testing.assert_allclose(rsum, R.sum(), rtol=rtol)


def test_windows_are_taken_only_where_they_pay():
    X64, X32 = placed(20, 1001, np.float64, 16), placed(20, 1001, np.float32, 16)
    assert nf._window_classes(X64, 1) == 8  # 8 classes, copies of 130 KB
    assert nf._window_classes(X64, 3) == 0  # 390 KB: more than WINDOW_BYTES
    assert nf._window_classes(X32, 1) == 16  # 16 classes of float32, 132 KB
    assert nf._window_classes(X32, 2) == 0  # float32 with k > 1: read as it lies
    assert nf._window_classes(placed(20, 100, np.float32, 16), 3) == 0
    assert nf._window_classes(placed(20, 39, np.float64, 16), 1) == 0  # short rows
    assert nf._window_classes(placed(20, 79, np.float32, 16), 1) == 0
    assert nf._window_classes(placed(20, 100, np.float64, 16), 10) == 2


@pytest.mark.parametrize("n", [80, 81, 96, 100, 101, 1000, 1001, 1024])
@pytest.mark.parametrize("m", [1, 2, 3, 6, 37, 259, 1030])
@pytest.mark.parametrize("offset", [0, 4, 16, 60])
def test_float32_long_rows_are_read_over_lines_too_and_nothing_outside_x(n, m, offset):
    X = placed(m, n, np.float32, offset)
    rng = np.random.default_rng(n)
    Y, w, b0 = rng.random((m, 1), np.float32), rng.random(n, np.float32), np.float32(0.3)
    acc = np.zeros(n, np.float32)
    rsum = nf._one_output(X, Y, w, b0, acc)
    X64 = X.astype(np.float64)
    R = X64 @ w + b0 - Y[:, 0]  # (m,)
    expected = X64.T @ R
    np.testing.assert_allclose(acc, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())
    np.testing.assert_allclose(rsum, R.sum(), rtol=1e-5, atol=1e-5 * np.abs(R).sum())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("piece", [1, 2, 3, 8, 1000])
@pytest.mark.parametrize("pipelined", [True, False])
def test_long_rows_in_pieces_add_every_row_into_the_float64_totals_once(dtype, piece, pipelined):
    m, n = 301, 100
    X = placed(m, n, dtype, 16)
    rng = np.random.default_rng(piece)
    Y, w, b0 = rng.random((m, 1)).astype(dtype), rng.random(n).astype(dtype), dtype(0.3)
    lines = nf._lines(X, w.reshape(1, n))
    assert lines[2].shape[0] == (2 if dtype == np.float64 else 4)
    total = np.zeros(n)
    rsum = nf._long_rows(X, Y, w, b0, total, pipelined, lines, piece)
    X64 = X.astype(np.float64)
    R = X64 @ w + b0 - Y[:, 0]  # (m,)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(total, X64.T @ R, rtol=rtol)
    np.testing.assert_allclose(rsum, R.sum(), rtol=rtol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("piece", [1, 3, 1000])
def test_many_outputs_in_pieces_add_every_row_into_the_float64_totals_once(dtype, piece):
    m, n, k = 301, 100, 3
    X = placed(m, n, dtype, 48)
    rng = np.random.default_rng(piece)
    Y, Wt = rng.random((m, k)).astype(dtype), rng.random((k, n)).astype(dtype)
    b = rng.random(k).astype(dtype)
    lines = nf._lines(X, Wt)
    assert lines[2].shape[0] == (2 if dtype == np.float64 else 0)  # float32: as it lies
    total, total_b = np.zeros((k, n)), np.zeros(k)
    nf._many_long(X, Y, Wt, b, total, total_b, lines, piece)
    X64 = X.astype(np.float64)
    R = X64 @ Wt.T + b - Y  # (m, k)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(total, R.T @ X64, rtol=rtol)
    np.testing.assert_allclose(total_b, R.sum(axis=0), rtol=rtol)
