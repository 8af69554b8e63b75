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


def test_blocks_hold_block_entries_and_at_least_one_row():
    assert numpy_blocked.block_rows(64) == numpy_blocked.BLOCK_ENTRIES // 64
    assert numpy_blocked.block_rows(numpy_blocked.BLOCK_ENTRIES * 3) == 1
    assert numpy_blocked.BLOCK_ENTRIES >= 460_800  # OpenBLAS's gemv uses every thread


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    ("m", "n", "k", "block_entries"),
    [
        (103, 5, 1, 50),  # 10-row blocks and a last block of 3 rows
        (100, 5, 3, 50),  # m a multiple of the block rows
        (7, 5, 2, 10**6),  # one block holds everything
        (9, 40, 4, 30),  # blocks of a single row (the entries are fewer than n)
    ],
)
def test_agrees_across_block_boundaries(monkeypatch, dtype, m, n, k, block_entries):
    monkeypatch.setattr(numpy_blocked, "BLOCK_ENTRIES", block_entries)
    p = make_problem(m, n, k, dtype, lam=m / 4, seed=m + k)
    assert_agrees(numpy_blocked.gradient(*p.args), p)


def test_inputs_are_unchanged(monkeypatch):
    monkeypatch.setattr(numpy_blocked, "BLOCK_ENTRIES", 64)
    p = make_problem(50, 8, 3, seed=1)
    saved = [a.copy() for a in p.args[:4]]
    dW, db = numpy_blocked.gradient(*p.args)
    for a, s in zip(p.args[:4], saved, strict=True):
        np.testing.assert_array_equal(a, s)
    assert not np.shares_memory(dW, p.W) and not np.shares_memory(db, p.b)


def test_non_contiguous_inputs(monkeypatch):
    monkeypatch.setattr(numpy_blocked, "BLOCK_ENTRIES", 40)
    p = make_problem(33, 6, 2, seed=2)
    X, W = np.asfortranarray(p.X), np.asfortranarray(p.W)
    assert_agrees(numpy_blocked.gradient(X, p.Y, W, p.b, p.lam), p)
