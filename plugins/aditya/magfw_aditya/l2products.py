"""What Aditya-L1 MAG level 2 writes: the netCDF variables and attributes, the outreach image."""

from __future__ import annotations

import numpy as np

from magfw.api import (
    PlotPanel,
    PlotSpec,
    UnitContext,
    time,
)
from magfw_aditya import config, spice
from magfw_aditya.common import (
    NS,
    coverage_attrs,
)
from magfw_aditya.l2stages import CALIBRATION_REASON, GSM_OTHER, GSM_TEXT, IMF_TEXT, L2Qualified


def _f32(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float32)  # NaN: the writer stores the definition's fill


def l2_variables(q: L2Qualified, error_nt: float) -> dict[str, np.ndarray]:
    """Table 3: time (bin starts, UNIX s), B in GSE and GSM, their errors, positions, flag."""
    b = q.bins
    variables: dict[str, np.ndarray] = {"time": time.tt2000_to_unix(b.start)}
    field = {"gse": b.gse, "gsm": b.gsm, "sccs": b.sccs}
    position = {"gse": b.pos_gse, "gsm": b.pos_gsm}
    for frame in ("gse", "gsm"):
        for k, c in enumerate("xyz"):
            variables[f"B{c}_{frame}"] = _f32(field[frame][:, k])
    for frame in ("gse", "gsm"):
        for k, c in enumerate("xyz"):
            variables[f"B{c}_{frame}_error"] = np.where(
                np.isnan(field[frame][:, k]), np.nan, error_nt
            ).astype(np.float32)
    for frame in ("gse", "gsm"):
        for k, c in enumerate("xyz"):
            variables[f"{c}_{frame}"] = _f32(position[frame][:, k])
    variables["Quality_flag_10s_data"] = q.flag.astype(np.float32)
    for frame in ("sccs",):
        for k, c in enumerate("xyz"):
            variables[f"B{c}_{frame}"] = _f32(field[frame][:, k])
        for k, c in enumerate("xyz"):
            variables[f"B{c}_{frame}_error"] = np.where(
                np.isnan(field[frame][:, k]), np.nan, error_nt
            ).astype(np.float32)
    return variables


def l2_attrs(
    data: L2Qualified,
    version: int,
    email: str | None,
    settings: dict[str, str] | None = None,
    file_id: str | None = None,
) -> dict[str, object]:
    """The per-file global attributes (creator_email, naming_authority, institution and
    license only when configured: ``settings``)."""
    b = data.bins
    attrs = coverage_attrs(b.start.size, b.start[0], b.start[-1], version, email, config.l2_config().bin_s)
    attrs.update(
        {
            "missing_data_percentage": round(data.missing_percent, 3),
            "time_stamp": "start of each 10-s bin [t, t + 10 s); positions at the bin centre",
            "gsm_dipole": "fixed2000" if b.setup.gsm_frame == spice.GSM_FIXED_FRAME else "igrf",
            "gsm_definition": GSM_TEXT[b.setup.gsm_frame],
            "gsm_alternative": GSM_OTHER[b.setup.gsm_frame],
            "dual_magnetometer": IMF_TEXT[b.imf_method],
            "imf_method": b.imf_method,
            "attitude_gaps": data.attitude_gaps or ["none"],
            "ephemeris_gaps": data.ephemeris_gaps or ["none"],
            "calibration_intervals": data.calibration or ["none"],
        }
    )
    if data.attitude_gaps:
        attrs["attitude_gaps_note"] = (
            "bins flagged 0: the attitude kernel (CK) does not cover "
            "their samples, so they cannot be rotated to GSE/GSM"
        )
    if data.ephemeris_gaps:
        attrs["ephemeris_gaps_note"] = (
            "bins flagged 0: the ephemeris kernel (SPK) does not "
            "cover them, so the spacecraft position is missing"
        )
    if data.calibration:
        attrs["calibration_intervals_note"] = "bins left out (fill, flag 0): " + CALIBRATION_REASON
    if file_id:
        attrs["id"] = file_id
    attrs.update(settings or {})
    return attrs


def outreach(q: L2Qualified, version: int, simulated: bool) -> PlotSpec:
    """Bx, By, Bz (GSE) and |B| over the day, valid (GTI) bins only."""
    b, qf, missing = q.bins, q.quality_factor, q.missing_percent
    v = np.where(q.flag[:, None], b.gse, np.nan)
    mag = np.linalg.norm(v, axis=1)
    colors = ("tab:blue", "tab:orange", "tab:green")
    panels = [
        PlotPanel(series={f"B{c} GSE": v[:, k]}, ylabel=f"B{c} GSE [nT]", colors=[col])
        for k, (c, col) in enumerate(zip("xyz", colors, strict=True))
    ]
    panels.append(PlotPanel(series={"|B|": mag}, ylabel="|B| [nT]", colors=["black"]))
    title = (
        f"Aditya-L1 MAG  interplanetary magnetic field (GSE, 10-s)  {b.setup.day:%Y-%m-%d}  "
        f"V{version:02d}   quality {qf}/10, {missing:.1f} % bad or missing"
    )
    if simulated:
        title += "   SIMULATED"
    return PlotSpec(time=b.start + 5 * NS, panels=panels, title=title, size_px=(1200, 900))


def l1_obsid(ctx: UnitContext, name: str) -> str | None:
    """The observation id of an L1 file name."""
    fields = ctx.product("l1").filename.parse(name)
    return str(fields["obsid"]) if fields else None
