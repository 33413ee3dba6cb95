"""What Aditya-L1 MAG level 1 writes (:mod:`magfw_aditya.l1`): per L0 tar the netCDF variables
and attributes (coverage, quality, housekeeping gaps, clock jumps and untrusted times,
dropped and duplicated packets), the ISSDC meta-file and the preview."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from magfw.api import PlotPanel, PlotSpec, Product, ProductDefinition, __version__, time
from magfw_aditya import metafile
from magfw_aditya.common import AXES, NS, SENSORS, coverage_attrs, iso_z
from magfw_aditya.config import L1Config
from magfw_aditya.gti import quality_factor
from magfw_aditya.l0 import stem_fields
from magfw_aditya.l1stages import CADENCE_S, CorrectedFile


def intervals(tt: np.ndarray, mask: np.ndarray) -> list[str]:
    """Runs of True in ``mask`` as 'start/end' ISO strings (UT of the first and last sample)."""
    if not mask.any():
        return []
    m = mask.astype(np.int8)
    starts = np.flatnonzero(np.diff(np.r_[0, m]) == 1)
    ends = np.flatnonzero(np.diff(np.r_[m, 0]) == -1)
    return [f"{iso_z(tt[a])}/{iso_z(tt[b])}" for a, b in zip(starts, ends, strict=True)]


def file_stats(f: CorrectedFile, cadence_s: float) -> tuple[int, float]:
    """(expected samples over the file's span, percent missing, removed, without HK or with a
    time that cannot be trusted)."""
    span = (f.tt[-1] - f.tt[0]) / NS
    expected = int(round(span / cadence_s)) + 1
    good = ~(f.removed["mag1"] | f.removed["mag2"] | f.hk_missing | f.time_untrusted)
    bad = max(expected - int(good.sum()), 0)
    return expected, 100.0 * bad / expected


def l1_variables(f: CorrectedFile, error_nt: float) -> dict[str, np.ndarray]:
    """Table 2: time (UNIX s), B per sensor and axis (NaN where removed), their errors."""
    variables: dict[str, np.ndarray] = {"time": time.tt2000_to_unix(f.tt)}
    for sensor in SENSORS:
        b = f.b[sensor]
        bad = np.isnan(b).any(axis=1)
        for k, axis in enumerate(AXES):
            variables[f"B_{axis}_{sensor}"] = np.where(bad, np.nan, b[:, k]).astype(np.float32)
    for sensor in SENSORS:
        bad = np.isnan(f.b[sensor]).any(axis=1)
        for axis in AXES:
            variables[f"B_{axis}_{sensor}_error"] = np.where(bad, np.nan, error_nt).astype(np.float32)
    return variables


def time_attrs(f: CorrectedFile) -> dict[str, object]:
    """``clock_jumps`` (UT of the first sample after each jump the packet stamps show, and its
    size), ``time_untrusted`` (UT runs of samples whose time cannot be trusted) and their
    count, and a note saying what was done when there is anything to say."""
    after = np.flatnonzero(np.diff(f.l0.segment) != 0) + 1
    jumps = []
    for k, j in zip(after.tolist(), f.l0.jumps, strict=False):
        size = "unknown size (sequence count not continuous)" if j.jump_s is None else f"{j.jump_s:+.3f} s"
        lost = "" if j.lost_packets is None else f", {j.lost_packets} packet(s) lost"
        jumps.append(f"{iso_z(f.tt[k])}/{size}{lost}")
    n_bad = int(np.count_nonzero(f.time_untrusted))
    out: dict[str, object] = {
        "clock_jumps": jumps or ["none"],
        "time_untrusted": intervals(f.tt, f.time_untrusted) or ["none"],
        "time_untrusted_samples": n_bad,
    }
    if jumps or n_bad:
        out["time_note"] = (
            f"the on-board clock jumped {len(jumps)} time(s) (packet stamps): the time-correlation "
            f"table was split at each jump and every clock segment timed from its own rows; "
            f"{n_bad} sample(s) whose time cannot be trusted are listed in time_untrusted, counted "
            "as bad and left out of Level 2" + ("; " + "; ".join(f.time_notes) if f.time_notes else "")
        )
    return out


def l1_attrs(
    f: CorrectedFile,
    version: int,
    cadence_s: float,
    email: str | None,
    settings: dict[str, str] | None = None,
    file_id: str | None = None,
) -> dict[str, object]:
    """The per-file global attributes (creator_email and the operator's ACDD attributes only
    when configured: ``settings``)."""
    expected, missing = file_stats(f, cadence_s)
    attrs = coverage_attrs(f.tt.size, f.tt[0], f.tt[-1], version, email, cadence_s)
    attrs.update(
        {
            "missing_data_percentage": round(missing, 3),
            "quality_factor": quality_factor(missing),
            "expected_number_of_samples": expected,
            "l0_file": f"{f.l0.name} ({f.version})",
            "housekeeping_gaps": intervals(f.tt, f.hk_missing) or ["none"],
            "removed_samples": (
                f"saturated MAG1 {int(f.saturated['mag1'].sum())}, MAG2 "
                f"{int(f.saturated['mag2'].sum())}; spikes MAG1 "
                f"{int((f.removed['mag1'] & ~f.saturated['mag1']).sum())}, MAG2 "
                f"{int((f.removed['mag2'] & ~f.saturated['mag2']).sum())}"
            ),
            "dropped_packets": ", ".join(f"{k} {v}" for k, v in f.l0.dropped.items()) or "none",
            "duplicated_packets": int(f.l0.dropped.get("science_duplicate", 0)),
            **time_attrs(f),
        }
    )
    if file_id:
        attrs["id"] = file_id
    attrs.update(settings or {})
    return attrs


def preview(f: CorrectedFile, version: int = 0, simulated: bool = False) -> PlotSpec:
    """MAG1 yaw/roll/pitch against UT, as 1.024-s means (8 samples) for a light image; the
    title names spacecraft, product, version and SIMULATED."""
    n = f.tt.size // 8 * 8
    b = f.b["mag1"][:n].reshape(-1, 8, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN groups give NaN
        mean = np.nanmean(b, axis=1)
    t = f.tt[:n].reshape(-1, 8)[:, 0]
    panels = [
        PlotPanel(series={f"B_{axis}_mag1": mean[:, k]}, ylabel=f"B {axis} [nT]", colors=[c])
        for k, (axis, c) in enumerate(zip(AXES, ("tab:blue", "tab:orange", "tab:green"), strict=True))
    ]
    title = f"Aditya-L1 MAG L1 preview: MAG1, 1.024-s means, spacecraft frame  {f.l0.stem}  V{version:02d}"
    if simulated:
        title += "   SIMULATED"
    return PlotSpec(time=t, panels=panels, title=title, size_px=(1200, 800))


def l1_products(
    files: list[CorrectedFile],
    l1: ProductDefinition,
    l1_preview: ProductDefinition,
    version: int,
    cfg: L1Config,
    email: str | None,
    l1_meta: ProductDefinition | None = None,
    caldb_name: str = "",
    remark: str = "first version",
    proposal_id: str | None = None,
    settings: dict[str, str] | None = None,
    simulated: bool = False,
) -> list[Product]:
    """One L1 netCDF, its ISSDC meta-file (when ``l1_meta`` is given) and one preview PNG per
    tar, named by the tar's stem (``simulated``: the preview's title says so)."""
    products: list[Product] = []
    cadence = l1.cadence_s or CADENCE_S
    for f in files:
        fields = stem_fields(l1, f.l0.stem) or {}
        name = l1.filename.format(**fields, version=version)
        attrs = l1_attrs(f, version, cadence, email, settings, Path(name).stem)
        products.append(
            Product(
                definition=l1,
                fields=fields,
                variables=l1_variables(f, cfg.error_nt),
                attrs=attrs,
                inputs=[f.l0.name],
            )
        )
        if l1_meta is not None:
            good = ~(f.removed["mag1"] | f.removed["mag2"] | f.hk_missing | f.time_untrusted)
            expected, missing = file_stats(f, cadence)
            meta = metafile.MetaInfo(
                data_name=name,
                level="L1",
                version=version,
                observation_ids=[str(fields.get("obsid", ""))],
                start=iso_z(f.tt[0]),
                stop=iso_z(f.tt[-1]),
                exposure_s=float(np.count_nonzero(good)) * cadence,
                content_type="L1 MAG1 and MAG2 magnetic field, 128 ms, SCCS",
                inputs=[f.l0.name] + ([caldb_name] if caldb_name else []),
                software=f"magfw {__version__}",
                quality=quality_factor(missing),
                remark=remark,
                proposal_id=proposal_id,
            )
            products.append(
                Product(definition=l1_meta, fields=fields, payload_from=metafile.payload_from(meta))
            )
        products.append(Product(definition=l1_preview, fields=fields, plot=preview(f, version, simulated)))
    return products
