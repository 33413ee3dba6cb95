"""Where the STEREO inputs live in an archive: Berkeley's unvalidated tree, the SolarSoft SPICE
tree and the offsets folder. Shared by the simulator (which writes this layout) and ``fetch``.

.. code-block:: text

    impact/misc/uv/{ahead,behind}/ST{A,B}_L1_MAG_YYYYMMDD_Vnn.cdf     normal (8 Hz) daily files
    impact/misc/uv/{ahead,behind}/ST{A,B}_L1_MAGB_YYYYMMDD_Vnn.cdf    burst (32 Hz), some days
    stereo/gen/data/spice/gen/stereo_rtn.tf                           frame definitions
    stereo/gen/data/spice/sclk/{ahead,behind}/{ahead,behind}_science_NN.sclk
    stereo/gen/data/spice/epm/{ahead,behind}/ahead_YYYY_DDD_NN.epm.bsp     predictive SPK
    stereo/gen/data/spice/depm/{ahead,behind}/ahead_YYYY_DDD_NN.depm.bsp   definitive SPK
    stereo/gen/data/spice/ah/{ahead,behind}/ahead_YYYY_DDD_NN.ah.bc        attitude CK, one per day
    offsets/YYYYMMStereo{A,B}Counts.asc                               public Counts table
    offsets/input_offsets/STEREO_{A,B}_offset_YYYYmon_avg.txt         the researcher's file
    impact/beacon/{ahead,behind}/mag/ST{A,B}_LB_IMPACT_YYYYMMDD_V02.cdf  beacon (10 s), 2014-15

Each part is a source role (``--source berkeley=URL --source spice=URL --source offsets=DIR``,
or ``[missions.stereo.sources]`` in ``magfw.toml``); a role not given is read from the single
root (``--source DIR``) at the place :data:`ROLE_ROOT` says.

The Berkeley path is the one of the IDL loader's ``/unvalidated`` switch (research note 1.2),
one flat folder per spacecraft. The SPICE sub-tree is SolarSoft's (research note 2.1). The
beacon folder follows the SSC path of the seed (``.../impact/beacon/{ahead,behind}/mag/``), the
file name the public IMPACT beacon files carry (``STA_LB_IMPACT_YYYYMMDD_V02.cdf``; SPDF keeps
them lower-case, ``sta_lb_impact_..._v02.cdf``, and both are accepted), flat or in ``YYYY/MM/``
sub-folders as the SSC level-1 tree has them.
"""

from __future__ import annotations

import re
from datetime import date

SC_DIR = {"A": "ahead", "B": "behind"}
NAIF_ID = {"A": -234, "B": -235}
NAIF_NAME = {"A": "STEREO AHEAD", "B": "STEREO BEHIND"}
CK_ID = {"A": -234000, "B": -235000}

UV_ROOT = "impact/misc/uv"
SPICE_ROOT = "stereo/gen/data/spice"
OFFSETS_DIR = "offsets"
INPUT_OFFSETS_DIR = "offsets/input_offsets"


BEACON_ROOT = "impact/beacon"


def beacon_dir(sc: str) -> str:
    return f"{BEACON_ROOT}/{SC_DIR[sc]}/mag"


def beacon_name(sc: str, day: date, version: int) -> str:
    """``STA_LB_IMPACT_20150101_V02.cdf`` (the public IMPACT beacon name)."""
    return f"ST{sc}_LB_IMPACT_{day:%Y%m%d}_V{version:02d}.cdf"


def beacon_pattern(sc: str) -> re.Pattern[str]:
    """Upper case (SSC) or lower case (SPDF) beacon names; groups ``key`` and ``version``."""
    return re.compile(rf"^ST{sc}_LB_IMPACT_(?P<key>\d{{8}})_V(?P<version>\d+)\.cdf$", re.IGNORECASE)


def uv_dir(sc: str) -> str:
    return f"{UV_ROOT}/{SC_DIR[sc]}"


def uv_name(sc: str, day: date, version: int, burst: bool = False) -> str:
    """``STA_L1_MAG_20240105_V01.cdf`` / ``STA_L1_MAGB_20240105_V01.cdf``."""
    return f"ST{sc}_L1_MAG{'B' if burst else ''}_{day:%Y%m%d}_V{version:02d}.cdf"


def uv_pattern(sc: str, burst: bool) -> re.Pattern[str]:
    """Regex for :func:`magfw.fetch.pick_highest_version`: groups ``key`` (date) and
    ``version``; the normal pattern never matches a burst name and vice versa."""
    mode = "MAGB" if burst else "MAG"
    return re.compile(rf"^ST{sc}_L1_{mode}_(?P<key>\d{{8}})_V(?P<version>\d+)\.cdf$")


def spice_dir(kind: str, sc: str | None = None) -> str:
    """``stereo/gen/data/spice/{kind}[/{ahead|behind}]`` (the single-root tree)."""
    return f"{SPICE_ROOT}/{spice_rel(kind, sc)}"


def spice_rel(kind: str, sc: str | None = None) -> str:
    """``{kind}[/{ahead|behind}]``, relative to the SolarSoft SPICE folder (``--source spice=``)."""
    return kind + (f"/{SC_DIR[sc]}" if sc else "")


#: Where each source role's tree sits inside a single-root archive (``--source DIR``). A role
#: given on its own (``--source spice=URL``) is that folder itself: ``berkeley`` the folder
#: holding ``impact/`` (Berkeley's ``data/misc/stereo/``), ``spice`` SolarSoft's
#: ``stereo/gen/data/spice/``, ``offsets`` the folder of the Counts tables with the
#: researcher's files in its ``input_offsets/``.
ROLE_ROOT = {"berkeley": "", "beacon": "", "spice": SPICE_ROOT, "offsets": OFFSETS_DIR}


def kernel_day_name(sc: str, day: date, suffix: str, version: int = 1) -> str:
    """``ahead_2024_005_01.ah.bc`` (suffix ``ah.bc``, ``depm.bsp`` or ``epm.bsp``)."""
    return f"{SC_DIR[sc]}_{day:%Y}_{day.timetuple().tm_yday:03d}_{version:02d}.{suffix}"


KERNEL_DAY = re.compile(r"^(?:ahead|behind)_(?P<yyyy>\d{4})_(?P<doy>\d{3})_\d{2}\.")
