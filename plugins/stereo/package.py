"""The monthly delivery zip for UC Berkeley: ``stereo_MAG_MAGB_CDF_{yyyy}{mmm}.zip``.

What the seed builds by hand (``make_zip.sh``), as the ``delivery_zip`` product:

.. code-block:: text

    stereo_MAG_MAGB_CDF_2024jan/
        sc/Afgy2024/STA_L1_MAG_SC_20240101_V06.cdf ...     normal-mode daily SC CDFs
        sc/Abfgy2024/STA_L1_MAGB_SC_20240102_V06.cdf ...   burst daily SC CDFs
        rtn/Afgy2024/STA_L1_MAG_RTN_20240101_V06.cdf ...   normal-mode daily RTN CDFs
        rtn/Abfgy2024/STA_L1_MAGB_RTN_20240102_V06.cdf ... burst daily RTN CDFs
        202401StereoACounts.asc                            the month's Counts table
        SHA256SUMS                                         checksum list of everything above

Documented choices (the seed zips the folder it made, so the folder is the zip's top level):

- Everything sits under the top folder ``stereo_MAG_MAGB_CDF_{yyyy}{mmm}/``, as
  ``zip -er stereo_MAG_MAGB_CDF_2024jan.zip stereo_MAG_MAGB_CDF_2024jan`` gives.
- ``SHA256SUMS`` is in ``sha256sum`` format (``<hex>  <path>``, paths relative to the top
  folder), so ``cd stereo_MAG_MAGB_CDF_2024jan && sha256sum -c SHA256SUMS`` checks a delivery.
- Both spacecraft go into the one monthly zip when both have data (``sc/Bfgy{yyyy}``... and
  ``{yyyy}{mm}StereoBCounts.asc``), as the ``delivery_zip`` definition notes; ``--spacecraft``
  limits it to one.
- Daily CDFs are found through their definitions (highest version per day); every one is read
  whole with the core reader first, so a damaged file stops the package with one line and no
  zip. Days of the month without a normal-mode file are reported and the rest is packaged.
- The Counts table is the newest imported revision of the month (``magfw stereo offsets
  import``); days whose L1 run (per the ledger) used another table are reported, since the
  delivery would pair them with offsets they were not processed with.
- Encryption: WinZip AES-256 (AE-2) through ``pyzipper`` when ``MAGFW_ZIP_PASSWORD`` is set
  (an empty value is refused); otherwise a plain zip and a warning. The password is taken from
  the environment at call time and handed only to the zip library: it is never written to a
  file, the log or the ledger (the ledger records only whether the zip is encrypted).
- Deflate level 1: CDFs of calibrated float32 data barely compress (research and
  ``magfw.io.cdf`` notes: ~85-90 %), and level 6 would cost several times the time for a few
  per cent.
- The zip is written to a temporary name beside its target and renamed into place.
"""

from __future__ import annotations

import os
import time
import zipfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from magfw import __version__
from magfw.config import state_dir
from magfw.errors import MissingInputError, UsageError
from magfw.io.atomic import atomic_path
from magfw.io.checksum import sha256_file
from magfw.ledger import Ledger, LedgerEntry
from magfw.mission import Mission
from magfw_stereo.merge import find_daily_files, month_days
from magfw_stereo.offsets import MONTHS, latest_tables

PASSWORD_ENV = "MAGFW_ZIP_PASSWORD"
ZIP_PRODUCT = "delivery_zip"
CHECKSUM_NAME = "SHA256SUMS"
COMPRESSLEVEL = 1

#: Folder inside the zip of each daily product (fields sc, yyyy), from the seed.
FOLDERS: dict[str, str] = {
    "l1_mag_sc": "sc/{sc}fgy{yyyy}",
    "l1_magb_sc": "sc/{sc}bfgy{yyyy}",
    "l1_mag_rtn": "rtn/{sc}fgy{yyyy}",
    "l1_magb_rtn": "rtn/{sc}bfgy{yyyy}",
}
#: Normal-mode products: a day of the month without one is reported.
NORMAL = ("l1_mag_sc", "l1_mag_rtn")


@dataclass
class PackageReport:
    """What :func:`package_month` put into the zip."""

    path: Path
    encrypted: bool
    entries: list[str] = field(default_factory=list)  # paths inside the zip, checksum list last
    missing_days: dict[str, list[date]] = field(default_factory=dict)  # "STA l1_mag_sc" -> days
    spacecraft: list[str] = field(default_factory=list)
    #: days whose L1 run (ledger) used another offsets table than the one packaged, per "STA"
    other_table: dict[str, list[date]] = field(default_factory=dict)


def password_from_env() -> str | None:
    """The zip password from ``MAGFW_ZIP_PASSWORD`` (None when unset; empty is a usage error)."""
    value = os.environ.get(PASSWORD_ENV)
    if value is None:
        return None
    if not value:
        raise UsageError(None, f"{PASSWORD_ENV} is set but empty: unset it for a plain zip, "
                               "or give the delivery password")
    return value


def _check_cdf(path: Path) -> None:
    """Read the whole file with the core reader: a damaged CDF is one InputError line."""
    from magfw.io.cdf import read_cdf

    read_cdf(path)


def package_month(
    mission: Mission, out_dir: Path, year: int, month: int,
    spacecraft: list[str] | None = None, password: str | None = None,
    plugin_version: str = "",
) -> PackageReport:
    """Build the month's delivery zip in ``out_dir`` (see the module notes); return a report.

    Raises :class:`MissingInputError` when no spacecraft has daily CDFs for the month or a
    spacecraft with data has no imported Counts table, :class:`~magfw.errors.InputError` for
    an unreadable daily CDF (no zip is written then).
    """
    out_dir = Path(out_dir)
    t0, started = time.perf_counter(), time.time()
    mmm = MONTHS[month - 1]
    top = f"stereo_MAG_MAGB_CDF_{year:04d}{mmm}"
    d = mission.product(ZIP_PRODUCT)
    zfields: dict[str, Any] = {"yyyy": year, "mmm": mmm}
    if d.version.field in d.filename.fields:
        zfields[d.version.field] = d.version.start
    target = out_dir / d.filename.format(**zfields)

    entries: list[tuple[str, Path]] = []
    report = PackageReport(target, password is not None)
    all_days = month_days(year, month)
    for sc in spacecraft or list(mission.spacecraft):
        files: list[tuple[str, Path]] = []
        for pid, folder in FOLDERS.items():
            found = find_daily_files(out_dir, mission.product(pid), sc, year, month)
            sub = folder.format(sc=sc, yyyy=f"{year:04d}")
            files += [(f"{sub}/{f.path.name}", f.path) for f in found.values()]
            if pid in NORMAL and found:
                missing = [x for x in all_days if x not in found]
                if missing:
                    report.missing_days[f"ST{sc} {pid}"] = missing
        if not files:
            continue
        tables = [r for r in latest_tables(mission, out_dir, sc, year) if r.month == month]
        if not tables:
            raise MissingInputError(out_dir, f"no imported offsets (Counts table) for ST{sc} "
                                             f"{year:04d}-{month:02d}: run `magfw stereo offsets "
                                             f"import FILE` first")
        report.spacecraft.append(sc)
        entries += files
        entries.append((tables[-1].path.name, tables[-1].path))
        days = sorted({f.day for pid in NORMAL for f in
                       find_daily_files(out_dir, mission.product(pid), sc, year, month).values()})
        other = _processed_with_other_table(mission, out_dir, sc, days, tables[-1].path)
        if other:
            report.other_table[f"ST{sc}"] = other
    if not entries:
        wanted = "/".join(spacecraft or mission.spacecraft)
        raise MissingInputError(out_dir, f"no daily L1 CDFs of ST{wanted} for "
                                         f"{year:04d}-{month:02d}; run `magfw run stereo l1 "
                                         f"{year:04d}-{month:02d}` first")
    for _, path in entries:
        if path.suffix.lower() == ".cdf":
            _check_cdf(path)

    sums = [(sha256_file(p), name) for name, p in entries]
    checksum_text = "".join(f"{h}  {name}\n" for h, name in sums).encode("ascii")
    with atomic_path(target) as tmp:
        _write_zip(tmp, top, entries, checksum_text, password)
    report.entries = [f"{top}/{name}" for name, _ in entries] + [f"{top}/{CHECKSUM_NAME}"]

    rel = target.relative_to(out_dir).as_posix()
    Ledger(state_dir(out_dir) / "ledger.sqlite").record(LedgerEntry(
        unit=f"{mission.id}/package/{'+'.join(report.spacecraft)}/{year:04d}-{month:02d}",
        status="ok",
        versions={"magfw": __version__, "plugin": plugin_version,
                  "definitions": {d.id: d.digest()},
                  "options": {"encryption": "WinZip AES-256" if password else "none"}},
        inputs=[{"role": "calibration" if p.suffix == ".asc" else "data",
                 "name": p.relative_to(out_dir).as_posix(), "sha256": h,
                 "size": p.stat().st_size, "version": None}
                for (h, _), (_, p) in zip(sums, entries, strict=True)],
        outputs=[{"path": rel, "product": d.id, "sha256": sha256_file(target),
                  "size": target.stat().st_size}],
        started=started, duration_s=time.perf_counter() - t0))
    return report


def _processed_with_other_table(mission: Mission, out_dir: Path, sc: str, days: list[date],
                                table: Path) -> list[date]:
    """Days whose last successful L1 run (ledger) read a Counts table other than ``table``:
    the delivery would pair those CDFs with offsets they were not made with."""
    from magfw.period import Unit
    from magfw.runner import unit_id

    path = state_dir(out_dir) / "ledger.sqlite"
    if not path.exists():
        return []
    ledger = Ledger(path)
    digest = sha256_file(table)
    other = []
    for day in days:
        entry = ledger.last_ok(unit_id(mission.id, "l1", sc, Unit(day, day, "day",
                                                                   day.isoformat())))
        used = [i["sha256"] for i in entry.inputs if i["role"] == "calibration"] if entry else []
        if used and digest not in used:
            other.append(day)
    return other


def _write_zip(path: Path, top: str, entries: list[tuple[str, Path]], checksums: bytes,
               password: str | None) -> None:
    """Write the zip at ``path``: every entry under ``top/``, the checksum list last."""
    import pyzipper

    if password is not None:
        zf: zipfile.ZipFile = pyzipper.AESZipFile(
            path, "w", compression=pyzipper.ZIP_DEFLATED, compresslevel=COMPRESSLEVEL,
            encryption=pyzipper.WZ_AES)
        zf.setpassword(password.encode("utf-8"))
    else:
        zf = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED,
                             compresslevel=COMPRESSLEVEL)
    with zf:
        for name, src in entries:
            zf.write(src, f"{top}/{name}")
        zf.writestr(f"{top}/{CHECKSUM_NAME}", checksums)


__all__ = ["CHECKSUM_NAME", "FOLDERS", "PASSWORD_ENV", "PackageReport", "package_month",
           "password_from_env"]
