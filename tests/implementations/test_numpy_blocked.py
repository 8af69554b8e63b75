"""numpy-blocked: the block arithmetic, whatever the block size."""

import numpy as np
import pytest

from gradrace import TOLERANCE, make_problem, reference_gradient
from gradrace.implementations import numpy_blocked


def assert_agrees(out, problem):
    ref_dW, ref_db = reference_gradient(*problem.args)
    dW, db = out
    assert dW.shape == problem.W.shape and db.shape == problem.b.shape
    assert dW.dtype == problem.dtype and db.dtype == problem.dtype
    err = max(
        np.linalg.norm(dW - ref_dW) / np.linalg.norm(ref_dW),
        np.linalg.norm(db - ref_db) / np.linalg.norm(ref_db),
    )
    assert err < TOLERANCE[problem.dtype]


def test_blocks_hold_block_bytes_and_at_least_one_row():
    assert numpy_blocked.block_rows(64) == numpy_blocked.BLOCK_BYTES // (64 * 8)
    assert numpy_blocked.block_rows(64, 4) == numpy_blocked.BLOCK_BYTES // (64 * 4)
    assert numpy_blocked.block_rows(numpy_blocked.BLOCK_BYTES) == 1


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    ("m", "n", "k", "block_bytes"),
    [
        (103, 5, 1, 50),  # 10-row blocks and a last block of 3 rows
        (100, 5, 3, 50),  # m a multiple of the block rows
        (7, 5, 2, 10**6),  # one block holds everything
        (9, 40, 4, 30),  # blocks of a single row (the entries are fewer than n)
    ],
)
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_agrees_across_block_boundaries(monkeypatch, dtype, m, n, k, block_bytes, threads):
    monkeypatch.setattr(numpy_blocked, "BLOCK_BYTES", block_bytes * np.dtype(dtype).itemsize)
    p = make_problem(m, n, k, dtype, lam=m / 4, seed=m + k)
    assert_agrees(numpy_blocked.gradient(*p.args, threads=threads), p)


def test_inputs_are_unchanged(monkeypatch):
    monkeypatch.setattr(numpy_blocked, "BLOCK_BYTES", 64 * 8)
    p = make_problem(50, 8, 3, seed=1)
    saved = [a.copy() for a in p.args[:4]]
    dW, db = numpy_blocked.gradient(*p.args, threads=2)
    for a, s in zip(p.args[:4], saved, strict=True):
        np.testing.assert_array_equal(a, s)
    assert not np.shares_memory(dW, p.W) and not np.shares_memory(db, p.b)


def test_non_contiguous_inputs(monkeypatch):
    monkeypatch.setattr(numpy_blocked, "BLOCK_BYTES", 40 * 8)
    p = make_problem(33, 6, 2, seed=2)
    X, W = np.asfortranarray(p.X), np.asfortranarray(p.W)
    assert_agrees(numpy_blocked.gradient(X, p.Y, W, p.b, p.lam, threads=2), p)


def test_threads_share_the_blocks_and_repeat_bit_for_bit(monkeypatch):
    monkeypatch.setattr(numpy_blocked, "BLOCK_BYTES", 10 * 6 * 8)  # 10-row blocks: 21 of them
    p = make_problem(203, 6, 2, seed=3)
    calls = []
    monkeypatch.setattr(numpy_blocked, "_blocks", _recording(numpy_blocked._blocks, calls))
    first = numpy_blocked.gradient(*p.args, threads=3)
    assert sorted(calls) == [
        list(range(0, 203, 30)),  # this thread: blocks 0, 3, 6, …
        list(range(10, 203, 30)),
        list(range(20, 203, 30)),
    ]
    assert_agrees(first, p)
    for _ in range(3):
        again = numpy_blocked.gradient(*p.args, threads=3)
        for a, b in zip(first, again, strict=True):
            np.testing.assert_array_equal(a, b)


def test_few_blocks_stay_on_the_calling_thread(monkeypatch):
    monkeypatch.setattr(numpy_blocked, "BLOCK_BYTES", 10 * 6 * 8)
    p = make_problem(50, 6, 2, seed=4)  # 5 blocks: fewer than two per thread for 3 threads
    calls = []
    monkeypatch.setattr(numpy_blocked, "_blocks", _recording(numpy_blocked._blocks, calls))
    numpy_blocked.gradient(*p.args, threads=3)
    assert calls == [list(range(0, 50, 10))]


def test_prepare_takes_the_blas_thread_count_up_to_max_threads(monkeypatch):
    p = make_problem(20, 3, 1, seed=5)
    for blas, expected in ((1, 1), (2, 2), (8, numpy_blocked.MAX_THREADS)):
        monkeypatch.setattr(numpy_blocked, "blas_threads", lambda blas=blas: blas)
        args = numpy_blocked.prepare(*p.args)
        assert args[:5] == p.args and args[-1] == expected


@pytest.mark.parametrize(("others", "expected"), [(0.0, 2), (1.0, 1), (6.0, 1)])
def test_prepare_takes_no_more_threads_than_the_cores_left_free(monkeypatch, others, expected):
    from gradrace import _load

    monkeypatch.setattr(numpy_blocked, "BLOCK_BYTES", 240)  # 10 rows of 3 float64 per block
    monkeypatch.setattr(numpy_blocked, "blas_threads", lambda: 2)
    monkeypatch.setattr(_load, "usable_cores", lambda: 2)
    monkeypatch.setattr(_load, "recent_others", lambda: others)
    p = make_problem(200, 3, 1, seed=5)
    args = numpy_blocked.prepare(*p.args)
    assert args[-1] == expected
    assert_agrees(numpy_blocked.gradient(*args), p)


def test_blas_threads_follows_the_limit_the_harness_sets():
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        assert numpy_blocked.blas_threads() == 1


def test_blas_is_held_to_one_thread_while_the_python_threads_run(monkeypatch):
    from threadpoolctl import threadpool_info, threadpool_limits

    numpys = {lib.filepath for lib in numpy_blocked._blas().lib_controllers}  # not torch's, say
    assert numpys  # numpy's own BLAS is among them

    def blas_counts():
        return [i["num_threads"] for i in threadpool_info() if i["filepath"] in numpys]

    monkeypatch.setattr(numpy_blocked, "BLOCK_BYTES", 10 * 6 * 8)
    p = make_problem(203, 6, 4, seed=6)
    original, seen = numpy_blocked._blocks, []

    def blocks(*args):
        seen.append(blas_counts())
        return original(*args)

    monkeypatch.setattr(numpy_blocked, "_blocks", blocks)
    with threadpool_limits(limits=2, user_api="blas"):
        before = blas_counts()
        assert before and 1 not in before  # so that holding them to one thread shows
        assert_agrees(numpy_blocked.gradient(*p.args, threads=2), p)
        assert blas_counts() == before  # restored once the threads are done
    assert len(seen) == 2 and all(counts and set(counts) == {1} for counts in seen)


def _recording(blocks, calls):
    def record(X, Y, W, b, starts, rows):
        calls.append(list(starts))
        return blocks(X, Y, W, b, starts, rows)

    return record
