"""Readers for the other L1 monitors the MAG team compares with (MAG manual section 8:
DSCOVR, ACE, WIND): their 1-min (or coarser) field in GSE, as (time, B) arrays.

- **DSCOVR** (NOAA NCEI, netCDF ``oe_m1m_dscovr_s..._e..._p..._pub.nc``): ``time`` in
  "milliseconds since 1970-01-01T00:00:00Z", ``bx_gse``, ``by_gse``, ``bz_gse`` (nT), fill
  ``missing_value``/``_FillValue`` (-99999). The same layout as the Faraday-cup file
  ``oe_f1m_...`` (``time`` and ``proton_vx_gse``...), which holds no field: reading one for the
  comparison is a clear error.
- **ACE** (CDAWeb ISTP CDF ``ac_k2_mfi_YYYYMMDD_vNN.cdf``, ``ac_h0_mfi_...``, ...): ``Epoch``
  (CDF_EPOCH; its CATDESC "Time, beginning of interval" says the stamp is the interval's
  start), ``BGSEc`` [N, 3] nT, ``FILLVAL`` -1e31. A CDF with no records (a CDAWeb master) is a
  clear error.
- DSCOVR's time tags are taken as the start of their minute (documented choice: the file does
  not say).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from magfw.api import InputError, read_cdf, read_netcdf, time

DSCOVR_NAME = re.compile(
    r"^oe_(?P<kind>[a-z0-9]{3})_dscovr_s(?P<start>\d{14})_e(?P<end>\d{14})_"
    r"p\d{14}_pub\.nc$"
)
ACE_NAME = re.compile(r"^ac_(?P<kind>[hk]\d)_mfi_(?P<date>\d{8})_v(?P<version>\d{2})\.cdf$")
#: Archive folders the monitors' files are found in (the layout of shared real data).
FOLDERS = {"DSCOVR": "dscovr", "ACE": "ace"}


@dataclass(frozen=True, kw_only=True)
class MonitorData:
    monitor: str  #: "DSCOVR" or "ACE"
    name: str
    tt: np.ndarray  #: (N,) int64 TT2000 of each record's time stamp
    b_gse: np.ndarray  #: (N, 3) nT, NaN where fill
    cadence_s: float
    #: where a time stamp sits in its interval: "start" or "centre"
    stamp: str = "start"


def monitor_of(name: str) -> str | None:
    """ "DSCOVR", "ACE" or None for a file name."""
    if DSCOVR_NAME.match(name):
        return "DSCOVR"
    if ACE_NAME.match(name):
        return "ACE"
    return None


def _cadence(tt: np.ndarray) -> float:
    return float(np.median(np.diff(tt)) / 1e9) if tt.size > 1 else 60.0


def read_dscovr(path: Path) -> MonitorData:
    d = read_netcdf(path)
    if "bx_gse" not in d.variables:
        kind = DSCOVR_NAME.match(path.name)
        what = f" ({kind.group('kind')}: {d.global_attrs.get('title', '')})" if kind else ""
        raise InputError(
            path,
            f"a DSCOVR file without magnetic field{what}; the comparison needs "
            "the magnetometer 1-min file oe_m1m_dscovr_...nc",
        )
    units = str(d.var_attrs["time"].get("units", ""))
    if not units.startswith("milliseconds since 1970-01-01"):
        raise InputError(path, f"time units {units!r}: expected milliseconds since 1970-01-01")
    tt = np.asarray(time.tt2000_from_unix(np.asarray(d.variables["time"], float) / 1000.0), dtype=np.int64)
    b = np.stack([np.asarray(d.variables[f"b{c}_gse"], dtype=float) for c in "xyz"], axis=1)
    for c in "xyz":
        attrs = d.var_attrs[f"b{c}_gse"]
        for key in ("missing_value", "_FillValue"):
            if key in attrs:
                b[b == float(attrs[key])] = np.nan
    return MonitorData(monitor="DSCOVR", name=path.name, tt=tt, b_gse=b, cadence_s=_cadence(tt))


def read_ace(path: Path) -> MonitorData:
    d = read_cdf(path)
    if "BGSEc" not in d.variables or "Epoch" not in d.variables:
        raise InputError(path, "not an ACE MFI CDF (no Epoch/BGSEc)")
    if d.variables["Epoch"].size == 0:
        raise InputError(path, "no records (a CDAWeb master CDF holds metadata only)")
    tt = np.asarray(time.tt2000_from_cdf_epoch(np.asarray(d.variables["Epoch"], float)), dtype=np.int64)
    b = np.asarray(d.variables["BGSEc"], dtype=float).reshape(-1, 3).copy()
    fill = d.var_attrs["BGSEc"].get("FILLVAL")
    if fill is not None:
        b[np.isclose(b, float(fill), rtol=1e-6)] = np.nan
    b[np.abs(b) > 1e4] = np.nan
    desc = str(d.var_attrs["Epoch"].get("CATDESC", "")).lower()
    stamp = "centre" if ("centre" in desc or "center" in desc) else "start"
    return MonitorData(monitor="ACE", name=path.name, tt=tt, b_gse=b, cadence_s=_cadence(tt), stamp=stamp)


def read_monitor(path: Path) -> MonitorData:
    """Either reader, by the file's name."""
    kind = monitor_of(path.name)
    if kind == "DSCOVR":
        return read_dscovr(path)
    if kind == "ACE":
        return read_ace(path)
    raise InputError(
        path, "neither a DSCOVR (oe_m1m_dscovr_...nc) nor an ACE MFI (ac_k2_mfi_...cdf) file name"
    )
