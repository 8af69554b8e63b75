"""A learner's notebook, executed through a real Jupyter kernel: gradrace.check and
gradrace.race display HTML tables and an inline plot, and write nothing beside the notebook.

The kernel runs this interpreter (``sys.executable``) from a kernel spec in a temporary
folder, so no kernel has to be installed; IPython's and Jupyter's own files go there too.
"""

import json
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

import gradrace

KERNEL = "gradrace-test"
SOURCE = str(Path(gradrace.__file__).resolve().parents[1])  # the gradrace under test
PNG = '<img src="data:image/png;base64,'

GRADRACE_CONVENTION = '''
def my_gradient(X, Y, W, b, lam):
    """My ridge gradient, vectorized."""
    m = X.shape[0]
    residual = X @ W + b - Y          # (m, k)
    dW = X.T @ residual / m + (lam / m) * W
    db = residual.mean(axis=0)
    return dW, db
'''

COURSE_CONVENTION = '''
def compute_gradient_linear_reg(X, y, w, b, lambda_):
    """The course lab's gradient: X (m, n), y (m,), w (n,), b a float."""
    m, n = X.shape
    err = X @ w + b - y               # (m,)
    dj_dw = X.T @ err / m + (lambda_ / m) * w
    dj_db = err.mean()
    return dj_db, dj_dw
'''


def _kernel(tmp: Path) -> KernelManager:
    """A kernel manager for this interpreter, its spec and files kept under ``tmp``."""
    spec = tmp / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    env = {"PYTHONPATH": SOURCE, "IPYTHONDIR": str(tmp / "ipython")}
    spec_json = {"argv": argv, "display_name": KERNEL, "language": "python", "env": env}
    (spec / "kernel.json").write_text(json.dumps(spec_json))
    specs = KernelSpecManager(kernel_dirs=[str(tmp / "kernels")])
    return KernelManager(
        kernel_name=KERNEL, kernel_spec_manager=specs, connection_file=str(tmp / "kernel.json")
    )


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def execute(cells: list[str], tmp_path: Path, monkeypatch) -> list[dict]:
    """Run ``cells`` as a notebook in its own folder; return each cell's outputs and
    check that the folder holds exactly the notebook afterwards."""
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    lab = tmp_path / "lab"
    lab.mkdir()
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbformat.write(notebook, lab / "lab.ipynb")
    client = NotebookClient(
        nbformat.read(lab / "lab.ipynb", as_version=4),
        km=_kernel(tmp_path / "jupyter"),
        timeout=600,
        resources={"metadata": {"path": str(lab)}},
    )
    executed = client.execute()
    assert _files(lab) == ["lab.ipynb"], "the notebook wrote files beside itself"
    return [cell.outputs for cell in executed.cells]


def _html(outputs: list) -> str:
    found = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert len(found) == 1, f"expected one text/html output, got {outputs}"
    assert any("text/plain" in o.get("data", {}) for o in outputs)
    return found[0]


PREAMBLE = [
    "import matplotlib\nbackend = matplotlib.get_backend()",
    f"import gradrace\nassert gradrace.__file__.startswith({SOURCE!r}), gradrace.__file__",
]
SIZES = "m=(100, 1_000), threads=1"


@pytest.mark.slow
def test_a_notebook_checks_and_races_a_learner_function(tmp_path, monkeypatch):
    outputs = execute(
        PREAMBLE
        + [
            GRADRACE_CONVENTION,
            "result = gradrace.check(my_gradient)\nresult",
            "assert result.agrees, result",
            f"timing = gradrace.race(my_gradient, against=('numpy-dot', 'einsum'), {SIZES})\n"
            "timing",
            "assert matplotlib.get_backend() == backend  # the notebook's plots are untouched\n"
            "timing.results[['implementation', 'm', 'status', 'median_s']]",
        ],
        tmp_path,
        monkeypatch,
    )
    check_html = _html(outputs[3])
    assert "<table>" in check_html and "<th>my_gradient</th>" in check_html
    assert "agrees (24/24 cases)" in check_html
    race_html = _html(outputs[5])
    assert "<table>" in race_html and "Median time per gradient" in race_html
    for name in ("my_gradient", "numpy-dot", "einsum"):
        assert f"<th>{name}</th>" in race_html
    assert PNG in race_html
    frame_html = _html(outputs[6])  # the results DataFrame, as pandas shows it
    assert "median_s" in frame_html and "my_gradient" in frame_html


@pytest.mark.slow
def test_course_function_from_a_notebook(tmp_path, monkeypatch):
    """A function in the course's convention, (X, y, w, b, lambda_) -> (dj_db, dj_dw), is
    recognised where it becomes an Implementation: it agrees wherever k = 1 applies."""
    outputs = execute(
        PREAMBLE
        + [
            COURSE_CONVENTION,
            "result = gradrace.check(compute_gradient_linear_reg)\nresult",
            "assert result.agrees, result",
            "timing = gradrace.race(compute_gradient_linear_reg, against=('numpy-dot',), "
            f"{SIZES})\ntiming",
            "statuses = timing.results.set_index('implementation')['status']\n"
            "assert (statuses == 'ok').all(), timing",
        ],
        tmp_path,
        monkeypatch,
    )
    check_html = _html(outputs[3])
    assert "<th>compute_gradient_linear_reg</th>" in check_html
    assert "agrees (12/12 cases; 12 n/a)" in check_html
    race_html = _html(outputs[5])
    assert "<th>compute_gradient_linear_reg</th>" in race_html and PNG in race_html
