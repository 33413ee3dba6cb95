"""The steps of Aditya-L1 MAG level 2 on arrays: correct (the spacecraft field removed and the
per-sample flags), transform, average (bin means and counts), quality (each bin's flag and the
day's quality)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from magfw.api import (
    InputError,
    frames,
    kernels,
    time,
)
from magfw_aditya import dualmag, gti, spice
from magfw_aditya.common import (
    NS,
    iso_z,
)
from magfw_aditya.config import L2Config
from magfw_aditya.despike import running_median
from magfw_aditya.l2stages import CADENCE_S, L2Averaged, L2Corrected, L2Qualified, L2Read, L2Transformed


def hk_intervals(attr: object, where: Path) -> np.ndarray:
    """An L1 file's ``housekeeping_gaps`` ('start/end' ISO pairs, or "none") as (M, 2)
    TT2000."""
    items = attr if isinstance(attr, list) else [attr]
    pairs = [str(s).split("/") for s in items if s and str(s) != "none"]
    if not pairs:
        return np.empty((0, 2), dtype=np.int64)
    if any(len(p) != 2 for p in pairs):
        raise InputError(where, "housekeeping_gaps must be 'start/end' ISO pairs")
    flat = np.array([x.rstrip("Z") for p in pairs for x in p])
    return np.asarray(time.tt2000_from_iso(flat), dtype=np.int64).reshape(-1, 2)


def correct_day(data: L2Read, cfg: L2Config, dual: bool = False) -> L2Corrected:
    """The spacecraft field removed, median filter; the per-sample flags that decide which
    samples the averages take (GTI, housekeeping, untrusted time, calibration manoeuvres).

    The IMF is MAG1 minus the spacecraft field at MAG1 modelled from both sensors over the
    good samples (:func:`magfw_aditya.dualmag.spacecraft_field_model`, the MAG manual's L2),
    or with ``dual`` the per-sample combination ``(q B1 - B2) / (q - 1)``."""
    q = dualmag.ratio(cfg.r_mag1_m, cfg.r_mag2_m, cfg.exponent)
    ts = (data.tt - data.tt[0]) / 1e9
    bad_gti = gti.ratio_flags(ts, data.b1, data.b2, cfg.gti, CADENCE_S)
    hk_missing = gti.in_intervals(data.tt, data.hk_gaps)
    untrusted = gti.in_intervals(data.tt, data.time_untrusted)
    if dual:
        raw, _ = dualmag.remove_spacecraft_field(data.b1, data.b2, q)
    else:
        good = ~bad_gti & ~hk_missing & ~untrusted
        raw = data.b1 - dualmag.spacecraft_field_model(ts, data.b1, data.b2, good, q, cfg.sc_field_window_s)
    # a sample both sensors do not have cannot be judged by the GTI (MAG manual 4): not used
    raw[np.isnan(data.b1).any(axis=1) | np.isnan(data.b2).any(axis=1)] = np.nan
    imf = running_median(raw, cfg.median_window)
    imf[np.isnan(raw).any(axis=1)] = np.nan  # the median does not fill removed samples
    return L2Corrected(
        setup=data.setup,
        tt=data.tt,
        imf=imf,
        bad_gti=bad_gti,
        hk_missing=hk_missing,
        calibrating=gti.in_intervals(data.tt, data.setup.calibration),
        time_untrusted=untrusted,
        imf_method="dual" if dual else "mag1",
    )


def bin_starts(t0: int, bin_s: float) -> np.ndarray:
    """Starts (TT2000) of the day's bins of ``bin_s`` seconds from ``t0``."""
    bin_ns = int(bin_s * NS)
    return t0 + np.arange(86400 * NS // bin_ns, dtype=np.int64) * bin_ns


def transform_day(data: L2Corrected, bin_s: float) -> L2Transformed:
    """Good samples of the day SCCS -> GSE and GSM (attitude CK, magfw.geometry.frames); spacecraft
    positions in both at the bin centres. Samples the attitude CK does not cover are not
    rotated (flagged: their bins lose them), bin centres the SPK does not cover have no
    position (flagged); neither fails the day."""
    s = data.setup
    use = (data.tt >= s.t0) & (data.tt < s.t1) & ~np.isnan(data.imf).any(axis=1)
    starts = bin_starts(s.t0, bin_s)
    centres = starts + (starts[1] - starts[0]) // 2
    et = time.tt2000_to_et(np.array([s.t0 - 600 * NS, s.t1 + 600 * NS]))
    chosen = kernels.select_kernels(
        list(s.kernels), float(et[0]), float(et[1]), bodies=[spice.SPACECRAFT], ck_ids=[spice.CK_ID]
    )
    gse = np.full(data.imf.shape, np.nan)
    gsm = np.full(data.imf.shape, np.nan)
    pos_gse = np.full((starts.size, 3), np.nan)
    pos_gsm = np.full((starts.size, 3), np.nan)
    in_day = (data.tt >= s.t0) & (data.tt < s.t1)
    with kernels.kernel_pool(chosen) as pool:
        covered = np.ones(data.tt.size, dtype=bool)
        covered[in_day] = kernels.require_coverage(pool, spice.CK_ID, data.tt[in_day], kind="ck", flag=True)
        use &= covered
        tt = data.tt[use]
        if tt.size:
            gse[use] = frames.rotate(data.imf[use], tt, spice.FRAME, "GSE")
            gsm[use] = frames.rotate(data.imf[use], tt, spice.FRAME, s.gsm_frame)
        has_pos = kernels.require_coverage(pool, spice.SPACECRAFT, centres, kind="spk", flag=True)
        if has_pos.any():
            pos_gse[has_pos] = frames.positions(centres[has_pos], spice.SPACECRAFT, "GSE", center="EARTH")
            pos_gsm[has_pos] = frames.positions(
                centres[has_pos], spice.SPACECRAFT, s.gsm_frame, center="EARTH"
            )
    return L2Transformed(
        setup=s,
        tt=data.tt,
        gse=gse,
        gsm=gsm,
        sccs=np.where(use[:, None], data.imf, np.nan),
        bad_gti=data.bad_gti,
        hk_missing=data.hk_missing,
        start=starts,
        pos_gse=pos_gse,
        pos_gsm=pos_gsm,
        no_attitude=in_day & ~covered,
        calibrating=data.calibrating,
        time_untrusted=data.time_untrusted,
        imf_method=data.imf_method,
    )


def bin_runs(starts: np.ndarray, mask: np.ndarray, bin_ns: int) -> list[str]:
    """Runs of flagged bins as 'start/end' UT (first bin start, last bin end)."""
    if not mask.any():
        return []
    m = mask.astype(np.int8)
    a = np.flatnonzero(np.diff(np.r_[0, m]) == 1)
    b = np.flatnonzero(np.diff(np.r_[m, 0]) == -1)
    return [f"{iso_z(starts[i])}/{iso_z(starts[j] + bin_ns)}" for i, j in zip(a, b, strict=True)]


def average_day(data: L2Transformed) -> L2Averaged:
    """Bins [start, start + 10 s): means of the good samples (present, HK, GTI, trusted time,
    attitude) and their number; the bins that lack attitude for a sample, and those touching
    a calibration manoeuvre (left out: fill)."""
    starts = data.start
    bin_ns = int(starts[1] - starts[0])
    nb = starts.size
    idx = (data.tt - starts[0]) // bin_ns
    inside = (idx >= 0) & (idx < nb)
    good = inside & ~np.isnan(data.gse).any(axis=1) & ~data.bad_gti & ~data.hk_missing & ~data.time_untrusted
    gi = idx[good]
    n = np.bincount(gi, minlength=nb)
    means = []
    with np.errstate(invalid="ignore", divide="ignore"):
        for arr in (data.gse, data.gsm, data.sccs):
            means.append(np.stack([np.bincount(gi, arr[good, k], nb) for k in range(3)], 1) / n[:, None])
    no_att = np.bincount(idx[inside & data.no_attitude], minlength=nb) > 0
    cal = np.bincount(idx[inside & data.calibrating], minlength=nb) > 0
    cal |= gti.in_intervals(starts, data.setup.calibration) | gti.in_intervals(
        starts + bin_ns - 1, data.setup.calibration
    )
    for m in means:
        m[cal] = np.nan  # nothing of a calibration interval is disseminated
    return L2Averaged(
        setup=data.setup,
        start=starts,
        gse=means[0],
        gsm=means[1],
        sccs=means[2],
        pos_gse=data.pos_gse,
        pos_gsm=data.pos_gsm,
        n_good=np.where(cal, 0, n),
        no_attitude=no_att,
        calibration_bins=cal,
        imf_method=data.imf_method,
    )


def qualify(data: L2Averaged, min_good_fraction: float) -> L2Qualified:
    """Each bin's flag: 1 with at least ``min_good_fraction`` of its nominal samples good, a
    spacecraft position and no calibration manoeuvre; the runs of bins flagged for lack of
    attitude or position, or left out for calibration; ``missing_data_percentage`` (the share
    of bins flagged 0) and the 1-10 quality factor it gives."""
    starts = data.start
    bin_ns = int(starts[1] - starts[0])
    nominal = bin_ns / 1e9 / CADENCE_S
    no_pos = np.isnan(data.pos_gse).any(axis=1)
    flag = (data.n_good >= min_good_fraction * nominal) & ~no_pos & ~data.calibration_bins
    missing = float(100.0 * np.count_nonzero(~flag) / flag.size)
    return L2Qualified(
        bins=data,
        flag=flag,
        attitude_gaps=bin_runs(starts, data.no_attitude & ~flag, bin_ns),
        ephemeris_gaps=bin_runs(starts, no_pos, bin_ns),
        calibration=bin_runs(starts, data.calibration_bins, bin_ns),
        missing_percent=missing,
        quality_factor=gti.quality_factor(missing),
    )
