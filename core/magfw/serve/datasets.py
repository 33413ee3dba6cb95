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

The parameters of a dataset are its definition's variables (:mod:`magfw.serve.parameters`).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, replace

from magfw.io.finder import DATE_FIELDS
from magfw.plugin.definitions import ProductDefinition
from magfw.plugin.mission import Mission
from magfw.serve.parameters import Parameter, time_digits, time_series_parameters

_FORMAT_RANK = {"cdf": 0, "netcdf": 1, "flatfile": 2}
_FORMAT_SUFFIX = {"cdf": "CDF", "netcdf": "NC", "flatfile": "FF"}
_ALLOWED = re.compile(r"[^A-Za-z0-9_\-.+:/~]")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


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


def _named_by_day(d: ProductDefinition) -> bool:
    """File names carry a date (year and month and day, or day of year) and no time of day."""
    fields = set(d.filename.fields)
    day_fields = {"yyyy", "mm", "dd"} <= fields or {"yyyy", "doy"} <= fields or {"yy", "doy"} <= fields
    return day_fields and not ({"hh", "mi"} & fields)


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
            daily = level.unit == "day" and _named_by_day(d)
            digits = time_digits(d)
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
