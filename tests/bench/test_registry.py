"""Registry: built-ins, entry points, --plugin specs, duplicates and broken plugins."""

import os
import subprocess
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from gradrace import Implementation, load_registry
from gradrace.bench import registry as registry_module
from gradrace.bench.registry import BUILTIN, RegistryError

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"
MISBEHAVING = f"{PLUGINS / 'misbehaving.py'}"
SEED_BUILTINS = ["python-loops", "numpy-dot", "einsum", "reshaped-mn1", "numba"]


def fake_entry_points(monkeypatch, *eps):
    monkeypatch.setattr(registry_module, "_entry_points", lambda: list(eps))


def test_builtins_are_registered_with_their_origin():
    registry = load_registry(entry_points=False)
    assert registry.names()[:5] == SEED_BUILTINS
    assert all(registry.entries[name].origin == BUILTIN for name in SEED_BUILTINS)
    assert all(isinstance(registry[name], Implementation) for name in SEED_BUILTINS)
    assert not registry.errors


def test_entry_point_naming_an_implementation_object(monkeypatch):
    ep = EntryPoint("whatever", "slips:half_lambda_impl", "gradrace.implementations")
    monkeypatch.syspath_prepend(str(PLUGINS))
    fake_entry_points(monkeypatch, ep)
    registry = load_registry()
    assert "half-lambda" in registry  # the object's own name wins
    assert registry.entries["half-lambda"].origin == "entry point 'whatever'"


def test_entry_point_naming_a_plain_function_takes_the_entry_point_name(monkeypatch):
    monkeypatch.syspath_prepend(str(PLUGINS))
    ep = EntryPoint("my-fn", "misbehaving:plain_gradient", "gradrace.implementations")
    fake_entry_points(monkeypatch, ep)
    registry = load_registry()
    assert registry["my-fn"].description == "A correct plugin written as a plain function."


def test_entry_point_that_fails_to_import_is_reported_and_the_rest_load(monkeypatch):
    monkeypatch.syspath_prepend(str(PLUGINS))
    broken = EntryPoint("broken", "broken_import:anything", "gradrace.implementations")
    good = EntryPoint("my-fn", "misbehaving:plain_gradient", "gradrace.implementations")
    fake_entry_points(monkeypatch, broken, good)
    registry = load_registry()
    assert "my-fn" in registry and "broken" not in registry
    (error,) = registry.errors
    assert error.source == "entry point 'broken'"
    assert "ImportError: this plugin needs a library that is not installed" in error.message


def test_plugin_from_a_file_path():
    registry = load_registry([f"{MISBEHAVING}:wrong_values"], entry_points=False)
    assert registry.entries["wrong-values"].origin == f"--plugin {MISBEHAVING}:wrong_values"


def test_plugin_from_a_module_name(monkeypatch):
    monkeypatch.syspath_prepend(str(PLUGINS))
    registry = load_registry(["slips:half_lambda_impl"], entry_points=False)
    assert "half-lambda" in registry


def test_plain_function_given_on_the_command_line_takes_its_attribute_name():
    registry = load_registry([f"{MISBEHAVING}:plain_gradient"], entry_points=False)
    assert "plain_gradient" in registry


def test_duplicate_name_is_an_error_naming_both_sources():
    registry = load_registry([f"{MISBEHAVING}:duplicate_numpy_dot"], entry_points=False)
    (error,) = registry.errors
    assert "duplicate implementation name 'numpy-dot'" in error.message
    assert "already registered by built-in" in error.message
    assert error.source.endswith("misbehaving.py:duplicate_numpy_dot")
    assert registry.entries["numpy-dot"].origin == BUILTIN


def test_a_plugin_named_by_hand_takes_the_place_of_an_installed_one_of_its_name(tmp_path):
    edited = tmp_path / "edited.py"
    edited.write_text(
        "import numpy as np\n"
        "from gradrace import Implementation\n"
        "def grad(X, Y, W, b, lam):\n"
        "    m = X.shape[0]\n"
        "    r = X @ W + b - Y\n"
        "    return X.T @ r / m + lam / m * W, r.mean(axis=0)\n"
        "IMPLEMENTATION = Implementation(name='example-dot', gradient=grad)\n"
    )
    registry = load_registry([f"{edited}:IMPLEMENTATION"])
    assert not registry.errors
    assert registry.entries["example-dot"].origin == f"--plugin {edited}:IMPLEMENTATION"
    assert registry["example-dot"].gradient.__module__ != "gradrace_example_plugin"
    (how,) = registry.shadowed.values()
    assert how.startswith(f"--plugin {edited}") and "takes the place of entry point" in how


def test_a_duplicate_names_the_version_suffix_as_a_way_out():
    registry = load_registry([f"{MISBEHAVING}:duplicate_numpy_dot"], entry_points=False)
    assert "--plugin FILE:NAME@mine registers numpy-dot@mine" in registry.errors[0].message


def test_object_that_is_not_an_implementation_is_an_error_naming_it():
    registry = load_registry([f"{MISBEHAVING}:not_an_implementation"], entry_points=False)
    (error,) = registry.errors
    assert "not_an_implementation" in error.source
    assert "int 42, which is neither a gradrace.Implementation nor a function" in error.message


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("no_colon_here", "must have the form module:attr"),
        (f"{PLUGINS / 'missing.py'}:x", "no such plugin file"),
        (f"{MISBEHAVING}:no_such_attr", "AttributeError"),
        (f"{PLUGINS / 'broken_import.py'}:x", "ImportError"),
    ],
)
def test_bad_plugin_specs_are_reported_and_builtins_still_load(spec, message):
    registry = load_registry([spec], entry_points=False)
    assert registry.names()[:5] == SEED_BUILTINS
    (error,) = registry.errors
    assert message in error.message


def test_select_by_name_keeps_registry_order_and_rejects_unknown_names():
    registry = load_registry(entry_points=False)
    assert [i.name for i in registry.select(["numba", "einsum"])] == ["einsum", "numba"]
    assert len(registry.select([])) == len(registry)
    with pytest.raises(RegistryError, match=r"unknown implementation.*'nope'.*known: python-loops"):
        registry.select(["nope"])


def test_optional_builtin_with_a_missing_library_is_listed_as_unavailable(monkeypatch):
    from gradrace import implementations

    monkeypatch.setitem(
        implementations.OPTIONAL,
        "fake-lib",
        ("gradrace.implementations.numpy_dot", ("no_such_library_xyz",), "fake"),
    )
    registry = load_registry(entry_points=False)
    assert "fake-lib" not in registry
    assert (
        registry.unavailable["fake-lib"]
        == 'needs no_such_library_xyz: pip install "gradrace[fake]"'
    )


def test_implementation_contract_rejects_bad_names_and_non_callables():
    with pytest.raises(ValueError, match="name"):
        Implementation(name="has space", gradient=lambda *a: a)
    with pytest.raises(TypeError, match="gradient must be callable"):
        Implementation(name="x", gradient=3)
    with pytest.raises(TypeError, match="prepare must be callable"):
        Implementation(name="x", gradient=lambda *a: a, prepare="no")


def test_a_missing_attribute_names_the_file_and_what_it_defines(tmp_path):
    (tmp_path / "attr_missing.py").write_text("def compute_gradient(X, Y, W, b, lam):\n    pass\n")
    registry = load_registry([f"{tmp_path / 'attr_missing.py'}:nosuch"], entry_points=False)
    (error,) = registry.errors
    assert f"{tmp_path / 'attr_missing.py'} has no 'nosuch'; it defines: compute_gradient" in str(
        error
    )


VERSIONS = PLUGINS / "versions.py"


def test_a_version_suffix_renames_the_plugin_so_two_versions_load_side_by_side():
    specs = [f"{VERSIONS}:my_numpy@old", f"{VERSIONS}:my_numpy_extra_pass@new"]
    registry = load_registry(specs, entry_points=False)
    assert registry.entries["my_numpy@old"].origin == f"--plugin {VERSIONS}:my_numpy@old"
    assert registry["my_numpy_extra_pass@new"].name == "my_numpy_extra_pass@new"


def test_a_version_suffix_replaces_one_already_there():
    impl = Implementation(name="mine@a", gradient=lambda *a: a)
    assert registry_module.renamed(impl, "b").name == "mine@b"


@pytest.mark.parametrize("suffix", ["", "o/ld", "-x"])
def test_a_bad_version_suffix_is_a_clear_error(suffix):
    registry = load_registry([f"{VERSIONS}:my_numpy@{suffix}"], entry_points=False)
    assert "version suffix" in str(registry.errors[0])


def test_names_take_at_most_one_version_suffix():
    Implementation(name="mine@old", gradient=lambda *a: a)
    for bad in ("@old", "a@b@c", "mine@"):
        with pytest.raises(ValueError, match="version suffix"):
            Implementation(name=bad, gradient=lambda *a: a)


def test_selecting_by_name_keeps_the_plugins_given_by_hand():
    reg = load_registry([f"{PLUGINS / 'stateful.py'}:memoised"], entry_points=False)
    assert [i.name for i in reg.select(["numpy-dot"])] == ["numpy-dot", "memoised"]
    assert reg.one("numpy-dot").name == "numpy-dot"
    assert reg.one("memoised").name == "memoised"
    with pytest.raises(RegistryError, match="unknown implementation"):
        reg.one("nope")


CACHED_NUMBA_PLUGIN = """
import numba
import numpy as np


@numba.njit(cache=True)
def _kernel(X, R):
    return X.T @ R


def gradient(X, Y, W, b, lam):
    R = X @ W + b - Y
    m = X.shape[0]
    return _kernel(X, R) / m + lam / m * W, R.sum(axis=0) / m
"""

LOAD_AND_CALL = """
import sys
from gradrace import make_problem
from gradrace.bench.registry import load_plugin, plugin_module_name
from pathlib import Path
impl = load_plugin(sys.argv[1])
p = make_problem(50, 3, 2, seed=0)
impl.call(impl.prepare_args(*p.args))
print(plugin_module_name(Path(sys.argv[1].rsplit(":", 1)[0]).resolve()))
"""


def test_a_plugin_with_numba_kernels_cached_by_one_process_loads_in_the_next(tmp_path):
    """numba's cache=True finds a cached kernel's module by name, so a plugin file's
    module is named alike in every process, whatever Python's hash seed."""
    (tmp_path / "cached.py").write_text(CACHED_NUMBA_PLUGIN, encoding="utf-8")
    names = []
    for seed in ("1", "2"):  # the first run compiles and caches; the second loads the cache
        env = {**os.environ, "PYTHONHASHSEED": seed}
        env.pop("NUMBA_DISABLE_JIT", None)
        done = subprocess.run(
            [sys.executable, "-c", LOAD_AND_CALL, f"{tmp_path / 'cached.py'}:gradient"],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        names.append(done.stdout.strip())
    assert list((tmp_path / "__pycache__").glob("cached._kernel-*.nbi"))  # it was cached
    assert names[0] == names[1] == registry_module.plugin_module_name(tmp_path / "cached.py")
    plain = (
        "import numpy as np, cached; X = np.ones((4, 3)); cached._kernel(X, X @ np.ones((3, 1)))"
    )
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_DISABLE_JIT"}
    done = subprocess.run(  # the plugin's own tests import it by its name, after gradrace ran
        [sys.executable, "-c", plain], cwd=tmp_path, capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr[-2000:]


PLAIN_PLUGIN = "def gradient(X, Y, W, b, lam):\n    return {0!r}\n"


@pytest.fixture
def forget_modules():
    """Modules the test loads are taken out of sys.modules afterwards."""
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        del sys.modules[name]


def test_a_plugin_file_is_importable_by_its_own_name_where_that_is_free(tmp_path, forget_modules):
    (tmp_path / "kern_a1.py").write_text(PLAIN_PLUGIN.format("a"), encoding="utf-8")
    module = registry_module._load_module(str(tmp_path / "kern_a1.py"))
    assert sys.modules["kern_a1"] is module
    assert sys.modules[registry_module.plugin_module_name(tmp_path / "kern_a1.py")] is module


def test_a_plugin_named_like_a_standard_module_does_not_take_its_name(tmp_path, forget_modules):
    (tmp_path / "tabnanny.py").write_text(PLAIN_PLUGIN.format("mine"), encoding="utf-8")
    module = registry_module._load_module(str(tmp_path / "tabnanny.py"))
    assert module.gradient(None, None, None, None, 0) == "mine"
    assert sys.modules.get("tabnanny") is not module
    assert module.__name__ == registry_module.plugin_module_name(tmp_path / "tabnanny.py")


def test_two_plugin_files_of_one_name_each_load_their_own(tmp_path, forget_modules):
    for version in ("old", "new"):
        (tmp_path / version).mkdir()
        (tmp_path / version / "kern_b2.py").write_text(
            PLAIN_PLUGIN.format(version), encoding="utf-8"
        )
    old = registry_module._load_module(str(tmp_path / "old" / "kern_b2.py"))
    new = registry_module._load_module(str(tmp_path / "new" / "kern_b2.py"))
    assert old.gradient(None, None, None, None, 0) == "old"
    assert new.gradient(None, None, None, None, 0) == "new"
    assert sys.modules["kern_b2"] is old  # the name was taken: the second keeps its own


COUNTS_ITS_RUNS = """
import builtins
builtins.gradrace_test_runs = getattr(builtins, "gradrace_test_runs", 0) + 1


def gradient(X, Y, W, b, lam):
    return {0!r}
"""


@pytest.fixture
def runs():
    """How many times the test's plugin files ran (they count in ``builtins``)."""
    import builtins

    builtins.gradrace_test_runs = 0
    yield lambda: builtins.gradrace_test_runs
    del builtins.gradrace_test_runs


def test_a_plugin_file_loaded_twice_in_one_process_runs_once(tmp_path, forget_modules, runs):
    path = tmp_path / "kern_c3.py"
    path.write_text(COUNTS_ITS_RUNS.format("c"), encoding="utf-8")
    first = registry_module.load_plugin(f"{path}:gradient")
    second = registry_module.load_plugin(f"{path}:gradient@other")
    assert runs() == 1 and first.gradient is second.gradient
    assert sys.modules["kern_c3"] is sys.modules[registry_module.plugin_module_name(path)]


def test_a_plugin_file_edited_since_it_ran_runs_again(tmp_path, forget_modules, runs):
    path = tmp_path / "kern_d4.py"
    path.write_text(COUNTS_ITS_RUNS.format("old"), encoding="utf-8")
    registry_module._load_module(str(path))
    path.write_text(COUNTS_ITS_RUNS.format("newer"), encoding="utf-8")  # another size
    module = registry_module._load_module(str(path))
    assert runs() == 2 and module.gradient(None, None, None, None, 0) == "newer"


def test_an_unknown_name_says_which_plugins_did_not_load(tmp_path):
    registry = load_registry([f"{tmp_path / 'nofile.py'}:f"], entry_points=False)
    with pytest.raises(
        RegistryError,
        match=r"unknown implementation\(s\) 'f'.*plugin not loaded: .*no such plugin file",
    ):
        registry.select(["f"])


def test_a_file_beside_a_plugin_that_would_hide_numpy_does_not(tmp_path):
    (tmp_path / "numpy.py").write_text("raise ImportError('the folder's numpy.py')\n")
    (tmp_path / "beside_numpy.py").write_text(
        "import numpy as np\n\n\ndef gradient(X, Y, W, b, lam):\n"
        "    r = X @ W + b - Y\n    return X.T @ r / len(X) + lam / len(X) * W, r.mean(axis=0)\n"
    )
    before = list(sys.path)
    try:
        load_registry([f"{tmp_path / 'beside_numpy.py'}:gradient"], entry_points=False)
        assert sys.path.index(str(tmp_path)) == len(sys.path) - 1  # after numpy's own folder
    finally:
        sys.path[:] = before
