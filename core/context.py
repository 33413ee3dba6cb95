"""What flows between the runner and a mission's hooks.

:class:`UnitContext` is what every step receives: the mission, level and unit of work, the
archive to fetch from, options, and the product definitions. :class:`Inputs` is what ``fetch``
returns (files with checksums, for the ledger). :class:`Product` is what ``write`` returns: an
in-memory product the runner serialises with the core writers, adding provenance.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from magfw.period import Unit

if TYPE_CHECKING:
    from magfw.fetch import Archive, FetchedFile
    from magfw.mission import Mission, MissionRegistry
    from magfw.products import ProductDefinition


@dataclass(frozen=True)
class InputFile:
    """One input of a unit: where it is, what it is for, and its SHA-256 (for the ledger)."""

    role: str  # "data", "burst", "calibration", "kernel", "housekeeping", ...
    name: str  # the file's name (or relative path) in its archive
    path: Path  # local path the readers open
    sha256: str
    size: int
    version: str | None = None
    source: str = ""

    @classmethod
    def from_fetched(cls, f: FetchedFile, role: str, version: str | None = None) -> InputFile:
        return cls(role, f.name, f.path, f.sha256, f.size, version, f.source)

    @classmethod
    def from_path(cls, path: Path, role: str, version: str | None = None,
                  name: str | None = None) -> InputFile:
        """An input that is a local file (a product of another level, a generic kernel)."""
        from magfw.io.checksum import sha256_file

        path = Path(path)
        return cls(role, name or path.name, path, sha256_file(path), path.stat().st_size, version,
                   str(path.resolve()))

    def record(self) -> dict[str, Any]:
        return {"role": self.role, "name": self.name, "sha256": self.sha256, "size": self.size,
                "version": self.version}


@dataclass
class Inputs:
    """What ``fetch`` found for one unit.

    ``versions`` names the calibration/kernel/table versions in force (they are part of the
    ledger's "unchanged?" test); ``notes`` are things worth telling the user (a day listed
    twice, a version picked); ``skip_reason`` set means "nothing to do for this unit" (the
    runner reports the unit as skipped, not failed).
    """

    files: list[InputFile] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    skip_reason: str | None = None

    def by_role(self, role: str) -> list[InputFile]:
        return [f for f in self.files if f.role == role]

    def digest(self) -> str:
        """SHA-256 over the sorted (role, name, sha256) of every input and the versions."""
        blob = json.dumps(
            [sorted((f.role, f.name, f.sha256) for f in self.files), sorted(self.versions.items())]
        ).encode()
        return hashlib.sha256(blob).hexdigest()


@dataclass
class PlotPanel:
    """One panel of a quicklook: lines against time, sharing units."""

    series: dict[str, np.ndarray]  # label -> values (NaN = gap)
    ylabel: str = ""
    colors: list[str] | None = None


@dataclass
class PlotSpec:
    """A quicklook image: time (int64 TT2000) and panels, rendered by :mod:`magfw.plot`."""

    time: np.ndarray
    panels: list[PlotPanel]
    title: str = ""
    size_px: tuple[int, int] = (1200, 800)
    dpi: int = 100


@dataclass
class Product:
    """An in-memory product returned by ``write``; the runner writes it to disk.

    ``fields`` fill the definition's file-name template (the runner adds the version field).
    ``variables`` maps variable names to arrays (time as int64 TT2000 for ``tt2000``
    variables). ``attrs`` adds or overrides global attributes; ``variable_attrs`` adds
    per-variable attributes. ``payload`` is the content of a ``bytes`` product (XML, text,
    zip); ``plot`` that of a ``png`` product. ``inputs`` names the unit's inputs this file was
    made from, for its provenance (default: all the unit's data inputs).
    """

    definition: ProductDefinition
    fields: dict[str, Any]
    variables: dict[str, np.ndarray] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)
    variable_attrs: dict[str, dict[str, Any]] = field(default_factory=dict)
    payload: bytes | None = None
    plot: PlotSpec | None = None
    inputs: list[str] | None = None  # names of the unit's inputs this file came from (None: all)


@dataclass
class UnitContext:
    """Everything a step may know about the unit it processes. Steps must not write files.

    ``version`` and ``reason`` are set by the runner before ``write``: the product version to
    give increment-policy products, and why this is a regeneration (None the first time).
    ``vectors`` is incremented by steps (usually ``read``) for the run's throughput summary.
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

    @property
    def day(self) -> date:
        return self.unit.start

    def product(self, product_id: str) -> ProductDefinition:
        """This mission's product definition ``product_id``."""
        return self.mission.product(product_id)

    def find_products(self, mission: str, product_id: str, **fields: Any) -> list[Path]:
        """Existing product files of any mission in the output tree (e.g. PLASTIC reading MAG
        L1), newest version last; found through the registry, not by importing the plugin."""
        definition = self.registry.get(mission).product(product_id)
        pattern = definition.filename.glob(**fields)
        matches = [p for p in self.out_dir.glob(pattern) if definition.filename.parse(
            p.relative_to(self.out_dir).as_posix()) is not None]
        vf = definition.version.field

        def version_of(p: Path) -> int:
            parsed = definition.filename.parse(p.relative_to(self.out_dir).as_posix()) or {}
            v = parsed.get(vf, 0)
            return int(v) if isinstance(v, int) else 0

        return sorted(matches, key=lambda p: (version_of(p), p.name))
