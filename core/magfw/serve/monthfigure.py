"""The month figure of a level and spacecraft: a month at 1-minute resolution on one image.

Panels (:func:`month_panels`, from the dataset's definition, no mission named): for each
magnetic-field vector (a ``[N, 3]``/``[N, 4]`` variable in nT, or three scalar components
``Bx_gse``/``By_gse``/``Bz_gse``, ``B_yaw_mag1``/``B_roll_mag1``/``B_pitch_mag1``...) its
components and ``|B|`` (stored, or computed), labelled with its frame; then the other panels
the product's ``quicklook`` declares (PLASTIC's density, speed and temperature); last, the
flagged fraction of the samples per hour (:mod:`magfw.serve.flags`). Minutes without any
valid sample are shaded across every panel (data gaps).

Each product file is summarised once per month (:func:`summarise`: per minute the sums and
counts of each series, per hour the samples and the flagged ones), read chunk by chunk and
cached by its SHA-256 in ``.magfw/serve/minutes/``; the figure adds up the month's files
(a day regenerated costs one file's summary) and is drawn with matplotlib's object API,
cached in ``.magfw/serve/months/``.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass

import numpy as np

from magfw.serve.datasets import Dataset
from magfw.serve.files import OpenProduct, window_ranges
from magfw.serve.flags import common_of, dataset_flags, flagged
from magfw.serve.parameters import Parameter

_B_UNITS = re.compile(r"\bnt\b|nano ?tesla", re.IGNORECASE)
FRAME_NAMES = re.compile(r"GSE|GSM|GEO|GEI|GSEQ|SM|MAG|RTN|HGRTN|HEEQ|HEE|HAE|HCI|SC|SRF|SCCS", re.IGNORECASE)
_COMPONENT = re.compile(r"^(?:[bB]?([xyzXYZ])|(x|y|z|r|t|n|yaw|roll|pitch))$")
_LETTERS = {"RTN": "RTN", "HGRTN": "RTN"}
_MIN_NS = 60_000_000_000
_CHUNK = 1 << 20
VERSION = "month-3"  #: of the figure
SUMMARY_VERSION = "minutes-2"  #: of the per-file summaries


@dataclass(frozen=True)
class Series:
    """A line: a value (one part) or the magnitude of three parts; a part is (parameter,
    column or None)."""

    label: str
    parts: tuple[tuple[str, int | None], ...]


@dataclass(frozen=True)
class Panel:
    label: str
    series: tuple[Series, ...]


def _b_units(ds: Dataset, name: str) -> bool:
    p = ds.parameter(name)
    return bool(p is not None and p.variable is not None and _B_UNITS.search(p.variable.units or ""))


def _triplets(ds: Dataset) -> list[tuple[str, list[tuple[str, str]]]]:
    """Scalar field components grouped in threes by the name they share: (stem, [(name, letter)])."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for p in ds.parameters[1:]:
        var = p.variable
        if p.size or var is None or var.var_type != "data" or not p.digits or "err" in p.name.lower():
            continue
        if not _b_units(ds, p.name):
            continue
        tokens = p.name.split("_")
        for i, tok in enumerate(tokens):
            m = _COMPONENT.match(tok)
            if m:
                letter = (m.group(1) or m.group(2)).lower()
                stem = "_".join(["*" if j == i else t for j, t in enumerate(tokens)])
                groups.setdefault(stem, []).append((p.name, letter))
                break
    return [(stem, members) for stem, members in groups.items() if len(members) == 3]


def frame_of(ds: Dataset, name: str) -> str:
    """The frame of a vector parameter: its ``coordinateSystemName``, else a file-name field
    of the dataset whose value names a frame (the monthly review CDF's ``{frame}``)."""
    p = ds.parameter(name)
    frame = str(p.info.get("coordinateSystemName") or "") if p is not None else ""
    if frame:
        return frame
    return next((v for _, v in ds.given if FRAME_NAMES.fullmatch(v)), "")


def month_panels(ds: Dataset) -> list[Panel]:
    """The panels of ``ds`` in the month figure (module notes), flags excluded."""
    vectors, vector_names = _vector_panels(ds)
    components, component_names = _component_panels(ds)
    drawn = vector_names | component_names | {f.param.name for f in dataset_flags(ds)}
    return vectors + components + _quicklook_panels(ds, drawn)


def _field_panels(frame: str, comps: tuple[Series, ...], mag: Series, mag_label: str) -> list[Panel]:
    """A field's two panels: its components in ``frame``, then ``|B|``."""
    return [Panel(f"B {frame}\n[nT]".strip(), comps), Panel(f"{mag_label}\n[nT]".strip(), (mag,))]


def _vector_panels(ds: Dataset) -> tuple[list[Panel], set[str]]:
    """The panels of each field vector (``[N, 3]``, or ``[N, 4]`` with its magnitude last, in
    nT), and the names of the parameters they draw."""
    panels: list[Panel] = []
    used: set[str] = set()
    for p in ds.parameters[1:]:
        if p.size in ((3,), (4,)) and p.variable is not None and _b_units(ds, p.name):
            frame = frame_of(ds, p.name)
            letters = _LETTERS.get(frame.upper(), "xyz")
            comps = tuple(Series(f"B{letters[i]}", ((p.name, i),)) for i in range(3))
            mag = Series("|B|", ((p.name, 3),) if p.size == (4,) else tuple((p.name, i) for i in range(3)))
            panels += _field_panels(frame, comps, mag, "|B|")
            used.add(p.name)
    return panels, used


def _component_panels(ds: Dataset) -> tuple[list[Panel], set[str]]:
    """The panels of each field stored as three scalar components (:func:`_triplets`), its
    frame read from the names they share, and the names of the parameters they draw."""
    panels: list[Panel] = []
    used: set[str] = set()
    for stem, members in _triplets(ds):
        frame = stem.replace("*", "").replace("__", "_").strip("_").replace("B_", "").replace("B", "") or ""
        comps = tuple(Series(f"B{letter}", ((name, None),)) for name, letter in members)
        mag = Series("|B|", tuple((name, None) for name, _ in members))
        panels += _field_panels(frame, comps, mag, f"|B| {frame}")
        used |= {name for name, _ in members}
    return panels, used


def _quicklook_panels(ds: Dataset, drawn: set[str]) -> list[Panel]:
    """The other panels the definition's ``quicklook`` declares, without the parameters in
    ``drawn`` (fields drawn already, flags drawn below) and any other field in nT."""
    block = ds.definition.quicklook
    panels: list[Panel] = []
    for qp in block.panels if block is not None else []:
        series: list[Series] = []
        for item in qp.variables:
            name, _, cols = item.partition("[")
            found = ds.parameter(name)
            if found is None or name in drawn or _b_units(ds, name):
                continue
            columns = _columns(found, cols)
            series += [Series(name if c is None else f"{name}[{c}]", ((name, c),)) for c in columns]
        if series:
            panels.append(Panel(qp.label or series[0].label, tuple(series)))
    return panels


def _columns(p: Parameter, spec: str) -> list[int | None]:
    """The columns of a quicklook item: ``i]`` or ``i:j]`` (after the ``[``), else every
    column of a vector, or None for a scalar."""
    if not spec:
        return list(range(p.width)) if p.size else [None]
    lo, _, hi = spec.rstrip("]").partition(":")
    return list(range(int(lo), int(hi) if hi else int(lo) + 1))


def panels_digest(panels: list[Panel]) -> str:
    return hashlib.sha256(repr(panels).encode()).hexdigest()[:16]


def _values(ds: Dataset, op: OpenProduct, name: str, a: int, b: int, keep: np.ndarray | None) -> np.ndarray:
    p = ds.parameter(name)
    assert p is not None
    raw = op.records.raw(p, a, b)
    raw = raw if keep is None else raw[keep]
    v = raw.astype(np.float64)
    fill = op.records.stored_fill(p)
    bad = ~np.isfinite(v)
    if fill is not None:
        bad |= raw == np.asarray(fill, dtype=raw.dtype)
    v[bad] = np.nan
    return v


def summarise(ds: Dataset, op: OpenProduct, panels: list[Panel], m0: int, m1: int) -> dict[str, np.ndarray]:
    """Per minute of [m0, m1) the sums and counts of every series, per hour the samples and
    the flagged samples, of one open product file."""
    series = [s for panel in panels for s in panel.series]
    nmin = (m1 - m0) // _MIN_NS
    nhour = (nmin + 59) // 60
    sums = np.zeros((len(series), nmin))
    counts = np.zeros((len(series), nmin), dtype=np.int64)
    total = np.zeros(nhour, dtype=np.int64)
    bad_hours = np.zeros(nhour, dtype=np.int64)
    flags = dataset_flags(ds)
    common: dict[str, float | int] = {}
    for a, b, keep in window_ranges(op, m0, m1, _CHUNK):
        tt, ok = op.records.times(a, b)
        if keep is not None:
            tt, ok = tt[keep], ok[keep]
        minute = np.clip((tt - m0) // _MIN_NS, 0, nmin - 1)
        hour = minute // 60
        total += np.bincount(hour[ok], minlength=nhour)
        cache: dict[str, np.ndarray] = {}
        for k, s in enumerate(series):
            cols = []
            for name, col in s.parts:
                if name not in cache:
                    cache[name] = _values(ds, op, name, a, b, keep)
                v = cache[name]
                cols.append(v if col is None else v.reshape(v.shape[0], -1)[:, col])
            value = cols[0] if len(cols) == 1 else np.sqrt(sum(c * c for c in cols))
            good = ok & np.isfinite(value)
            sums[k] += np.bincount(minute[good], weights=value[good], minlength=nmin)
            counts[k] += np.bincount(minute[good], minlength=nmin)
        any_flag = np.zeros(tt.shape[0], dtype=bool)
        for f in flags:
            raw = op.records.raw(f.param, a, b)
            raw = raw if keep is None else raw[keep]
            var = f.param.variable
            valid = ok & (raw != var.fill) if var is not None and isinstance(var.fill, (int, float)) else ok
            if f.param.name not in common:  # the states most samples have, from the first chunk
                bits = {
                    i: int(((raw[valid].astype(np.uint64) >> np.uint64(i)) & np.uint64(1)).sum())
                    for i in range(32)
                }
                vals, cnt = np.unique(raw[valid], return_counts=True)
                common[f.param.name] = common_of(
                    f, bits, dict(zip(vals.tolist(), cnt.tolist(), strict=True)), int(valid.sum())
                )
            any_flag |= flagged(f, raw, valid, common[f.param.name])
        bad_hours += np.bincount(hour[any_flag], minlength=nhour)
    return {
        "sums": sums,
        "counts": counts,
        "total": total,
        "flagged": bad_hours,
        "flags": np.array([len(flags)]),
    }


def to_bytes(summary: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **summary)  # type: ignore[arg-type]
    return buf.getvalue()


def from_bytes(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data)) as z:
        return {k: np.asarray(z[k]) for k in z.files}


def add(summaries: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray] | None:
    if not summaries:
        return None
    out = {k: v.copy() for k, v in summaries[0].items()}
    for s in summaries[1:]:
        for k in ("sums", "counts", "total", "flagged"):
            out[k] = out[k] + s[k]
        out["flags"] = np.maximum(out["flags"], s["flags"])
    return out


def _means(
    panels: list[Panel], total: dict[str, np.ndarray] | None, nmin: int
) -> list[tuple[Panel, list[np.ndarray]]]:
    """Each panel with its series' minute means; a panel equal to an earlier one (|B| of the
    same field in two frames) is dropped."""
    out: list[tuple[Panel, list[np.ndarray]]] = []
    k = 0
    for panel in panels:
        means = []
        for _ in panel.series:
            if total is None:
                means.append(np.full(nmin, np.nan))
            else:
                c = total["counts"][k]
                means.append(np.divide(total["sums"][k], c, out=np.full(nmin, np.nan), where=c > 0))
            k += 1
        twin = any(
            len(m) == len(means)
            and all(np.allclose(a, b, rtol=1e-6, equal_nan=True) for a, b in zip(m, means, strict=True))
            for _, m in out
        )
        if not twin:
            out.append((panel, means))
    return out


def render(title: str, panels: list[Panel], total: dict[str, np.ndarray] | None, m0: int, m1: int) -> bytes:
    """The month figure's PNG (module notes); ``total``: the month's files added up."""
    import datetime as _dt

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure

    from magfw.geometry.time import tt2000_to_datetime64

    nmin = (m1 - m0) // _MIN_NS
    drawn = _means(panels, total, nmin)
    has_flags = total is not None and int(total["flags"][0]) > 0
    rows = max(1, len(drawn)) + (1 if has_flags else 0)
    fig = Figure(figsize=(14, 1.5 * rows + 1.1), dpi=100)
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]
    t = tt2000_to_datetime64(m0 + np.arange(nmin, dtype=np.int64) * _MIN_NS + _MIN_NS // 2)
    gap = np.ones(nmin, dtype=bool) if total is None else total["counts"][:1].sum(axis=0) == 0
    for ax, (panel, means) in zip(axes, drawn, strict=False):
        for s, mean in zip(panel.series, means, strict=True):
            ax.plot(t, mean, lw=0.6, label=s.label)
        ax.set_ylabel(panel.label, fontsize="small")
        if len(panel.series) > 1:
            ax.legend(loc="upper right", fontsize="x-small", ncols=len(panel.series), frameon=False)
    if has_flags and total is not None:
        ax = axes[-1]
        hours = tt2000_to_datetime64(m0 + np.arange(len(total["total"]) + 1, dtype=np.int64) * 60 * _MIN_NS)
        share = np.divide(
            100.0 * total["flagged"],
            total["total"],
            out=np.zeros(len(total["total"])),
            where=total["total"] > 0,
        )
        ax.stairs(share, hours, fill=True, color="tab:red", alpha=0.7)
        ax.set_ylabel("flagged\n[% of samples\nper hour]", fontsize="small")
        ax.set_ylim(0, max(1.0, float(share.max()) * 1.1))
    for ax in axes:
        ax.fill_between(
            t, 0, 1, where=gap, transform=ax.get_xaxis_transform(), color="0.85", lw=0, step="mid"
        )
        ax.grid(True, lw=0.3, alpha=0.5)
        ax.tick_params(labelsize="small")
    if total is None or not (total["counts"].sum() > 0):
        axes[0].text(
            0.5, 0.5, "no valid data this month", transform=axes[0].transAxes, ha="center", color="0.4"
        )
    last = axes[-1]
    locator = AutoDateLocator(tz=_dt.UTC)
    last.xaxis.set_major_locator(locator)
    last.xaxis.set_major_formatter(ConciseDateFormatter(locator, tz=_dt.UTC))
    last.set_xlim(t[0], t[-1])
    last.set_xlabel("UTC (grey: no valid sample in the minute)", fontsize="small")
    fig.suptitle(title, fontsize="medium")
    fig.set_layout_engine("constrained")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()
