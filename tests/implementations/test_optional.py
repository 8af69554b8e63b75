"""The optional built-ins (jax-grad, torch-autograd, torch-manual, dask, cupy).

Availability is tested everywhere, by hiding libraries from the registry's
``importlib.util.find_spec``; agreement and technique are tested where the library
is installed and skipped, with the extra that installs it, where it is not.
"""

import copy
import importlib
import importlib.util
import subprocess
import sys
import tomllib
import types
from pathlib import Path

import numpy as np
import pytest

from gradrace import load_registry, make_problem, reference_gradient, run_check
from gradrace.bench.agreement import same
from gradrace.bench.check import all_agree, format_check
from gradrace.cli import main
from gradrace.implementations import OPTIONAL

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
HEAVY = ("jax", "jaxlib", "torch", "dask", "distributed", "cupy")


def _hide(monkeypatch, libraries):
    """Make the registry's find_spec report ``libraries`` as not installed."""
    real = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        return None if name in libraries else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


def _require(name: str):
    """The optional implementation ``name``, or a skip saying what to install."""
    module, libraries, extra = OPTIONAL[name]
    missing = [lib for lib in libraries if importlib.util.find_spec(lib) is None]
    if missing:
        pytest.skip(f'{name} needs {", ".join(missing)}: pip install "gradrace[{extra}]"')
    mod = importlib.import_module(module)
    if name == "cupy":
        try:
            mod._cupy()
        except RuntimeError as exc:
            pytest.skip(f"cupy: {exc}")
    return mod.IMPLEMENTATION


# -- Availability --------------------------------------------------------------------------


def test_each_optional_entry_names_its_module_and_an_extra_declared_in_pyproject():
    extras = tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]
    assert set(OPTIONAL) == {"jax-grad", "torch-autograd", "torch-manual", "dask", "cupy"}
    for name, (module, libraries, extra) in OPTIONAL.items():
        assert libraries and extra in extras, name
        assert importlib.import_module(module).IMPLEMENTATION.name == name
    assert "gradrace[jax,torch,dask]" in extras["all"]


def test_the_modules_load_without_their_libraries():
    """Importing every optional module with jax, torch, dask and cupy made unimportable:
    the libraries are imported lazily, so the registry stays cheap and never breaks."""
    modules = [module for module, _, _ in OPTIONAL.values()]
    code = (
        "import sys\n"
        f"class Block:\n"
        f"    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.split('.')[0] in {HEAVY!r}:\n"
        f"            raise ImportError('blocked ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import importlib\n"
        f"for module in {modules!r}:\n"
        "    assert importlib.import_module(module).IMPLEMENTATION.name\n"
        f"assert not [m for m in sys.modules if m.split('.')[0] in {HEAVY!r}]\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


@pytest.mark.parametrize("name", list(OPTIONAL))
def test_a_missing_library_makes_the_implementation_unavailable_with_its_extra(
    monkeypatch, capsys, name
):
    _, libraries, extra = OPTIONAL[name]
    _hide(monkeypatch, libraries)
    registry = load_registry(entry_points=False)
    assert name not in registry
    expected = f'needs {", ".join(libraries)}: pip install "gradrace[{extra}]"'
    assert registry.unavailable[name] == expected
    assert main(["list", "--no-entry-points"]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith(f"{name} "))
    assert f"[unavailable]  {expected}" in line


def test_only_the_missing_part_of_a_two_library_requirement_is_named(monkeypatch):
    _require("jax-grad")  # jax itself must be found for only jaxlib to be missing
    _hide(monkeypatch, {"jaxlib"})
    registry = load_registry(entry_points=False)
    assert registry.unavailable["jax-grad"] == 'needs jaxlib: pip install "gradrace[jax]"'


@pytest.mark.parametrize("name", list(OPTIONAL))
def test_an_installed_library_registers_the_implementation(name):
    impl = _require(name)
    registry = load_registry(entry_points=False)
    assert registry[name] is impl
    assert registry.entries[name].origin == f"built-in ({OPTIONAL[name][2]})"
    assert name not in registry.unavailable


# -- Agreement -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(OPTIONAL))
def test_agrees_with_the_reference_on_every_check_case(name):
    results = run_check([_require(name)])
    assert all_agree(results), format_check(results)


def test_dask_agrees_with_many_small_chunks(monkeypatch):
    impl = _require("dask")
    monkeypatch.setenv("GRADRACE_DASK_CHUNK_ROWS", "3")
    results = run_check([impl])
    assert all_agree(results), format_check(results)


# -- What makes each one the technique it claims to be ------------------------------------


def test_jax_grad_computes_in_float64_and_returns_numpy_arrays():
    impl = _require("jax-grad")
    p = make_problem(30, 4, 2, seed=1)
    prepared = impl.prepare_args(*p.args)
    assert str(prepared[0].dtype) == "float64"  # jax_enable_x64 is on
    dW, db = impl.gradient(*prepared)
    assert type(dW) is np.ndarray and dW.dtype == np.float64 and dW.shape == (4, 2)
    ref_dW, _ = reference_gradient(*p.args)
    np.testing.assert_allclose(dW, ref_dW, rtol=1e-12, atol=1e-14)


def test_jax_prepared_arrays_compare_by_value():
    impl = _require("jax-grad")
    a = impl.prepare_args(*make_problem(10, 3, seed=1).args)
    b = impl.prepare_args(*make_problem(10, 3, seed=2).args)
    assert same(a, copy.deepcopy(a)) and not same(a, b)


def test_torch_wraps_the_arrays_without_copying_and_matches_numbas_threads():
    import numba

    impl = _require("torch-manual")
    import torch

    p = make_problem(20, 3, seed=0)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        prepared = impl.prepare_args(*p.args)
        assert torch.get_num_threads() == 1
    finally:
        numba.set_num_threads(before)
    assert np.shares_memory(prepared[0].numpy(), p.X)


def test_torch_prepared_tensors_compare_by_value_so_a_modification_is_caught():
    impl = _require("torch-manual")
    args = impl.prepare_args(*make_problem(10, 3, seed=0).args)
    snapshot = copy.deepcopy(args)
    assert same(snapshot, args)
    snapshot[2][0, 0] += 1.0  # as a gradient that wrote into its W would
    assert not same(snapshot, args)


def test_torch_autograd_differentiates_with_respect_to_leaves_and_keeps_no_grad_state():
    impl = _require("torch-autograd")
    p = make_problem(25, 4, 3, seed=5)
    X, Y, W, b, lam = impl.prepare_args(*p.args)
    assert W.requires_grad and b.requires_grad
    first = impl.gradient(X, Y, W, b, lam)
    second = impl.gradient(X, Y, W, b, lam)  # no .grad accumulates between calls
    assert W.grad is None
    for got, again, ref in zip(first, second, reference_gradient(*p.args), strict=True):
        np.testing.assert_array_equal(got, again)
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-14)


def test_dask_chunk_rows():
    _require("dask")
    from gradrace.implementations.dask_chunks import CHUNK_BYTES, chunk_rows

    assert chunk_rows(1000, 5, 8, workers=2) == 500  # one chunk per worker
    assert chunk_rows(1, 5, 8, workers=4) == 1
    huge_m = 10 * CHUNK_BYTES // 8
    assert chunk_rows(huge_m, 1, 8, workers=2) == CHUNK_BYTES // 8  # at most CHUNK_BYTES


def test_dask_chunk_rows_from_the_environment(monkeypatch):
    _require("dask")
    from gradrace.implementations.dask_chunks import chunk_rows

    monkeypatch.setenv("GRADRACE_DASK_CHUNK_ROWS", "7")
    assert chunk_rows(50, 3, 8, workers=2) == 7
    assert chunk_rows(5, 3, 8, workers=2) == 5
    monkeypatch.setenv("GRADRACE_DASK_CHUNK_ROWS", "0")
    with pytest.raises(ValueError, match="GRADRACE_DASK_CHUNK_ROWS"):
        chunk_rows(50, 3, 8, workers=2)


def test_dask_sums_one_partial_gradient_per_chunk(monkeypatch):
    impl = _require("dask")
    monkeypatch.delenv("GRADRACE_DASK_SCHEDULER", raising=False)
    monkeypatch.setenv("GRADRACE_DASK_CHUNK_ROWS", "7")
    p = make_problem(50, 3, 2, lam=2.0, seed=4)
    chunks, W, b, lam = impl.prepare_args(*p.args)
    assert len(chunks.pairs) == 8 and chunks.scheduler == "threads"  # ceil(50 / 7)
    assert W is p.W and b is p.b and lam == 2.0
    dW, db = impl.gradient(chunks, W, b, lam)
    ref_dW, ref_db = reference_gradient(*p.args)
    np.testing.assert_allclose(dW, ref_dW, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(db, ref_db, rtol=1e-12, atol=1e-14)


def test_cupy_returns_host_arrays():
    impl = _require("cupy")
    p = make_problem(100, 4, 2, seed=0)
    dW, db = impl.compute(*p.args)
    assert type(dW) is np.ndarray and type(db) is np.ndarray


class _HostArray(np.ndarray):
    """A numpy array with CuPy's ``.get()``, for the stand-in below."""

    def get(self):
        return np.array(self)


def _fake_cupy(device_count):
    stream = types.SimpleNamespace(synchronize=lambda: None)
    cuda = types.SimpleNamespace(
        runtime=types.SimpleNamespace(getDeviceCount=device_count),
        get_current_stream=lambda: stream,
    )
    module = types.ModuleType("cupy")
    module.asarray = lambda a: np.array(a).view(_HostArray)
    module.array_equal = np.array_equal
    module.cuda = cuda
    return module


@pytest.fixture
def cupy_stand_in(monkeypatch):
    """cupy_gpu with a numpy stand-in for CuPy: its flow (transfer, sync, .get()) without a GPU."""
    from gradrace.implementations import cupy_gpu

    def install(device_count):
        monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(device_count))
        cupy_gpu._load_cupy.cache_clear()
        return cupy_gpu

    yield install
    cupy_gpu._load_cupy.cache_clear()


def test_cupy_module_flow_on_a_numpy_stand_in(cupy_stand_in):
    cupy_gpu = cupy_stand_in(lambda: 1)
    results = run_check([cupy_gpu.IMPLEMENTATION])
    assert all_agree(results), format_check(results)
    dW, db = cupy_gpu.IMPLEMENTATION.compute(*make_problem(10, 3, 2, seed=0).args)
    assert type(dW) is np.ndarray and type(db) is np.ndarray  # host arrays, via .get()
    from gradrace.testing import check_implementation

    report = check_implementation(cupy_gpu.IMPLEMENTATION, ["check_with_params"])
    assert report.passed, str(report)


def test_cupy_without_a_gpu_says_so(cupy_stand_in):
    def no_device():
        raise OSError("cudaErrorNoDevice: no CUDA-capable device is detected")

    cupy_gpu = cupy_stand_in(no_device)
    with pytest.raises(RuntimeError, match="no CUDA GPU is usable: cudaErrorNoDevice"):
        cupy_gpu.IMPLEMENTATION.compute(*make_problem(10, 3, seed=0).args)
    cupy_gpu = cupy_stand_in(lambda: 0)
    with pytest.raises(RuntimeError, match="no CUDA GPU is visible"):
        cupy_gpu.IMPLEMENTATION.compute(*make_problem(10, 3, seed=0).args)
