"""What flows between the runner and a level's hooks.

:class:`UnitContext` is what every step receives: the mission, level and unit of work, the
archives to fetch from, options, and the product definitions. :class:`Inputs` is what
``fetch`` returns (files with checksums, and the versions in force, for the ledger).
:class:`Product` is what ``write`` returns: an in-memory product the runner serialises with
the core writers, adding provenance. :class:`UnitInfo` is the picklable description of a unit
the notification hooks receive.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from magfw.errors import InputError, MissingInputError, PluginError, UsageError
from magfw.period import Unit

if TYPE_CHECKING:
    from magfw.fetch import Archive, FetchedFile
    from magfw.io.finder import FoundProduct
    from magfw.plugin.definitions import ProductDefinition
    from magfw.plugin.mission import Mission, MissionRegistry

#: Input roles the runner treats specially in provenance: ``calibration`` files are named in
#: the calibration attribute, ``kernel`` files in the SPICE-kernels attribute; every other
#: role (``data``, ``burst``, ``housekeeping``, ``mag``...) is a data input (``Parents``).
CALIBRATION_ROLE = "calibration"
KERNEL_ROLE = "kernel"


@dataclass(frozen=True, kw_only=True)
class InputFile:
    """One input of a unit: where it is, what it is for, and its SHA-256 (for the ledger).

    ``simulated`` is true when the file comes from a simulated archive or is a product made
    from one; products made from it then say they are simulated.
    """

    role: str  #: "data", "burst", "calibration", "kernel", "housekeeping", ...
    name: str  #: the file's name (or relative path) in its archive or output tree
    path: Path  #: the local path the readers open
    sha256: str  #: hex digest, computed once when the file was fetched
    size: int  #: bytes
    version: str | None = None  #: the file's own version (``V06``), if its name has one
    source: str = ""  #: where it came from (absolute path or URL, never with credentials)
    simulated: bool = False
    #: a product of the output tree: the calibration it carries (inherited by what is made of it)
    calibration: tuple[str, ...] = ()

    @classmethod
    def from_fetched(
        cls, f: FetchedFile, role: str, version: str | None = None, *, simulated: bool = False
    ) -> InputFile:
        """An input brought by :meth:`Archive.get` (already hashed: no second read)."""
        return cls(
            role=role,
            name=f.name,
            path=f.path,
            sha256=f.sha256,
            size=f.size,
            version=version,
            source=f.source,
            simulated=simulated,
        )

    @classmethod
    def from_path(
        cls,
        path: Path,
        role: str,
        version: str | None = None,
        name: str | None = None,
        *,
        simulated: bool = False,
    ) -> InputFile:
        """An input that is a local file (a shipped table, a generic kernel), hashed now."""
        from magfw.io.digests import input_digest

        path = Path(path)
        try:
            digest, size = input_digest(path)
        except FileNotFoundError:
            raise MissingInputError(path, "no such file") from None
        return cls(
            role=role,
            name=name or path.name,
            path=path,
            sha256=digest,
            size=size,
            version=version,
            source=str(path.resolve()),
            simulated=simulated,
        )

    def record(self) -> dict[str, Any]:
        """What the ledger keeps of it."""
        return {
            "role": self.role,
            "name": self.name,
            "sha256": self.sha256,
            "size": self.size,
            "version": self.version,
        }


@dataclass(kw_only=True)
class Inputs:
    """What ``fetch`` found for one unit.

    The versions in force are named by kind, so each is recorded as what it is:
    ``calibration`` (calibration tables and databases: the products' calibration attribute),
    ``kernels`` (kernel sets) and ``selection`` (how inputs were chosen: "highest", a pinned
    version, a reader layout; kept in the ledger, not presented as calibration). All three are
    part of the ledger's "unchanged?" test. ``notes`` are things worth telling the user (a day
    listed twice, a version picked); ``skip_reason`` set means "nothing to do for this unit"
    (the runner reports the unit as skipped, not failed).
    """

    files: list[InputFile] = field(default_factory=list)
    calibration: dict[str, str] = field(default_factory=dict)
    kernels: dict[str, str] = field(default_factory=dict)
    selection: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    skip_reason: str | None = None

    def by_role(self, role: str) -> list[InputFile]:
        """The inputs with this role, in fetch order."""
        return [f for f in self.files if f.role == role]

    def one(self, role: str) -> InputFile:
        """The single input with this role (a missing one is a MissingInputError)."""
        found = self.by_role(role)
        if len(found) != 1:
            raise MissingInputError(None, f"expected one {role!r} input, found {len(found)}")
        return found[0]

    def versions(self) -> dict[str, dict[str, str]]:
        """The versions in force by kind (empty kinds left out), for the ledger."""
        out = {"calibration": self.calibration, "kernels": self.kernels, "selection": self.selection}
        return {k: dict(sorted(v.items())) for k, v in out.items() if v}

    @property
    def simulated(self) -> bool:
        """Whether any input is simulated."""
        return any(f.simulated for f in self.files)

    def digest(self) -> str:
        """SHA-256 over the sorted (role, name, sha256) of every input and the versions."""
        blob = json.dumps(
            [sorted((f.role, f.name, f.sha256) for f in self.files), self.versions()],
            sort_keys=True,
        ).encode()
        return hashlib.sha256(blob).hexdigest()


@dataclass
class PlotPanel:
    """One panel of a quicklook: lines against time, sharing units."""

    series: dict[str, np.ndarray]  #: label -> values (NaN = gap)
    ylabel: str = ""
    colors: list[str] | None = None


@dataclass(kw_only=True)
class PlotSpec:
    """A quicklook image: time (int64 TT2000) and panels, rendered by :mod:`magfw.tools.plot`."""

    time: np.ndarray
    panels: list[PlotPanel]
    title: str = ""
    size_px: tuple[int, int] = (1200, 800)
    dpi: int = 100


@dataclass(kw_only=True)
class Product:
    """An in-memory product returned by ``write``; the runner writes it to disk.

    ``fields`` fill the definition's file-name template; the runner adds the version field
    and any date field (``yyyy yy mm mmm dd doy``) not given, from the unit's first day.
    ``variables`` maps variable names to arrays (time as int64 TT2000 for ``tt2000``
    variables). ``attrs`` adds or overrides global attributes (None removes one);
    ``variable_attrs`` adds per-variable attributes. Exactly one content goes with the
    format: ``variables`` (cdf, netcdf, flatfile), ``plot`` (png), ``payload`` (bytes), or
    ``stream`` (bytes too large to hold: a function the runner calls with the staging path
    to write the file, e.g. a zip of a month of CDFs), or ``payload_from`` (bytes made from
    the unit's files written before this one: the runner calls it with their relative paths
    mapped to their staged paths, e.g. a meta-file giving the size and checksum of its data
    file; list it after the files it describes). ``inputs`` names the unit's inputs this file
    was made from, for its provenance (default: all the unit's data inputs).
    """

    definition: ProductDefinition
    fields: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, np.ndarray] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)
    variable_attrs: dict[str, dict[str, Any]] = field(default_factory=dict)
    payload: bytes | None = None
    plot: PlotSpec | None = None
    stream: Callable[[Path], None] | None = None
    inputs: list[str] | None = None
    payload_from: Callable[[Mapping[str, Path]], bytes] | None = None


@dataclass(frozen=True, kw_only=True)
class UnitInfo:
    """Which unit a committed product belongs to (what the notification hooks receive)."""

    mission: str
    level: str
    unit: Unit
    spacecraft: str | None
    out_dir: Path
    version: int
    reason: str | None
    simulated: bool
    run_id: str = ""

    @property
    def day(self) -> date:
        return self.unit.start


@dataclass(kw_only=True)
class UnitContext:
    """Everything a step may know about the unit it processes. Steps must not write files.

    ``archive`` is the default source (``--source``); ``archives`` holds every source by role
    (``--source spice=URL`` adds ``archives["spice"]``): :meth:`archive_for` picks one.
    ``version``, ``reason`` and ``revision`` are set by the runner before ``read``: the
    product version to give increment and major_minor products, why this is a regeneration
    (None the first time), and whether it is a ``major`` or ``minor`` revision (major_minor
    products only).
    ``vectors`` is incremented by steps (usually ``read``) for the run's throughput summary.
    ``simulated`` is true when the inputs come from a simulated archive. ``log`` is the
    logger whose records go to ``<out>/.magfw/logs/magfw.log``; ``cache_dir`` a folder the
    level may keep derived, re-creatable files in; ``notes`` what :meth:`note` collected.
    """

    mission: Mission
    level: str
    unit: Unit
    spacecraft: str | None
    archive: Archive
    out_dir: Path
    cache_dir: Path
    registry: MissionRegistry
    options: dict[str, Any] = field(default_factory=dict)
    simulated: bool = False
    version: int = 0
    reason: str | None = None
    vectors: int = 0
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("magfw"))
    archives: dict[str, Archive] = field(default_factory=dict)
    run_id: str = ""
    notes: list[str] = field(default_factory=list)
    revision: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def day(self) -> date:
        """The unit's day (day units) or its first day (month and year units)."""
        return self.unit.start

    @property
    def sc(self) -> str:
        """The unit's spacecraft, for a level that runs per spacecraft (the runner has resolved
        the mission's default); a unit covering every spacecraft has none (PluginError)."""
        if self.spacecraft is None:
            raise PluginError(None, f"{self.mission.id} {self.level}: this unit has no single spacecraft")
        return self.spacecraft

    def note(self, text: str) -> None:
        """Tell the user something about this unit (shown in the run's summary line for it
        and in the log); for what is worth knowing but is no failure."""
        self.notes.append(" ".join(text.split()))
        self.log.info("%s %s %s: %s", self.mission.id, self.level, self.unit.key, text)

    def warn(self, text: str) -> None:
        """Warn about this unit: it still succeeds, but the run's summary repeats the warning
        on the terminal (``magfw: warning: ...``), e.g. a day whose field is all fill."""
        line = " ".join(text.split())
        self.warnings.append(line)
        self.log.warning("%s %s %s: %s", self.mission.id, self.level, self.unit.key, line)

    def archive_for(self, role: str) -> Archive:
        """The archive given for ``role`` (``--source ROLE=...``), else the default one."""
        return self.archives.get(role, self.archive)

    def product(self, product_id: str) -> ProductDefinition:
        """This mission's product definition ``product_id``."""
        return self.mission.product(product_id)

    def find_products(self, mission: str, product_id: str, **fields: Any) -> list[FoundProduct]:
        """Existing product files (every version) of any mission in the output tree, e.g.
        PLASTIC reading MAG L1; found through the registry and the definition's file name,
        never by importing the other plugin. Sorted by path."""
        from magfw.io.finder import find_products

        return find_products(self.out_dir, self.registry.get(mission).product(product_id), **fields)

    def newest_products(self, mission: str, product_id: str, **fields: Any) -> list[FoundProduct]:
        """Like :meth:`find_products`, the highest version of each product only."""
        from magfw.io.finder import newest_products

        return newest_products(self.out_dir, self.registry.get(mission).product(product_id), **fields)

    def product_input(self, found: FoundProduct | Path, role: str) -> InputFile:
        """An input that is a product of the output tree, named by its path in the tree.

        Its SHA-256 is the one the ledger recorded when magfw wrote it (no read now), and it
        is simulated when the run that made it was; it carries that run's calibration, which
        the products made from it inherit. A file whose size differs from that record was
        changed outside magfw: an :class:`InputError`. A file no run recorded is hashed now."""
        from magfw.config import state_dir
        from magfw.engine.ledger import Ledger

        path = found if isinstance(found, Path) else found.path
        rel = Path(path).resolve().relative_to(Path(self.out_dir).resolve()).as_posix()
        version = None
        if not isinstance(found, Path) and found.version is not None:
            version = f"V{found.version:02d}"
        ledger = Ledger.reader(state_dir(self.out_dir) / "ledger.sqlite")
        record = ledger.output_record(rel) if ledger is not None else None
        if record is None:
            return InputFile.from_path(path, role, version, name=rel)
        try:
            actual = Path(path).stat().st_size
        except FileNotFoundError:
            raise MissingInputError(path, "recorded in the ledger but gone") from None
        if actual != record.size:
            raise InputError(
                path,
                f"changed since magfw wrote it ({actual} bytes, the ledger "
                f"says {record.size}): rerun the level that makes it",
            )
        return InputFile(
            role=role,
            name=rel,
            path=Path(path),
            sha256=record.sha256,
            size=record.size,
            version=version,
            source=str(Path(path).resolve()),
            simulated=record.simulated,
            calibration=record.calibration,
        )

    def inputs_of(
        self, mission: str, level: str, spacecraft: str | None, unit_key: str
    ) -> list[dict[str, Any]] | None:
        """The inputs (role, name, sha256, size, version) of the last successful run of
        another unit, from the ledger, or None if it never ran (e.g. which Counts table the
        L1 day that a delivery packages was made with)."""
        from magfw.config import state_dir
        from magfw.engine.ledger import Ledger

        ledger = Ledger.reader(state_dir(self.out_dir) / "ledger.sqlite")
        if ledger is None:
            return None
        entry = ledger.last_ok(f"{mission}/{level}/{spacecraft or '-'}/{unit_key}")
        return None if entry is None else entry.inputs

    def shipped_input(
        self, package: str, relpath: str, role: str = CALIBRATION_ROLE, version: str | None = None
    ) -> InputFile:
        """A file shipped inside a plugin's Python package (a calibration table, a frames
        kernel) as an input, so the ledger sees it change with the plugin."""
        root = resources.files(package)
        path = Path(str(root.joinpath(*relpath.split("/"))))
        if not path.is_file():
            raise UsageError(path, f"not shipped in package {package}")
        return InputFile.from_path(path, role, version, name=f"{package}/{relpath}")

    @property
    def info(self) -> UnitInfo:
        """The picklable description of this unit."""
        return UnitInfo(
            mission=self.mission.id,
            level=self.level,
            unit=self.unit,
            spacecraft=self.spacecraft,
            out_dir=self.out_dir,
            version=self.version,
            reason=self.reason,
            simulated=self.simulated,
            run_id=self.run_id,
        )
