"""The dask implementation on a real dask.distributed cluster.

A ``distributed.LocalCluster`` with two worker processes (one thread each) runs on this
machine; ``GRADRACE_DASK_SCHEDULER`` points the implementation at its scheduler, as
``gradrace run --dask-scheduler ADDRESS`` does for a cluster elsewhere. The tests check
agreement with the reference, that the partial gradients really ran on the cluster's
workers, and that the variable reaches the measuring worker process of ``gradrace check``.
"""

import importlib.util

import pytest

from gradrace import make_problem, reference_gradient, run_check
from gradrace.bench.check import all_agree, format_check
from gradrace.bench.grids import CHECK_CASES
from gradrace.cli import main

if importlib.util.find_spec("distributed") is None:
    pytest.skip('needs dask.distributed: pip install "gradrace[dask]"', allow_module_level=True)

from distributed import LocalCluster, get_task_stream

from gradrace.implementations import dask_chunks

SCHEDULER_ENV = dask_chunks.SCHEDULER_ENV


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as local:
        yield local
        dask_chunks.close_clients()


@pytest.fixture
def on_cluster(cluster, monkeypatch):
    monkeypatch.setenv(SCHEDULER_ENV, cluster.scheduler_address)
    monkeypatch.delenv(dask_chunks.CHUNK_ROWS_ENV, raising=False)
    return cluster


def test_agrees_with_the_reference_on_the_cluster(on_cluster):
    results = run_check([dask_chunks.IMPLEMENTATION], CHECK_CASES)
    assert all_agree(results), format_check(results)


def test_the_partial_gradients_run_on_the_clusters_workers(on_cluster):
    p = make_problem(200, 6, 2, lam=3.0, seed=8)
    chunks, W, b, lam = dask_chunks.IMPLEMENTATION.prepare_args(*p.args)
    assert len(chunks.pairs) == 2  # one chunk per worker thread
    assert chunks.scheduler.scheduler.address == on_cluster.scheduler_address
    with get_task_stream(chunks.scheduler) as stream:
        dW, db = dask_chunks.gradient(chunks, W, b, lam)
    ref_dW, ref_db = reference_gradient(*p.args)
    assert abs(dW - ref_dW).max() < 1e-12 and abs(db - ref_db).max() < 1e-12
    ran = _tasks(stream)
    assert len(ran["_partial"]) == 2 and len(ran["_combine"]) == 1
    workers = set(chunks.scheduler.scheduler_info()["workers"])
    assert len(workers) == 2 and set(ran["_partial"]) <= workers


def _tasks(stream) -> dict[str, list[str]]:
    """Task-name prefix -> the workers that ran such tasks, from a task stream."""
    ran: dict[str, list[str]] = {}
    for task in stream.data:
        key = task["key"] if isinstance(task["key"], str) else task["key"][0]
        ran.setdefault(key.split("-")[0], []).append(task["worker"])
    return ran


def test_gradrace_check_measures_on_the_cluster_from_its_worker_process(on_cluster, capsys):
    """The default, isolated check runs in a spawned process, which inherits the variable."""
    client = dask_chunks.client(on_cluster.scheduler_address)
    with get_task_stream(client) as stream:  # records every task the scheduler runs
        code = main(
            [
                "check",
                "--no-entry-points",
                "--problem",
                "linear",
                "--impl",
                "dask",
                "--impl",
                "numpy-dot",
            ]
        )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "dask: agrees (24/24 cases)" in out
    assert len(_tasks(stream)["_partial"]) >= len(CHECK_CASES)
