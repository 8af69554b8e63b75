"""numba-fused's kernels for narrow X: compiled for one n, the rows as vector lanes."""

from __future__ import annotations

import os
import subprocess
import sys

import numba
import pytest

from gradrace import _jit
from gradrace.implementations import numba_narrow

ASM = (
    "from gradrace import make_problem\n"
    "from gradrace.implementations import numba_fused as nf\n"
    "serial, _ = nf.narrow_kernels(10)\n"
    "nf.gradient(*make_problem(1000, 10, 1, seed=0).args, serial)\n"
    "print('gather' in serial.inspect_asm(serial.signatures[0]))\n"
)


@pytest.mark.skipif(numba.config.DISABLE_JIT, reason="no machine code without the JIT")
@pytest.mark.skipif(not _jit._tuning(), reason="this LLVM has no prefer-no-gather")
def test_the_kernel_for_ten_features_loads_its_rows_without_gathers(tmp_path):
    # n = 10 is past LLVM's widest interleaved load, where it would gather each feature
    # of eight rows; gathers made these kernels several times slower (docs/performance.md)
    environ = {k: v for k, v in os.environ.items() if k != "NUMBA_CPU_FEATURES"}
    environ.pop(_jit.VECTORS_VARIABLE, None)
    environ["NUMBA_CACHE_DIR"] = str(tmp_path)  # compile afresh: cached code has no assembly
    done = subprocess.run(
        [sys.executable, "-c", ASM], env=environ, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"


def test_the_source_loops_over_a_block_from_zero():
    # a loop with a start or a step kept LLVM from vectorizing over the rows
    text = numba_narrow.source(3, 256, 8192)
    assert "        for i in range(e - s):" in text
    assert "x0 = xs[p + 0]" in text and "a2 += r * x2" in text


def test_only_narrow_widths_get_a_kernel():
    with pytest.raises(ValueError, match="2 to 12 features"):
        numba_narrow.kernels(13, 256, 8192, None, None)
