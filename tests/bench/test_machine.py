"""The machine a run measures on: its caches, and the read of X that is every gradient's floor."""

import numpy as np

from gradrace.bench.machine import PARALLEL_READ_BYTES, cache_sizes, read_once


def test_read_once_reads_all_of_x_on_one_or_every_thread():
    small = np.arange(12.0).reshape(4, 3)
    assert read_once(small, threads=2)() == small.sum()  # small: one thread
    rows = PARALLEL_READ_BYTES // (8 * 16) + 5
    large = np.ones((rows, 16))
    assert read_once(large, threads=2)() == large.size
    assert read_once(np.asfortranarray(large[:, :3]), threads=1)() == 3 * rows
    Y = np.ones((rows, 1))
    assert read_once(large, threads=2, Y=Y)() == large.size + rows  # X and Y


def test_cache_sizes_read_from_sysfs(tmp_path):
    for index, (level, kind, size) in enumerate(
        [
            ("1", "Data", "48K"),
            ("1", "Instruction", "32K"),
            ("2", "Unified", "1024K"),
            ("3", "Unified", "32M"),
        ]
    ):
        folder = tmp_path / f"index{index}"
        folder.mkdir()
        for name, text in (("level", level), ("type", kind), ("size", size)):
            (folder / name).write_text(text + "\n")
    assert cache_sizes(str(tmp_path)) == {"L1": 48 * 2**10, "L2": 2**20, "L3": 32 * 2**20}
    assert cache_sizes(str(tmp_path / "missing")) == {}


def test_compute_probe_multiplies_a_fixed_matrix_in_the_dtype_asked():
    from gradrace.bench.machine import COMPUTE_PROBE_SIZE, compute_probe

    call, flops = compute_probe(np.float32)
    out = call()
    assert out.dtype == np.float32 and out.shape == (COMPUTE_PROBE_SIZE,) * 2
    assert flops == 2 * COMPUTE_PROBE_SIZE**3


def test_the_read_floor_takes_one_thread_on_a_loaded_machine(monkeypatch):
    from gradrace import _load
    from gradrace.bench import machine

    calls = []
    monkeypatch.setattr(
        machine, "_parallel_pair_sum", lambda a, b, chunks: calls.append(chunks) or 0.0
    )
    large = np.ones((PARALLEL_READ_BYTES // 8, 2))
    monkeypatch.setattr(_load, "recent_others", lambda: 8.0)
    assert read_once(large, threads=2)() == large.size  # the serial sum, not the parallel one
    assert calls == []
    monkeypatch.setattr(_load, "recent_others", lambda: 0.0)
    monkeypatch.setattr(_load, "usable_cores", lambda: 2)
    read_once(large, threads=2)()
    assert calls[-1] == 2


def test_the_compute_probe_takes_fewer_blas_threads_on_a_loaded_machine(monkeypatch):
    from threadpoolctl import threadpool_info, threadpool_limits

    from gradrace import _load
    from gradrace.bench.machine import compute_probe

    seen = []
    monkeypatch.setattr(_load, "usable_cores", lambda: 2)
    with threadpool_limits(limits=2, user_api="blas"):
        monkeypatch.setattr(_load, "recent_others", lambda: 1.0)
        call, flops = compute_probe("float64")
        monkeypatch.setattr(
            np, "matmul", lambda *a, **k: seen.append(_blas_threads(threadpool_info()))
        )
        call()
        assert flops == 2.0 * 384**3
        if _blas_threads(threadpool_info()) == 2:  # a BLAS that honours the limit
            assert seen == [1]


def _blas_threads(info) -> int:
    return min((i["num_threads"] for i in info if i.get("user_api") == "blas"), default=1)


def test_the_command_is_recorded_as_typed_also_under_python_m(monkeypatch):
    from gradrace.bench.machine import command_line

    monkeypatch.setattr("sys.argv", ["/venv/lib/gradrace/__main__.py", "run", "--quick"])
    assert command_line() == "python -m gradrace run --quick"
    monkeypatch.setattr("sys.argv", ["/venv/bin/gradrace", "run", "--out", "my run"])
    assert command_line() == "gradrace run --out 'my run'"
