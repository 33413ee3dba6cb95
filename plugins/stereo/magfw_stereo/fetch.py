"""Finding a day's inputs: Berkeley's files (highest version wins), the Counts table and the
SPICE kernels covering the day (``layout`` gives the tree).

Each comes from its source role: ``berkeley`` (the data), ``spice`` (SolarSoft's kernels),
``offsets`` (the Counts tables and the researcher's files), ``beacon``. A role given on its own
(``--source spice=URL``) is read at its root; otherwise the default archive is read at the
place ``layout.ROLE_ROOT`` names, so the single-root form works as before (:func:`role`).

- Normal file: required (MissingInputError naming the folder and day). Burst file: optional.
  A day listed twice (two versions) counts once: :func:`magfw.fetch.pick_highest_version`.
- Counts table: an imported table in the output tree first (``magfw stereo offsets import``
  writes ``offsets/Vnn/...``; the highest revision wins), else ``offsets/`` in the archive.
- Kernels: ``gen/`` and the spacecraft's ``sclk/`` (all), ``epm/`` (all, predictive),
  ``ah/`` of the day and its neighbours and the ``depm/`` files of the last three start days
  up to the day after (by the ``YYYY_DDD`` in their names: a definitive SPK may span weeks);
  then :func:`magfw.geometry.kernels.select_kernels` keeps what covers the day and its margin
  (``MARGIN_S``). A kernel SPICE cannot read fails the day only when the day itself (its
  00:00 to 24:00) is not covered without it: a neighbour's damaged attitude file, which would
  only have added the margin, is left out. They are inputs, so the ledger sees a new kernel.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import numpy as np

from magfw.api import (
    Archive,
    InputFile,
    MissingInputError,
    UnitContext,
    kernels,
    pick_highest_version,
    time,
)
from magfw_stereo import layout
from magfw_stereo.counts import counts_file_name

MARGIN_S = 120.0  # kernels must cover the day +- this


def role(ctx: UnitContext, name: str, rel: str) -> tuple[Archive, str]:
    """(archive, path) of ``rel`` in the tree of source role ``name``: the role's own archive
    when given (``--source NAME=...``), else the default one under ``layout.ROLE_ROOT``."""
    if name in ctx.archives:
        return ctx.archives[name], rel
    prefix = layout.ROLE_ROOT[name]
    return ctx.archive, "/".join(p for p in (prefix, rel) if p)


def uv_file(ctx: UnitContext, sc: str, day: date, burst: bool) -> InputFile | None:
    """The day's highest-version Berkeley file (None when absent)."""
    archive, folder = role(ctx, "berkeley", layout.uv_dir(sc))
    prefix = f"ST{sc}_L1_MAG{'B' if burst else ''}_{day:%Y%m%d}_V*.cdf"
    names = archive.glob(folder, prefix)
    best = pick_highest_version(names, layout.uv_pattern(sc, burst))
    key = f"{day:%Y%m%d}"
    if key not in best:
        return None
    name = best[key]
    if len(names) > 1:
        ctx.log.info("%s: %d versions listed, using %s", key, len(names), name.rsplit("/", 1)[-1])
    return InputFile.from_fetched(
        archive.get(name), "burst" if burst else "data", version=_version(layout.uv_pattern(sc, burst), name)
    )


def _version(pattern: re.Pattern[str], name: str) -> str | None:
    """``Vnn`` of a file name the pattern picked (None if it has no version)."""
    m = pattern.search(name.rsplit("/", 1)[-1])
    return f"V{m['version']}" if m else None


def require_normal(ctx: UnitContext, sc: str, day: date) -> InputFile:
    f = uv_file(ctx, sc, day, burst=False)
    if f is None:
        archive, folder = role(ctx, "berkeley", layout.uv_dir(sc))
        raise MissingInputError(
            f"{archive.root}/{folder}", f"no file ST{sc}_L1_MAG_{day:%Y%m%d}_Vnn.cdf for {day}"
        )
    return f


def require_beacon(ctx: UnitContext, sc: str, day: date) -> InputFile:
    """The day's IMPACT beacon file ``ST{sc}_LB_IMPACT_YYYYMMDD_Vnn.cdf`` (either case), in
    the beacon folder or its ``YYYY/MM`` sub-folder, highest version (MissingInputError when
    absent)."""
    archive, folder = role(ctx, "beacon", layout.beacon_dir(sc))
    pattern = layout.beacon_pattern(sc)
    names: list[str] = []
    for sub in (folder, f"{folder}/{day:%Y}/{day:%m}"):
        names += [
            n
            for n in archive.glob(sub, "*.[cC][dD][fF]")
            if (m := pattern.match(n.rsplit("/", 1)[-1])) and m["key"] == f"{day:%Y%m%d}"
        ]
    best = pick_highest_version(names, pattern).get(f"{day:%Y%m%d}")
    if best is None:
        raise MissingInputError(
            f"{archive.root}/{folder}", f"no beacon file ST{sc}_LB_IMPACT_{day:%Y%m%d}_Vnn.cdf for {day}"
        )
    return InputFile.from_fetched(archive.get(best), "data", version=_version(pattern, best))


def counts_table(ctx: UnitContext, sc: str, day: date) -> InputFile:
    """The month's Counts table: imported revision in the output tree, else the archive's."""
    found = ctx.newest_products("stereo", "counts_table", yyyy=day.year, mm=day.month, sc=sc)
    if found:
        return ctx.product_input(found[-1], "calibration")
    archive, name = role(ctx, "offsets", counts_file_name(sc, day.year, day.month))
    if not archive.exists(name):
        raise MissingInputError(
            f"{archive.root}/{name}",
            "no Counts table for this month (import the researcher's offsets "
            "with `magfw stereo offsets import`)",
        )
    return InputFile.from_fetched(archive.get(name), "calibration", version="archive")


def _day_of(name: str) -> date | None:
    m = layout.KERNEL_DAY.match(name)
    if m is None:
        return None
    return date(int(m["yyyy"]), 1, 1) + timedelta(days=int(m["doy"]) - 1)


def day_kernels(ctx: UnitContext, sc: str, day: date) -> list[InputFile]:
    """The kernels that cover ``day`` (selected by coverage), as inputs."""
    near = {day - timedelta(days=1), day, day + timedelta(days=1)}
    archive, _ = role(ctx, "spice", "")

    def folder(kind: str, with_sc: bool = True) -> str:
        return role(ctx, "spice", layout.spice_rel(kind, sc if with_sc else None))[1]

    names = archive.glob(folder("gen", False), "*.tf")
    names += archive.glob(folder("sclk"), "*.sclk")
    names += archive.glob(folder("epm"), "*.bsp")
    names += [n for n in archive.glob(folder("ah"), "*.bc") if _day_of(n.rsplit("/", 1)[-1]) in near]
    # definitive SPKs are named for the first day they cover and may span weeks: the last
    # three start days up to the day after (select_kernels then keeps what covers the day)
    depm = [
        (d, n)
        for n in archive.glob(folder("depm"), "*.bsp")
        if (d := _day_of(n.rsplit("/", 1)[-1])) is not None and d <= day + timedelta(days=1)
    ]
    starts = sorted({d for d, _ in depm})[-3:]
    names += [n for d, n in depm if d in starts]
    fetched = [archive.get(n) for n in names]
    t0, t1 = time.day_bounds_tt2000(day)
    et0, et1 = (float(x) for x in time.tt2000_to_et(np.array([t0, t1], dtype=np.int64)))
    chosen = kernels.select_kernels(
        [f.path for f in fetched],
        et0 - MARGIN_S,
        et1 + MARGIN_S,
        bodies=[layout.NAIF_ID[sc]],
        ck_ids=[layout.CK_ID[sc]],
        required=(et0, et1),
    )
    by_path = {f.path.resolve(): f for f in fetched}
    return [InputFile.from_fetched(by_path[k.path], "kernel", version=k.name) for k in chosen]
