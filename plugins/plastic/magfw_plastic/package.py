"""Level ``package``: the yearly delivery zip for UC Berkeley,
``prep_zips/l2_merge/stereo_PLASTIC_MAG_yearly_cdf_{yyyy}.zip``.

The seed, by hand: make the folder ``stereo_PLASTIC_MAG_yearly_cdf_{yyyy}``, copy the year's
merged yearly CDF into it, ``zip -er`` it with the delivery password, upload, e-mail Berkeley.
Here (unit: the year, every spacecraft; it reads only the output tree and needs ``plastic/l2``,
so ``magfw run plastic package 2024 --source ...`` merges the year first), as ``fetch`` (the
yearly CDFs), ``read`` (their recorded checksums) and ``write`` (the zip); it changes no data,
so it has no middle step:

.. code-block:: text

    stereo_PLASTIC_MAG_yearly_cdf_2024/
        sta_l2_magplasma_1m_20240101_v07.cdf      the newest yearly CDF of each spacecraft
        SHA256SUMS                                sha256sum format, paths relative to the folder

Encrypted when ``MAGFW_ZIP_PASSWORD`` is set: by default with the traditional PKWARE encryption
a standard ``unzip -P`` opens, with ``--aes`` as AES-256 (:func:`magfw.api.write_delivery_zip`);
the password never touches disk or argv. Each CDF is checked against the SHA-256 recorded when
it was written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from magfw.api import (
    Inputs,
    MissingInputError,
    NoMiddleSteps,
    Product,
    UnitContext,
    ZipEntry,
    check_cdf,
    choose_zip_encryption,
    report_zip_encryption,
    write_delivery_zip,
    zip_password_from_env,
)

ZIP_PRODUCT = "yearly_zip"
YEARLY = "merged_yearly"
CHECKSUM_NAME = "SHA256SUMS"
COMPRESSLEVEL = 1


def top_folder(year: int) -> str:
    """The seed's folder, ``stereo_PLASTIC_MAG_yearly_cdf_{yyyy}``."""
    return f"stereo_PLASTIC_MAG_yearly_cdf_{year:04d}"


@dataclass(frozen=True, kw_only=True)
class YearDelivery:
    """``read``: the zip's files, in order (the checksum list last)."""

    top: str
    entries: list[ZipEntry]

    @property
    def names(self) -> list[str]:
        return [e.arcname.split("/", 1)[1] for e in self.entries]


def delivery(year: int, files: list[tuple[Path, str]]) -> YearDelivery:
    """The zip's entries for the yearly CDFs ``(path, sha256)``."""
    top = top_folder(year)
    entries = [ZipEntry(f"{top}/{p.name}", path=p, sha256=h) for p, h in files]
    sums = "".join(f"{h}  {p.name}\n" for p, h in files).encode("ascii")
    return YearDelivery(top=top, entries=[*entries, ZipEntry(f"{top}/{CHECKSUM_NAME}", data=sums)])


class Package(NoMiddleSteps):
    """The ``package`` level object (``fetch``, ``read``, ``write``): the year's delivery zip."""

    def fetch(self, ctx: UnitContext) -> Inputs:
        year = ctx.unit.start.year
        files = []
        for sc in ctx.mission.spacecraft:
            found = ctx.newest_products("plastic", YEARLY, sc=sc.lower(), yyyy=year)
            files += [ctx.product_input(f, YEARLY) for f in found]
        if not files:
            raise MissingInputError(
                ctx.out_dir, f"no merged yearly CDF for {year}: run `magfw run plastic l2 {year}` first"
            )
        password = zip_password_from_env()
        method = choose_zip_encryption(password, bool(ctx.options.get("aes")))
        return Inputs(files=files, selection={"encryption": method})

    def read(self, ctx: UnitContext, inputs: Inputs) -> YearDelivery:
        for f in inputs.files:  # a few header bytes each: a truncated CDF stops the package
            check_cdf(f.path)
        ctx.vectors += len(inputs.files)
        return delivery(ctx.unit.start.year, [(f.path, f.sha256) for f in inputs.files])

    def write(self, ctx: UnitContext, data: YearDelivery) -> list[Product]:
        password = zip_password_from_env()
        method = choose_zip_encryption(password, bool(ctx.options.get("aes")))
        report_zip_encryption(ctx, method)

        def stream(path: Path) -> None:
            write_delivery_zip(
                path, data.entries, password=password, encryption=method, compresslevel=COMPRESSLEVEL
            )

        return [Product(definition=ctx.product(ZIP_PRODUCT), fields={}, stream=stream)]
