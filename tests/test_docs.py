"""The code blocks of README.md and docs/*.md run as tests, so the docs cannot drift from the code.

Conventions (a marker is an HTML comment on the line just before a fenced block):

- A ``python`` block whose first line is ``# NAME`` or ``# NAME: …``, NAME an implementation,
  is an excerpt: each of its code lines must be a line of that implementation's module.
- ``<!-- run -->`` before a ``python`` block: it runs as a script in a scratch folder.
- ``<!-- file: PATH -->`` before a block: its text is the file PATH of one shared project
  folder (files from every page; a path may appear once).
- ``<!-- run -->`` before a ``console`` block: its ``$ `` commands run, in page order (README
  first, then docs/ by name), in that folder with one fresh virtual environment in which
  gradrace was installed, exactly as a new user following the pages would.
- Every ``gradrace`` command shown in a ``bash`` or ``console`` block must parse with the real
  command-line parser.

Each block and command is its own test case, named ``FILE:LINE``.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import re
import shlex
import subprocess
import sys
import venv
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import gradrace.implementations
from gradrace.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
README_MAX_LINES = 250


@dataclass
class Block:
    path: Path
    lang: str
    code: str
    marker: str  # '' | 'run' | 'file: PATH'
    line: int

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def page_blocks(path: Path) -> list[Block]:
    """The fenced code blocks of one page, each with the marker just before it."""
    blocks, marker, lines = [], "", path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        comment = re.fullmatch(r"<!-- (run|file: .+) -->", line.strip())
        if comment:
            marker = comment.group(1)
        elif line.startswith("```"):
            start, body = i, []
            i += 1
            while not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            blocks.append(Block(path, line[3:].strip(), "\n".join(body) + "\n", marker, start + 1))
            marker = ""
        elif line.strip():
            marker = ""
        i += 1
    return blocks


BLOCKS = [block for page in PAGES for block in page_blocks(page)]


def _where(block: Block) -> str:
    return block.where


def _implementation_modules() -> dict[str, list[Path]]:
    """Implementation name -> the source files of the modules that define its versions
    (a version for another problem may live in a module of its own; a module of kernels
    that an implementation uses, defining none, is left out)."""
    modules = {}
    for info in pkgutil.iter_modules(gradrace.implementations.__path__):
        module = importlib.import_module(f"gradrace.implementations.{info.name}")
        impl = getattr(module, "IMPLEMENTATION", None)
        if impl is not None:
            versions = (impl, *impl.also)
            files = [Path(inspect.getsourcefile(v.gradient)) for v in versions]
            modules[impl.name] = [Path(module.__file__), *files]
    return modules


MODULES = _implementation_modules()


def _excerpt_name(block: Block) -> str | None:
    first = block.code.split("\n", 1)[0]
    match = re.match(r"# ([\w-]+)(:|$)", first)
    if block.lang == "python" and not block.marker and match and match.group(1) in MODULES:
        return match.group(1)
    return None


def _code(line: str) -> str:
    return line.split("  #")[0].strip()


EXCERPTS = [b for b in BLOCKS if _excerpt_name(b)]
PYTHON_RUN = [b for b in BLOCKS if b.lang == "python" and b.marker == "run"]


def test_readme_is_a_front_door():
    lines = len(README.read_text(encoding="utf-8").splitlines())
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; move depth to docs/"


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.lang == "python"], ids=_where)
def test_every_python_block_is_tested(block):
    """An excerpt, a script that runs, or a file of the project folder: never unchecked."""
    assert _excerpt_name(block) or block.marker, f"{block.where}: no marker and not an excerpt"


@pytest.mark.parametrize("block", EXCERPTS, ids=_where)
def test_implementation_excerpts_quote_their_modules(block):
    name = _excerpt_name(block)
    source = {
        _code(line)
        for path in MODULES[name]
        for line in path.read_text(encoding="utf-8").splitlines()
    }
    for offset, line in enumerate(block.code.splitlines(), start=1):
        code = _code(line)
        if code and not code.startswith("#") and code != "...":
            assert code in source, (
                f"{block.path.relative_to(ROOT)}:{block.line + offset}: {code!r} is not in {name}'s module"
            )


@pytest.mark.parametrize("block", PYTHON_RUN, ids=_where)
def test_python_example_runs_as_a_script(block, tmp_path):
    """The block, saved as a file and run by a fresh interpreter in a scratch folder."""
    script = tmp_path / "example.py"
    script.write_text(block.code, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"{block.where}\n{result.stdout}\n{result.stderr}"


# --- commands ---------------------------------------------------------------------------


@dataclass
class Command:
    block: Block
    line: int
    text: str

    @property
    def where(self) -> str:
        return f"{self.block.path.relative_to(ROOT)}:{self.line}"


def _commands(block: Block) -> list[Command]:
    """The ``$ `` command lines of a console block, continuation lines joined."""
    commands, lines = [], list(enumerate(block.code.splitlines(), start=block.line + 1))
    i = 0
    while i < len(lines):
        number, line = lines[i]
        if line.startswith("$ "):
            command = line[2:]
            while command.endswith("\\"):
                i += 1
                command = command[:-1] + lines[i][1].strip()
            commands.append(Command(block, number, command))
        i += 1
    return commands


def _shown_commands(block: Block) -> list[Command]:
    """Every command line of a block: each line of a bash block, the ``$ `` lines of a console one."""
    if block.lang == "bash":
        lines = enumerate(block.code.splitlines(), start=block.line + 1)
        return [Command(block, number, line) for number, line in lines if line.strip()]
    return _commands(block) if block.lang == "console" else []


def _program_words(words: list[str]) -> list[str]:
    """The command without leading VAR=value assignments, ``python -m gradrace`` as ``gradrace``."""
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", words[0]):
        words = words[1:]
    if words[:3] in (["python", "-m", "gradrace"], ["python3", "-m", "gradrace"]):
        words = ["gradrace", *words[3:]]
    return words


def _gradrace_invocations(command: Command) -> list[list[str]]:
    """The arguments of each ``gradrace`` invocation in a command line (parts joined by &&)."""
    invocations = []
    for part in command.text.split("&&"):
        words = _program_words(shlex.split(part.split("#")[0]))
        if words[:1] == ["gradrace"]:
            invocations.append(words[1:])
    return invocations


GRADRACE_COMMANDS = [c for b in BLOCKS for c in _shown_commands(b) if _gradrace_invocations(c)]


def test_program_words_drop_assignments_and_python_m():
    words = ["A=1", "B_2=x", "python3", "-m", "gradrace", "run"]
    assert _program_words(words) == ["gradrace", "run"]
    assert _program_words(["gradrace", "check"]) == ["gradrace", "check"]
    assert _program_words(["pip", "install"]) == ["pip", "install"]


def test_the_docs_show_gradrace_commands():
    assert len(GRADRACE_COMMANDS) >= 20


@pytest.mark.parametrize("command", GRADRACE_COMMANDS, ids=lambda c: c.where)
def test_gradrace_command_shown_parses(command):
    parser = build_parser()
    for words in _gradrace_invocations(command):
        try:
            parser.parse_args(words)
        except SystemExit as exit_:
            pytest.fail(f"{command.where}: `gradrace {shlex.join(words)}` does not parse ({exit_})")


def _prose(path: Path) -> str:
    """The page with its fenced blocks blanked out (line numbers kept)."""
    lines, fenced = path.read_text(encoding="utf-8").splitlines(), False
    for i, line in enumerate(lines):
        starts = line.startswith("```")
        lines[i] = "" if fenced or starts else line
        fenced ^= starts
    return "\n".join(lines)


def _inline_commands(path: Path) -> list[tuple[str, list[str]]]:
    """``FILE:LINE`` and the arguments of each ``gradrace …`` command line in inline code,
    which may run over a line break (a bare ``gradrace report`` names the command)."""
    found, text = [], _prose(path)
    for match in re.finditer(r"(?<!`)`([^`]+)`(?!`)", text):
        span = match.group(1)
        if not re.match(r"([A-Z_][A-Z0-9_]*=\S*\s+)*(python3? -m )?gradrace \S+ ", span):
            continue
        words = _program_words(shlex.split(span))
        if len(words) > 2:
            number = text.count("\n", 0, match.start()) + 1
            found.append((f"{path.relative_to(ROOT)}:{number}", words[1:]))
    return found


INLINE_COMMANDS = [c for page in PAGES for c in _inline_commands(page)]


@pytest.mark.parametrize(
    "words", [w for _, w in INLINE_COMMANDS], ids=[w for w, _ in INLINE_COMMANDS]
)
def test_gradrace_command_in_the_text_parses(words, capsys):
    """Commands quoted in prose and tables (the measured figures' commands) parse too."""
    try:
        build_parser().parse_args(words)
    except SystemExit as exit_:
        assert exit_.code == 0, f"`gradrace {shlex.join(words)}` does not parse"  # 0: --help


def test_quick_start_test_command_is_what_ci_runs():
    bash = [b.code.strip() for b in page_blocks(README) if b.lang == "bash"]
    assert bash[1] == 'pip install -e ".[test]" && python -m pytest'
    ci = (ROOT / ".ci" / "run").read_text()
    assert 'python -m pip install -q -e ".[test]"' in ci and "\npython -m pytest\n" in ci


# --- links ------------------------------------------------------------------------------


def _relative_links(path: Path) -> list[str]:
    """The targets of the page's links to files of this repository, ``file#anchor`` kept."""
    targets = re.findall(r"\]\(([^)\s]+)\)", _prose(path))
    return [t for t in targets if not re.match(r"[a-z]+:", t)]


def _anchors(path: Path) -> set[str]:
    """The anchors GitHub makes of a page's headings."""
    headings = re.findall(r"^#+ (.+)$", _prose(path), flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page):
    """Every link to a file names one that exists, and every #anchor a heading of it."""
    broken = []
    for target in _relative_links(page):
        file, _, anchor = target.partition("#")
        path = page.parent / file if file else page
        if not path.exists() or (anchor and anchor not in _anchors(path)):
            broken.append(target)
    assert not broken, f"{page.relative_to(ROOT)} has broken links: {broken}"


def test_readme_links_every_docs_page():
    linked = {(ROOT / t.partition("#")[0]).resolve() for t in _relative_links(README)}
    unlinked = [p.name for p in PAGES[1:] if p.resolve() not in linked]
    assert not unlinked, f"README.md does not link to docs/ pages {unlinked}"


# --- the console flow in a fresh virtual environment ------------------------------------


FILE_BLOCKS = [b for b in BLOCKS if b.marker.startswith("file: ")]
RUN_COMMANDS = [
    c for b in BLOCKS if b.lang == "console" and b.marker == "run" for c in _commands(b)
]


def test_file_blocks_name_distinct_paths():
    paths = [b.marker.removeprefix("file: ") for b in FILE_BLOCKS]
    assert len(paths) == len(set(paths)), f"a path is given twice: {sorted(paths)}"


@dataclass
class Workspace:
    """A fresh virtual environment with gradrace installed, and the project folder of the docs."""

    folder: Path
    env: dict[str, str]
    results: dict[int, subprocess.CompletedProcess] = field(default_factory=dict)

    def run_through(self, index: int) -> subprocess.CompletedProcess:
        """Run the commands up to ``RUN_COMMANDS[index]`` in order, each once; its result."""
        for i in range(index + 1):
            if i not in self.results:
                self.results[i] = self._run(RUN_COMMANDS[i].text)
            if i < index and self.results[i].returncode != 0:
                pytest.fail(f"an earlier command failed: {RUN_COMMANDS[i].where}")
        return self.results[index]

    def output(self, prefix: str) -> str:
        """The output of the first command starting with ``prefix``, run in order."""
        index = next((i for i, c in enumerate(RUN_COMMANDS) if c.text.startswith(prefix)), None)
        if index is None:
            pytest.fail(f"no command starting with {prefix!r} is marked <!-- run -->")
        result = self.run_through(index)
        assert result.returncode == 0, f"{RUN_COMMANDS[index].where}: $ {RUN_COMMANDS[index].text}"
        return result.stdout

    def _run(self, command: str) -> subprocess.CompletedProcess:
        cwd = ROOT if command.startswith("pytest tests/") else self.folder
        if cwd == ROOT:  # gradrace's own test suite, from its checkout
            command += f" -p no:cacheprovider --benchmark-storage={self.folder / '.bench'}"
        return subprocess.run(
            command, shell=True, env=self.env, cwd=cwd, capture_output=True, text=True, timeout=600
        )


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Workspace:
    """One fresh virtual environment for every console flow of the docs (venvs are slow)."""
    tmp = tmp_path_factory.mktemp("docs-flow")
    env_dir, folder = tmp / "venv", tmp / "project"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    env = {
        **os.environ,
        "PATH": f"{env_dir / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "VIRTUAL_ENV": str(env_dir),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    env.pop("PYTHONPATH", None)
    folder.mkdir()
    subprocess.run(["pip", "install", "-q", "-e", str(ROOT)], env=env, check=True, cwd=folder)
    for block in FILE_BLOCKS:
        path = folder / block.marker.removeprefix("file: ")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(block.code, encoding="utf-8")
    return Workspace(folder, env)


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(RUN_COMMANDS)), ids=lambda i: RUN_COMMANDS[i].where)
def test_console_command_runs_in_a_fresh_virtual_environment(index, workspace):
    command = RUN_COMMANDS[index]
    result = workspace.run_through(index)
    assert result.returncode == 0, (
        f"{command.where}: $ {command.text}\n{result.stdout}\n{result.stderr}"
    )


@pytest.mark.slow
def test_readme_plugin_shows_up_everywhere(workspace):
    """The README's plugin, once installed: in the list, check, run, report and pytest-benchmark."""
    shown = (
        "gradrace check --plugin my-gradrace-plugin",
        "gradrace list",
        "gradrace check --impl my-numpy",
        "gradrace run --quick --impl my-numpy",
        "(cd my-gradrace-plugin && pytest --pyargs gradrace.benchmarks",
    )
    for prefix in shown:
        assert "my-numpy" in workspace.output(prefix), f"my-numpy missing from $ {prefix} …"
    workspace.output("gradrace report my-gradrace-plugin/out.json")
    assert "my-numpy" in (workspace.folder / "bench-report" / "index.html").read_text(
        encoding="utf-8"
    )
    workspace.output("gradrace report my-run")
    assert "my-numpy" in (workspace.folder / "my-run" / "index.html").read_text(encoding="utf-8")
    assert "numba" in workspace.output("gradrace list")  # the built-ins are there too
