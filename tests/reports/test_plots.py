"""Plots: Agg, one function each, labelled log axes, one look per implementation everywhere."""

from __future__ import annotations

import io

import matplotlib
import pytest
from matplotlib.colors import to_hex
from PIL import Image
from synthetic_results import BANDWIDTH_GBS, EVIL

from gradrace.reports import plots
from gradrace.reports.data import agreeing, implementations
from gradrace.reports.model import predict
from gradrace.reports.style import looks


@pytest.fixture
def rows(results):
    return agreeing(results)


@pytest.fixture
def styles(results):
    return looks(implementations(results))


def _lines_by_colour(fig):
    return {to_hex(line.get_color()) for ax in fig.axes for line in ax.get_lines()}


def test_backend_is_agg():
    assert matplotlib.get_backend().lower() == "agg"


def test_png_is_a_readable_image(tmp_path, rows, styles):
    data = plots.png(plots.time_vs_m(rows, styles), tmp_path / "t.png")
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.width > 600 and image.height > 300
    assert (tmp_path / "t.png").read_bytes() == data


def test_time_vs_m_has_a_panel_per_n_on_log_axes(rows, styles):
    fig = plots.time_vs_m(rows, styles)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == ["n = 1", "n = 10", "n = 100"]
    assert all(ax.get_xscale() == "log" and ax.get_yscale() == "log" for ax in axes)
    assert "m (samples" in axes[0].get_xlabel() and "time per gradient" in axes[0].get_ylabel()
    assert all(len(ax.collections) >= 5 for ax in axes)  # an IQR band per implementation
    plots.png(fig)


def test_the_same_implementation_has_the_same_colour_in_every_plot(rows, styles):
    want = {styles[name].colour for name in implementations(rows)}
    for fig in (
        plots.time_vs_m(rows, styles),
        plots.time_vs_n(rows, styles),
        plots.throughput(rows, styles, BANDWIDTH_GBS),
    ):
        assert want <= _lines_by_colour(fig)
        plots.png(fig)
    others = {styles[n].colour for n in ("numpy-dot", "numba", "einsum", "python-loops")}
    assert styles[EVIL].colour not in others and len(others) == 4


def test_throughput_draws_the_measured_bandwidth_as_ceiling(rows, styles):
    fig = plots.throughput(rows, styles, BANDWIDTH_GBS)
    ceilings = [
        line
        for ax in fig.axes
        for line in ax.get_lines()
        if list(line.get_ydata()) == [BANDWIDTH_GBS, BANDWIDTH_GBS]
    ]
    assert len(ceilings) == 3
    assert "GB/s" in fig.axes[0].get_ylabel()
    plots.png(fig)


def test_heatmap_marks_cells_that_were_not_timed(results):
    fig = plots.speedup_heatmap(results, "numpy-dot")
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {"skip", "error", "≠ ref", "1×"} <= texts
    plots.png(fig)


def test_model_and_prepare_and_headline_plots_draw(results, rows, styles):
    table, _ = predict(results, results.attrs["metadata"], BANDWIDTH_GBS, 50.0, 2)
    for fig in (
        plots.model_fit(table, styles),
        plots.prepare_times(rows, styles),
        plots.headline_bars([("small", {"numba": (1.0, 3), "numpy-dot": (2.0, 2)})], styles),
    ):
        assert plots.png(fig)[:4] == b"\x89PNG"


def test_dollar_in_a_name_is_not_mathtext():
    assert plots.label("a$b$") == r"a\$b\$"


def test_a_png_that_does_not_fit_on_the_disk_leaves_no_truncated_file(tmp_path):
    """A file-size limit stands in for a full disk: the write fails part way."""
    import subprocess
    import sys

    script = """
import resource, signal, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from gradrace.reports import plots
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
fig, ax = plt.subplots()
ax.plot(range(1000), [i * i for i in range(1000)])
resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000))
try:
    plots.png(fig, sys.argv[1])
except OSError as exc:
    print("OSError", exc.errno)
"""
    target = tmp_path / "plot.png"
    result = subprocess.run(
        [sys.executable, "-c", script, str(target)], capture_output=True, text=True, timeout=120
    )
    assert "OSError" in result.stdout, result.stderr
    assert list(tmp_path.iterdir()) == []  # neither a truncated plot.png nor a temporary file


def test_the_roofline_draws_both_floors_timed_in_the_rounds(rows, styles):
    read_s = 8 * rows["m"] * (rows["n"] + rows["k"]) / 20e9  # X and Y read at 20 GB/s
    fig = plots.throughput(rows.assign(read_s=read_s, peak_gflops=50.0), styles, BANDWIDTH_GBS)
    black = [line for ax in fig.axes for line in ax.get_lines() if line.get_color() == "black"]
    solid = [line for line in black if line.get_linestyle() == "-"]
    dashed = [line for line in black if line.get_linestyle() == "--"]
    assert solid and len(solid) == len(dashed) == len(fig.axes)
    assert all(abs(y - 20.0) < 1e-9 for line in solid for y in line.get_ydata())
    flat = [list(line.get_ydata()) == [BANDWIDTH_GBS, BANDWIDTH_GBS] for line in black]
    assert not any(flat)  # the in-round floors replace the run's one bandwidth
    assert fig.get_suptitle().startswith("Roofline")
    plots.png(fig)
