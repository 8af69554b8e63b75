"""README code blocks run as tests, so the README cannot drift from the code.

- Implementation excerpts must be lines of the modules they quote.
- Blocks marked ``<!-- run -->`` run: Python in a scratch folder, console commands (``$ …``)
  in a fresh virtual environment together with the files marked ``<!-- file: PATH -->``,
  exactly as a new user following the plugin section would.
- Every ``gradrace`` command shown must parse with the real command-line parser.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path

import pytest

from gradrace.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MODULES = ROOT / "src" / "gradrace" / "implementations"


@dataclass
class Block:
    lang: str
    code: str
    marker: str  # '' | 'run' | 'file: PATH'
    line: int


def readme_blocks() -> list[Block]:
    blocks, marker, lines = [], "", README.read_text(encoding="utf-8").splitlines()
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
            blocks.append(Block(line[3:].strip(), "\n".join(body) + "\n", marker, start + 1))
            marker = ""
        elif line.strip():
            marker = ""
        i += 1
    return blocks


def _code(line: str) -> str:
    return line.split("  #")[0].strip()


EXCERPTS = [b for b in readme_blocks() if b.lang == "python" and b.code.startswith("# ")]
MODULE_OF = {"python-loops": "python_loops", "numpy-dot": "numpy_dot", "einsum": "einsum",
             "reshaped-mn1": "reshaped_mn1", "numba": "numba_loops"}  # fmt: skip


@pytest.mark.parametrize("block", EXCERPTS, ids=lambda b: b.code.split()[1].rstrip(":"))
def test_implementation_excerpts_quote_their_modules(block):
    name = block.code.split()[1].rstrip(":")
    source = {_code(line) for line in (MODULES / f"{MODULE_OF[name]}.py").read_text().splitlines()}
    for line in block.code.splitlines():
        code = _code(line)
        if code and not code.startswith("#") and code != "...":
            assert code in source, f"README line {block.line}: {code!r} is not in {name}'s module"


def test_python_examples_run_as_scripts(tmp_path):
    """Each runnable Python block, saved as a file and run by a fresh interpreter."""
    runnable = [b for b in readme_blocks() if b.lang == "python" and b.marker == "run"]
    assert runnable
    for block in runnable:
        script = tmp_path / f"readme_{block.line}.py"
        script.write_text(block.code, encoding="utf-8")
        result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                                text=True, timeout=300)  # fmt: skip
        assert result.returncode == 0, f"README.md:{block.line}\n{result.stdout}\n{result.stderr}"


def _commands(block: Block) -> list[str]:
    """The ``$ `` command lines of a console block, continuation lines joined."""
    commands, lines = [], iter(block.code.splitlines())
    for line in lines:
        if line.startswith("$ "):
            command = line[2:]
            while command.endswith("\\"):
                command = command[:-1] + next(lines).strip()
            commands.append(command)
    return commands


def _program_words(words: list[str]) -> list[str]:
    """The command without leading VAR=value assignments, ``python -m gradrace`` as ``gradrace``."""
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", words[0]):
        words = words[1:]
    if words[:3] in (["python", "-m", "gradrace"], ["python3", "-m", "gradrace"]):
        words = ["gradrace", *words[3:]]
    return words


def test_program_words_drop_assignments_and_python_m():
    words = ["A=1", "B_2=x", "python3", "-m", "gradrace", "run"]
    assert _program_words(words) == ["gradrace", "run"]
    assert _program_words(["gradrace", "check"]) == ["gradrace", "check"]
    assert _program_words(["pip", "install"]) == ["pip", "install"]


def test_every_gradrace_command_shown_parses():
    commands = []
    for block in readme_blocks():
        lines = block.code.splitlines() if block.lang == "bash" else _commands(block)
        for line in lines:
            for part in line.split("&&"):
                words = _program_words(shlex.split(part.split("#")[0]))
                if words[:1] == ["gradrace"]:
                    commands.append(words[1:])
    assert len(commands) >= 6
    parser = build_parser()
    for words in commands:
        parser.parse_args(words)  # SystemExit (a failure) on an unknown option


def test_quick_start_test_command_is_what_ci_runs():
    bash = [b.code.strip() for b in readme_blocks() if b.lang == "bash"]
    assert bash[1] == 'pip install -e ".[test]" && python -m pytest'
    ci = (ROOT / ".ci" / "run").read_text()
    assert 'python -m pip install -q -e ".[test]"' in ci and "\npython -m pytest\n" in ci


@pytest.mark.slow
def test_plugin_section_verbatim_in_a_fresh_virtual_environment(tmp_path):
    """Install gradrace into a new venv, write the plugin files, run every command shown."""
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    env = {**os.environ, "PATH": f"{env_dir / 'bin'}{os.pathsep}{os.environ['PATH']}",
           "VIRTUAL_ENV": str(env_dir), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}  # fmt: skip
    env.pop("PYTHONPATH", None)
    subprocess.run(["pip", "install", "-q", "-e", str(ROOT)], env=env, check=True, cwd=tmp_path)
    blocks = readme_blocks()
    for block in blocks:
        if block.marker.startswith("file: "):
            path = tmp_path / block.marker.removeprefix("file: ")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(block.code, encoding="utf-8")
    plugin_commands = [
        c for b in blocks if b.lang == "console" and b.marker == "run" for c in _commands(b)
    ]
    assert len(plugin_commands) >= 8
    outputs = {}
    for command in plugin_commands:
        cwd = ROOT if command.startswith("pytest tests/benchmarks") else tmp_path
        if cwd == ROOT:
            command += f" -p no:cacheprovider --benchmark-storage={tmp_path / 'bench'}"
        result = subprocess.run(command, shell=True, env=env, cwd=cwd, capture_output=True,
                                text=True, timeout=600)  # fmt: skip
        assert result.returncode == 0, f"$ {command}\n{result.stdout}\n{result.stderr}"
        outputs[command] = result.stdout
    shown = [c for c in outputs if c.startswith(("gradrace list", "gradrace check", "gradrace run",
                                                 "pytest tests/benchmarks"))]  # fmt: skip
    assert len(shown) == 5
    for command in shown:
        assert "my-numpy" in outputs[command], f"my-numpy missing from the output of $ {command}"
    assert "my-numpy" in (tmp_path / "my-run" / "index.html").read_text(encoding="utf-8")
    assert "numba" in outputs["gradrace list"]  # the built-ins are there too
