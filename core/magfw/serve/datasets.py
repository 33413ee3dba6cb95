"""HAPI datasets from the product definitions of every installed mission.

One dataset per time-series product definition (format ``cdf``, ``netcdf`` or ``flatfile`` with
a time variable and at least one record-varying numeric variable) and spacecraft, and per
value of any other file-name field that has a set of ``choices`` (a definition whose names
carry ``{burst}`` and ``{frame}`` holds four series). Nothing here names a mission: a
third-party plugin's products are served as the bundled ones are.

Dataset ids (stable, readable, no definition field added for them):

1. the definition's ``Logical_source`` global attribute when it has one, with ``{sc}`` replaced
   by the spacecraft;
2. else the file-name template's base name, split at ``_``, keeping only the parts whose
   fields are the spacecraft or a choice field (dates, versions and other free fields go),
   those fields filled in, upper-cased: ``ST{sc}_L1_MAG_RTN_{yyyy}{mm}{dd}_V{version}.cdf``
   gives ``STA_L1_MAG_RTN``, ``ST{sc}_L1_MAG_RTN_1MIN_...ffh`` ``STA_L1_MAG_RTN_1MIN``,
   ``L2_AL1_MAG_{yyyy}{mm}{dd}_V{version}.nc`` ``L2_AL1_MAG``;
3. an id of a single part, or one several datasets would share, is told apart: among equals
   the definition whose format comes first (cdf, netcdf, flatfile; then product id) keeps
   it, the others get ``_CDF``/``_NC``/``_FF`` after it, and where that still collides, or the
   id had a single part, ``{MISSION}_{PRODUCT}[_{SC}]`` upper-cased (``ADITYA_L1``).

Parameters are the definition's variables in file order (the time variable first, as the
``isotime`` parameter). float32/float64 are ``double``; int8..int32, uint8, uint16 are
``integer``; uint32 and int64 are ``double`` (exact below 2**53; HAPI integers are 32-bit
signed). ``coordinateSystemName`` is the ISTP ``COORDINATE_SYSTEM`` attribute's short name,
else a frame named in the description ("... in GSE frame"); ``vectorComponents`` follow for
vectors of 3 (x, y, z) or 4 with a magnitude (x, y, z, r), and for scalar components named
``Bx_...``/``x_...``.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field, replace
from typing import Any

from magfw.io.finder import DATE_FIELDS
from magfw.plugin.definitions import ProductDefinition, Variable
from magfw.plugin.mission import Mission

TIME_SERIES_FORMATS = ("cdf", "netcdf", "flatfile")
_FORMAT_RANK = {"cdf": 0, "netcdf": 1, "flatfile": 2}
_FORMAT_SUFFIX = {"cdf": "CDF", "netcdf": "NC", "flatfile": "FF"}
_INTEGER = ("int8", "int16", "int32", "uint8", "uint16")
_FRAME = re.compile(
    r"\b(GSE|GSM|GEO|GEI|GSEQ|SM|MAG|RTN|HGRTN|HEEQ|HEE|HAE|HCI|SC|SRF)\b"
    r"(?:\s+(?:frame|coordinates))",
    re.IGNORECASE,
)
_COMPONENT = re.compile(r"^[Bb]?([xyzXYZ])(?:_|$)")
_ALLOWED = re.compile(r"[^A-Za-z0-9_\-.+:/~]")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True, kw_only=True)
class Parameter:
    """One HAPI parameter: the definition's variable, how it is typed and written."""

    name: str
    variable: Variable | None  #: None for the time parameter
    hapi_type: str  #: isotime | double | integer
    size: tuple[int, ...] = ()  #: () for a scalar
    digits: int = 0  #: significant digits in csv/json (9 float32, 17 float64; 0: integer text)
    columns: tuple[str, ...] = ()  #: flat-file column names of the variable
    info: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def width(self) -> int:
        """Values per record (columns in csv and binary)."""
        n = 1
        for s in self.size:
            n *= s
        return n


@dataclass(frozen=True, kw_only=True)
class Dataset:
    """A HAPI dataset: one definition, spacecraft and choice-field values."""

    id: str
    mission: str
    definition: ProductDefinition
    spacecraft: str | None  #: as in ledger unit ids (None: a mission without spacecraft)
    given: tuple[tuple[str, str], ...]  #: file-name fields every file of the dataset has
    levels: tuple[str, ...]  #: the levels that write the product
    unit: str  #: the writing level's unit of work: day, month or year
    parameters: tuple[Parameter, ...]
    time_digits: int  #: fraction digits of the time column (6 or 9)
    daily: bool  #: one file per UTC day holding that day (else a day of margin is read)
    title: str = ""
    #: nominal seconds between records: the definition's, else (a merged product) its source's
    cadence_s: float | None = None

    @property
    def fields(self) -> dict[str, str]:
        return dict(self.given)

    def parameter(self, name: str) -> Parameter | None:
        for p in self.parameters:
            if p.name == name:
                return p
        return None


def _spacecraft_field(mission: Mission, d: ProductDefinition) -> str | None:
    """The file-name field whose choices are the mission's spacecraft (any case)."""
    wanted = {s.lower() for s in mission.spacecraft}
    for name, f in d.filename.fields.items():
        if wanted and f.choices is not None and wanted <= {c.lower() for c in f.choices}:
            return name
    return None


def _spelled(d: ProductDefinition, field_name: str, spacecraft: str) -> str:
    """``spacecraft`` as the field's choices spell it (``a`` in ``st{sc}_l2_...``)."""
    choices = d.filename.fields[field_name].choices or []
    return next((c for c in choices if c.lower() == spacecraft.lower()), spacecraft)


def _choice_fields(d: ProductDefinition, sc_field: str | None) -> dict[str, list[str]]:
    return {
        name: list(f.choices)
        for name, f in d.filename.fields.items()
        if f.choices is not None
        and len(f.choices) > 1
        and name != sc_field
        and name not in DATE_FIELDS
        and name != d.version.field
    }


def _frame(var: Variable) -> str | None:
    cs = var.attrs.get("COORDINATE_SYSTEM")
    if isinstance(cs, str) and cs.strip():
        return cs.split(">")[0].strip() or None
    m = _FRAME.search(var.description)
    return m.group(1).upper() if m else None


def _units(var: Variable) -> str | None:
    text = (var.units or "").strip()
    return text or None


def _fill_text(var: Variable, hapi_type: str) -> str | None:
    if var.fill is None or isinstance(var.fill, str):
        return None
    if hapi_type == "integer" or (var.dtype in ("uint32", "int64")):
        return str(int(var.fill))
    return repr(float(var.fill))


def _parameter(d: ProductDefinition, var: Variable, columns: tuple[str, ...]) -> Parameter:
    size = tuple(int(d.dims[dim] or 0) for dim in var.dims[1:])
    if columns and len(columns) > 1:
        size = (len(columns),)
    elif columns:
        size = ()
    if var.dtype in _INTEGER:
        hapi_type, digits = "integer", 0
    elif var.dtype in ("uint32", "int64"):
        hapi_type, digits = "double", 0
    else:
        hapi_type, digits = "double", 9 if var.dtype == "float32" else 17
    info: dict[str, Any] = {
        "name": var.name,
        "type": hapi_type,
        "units": _units(var),
        "fill": _fill_text(var, hapi_type),
    }
    if size:
        info["size"] = list(size)
    if var.description:
        info["description"] = var.description
    labels = columns if columns else ()
    if size and len(labels) == size[0] and len(size) == 1:
        info["label"] = list(labels)
    else:
        label = var.attrs.get("LABLAXIS") or var.field_name
        if isinstance(label, str) and label.strip():
            info["label"] = label.strip()
    frame = _frame(var)
    if frame:
        info["coordinateSystemName"] = frame
        if size == (3,):
            info["vectorComponents"] = ["x", "y", "z"]
        elif size == (4,) and (
            "magnitude" in var.description.lower()
            or (labels and labels[-1].upper() in ("BT", "BTOTAL", "|B|"))
        ):
            info["vectorComponents"] = ["x", "y", "z", "r"]
        elif not size:
            m = _COMPONENT.match(var.name)
            if m:
                info["vectorComponents"] = m.group(1).lower()
    return Parameter(
        name=var.name, variable=var, hapi_type=hapi_type, size=size, digits=digits, columns=columns, info=info
    )


def time_series_parameters(d: ProductDefinition) -> tuple[Parameter, ...] | None:
    """The HAPI parameters of a definition (time first), or None if it is not a time series
    HAPI can serve."""
    if d.format not in TIME_SERIES_FORMATS or d.time_variable is None:
        return None
    tv = d.variable(d.time_variable)
    if tv.dtype not in ("tt2000", "cdf_epoch", "float64", "int64"):
        return None
    digits = 9 if tv.dtype == "tt2000" and d.format != "flatfile" else 6
    time = Parameter(
        name=tv.name,
        variable=None,
        hapi_type="isotime",
        size=(),
        digits=0,
        columns=(),
        info={"name": tv.name, "type": "isotime", "units": "UTC", "fill": None, "length": 21 + digits},
    )
    params: list[Parameter] = [time]
    if d.format == "flatfile":
        from magfw.errors import DefinitionError
        from magfw.io.products import flatfile_layout

        try:
            _, _, layout = flatfile_layout(d)
        except DefinitionError:
            return None
        params += [_parameter(d, var, tuple(names)) for var, names in layout]
    else:
        for var in d.variables:
            if (
                var.name == tv.name
                or not var.record_varying
                or not var.dims
                or var.dtype in ("str", "tt2000", "cdf_epoch")
                or var.var_type in ("metadata", "ignore_data")
                or d.dims.get(var.dims[0], 0) is not None
                or var.depend.get("DEPEND_0", tv.name) != tv.name
                or any(d.dims.get(dim) is None for dim in var.dims[1:])
            ):
                continue
            params.append(_parameter(d, var, ()))
    return tuple(params) if len(params) > 1 else None


def _stem_tokens(d: ProductDefinition) -> list[str]:
    name = d.filename.template.rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return stem.split("_")


def derived_id(d: ProductDefinition, values: dict[str, str]) -> str:
    """Rules 1 and 2 of the module notes, before collisions are told apart."""
    ls = d.global_attrs.get("Logical_source")
    if isinstance(ls, str) and ls.strip():
        text = ls.strip()
        for k, v in values.items():
            text = text.replace("{" + k + "}", v)
        return _ALLOWED.sub("_", text)
    kept = []
    for token in _stem_tokens(d):
        names = _PLACEHOLDER.findall(token)
        if all(n in values for n in names):
            text = _PLACEHOLDER.sub(lambda m: values[m.group(1)], token)
            if text:
                kept.append(text)
    return _ALLOWED.sub("_", "_".join(kept).upper())


def _levels_writing(mission: Mission, d: ProductDefinition) -> list[str]:
    names = [lvl.name for lvl in mission.levels.values() if d.id in lvl.products]
    return names or ([d.level] if d.level in mission.levels else [])


def build_catalog(missions: list[Mission]) -> dict[str, Dataset]:
    """Every servable dataset of ``missions``, by id, in mission and definition order."""
    drafts: list[tuple[str, Dataset, int]] = []  # (candidate id, dataset, id parts)
    for mission in missions:
        for d in mission.products:
            params = time_series_parameters(d)
            levels = _levels_writing(mission, d)
            if params is None or not levels:
                continue
            level = mission.levels[levels[0]]
            sc_field = _spacecraft_field(mission, d)
            spacecraft: list[str | None] = (
                list(mission.spacecraft) if mission.spacecraft and level.per_spacecraft else [None]
            )
            choices = _choice_fields(d, sc_field)
            fields = set(d.filename.fields)
            day_fields = (
                {"yyyy", "mm", "dd"} <= fields or {"yyyy", "doy"} <= fields or {"yy", "doy"} <= fields
            )
            daily = level.unit == "day" and day_fields and not ({"hh", "mi"} & fields)
            tv = d.variable(str(d.time_variable))
            digits = 9 if tv.dtype == "tt2000" and d.format != "flatfile" else 6
            for sc in spacecraft:
                for combo in itertools.product(*choices.values()):
                    values = dict(zip(choices, combo, strict=True))
                    if sc is not None and sc_field is not None:
                        values[sc_field] = _spelled(d, sc_field, sc)
                    given = tuple(sorted(values.items()))
                    title = _title(d)
                    ds = Dataset(
                        id="",
                        mission=mission.id,
                        definition=d,
                        spacecraft=sc,
                        given=given,
                        levels=tuple(levels),
                        unit=level.unit,
                        parameters=params,
                        time_digits=digits,
                        daily=daily,
                        title=title,
                    )
                    cid = derived_id(d, {**values, **({"sc": sc} if sc else {})})
                    drafts.append((cid, ds, len([t for t in cid.split("_") if t])))
    return _with_source_cadence(_assign_ids(drafts), missions)


def _title(d: ProductDefinition) -> str:
    """A short title: ``Logical_source_description``, else the description up to its first
    parenthesis or semicolon."""
    text = d.global_attrs.get("Logical_source_description")
    if not isinstance(text, str) or not text.strip():
        text = re.split(r"[(;]", d.description)[0]
    return " ".join(str(text).split())[:100].rstrip(" ,") or d.id


def _fallback(ds: Dataset) -> str:
    parts = [ds.mission, ds.definition.id, *[v for _, v in ds.given if v]]
    return _ALLOWED.sub("_", "_".join(parts).upper())


def _assign_ids(drafts: list[tuple[str, Dataset, int]]) -> dict[str, Dataset]:
    groups: dict[str, list[tuple[int, Dataset, int]]] = {}
    for i, (cid, ds, nparts) in enumerate(drafts):
        groups.setdefault(cid, []).append((i, ds, nparts))
    chosen: list[tuple[int, str, Dataset]] = []
    for cid, members in groups.items():
        members.sort(
            key=lambda m: (
                _FORMAT_RANK[m[1].definition.format],
                m[1].definition.id,
                m[1].mission,
                m[1].spacecraft or "",
            )
        )
        for rank, (i, ds, nparts) in enumerate(members):
            if nparts < 2 or not cid:
                chosen.append((i, _fallback(ds), ds))
            elif rank == 0:
                chosen.append((i, cid, ds))
            else:
                chosen.append((i, f"{cid}_{_FORMAT_SUFFIX[ds.definition.format]}", ds))
    counts: dict[str, int] = {}
    for _, cid, _ in chosen:
        counts[cid] = counts.get(cid, 0) + 1
    out: dict[str, Dataset] = {}
    for _, cid, ds in sorted(chosen, key=lambda c: c[0]):
        final = cid if counts[cid] == 1 else _fallback(ds)
        while final in out:  # a fallback equal to another id (an unlikely naming)
            final += "_"
        out[final] = _with_id(ds, final)
    return out


def _with_id(ds: Dataset, dataset_id: str) -> Dataset:
    return replace(ds, id=dataset_id, cadence_s=ds.definition.cadence_s)


def _source(ds: Dataset, catalog: dict[str, Dataset], needs: set[tuple[str, str]]) -> Dataset | None:
    """The dataset a merged product is made from: among the datasets of the levels its level
    needs, of the same spacecraft, with the same parameter names and a cadence, the one whose
    id parts are all parts of this id (the most of them): ``STA_L1_MAGB_RTN`` for
    ``STA_L1_MAGB_RTN_REVIEW``."""
    parts = set(ds.id.split("_"))
    names = [p.name for p in ds.parameters[1:]]
    found = [
        other
        for other in catalog.values()
        if any((other.mission, lvl) in needs for lvl in other.levels)
        and other.spacecraft == ds.spacecraft
        and other.definition.cadence_s
        and [p.name for p in other.parameters[1:]] == names
        and set(other.id.split("_")) <= parts
    ]
    return max(found, key=lambda o: len(o.id.split("_")), default=None)


def _with_source_cadence(catalog: dict[str, Dataset], missions: list[Mission]) -> dict[str, Dataset]:
    """A dataset whose definition has no cadence (a merge of 8 Hz or 32 Hz dailies) takes its
    source's (:func:`_source`)."""
    by_id = {m.id: m for m in missions}
    out = dict(catalog)
    for key, ds in catalog.items():
        if ds.cadence_s:
            continue
        levels = by_id[ds.mission].levels
        needs = {(m, lvl) for own in ds.levels for m, _, lvl in (n.partition("/") for n in levels[own].needs)}
        source = _source(ds, catalog, needs)
        if source is not None:
            out[key] = replace(ds, cadence_s=source.cadence_s)
    return out
