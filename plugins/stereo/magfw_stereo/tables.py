"""Counts tables in the output tree, and level ``offsets``: the researcher's file imported.

The UCLA chain turns the researcher's monthly offsets file (:mod:`magfw_stereo.researcher`)
into the month's public ``{yyyy}{mm}Stereo{sc}Counts.asc`` (:mod:`magfw_stereo.counts`), the
table ``magfw run stereo l1`` applies. Level ``offsets`` does that as a runner job (unit: the
month), so each import is a revision of the ``counts_table`` product (``offsets/V00/``,
``V01``...) recorded in the ledger with its input file and the K it took:

- the file is the option ``--file`` (a path, or a name in the offsets source), else the seed's
  name ``STEREO_{sc}_offset_{yyyy}{mon}_avg.txt`` in the offsets source (``--source
  offsets=DIR``, else ``--source``); ``magfw stereo offsets import FILE`` runs it for the
  file's month and spacecraft;
- the file is validated completely before anything is written (a bad one fails the unit with
  one line and the tree is untouched); it must be for the unit's month;
- K (nT/count, recorded, not applied by L1) comes from ``--k-from`` (a Counts table: its last
  row), else the last row of the newest imported table of an earlier month, else
  :data:`DEFAULT_K` (so importing the same file again changes nothing and is skipped);
- O is kept at the table's precision (0.001 nT); rounding and days without a row are noted.

The yearly offsets table the seed keeps is the union of the newest revision of each month
(:func:`yearly_table`). The level's steps are ``fetch``, ``read`` (the file, validated) and
``write`` (the table): an import derives nothing, so it has no middle step.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from magfw.api import (
    FoundProduct,
    InputError,
    InputFile,
    Inputs,
    MissingInputError,
    Mission,
    NoMiddleSteps,
    Product,
    UnitContext,
    day_ranges,
    newest_products,
)
from magfw_stereo import fetch as fetching
from magfw_stereo.counts import CountsTable, format_counts, parse_counts, read_counts
from magfw_stereo.researcher import OffsetsFile, offsets_file_name, read_offsets_file

COUNTS_PRODUCT = "counts_table"
#: K (nT/count, range 0) used when no earlier table gives one: the constant values of the
#: public 2018 STEREO-A tables (research note 4.1). Documented choice, also for STEREO-B (no
#: StereoBCounts file is public). The L1 chain records K but does not re-apply it.
DEFAULT_K = (0.0146328, 0.0144910, 0.0142581)
#: Precision of O in the Counts table (``%10.3f``).
COUNTS_DECIMALS = 3


def monthly_tables(
    mission: Mission, out_dir: Path, spacecraft: str, year: int | None = None
) -> list[FoundProduct]:
    """The newest imported revision of each month (of one year, or all), in month order."""
    given: dict[str, object] = {"sc": spacecraft}
    if year is not None:
        given["yyyy"] = year
    found = newest_products(out_dir, mission.product(COUNTS_PRODUCT), **given)
    return sorted(found, key=lambda f: (int(f.fields["yyyy"]), int(f.fields["mm"])))


def yearly_table(mission: Mission, out_dir: Path, spacecraft: str, year: int) -> CountsTable:
    """The year's offsets table: the newest imported revision of each month, day by day.

    This is the seed's "yearly offsets table": magfw keeps one Counts table per month (the
    public layout, the one delivered) and the year is their union.
    """
    tables = [read_counts(f.path) for f in monthly_tables(mission, out_dir, spacecraft, year)]
    if not tables:
        raise MissingInputError(
            out_dir,
            f"no imported offsets for ST{spacecraft} {year:04d}: run `magfw stereo offsets import FILE`",
        )
    return CountsTable(
        days=[d for t in tables for d in t.days],
        k=np.concatenate([t.k for t in tables]),
        offsets=np.concatenate([t.offsets for t in tables]),
        counts=np.concatenate([t.counts for t in tables]),
    )


@dataclass(frozen=True, kw_only=True)
class OffsetsImport:
    """``read``: the researcher's rows, the K to record, and what the import notices."""

    offsets: OffsetsFile
    k: np.ndarray  #: (3,) nT/count
    k_source: str
    rounded: bool  #: offsets had more decimals than the table keeps


def table_precision(offsets: np.ndarray) -> np.ndarray:
    """O as the table's text will hold it (``%10.3f``; a handful of values: one row a day)."""
    return np.array([[float(f"{v:.{COUNTS_DECIMALS}f}") for v in row] for row in offsets]).reshape(-1, 3)


def counts_from_offsets(imp: OffsetsImport) -> CountsTable:
    """The month's Counts table: one row per day of the file, O at the table's precision."""
    of = imp.offsets
    kept = table_precision(of.offsets)
    return CountsTable.of(list(of.days), np.tile(imp.k, (len(of.days), 1)), kept)


class Offsets(NoMiddleSteps):
    """The ``offsets`` level object (``fetch``, ``read``, ``write``): import the researcher's file."""

    def fetch(self, ctx: UnitContext) -> Inputs:
        sc, y, m = ctx.sc, ctx.unit.start.year, ctx.unit.start.month
        given = ctx.options.get("file")
        archive, _ = fetching.role(ctx, "offsets", "")
        if given and Path(given).is_absolute():
            researcher = InputFile.from_path(Path(given), "offsets")
        else:
            name = given or offsets_file_name(sc, y, m, "avg")
            # the seed keeps the researcher's files in input_offsets/ beside the tables
            candidates = [
                fetching.role(ctx, "offsets", f"input_offsets/{name}")[1],
                fetching.role(ctx, "offsets", name)[1],
            ]
            if "offsets" not in ctx.archives:
                candidates.append(name)  # a folder holding the file itself (offsets import)
            found = next((c for c in candidates if archive.exists(c)), None)
            if found is None:
                raise MissingInputError(
                    f"{archive.root}/{candidates[0]}",
                    "no researcher's "
                    f"offsets file for ST{sc} {y:04d}-{m:02d} (the seed's name "
                    f"{offsets_file_name(sc, y, m, 'avg')}, or --file)",
                )
            researcher = InputFile.from_fetched(archive.get(found), "offsets")
        files = [researcher]
        k_from = ctx.options.get("k_from")
        if k_from:
            files.append(InputFile.from_path(Path(k_from), "k_table"))
            k_source = f"K from {Path(k_from).name}"
        else:
            earlier = [
                f
                for f in monthly_tables(ctx.mission, ctx.out_dir, sc)
                if (int(f.fields["yyyy"]), int(f.fields["mm"])) < (y, m)
            ]
            if earlier:
                files.append(ctx.product_input(earlier[-1], "k_table"))
                k_source = f"K from {earlier[-1].rel}"
            else:
                k_source = "K default (public 2018 STEREO-A values)"
        return Inputs(files=files, calibration={"k_source": k_source})

    def read(self, ctx: UnitContext, inputs: Inputs) -> OffsetsImport:
        sc, y, m = ctx.sc, ctx.unit.start.year, ctx.unit.start.month
        f = inputs.one("offsets")
        of = read_offsets_file(f.path, sc)
        if (of.year, of.month) != (y, m):
            raise InputError(f.path, f"holds offsets for {of.year:04d}-{of.month:02d}, not {y:04d}-{m:02d}")
        ks = inputs.by_role("k_table")
        k = read_counts(ks[0].path).k[-1].copy() if ks else np.array(DEFAULT_K)
        rounded = bool(np.any(table_precision(of.offsets) != of.offsets))
        if rounded:
            ctx.note(f"{f.name}: offsets rounded to 0.001 nT, the precision of the Counts table")
        if of.missing_days:
            ctx.note(
                f"{f.name}: no offsets for {len(of.missing_days)} day(s): "
                f"{day_ranges(of.missing_days)} (magfw run stereo l1 refuses those days)"
            )
        ctx.vectors += len(of.days)
        source = "K from " + ks[0].name if ks else "K default (public 2018 STEREO-A values)"
        return OffsetsImport(offsets=of, k=k, k_source=source, rounded=rounded)

    def write(self, ctx: UnitContext, data: OffsetsImport) -> list[Product]:
        table = counts_from_offsets(data)
        payload = format_counts(table)
        back = parse_counts(payload.decode("ascii"), "the table to write")
        if back.days != table.days or not np.array_equal(back.offsets, table.offsets):
            raise InputError(data.offsets.path, "the table would not read back as imported")
        return [
            Product(
                definition=ctx.product(COUNTS_PRODUCT),
                fields={"sc": data.offsets.spacecraft},
                payload=payload,
            )
        ]


def month_of_file(path: Path, spacecraft: str | None) -> tuple[str, int, int]:
    """(spacecraft, year, month) a researcher's file is for (validated as it is read)."""
    of = read_offsets_file(path, spacecraft)
    return of.spacecraft, of.year, of.month


__all__ = [
    "COUNTS_PRODUCT",
    "DEFAULT_K",
    "Offsets",
    "OffsetsImport",
    "counts_from_offsets",
    "month_of_file",
    "monthly_tables",
    "yearly_table",
]
