"""The PLASTIC levels' command-line options (``--vnum``, ``--mag-from``, ``--aes``), apart from
the level modules so that registering the plugin imports none of them."""

from __future__ import annotations

from magfw.api import LevelOption

MAG_FROM = LevelOption(
    name="mag_from",
    choices=["flatfile", "cdf"],
    default="flatfile",
    help="MAG L1 RTN input: the daily flat files (l1_final_flat, as the seed "
    "does; the CDF when a day has none) or the CDFs only",
)
VNUM = LevelOption(
    name="vnum",
    type="int",
    default=None,
    help="use PLASTIC files of this version only (e.g. 11); default: "
    "[missions.plastic] vnum of magfw.toml, else the highest version of each day",
)

AES = LevelOption(
    name="aes",
    type="bool",
    default=False,
    help="encrypt with WinZip AES-256 (7-Zip, WinZip, pyzipper) instead of the "
    "traditional PKWARE encryption a standard `unzip -P` opens",
)
