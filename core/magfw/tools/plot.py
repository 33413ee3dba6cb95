"""Quicklook images: :func:`render` draws a :class:`~magfw.plugin.context.PlotSpec` to PNG;
:mod:`magfw.tools.quicklook` makes the spec of any product file (``magfw plot FILE``).

Matplotlib is used through its object API with the Agg canvas (``Figure`` +
``FigureCanvasAgg``), never pyplot and never ``matplotlib.use``: importing magfw must not
change the backend of a program that embeds it, and nothing here needs a display. The time
axis shows UTC with matplotlib's concise date formatter; NaN values and time gaps longer
than three nominal steps are drawn as breaks in the line, not bridged.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any

import numpy as np

from magfw.plugin.context import PlotPanel, PlotSpec

#: A time step larger than this many median steps is drawn as a gap.
GAP_FACTOR = 3.0

_DEFAULT_COLORS = ["tab:blue", "tab:orange", "tab:green", "black", "tab:red", "tab:purple"]


def _with_gaps(t: np.ndarray, ys: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Insert a NaT/NaN point wherever the time step exceeds GAP_FACTOR x the median step."""
    if t.size < 3:
        return t, ys
    step = np.diff(t.astype("datetime64[ns]").astype(np.int64))
    positive = step[step > 0]
    if positive.size == 0:
        return t, ys
    cut = np.flatnonzero(step > GAP_FACTOR * np.median(positive)) + 1
    if cut.size == 0:
        return t, ys
    t2 = np.insert(t.astype("datetime64[ns]"), cut, np.datetime64("NaT"))
    return t2, [np.insert(y.astype(np.float64), cut, np.nan) for y in ys]


def _envelope(t: np.ndarray, ys: list[np.ndarray], n_bins: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """Min/max of each series in ``n_bins`` equal time bins (two points per bin, NaN for an
    empty bin, i.e. a gap): what a pixel column can show, at a fraction of the points."""
    ok = t != np.int64(-9223372036854775808)
    t, ys = t[ok], [y[ok] for y in ys]
    edges = np.linspace(t.min(), t.max(), n_bins + 1)
    idx = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, n_bins - 1)
    order = np.argsort(idx, kind="stable")
    idx_s = idx[order]
    starts = np.flatnonzero(np.r_[True, idx_s[1:] != idx_s[:-1]])
    bins = idx_s[starts]
    width = edges[1] - edges[0]
    t_out = np.repeat(edges[:-1], 2) + np.tile([0.25, 0.75], n_bins) * width
    out = []
    for y in ys:
        y_s = y[order]
        env = np.full(2 * n_bins, np.nan)
        with np.errstate(invalid="ignore"):
            env[2 * bins] = np.fmin.reduceat(y_s, starts)
            env[2 * bins + 1] = np.fmax.reduceat(y_s, starts)
        out.append(env)
    return t_out.astype(np.int64), out


def render(spec: PlotSpec, path: str | Path) -> Path:
    """Draw ``spec`` (one panel per :class:`PlotPanel`, shared UTC time axis) to a PNG of
    exactly ``spec.size_px`` pixels at ``spec.dpi``; written atomically. Returns ``path``."""
    from magfw.io.atomic import write_bytes_atomic

    return write_bytes_atomic(path, render_png(spec))


def render_png(spec: PlotSpec) -> bytes:
    """The PNG of :func:`render`, in memory."""
    import io

    fig = figure(spec)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=spec.dpi)
    return buf.getvalue()


def _label_size(spec: PlotSpec, panels: list[PlotPanel]) -> float:
    """The y-label font size (points) at which every panel's label fits beside its panel:
    the tallest label (its lines) within 80 % of a panel's height, 8.3 pt at most."""
    lines = max((p.ylabel.count("\n") + 1 for p in panels), default=1)
    panel_px = spec.size_px[1] * 0.8 / max(len(panels), 1)  # title and time axis take the rest
    points = 0.8 * panel_px / (lines * 1.25) * 72 / spec.dpi
    return float(min(8.3, max(5.0, points)))


def figure(spec: PlotSpec) -> Any:
    """The matplotlib ``Figure`` of ``spec`` (Agg canvas): one panel per :class:`PlotPanel`,
    a shared UTC time axis. Labels are sized to fit their panel and the top y tick of each
    panel below another is pruned, so no label, tick label, legend or title overlaps another
    (tests/test_plot.py measures them)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    from magfw.geometry.time import tt2000_to_datetime64

    width, height = spec.size_px
    fig = Figure(figsize=(width / spec.dpi, height / spec.dpi), dpi=spec.dpi)
    FigureCanvasAgg(fig)
    t_ns = np.asarray(spec.time, dtype=np.int64)
    dense = t_ns.size > 4 * width  # more points than pixels: draw each column's min/max
    t = tt2000_to_datetime64(t_ns)
    panels = spec.panels or [PlotPanel(series={})]
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    size = _label_size(spec, panels)
    for i, (ax, panel) in enumerate(zip(axes, panels, strict=True)):
        _draw_panel(ax, panel, t, t_ns, dense, width, size)
        ax.yaxis.set_major_locator(MaxNLocator(nbins="auto", prune="upper" if i else None))
    utc = _dt.UTC
    locator = AutoDateLocator(tz=utc)
    last = axes[-1]
    last.xaxis.set_major_locator(locator)
    last.xaxis.set_major_formatter(ConciseDateFormatter(locator, tz=utc))
    last.set_xlabel("UTC")
    finite = t[~np.isnat(t)] if t.size else t
    if finite.size >= 2 and finite.min() < finite.max():
        last.set_xlim(finite.min(), finite.max())
    if spec.title:
        fig.suptitle(spec.title, fontsize="medium")
    fig.set_layout_engine("constrained")
    fig.align_ylabels(axes)
    return fig


def _draw_panel(
    ax: Any, panel: PlotPanel, t: np.ndarray, t_ns: np.ndarray, dense: bool, width: int, size: float
) -> None:
    """One panel's lines (min/max envelopes when dense, breaks at gaps), label and legend."""
    from magfw.geometry.time import tt2000_to_datetime64

    labels = list(panel.series)
    ys = [np.asarray(panel.series[k], dtype=np.float64) for k in labels]
    if dense and labels:
        env_t, ys = _envelope(t_ns, ys, width)
        tt = tt2000_to_datetime64(env_t)
    else:
        tt, ys = _with_gaps(t, ys)
    colors = panel.colors or _DEFAULT_COLORS
    for i, (label, y) in enumerate(zip(labels, ys, strict=True)):
        ax.plot(tt, y, lw=0.7, color=colors[i % len(colors)], label=label)
    ax.set_ylabel(panel.ylabel, fontsize=size, rotation=0, ha="right", va="center")  # across: fits by lines
    ax.tick_params(labelsize=size)
    ax.grid(True, lw=0.3, alpha=0.5)
    if len(labels) > 1:
        ax.legend(loc="upper right", fontsize=size, ncols=len(labels), frameon=False)
    if not any(np.isfinite(y).any() for y in ys):
        ax.text(0.5, 0.5, "no valid data", transform=ax.transAxes, ha="center", va="center", color="0.5")


def quicklook_target(product: Path, output: Path | None) -> Path:
    """Where ``magfw plot PRODUCT [-o OUTPUT]`` writes: ``OUTPUT``, or
    ``<name>.quicklook.png`` in the current folder (a name no product definition uses).
    A :class:`~magfw.errors.UsageError` when that file is the product itself or a product the
    ledger of an output tree above it records: only the runner writes products."""
    from magfw.errors import UsageError

    name = product.name[: -len(product.suffix)] if product.suffix else product.name
    target = Path(output) if output is not None else Path.cwd() / f"{name}.quicklook.png"
    if target.resolve() == product.resolve():
        raise UsageError(target, "is the product being plotted; choose another -o")
    tree = _recording_tree(target)
    if tree is not None:
        raise UsageError(
            target,
            f"is a product recorded in the ledger of {tree}: only magfw run writes it; choose another -o",
        )
    return target


def _recording_tree(path: Path) -> Path | None:
    """The output tree whose ledger records ``path`` as a product, if any."""
    from magfw.config import state_dir
    from magfw.engine.ledger import Ledger

    resolved = path.resolve()
    for tree in resolved.parents:
        ledger = state_dir(tree) / "ledger.sqlite"
        if ledger.is_file() and Ledger(ledger).output_record(resolved.relative_to(tree).as_posix()):
            return tree
    return None


from magfw.tools.quicklook import (  # noqa: E402  (after render: quicklook draws with it)
    fill_mask,
    quicklook,
    quicklook_spec,
    time_as_tt2000,
)

_fill_mask = fill_mask  # the name magfw.serve.quality imports

__all__ = [
    "figure",
    "quicklook",
    "quicklook_spec",
    "quicklook_target",
    "render",
    "render_png",
    "time_as_tt2000",
]
