"""numba-fused's kernels for narrow X: compiled for one n, the rows as vector lanes."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numba
import pytest

from gradrace import _jit
from gradrace.implementations import numba_fused as nf
from gradrace.implementations import numba_narrow

#: Compiles the narrow kernels for 4 and 10 features afresh and prints, for each, whether
#: LLVM vectorized the loop over a block's rows and whether it used a gather instruction.
CODE = (
    "from gradrace import make_problem\n"
    "from gradrace.implementations import numba_fused as nf\n"
    "for n in (4, 10):\n"
    "    serial, _ = nf.narrow_kernels(n)\n"
    "    nf.gradient(*make_problem(1000, n, 1, seed=0).args, serial)\n"
    "    chunk = serial.py_func.__globals__['chunk']\n"
    "    ir = chunk.inspect_llvm(chunk.signatures[0])\n"
    "    asm = chunk.inspect_asm(chunk.signatures[0])\n"
    "    print(n, 'vector.body' in ir, 'gather' in asm)\n"
)


def _compiled(tmp_path) -> list[str]:
    environ = {k: v for k, v in os.environ.items() if k != "NUMBA_CPU_FEATURES"}
    environ.pop(_jit.VECTORS_VARIABLE, None)
    environ["NUMBA_CACHE_DIR"] = str(tmp_path)  # compile afresh: cached code has no assembly
    done = subprocess.run(
        [sys.executable, "-c", CODE], env=environ, capture_output=True, text=True, check=True
    )
    return done.stdout.splitlines()


@pytest.mark.skipif(numba.config.DISABLE_JIT, reason="no machine code without the JIT")
@pytest.mark.skipif(
    _jit.NO_GATHER not in _jit._tuning(_jit._host_features()),
    reason="the processor has no gather instructions (AVX2) to turn off",
)
def test_the_rows_are_the_vector_lanes_loaded_without_gathers(tmp_path):
    # n = 4 fits LLVM's interleaved loads; n = 10 is past the widest (8), where LLVM would
    # gather each feature of a vector of rows: gathers made these kernels several times
    # slower (docs/performance.md)
    assert _compiled(tmp_path) == ["4 True False", "10 True False"]


def test_the_loop_over_a_blocks_rows_starts_at_zero():
    # from 0, LLVM proves the indexes non-negative (numba wraps negative ones) and loads
    # consecutive entries as vectors; from the block's start in X the loop ran several
    # times slower, vectorized still (docs/performance.md)
    text = numba_narrow.source(3)
    assert "xs, ys = x[s * 3 : e * 3], y[s:e]" in text
    assert "        for i in range(e - s):" in text
    assert "x0 = xs[p + 0]" in text


def test_the_kernels_names_carry_the_files_they_call_into():
    # numba's cache checks the caller's own file only; numba-fused's block_rows, _finish and
    # chunk_count live in _fused_sums.py, so its digest is in the name the cache keys on
    from gradrace.implementations import _fused_sums

    digest = hashlib.sha256(Path(_fused_sums.__file__).read_bytes()).hexdigest()[:10]
    serial, parallel = nf.narrow_kernels(4)
    for kernel in (serial, parallel):
        assert getattr(kernel, "py_func", kernel).__qualname__.startswith(f"narrow_4_{digest}_")
