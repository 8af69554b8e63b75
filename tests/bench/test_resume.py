"""--resume loads no code named in a results file: plugins must be given again."""

import json
from pathlib import Path

import pytest

from gradrace import run
from gradrace.cli import main

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"
MARKER_PLUGIN = f"{PLUGINS / 'writes_marker.py'}:marker"
FAST = dict(isolate=False, entry_points=False, threads=1, quick=True)


def _folder_naming(tmp_path, plugins):
    """A finished run's folder whose results.json names ``plugins`` (as one sent by someone)."""
    out = tmp_path / "sent"
    run(m=[10], n=[2], impl=["numpy-dot"], out=out, **FAST)
    payload = json.loads((out / "results.json").read_text())
    payload["metadata"]["config"]["plugins"] = plugins
    (out / "results.json").write_text(json.dumps(payload))
    return out


def test_resume_does_not_import_a_plugin_named_only_in_the_results(tmp_path, monkeypatch, capsys):
    marker = tmp_path / "imported"
    monkeypatch.setenv("GRADRACE_TEST_MARKER", str(marker))
    out = _folder_naming(tmp_path, [MARKER_PLUGIN])
    assert main(["run", "--out", str(out), "--resume"]) == 2
    err = capsys.readouterr().err
    assert not marker.exists()
    assert f"to continue it, add: --plugin {MARKER_PLUGIN}" in err


def test_resume_loads_the_plugins_given_again(tmp_path, monkeypatch):
    marker = tmp_path / "imported"
    monkeypatch.setenv("GRADRACE_TEST_MARKER", str(marker))
    out = _folder_naming(tmp_path, [MARKER_PLUGIN])
    run(out=out, resume=True, plugins=[MARKER_PLUGIN])
    assert marker.exists()


def test_resume_refuses_a_plugin_that_was_not_part_of_the_run(tmp_path):
    out = _folder_naming(tmp_path, [])
    with pytest.raises(ValueError, match="was not part of the run; drop it"):
        run(out=out, resume=True, plugins=[MARKER_PLUGIN])


def test_resume_on_a_folder_without_a_run_config_says_so(tmp_path, capsys):
    (tmp_path / "results.json").write_text('{"metadata": {}, "results": []}')
    assert main(["run", "--out", str(tmp_path), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "holds no run config" in err and "cannot be resumed" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("where", "key", "value", "named"),
    [
        ("settings", "threads", 0, "threads"),
        ("settings", "budget_s", -1, "budget"),
        ("config", "timeout_s", -1, "timeout"),
        ("case", "m", -5, "m"),
        ("settings", "rounds", 0, "rounds"),
    ],
)
def test_resume_refuses_a_stored_config_the_command_line_would_refuse(
    tmp_path, where, key, value, named
):
    out = _folder_naming(tmp_path, [])
    payload = json.loads((out / "results.json").read_text())
    config = payload["metadata"]["config"]
    target = {"settings": config["settings"], "config": config, "case": config["cases"][0]}
    target[where][key] = value
    (out / "results.json").write_text(json.dumps(payload))
    with pytest.raises(ValueError, match=f"its run config cannot be read back.*{named}"):
        run(out=out, resume=True)
