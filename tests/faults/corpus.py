"""The fault corpus: damaged inputs and hostile environments, as recipes.

Each :class:`Case` damages a copy of a simulated archive (or the environment) and says what
the run must do: the exit code, the one failure line (a regular expression), which units
fail. Recipes, not stored damaged files: each starts from the simulator's output, so the
corpus follows the real layouts as they change. ``tests/faults/test_faults.py`` runs them.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cdflib
import numpy as np
from cdflib.cdfwrite import CDF as CdfWriter

UV = "impact/misc/uv/ahead"
DAY1 = f"{UV}/STA_L1_MAG_20240101_V01.cdf"
COUNTS = "offsets/202401StereoACounts.asc"
SPICE = "stereo/gen/data/spice"
CK_DAY1 = f"{SPICE}/ah/ahead/ahead_2024_001_01.ah.bc"
SCLK = f"{SPICE}/sclk/ahead/ahead_science_01.sclk"


def replace(path: Path, data: bytes) -> None:
    """Write ``data`` as ``path`` (a new file: the archive copy may share inodes)."""
    path.unlink()
    path.write_bytes(data)


def truncate(rel: str, keep: int) -> Callable[[Path], None]:
    def damage(root: Path) -> None:
        replace(root / rel, (root / rel).read_bytes()[:keep])

    return damage


def garbage(rel: str, size: int = 4096) -> Callable[[Path], None]:
    def damage(root: Path) -> None:
        replace(root / rel, np.random.default_rng(7).integers(0, 256, size, np.uint8).tobytes())

    return damage


def remove(rel: str) -> Callable[[Path], None]:
    def damage(root: Path) -> None:
        (root / rel).unlink()

    return damage


def text(rel: str, content: str) -> Callable[[Path], None]:
    def damage(root: Path) -> None:
        replace(root / rel, content.encode())

    return damage


def rewrite_uv(
    rel: str, change: Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]
) -> Callable[[Path], None]:
    """Rewrite a Berkeley file with its variables changed (Epoch CDF_EPOCH, B_SC float32
    [N,3|4], MAGFLAGUC uint32): ``change`` maps the arrays to new ones (a name left out is
    not written)."""
    types = {"Epoch": 31, "B_SC": 21, "MAGFLAGUC": 14}

    def damage(root: Path) -> None:
        path = root / rel
        cdf = cdflib.CDF(str(path))
        arrays = {n: np.asarray(cdf.varget(n)) for n in types if n in cdf.cdf_info().zVariables}
        arrays = change(arrays)
        path.unlink()
        with CdfWriter(str(path), cdf_spec={"Compressed": 0, "Majority": "row_major"}) as w:
            for name, arr in arrays.items():
                w.write_var(
                    {
                        "Variable": name,
                        "Data_Type": types[name],
                        "Num_Elements": 1,
                        "Rec_Vary": True,
                        "Dim_Sizes": list(arr.shape[1:]),
                        "Compress": 0,
                    },
                    var_attrs={},
                    var_data=arr if arr.size else None,
                )

    return damage


def no_records(a: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: v[:0] for k, v in a.items()}


def fill_epoch(a: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {**a, "Epoch": np.full_like(a["Epoch"], -1e31)}


def fill_field(a: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {**a, "B_SC": np.full_like(a["B_SC"], -1e31)}


def without_b(a: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: v for k, v in a.items() if k != "B_SC"}


@dataclass(frozen=True, kw_only=True)
class Case:
    """A damage and what the run must do about it."""

    id: str
    kind: str  #: what goes wrong: input, calibration, kernel, archive
    damage: Callable[[Path], None]
    line: str  #: regular expression the one failure line must match
    failed: tuple[str, ...] = ("2024-01-01",)  #: the units that fail; the others are ok
    #: units that complete but whose inputs changed (a damaged neighbour kernel left out):
    #: remade, so their products are not compared byte for byte
    remade: tuple[str, ...] = ()
    repair: Callable[[Path, Path], None] | None = None  #: (archive, intact) -> None


def restore(rel: str) -> Callable[[Path, Path], None]:
    def repair(root: Path, intact: Path) -> None:
        target = root / rel
        if target.exists():
            target.unlink()
        shutil.copy2(intact / rel, target)

    return repair


#: STEREO-A L1, 2024-01-01..02: a damaged input of the 1st fails the 1st only.
STEREO_CASES = [
    Case(
        id="cdf-truncated",
        kind="input",
        damage=truncate(DAY1, 5_000_000),
        line=r"STA_L1_MAG_20240101_V01\.cdf: not a readable CDF: truncated \(5000000 of \d+ bytes\)",
        repair=restore(DAY1),
    ),
    Case(
        id="cdf-zero-bytes",
        kind="input",
        damage=truncate(DAY1, 0),
        line=r"STA_L1_MAG_20240101_V01\.cdf: not a readable CDF",
        repair=restore(DAY1),
    ),
    Case(
        id="cdf-garbage",
        kind="input",
        damage=garbage(DAY1),
        line=r"STA_L1_MAG_20240101_V01\.cdf: not a readable CDF",
        repair=restore(DAY1),
    ),
    Case(
        id="cdf-wrong-variables",
        kind="input",
        damage=rewrite_uv(DAY1, without_b),
        line=r"STA_L1_MAG_20240101_V01\.cdf: variable 'B_SC' not found",
        repair=restore(DAY1),
    ),
    Case(
        id="cdf-no-records",
        kind="input",
        damage=rewrite_uv(DAY1, no_records),
        line=r"STA_L1_MAG_20240101_V01\.cdf: no records",
        repair=restore(DAY1),
    ),
    Case(
        id="cdf-epoch-all-fill",
        kind="input",
        damage=rewrite_uv(DAY1, fill_epoch),
        line=r"STA_L1_MAG_20240101_V01\.cdf: every Epoch of its \d+ records is fill",
        repair=restore(DAY1),
    ),
    Case(
        id="cdf-field-all-fill",
        kind="input",
        damage=rewrite_uv(DAY1, fill_field),
        line=r"STA_L1_MAG_20240101_V01\.cdf: every B_SC value of its \d+ records is fill",
        repair=restore(DAY1),
    ),
    Case(
        id="day-missing",
        kind="archive",
        damage=remove(DAY1),
        line=r"no file STA_L1_MAG_20240101_Vnn\.cdf for 2024-01-01",
        repair=restore(DAY1),
    ),
    Case(
        id="counts-table-garbage",
        kind="calibration",
        damage=text(COUNTS, "% year, Day, Kx\n2024 1.5 x\n"),
        line=r"202401StereoACounts\.asc: line 2: expected 11 columns",
        failed=("2024-01-01", "2024-01-02"),
        repair=restore(COUNTS),
    ),
    Case(
        id="counts-table-missing",
        kind="calibration",
        damage=remove(COUNTS),
        line=r"202401StereoACounts\.asc: no Counts table for this month",
        failed=("2024-01-01", "2024-01-02"),
        repair=restore(COUNTS),
    ),
    # the 2nd's own CK covers it (the 1st's would only have added the margin): only the 1st fails
    Case(
        id="ck-garbage",
        kind="kernel",
        damage=garbage(CK_DAY1, 8192),
        line=r"ahead_2024_001_01\.ah\.bc: SPICE cannot read this CK: SPICE\(INVALIDARCHTYPE\)",
        failed=("2024-01-01",),
        remade=("2024-01-02",),
        repair=restore(CK_DAY1),
    ),
    Case(
        id="sclk-missing",
        kind="kernel",
        damage=remove(SCLK),
        line=r"\.ah\.bc: SPICE cannot read this CK \(no SCLK kernel for it\?\)",
        failed=("2024-01-01", "2024-01-02"),
        repair=restore(SCLK),
    ),
]
