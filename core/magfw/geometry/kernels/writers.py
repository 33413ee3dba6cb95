"""Writers of SPK, CK, SCLK and frames kernels (for simulators and tests), atomic."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import spiceypy as sp
from numpy.typing import ArrayLike
from spiceypy import cyice

from magfw.errors import KernelError
from magfw.geometry.kernels.files import KernelFile
from magfw.geometry.kernels.selection import body_code
from magfw.io.atomic import atomic_path


def write_spk(
    path: str | os.PathLike[str],
    body: str | int,
    center: str | int,
    frame: str,
    et: ArrayLike,
    states: ArrayLike,
    *,
    spk_type: Literal[9, 13] = 13,
    degree: int = 7,
    segment_id: str = "magfw",
) -> Path:
    """Write one SPK segment of ``body`` relative to ``center`` in ``frame``.

    ``et``: (N,) increasing ET seconds; ``states``: (N, 6) position (km) and velocity (km/s).
    Type 13 is Hermite interpolation of position and velocity (``degree`` odd), type 9 is
    Lagrange interpolation of the states.
    """
    et_a = np.ascontiguousarray(et, dtype=np.float64)
    st = np.ascontiguousarray(states, dtype=np.float64)
    if st.shape != (et_a.size, 6) or np.any(np.diff(et_a) <= 0):
        raise KernelError(path, "SPK writer needs increasing epochs and (N, 6) states")
    b, c = body_code(body), body_code(center)
    with atomic_path(path) as tmp:
        handle = sp.spkopn(str(tmp), "magfw SPK", 0)
        try:
            if spk_type == 13:
                sp.spkw13(handle, b, c, frame, et_a[0], et_a[-1], segment_id, degree, et_a.size, st, et_a)
            else:
                sp.spkw09(handle, b, c, frame, et_a[0], et_a[-1], segment_id, degree, et_a.size, st, et_a)
        finally:
            sp.spkcls(handle)
    return Path(path)


def write_ck(
    path: str | os.PathLike[str],
    inst_id: int,
    ref_frame: str,
    sclk_id: int,
    et: ArrayLike,
    quaternions: ArrayLike,
    av: ArrayLike | None = None,
    *,
    sclk_kernel: str | os.PathLike[str] | None = None,
    interval_starts: ArrayLike | None = None,
    max_gap_s: float | None = None,
    segment_id: str = "magfw",
) -> Path:
    """Write one type-3 CK segment (linear interpolation within interpolation intervals).

    ``quaternions``: (N, 4) SPICE quaternions (w, x, y, z) of the C-matrix, i.e. the rotation
    from ``ref_frame`` to the instrument frame (``q2m(q) = C``); ``av``: optional (N, 3)
    angular velocity (rad/s, in ``ref_frame``). A new interpolation interval starts at the
    first record, at each record at or after an ``interval_starts`` ET, and after each gap
    longer than ``max_gap_s``; SPICE never interpolates across an interval start.
    ET is encoded with the SCLK ``sclk_id``, loaded from ``sclk_kernel`` if given (else it must
    be in the active pool).
    """
    from magfw.geometry.kernels.pool import _spice_session  # (pool imports this module)

    et_a = np.ascontiguousarray(et, dtype=np.float64)
    q = np.ascontiguousarray(quaternions, dtype=np.float64)
    if q.shape != (et_a.size, 4) or np.any(np.diff(et_a) <= 0):
        raise KernelError(path, "CK writer needs increasing epochs and (N, 4) quaternions")
    avs = None if av is None else np.ascontiguousarray(av, dtype=np.float64)
    extra = [KernelFile.from_path(sclk_kernel, "sclk")] if sclk_kernel else []
    with _spice_session(extra):
        try:
            ticks = np.ascontiguousarray(cyice.sce2c_v(int(sclk_id), et_a))
        except sp.utils.exceptions.SpiceyError as exc:
            raise KernelError(
                path,
                f"cannot encode ET with SCLK {sclk_id} (load its SCLK "
                f"kernel or pass sclk_kernel): {exc.short}",
            ) from exc
    start_idx = {0}
    if interval_starts is not None:
        idx = np.searchsorted(et_a, np.asarray(interval_starts, dtype=np.float64))
        start_idx |= {int(i) for i in idx if i < et_a.size}
    if max_gap_s is not None:
        start_idx |= {int(i) + 1 for i in np.flatnonzero(np.diff(et_a) > max_gap_s)}
    starts = ticks[sorted(start_idx)]
    with atomic_path(path) as tmp:
        handle = sp.ckopn(str(tmp), "magfw CK", 0)
        try:
            sp.ckw03(
                handle,
                ticks[0],
                ticks[-1],
                int(inst_id),
                ref_frame,
                avs is not None,
                segment_id,
                ticks.size,
                ticks,
                q,
                avs if avs is not None else np.zeros((ticks.size, 3)),
                starts.size,
                starts,
            )
        finally:
            sp.ckcls(handle)
    return Path(path)


def write_sclk(
    path: str | os.PathLike[str],
    sclk_id: int,
    *,
    start_et: float,
    ticks_per_second: int = 65536,
    comment: str = "",
) -> Path:
    """Write a linear type-1 SCLK kernel: count 0 at ``start_et`` (TDB), 1 s per major count.

    Two fields, seconds (modulus 2**32) and sub-second ticks (``ticks_per_second``); the
    parallel time system is TDB, so no leap-second kernel is involved.
    """
    n = abs(int(sclk_id))
    end = float(2**32 * ticks_per_second)
    text = f"""KPL/SCLK

{comment or "Linear spacecraft clock written by magfw.geometry.kernels.write_sclk."}

\\begindata

SCLK_KERNEL_ID           = ( @2000-01-01/12:00:00 )
SCLK_DATA_TYPE_{n}       = ( 1 )
SCLK01_TIME_SYSTEM_{n}   = ( 1 )
SCLK01_N_FIELDS_{n}      = ( 2 )
SCLK01_MODULI_{n}        = ( 4294967296 {int(ticks_per_second)} )
SCLK01_OFFSETS_{n}       = ( 0 0 )
SCLK01_OUTPUT_DELIM_{n}  = ( 1 )
SCLK_PARTITION_START_{n} = ( 0.0 )
SCLK_PARTITION_END_{n}   = ( {end!r} )
SCLK01_COEFFICIENTS_{n}  = ( 0.0 {float(start_et)!r} 1.0 )

\\begintext
"""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def _fk_value(v: Any) -> str:
    if isinstance(v, str):
        return v if v.startswith("@") else "'" + v.replace("'", "''") + "'"
    if isinstance(v, (bool, np.bool_)):
        raise TypeError("FK values cannot be booleans")
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    return "( " + ", ".join(_fk_value(x) for x in v) + " )"


def fk_lines(assignments: Mapping[str, Any]) -> list[str]:
    """Kernel-pool assignment lines ``NAME = value`` (strings quoted, sequences in parens)."""
    return [f"{k} = {_fk_value(v)}" for k, v in assignments.items()]


def write_fk(path: str | os.PathLike[str], assignments: Mapping[str, Any], *, comments: str = "") -> Path:
    """Write a text frames kernel holding ``assignments`` (see :func:`fk_lines`)."""
    body = "\n".join("   " + ln for ln in fk_lines(assignments))
    text = f"KPL/FK\n\n{comments.strip()}\n\n\\begindata\n\n{body}\n\n\\begintext\n"
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def rtn_frame_definition(name: str, frame_id: int, observer: str | int) -> dict[str, Any]:
    """Heliographic RTN of ``observer`` as in stereo_rtn.tf (STAHGRTN): X Sun->observer,
    Z the component of the solar rotation axis perpendicular to X, Y = Z x X."""
    p = f"FRAME_{frame_id}_"
    return {
        f"FRAME_{name}": frame_id,
        p + "NAME": name,
        p + "CLASS": 5,
        p + "CLASS_ID": frame_id,
        p + "CENTER": 10,
        p + "RELATIVE": "J2000",
        p + "DEF_STYLE": "PARAMETERIZED",
        p + "FAMILY": "TWO-VECTOR",
        p + "PRI_AXIS": "X",
        p + "PRI_VECTOR_DEF": "OBSERVER_TARGET_POSITION",
        p + "PRI_OBSERVER": "SUN",
        p + "PRI_TARGET": str(observer),
        p + "PRI_ABCORR": "NONE",
        p + "PRI_FRAME": "IAU_SUN",
        p + "SEC_AXIS": "Z",
        p + "SEC_VECTOR_DEF": "CONSTANT",
        p + "SEC_FRAME": "IAU_SUN",
        p + "SEC_SPEC": "RECTANGULAR",
        p + "SEC_VECTOR": (0, 0, 1),
    }


def ck_frame_definition(
    name: str,
    frame_id: int,
    *,
    sclk_id: int,
    spk_id: int,
    ck_id: int | None = None,
    center: int | None = None,
) -> dict[str, Any]:
    """A CK-based (class 3) spacecraft frame: orientation from CK ``ck_id`` (default the
    frame id), clock ``sclk_id``, position from SPK ``spk_id``."""
    ck = frame_id if ck_id is None else ck_id
    p = f"FRAME_{frame_id}_"
    return {
        f"FRAME_{name}": frame_id,
        p + "NAME": name,
        p + "CLASS": 3,
        p + "CLASS_ID": ck,
        p + "CENTER": spk_id if center is None else center,
        f"CK_{ck}_SCLK": sclk_id,
        f"CK_{ck}_SPK": spk_id,
    }


def tk_frame_definition(name: str, frame_id: int, relative: str, matrix: ArrayLike) -> dict[str, Any]:
    """A fixed-offset (class 4) frame: ``matrix`` rotates vectors from ``name`` to ``relative``."""
    m = np.asarray(matrix, dtype=np.float64).reshape(3, 3)
    p = f"TKFRAME_{frame_id}_"
    return {
        f"FRAME_{name}": frame_id,
        f"FRAME_{frame_id}_NAME": name,
        f"FRAME_{frame_id}_CLASS": 4,
        f"FRAME_{frame_id}_CLASS_ID": frame_id,
        f"FRAME_{frame_id}_CENTER": 0,
        p + "RELATIVE": relative,
        p + "SPEC": "MATRIX",
        p + "MATRIX": [float(x) for x in m.T.ravel()],  # SPICE reads the matrix column-wise
    }
