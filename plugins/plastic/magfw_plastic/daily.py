"""Level ``daily``: one UTC day of PLASTIC 1-min moments merged with that day's MAG L1 RTN onto
the 1-min grid -> the daily merged CDF and flat file.

    fetch -> Inputs -> read -> DayRead -> transform -> DayLocated -> average -> MergedDay
          -> write -> [merged_daily, merged_daily_ff]

``read`` decodes the PLASTIC rows and the MAG samples as they are; ``transform`` gives each
row the spacecraft position in every frame; ``average`` puts both on the day's 1-min grid
(PLASTIC cycles by their middle, MAG samples binned by their stamps) and computes the derived
quantities of each minute from the merged values. PLASTIC moments and MAG L1 are calibrated,
corrected and flagged already, so there is no ``calibrate``, ``correct`` or ``quality`` step.

Inputs: the day's PLASTIC 1-min file (role ``plastic``), the files of the day before and after
(``plastic_edge``, of which only the rows next to midnight are read: a cycle that starts before
midnight belongs to the next day's first minute, and their positions bridge the day's edges),
and the day's MAG L1 RTN (``mag``; the output
tree first, through the registry, else the archive). A damaged file of the day (PLASTIC or MAG)
fails this day only, with one line naming the file; a damaged neighbour only loses its edge
cycles (a warning in the log), since it fails its own day. A day with neither PLASTIC nor MAG
is skipped; a day with one of them is written with the other as fill (and flagged).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from magfw.api import (
    InputError,
    InputFile,
    Inputs,
    NoCalibrate,
    NoCorrect,
    NoQuality,
    Product,
    UnitContext,
    time,
)
from magfw_plastic import archive as arc
from magfw_plastic import merge as mg
from magfw_plastic import products as pr
from magfw_plastic.averaging import MINUTES_PER_DAY, MagMinutes, bin_mag_minutes, day_start_ms
from magfw_plastic.collect import Coverage, flatfile_attrs
from magfw_plastic.positions import positions
from magfw_plastic.reader import ASCII_NAME, FILL_THRESHOLD, MERGE_COLUMNS, check_day, read_plastic_ascii
from magfw_plastic.settings import PlasticSettings

PLASTIC, PLASTIC_EDGE, MAG = "plastic", "plastic_edge", "mag"
#: Rows of a neighbour's file that are read: its last (day before) or first (day after) ones.
#: Only they matter to the day: a cycle whose middle crosses midnight, and the row that
#: brackets the day's first or last minute for the position interpolation (merge notes).
EDGE_ROWS = 10
SOURCE_NAME = {"A": "Ahead>STEREO Ahead", "B": "Behind>STEREO Behind"}
#: PLASTIC columns carried from the files to the merge (keys of ``reader.COLUMNS``).
ROW_KEYS = (
    "np",
    "vp",
    "tp",
    "vth",
    "error",
    "caution",
    "dist_km",
    "lon_hee",
    "lat_hee",
    "lon_heeq",
    "lat_heeq",
    "lon_hci",
    "lat_hci",
    "lon_carr",
)

#: ``--mag-from``: where the MAG field comes from (the seed merges from the daily flat files).


@dataclass(frozen=True, kw_only=True)
class MagSamples:
    """The day's MAG L1 RTN samples as the file has them (interval-centred stamps)."""

    epoch_ms: np.ndarray  #: (N,) CDF_EPOCH ms, to the microsecond
    bfield: np.ndarray  #: (N, 4) BR, BT, BN, |B| nT, NaN = fill
    filter_value: np.ndarray | None  #: (N,) nT, the spike-filter limit, if the file has one

    @classmethod
    def empty(cls) -> MagSamples:
        return cls(epoch_ms=np.zeros(0), bfield=np.zeros((0, 4)), filter_value=None)


@dataclass(frozen=True, kw_only=True)
class DayRead:
    """What ``read`` decodes: the PLASTIC rows (the day's and its neighbours', cycle-start
    times in CDF_EPOCH ms, NaN = fill) and the day's MAG samples."""

    sc: str
    day: date
    rows: dict[str, np.ndarray]  #: ``time_ms``, ROW_KEYS [R], ``v_rtn`` [R, 3]
    has_plastic: bool  #: the day's own PLASTIC file was there
    mag: MagSamples
    has_mag: bool


@dataclass(frozen=True, kw_only=True)
class DayLocated:
    """The rows with the spacecraft position of each (AU: ``R``, ``HAE HEE HEEQ CARR RTN``)."""

    read: DayRead
    positions: dict[str, np.ndarray]


@dataclass(frozen=True, kw_only=True)
class MergedDay:
    """The day's merged 1-min table (merged CDF variable names; NaN = fill)."""

    sc: str
    day: date
    table: dict[str, np.ndarray]
    has_plastic: bool
    has_mag: bool


def file_day(f: InputFile) -> date | None:
    """The day in a PLASTIC file's name, or None."""
    m = ASCII_NAME.match(f.name.rsplit("/", 1)[-1])
    return date(int(m["yyyy"]), int(m["mm"]), int(m["dd"])) if m else None


def plastic_rows(f: InputFile, sc: str, rows_wanted: slice | None = None) -> dict[str, np.ndarray]:
    """The merge's columns of one PLASTIC 1-min file (``rows_wanted`` of its rows), checked
    (columns present, rows on the file's day, the spacecraft of its title); InputError naming
    the file otherwise."""
    t = read_plastic_ascii(f.path, require=MERGE_COLUMNS, rows_wanted=rows_wanted)
    day = file_day(f)
    if day is not None:
        check_day(t, day)
    if t.spacecraft is not None and t.spacecraft != sc:
        raise InputError(f.path, f"title says spacecraft {t.spacecraft}, expected {sc}")
    rows = {k: t.get(k) for k in ROW_KEYS}
    rows["time_ms"] = t.time_ms
    rows["v_rtn"] = np.stack([t.get("vr_rtn"), t.get("vt_rtn"), t.get("vn_rtn")], axis=1)
    return rows


def empty_rows() -> dict[str, np.ndarray]:
    rows = {k: np.zeros(0) for k in (*ROW_KEYS, "time_ms")}
    rows["v_rtn"] = np.zeros((0, 3))
    return rows


def mag_samples(f: InputFile) -> tuple[MagSamples, int]:
    """The day's MAG L1 RTN samples (daily flat file or CDF), and the number of good ones."""
    if f.path.suffix.lower() == ".ffh":
        epoch, bfield, fv = _mag_from_flatfile(f)
    else:
        epoch, bfield, fv = _mag_from_cdf(f)
    # stamps to the microsecond: the flat file's Y1966 seconds and the CDF's CDF_EPOCH ms
    # differ in their last bits, never by a microsecond
    epoch = np.round(epoch, 3)
    bfield = np.where(np.abs(bfield) >= 1e30, np.nan, bfield)  # -1e31 (CDF), 1e34 (flat file)
    good_t = epoch > FILL_THRESHOLD
    filt = None
    if fv is not None:
        x = np.asarray(fv, np.float64)
        filt = np.where(x <= FILL_THRESHOLD, np.nan, x)[good_t]
    samples = MagSamples(epoch_ms=epoch[good_t], bfield=bfield[good_t], filter_value=filt)
    return samples, int(good_t.sum())


def _mag_from_cdf(f: InputFile) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    from magfw.api import read_cdf

    data = read_cdf(f.path)
    for name in ("Epoch", "BFIELD"):
        if name not in data.variables:
            raise InputError(f.path, f"no variable {name!r}: not a MAG L1 RTN product")
    epoch = np.asarray(data.variables["Epoch"], dtype=np.float64)
    bfield = np.asarray(data.variables["BFIELD"], dtype=np.float64)
    if bfield.ndim != 2 or bfield.shape[1] != 4 or bfield.shape[0] != epoch.shape[0]:
        raise InputError(f.path, f"BFIELD has shape {list(bfield.shape)}, expected [{epoch.shape[0]}, 4]")
    fv = data.variables.get("FILTER_VALUE")
    return epoch, bfield, None if fv is None else np.asarray(fv, np.float64)


#: The MAG daily flat file's columns (l1_mag_rtn_ff: the UCLA names) and its FILTER_VALUE key.
FLAT_COLUMNS = ("BR RTN", "BT RTN", "BN RTN", "BT")


def _mag_from_flatfile(f: InputFile) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    from magfw.api import read_product

    data = read_product(f.path)
    missing = [c for c in FLAT_COLUMNS if c not in data.variables]
    if missing:
        raise InputError(f.path, f"no column {missing[0]!r}: not a MAG L1 RTN flat file")
    tname = next(iter(data.variables))  # the time column comes first (UT)
    tt = np.asarray(data.variables[tname], dtype=np.int64)
    epoch = np.asarray(time.tt2000_to_cdf_epoch(tt), dtype=np.float64)
    bfield = np.column_stack([np.asarray(data.variables[c], np.float64) for c in FLAT_COLUMNS])
    fv = None
    text = str(data.global_attrs.get("FILTER_VALUE", "")).split()
    if text:
        try:
            fv = np.full(tt.size, float(np.float32(text[0])))
        except ValueError:
            raise InputError(f.path, f"FILTER_VALUE {text[0]!r} is not a number") from None
    return epoch, bfield, fv


def merge_day(located: DayLocated) -> MergedDay:
    """PLASTIC cycles by their middle and MAG samples by their stamps on the day's 1-min grid,
    with the derived quantities of each minute."""
    r = located.read
    start = day_start_ms(r.day)
    m = r.mag
    mag = (
        bin_mag_minutes(m.epoch_ms, m.bfield, m.filter_value, start)
        if m.epoch_ms.size
        else MagMinutes.empty()
    )
    pla = mg.plastic_minutes({**r.rows, **located.positions}, start, MINUTES_PER_DAY)
    table = mg.merge(pla, mag, np.full(MINUTES_PER_DAY, mag.expected), start)
    return MergedDay(sc=r.sc, day=r.day, table=table, has_plastic=r.has_plastic, has_mag=r.has_mag)


class Daily(NoCalibrate, NoCorrect, NoQuality):
    """The ``daily`` level object: ``fetch``, ``read``, ``transform``, ``average``, ``write``."""

    @staticmethod
    def vnum(ctx: UnitContext) -> int | None:
        """The PLASTIC version asked for: ``--vnum``, else ``[missions.plastic] vnum``."""
        value = ctx.options.get("vnum")
        if value is None:
            value = PlasticSettings.configured(ctx.mission.id).vnum
        return None if value is None else int(value)

    @staticmethod
    def mag_input(ctx: UnitContext, sc: str, day: date) -> InputFile | None:
        """The day's MAG L1 RTN: the daily flat file (``l1_final_flat``, as the seed merges),
        else the CDF (``--mag-from cdf``: the CDF only); each the newest in the output tree,
        else in the archive."""
        order = (
            [arc.MAG_PRODUCT]
            if ctx.options.get("mag_from") == "cdf"
            else [arc.MAG_FLAT_PRODUCT, arc.MAG_PRODUCT]
        )
        for product in order:
            found = arc.find_mag_in_tree(ctx, sc, day, product)
            if found is not None:
                return ctx.product_input(found, MAG)
        for product in order:
            definition = arc.mag_definition(ctx, product)
            rel = arc.find_mag_in_archive(ctx.archive, definition, sc, day)
            if rel is None:
                continue
            parsed = definition.filename.parse(rel) or {}
            v = parsed.get(definition.version.field)
            return InputFile.from_fetched(
                ctx.archive.get(rel), MAG, version=f"V{v:02d}" if isinstance(v, int) else None
            )
        return None

    def fetch(self, ctx: UnitContext) -> Inputs:
        """The day's PLASTIC 1-min file and its neighbours', and the day's MAG L1 RTN."""
        sc, day = ctx.sc, ctx.day
        vnum = self.vnum(ctx)
        selection = {"plastic_version": "highest" if vnum is None else f"V{vnum:02d}"}
        plastic = arc.find_plastic(ctx.archive, sc, arc.neighbours(day), vnum)
        mag = self.mag_input(ctx, sc, day)
        if day not in plastic and mag is None:
            where = arc.plastic_dirs(sc, "1min", day.year)[0]
            return Inputs(
                selection=selection,
                skip_reason=(
                    f"no PLASTIC 1-min file ({ctx.archive.root}/{where}/...) and no MAG L1 RTN "
                    f"for ST{sc} {day}"
                ),
            )
        files = [
            InputFile.from_fetched(
                ctx.archive.get(rel), PLASTIC if d == day else PLASTIC_EDGE, version=arc.plastic_version(rel)
            )
            for d, rel in plastic.items()
        ]
        notes = []
        if mag is not None:
            files.append(mag)
        else:
            notes.append(f"MAG L1 RTN missing for {day}")
        if day not in plastic:
            notes.append(f"PLASTIC missing for {day}" + ("" if vnum is None else f" (no V{vnum:02d} file)"))
        for n in notes:
            ctx.log.warning("plastic daily ST%s %s: %s", sc, day, n)
        return Inputs(files=files, selection=selection, notes=notes)

    def read(self, ctx: UnitContext, inputs: Inputs) -> DayRead:
        sc, day = ctx.sc, ctx.day
        parts = []
        for f in inputs.by_role(PLASTIC):  # the day's own file: any problem fails the day
            rows = plastic_rows(f, sc)
            ctx.vectors += int(rows["time_ms"].size)
            parts.append(rows)
        has_plastic = bool(parts)
        for f in inputs.by_role(PLASTIC_EDGE):  # a neighbour's problem fails its own day
            before = (file_day(f) or day) < day
            rows_wanted = slice(-EDGE_ROWS, None) if before else slice(0, EDGE_ROWS)
            try:
                parts.append(plastic_rows(f, sc, rows_wanted))
            except InputError as exc:
                ctx.log.warning("plastic daily ST%s %s: edge cycles not used: %s", sc, day, exc)
        rows = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]} if parts else empty_rows()
        mag_files = inputs.by_role(MAG)
        if mag_files:
            mag, n = mag_samples(mag_files[0])
            ctx.vectors += n
        else:
            mag = MagSamples.empty()
        return DayRead(sc=sc, day=day, rows=rows, has_plastic=has_plastic, mag=mag, has_mag=bool(mag_files))

    def transform(self, ctx: UnitContext, data: DayRead) -> DayLocated:
        """Spacecraft positions (AU, HAE/HEE/HEEQ/CARR/RTN) from the PLASTIC position columns."""
        return DayLocated(read=data, positions=positions(data.rows))

    def average(self, ctx: UnitContext, data: DayLocated) -> MergedDay:
        """Both onto the day's 1-min grid (PLASTIC cycles by their middle, MAG samples binned
        by their stamps), with each minute's derived quantities."""
        return merge_day(data)

    def write(self, ctx: UnitContext, data: MergedDay) -> list[Product]:
        """The daily merged CDF and flat file; the runner fills the date fields of their names."""
        sc, day = data.sc, data.day
        gaps = Coverage(
            first=day,
            last=day,
            present=[day],
            no_plastic=[] if data.has_plastic else [day],
            no_mag=[] if data.has_mag else [day],
        ).attrs()
        # the daily file's own dataset: Logical_file_id (the file stem) begins with it
        attrs = {"Source_name": SOURCE_NAME[sc], "Logical_source": f"ST{sc}_L2_MAGPLASMA_1M_DAILY"}
        return [
            Product(
                definition=ctx.product("merged_daily"),
                fields={"sc": sc},
                variables=pr.cdf_variables(data.table),
                attrs={**attrs, **gaps},
            ),
            Product(
                definition=ctx.product("merged_daily_ff"),
                fields={"sc": sc},
                variables=pr.flatfile_variables(data.table),
                attrs=flatfile_attrs(gaps),
            ),
        ]
