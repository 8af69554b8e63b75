"""The report's plots: matplotlib on the Agg backend, one function per plot.

Every function takes the rows to draw and the implementations' looks (one colour and
marker each, shared by every plot) and returns a Figure; ``png`` renders it to the
bytes that go both into the HTML and beside it as a file. Sizes span decades, so
size axes are logarithmic; times are labelled in s/ms/µs, not exponents.
"""

from __future__ import annotations

import functools
import io
import math
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import ParamSpec

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from gradrace.reports import limits
from gradrace.reports.data import implementations, size_label
from gradrace.reports.style import Look
from gradrace.units import count, format_bytes, times

DPI = 130
PANEL = (3.7, 3.0)  # inches per panel
STYLE = {
    "font.size": 9.5,
    "axes.titlesize": 10,
    "axes.labelsize": 9.5,
    "legend.fontsize": 9,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "grid.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 1.6,
    "lines.markersize": 5.5,
    "savefig.facecolor": "white",
    "figure.facecolor": "white",
}
P = ParamSpec("P")
BAND = "shaded: interquartile range of the timing rounds"


def styled(plot: Callable[P, Figure]) -> Callable[P, Figure]:
    """Draw ``plot`` under the report's style without touching the global rcParams."""

    @functools.wraps(plot)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Figure:
        with plt.rc_context(STYLE):
            return plot(*args, **kwargs)

    return wrapper


def _seconds(value: float, _pos=None) -> str:
    if value <= 0:
        return ""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if value >= scale * 0.999:
            return f"{value / scale:g} {unit}"
    return f"{value:.0e} s"


def _bytes(value: float, _pos=None) -> str:
    return format_bytes(value) if value > 0 else ""


def _count(value: float, _pos=None) -> str:
    return count(value) if value >= 1 else f"{value:g}"


def _times(value: float, _pos=None) -> str:
    return f"{value:g}×"


def _log_axis(axis, formatter) -> None:
    axis.set_major_locator(LogLocator(base=10, numticks=12))
    axis.set_major_formatter(FuncFormatter(formatter))
    axis.set_minor_formatter(NullFormatter())


def png(fig: Figure, path: str | Path | None = None) -> bytes:
    """The figure as PNG bytes (also written to ``path``); the figure is closed."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", facecolor="white")
    plt.close(fig)
    data = buffer.getvalue()
    if path is not None:
        write_atomically(Path(path), data)
    return data


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``:
    a full disk or an interruption leaves the old file or none, never a truncated one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is not
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _grid(
    panels: int,
    width: float = PANEL[0],
    height: float = PANEL[1],
    cols: int = 4,
    sharey: bool = True,
):
    panels = max(panels, 1)
    rows = math.ceil(panels / max(1, cols))
    cols = math.ceil(panels / rows)  # balanced: 5 panels make rows of 3 and 2, not 4 and 1
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(width * cols, height * rows),
        squeeze=False,
        sharey=sharey,
        layout="constrained",
    )
    flat = list(axes.flat)
    for ax in flat[panels:]:
        ax.set_visible(False)
    return fig, flat[:panels]


def label(name: str) -> str:
    """A name as matplotlib text: a ``$`` would otherwise start mathtext."""
    return name.replace("$", r"\$")


def _legend(fig: Figure, looks: dict[str, Look], names: Sequence[str]) -> None:
    handles = [
        plt.Line2D(
            [],
            [],
            color=looks[n].colour,
            marker=looks[n].marker,
            linestyle=looks[n].dashes,
            label=label(n),
        )
        for n in names
    ]
    fig.legend(
        handles=handles, loc="outside lower center", ncols=min(len(handles), 6), frameon=False
    )


def _quartiles(rows: pd.DataFrame, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and third quartiles of the rounds; median ± IQR/2 for files without them."""
    half = rows["iqr_s"].fillna(0).to_numpy(float) / 2
    q1 = rows["q1_s"].to_numpy(float) if "q1_s" in rows else np.full_like(t, np.nan)
    q3 = rows["q3_s"].to_numpy(float) if "q3_s" in rows else np.full_like(t, np.nan)
    return np.where(np.isnan(q1), t - half, q1), np.where(np.isnan(q3), t + half, q3)


def _line(ax, x, rows: pd.DataFrame, look: Look, band: bool = True) -> None:
    """A median line with the interquartile range of the timing rounds as its band."""
    t = rows["median_s"].to_numpy(float)
    ax.plot(x, t, color=look.colour, marker=look.marker, linestyle=look.dashes)
    if band:
        low, high = _quartiles(rows, t)
        ax.fill_between(
            x, np.maximum(low, t * 0.01), high, color=look.colour, alpha=0.18, linewidth=0
        )


def _time_panels(rows: pd.DataFrame, looks, along: str, fixed: str, title: str) -> Figure:
    counts = rows.groupby(fixed)[along].nunique()
    values, note = limits.panel_values(counts[counts > 1].index, fixed)
    fig, axes = _grid(max(len(values), 1))
    for ax, value in zip(axes, values, strict=False):
        at = rows[rows[fixed] == value]
        for name in implementations(at):
            line = at[at["implementation"] == name].sort_values(along)
            _line(ax, line[along].to_numpy(float), line, looks[name])
        ax.set(
            xscale="log",
            yscale="log",
            title=f"{fixed} = {value:,}",
            xlabel=f"{along} ({'samples' if along == 'm' else 'features'}, log)",
        )
        _log_axis(ax.xaxis, _count)
        _log_axis(ax.yaxis, _seconds)
    axes[0].set_ylabel("time per gradient (log)")
    if not values:
        axes[0].text(
            0.5,
            0.5,
            f"one {along} per {fixed}: no line to draw",
            ha="center",
            transform=axes[0].transAxes,
        )
    fig.suptitle(f"{title}\n{note}" if note else title)
    _legend(fig, looks, implementations(rows))
    return limits.noted(fig, note)


@styled
def time_vs_m(rows: pd.DataFrame, looks: dict[str, Look]) -> Figure:
    """Time per gradient against m, one panel per n, the IQR as a band (agreeing rows)."""
    return _time_panels(rows, looks, "m", "n", f"Time per gradient against m ({BAND})")


@styled
def time_vs_n(rows: pd.DataFrame, looks: dict[str, Look]) -> Figure:
    """Time per gradient against n, one panel per m (agreeing rows)."""
    return _time_panels(rows, looks, "n", "m", f"Time per gradient against n ({BAND})")


def _read_bytes(rows: pd.DataFrame) -> pd.Series:
    """The bytes a gradient must read on each row's case: X and Y."""
    return rows["x_bytes"] + rows["m"].astype(float) * rows["k"].astype(float) * rows["itemsize"]


def _floors(at: pd.DataFrame) -> pd.DataFrame:
    """Per size of one panel: the bytes of X and Y, and the rates (GB/s of those bytes) of
    the two floors timed beside the implementations, the read of X and Y and the least
    flops at the in-round peak (NaN where the run did not measure them)."""
    frame = at.assign(
        data_bytes=_read_bytes(at),
        read=pd.to_numeric(at.get("read_s"), errors="coerce"),
        peak=pd.to_numeric(at.get("peak_gflops"), errors="coerce"),
    )
    frame["read_gbs"] = frame["data_bytes"] / frame["read"] / 1e9
    flops = 4.0 * frame["m"].astype(float) * frame["n"].astype(float) * frame["k"].astype(float)
    frame["compute_gbs"] = frame["data_bytes"] * frame["peak"] / flops
    return frame.groupby("data_bytes")[["read_gbs", "compute_gbs"]].median().reset_index()


@styled
def throughput(rows: pd.DataFrame, looks: dict[str, Look], bandwidth_gbs: float | None) -> Figure:
    """A roofline: effective bandwidth (bytes of X and Y ÷ time) against those bytes, one
    panel per n, under the two floors timed in the same rounds (the read of X and Y, and
    the least flops at the in-round peak); the run's bandwidth where they were not timed."""
    values, note = limits.panel_values(rows["n"], "n")
    fig, axes = _grid(len(values))
    in_round = False
    for ax, n in zip(axes, values, strict=True):
        at = rows[rows["n"] == n]
        for name in implementations(at):
            line = at[at["implementation"] == name].assign(data_bytes=lambda f: _read_bytes(f))
            line = line.sort_values("data_bytes")
            look = looks[name]
            rate = line["data_bytes"] / line["median_s"].astype(float) / 1e9
            ax.plot(
                line["data_bytes"],
                rate,
                color=look.colour,
                marker=look.marker,
                linestyle=look.dashes,
            )
        floors = _floors(at)
        if floors["read_gbs"].notna().any():
            in_round = True
            ax.plot(floors["data_bytes"], floors["read_gbs"], color="black", linewidth=2.2)
            ax.plot(floors["data_bytes"], floors["compute_gbs"], color="black", linestyle="--")
        elif bandwidth_gbs:
            ax.axhline(bandwidth_gbs, color="black", linewidth=2.2)
        ax.set(xscale="log", yscale="log", title=f"n = {n:,}", xlabel="bytes of X and Y (log)")
        _log_axis(ax.xaxis, _bytes)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axes[0].set_ylabel("effective bandwidth (GB/s, log)")
    if in_round:
        fig.suptitle(
            "Roofline: bytes of X and Y ÷ time, under the read of X and Y (solid) and the "
            "least flops at the peak (dashed), both timed beside the implementations"
        )
    elif bandwidth_gbs:
        axes[0].annotate(
            f"measured read bandwidth {bandwidth_gbs:.3g} GB/s",
            (0.02, bandwidth_gbs),
            xycoords=("axes fraction", "data"),
            xytext=(0, -4),
            textcoords="offset points",
            fontsize=8.5,
            va="top",
        )
        fig.suptitle("Throughput: bytes of X and Y ÷ time, against the measured memory bandwidth")
    else:
        fig.suptitle(
            "Throughput: bytes of X and Y ÷ time (machine bandwidth not measured: no ceiling)"
        )
    if note:
        fig.suptitle(f"{fig.get_suptitle()}\n{note}")
    _legend(fig, looks, implementations(rows))
    return limits.noted(fig, note)


def _cell_text(status: str) -> str:
    return {"skipped": "skip", "error": "error", "disagrees": "≠ ref"}.get(status, "–")


def _short(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.2g}"


def _ratio_text(value: float) -> str:
    return f"{_short(value)}×" if value >= 0.1 else f"1/{_short(1 / value)}"


#: More sizes than this and the heatmap puts sizes down the side instead of across.
WIDE = 10


@styled
def speedup_heatmap(rows: pd.DataFrame, baseline: str) -> Figure:
    """Implementation × size: baseline time ÷ implementation time (> 1: faster than the
    baseline), on a log colour scale centred on 1; cells not timed say why."""
    names = implementations(rows)
    rows, note = limits.heatmap_rows(rows)
    sizes = rows[["n", "m"]].drop_duplicates().sort_values(["n", "m"])
    keys = list(zip(sizes["n"], sizes["m"], strict=True))
    ok = rows[rows["status"] == "ok"]
    times = ok.pivot_table(index="implementation", columns=["n", "m"], values="median_s")
    times = times.reindex(index=names, columns=pd.MultiIndex.from_tuples(keys, names=["n", "m"]))
    ratio = times.loc[baseline] / times if baseline in times.index else times * np.nan
    status = rows.drop_duplicates(["implementation", "n", "m"]).set_index(
        ["implementation", "n", "m"]
    )["status"]
    text = [
        [
            _ratio_text(ratio.loc[name, key])
            if np.isfinite(ratio.loc[name, key])
            else _cell_text(str(status.get((name, *key), "")))
            for key in keys
        ]
        for name in names
    ]
    values = np.log10(ratio.to_numpy(float))
    row_labels, col_labels = [label(n) for n in names], [size_label(m, n) for n, m in keys]
    tall = len(keys) > WIDE
    if tall:
        values, text = values.T, [list(col) for col in zip(*text, strict=True)]
        row_labels, col_labels = col_labels, names
    finite = np.abs(values[np.isfinite(values)])
    span = max(float(finite.max()) if finite.size else 1.0, 0.3)
    fig, ax = plt.subplots(
        figsize=(max(6.0, 0.8 * len(col_labels) + 2.6), 0.34 * len(row_labels) + 2.2),
        layout="constrained",
    )
    ax.grid(False)
    ax.set_facecolor("#e8e8e8")
    image = ax.imshow(values, cmap="RdBu", norm=TwoSlopeNorm(0.0, -span, span), aspect="auto")
    for i, line in enumerate(text):
        for j, cell in enumerate(line):
            value = values[i, j]
            dark = np.isfinite(value) and abs(value) > 0.6 * span
            ax.text(
                j,
                i,
                cell,
                ha="center",
                va="center",
                fontsize=7.5,
                color="white" if dark else ("black" if np.isfinite(value) else "#555"),
            )
    ax.set_xticks(
        range(len(col_labels)), col_labels, rotation=35, ha="right", rotation_mode="anchor"
    )
    ax.set_yticks(range(len(row_labels)), row_labels)
    ax.tick_params(length=0)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    bar = fig.colorbar(image, ax=ax, shrink=0.9, pad=0.01)
    ticks = [t for t in (-3, -2, -1, 0, 1, 2, 3) if abs(t) <= span]
    bar.set_ticks(ticks, labels=[_times(10.0**t) for t in ticks])
    bar.set_label(f"speedup over {label(baseline)} (log)")
    title = f"Speedup over {label(baseline)}: its time ÷ this implementation's time (blue: faster)"
    ax.set_title(f"{title}\n{note}" if note else title)
    if tall:
        ax.set_ylabel("size (sorted by n, then m)")
    else:
        ax.set_xlabel("size (sorted by n, then m)")
    return limits.noted(fig, note)


@styled
def model_fit(predicted: pd.DataFrame, looks: dict[str, Look], miss: float = 2.0) -> Figure:
    """Measured median against the cost model's prediction, log–log; the band is ±``miss``×."""
    fig, ax = plt.subplots(figsize=(6.4, 5.0), layout="constrained")
    names = implementations(predicted)
    for name in names:
        own = predicted[predicted["implementation"] == name]
        ax.scatter(
            own["predicted_s"],
            own["median_s"],
            color=looks[name].colour,
            marker=looks[name].marker,
            s=28,
            zorder=3,
        )
    both = pd.concat([predicted["predicted_s"], predicted["median_s"]])
    both = both[both > 0]
    lo, hi = (both.min() / 3, both.max() * 3) if len(both) else (1e-6, 1.0)
    diagonal = np.array([lo, hi])
    ax.plot(diagonal, diagonal, color="black", linewidth=1)
    ax.fill_between(
        diagonal, diagonal / miss, diagonal * miss, color="#999", alpha=0.2, linewidth=0
    )
    ax.set(
        xscale="log",
        yscale="log",
        xlim=(lo, hi),
        ylim=(lo, hi),
        aspect="equal",
        xlabel="predicted by the cost model (log)",
        ylabel="measured median (log)",
        title=f"Model against measurement (grey: within {miss:g}×)",
    )
    _log_axis(ax.xaxis, _seconds)
    _log_axis(ax.yaxis, _seconds)
    _legend(fig, looks, names)
    return fig


@styled
def prepare_times(rows: pd.DataFrame, looks: dict[str, Look]) -> Figure:
    """Untimed preparation (layout changes, JIT compilation) per size: what a first call costs."""
    fig, ax = plt.subplots(figsize=(7.5, 4.0), layout="constrained")
    shown = rows[rows["prepare_s"] > 0]
    for name in implementations(shown):
        own = shown[shown["implementation"] == name].sort_values("x_bytes")
        look = looks[name]
        ax.scatter(own["x_bytes"], own["prepare_s"], color=look.colour, marker=look.marker, s=26)
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="size of X (bytes, log)",
        ylabel="prepare time (log)",
        title="Preparation before the timed calls, per case",
    )
    _log_axis(ax.xaxis, _bytes)
    _log_axis(ax.yaxis, _seconds)
    if shown.empty:
        ax.text(0.5, 0.5, "no preparation time recorded", ha="center", transform=ax.transAxes)
    _legend(fig, looks, implementations(shown))
    return fig


@styled
def headline_bars(
    panels: list[tuple[str, dict[str, tuple[float, int]]]], looks: dict[str, Look]
) -> Figure:
    """One panel per size regime: each implementation's time ÷ the fastest time, as a
    geometric mean over the regime's sizes (1× = fastest at every size), fastest on top.

    ``panels`` holds (title, {name: (slowdown, sizes timed)}) per regime; an implementation
    timed on fewer sizes than the others is hatched.
    """
    longest = max((len(s) for _, s in panels), default=1)
    fig, axes = _grid(
        max(len(panels), 1), width=4.2, height=0.3 * longest + 1.3, cols=3, sharey=False
    )
    for ax, (title, slowdowns) in zip(axes, panels, strict=False):
        names = sorted(slowdowns, key=lambda n: -slowdowns[n][0])
        values = [slowdowns[n][0] for n in names]
        cover = max(c for _, c in slowdowns.values())
        bars = ax.barh(
            range(len(names)), values, color=[looks[n].colour for n in names], height=0.7
        )
        for bar, name in zip(bars, names, strict=True):
            if slowdowns[name][1] < cover:
                bar.set_hatch("///")
                bar.set_alpha(0.6)
        for y, value in enumerate(values):
            ax.annotate(
                times(value),
                (value, y),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
        ax.set_yticks(range(len(names)), [label(n) for n in names])
        ax.set(xscale="log", title=title, xlabel="time ÷ fastest time (geometric mean, log)")
        ax.set_xlim(min(0.8, min(values) * 0.5), max(values) * 4)  # gram can be below 1×
        ax.grid(axis="y", visible=False)
        ax.xaxis.set_major_formatter(FuncFormatter(_times))
        ax.xaxis.set_minor_formatter(NullFormatter())
    return fig


@styled
def comparison(table: pd.DataFrame, looks: dict[str, Look], threshold: float) -> Figure:
    """New ÷ old median per case against the size of X; outside the band is flagged."""
    fig, ax = plt.subplots(figsize=(7.5, 4.2), layout="constrained")
    rows = table.assign(
        x_bytes=table["m"] * table["n"] * [8 if d == "float64" else 4 for d in table["dtype"]]
    )
    for name in implementations(rows):
        own = rows[rows["implementation"] == name]
        ax.scatter(
            own["x_bytes"],
            own["ratio"],
            color=looks[name].colour,
            marker=looks[name].marker,
            s=30,
            zorder=3,
        )
    ax.axhspan(1 / threshold, threshold, color="#999", alpha=0.2, linewidth=0)
    ax.axhline(1.0, color="black", linewidth=1)
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="size of X (bytes, log)",
        ylabel="new median ÷ old median (log)",
        title=f"Change per case (above the grey band: more than {threshold:g}× slower)",
    )
    _log_axis(ax.xaxis, _bytes)
    ax.yaxis.set_major_formatter(FuncFormatter(_times))
    ax.yaxis.set_minor_formatter(NullFormatter())
    low, high = ax.get_ylim()
    ax.set_ylim(min(low, 0.5), max(high, 2.0))
    _legend(fig, looks, implementations(rows))
    return fig
