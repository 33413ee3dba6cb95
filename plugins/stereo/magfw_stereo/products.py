"""In-memory products of a day (what ``write`` returns): V06 CDFs and UCLA flat files.

CDF (``l1_mag{,b}_{sc,rtn}``): Epoch CDF_EPOCH (the record's own time: 8 Hz and 32 Hz records
are interval-centred), BFIELD [N, 4] (3 components + BTotal, fill -1e31), MAGFLAGUC,
FILTER_VALUE (the day's spike-filter limit on every record), CART_LABL_1.
Flat files: TIME, B [N, 4] (BX BY BZ BTOTAL or BR BT BN BTOTAL; fill 1e34 by the writer) and,
for the 1 s and 1 min averages, NPTS.
"""

from __future__ import annotations

import numpy as np

from magfw.api import Product, UnitContext, time
from magfw_stereo.averaging import Averages, finite_rows

LABELS = {"sc": ["BX", "BY", "BZ", "BTotal"], "rtn": ["BR", "BT", "BN", "BTotal"]}
SOURCE_NAME = {"A": "Ahead>STEREO Ahead", "B": "Behind>STEREO Behind"}


def time_resolution(step_ns: int) -> str | None:
    """The ``Time_resolution`` of a day's normal-mode products when it is not the definition's
    8 Hz one (``00:00:00.250`` on a 4 Hz day); None on 8 Hz days."""
    if step_ns == 125_000_000:
        return None
    ms = step_ns / 1e6
    return f"00:00:{ms / 1000:06.3f}"


def b4(b: np.ndarray, btot: np.ndarray) -> np.ndarray:
    """(N, 4) float32 of the components and the magnitude; a row with any non-finite value is
    all NaN (the writer stores the fill). Made once per series and frame, for the CDF and the
    flat file."""
    out = np.empty((b.shape[0], 4), dtype=np.float32)
    out[:, :3] = b
    out[:, 3] = btot
    bad = ~finite_rows(out)
    if bad.any():
        out[bad] = np.nan
    return out


def cdf_epoch(t: np.ndarray) -> np.ndarray:
    """CDF_EPOCH (ms) of TT2000 stamps: the CDFs' Epoch, made once per series."""
    return np.asarray(time.tt2000_to_cdf_epoch(t), dtype=np.float64)


def cdf_product(
    ctx: UnitContext,
    pid: str,
    sc: str,
    frame: str,
    epoch: np.ndarray,
    b4: np.ndarray,
    flags: np.ndarray,
    filter_value: float,
    resolution: str | None = None,
) -> Product:
    """A daily CDF from its CDF_EPOCH stamps (:func:`cdf_epoch`) and (N, 4) field (:func:`b4`);
    ``resolution`` overrides the definition's Time_resolution (4 Hz days)."""
    d = ctx.product(pid)
    burst = "MAGB" if "magb" in pid else "MAG"
    return Product(
        definition=d,
        fields={"sc": sc},
        variables={
            "Epoch": epoch,
            "BFIELD": b4,  # NaN: the writer stores the definition's fill
            "MAGFLAGUC": np.asarray(flags, dtype=np.uint32),
            "FILTER_VALUE": np.full(epoch.size, filter_value, dtype=np.float32),
            "CART_LABL_1": np.array(LABELS[frame]),
        },
        attrs={
            "Source_name": SOURCE_NAME[sc],
            "Logical_source": f"ST{sc}_L1_{burst}_{frame.upper()}",
            **({"Time_resolution": resolution} if resolution else {}),
        },
    )


def flat_product(
    ctx: UnitContext,
    pid: str,
    sc: str,
    t: np.ndarray,
    b4: np.ndarray,
    filter_value: float | None = None,
    resolution: str | None = None,
) -> Product:
    """A high-rate flat file of (N, 4) ``b4`` (:func:`b4`); ``filter_value`` (the day's spike
    limit, the CDF's FILTER_VALUE) goes into the abstract as ``FILTER_VALUE = <nT>`` (float32,
    exact), and on a 4 Hz day ``resolution`` as ``TIME_RESOLUTION = 00:00:00.250``."""
    attrs = {} if filter_value is None else {"FILTER_VALUE": f"{float(np.float32(filter_value))!r} nT"}
    if resolution:
        attrs["TIME_RESOLUTION"] = resolution
    return Product(
        definition=ctx.product(pid),
        fields={"sc": sc},
        variables={"TIME": np.asarray(t, dtype=np.int64), "B": b4},
        attrs=attrs,
    )


def average_product(ctx: UnitContext, pid: str, sc: str, avg: Averages) -> Product:
    return Product(
        definition=ctx.product(pid),
        fields={"sc": sc},
        variables={"TIME": avg.time, "B": b4(avg.b, avg.btotal), "NPTS": avg.npts.astype(np.float32)},
    )
