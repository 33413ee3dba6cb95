"""Quicklook images: :func:`render` draws a :class:`~magfw.plugin.context.PlotSpec` to PNG and
:func:`quicklook` draws any product file (``magfw plot FILE``).

Matplotlib is used through its object API with the Agg canvas (``Figure`` +
``FigureCanvasAgg``), never pyplot and never ``matplotlib.use``: importing magfw must not
change the backend of a program that embeds it, and nothing here needs a display. The time
axis shows UTC with matplotlib's concise date formatter; NaN values and time gaps longer
than three nominal steps are drawn as breaks in the line, not bridged.
"""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from magfw.errors import InputError
from magfw.plugin.context import PlotPanel, PlotSpec

if TYPE_CHECKING:
    from magfw.io.products import ProductData
    from magfw.plugin.definitions import ProductDefinition, Quicklook

#: A time step larger than this many median steps is drawn as a gap.
GAP_FACTOR = 3.0
#: Most panels a quicklook draws (the rest are named in the title).
MAX_PANELS = 8

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

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure

    from magfw.geometry.time import tt2000_to_datetime64

    width, height = spec.size_px
    fig = Figure(figsize=(width / spec.dpi, height / spec.dpi), dpi=spec.dpi)
    FigureCanvasAgg(fig)
    t_ns = np.asarray(spec.time, dtype=np.int64)
    dense = t_ns.size > 4 * width  # more points than pixels: draw each column's min/max
    t = tt2000_to_datetime64(t_ns)
    panels = spec.panels or [PlotPanel(series={})]
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    utc = _dt.UTC
    for ax, panel in zip(axes, panels, strict=True):
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
        ax.set_ylabel(panel.ylabel, fontsize="small")
        ax.grid(True, lw=0.3, alpha=0.5)
        if len(labels) > 1:
            ax.legend(loc="upper right", fontsize="small", ncols=len(labels), frameon=False)
        if not any(np.isfinite(y).any() for y in ys):
            ax.text(0.5, 0.5, "no valid data", transform=ax.transAxes, ha="center", va="center", color="0.5")
    locator = AutoDateLocator(tz=utc)
    last = axes[-1]
    last.xaxis.set_major_locator(locator)
    last.xaxis.set_major_formatter(ConciseDateFormatter(locator, tz=utc))
    last.set_xlabel("UTC")
    finite = t[~np.isnat(t)] if t.size else t
    if finite.size >= 2 and finite.min() < finite.max():
        last.set_xlim(finite.min(), finite.max())
    if spec.title:
        fig.suptitle(spec.title)
    fig.set_layout_engine("constrained")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=spec.dpi)
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# Quicklook of a product file
# ---------------------------------------------------------------------------------------------

_UNIT_SECONDS = {
    "ns": 1e-9,
    "nanosecond": 1e-9,
    "nanoseconds": 1e-9,
    "us": 1e-6,
    "microseconds": 1e-6,
    "ms": 1e-3,
    "millisecond": 1e-3,
    "milliseconds": 1e-3,
    "s": 1.0,
    "sec": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "min": 60.0,
    "minute": 60.0,
    "minutes": 60.0,
    "h": 3600.0,
    "hour": 3600.0,
    "hours": 3600.0,
    "day": 86400.0,
    "days": 86400.0,
}


def time_as_tt2000(values: np.ndarray, data_type: str, attrs: dict[str, Any]) -> np.ndarray | None:
    """A time variable as int64 TT2000, from its stored type and units; None if not a time.

    Understands CDF_TIME_TT2000, CDF_EPOCH, magfw's netCDF TT2000 (int64 ``ns``), CF
    ``<unit> since <date>`` and UNIX-seconds wording such as ``Seconds (UNIX time)``.
    """
    from magfw.geometry.time import tt2000_from_cdf_epoch, tt2000_from_unix

    if data_type == "CDF_TIME_TT2000":
        return values.astype(np.int64)
    if data_type == "CDF_EPOCH":
        return np.asarray(tt2000_from_cdf_epoch(values.astype(np.float64)), dtype=np.int64)
    units = str(attrs.get("units", attrs.get("UNITS", ""))).strip()
    if values.dtype == np.int64 and units == "ns":
        return values  # magfw netCDF / flat-file reading: TT2000 already
    m = re.fullmatch(
        r"(\w+)\s+since\s+(\d{4}-\d\d-\d\d)(?:[ T](\d\d:\d\d(?::\d\d(?:\.\d+)?)?))?"
        r"\s*(?:Z|UTC|\+00:?00)?",
        units,
        flags=re.IGNORECASE,
    )
    if m and m.group(1).lower() in _UNIT_SECONDS:
        epoch = np.datetime64(m.group(2) + "T" + (m.group(3) or "00:00"), "ns")
        offset = (epoch - np.datetime64("1970-01-01T00:00", "ns")) / np.timedelta64(1, "s")
        unix = values.astype(np.float64) * _UNIT_SECONDS[m.group(1).lower()] + offset
        return np.asarray(tt2000_from_unix(unix), dtype=np.int64)
    if "unix" in units.lower() and values.dtype.kind in "iuf":
        return np.asarray(tt2000_from_unix(values.astype(np.float64)), dtype=np.int64)
    return None


def _fill_mask(arr: np.ndarray, attrs: dict[str, Any]) -> np.ndarray:
    """True where ``arr`` holds a fill/missing value (ISTP FILLVAL, CF _FillValue,
    missing_value); large fills (|fill| >= 1e30, e.g. 1e34 in float32) with 1 % tolerance."""
    bad = ~np.isfinite(arr)
    for key in ("FILLVAL", "_FillValue", "missing_value"):
        fill = attrs.get(key)
        if fill is None or isinstance(fill, str):
            continue
        f = float(np.asarray(fill).ravel()[0])
        bad |= (np.abs(arr) >= 0.99 * abs(f)) if abs(f) >= 1e30 else (arr == f)
    return np.asarray(bad, dtype=bool)


def _pick_time(data: ProductData) -> str | None:
    """The time variable most float variables depend on (DEPEND_0, or same record count)."""
    votes: dict[str, int] = {}
    for attrs in data.var_attrs.values():
        dep = attrs.get("DEPEND_0")
        if isinstance(dep, str) and dep in data.variables:
            votes[dep] = votes.get(dep, 0) + 1
    if votes:
        return max(votes, key=lambda k: votes[k])
    for name, arr in data.variables.items():  # netCDF: a variable that reads as time
        info = data.info[name]
        if arr.ndim == 1 and time_as_tt2000(arr[:1], info.data_type, data.var_attrs[name]) is not None:
            return str(name)
    return None


def _labels(data: Any, name: str, k: int) -> list[str]:
    ptr = data.var_attrs[name].get("LABL_PTR_1")
    if isinstance(ptr, str) and ptr in data.variables:
        labels = [str(s).strip() for s in np.asarray(data.variables[ptr]).ravel()]
        if len(labels) == k and all(labels):
            return labels
    return ["x", "y", "z", "|B|"][:k] if k <= 4 else [str(i) for i in range(k)]


def _ylabel(label: str, units: str) -> str:
    """A y label that fits beside a panel: long names wrapped at underscores."""
    if len(label) > 16 and "_" in label:
        half = label.rfind("_", 0, len(label) // 2 + 4)
        label = label[: half + 1] + "\n" + label[half + 1 :] if half > 0 else label
    return f"{label}\n[{units}]" if units else label


def _column(data: ProductData, item: str, path: Path) -> tuple[str, np.ndarray, list[str]]:
    """(variable, values (N, k) float64 with fill as NaN, labels) of a quicklook entry
    ``NAME``, ``NAME[i]`` or ``NAME[i:j]``."""
    m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)(?::(\d+))?\])?", item)
    if m is None or m[1] not in data.variables:
        raise InputError(path, f"quicklook variable {item!r} is not in the file")
    name = m[1]
    arr = data.variables[name].astype(np.float64)
    arr[_fill_mask(arr, data.var_attrs[name])] = np.nan
    if arr.ndim == 1:
        return name, arr[:, None], [name]
    labels = _labels(data, name, arr.shape[1])
    if m[2] is not None:
        lo = int(m[2])
        hi = int(m[3]) if m[3] is not None else lo + 1
        return name, arr[:, lo:hi], labels[lo:hi]
    return name, arr, labels


def _title(path: Path, data: ProductData, definition: ProductDefinition | None, template: str) -> str:
    """The quicklook title: the definition's (fields of the file name filled in), else the
    file name; ``SIMULATED`` when the file says its inputs were simulated."""
    title = path.name
    if definition is not None and template:
        fields = definition.filename.parse(path.as_posix()) or {}
        try:
            title = template.format(**fields) + f"  ({path.name})"
        except (KeyError, IndexError, ValueError):
            title = path.name
    source = definition.provenance.simulated if definition is not None else "Data_source"
    said = str(data.global_attrs.get(source or "Data_source", "")).lower()
    if "simulated" in said:
        title += "  SIMULATED"
    return title


def _quicklook_panels(data: ProductData, block: Quicklook, path: Path) -> list[PlotPanel]:
    panels = []
    for p in block.panels:
        series: dict[str, np.ndarray] = {}
        units = ""
        first = ""
        for item in p.variables:
            name, arr, labels = _column(data, item, path)
            attrs = data.var_attrs[name]
            units = units or str(attrs.get("UNITS", attrs.get("units", ""))).strip()
            first = first or str(attrs.get("LABLAXIS", "")).strip() or name
            for i, label in enumerate(labels):
                key = label if label not in series else f"{name} {label}"
                series[key] = arr[:, i]
        colors = ["black"] if len(series) == 1 else None
        panels.append(PlotPanel(series, p.label or _ylabel(first, units), colors=colors))
    return panels


def quicklook_spec(
    path: str | Path, size_px: tuple[int, int] = (1200, 800), definition: ProductDefinition | None = None
) -> PlotSpec:
    """The :class:`PlotSpec` :func:`quicklook` draws for a product file (see there)."""
    from magfw.io.products import read_product

    path = Path(path)
    data = read_product(path)
    tname = _pick_time(data)
    if tname is None:
        raise InputError(path, "no time variable found to plot against")
    tt = time_as_tt2000(data.variables[tname], data.info[tname].data_type, data.var_attrs[tname])
    if tt is None:
        raise InputError(path, f"cannot read {tname!r} as time")
    block = definition.quicklook if definition is not None else None
    if block is not None:
        return PlotSpec(
            time=tt,
            panels=_quicklook_panels(data, block, path),
            title=_title(path, data, definition, block.title),
            size_px=size_px,
        )
    n = tt.shape[0]
    candidates = []
    for name, arr in data.variables.items():
        attrs = data.var_attrs[name]
        dep = attrs.get("DEPEND_0")
        if isinstance(dep, str) and dep in data.variables:
            depends = dep == tname
        else:  # netCDF (no DEPEND_0), or a DEPEND_0 naming a missing variable
            depends = (data.format == "netcdf" or isinstance(dep, str)) and arr.shape[0] == n
        if (
            name != tname
            and arr.dtype.kind == "f"
            and arr.ndim in (1, 2)
            and data.info[name].record_varying
            and arr.shape[0] == n
            and depends
        ):
            candidates.append(name)
    data_vars = [c for c in candidates if data.var_attrs[c].get("VAR_TYPE") == "data"]
    panels: list[PlotPanel] = []
    for name in data_vars or candidates:
        attrs = data.var_attrs[name]
        arr = data.variables[name].astype(np.float64)
        arr[_fill_mask(arr, attrs)] = np.nan
        units = str(attrs.get("UNITS", attrs.get("units", ""))).strip()
        short = str(attrs.get("LABLAXIS", "")).strip() or name
        ylabel = _ylabel(short, units)
        if arr.ndim == 1:
            panels.append(PlotPanel({name: arr}, ylabel))
            continue
        k = arr.shape[1]
        labels = _labels(data, name, k)
        if k in (3, 4):
            panels.append(PlotPanel({labels[i]: arr[:, i] for i in range(3)}, ylabel))
            total = arr[:, 3] if k == 4 else np.sqrt(np.sum(arr * arr, axis=1))
            tlabel = labels[3] if k == 4 else f"|{name}|"
            panels.append(PlotPanel({tlabel: total}, _ylabel(tlabel, units), colors=["black"]))
        else:
            panels.append(PlotPanel({labels[i]: arr[:, i] for i in range(k)}, ylabel))
    if not panels:
        raise InputError(path, f"no float variables depending on {tname!r} to plot")
    title = _title(path, data, definition, "")
    if len(panels) > MAX_PANELS:
        title += f" (first {MAX_PANELS} of {len(panels)} panels)"
        panels = panels[:MAX_PANELS]
    return PlotSpec(time=tt, panels=panels, title=title, size_px=size_px)


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


def quicklook(
    path: str | Path,
    out_png: str | Path,
    size_px: tuple[int, int] = (1200, 800),
    definition: ProductDefinition | None = None,
) -> Path:
    """A quicklook PNG of any product file :func:`~magfw.io.products.read_product` reads.

    Plots the record-varying float variables that depend on the time variable (the
    ``VAR_TYPE=data`` ones when any are marked), fill masked. An ``[N, 3]`` vector gets a
    components panel and a computed magnitude panel; an ``[N, 4]`` vector (xyz + total,
    e.g. STEREO ``BFIELD``) gets the three components and its stored total. At most
    :data:`MAX_PANELS` panels. A product ``definition`` with a ``quicklook`` block draws its
    panels instead, titled as the block says. ``SIMULATED`` ends the title of a file made
    from simulated inputs. Used by ``magfw plot FILE [-o PNG]`` (which finds the definition).
    """
    return render(quicklook_spec(path, size_px, definition), out_png)


__all__ = ["quicklook", "quicklook_spec", "quicklook_target", "render", "time_as_tt2000"]
