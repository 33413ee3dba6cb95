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
- Daily CDFs are found through their definitions (highest version per day). Each is read
  once, into the zip, and its SHA-256 is computed as it is read and compared with the one
  recorded when it was written (the ledger): a file damaged or changed since stops the
  package with one line and no zip. Days of the month without a normal-mode file are
  reported and the rest is packaged.
- The Counts table is the newest imported revision of the month (``magfw stereo offsets
  import``); days whose L1 run (per the ledger) used another table are reported, since the
  delivery would pair them with offsets they were not processed with.
- Encryption, when ``MAGFW_ZIP_PASSWORD`` is set (an empty value is refused; otherwise a plain
  zip and a warning): by default the traditional PKWARE encryption the seed's ``zip -er`` makes,
  so the zip opens with a standard ``unzip -P``; with ``--aes`` WinZip AES-256 for recipients
  who can open it (``magfw.handoff.deliveryzip`` says why and how: Info-ZIP ``zip -e`` driven through a
  pseudo-terminal). The password is taken from the environment at call time and goes only to
  the zip writer: never to a file, argv, the log or the ledger (the ledger records only which
  encryption). The run's output says which encryption was used.
- Deflate level 1: CDFs of calibrated float32 data barely compress (research and
  ``magfw.io.cdf`` notes: ~85-90 %), and level 6 would cost several times the time for a few
  per cent.
- It is the level ``package`` (unit: the month, covering every spacecraft; it reads only the
  output tree), so the runner stages the zip, commits it and records it in the ledger. Its
  steps are ``fetch``, ``read`` and ``write``: a package changes no value, so it has no middle
  step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from magfw.api import (
    MONTH_ABBR,
    Inputs,
    MissingInputError,
    NoMiddleSteps,
    Product,
    UnitContext,
    ZipEntry,
    check_cdf,
    choose_zip_encryption,
    day_ranges,
    report_zip_encryption,
    write_delivery_zip,
    zip_password_from_env,
)
from magfw_stereo.merge import month_days
from magfw_stereo.tables import COUNTS_PRODUCT

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


@dataclass(frozen=True, kw_only=True)
class Entry:
    """One file of the delivery: its path inside the top folder, where it is, its digest."""

    arcname: str
    path: Path
    sha256: str


@dataclass(frozen=True, kw_only=True)
class Delivery:
    """``read``: what goes into the month's zip (in order), and what is missing."""

    top: str  #: the top folder, stereo_MAG_MAGB_CDF_{yyyy}{mmm}
    entries: list[Entry]
    spacecraft: list[str]
    missing_days: dict[str, list[date]] = field(default_factory=dict)
    other_table: dict[str, list[date]] = field(default_factory=dict)

    def checksums(self) -> bytes:
        """``SHA256SUMS`` in ``sha256sum`` format (from the recorded digests: no re-read)."""
        return "".join(f"{e.sha256}  {e.arcname}\n" for e in self.entries).encode("ascii")


def entries(delivery: Delivery) -> list[ZipEntry]:
    """The zip's files under the top folder, the checksum list last."""
    out = [ZipEntry(f"{delivery.top}/{e.arcname}", path=e.path, sha256=e.sha256) for e in delivery.entries]
    return out + [ZipEntry(f"{delivery.top}/{CHECKSUM_NAME}", data=delivery.checksums())]


def write_zip(path: Path, delivery: Delivery, password: str | None, method: str = "zipcrypto") -> None:
    """Write the zip at ``path``: every entry under the top folder, the checksum list last,
    each file checked against its recorded SHA-256."""
    write_delivery_zip(
        path, entries(delivery), password=password, encryption=method, compresslevel=COMPRESSLEVEL
    )


class Package(NoMiddleSteps):
    """The ``package`` level object (``fetch``, ``read``, ``write``): the month's delivery zip."""

    def fetch(self, ctx: UnitContext) -> Inputs:
        """Every spacecraft's daily L1 CDFs of the month and its newest Counts table."""
        y, m = ctx.unit.start.year, ctx.unit.start.month
        files, notes = [], []
        for sc in ctx.mission.spacecraft:
            sc_files = []
            for pid in FOLDERS:
                by_day = {
                    f.day: f
                    for f in ctx.newest_products("stereo", pid, sc=sc, yyyy=y, mm=m)
                    if f.day is not None
                }
                sc_files += [ctx.product_input(f, pid) for _, f in sorted(by_day.items())]
                missing = [d for d in month_days(y, m) if d not in by_day]
                if pid in NORMAL and by_day and missing:
                    notes.append(
                        f"ST{sc} {pid}: {len(missing)} day(s) missing, packaged the "
                        f"rest: {day_ranges(missing)}"
                    )
            if not sc_files:
                continue
            tables = ctx.newest_products("stereo", COUNTS_PRODUCT, sc=sc, yyyy=y, mm=m)
            if not tables:
                raise MissingInputError(
                    ctx.out_dir,
                    f"no imported offsets (Counts table) for "
                    f"ST{sc} {y:04d}-{m:02d}: run `magfw stereo offsets "
                    "import FILE` first",
                )
            files += sc_files + [ctx.product_input(tables[-1], "calibration")]
        if not files:
            raise MissingInputError(
                ctx.out_dir,
                f"no daily L1 CDFs for {y:04d}-{m:02d}; run `magfw run stereo l1 {y:04d}-{m:02d}` first",
            )
        password = zip_password_from_env()
        method = choose_zip_encryption(password, bool(ctx.options.get("aes")))
        return Inputs(files=files, notes=notes, selection={"encryption": method})

    def read(self, ctx: UnitContext, inputs: Inputs) -> Delivery:
        y, m = ctx.unit.start.year, ctx.unit.start.month
        entries: list[Entry] = []
        spacecraft: list[str] = []
        other: dict[str, list[date]] = {}
        for f in inputs.files:  # a few header bytes each: a truncated CDF stops the package
            if f.path.suffix.lower() == ".cdf":
                check_cdf(f.path)
        for sc in ctx.mission.spacecraft:
            days: set[date] = set()
            for pid, folder in FOLDERS.items():
                sub = folder.format(sc=sc, yyyy=f"{y:04d}")
                for f in inputs.by_role(pid):
                    fields = ctx.product(pid).filename.parse(f.name) or {}
                    if fields.get("sc") != sc:
                        continue
                    entries.append(Entry(arcname=f"{sub}/{f.path.name}", path=f.path, sha256=f.sha256))
                    if pid in NORMAL:
                        days.add(date(y, m, int(fields["dd"])))
            table = next(
                (
                    t
                    for t in inputs.by_role("calibration")
                    if (ctx.product(COUNTS_PRODUCT).filename.parse(t.name) or {}).get("sc") == sc
                ),
                None,
            )
            if table is None:
                continue
            spacecraft.append(sc)
            entries.append(Entry(arcname=table.path.name, path=table.path, sha256=table.sha256))
            used = {d: ctx.inputs_of("stereo", "l1", sc, d.isoformat()) for d in sorted(days)}
            late = [
                d
                for d, ins in used.items()
                if ins and table.sha256 not in [i["sha256"] for i in ins if i["role"] == "calibration"]
            ]
            if late:
                other[f"ST{sc}"] = late
                ctx.note(
                    f"ST{sc}: {len(late)} day(s) were processed with another offsets table "
                    f"than the one packaged: {day_ranges(late)}; rerun `magfw run stereo l1`"
                    " for them"
                )
        ctx.vectors += len(entries)
        return Delivery(
            top=f"stereo_MAG_MAGB_CDF_{y:04d}{MONTH_ABBR[m - 1]}",
            entries=entries,
            spacecraft=spacecraft,
            other_table=other,
        )

    def write(self, ctx: UnitContext, data: Delivery) -> list[Product]:
        password = zip_password_from_env()
        method = choose_zip_encryption(password, bool(ctx.options.get("aes")))
        report_zip_encryption(ctx, method)

        def stream(path: Path) -> None:
            write_zip(path, data, password, method)

        return [Product(definition=ctx.product(ZIP_PRODUCT), fields={}, stream=stream)]


__all__ = [
    "CHECKSUM_NAME",
    "FOLDERS",
    "Delivery",
    "Entry",
    "Package",
    "entries",
    "write_zip",
]
