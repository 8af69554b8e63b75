"""The registry: every implementation gradrace knows, and where each came from.

Sources, in order: the built-ins; every entry point in the group
``gradrace.implementations`` of the installed distributions; and modules named
with ``--plugin module:attr`` or ``--plugin path/to/file.py:attr``. Nothing else is
loaded: no folder is scanned and no code is read from a results or report file.
A source that fails to load is recorded in ``Registry.errors`` and the rest load.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import importlib.machinery
import importlib.metadata
import importlib.util
import keyword
import re
import sys
import traceback
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from gradrace.bench.course import AUTO, DETECTED, adapt, check_convention
from gradrace.bench.explain import PLUGIN_MODULE_PREFIX, plain, safe_text
from gradrace.bench.implementation import Implementation
from gradrace.bench.interrupt import PLUGIN_RAISES, pass_on_ctrl_c

ENTRY_POINT_GROUP = "gradrace.implementations"
BUILTIN = "built-in"


class RegistryError(Exception):
    """A request the registry cannot satisfy, such as an unknown implementation name."""


@dataclass(frozen=True)
class Entry:
    """A registered implementation and a human-readable origin."""

    implementation: Implementation
    origin: str

    @property
    def name(self) -> str:
        return self.implementation.name


@dataclass(frozen=True)
class LoadError:
    """A plugin source that could not be loaded, and why."""

    source: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


@dataclass
class Registry:
    """Implementations by name, plus what failed to load and which optional ones are unavailable."""

    entries: dict[str, Entry] = field(default_factory=dict)
    errors: list[LoadError] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)  # optional built-in -> why not
    shadowed: dict[str, str] = field(default_factory=dict)  # name -> which origin replaced which
    conventions: dict[str, str] = field(default_factory=dict)  # source -> how it was read

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries.values())

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, name: object) -> bool:
        return name in self.entries

    def __getitem__(self, name: str) -> Implementation:
        return self.entries[name].implementation

    def names(self) -> list[str]:
        return list(self.entries)

    def add(self, impl: Implementation, origin: str) -> None:
        """Register ``impl``. A plugin named by hand takes the place of an installed entry
        point of the same name (the user asked for that file; ``shadowed`` says so); any
        other name already taken becomes a load error naming both origins."""
        taken = self.entries.get(impl.name)
        if taken is not None and origin.startswith(BY_HAND) and taken.origin.startswith(EP):
            self.shadowed[impl.name] = f"{origin} takes the place of {taken.origin}"
            self.entries[impl.name] = Entry(impl, origin)
            return
        if taken is not None:
            self.errors.append(
                LoadError(
                    origin,
                    f"duplicate implementation name {impl.name!r}: already registered by "
                    f"{taken.origin}; rename one of them, or load it as another version "
                    f"with a suffix (--plugin FILE:NAME@mine registers {impl.name}@mine)",
                )
            )
            return
        self.entries[impl.name] = Entry(impl, origin)

    def select(self, names: Iterable[str] | None) -> list[Implementation]:
        """The implementations named (all when ``names`` is empty), in registry order, and
        with them those of every ``--plugin``: a plugin given by hand is asked for by name."""
        names = list(names or [])
        missing = [n for n in names if n in self.unavailable]
        if missing:
            raise RegistryError(
                "; ".join(f"{n!r} is not available: {self.unavailable[n]}" for n in missing)
            )
        unknown = [name for name in names if name not in self.entries]
        if unknown:
            failed = "".join(f"; plugin not loaded: {error}" for error in self.errors)
            raise RegistryError(
                f"unknown implementation(s) {', '.join(map(repr, unknown))}; "
                f"known: {', '.join(self.entries)}{failed}"
            )
        wanted = set(names) if names else set(self.entries)
        return [e.implementation for e in self if e.name in wanted or e.origin.startswith(BY_HAND)]

    def one(self, name: str) -> Implementation:
        """The implementation called ``name`` (a RegistryError names what is known if none is)."""
        self.select([name])  # the same errors: unavailable, or unknown with the known names
        return self.entries[name].implementation


def as_implementation(
    obj: object,
    name: str,
    source: str,
    convention: str = AUTO,
    how: str = "",
    plain_problem: str = "linear",
) -> Implementation:
    """An Implementation as is, or a plain gradient function wrapped under ``name``, read
    in ``convention`` (auto: gradrace's, or the course's when its parameter names and a
    trial call say so) for the problem its name says, else ``plain_problem`` (see
    ``gradrace.bench.course``)."""
    if isinstance(obj, Implementation):
        return obj
    if callable(obj) and not isinstance(obj, type):
        return adapt(obj, name, convention, how, plain_problem)
    raise TypeError(
        f"{source} is {type(obj).__name__} {obj!r:.60}, which is neither a "
        "gradrace.Implementation nor a function gradient(X, Y, W, b, lam) -> (dW, db)"
    )


def _error_message(exc: BaseException) -> str:
    """The error and where it was raised, unless gradrace raised it (a missing file)."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = frames and Path(frames[-1].filename).resolve().is_relative_to(_PACKAGE)
    where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {plain(safe_text(exc))}{'' if ours else where}"


_PACKAGE = Path(__file__).resolve().parents[1]  # gradrace/


def plugin_module_name(path: Path) -> str:
    """The module name a plugin file is always registered under too: the same for one file
    in every process (numba's ``cache=True`` finds a cached kernel's module by name)."""
    digest = hashlib.blake2b(str(path).encode("utf-8", "surrogatepass"), digest_size=8)
    return f"{PLUGIN_MODULE_PREFIX}{path.stem}_{digest.hexdigest()}"


def _plain_name(path: Path) -> str | None:
    """The file's own name (``lab`` for lab.py), under which the plugin's own tests and
    scripts import it, where that name is free: not a standard or installed module's, nor
    another file's already loaded. numba's cache records the name a kernel's module had,
    so a kernel cached under it loads in ``import lab`` as in gradrace."""
    stem = path.stem
    if not stem.isidentifier() or keyword.iskeyword(stem):
        return None
    if stem in sys.stdlib_module_names or stem in sys.builtin_module_names:
        return None
    loaded = sys.modules.get(stem)
    if loaded is not None:
        file = getattr(loaded, "__file__", None)
        return stem if file and Path(file).resolve() == path else None
    elsewhere = [p for p in sys.path if Path(p or ".").resolve() != path.parent]
    return None if importlib.machinery.PathFinder.find_spec(stem, elsewhere) else stem


#: Plugin files executed in this process: alias name -> (the file's stamp, its module).
_LOADED: dict[str, tuple[tuple[int, int], ModuleType]] = {}


def _stamp(path: Path) -> tuple[int, int]:
    """When the file was last changed, and its size: a file edited since it ran runs again."""
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


def _loaded_file(path: Path) -> ModuleType | None:
    """The module this process already executed from ``path``, if the file has not changed
    since and the module is still registered; else None."""
    alias = plugin_module_name(path)
    stamp, module = _LOADED.get(alias, (None, None))
    if module is None or stamp != _stamp(path) or sys.modules.get(alias) is not module:
        return None
    return module


def _execute_file(path: Path, target: str) -> ModuleType:
    """Run the file once as a new module, registered under its own name where that is free
    (``_plain_name``) and as ``plugin_module_name`` in any case: both names, one module."""
    names = [n for n in (_plain_name(path), plugin_module_name(path)) if n]
    spec = importlib.util.spec_from_file_location(names[0], path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {target}")
    module = importlib.util.module_from_spec(spec)
    before = {name: sys.modules.get(name) for name in names}
    sys.modules.update(dict.fromkeys(names, module))
    try:
        spec.loader.exec_module(module)
    except BaseException:
        for name, old in before.items():
            if old is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = old
        raise
    _LOADED[plugin_module_name(path)] = (_stamp(path), module)
    return module


def _forget_files_since(before: Mapping[str, tuple[tuple[int, int], ModuleType]]) -> None:
    """Forget the plugin files executed since ``before`` (a copy of ``_LOADED``): a file
    refused at import runs, and is refused, again the next time it is asked for."""
    for alias, (_, module) in list(_LOADED.items()):
        if before.get(alias, (None, None))[1] is not module:
            del _LOADED[alias]
            for name in [n for n, m in sys.modules.items() if m is module]:
                del sys.modules[name]


def _hides_a_module(folder: Path) -> bool:
    """Whether ``folder`` holds a module (``numpy.py``, a package ``numpy/``) named as one
    this process imported from elsewhere."""
    try:
        entries = list(folder.iterdir())
    except OSError:
        return False
    for entry in entries:
        name = entry.stem if entry.suffix == ".py" else entry.name
        if entry.suffix not in ("", ".py") or name not in sys.modules:
            continue
        file = getattr(sys.modules[name], "__file__", None)
        if not file or Path(file).resolve().parent not in (folder, folder / name):
            return True
    return False


def _load_module(target: str):
    """The module of a ``--plugin`` target: a dotted module name, or a file whose folder
    is put on ``sys.path`` first (as ``python file.py`` does), so ``adapt.py`` can
    ``import lab`` from beside it. A file runs once per process, as ``import`` would run
    it: two ``--plugin`` specs of one file share its module (and its output at import is
    printed once); it runs again only once it has been edited."""
    if target.endswith(".py") or "/" in target or "\\" in target:
        path = Path(target).expanduser().resolve()
        if not path.exists():
            raise FileNotFoundError(f"no such plugin file: {target}")
        if not path.is_file():
            raise FileNotFoundError(f"plugin {target} is not a regular file (a Python file)")
        folder = str(path.parent)
        if folder not in sys.path:  # its sibling files import as they do when it runs itself
            # first, unless a file there (numpy.py, statistics.py) would hide a module
            # already in use, in the worker this process starts as much as here
            sys.path.insert(len(sys.path) if _hides_a_module(path.parent) else 0, folder)
        return _loaded_file(path) or _execute_file(path, target)
    try:
        return importlib.import_module(target)
    except ModuleNotFoundError as exc:
        file = Path(*target.split(".")).with_suffix(".py")
        if exc.name == target.split(".")[0] and file.is_file():
            raise ModuleNotFoundError(
                f"no module named {target!r} is importable; for the file {file} here, "
                f"write --plugin {file}:ATTR"
            ) from None
        raise


def load_plugin(
    spec: str, convention: str = AUTO, how: str = "", plain_problem: str = "linear"
) -> Implementation:
    """Load ``module:attr`` or ``path/to/file.py:attr`` as an Implementation (a plain
    function read as in ``as_implementation``); a suffix ``:attr@old`` renames it
    ``<name>@old``, so two versions of one implementation (two files, two commits) are
    timed side by side in one run."""
    target, sep, attr = spec.rpartition(":")
    attr, at, version = attr.partition("@")
    if not sep or not target or not attr or not attr.replace(".", "").isidentifier():
        raise ValueError(
            f"--plugin {spec!r} must have the form module:attr or path/to/file.py:attr "
            "(with an optional version suffix: path/to/file.py:attr@old)"
        )
    if at and not _VERSION.match(version):
        raise ValueError(
            f"--plugin {spec!r}: the version suffix {version!r} after @ must be letters, "
            "digits and . _ + -, starting with a letter or digit"
        )
    obj = _load_module(target)
    for part in attr.split("."):
        if not hasattr(obj, part):
            public = sorted(n for n in dir(obj) if not n.startswith("_"))
            raise AttributeError(f"{target} has no {part!r}; it defines: {', '.join(public)}")
        obj = getattr(obj, part)
    name = attr.split(".")[-1]
    impl = as_implementation(obj, name, f"--plugin {spec}", convention, how, plain_problem)
    return renamed(impl, version) if at else impl


#: A version suffix: what may follow the @ of ``--plugin file.py:ATTR@old``.
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")


def renamed(impl: Implementation, version: str) -> Implementation:
    """``impl`` named ``<name>@<version>`` (a name that has a version already: replaced),
    its versions for other problems too."""
    name = f"{impl.name.partition('@')[0]}@{version}"
    also = tuple(dataclasses.replace(other, name=name) for other in impl.also)
    return dataclasses.replace(impl, name=name, also=also)


def _entry_points():
    return importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)


def _entry_point_origin(ep) -> str:
    dist = getattr(ep, "dist", None)
    where = f" from {dist.name} {dist.version}" if dist is not None else ""
    return f"{EP}{ep.name!r}{where}"


def _add_optional(registry: Registry) -> None:
    """Register each optional built-in whose libraries are installed; note why others are not."""
    from gradrace.implementations import OPTIONAL

    for name, (module, libraries, extra) in OPTIONAL.items():
        missing = [lib for lib in libraries if importlib.util.find_spec(lib) is None]
        if missing:
            registry.unavailable[name] = (
                f'needs {", ".join(missing)}: pip install "gradrace[{extra}]"'
            )
            continue
        try:
            registry.add(importlib.import_module(module).IMPLEMENTATION, f"{BUILTIN} ({extra})")
        except PLUGIN_RAISES as exc:
            pass_on_ctrl_c(exc)
            registry.unavailable[name] = f"failed to load: {_error_message(exc)}"


def _add_source(registry: Registry, origin: str, load, limit_s: float | None = None) -> None:
    """Register what ``load()`` returns, or record why not: it raised, ran past ``limit_s``,
    or replaced a function of numpy's or gradrace's judge (put back, see ``guard.py``)."""
    from gradrace.bench.alarm import TimeLimit, time_limit
    from gradrace.bench.guard import Watch, describe
    from gradrace.bench.stray import Strays

    watch, files, strays = Watch(), dict(_LOADED), Strays()
    try:
        with time_limit(limit_s):
            impl, error = load(), ""
    except TimeLimit as exc:
        impl, error = None, f"hung at import in gradrace's own process ({exc})"
    except (*PLUGIN_RAISES, GeneratorExit) as exc:
        pass_on_ctrl_c(exc)
        impl, error = None, _error_message(exc)
    replaced = watch.changed()
    if replaced:
        watch.restore()
        _forget_files_since(files)
        error = (
            f"replaced {describe(replaced)} at import (the reference and the verdicts must "
            "not depend on a plugin); gradrace put them back and did not load it"
        )
    for stray in [] if error else strays.spinning():
        error = stray.refused("at import")
    if error:
        registry.errors.append(LoadError(origin, error))
    else:
        registry.add(impl, origin)
        strays.born_of(impl.name)


#: How the origin of an installed entry point begins.
EP = "entry point "
#: How the origin of an implementation given with ``--plugin`` begins.
PLUGIN = "--plugin "
#: How the origins of implementations given by hand begin (``gradrace`` and pytest options).
BY_HAND = (PLUGIN, "--gradrace-plugin ")


def load_registry(
    plugins: Sequence[str] = (),
    *,
    entry_points: bool = True,
    skip: Collection[str] = (),
    convention: str = AUTO,
    known: Mapping[str, str] | None = None,
    limit_s: float | None = None,
    plain_problem: str = "linear",
) -> Registry:
    """Build the registry from the built-ins, the installed entry points and ``plugins``;
    plain functions among the last two are read in ``convention``, for the problem their
    name says or else ``plain_problem``.

    Sources whose origin is in ``skip`` (those that hung or crashed a probe) are not
    imported; ``known`` gives the convention a probe already found for a source's plain
    function (origin -> convention), so no trial call runs here; ``limit_s`` bounds each
    source's import (see ``alarm.py``).
    """
    known = known or {}

    def read_as(origin: str) -> tuple[str, str, str]:
        if convention == AUTO and origin in known:  # what the probe found: no trial call here
            return known[origin], DETECTED, plain_problem
        return convention, "", plain_problem

    from gradrace.implementations import BUILTINS

    check_convention(convention)
    registry = Registry()
    for impl in BUILTINS:
        registry.add(impl, BUILTIN)
    _add_optional(registry)
    if entry_points:
        for ep in _entry_points():
            origin = _entry_point_origin(ep)
            if origin not in skip:
                _add_source(
                    registry,
                    origin,
                    lambda ep=ep, o=origin: as_implementation(ep.load(), ep.name, o, *read_as(o)),
                    limit_s,
                )
    for spec in dict.fromkeys(plugins):  # one given twice is loaded once
        origin = f"{PLUGIN}{spec}"
        if origin not in skip:
            load = lambda s=spec, o=origin: load_plugin(s, *read_as(o))  # noqa: E731
            _add_source(registry, origin, load, limit_s)
    return registry
