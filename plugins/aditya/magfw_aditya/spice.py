"""Aditya-L1 SPICE kernels: NAIF codes, archive names (SPICE archive manual), the mission
frames kernel magfw ships, and the choice of kernels for a day.

Archive layout (ours; the names are the manual's)::

    spice/spk/al1_eph_DDMmmYYYY_ddmmmyyyy_vX.bsp   monthly ephemeris, 2-3 days margin
    spice/ck/al1_att_DDMmmYYYY_ddmmmyyyy_vX.bc     monthly attitude
    spice/sclk/al1_sclk_vX.tsc                     spacecraft clock

The frames kernel ``data/al1_magfw_frames_v01.tf`` is written by :func:`write_mission_fk`
(``ADITYA`` CK frame -156001 as in the public Aditya FK v04, clock -156, ephemeris -156, and
``ADITYA_MAG`` identical to it); the heliospheric and geocentric frames come from magfw.geometry.frames.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

from magfw.api import MONTH_ABBR, kernels

SPACECRAFT = -156
CK_ID = -156001
FRAME = "ADITYA"
MAG_FRAME = "ADITYA_MAG"
MAG_FRAME_ID = -156566
FK_PATH = Path(__file__).parent / "data" / "al1_magfw_frames_v01.tf"
#: GSM with the fixed 2000.0 dipole pole of the public Aditya FK (frame ``GSM_FIXED2000``).
GSM_FK = "data/al1_magfw_gsm_v01.tf"
GSM_FK_PATH = Path(__file__).parent / GSM_FK
GSM_FIXED_FRAME = "GSM_FIXED2000"
DIRS = {"spk": "spice/spk", "ck": "spice/ck", "sclk": "spice/sclk"}
NAME = re.compile(
    r"^al1_(?P<kind>eph|att)_(?P<start>\d{2}[A-Za-z]{3}\d{4})_"
    r"(?P<end>\d{2}[A-Za-z]{3}\d{4})_v(?P<version>\d+)\.(?:bsp|bc)$"
)
SCLK_NAME = re.compile(r"^al1_sclk_v(?P<version>\d+)\.tsc$")


def fk_assignments() -> dict[str, object]:
    """Kernel-pool assignments of the mission frames kernel."""
    return {
        **kernels.ck_frame_definition(FRAME, CK_ID, sclk_id=SPACECRAFT, spk_id=SPACECRAFT),
        **kernels.tk_frame_definition(MAG_FRAME, MAG_FRAME_ID, FRAME, [[1, 0, 0], [0, 1, 0], [0, 0, 1]]),
    }


FK_COMMENT = """Aditya-L1 frames for magfw (written by magfw_aditya.spice.write_mission_fk).

ADITYA (-156001): spacecraft body frame (SCCS): +X yaw (Sun-pointing), +Y roll, +Z pitch;
orientation from the attitude CK (instrument -156001, clock -156, ephemeris object -156), as
in the public ADITYA_frame_kernel_v04.tf.
ADITYA_MAG (-156566): the magnetometer frame, identical to ADITYA (MAG L1 is in SCCS).
GSE and GSM are magfw's own frames (magfw.geometry.frames), not defined here."""


def write_mission_fk(path: Path = FK_PATH) -> Path:
    """(Re)write the mission frames kernel shipped with the plugin."""
    return kernels.write_fk(path, fk_assignments(), comments=FK_COMMENT)


def name_dates(name: str) -> tuple[date, date] | None:
    """(start, end) dates of an al1_eph/al1_att name, or None if it is not one."""
    m = NAME.match(name)
    if m is None:
        return None
    return _date(m.group("start")), _date(m.group("end"))


def _date(text: str) -> date:
    """``29Jul2024`` (the kernel names' day, English month, year; not the locale's)."""
    return date(int(text[5:]), MONTH_ABBR.index(text[2:5].lower()) + 1, int(text[:2]))


def _text(day: date) -> str:
    return f"{day.day:02d}{MONTH_ABBR[day.month - 1].capitalize()}{day.year:04d}"


def kernel_name(kind: str, start: date, end: date, version: int) -> str:
    """``al1_eph_29Jul2024_03Sep2024_v1.bsp`` / ``al1_att_...bc`` for a span and version."""
    ext = "bsp" if kind == "eph" else "bc"
    return f"al1_{kind}_{_text(start)}_{_text(end)}_v{version}.{ext}"


def month_span(year: int, month: int, kind: str) -> tuple[date, date]:
    """The span of a monthly kernel: 3 (SPK) or 4 (CK) days before the month to the 3rd of
    the next month (the manual's al1_eph_29Jul2024_03Sep2024_v1.bsp,
    al1_att_28Jul2024_03Sep2024_v1.bc; "2-3 days extra data at start and end")."""
    first = date(year, month, 1)
    nxt = (first + timedelta(days=32)).replace(day=3)
    return first - timedelta(days=3 if kind == "eph" else 4), nxt


def candidates_for(names: list[str], day: date) -> list[str]:
    """SPK/CK names whose date span (by name) overlaps ``day`` +- 1 day."""
    out = []
    for n in names:
        span = name_dates(n)
        if span and span[0] <= day + timedelta(days=1) and span[1] >= day - timedelta(days=1):
            out.append(n)
    return out
