"""Product definitions: pydantic models for what a product file holds, loaded from YAML.

A product definition says, as data, how a product is named (a file-name template with named,
width-checked fields), which variables it holds (dtype, dimensions, units, fill, valid range,
ISTP/CF attributes), its global attributes, cadence, time convention and versioning policy.
Writers (:mod:`magfw.io`) and ``magfw check`` are driven by these models; missions ship them as
YAML under ``schemas/<mission>/``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from magfw.errors import DefinitionError
from magfw.plugin.filenames import DefinitionModel, FileName

#: dtypes a variable may declare. ``tt2000`` is int64 TT2000 ns (CDF_TIME_TT2000 in CDF),
#: ``cdf_epoch`` float64 ms since 0000-01-01 (CDF_EPOCH), ``str`` fixed-width text.
DType = Literal[
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "float32",
    "float64",
    "tt2000",
    "cdf_epoch",
    "str",
]
VarType = Literal["data", "support_data", "metadata", "ignore_data"]
Format = Literal["cdf", "netcdf", "flatfile", "png", "bytes"]


# ---------------------------------------------------------------------------------------------
# Variables
# ---------------------------------------------------------------------------------------------


class Variable(DefinitionModel):
    """One variable (or, for flat files, one column) of a product.

    ``dims`` name the dimensions, first the record dimension (usually ``time``); sizes of the
    other dimensions are in :attr:`ProductDefinition.dims`. ``fill``, ``valid_min`` and
    ``valid_max`` are in the variable's units. ``depend`` maps ``DEPEND_0``/``DEPEND_1``/...
    to other variable names; ``labl_ptr`` maps ``LABL_PTR_1``/... likewise. ``attrs`` holds
    further attributes written verbatim (``FORMAT``, ``SCALETYP``, ``long_name``, ...).
    """

    name: str
    dtype: DType
    dims: list[str] = Field(default_factory=list)
    units: str | None = None
    description: str = ""
    fill: float | int | str | None = None
    valid_min: float | int | None = None
    valid_max: float | int | None = None
    var_type: VarType = "data"
    depend: dict[str, str] = Field(default_factory=dict)
    labl_ptr: dict[str, str] = Field(default_factory=dict)
    field_name: str | None = None
    display_type: str | None = None
    record_varying: bool = True
    optional: bool = False
    attrs: dict[str, Any] = Field(default_factory=dict)

    @field_validator("depend", "labl_ptr")
    @classmethod
    def _keys(cls, v: dict[str, str], info: Any) -> dict[str, str]:
        prefix = "DEPEND_" if info.field_name == "depend" else "LABL_PTR_"
        for k in v:
            if not re.fullmatch(prefix + r"\d", k):
                raise ValueError(f"{k!r} is not {prefix}<n>")
        return v

    @property
    def numpy_dtype(self) -> str:
        return {"tt2000": "int64", "cdf_epoch": "float64", "str": "U"}.get(self.dtype, self.dtype)


class VersionPolicy(DefinitionModel):
    """How the product version is chosen.

    ``increment``: the first product is ``start``; a regeneration with changed inputs or
    versions gets the previous version + 1 (``V00``, ``V01``...). ``major_minor``: a two-digit
    ``Vmn``: a *major* revision (changed calibration, product definitions, software or an
    option that affects the output: a new calibration or algorithm) makes ``m`` + 1 and
    ``n`` = 0; a *minor* one (changed input files, kernels or input selection) makes ``n`` + 1
    (after ``n`` = 9 the next minor revision starts the next ``m``); the ledger's reason says
    which (Aditya ``V00``, ``V01``, ``V10``...). ``fixed``: always ``start`` (a processing
    release such as STEREO ``V06``); a regeneration overwrites it.
    """

    policy: Literal["increment", "major_minor", "fixed"] = "fixed"
    start: Annotated[int, Field(ge=0)] = 0
    field: str = "version"


class Provenance(DefinitionModel):
    """Global-attribute names the runner fills with provenance; None to leave one out."""

    inputs: str | None = "Parents"
    software: str | None = "Software_version"
    created: str | None = "Generation_date"
    calibration: str | None = "Calibration_version"
    kernels: str | None = "SPICE_kernels"
    simulated: str | None = "Data_source"
    reason: str | None = None


class QuicklookPanel(DefinitionModel):
    """One panel of a product's quicklook: the variables drawn in it.

    Each entry is a variable name (a ``[N, k]`` variable draws its ``k`` columns), or one
    column or a range of columns of it, ``BFIELD[3]`` or ``BFIELD[0:3]`` (Python slices).
    ``label`` is the y label (default: the first variable's ``LABLAXIS`` or name, and units).
    ``norm``: draw one line, the magnitude (root sum of squares) of the entries' columns, e.g.
    |B| of ``[Bx_gse, By_gse, Bz_gse]`` (added later: a reader that ignores it draws the
    components).
    """

    variables: list[str] = Field(min_length=1)
    label: str = ""
    norm: bool = False

    @field_validator("variables")
    @classmethod
    def _names(cls, v: list[str]) -> list[str]:
        for item in v:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\[\d+(:\d+)?\])?", item):
                raise ValueError(f"{item!r} is not NAME, NAME[i] or NAME[i:j]")
        return v


class Quicklook(DefinitionModel):
    """What ``magfw plot`` draws for a product (optional; without it every float variable
    that depends on time is drawn, at most eight panels).

    ``panels`` are drawn top to bottom; ``title`` is formatted with the file name's fields
    (``STEREO-{sc} MAG L1 RTN 8 Hz V{version}``) and ``{mission}`` (the mission's title),
    ``{spacecraft}`` (as the mission spells it), ``{product}`` (the definition id) and
    ``{cadence}`` (``cadence_s`` as ``8 Hz``, ``128 ms``, ``10 s``...); ``magfw plot`` adds a
    line naming mission, spacecraft, product, version and file, and ``SIMULATED`` when the file
    says its inputs were simulated.
    """

    panels: list[QuicklookPanel] = Field(min_length=1)
    title: str = ""

    def variable_names(self) -> list[str]:
        return [re.sub(r"\[.*\]$", "", v) for p in self.panels for v in p.variables]


def _record_dims() -> dict[str, int | None]:
    return {"time": None}


class ProductDefinition(DefinitionModel):
    """One product of a mission: name, format, variables, attributes, cadence, versioning."""

    id: str = Field(description="unique within the mission, e.g. 'l1_sc_8hz'")
    mission: str
    level: str
    description: str = ""
    format: Format
    filename: FileName
    cadence_s: Annotated[float, Field(gt=0)] | None = Field(
        default=None, description="nominal sample interval in seconds; None if irregular"
    )
    time_convention: Literal["start", "centre", "end", "instant"] = "instant"
    time_variable: str | None = "Epoch"
    dims: dict[str, int | None] = Field(default_factory=lambda: _record_dims())
    variables: list[Variable] = Field(default_factory=list)
    global_attrs: dict[str, Any] = Field(default_factory=dict)
    required_global_attrs: list[str] = Field(default_factory=list)
    version: VersionPolicy = Field(default_factory=VersionPolicy)
    provenance: Provenance = Field(default_factory=Provenance)
    compression: Annotated[int, Field(ge=0, le=9)] = Field(
        default=0, description="CDF/netCDF deflate level; 0 = none (fastest writes)"
    )
    flatfile_epoch: Literal["Y1966", "Y1970", "Y2000", "J2000"] = "Y1966"
    publish: str | None = Field(
        default=None,
        description="where `magfw publish` puts the file under --to: a folder template over "
        "the file-name fields and the file's date fields (yyyy yy mm mmm dd doy, "
        "zero-padded), with str.format specs ({obsid:.8}); None: its path in the "
        "output tree. Not part of the product's identity (its digest).",
    )
    quicklook: Quicklook | None = Field(
        default=None,
        description="the panels worth plotting (magfw plot); None: every float variable that depends on time",
    )
    notes: str = ""

    @model_validator(mode="after")
    def _check(self) -> ProductDefinition:
        names = [v.name for v in self.variables]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"duplicate variables {dup}")
        known = set(names)
        for v in self.variables:
            for d in v.dims:
                if d not in self.dims:
                    raise ValueError(f"variable {v.name} uses undeclared dimension {d!r}")
            for ref in [*v.depend.values(), *v.labl_ptr.values()]:
                if ref not in known:
                    raise ValueError(f"variable {v.name} refers to unknown variable {ref!r}")
        if self.version.policy != "fixed" and self.version.field not in self.filename.fields:
            raise ValueError(f"versions count up but the file name has no field {self.version.field!r}")
        if self.format in ("cdf", "netcdf", "flatfile"):
            if self.time_variable is not None and self.time_variable not in known:
                raise ValueError(f"time variable {self.time_variable!r} is not a variable")
        if self.quicklook is not None:
            unknown = [n for n in self.quicklook.variable_names() if n not in known]
            if unknown:
                raise ValueError(f"quicklook names unknown variables {unknown}")
        return self

    @model_validator(mode="after")
    def _format(self) -> ProductDefinition:
        """Keys the format cannot take (:mod:`magfw.plugin.format_rules`), refused in one line."""
        from magfw.plugin.format_rules import format_problems

        problems = format_problems(self)
        if problems:
            more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
            raise ValueError(problems[0] + more)
        return self

    def publish_path(self, rel: str) -> str | None:
        """Where ``magfw publish`` puts the file ``rel`` (relative to the output tree): its
        :attr:`publish` folder filled from the name's fields and date, plus its name; None
        when the definition has no publish layout or the name does not parse."""
        if self.publish is None:
            return None
        fields = self.filename.parse(rel)
        if fields is None:
            return None
        texts: dict[str, Any] = {k: self.filename.fields[k].format(k, v) for k, v in fields.items()}
        from magfw.io.finder import FoundProduct, date_fields

        day = FoundProduct(Path(rel), rel, fields, None).day
        if day is not None:
            d = date_fields(day)
            texts.update(
                {
                    "yyyy": f"{d['yyyy']:04d}",
                    "yy": f"{d['yy']:02d}",
                    "mm": f"{d['mm']:02d}",
                    "mmm": d["mmm"],
                    "dd": f"{d['dd']:02d}",
                    "doy": f"{d['doy']:03d}",
                }
            )
        try:
            folder = self.publish.format(**texts)
        except (KeyError, ValueError) as exc:
            raise DefinitionError(
                None, f"{self.key}: publish {self.publish!r} cannot be filled for {rel}: {exc}"
            ) from exc
        return f"{folder}/{Path(rel).name}" if folder else Path(rel).name

    def variable(self, name: str) -> Variable:
        for v in self.variables:
            if v.name == name:
                return v
        raise KeyError(name)

    @property
    def key(self) -> str:
        return f"{self.mission}/{self.id}"

    def digest(self) -> str:
        """A short hash of the definition: a changed definition means a changed product.

        Where it is published (``publish``) and how it is drawn (``quicklook``) are not part
        of the product: declaring or changing a quicklook regenerates nothing."""
        dump = self.model_dump(mode="json")
        dump.pop("publish", None)
        dump.pop("quicklook", None)
        blob = json.dumps(dump, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


def _parsed_cache() -> Path:
    """Where parsed definitions are kept: ``$XDG_CACHE_HOME/magfw/definitions``."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "magfw" / "definitions"


def _parse_yaml(text: str, path: str | Path) -> Any:
    """A definition's YAML parsed, through a cache of earlier parses keyed by the text's
    SHA-256 (a JSON file each: every process, each worker included, loads ~40 definitions, and
    JSON reads 20x faster than YAML). A definition JSON cannot hold exactly is not cached; a
    cache that cannot be read or written is ignored."""
    cached = _parsed_cache() / f"{hashlib.sha256(text.encode()).hexdigest()}.json"
    try:
        return json.loads(cached.read_text())
    except (OSError, ValueError):
        pass
    import yaml  # (only when a definition is not in the cache)

    try:  # libyaml's loader when PyYAML has it (10x faster than the pure-Python one)
        raw = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise DefinitionError(path, f"cannot read YAML: {exc}") from exc
    try:
        blob = json.dumps(raw)
        if json.loads(blob) == raw:
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_name(f".{cached.name}.{os.getpid()}")
            tmp.write_text(blob)
            os.replace(tmp, cached)
    except (OSError, TypeError, ValueError):
        pass
    return raw


def load_definition(path: str | Path, text: str | None = None) -> ProductDefinition:
    """Load and validate one YAML product definition; a bad one is a one-line DefinitionError."""
    try:
        raw = _parse_yaml(text if text is not None else Path(path).read_text(), path)
    except OSError as exc:
        raise DefinitionError(path, f"cannot read YAML: {exc}") from exc
    if not isinstance(raw, Mapping):
        raise DefinitionError(path, "a product definition must be a YAML mapping")
    try:
        return ProductDefinition.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "(top)"
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise DefinitionError(path, f"invalid definition at {loc}: {first['msg']}{more}") from exc


def load_definitions(folder: Path | resources.abc.Traversable) -> list[ProductDefinition]:
    """Every ``*.yaml`` definition in a folder (a path or an importlib.resources traversable)."""
    entries = sorted(
        (e for e in folder.iterdir() if e.name.endswith((".yaml", ".yml"))), key=lambda e: e.name
    )
    return [load_definition(str(e), e.read_text()) for e in entries]


def shipped_definitions(mission: str) -> list[ProductDefinition]:
    """The definitions shipped in the magfw wheel under ``schemas/<mission>/`` ([] if none)."""
    folder = resources.files("magfw_schemas") / mission
    return load_definitions(folder) if folder.is_dir() else []


def product_json_schema() -> dict[str, Any]:
    """JSON Schema of :class:`ProductDefinition`, exported to ``schemas/product.schema.json``."""
    schema = ProductDefinition.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "magfw product definition"
    return schema


def find_definition(
    name: str, definitions: Iterable[ProductDefinition]
) -> tuple[ProductDefinition, dict[str, Any]] | None:
    """The definition whose file-name template matches ``name``, with the parsed fields."""
    for d in definitions:
        fields = d.filename.parse(name)
        if fields is not None:
            return d, fields
    return None


def write_json_schema(path: str | Path) -> None:
    """Write the JSON Schema of product definitions (``python -m magfw.plugin.definitions PATH``)."""
    Path(path).write_text(json.dumps(product_json_schema(), indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    import sys

    write_json_schema(sys.argv[1] if len(sys.argv) > 1 else "schemas/product.schema.json")
