"""SC -> RTN with SPICE: the spacecraft frame, and the rotation of a day's vectors.

STEREO has no named spacecraft-body frame in SolarSoft (SSW reads the CK with ``ckgp(-234000)``
directly). magfw defines one per spacecraft in the kernel pool, a CK-based (class 3) frame:
``MAGFW_STA_SC`` on CK -234000 (clock and SPK -234) and ``MAGFW_STB_SC`` on CK -235000 (-235).
Its axes are the MAG team's SC axes (X toward the Sun). RTN is magfw's heliographic RTN with the
spacecraft as observer (:mod:`magfw.geometry.frames`: X Sun -> spacecraft, Z the solar rotation axis
perpendicular to X, the STAHGRTN/STBHGRTN definition).
"""

from __future__ import annotations

import numpy as np
import spiceypy as sp

from magfw.api import frames, kernels
from magfw_stereo.layout import CK_ID, NAIF_ID, NAIF_NAME


def sc_frame_name(sc: str) -> str:
    return f"MAGFW_ST{sc}_SC"


def define_sc_frame(sc: str) -> str:
    """Define the spacecraft frame in the active pool (idempotent); return its name."""
    kernels.require_pool("magfw_stereo.rtn.define_sc_frame")
    name = sc_frame_name(sc)
    if sp.namfrm(name) == 0:
        sp.lmpool(
            kernels.fk_lines(
                kernels.ck_frame_definition(name, CK_ID[sc], sclk_id=NAIF_ID[sc], spk_id=NAIF_ID[sc])
            )
        )
    return name


def sc_to_rtn(sc: str, tt2000: np.ndarray, b_sc: np.ndarray) -> np.ndarray:
    """Rotate (N, 3) SC vectors (NaN allowed) at TT2000 times into RTN; needs an active pool
    holding the day's SCLK, SPK and CK. KernelError (one line) on a coverage gap."""
    frame = define_sc_frame(sc)
    if tt2000.size == 0:
        return np.empty((0, 3))
    return frames.rotate(b_sc, tt2000, frame, "RTN", observer=NAIF_NAME[sc])
