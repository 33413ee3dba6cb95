"""Level-0 tar files: names, archive layout, and decoding their payload, HK and TCT members.

Archive layout (ours, documented in docs/aditya.md)::

    l0/YYYY/MM/DD/<stem>_Vnn.tar     one tar per ~12 h; DD is the date in the stem
        <stem>.pld                   science packets (data/l0_packets.yaml: science)
        <stem>.hk                    housekeeping packets (temperatures)
        <stem>.tct                   time-correlation table (text)

``<stem>`` is the ICD name of Table 1 without prefix and version,
``MAG91N18P1AL1{strip}{vc}{apid}{yy}{doy}{hh}{mi}{ss}{ms}_{obsid}``; the L1 product is named
``L1_<stem>_Vmn.nc``. ``_Vnn`` of the tar is the L0 version (the highest one of a stem wins).
"""

from __future__ import annotations

import re
import tarfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from magfw.api import InputError, MissingInputError, ProductDefinition
from magfw_aditya.clock import ClockJump, packet_clock
from magfw_aditya.packets import Layout, TruncatedPackets, bit_value, decode, engineering
from magfw_aditya.tct import TimeCorrelation, parse_tct

L0_DIR = "l0"
TAR_PATTERN = re.compile(r"(?P<key>MAG91\w+_[A-Za-z0-9]{3}_\d{4}_\d{6})_V(?P<version>\d{2})\.tar$")


def stem_fields(l1: ProductDefinition, stem: str) -> dict[str, Any] | None:
    """Table-1 fields of an L0 stem, parsed with the L1 definition's file-name template."""
    fields = l1.filename.parse(f"L1_{stem}_V00.nc")
    if fields is None:
        return None
    fields.pop(l1.version.field, None)
    return fields


def stem_date(fields: dict[str, Any]) -> date:
    """UTC date of the first frame named in the stem (2-digit year 20yy, day of year)."""
    return date(2000 + int(fields["yy"]), 1, 1) + timedelta(days=int(fields["doy"]) - 1)


def day_dir(day: date) -> str:
    return f"{L0_DIR}/{day:%Y}/{day:%m}/{day:%d}"


@dataclass(kw_only=True)
class L0Data:
    """One decoded L0 tar: science records, OBT and clock segment of every sample, HK, TCT,
    the clock jumps the packets show, drop counts (duplicated packets among them)."""

    name: str
    stem: str
    path: Path
    obt: np.ndarray  # (N,) float64 s, every vector
    counts: np.ndarray  # (N, 2, 3) int16, sensor MAG1/MAG2, axis yaw/roll/pitch
    hk_obt: np.ndarray  # (M,) float64 s
    hk_temps: np.ndarray  # (M, 3) degC: MAG1, MAG2, electronics
    tct: TimeCorrelation
    dropped: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    segment: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))  # (N,) clock segment
    jumps: tuple[ClockJump, ...] = ()


def _members(tar: tarfile.TarFile, path: Path) -> dict[str, tarfile.TarInfo]:
    try:
        return {m.name.rsplit("/", 1)[-1]: m for m in tar.getmembers() if m.isfile()}
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise InputError(path, f"corrupt L0 tar: {exc}") from exc


def _read(tar: tarfile.TarFile, m: tarfile.TarInfo, path: Path) -> bytes:
    try:
        fh = tar.extractfile(m)
        blob = fh.read() if fh is not None else b""
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise InputError(path, f"corrupt L0 tar: member {m.name}: {exc}") from exc
    if len(blob) != m.size:
        raise InputError(path, f"corrupt L0 tar: member {m.name} has {len(blob)} of {m.size} bytes")
    return blob


def read_l0(path: Path, name: str, layout: Layout) -> L0Data:
    """Decode one L0 tar. A corrupt tar, a missing or truncated payload, a truncated HK member
    or a missing TCT is an InputError naming the file; a missing HK member, or one with no valid
    packet, is a note (the samples then lack HK and count as bad)."""
    stem = TAR_PATTERN.search(Path(name).name)
    if stem is None:
        raise InputError(path, "not an L0 tar name <stem>_Vnn.tar")
    stem_s = stem.group("key")
    try:
        tar = tarfile.open(path, "r:*")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise InputError(path, f"corrupt L0 tar: {exc}") from exc
    with tar:
        members = _members(tar, path)
        sci_pt = layout.packets["science"]
        hk_pt = layout.packets["housekeeping"]
        tct_cfg = layout.time_correlation

        def member(suffix: str) -> tarfile.TarInfo | None:
            return members.get(stem_s + suffix)

        pld = member(sci_pt.extra["member_suffix"])
        if pld is None:
            raise InputError(
                path,
                f"no payload member {stem_s}{sci_pt.extra['member_suffix']} in "
                f"the L0 tar (has: {', '.join(sorted(members)) or 'nothing'})",
            )
        tct_m = member(tct_cfg["member_suffix"])
        if tct_m is None:
            raise MissingInputError(
                path,
                f"no time-correlation table {stem_s}"
                f"{tct_cfg['member_suffix']} in the L0 tar: UT cannot "
                "be computed",
            )
        where = f"{path}[{pld.name}]"
        sci = decode(sci_pt, _read(tar, pld, path), where)
        tct = parse_tct(_read(tar, tct_m, path).decode("ascii", "replace"), f"{path}[{tct_m.name}]")
        hk_m = member(hk_pt.extra["member_suffix"])
        notes: list[str] = []
        if hk_m is None:
            notes.append(f"{name}: no housekeeping member: temperatures unknown, quality lowered")
            hk_obt = np.empty(0)
            temps = np.empty((0, 3))
            hk_dropped: dict[str, int] = {}
        else:
            try:
                hk = decode(hk_pt, _read(tar, hk_m, path), f"{path}[{hk_m.name}]")
            except TruncatedPackets:  # a member cut short is an error, as the payload's
                raise
            except InputError as exc:  # empty, or no valid packet: like missing HK, lowers the quality
                notes.append(f"{exc}: housekeeping not used, quality lowered")
                hk = None
            if hk is None:
                hk_obt, temps, hk_dropped = np.empty(0), np.empty((0, 3)), {"hk_unusable": 1}
            else:
                hk_obt = layout.obt_seconds(hk.records)
                temps = np.stack(
                    [engineering(hk_pt, hk.records, k) for k in ("t_mag1", "t_mag2", "t_electronics")], axis=1
                )
                hk_dropped = {f"hk_{k}": v for k, v in hk.dropped.items()}
    rec = sci.records
    n = int(sci_pt.extra["samples_per_packet"])
    dt = float(sci_pt.extra["sample_period_s"])
    clock = packet_clock(layout.obt_seconds(rec), bit_value(sci_pt, rec, "sequence_count"), n * dt)
    rec = rec[clock.keep]
    pkt_obt = layout.obt_seconds(rec)
    obt = (pkt_obt[:, None] + dt * np.arange(n)[None, :]).reshape(-1)
    segment = np.repeat(clock.segment, n)
    counts = np.asarray(rec[sci_pt.extra["counts_field"]]).reshape(-1, 2, 3)
    order = np.lexsort((obt, segment))  # each clock segment in OBT order, segments in file order
    obt, counts, segment = obt[order], counts[order], segment[order]
    keep = np.r_[True, (np.diff(obt) > dt / 2) | (np.diff(segment) != 0)]  # overlapping packets
    if clock.duplicated:
        notes.append(f"{name}: {clock.duplicated} duplicated science packet(s) dropped")
    hk_order = np.argsort(hk_obt, kind="stable")
    return L0Data(
        name=name,
        stem=stem_s,
        path=path,
        obt=obt[keep],
        counts=counts[keep].astype(np.int16),
        hk_obt=hk_obt[hk_order],
        hk_temps=temps[hk_order],
        tct=tct,
        dropped={
            **{f"science_{k}": v for k, v in sci.dropped.items()},
            **({"science_duplicate": clock.duplicated} if clock.duplicated else {}),
            **hk_dropped,
        },
        notes=notes,
        segment=segment[keep],
        jumps=clock.jumps,
    )
