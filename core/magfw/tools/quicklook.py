"""The quicklook of a product file (``magfw plot FILE``): :func:`quicklook_spec` reads the file
and chooses its panels and title; :func:`magfw.tools.plot.render` draws them.

Panels: those the definition's ``quicklook`` block declares (a flat file's columns read back as
the definition's variables first), else every record-varying float variable that depends on
time, at most :data:`MAX_PANELS`, leaving out constant ones (an error trace of 0.30 nT
throughout says nothing a panel should show). Title: the block's (``{mission}``,
``{spacecraft}``, ``{product}``, ``{cadence}`` and the file name's fields filled in), then a line naming
mission, spacecraft, product, version and file, and ``SIMULATED`` for a file made from
simulated inputs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from magfw.errors import InputError
from magfw.plugin.context import PlotPanel, PlotSpec

if TYPE_CHECKING:
    from magfw.io.products import ProductData
    from magfw.plugin.definitions import ProductDefinition, Quicklook, QuicklookPanel

#: Most panels a quicklook draws without a quicklook block (the rest are named in the title).
MAX_PANELS = 8

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

    if data_type == "CDF_TIME_TT2000" or attrs.get("magfw_dtype") == "tt2000":
        return values.astype(np.int64)  # a CDF's, or a netCDF CF time read back as TT2000
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


def fill_mask(arr: np.ndarray, attrs: dict[str, Any]) -> np.ndarray:
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


def _labels(data: Any, name: str, k: int, definition: ProductDefinition | None = None) -> list[str]:
    """Labels of the ``k`` columns of ``name``: its LABL_PTR_1 variable, its flat-file
    columns, else x, y, z, |B|."""
    ptr = data.var_attrs[name].get("LABL_PTR_1")
    if isinstance(ptr, str) and ptr in data.variables:
        labels = [str(s).strip() for s in np.asarray(data.variables[ptr]).ravel()]
        if len(labels) == k and all(labels):
            return labels
    if definition is not None and name in {v.name for v in definition.variables}:
        cols = definition.variable(name).attrs.get("columns")
        if isinstance(cols, list) and len(cols) == k:
            return [str(c) for c in cols]
    return ["x", "y", "z", "|B|"][:k] if k <= 4 else [str(i) for i in range(k)]


def _ylabel(label: str, units: str) -> str:
    """A y label that fits beside a panel: long names wrapped at underscores."""
    if len(label) > 16 and "_" in label:
        half = label.rfind("_", 0, len(label) // 2 + 4)
        label = label[: half + 1] + "\n" + label[half + 1 :] if half > 0 else label
    return f"{label}\n[{units}]" if units else label


def _column(
    data: ProductData, item: str, path: Path, definition: ProductDefinition | None
) -> tuple[str, np.ndarray, list[str]]:
    """(variable, values (N, k) float64 with fill as NaN, labels) of a quicklook entry
    ``NAME``, ``NAME[i]`` or ``NAME[i:j]``."""
    m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)(?::(\d+))?\])?", item)
    if m is None or m[1] not in data.variables:
        raise InputError(path, f"quicklook variable {item!r} is not in the file")
    name = m[1]
    arr = data.variables[name].astype(np.float64)
    arr[fill_mask(arr, data.var_attrs[name])] = np.nan
    if arr.ndim == 1:
        return name, arr[:, None], [name]
    labels = _labels(data, name, arr.shape[1], definition)
    if m[2] is not None:
        lo = int(m[2])
        hi = int(m[3]) if m[3] is not None else lo + 1
        return name, arr[:, lo:hi], labels[lo:hi]
    return name, arr, labels


def cadence_text(seconds: float | None) -> str:
    """A cadence in words: ``8 Hz`` (a whole number of samples a second), ``128 ms``, ``10
    s``, ``1 min``, ``1 h`` (``""`` if irregular)."""
    if not seconds:
        return ""
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("min", 60.0), ("s", 1.0)):
        if seconds >= size:
            return f"{seconds / size:g} {unit}"
    rate = 1.0 / seconds
    return f"{rate:g} Hz" if abs(rate - round(rate)) < 1e-9 else f"{seconds * 1000:g} ms"


def _fields(definition: ProductDefinition, path: Path) -> dict[str, Any]:
    """The file-name fields of ``path`` (its trailing components, else its bare name)."""
    from magfw.io.identify import name_fields

    return dict(name_fields(definition, path) or {})


def _mission_words(mission: str, sc: Any) -> tuple[str, str]:
    """The mission's title and the spacecraft a name field ``sc`` names, spelled as the
    mission spells it (a yearly name's ``sta`` is spacecraft ``A``)."""
    from magfw.plugin.manager import get_hooks

    registry = get_hooks().registry
    if mission not in registry:
        return mission, "" if sc is None else str(sc)
    m = registry.get(mission)
    if sc is None:
        return m.title, ""
    return m.title, next((s for s in m.spacecraft if s.lower() == str(sc).lower()), str(sc))


def quicklook_title(
    path: Path, data: ProductData, definition: ProductDefinition | None, template: str
) -> str:
    """The title (module notes): the template's line, then mission, spacecraft, product,
    version and file, and ``SIMULATED`` when the file says its inputs were simulated."""
    source = definition.provenance.simulated if definition is not None else "Data_source"
    simulated = "simulated" in str(data.global_attrs.get(source or "Data_source", "")).lower()
    if definition is None:
        return path.name + ("  ·  SIMULATED" if simulated else "")
    fields = _fields(definition, path)
    mission, spacecraft = _mission_words(definition.mission, fields.get("sc"))
    words = {
        "mission": mission,
        "spacecraft": spacecraft,
        "product": definition.id,
        "cadence": cadence_text(definition.cadence_s),
    }
    try:
        head = template.format(**words, **fields) if template else ""
    except (KeyError, IndexError, ValueError):
        head = ""
    head = head or " ".join(x for x in (mission, definition.id, words["cadence"]) if x)
    tail = [mission]
    if spacecraft:
        tail.append(f"spacecraft {spacecraft}")
    tail.append(definition.key)
    if isinstance(fields.get("version"), int):
        tail.append(f"V{fields['version']:02d}")
    tail.append(path.name)
    if simulated:
        tail.append("SIMULATED")
    return head + "\n" + "  ·  ".join(tail)


def _declared_panel(
    data: ProductData, p: QuicklookPanel, path: Path, definition: ProductDefinition
) -> PlotPanel:
    series: dict[str, np.ndarray] = {}
    units = ""
    first = ""
    for item in p.variables:
        name, arr, labels = _column(data, item, path, definition)
        attrs = data.var_attrs[name]
        units = units or str(attrs.get("UNITS", attrs.get("units", ""))).strip()
        first = first or str(attrs.get("LABLAXIS", "")).strip() or name
        for i, label in enumerate(labels):
            key = label if label not in series else f"{name} {label}"
            series[key] = arr[:, i]
    if p.norm:
        stacked = np.stack(list(series.values()), axis=1)
        series = {p.label.split("\n")[0] or "|B|": np.sqrt(np.sum(stacked * stacked, axis=1))}
    colors = ["black"] if len(series) == 1 else None
    return PlotPanel(series, p.label or _ylabel(first, units), colors=colors)


def _quicklook_panels(
    data: ProductData, block: Quicklook, path: Path, definition: ProductDefinition
) -> list[PlotPanel]:
    return [_declared_panel(data, p, path, definition) for p in block.panels]


def _constant(arr: np.ndarray) -> bool:
    """Every finite value the same (or none): a panel of it would show nothing."""
    finite = arr[np.isfinite(arr)]
    return finite.size == 0 or bool(finite.min() == finite.max())


def _candidates(data: ProductData, tname: str, n: int) -> list[str]:
    """The record-varying, non-constant float variables that depend on ``tname``."""
    out = []
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
            values = arr.astype(np.float64)
            values[fill_mask(values, attrs)] = np.nan
            if not _constant(values):
                out.append(name)
    return out


def _default_panels(data: ProductData, names: list[str]) -> list[PlotPanel]:
    panels: list[PlotPanel] = []
    for name in names:
        attrs = data.var_attrs[name]
        arr = data.variables[name].astype(np.float64)
        arr[fill_mask(arr, attrs)] = np.nan
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
    return panels


def _read(path: Path, definition: ProductDefinition | None) -> tuple[ProductData, str | None]:
    """The file's data (a flat file as its definition's variables) and its time variable."""
    from magfw.io.products import read_product

    data = read_product(path)
    if definition is not None and data.format == "flatfile" and definition.format == "flatfile":
        from magfw.io.flatfile_product import as_definition

        data = as_definition(data, definition)
        return data, definition.time_variable
    return data, _pick_time(data)


def quicklook_spec(
    path: str | Path, size_px: tuple[int, int] = (1200, 800), definition: ProductDefinition | None = None
) -> PlotSpec:
    """The :class:`PlotSpec` :func:`quicklook` draws for a product file (see there)."""
    path = Path(path)
    data, tname = _read(path, definition)
    if tname is None or tname not in data.variables:
        raise InputError(path, "no time variable found to plot against")
    tt = time_as_tt2000(data.variables[tname], data.info[tname].data_type, data.var_attrs[tname])
    if tt is None:
        raise InputError(path, f"cannot read {tname!r} as time")
    block = definition.quicklook if definition is not None else None
    if block is not None and definition is not None:
        return PlotSpec(
            time=tt,
            panels=_quicklook_panels(data, block, path, definition),
            title=quicklook_title(path, data, definition, block.title),
            size_px=size_px,
        )
    candidates = _candidates(data, tname, tt.shape[0])
    data_vars = [c for c in candidates if data.var_attrs[c].get("VAR_TYPE") == "data"]
    panels = _default_panels(data, data_vars or candidates)
    if not panels:
        raise InputError(path, f"no varying float variables depending on {tname!r} to plot")
    title = quicklook_title(path, data, definition, "")
    if len(panels) > MAX_PANELS:
        title += f" (first {MAX_PANELS} of {len(panels)} panels)"
        panels = panels[:MAX_PANELS]
    return PlotSpec(time=tt, panels=panels, title=title, size_px=size_px)


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
    from magfw.tools.plot import render

    return render(quicklook_spec(path, size_px, definition), out_png)


__all__ = [
    "MAX_PANELS",
    "cadence_text",
    "quicklook",
    "quicklook_spec",
    "quicklook_title",
    "time_as_tt2000",
]
