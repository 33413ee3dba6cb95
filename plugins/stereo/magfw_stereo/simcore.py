"""What every simulated STEREO day shares (:mod:`magfw_stereo.simulate` and the disturbed and
4 Hz days of :mod:`magfw_stereo.simdays`): constants, the true offsets, the Berkeley and beacon
CDF writers, defect placement, the measurement and the truth files."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any, cast

import numpy as np
from cdflib.cdfwrite import CDF as CdfWriter

from magfw.api import atomic_path, time, write_bytes_atomic
from magfw_stereo import geometry, layout

MS = 1_000_000
NS_ = 1_000_000_000
DT8 = 125 * MS
DT32 = 31_250_000
LAG_NS = 6 * MS
NOISE_NT = 0.02
SC_INDEX = {"A": 1, "B": 2}
K_NT = {"A": np.array([0.0146328, 0.0144910, 0.0142581]), "B": np.array([0.0145102, 0.0146011, 0.0143320])}
O_BASE = {"A": np.array([22.0, -17.0, -30.0]), "B": np.array([-8.0, 12.0, 5.0])}
SPILL_STEP = np.array([22.0, 31.0, 13.0])
BASE_FLAGS = 1 << 16  # calibration "new"; range 0 (bit 15 clear)
#: Days with beacon files (the reprocessed beacon product's span, research note 1.4).
BEACON_DAYS = (date(2014, 8, 1), date(2015, 11, 30))
BEACON_STEP_NT = 0.1  # beacon compression: field quantised to 0.1 nT
BEACON_FILL = -1.0e31


def day_offsets(sc: str, day: date, seed: int) -> np.ndarray:
    """The true zero offsets (nT, SC axes) of a day: a slow drift plus a small daily scatter."""
    rng = np.random.default_rng([seed, SC_INDEX[sc], day.toordinal(), 7])
    d = day.toordinal()
    phase = np.array([0.0, 2.0, 4.0])
    return O_BASE[sc] + 0.6 * np.sin(2 * np.pi * d / 27.0 + phase) + rng.normal(0, 0.05, 3)


def is_burst_day(day: date, seed: int) -> bool:
    return (day.toordinal() + seed) % 3 == 0


def _cdf_epoch(tt: np.ndarray) -> np.ndarray:
    return np.asarray(time.tt2000_to_cdf_epoch(np.asarray(tt, dtype=np.int64)), dtype=np.float64)


def _raw_var(
    cdf: CdfWriter,
    name: str,
    data_type: int,
    dims: list[int],
    attrs: dict[str, Any],
    data: Any,
    *,
    rec_vary: bool = True,
    elements: int = 1,
) -> None:
    """One uncompressed variable of a foreign-layout (Berkeley, beacon) CDF, written with
    cdflib as those producers' files are laid out."""
    spec = {"Variable": name, "Data_Type": data_type, "Num_Elements": elements, "Rec_Vary": rec_vary,
            "Dim_Sizes": dims}  # fmt: skip
    if rec_vary:
        spec["Compress"] = 0
    cdf.write_var(spec, var_attrs=attrs, var_data=data)


def write_uv_cdf(
    path: Path, sc: str, tt: np.ndarray, b: np.ndarray, flags: np.ndarray, burst: bool, version: int
) -> Path:
    """A Berkeley unvalidated L1 file: Epoch (CDF_EPOCH), B_SC [N,4] nT (X, Y, Z, |B|),
    MAGFLAGUC (CDF_UINT4), label variable; atomic."""
    b4 = np.column_stack([b, np.linalg.norm(b, axis=1)]).astype(np.float32)
    gattrs = {
        "Project": {0: "STEREO>Solar TErrestrial RElations Observatory"},
        "Source_name": {0: "Ahead>STEREO Ahead" if sc == "A" else "Behind>STEREO Behind"},
        "Descriptor": {0: "IMPACT_MAG>IMPACT Magnetometer"},
        "Data_type": {0: f"L1_MAG{'B' if burst else ''}_UV>Level 1 unvalidated"},
        "Data_version": {0: str(version)},
        "Logical_file_id": {0: path.stem},
        "PI_name": {0: "J. Luhmann"},
        "Mission_group": {0: "STEREO"},
        "TEXT": {
            0: "SIMULATED by magfw (magfw_stereo.simulate): not real data. Unvalidated "
            "STEREO IMPACT/MAG field in spacecraft coordinates, no zero offsets."
        },
    }
    fill = {"FILLVAL": [-1e31, "CDF_REAL4"]}
    with atomic_path(path) as tmp:
        with CdfWriter(tmp, cdf_spec={"Compressed": 0, "Majority": "row_major"}) as cdf:
            cdf.write_globalattrs(gattrs)
            _raw_var(
                cdf,
                "Epoch",
                31,
                [],
                {
                    "CATDESC": "Time tag",
                    "VAR_TYPE": "support_data",
                    "UNITS": "ms",
                    "FILLVAL": [-1e31, "CDF_EPOCH"],
                },
                _cdf_epoch(tt),
            )
            _raw_var(
                cdf,
                "B_SC",
                21,
                [4],
                {
                    "CATDESC": "Magnetic field, spacecraft coordinates",
                    "VAR_TYPE": "data",
                    "UNITS": "nT",
                    "DEPEND_0": "Epoch",
                    "LABL_PTR_1": "B_SC_LABL",
                    **fill,
                },
                b4,
            )
            _raw_var(
                cdf,
                "MAGFLAGUC",
                14,
                [],
                {
                    "CATDESC": "MAG status flags",
                    "VAR_TYPE": "support_data",
                    "DEPEND_0": "Epoch",
                    "FILLVAL": [4294967295, "CDF_UINT4"],
                },
                flags.astype(np.uint32),
            )
            _raw_var(
                cdf,
                "B_SC_LABL",
                51,
                [4],
                {"CATDESC": "labels", "VAR_TYPE": "metadata"},
                np.array(["BX", "BY", "BZ", "BTotal"]),
                rec_vary=False,
                elements=6,
            )
    return path


def write_beacon_cdf(path: Path, sc: str, tt: np.ndarray, b_rtn: np.ndarray) -> Path:
    """A public IMPACT beacon file (``ST{sc}_LB_IMPACT_YYYYMMDD_V02.cdf``), the MAG part:
    ``Epoch_MAG`` (CDF_EPOCH) and ``MAGBField`` [N, 3] CDF_REAL4 nT in RTN, fill -1e31; atomic.
    The variable names, shape and frame are those public loaders read (docs/stereo.md)."""
    gattrs = {
        "Project": {0: "STEREO>Solar TErrestrial RElations Observatory"},
        "Source_name": {0: "STEREO>Solar Terrestrial Relations Observatory"},
        "Descriptor": {0: "IMPACT>In-situ Measurements of Particles And CME Transients"},
        "Data_type": {0: "LB>Beacon Data"},
        "Data_version": {0: "2"},
        "Logical_source": {0: f"ST{sc}_LB_IMPACT"},
        "Logical_file_id": {0: path.stem},
        "Mission_group": {0: "STEREO"},
        "TEXT": {
            0: "SIMULATED by magfw (magfw_stereo.simulate): not real data. IMPACT beacon "
            "magnetic field, 10 s, RTN coordinates, real-time calibration."
        },
    }
    with atomic_path(path) as tmp:
        with CdfWriter(tmp, cdf_spec={"Compressed": 0, "Majority": "row_major"}) as cdf:
            cdf.write_globalattrs(gattrs)
            _raw_var(
                cdf,
                "Epoch_MAG",
                31,
                [],
                {
                    "CATDESC": "Time, MAG beacon records",
                    "UNITS": "ms",
                    "VAR_TYPE": "support_data",
                    "FILLVAL": [-1e31, "CDF_EPOCH"],
                },
                _cdf_epoch(tt),
            )
            _raw_var(
                cdf,
                "MAGBField",
                21,
                [3],
                {
                    "CATDESC": "Magnetic field vector, RTN coordinates",
                    "VAR_TYPE": "data",
                    "UNITS": "nT",
                    "DEPEND_0": "Epoch_MAG",
                    "FILLVAL": [-1e31, "CDF_REAL4"],
                },
                b_rtn.astype(np.float32),
            )
    return path


def free_starts(
    rng: np.random.Generator, n: int, count: int, length: int, busy: np.ndarray, margin: int
) -> list[int]:
    """``count`` random start indices of runs of ``length`` in [margin, n - margin) that avoid
    ``busy`` (bool mask, updated) by ``margin`` records on each side."""
    out: list[int] = []
    for _ in range(count * 50):
        if len(out) == count:
            break
        i = int(rng.integers(margin, n - margin - length))
        if busy[max(0, i - margin) : i + length + margin].any():
            continue
        busy[max(0, i - margin) : i + length + margin] = True
        out.append(i)
    return sorted(out)


def measure(rng: np.random.Generator, b_sc: np.ndarray, o: np.ndarray, k: np.ndarray) -> np.ndarray:
    meas = b_sc - o + rng.normal(0, NOISE_NT, b_sc.shape)
    out: np.ndarray = np.round(meas / k) * k
    return out


def to_sc(sc: str, tt: np.ndarray, b_rtn: np.ndarray) -> np.ndarray:
    """RTN vectors (N, 3) at TT2000 times in the spacecraft axes (numpy geometry)."""
    et = np.asarray(time.tt2000_to_et(tt), dtype=np.float64)
    out: np.ndarray = np.einsum("nij,nj->ni", geometry.sc_from_rtn(sc, et), b_rtn)
    return out


def interp_rows(tt: np.ndarray, t_grid: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Each column of ``b`` (on ``t_grid``) linearly interpolated to ``tt`` (TT2000)."""
    t0 = t_grid[0]
    return np.column_stack([np.interp(tt - t0, t_grid - t0, b[:, c]) for c in range(b.shape[1])])


def minute_means(t0: int, t: np.ndarray, b_sc: np.ndarray, b_rtn: np.ndarray) -> dict[str, np.ndarray]:
    """The truth's 1-min means of the samples ``t`` (a day of 1440 minutes from ``t0``; NaN
    where a minute has none) in SC and RTN, the mean |B| and the number of samples."""
    idx = (t - t0) // (60 * NS_)
    n = np.bincount(idx, minlength=1440).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        m_sc = np.stack([np.bincount(idx, b_sc[:, c], 1440) for c in range(3)], 1) / n[:, None]
        m_rtn = np.stack([np.bincount(idx, b_rtn[:, c], 1440) for c in range(3)], 1) / n[:, None]
        m_tot = np.bincount(idx, np.linalg.norm(b_sc, axis=1), 1440) / n
    t1m = t0 + np.arange(1440, dtype=np.int64) * 60 * NS_ + 30 * NS_
    return {"t_1min": t1m, "b_sc_1min": m_sc, "b_rtn_1min": m_rtn, "btot_1min": m_tot, "n_1min": n}


def write_truth(truth_dir: Path, sc: str, day: date, arrays: dict[str, Any], defects: dict[str, Any]) -> None:
    """``ST{sc}_TRUTH_YYYYMMDD.npz`` (the arrays, in the order given) and
    ``ST{sc}_DEFECTS_YYYYMMDD.json`` (the defects), atomically."""
    truth_dir.mkdir(parents=True, exist_ok=True)
    stem = f"ST{sc}_TRUTH_{day:%Y%m%d}"
    with atomic_path(truth_dir / f"{stem}.npz") as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **cast(dict[str, Any], arrays))
    write_bytes_atomic(
        truth_dir / f"ST{sc}_DEFECTS_{day:%Y%m%d}.json", json.dumps(defects, indent=1).encode()
    )


def write_normal_files(uvdir: Path, sc: str, day: date, t0: int, records: tuple[np.ndarray, ...]) -> None:
    """The day's normal-mode Berkeley file(s) from ``records`` (stamps, field, flags in file
    order): the 2nd of a month is listed twice, V01 with the first 12 h only and V02 whole."""
    file_t, file_b, file_f = records
    if day.day == 2:
        half = file_t < t0 + 43200 * NS_
        write_uv_cdf(
            uvdir / layout.uv_name(sc, day, 1), sc, file_t[half], file_b[half], file_f[half], False, 1
        )
        write_uv_cdf(uvdir / layout.uv_name(sc, day, 2), sc, file_t, file_b, file_f, False, 2)
    else:
        write_uv_cdf(uvdir / layout.uv_name(sc, day, 1), sc, file_t, file_b, file_f, False, 1)
