"""The STEREO monthly tools: ``magfw stereo offsets import|estimate|table``, ``merge``, ``package``.

Inputs are small synthetic products written with the core writers and the shipped stereo
definitions (a "month" here is a few representative days of a few thousand records, to keep
the tests fast), so these tests do not depend on the L1 pipeline; the last test runs the real
chain end to end when the L1 level is implemented.
"""

from __future__ import annotations

import hashlib
import struct
import zipfile
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from magfw.engine.ledger import Ledger
from magfw.geometry.time import day_bounds_tt2000, tt2000_to_cdf_epoch
from magfw.io.cdf import read_cdf
from magfw.io.finder import find_products
from magfw.io.products import write_product
from magfw.plugin.context import Product
from magfw.plugin.definitions import shipped_definitions
from magfw.plugin.manager import get_hooks
from magfw.testing import run_cli
from magfw.tools.check import check_file, format_report
from magfw_stereo.counts import CountsTable, format_counts, read_counts
from magfw_stereo.davis_smith import EstimateSettings, estimate_from_series
from magfw_stereo.researcher import format_offsets_file, offsets_file_name, read_offsets_file

DEFS = {d.id: d for d in shipped_definitions("stereo")}
LABELS = {"SC": ["BX", "BY", "BZ", "BTotal"], "RTN": ["BR", "BT", "BN", "BTotal"]}
PASSWORD = "Pw-canary-7f3a9c-delivery"


# ---------------------------------------------------------------------------------------------
# Synthetic inputs
# ---------------------------------------------------------------------------------------------


def write_daily(
    out: Path,
    pid: str,
    sc: str,
    day: date,
    n: int = 2000,
    seed: int = 0,
    start_s: float = 0.0,
    step_s: float | None = None,
) -> Path:
    """A small daily L1 CDF of product ``pid`` (records ``step_s`` apart from ``start_s``)."""
    d = DEFS[pid]
    rng = np.random.default_rng([seed, day.toordinal(), len(pid)])
    step = d.cadence_s if step_s is None else step_s
    t0, _ = day_bounds_tt2000(np.datetime64(day.isoformat(), "D"))
    tt = t0 + np.int64(start_s * 1e9) + ((np.arange(n) + 0.5) * step * 1e9).astype(np.int64)
    b = (rng.normal(0, 2, (n, 3)) + [3.0, -2.0, 1.0]).astype(np.float32)
    bfield = np.column_stack([b, np.linalg.norm(b, axis=1)]).astype(np.float32)
    frame = "RTN" if "rtn" in pid else "SC"
    burst = "B" if "magb" in pid else ""
    product = Product(
        definition=d,
        fields={"sc": sc, "yyyy": day.year, "mm": day.month, "dd": day.day},
        variables={
            "Epoch": tt2000_to_cdf_epoch(tt),
            "BFIELD": bfield,
            "MAGFLAGUC": rng.integers(0, 2**22, n).astype(np.uint32),
            "FILTER_VALUE": np.full(n, 500.0, np.float32),
            "CART_LABL_1": np.array(LABELS[frame]),
        },
        attrs={
            "Source_name": "Ahead>STEREO Ahead" if sc == "A" else "Behind>STEREO Behind",
            "Logical_source": f"ST{sc}_L1_MAG{burst}_{frame}",
            "Parents": [f"ST{sc}_L1_MAG{burst}_{day:%Y%m%d}_V01.cdf"],
            "Software_version": "test",
            "Generation_date": "2024-02-01T00:00:00Z",
            "Calibration_version": [f"counts_table V00 {day:%Y%m}"],
            "SPICE_kernels": [f"ahead_{day:%Y_%j}_01.ah.bc"],
            "Data_source": "SIMULATED by magfw: not real data",
        },
    )
    fields = dict(product.fields, version=d.version.start)
    target = out / d.filename.format(**fields)
    write_product(product, target, {})
    return target


def daily_path(out: Path, pid: str, day: int, sc: str = "A") -> Path:
    """Where the definition keeps a January 2024 daily file (its directory included)."""
    d = DEFS[pid]
    return out / d.filename.format(sc=sc, yyyy=2024, mm=1, dd=day, version=d.version.start)


def write_month(
    out: Path, days: tuple[int, ...] = (1, 2, 4), burst_days: tuple[int, ...] = (2,), sc: str = "A", **kw
) -> None:
    for dd in days:
        for pid in ("l1_mag_sc", "l1_mag_rtn"):
            write_daily(out, pid, sc, date(2024, 1, dd), **kw)
    for dd in burst_days:
        for pid in ("l1_magb_sc", "l1_magb_rtn"):
            write_daily(out, pid, sc, date(2024, 1, dd), n=800, start_s=3600.0)


def products(out: Path) -> list[Path]:
    """Files of the output tree outside its .magfw state folder."""
    return sorted(p for p in out.rglob("*") if p.is_file() and ".magfw" not in p.parts)


def one_error(stderr: str) -> str:
    """The one failure line: a command's ``magfw: error: ...`` or a unit's
    ``magfw: <unit>: ...``."""
    lines = [
        ln for ln in stderr.splitlines() if ln.startswith("magfw: ") and not ln.startswith("magfw: warning")
    ]
    assert len(lines) == 1, stderr
    return lines[0]


def check_ok(path: Path) -> None:
    report = check_file(path, get_hooks().registry.definitions())
    assert report.ok, format_report(report)


def researcher_file(tmp_path: Path, rows: dict[date, tuple[float, float, float]], sc: str = "A") -> Path:
    path = tmp_path / offsets_file_name(sc, 2024, 1)
    path.write_bytes(format_offsets_file(sc, 2024, 1, rows))
    return path


def january_rows(seed: int = 0) -> dict[date, tuple[float, float, float]]:
    rng = np.random.default_rng(seed)
    base = np.array([22.0, -17.0, -30.0])
    return {date(2024, 1, d): tuple(np.round(base + rng.normal(0, 0.4, 3), 3)) for d in range(1, 32)}


# ---------------------------------------------------------------------------------------------
# offsets import
# ---------------------------------------------------------------------------------------------


def test_offsets_import_gives_the_counts_table_exactly(tmp_path):
    out = tmp_path / "out"
    rows = january_rows()
    src = researcher_file(tmp_path, rows)
    res = run_cli(["stereo", "offsets", "import", str(src), "--out", str(out)])
    assert res.exit_code == 0, res.stderr
    tables = find_products(out, DEFS["counts_table"], sc="A", yyyy=2024, mm=1)
    assert [f.version for f in tables] == [0]
    path = tables[0].path
    assert path.name == "202401StereoACounts.asc" and f"wrote {path}" in res.stdout
    table = read_counts(path)  # the L1 chain's own reader
    assert table.days == sorted(rows)
    assert np.array_equal(table.offsets, np.array([rows[d] for d in table.days]))  # exact
    assert np.array_equal(table.k[0], [0.0146328, 0.0144910, 0.0142581])  # documented default
    check_ok(path)
    entry = Ledger(out / ".magfw" / "ledger.sqlite").last_ok("stereo/offsets/A/2024-01")
    assert entry is not None and entry.outputs[0]["path"] == path.relative_to(out).as_posix()

    # the same file again: no new revision; an edited file: V01, which l1 then finds last
    res = run_cli(["stereo", "offsets", "import", str(src), "--out", str(out)])
    assert res.exit_code == 0 and "unchanged" in res.stdout
    rows[date(2024, 1, 5)] = (1.0, 2.0, 3.0)
    src.write_bytes(format_offsets_file("A", 2024, 1, rows))
    assert run_cli(["stereo", "offsets", "import", str(src), "--out", str(out)]).exit_code == 0
    tables = find_products(out, DEFS["counts_table"], sc="A", yyyy=2024, mm=1)
    assert [f.version for f in tables] == [0, 1]
    assert read_counts(tables[-1].path).for_day(date(2024, 1, 5))[1].tolist() == [1.0, 2.0, 3.0]

    # K from a given table (e.g. the public one of the month before)
    ref = tmp_path / "202312StereoBCounts.asc"
    ref.write_bytes(
        format_counts(
            CountsTable(
                days=[date(2023, 12, 31)],
                k=[[0.0145, 0.0146, 0.0143]],
                offsets=[[1.0, 2.0, 3.0]],
                counts=None,
            )
        )
    )
    b_file = researcher_file(tmp_path, january_rows(1), sc="B")
    res = run_cli(["stereo", "offsets", "import", str(b_file), "--k-from", str(ref), "--out", str(out)])
    assert res.exit_code == 0, res.stderr
    b_table = read_counts(find_products(out, DEFS["counts_table"], sc="B")[0].path)
    assert np.array_equal(b_table.k[3], [0.0145, 0.0146, 0.0143])

    res = run_cli(["stereo", "offsets", "table", "2024", "--out", str(out)])
    assert res.exit_code == 0 and res.stdout.startswith("% year, Day")
    assert len(res.stdout.splitlines()) == 32  # header + the year's 31 imported days
    yearly = tmp_path / "2024StereoACounts.asc"
    res = run_cli(["stereo", "offsets", "table", "2024", "--to", str(yearly), "--out", str(out)])
    assert res.exit_code == 0 and read_counts(yearly).days == table.days


def test_offsets_import_partial_month_warns(tmp_path):
    rows = {d: v for d, v in january_rows().items() if d.day <= 10}
    res = run_cli(
        ["stereo", "offsets", "import", str(researcher_file(tmp_path, rows)), "--out", str(tmp_path / "out")]
    )
    assert res.exit_code == 0
    assert "no offsets for 21 day(s): 2024-01-11..2024-01-31" in res.stdout


GOOD = "2024-01-01   22.100  -17.000  -30.000\n2024-01-02   22.110  -17.010  -30.020\n"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (GOOD + "2024-01-03   22.1  -17.0\n", "line 3: expected 4 columns (date O_X O_Y O_Z), found 3"),
        (GOOD + "2024-01-03   22.1  -17.0  -30.0  1.0\n", "line 3: expected 4 columns"),
        (GOOD + "2024-02-30   22.1  -17.0  -30.0\n", "line 3: bad date '2024-02-30'"),
        (GOOD + "01/03/2024   22.1  -17.0  -30.0\n", "line 3: bad date '01/03/2024'"),
        (GOOD + "2024-01-03   22.1  abc  -30.0\n", "line 3: O_Y 'abc' is not a number"),
        (GOOD + "2024-01-03   nan  -17.0  -30.0\n", "line 3: O_X 'nan' is not a number"),
        (GOOD + "2024-01-01   22.1  -17.0  -30.0\n", "line 3: date 2024-01-01 is listed twice (also line 1)"),
        (
            GOOD + "2024-02-01   22.1  -17.0  -30.0\n",
            "line 3: date 2024-02-01 is outside the month 2024-01 of the file name",
        ),
        ("# comment only\n", "no data rows"),
        ("# spacecraft: B\n" + GOOD, "spacecraft disagree"),
    ],
)
def test_offsets_import_rejects_a_bad_file_with_one_line(tmp_path, text, problem):
    src = tmp_path / "STEREO_A_offset_2024jan_avg.txt"
    src.write_text(text)
    out = tmp_path / "out"
    res = run_cli(["stereo", "offsets", "import", str(src), "--out", str(out)])
    assert res.exit_code == 1
    line = one_error(res.stderr)
    assert line.startswith(f"magfw: error: {src}: ") and problem in line, line
    assert products(out) == []  # nothing written
    assert src.read_text() == text  # input untouched


JAN = {1: (22.1, -17.0, -30.0), 2: (22.11, -17.01, -30.02), 31: (22.3, -16.9, -29.95)}


@pytest.mark.parametrize(
    ("layout", "text"),
    [
        (
            "date",
            "date,O_X,O_Y,O_Z\n"
            + "".join(f"2024/01/{d:02d}, {x}, {y}, {z}\n" for d, (x, y, z) in JAN.items()),
        ),
        (
            "year-doy",
            "% offsets for STEREO-A, nT, SC axes\nyear doy Ox Oy Oz\n"
            + "".join(f"2024\t{d}\t{x}\t{y}\t{z}   # day {d}\n" for d, (x, y, z) in JAN.items()),
        ),
        (
            "counts",
            "% year, Day, Kx (Range 0), O1 (nT), Counts @ O, Ky (Range 0), O2 (nT), Counts @ O,"
            " Kz (Range 0), O3 (nT), Counts @ O\n"
            + "".join(
                f"2024 {d}.5 0.0146328 {x} -1510 0.0144910 {y} 1173 0.0142581 {z} 2104\n"
                for d, (x, y, z) in JAN.items()
            ),
        ),
    ],
)
def test_offsets_file_layouts_a_person_would_write_import(tmp_path, layout, text):
    src = tmp_path / "STEREO_A_offset_2024jan_avg.txt"
    src.write_text(text)
    f = read_offsets_file(src)
    assert f.layout == layout
    assert (f.spacecraft, f.year, f.month) == ("A", 2024, 1)
    assert [d.day for d in f.days] == list(JAN)
    assert np.allclose(f.offsets, np.array(list(JAN.values())))
    # and the import makes the month's Counts table with those offsets
    out = tmp_path / "out"
    res = run_cli(["stereo", "offsets", "import", str(src), "--out", str(out)])
    assert res.exit_code == 0, res.stdout + res.stderr
    (table,) = out.rglob("202401StereoACounts.asc")
    t = read_counts(table)
    assert [d.day for d in t.days] == list(JAN)
    assert np.allclose(t.offsets, np.array(list(JAN.values())))


def test_a_broken_offsets_file_names_its_line_and_the_layouts_accepted(tmp_path):
    src = tmp_path / "STEREO_A_offset_2024jan_avg.txt"
    src.write_text(
        "# researcher's offsets\nyear doy Ox Oy Oz\n2024 1 22.1 -17.0 -30.0\n"
        "2024 2 22.1 -17.0 -30.0\n2024 three 22.1 -17.0 -30.0\n"
    )
    out = tmp_path / "out"
    res = run_cli(["stereo", "offsets", "import", str(src), "--out", str(out)])
    assert res.exit_code == 1
    line = one_error(res.stderr)
    assert line.startswith(f"magfw: error: {src}: line 5: bad year and day of year "), line
    assert "accepted layouts: 'DATE O_X O_Y O_Z'" in line and "'YEAR DOY O_X O_Y O_Z'" in line
    assert "Counts layout" in line
    assert products(out) == []


def test_offsets_file_month_from_rows_and_key(tmp_path):
    src = tmp_path / "offsets.txt"  # no seed name: month from the key, else the first row
    src.write_text("# month: 2024-01\n" + GOOD.replace("2024-01-02", "2023-12-31"))
    with pytest.raises(
        Exception,
        match="line 3: date 2023-12-31 is outside the month 2024-01 "
        r"\(line 1\)",
    ):
        read_offsets_file(src)
    src.write_text(GOOD)
    f = read_offsets_file(src, "B")
    assert (f.spacecraft, f.year, f.month, len(f.missing_days)) == ("B", 2024, 1, 29)


# ---------------------------------------------------------------------------------------------
# offsets estimate
# ---------------------------------------------------------------------------------------------


def _red(rng: np.random.Generator, n: int, tau_s: float) -> np.ndarray:
    """Unit-variance red noise with correlation time ``tau_s`` (1-s samples), FFT-filtered."""
    f = np.fft.rfftfreq(n, 1.0)
    x = np.fft.irfft(np.fft.rfft(rng.normal(size=n)) / np.sqrt(1 + (2 * np.pi * f * tau_s) ** 2), n)
    return x / x.std()


def alfvenic(
    n_days: int, zero: np.ndarray, seed: int = 1, compressive: float = 0.3, noise: float = 0.02
) -> tuple[np.ndarray, np.ndarray]:
    """1-s solar-wind-like field from 2024-01-01: |B| constant (5 +- 1 nT over days) while the
    direction rotates (delta B / B ~ 0.5) about a Parker-like mean with sector changes; a share
    of 10-min intervals is compressive instead (direction frozen, |B| +- 20 %). Measured
    ``B + zero[day]`` plus noise; 2 % of samples are gaps. Returns (TT2000, B [N,3])."""
    rng = np.random.default_rng(seed)
    n = n_days * 86400
    t = np.arange(n, dtype=np.float64)
    phi = np.radians(135) + 0.4 * _red(rng, n, 6 * 3600)
    lat = 0.35 * _red(rng, n, 4 * 3600)
    sector = np.sign(np.sin(2 * np.pi * t / (2.3 * 86400) + 0.3))
    n0 = sector[:, None] * np.column_stack(
        [np.cos(lat) * np.cos(phi), np.cos(lat) * np.sin(phi), np.sin(lat)]
    )
    p = np.column_stack([_red(rng, n, 120) for _ in range(3)])
    p -= np.einsum("ni,ni->n", p, n0)[:, None] * n0
    direction = n0 + 0.5 * p
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    mag = 5.0 + np.sin(2 * np.pi * t / (1.7 * 86400))
    comp = (rng.random(n // 600 + 1) < compressive)[(t // 600).astype(int)]
    mag = np.where(comp, mag * (1 + 0.2 * _red(rng, n, 60)), mag)
    direction = np.where(comp[:, None], n0, direction)
    b = mag[:, None] * direction + zero[(t // 86400).astype(int)] + rng.normal(0, noise, (n, 3))
    b[rng.random(n) < 0.02] = np.nan
    t0, _ = day_bounds_tt2000(np.datetime64("2024-01-01"))
    return t0 + t.astype(np.int64) * 1_000_000_000 + 500_000_000, b


def write_prep(out: Path, tt: np.ndarray, b: np.ndarray, sc: str = "A") -> None:
    """The 1-s series as daily prep_1s flat files (gaps as fill, NPTS 0)."""
    d = DEFS["prep_1s"]
    day_of = (tt - tt[0]) // (86400 * 1_000_000_000)
    for k in np.unique(day_of):
        sel = day_of == k
        day = date(2024, 1, 1 + int(k))
        bb = b[sel]
        gap = ~np.isfinite(bb).all(axis=1)
        mag = np.linalg.norm(bb, axis=1)
        b4 = np.column_stack([bb, mag]).astype(np.float32)
        b4[gap] = 1e34
        npts = np.where(gap, 0, 8).astype(np.float32)
        fields = {"sc": sc, "yyyy": day.year, "mm": day.month, "dd": day.day, "version": d.version.start}
        write_product(
            Product(definition=d, fields=fields, variables={"TIME": tt[sel], "B": b4, "NPTS": npts}),
            out / d.filename.format(**fields),
            {},
        )


# Tolerances, stated: the synthetic intervals are ideal rotations plus 0.02 nT noise, 30 %
# compressive intervals and gaps; each day combines three days (the month's edge days two) of
# 10-min intervals. Recovery is limited by the day-to-day offset step (0.05 nT here) mixed in
# from the neighbouring days, hence 0.05 nT per day and axis; the month solution has no such
# mixing: 0.02 nT from its mean offset.
DAY_TOL_NT = 0.05
MONTH_TOL_NT = 0.02


def test_davis_smith_recovers_known_offsets_and_needs_the_selection():
    zero = np.array([-22.0, 17.0, 30.0]) + np.outer(np.arange(4), [0.05, -0.05, 0.03])
    tt, b = alfvenic(4, zero)
    days = [date(2024, 1, d) for d in range(1, 5)]
    month, per_day = estimate_from_series(tt, b, days)
    assert month.determined and month.windows > 100
    assert np.all(np.abs(month.zero_level - zero.mean(axis=0)) < MONTH_TOL_NT), month
    assert np.all(month.sigma < 0.01)
    for i, d in enumerate(days):
        est = per_day[d]
        assert est.determined
        assert np.all(np.abs(est.offsets + zero[i]) < DAY_TOL_NT), (d, est.offsets + zero[i])
    # without the Alfvenic selection the compressive intervals bias the result by far more
    loose = EstimateSettings(max_compressibility=1e9, max_residual=1e9, min_planarity=0.0)
    naive, _ = estimate_from_series(tt, b, days, loose)
    assert np.max(np.abs(naive.zero_level - zero.mean(axis=0))) > 5 * MONTH_TOL_NT


def test_davis_smith_refuses_non_alfvenic_turbulence():
    rng = np.random.default_rng(3)
    n = 2 * 86400
    b = np.array([3.5, -3.5, 0.0]) + 1.2 * np.column_stack([_red(rng, n, 300) for _ in range(3)])
    t0, _ = day_bounds_tt2000(np.datetime64("2024-01-01"))
    tt = t0 + np.arange(n, dtype=np.int64) * 1_000_000_000 + 500_000_000
    month, per_day = estimate_from_series(tt, b + [-22.0, 17.0, 30.0], [date(2024, 1, 1), date(2024, 1, 2)])
    assert not month.determined and not any(e.determined for e in per_day.values())


def test_offsets_estimate_command_writes_a_proposal_only(tmp_path):
    out = tmp_path / "out"
    zero = np.array([-22.0, 17.0, 30.0]) + np.outer(np.arange(3), [0.05, -0.05, 0.03])
    tt, b = alfvenic(3, zero, seed=4)
    write_prep(out, tt, b)
    res = run_cli(["stereo", "offsets", "estimate", "2024-01", "--out", str(out)])
    assert res.exit_code == 0, res.stderr
    proposal = out / "input_offsets" / "STEREO_A_offset_2024jan_estimate.txt"
    assert f"wrote {proposal}" in res.stdout and "Not applied" in res.stdout
    f = read_offsets_file(proposal)  # a valid researcher's file
    assert f.days == [date(2024, 1, d) for d in (1, 2, 3)]
    assert np.all(np.abs(f.offsets + zero) < DAY_TOL_NT), f.offsets + zero
    assert "2024-01-04..2024-01-31" in res.stdout  # days without prep data: no proposal
    assert find_products(out, DEFS["counts_table"], sc="A") == []  # never applied
    assert "Davis-Smith" in proposal.read_text()
    # the researcher accepts it: it imports
    res = run_cli(["stereo", "offsets", "import", str(proposal), "--out", str(out)])
    assert res.exit_code == 0, res.stderr


def test_offsets_estimate_without_prep_data(tmp_path):
    res = run_cli(["stereo", "offsets", "estimate", "2024-01", "--out", str(tmp_path / "o")])
    assert res.exit_code == 1
    assert "no 1-s prep averages of STA for 2024-01" in one_error(res.stderr)


# ---------------------------------------------------------------------------------------------
# merge
# ---------------------------------------------------------------------------------------------


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_merge_concatenates_the_daily_records_exactly(tmp_path):
    out = tmp_path / "out"
    write_month(out, step_s=40.0)  # 2000 records spread over each day, for a readable plot
    res = run_cli(["stereo", "merge", "2024-01", "--out", str(out)])
    assert res.exit_code == 0, res.stderr
    # the missing normal-mode days are named; burst days are not expected every day
    assert "l1_mag_sc: 28 day(s) missing, merged the rest: 2024-01-03, 2024-01-05..2024-01-31" in res.stdout
    assert "l1_magb" not in res.stdout
    review = DEFS["monthly_review"]
    merged = {(f.fields["burst"], f.fields["frame"]): f.path for f in find_products(out, review, sc="A")}
    assert sorted(merged) == [("", "RTN"), ("", "SC"), ("B", "RTN"), ("B", "SC")]
    for (burst, frame), path in merged.items():
        pid = f"l1_mag{'b' if burst else ''}_{frame.lower()}"
        dailies = [f.path for f in find_products(out, DEFS[pid], sc="A", yyyy=2024, mm=1)]
        parts = [read_cdf(p) for p in sorted(dailies)]
        monthly = read_cdf(path)
        for var in ("Epoch", "BFIELD", "MAGFLAGUC", "FILTER_VALUE"):
            want = np.concatenate([p.variables[var] for p in parts])
            got = monthly.variables[var]
            assert got.dtype == want.dtype and np.array_equal(got, want), (path.name, var)
        assert list(monthly.variables["CART_LABL_1"]) == LABELS[frame]
        parents = monthly.global_attrs["Parents"]
        parents = parents if isinstance(parents, list) else [parents]  # one entry reads as str
        assert parents == [p.name for p in sorted(dailies)]
        assert monthly.var_attrs["BFIELD"]["CATDESC"] == parts[0].var_attrs["BFIELD"]["CATDESC"]
        check_ok(path)
    ql = tmp_path / "ql.png"
    res = run_cli(["plot", str(merged[("", "RTN")]), "-o", str(ql)])
    assert res.exit_code == 0, res.stderr
    assert _png_size(ql) == (1200, 800)
    entry = Ledger(out / ".magfw" / "ledger.sqlite").last_ok("stereo/merge/A/2024-01")
    assert entry is not None and len(entry.inputs) == 8 and len(entry.outputs) == 4
    assert "2024-01-05..2024-01-31" in entry.message


def _merge_fails(out: Path, text: str) -> None:
    before = {p: p.read_bytes() for p in products(out)}
    res = run_cli(["stereo", "merge", "2024-01", "--out", str(out)])
    assert res.exit_code == 1
    line = one_error(res.stderr)
    assert text in line, line
    assert {p: p.read_bytes() for p in products(out)} == before  # nothing partial, inputs kept
    assert not any((out / ".magfw" / "staging").glob("*"))


def test_merge_unreadable_daily_cdf(tmp_path):
    out = tmp_path / "out"
    write_month(out)
    bad = daily_path(out, "l1_mag_rtn", 2)
    bad.write_bytes(bad.read_bytes()[:3000])
    _merge_fails(out, f"{bad}: not a readable CDF")


def test_merge_out_of_order_day(tmp_path):
    out = tmp_path / "out"
    write_month(out, days=(1, 2))
    # a file named for the 4th that holds the 2nd's records
    daily_path(out, "l1_mag_sc", 2).rename(daily_path(out, "l1_mag_sc", 4))
    write_daily(out, "l1_mag_sc", "A", date(2024, 1, 2), seed=9)
    _merge_fails(
        out,
        "STA_L1_MAG_SC_20240104_V06.cdf: records from 2024-01-02T00:00:00.063 "
        "to 2024-01-02T00:04:09.938 are not all in its day 2024-01-04",
    )


def test_merge_records_out_of_order_inside_a_file(tmp_path):
    out = tmp_path / "out"
    write_month(out, days=(1,), burst_days=())
    path = daily_path(out, "l1_mag_sc", 1)
    data = read_cdf(path)
    epoch = data.variables["Epoch"].copy()
    epoch[[10, 11]] = epoch[[11, 10]]
    d = DEFS["l1_mag_sc"]
    variables = {v.name: data.variables[v.name] for v in d.variables}
    variables["Epoch"] = epoch
    write_product(
        Product(definition=d, fields={}, variables=variables, attrs=dict(data.global_attrs)), path, {}
    )
    _merge_fails(out, f"{path}: Epoch not increasing at record 11")


def test_merge_without_dailies(tmp_path):
    res = run_cli(["stereo", "merge", "2024-01", "--out", str(tmp_path / "o")])
    assert res.exit_code == 1
    assert "no daily L1 CDFs of STA for 2024-01" in one_error(res.stderr)
    assert run_cli(["stereo", "merge", "2024-1", "--out", str(tmp_path)]).exit_code == 2


# ---------------------------------------------------------------------------------------------
# package
# ---------------------------------------------------------------------------------------------

EXPECTED_TREE = sorted(
    [
        "stereo_MAG_MAGB_CDF_2024jan/sc/Afgy2024/STA_L1_MAG_SC_20240101_V06.cdf",
        "stereo_MAG_MAGB_CDF_2024jan/sc/Afgy2024/STA_L1_MAG_SC_20240102_V06.cdf",
        "stereo_MAG_MAGB_CDF_2024jan/sc/Abfgy2024/STA_L1_MAGB_SC_20240102_V06.cdf",
        "stereo_MAG_MAGB_CDF_2024jan/rtn/Afgy2024/STA_L1_MAG_RTN_20240101_V06.cdf",
        "stereo_MAG_MAGB_CDF_2024jan/rtn/Afgy2024/STA_L1_MAG_RTN_20240102_V06.cdf",
        "stereo_MAG_MAGB_CDF_2024jan/rtn/Abfgy2024/STA_L1_MAGB_RTN_20240102_V06.cdf",
        "stereo_MAG_MAGB_CDF_2024jan/202401StereoACounts.asc",
        "stereo_MAG_MAGB_CDF_2024jan/SHA256SUMS",
    ]
)


def _packaged_month(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    write_month(out, days=(1, 2))
    src = researcher_file(tmp_path, january_rows())
    assert run_cli(["stereo", "offsets", "import", str(src), "--out", str(out)]).exit_code == 0
    return out


def _verify_checksums(zf: zipfile.ZipFile) -> None:
    top = "stereo_MAG_MAGB_CDF_2024jan/"
    sums = zf.read(top + "SHA256SUMS").decode("ascii").splitlines()
    assert len(sums) == len(EXPECTED_TREE) - 1
    for line in sums:
        digest, name = line.split("  ", 1)
        assert hashlib.sha256(zf.read(top + name)).hexdigest() == digest, name


@pytest.mark.slow
@pytest.mark.parametrize(
    ("flags", "method", "said"),
    [
        ([], "zipcrypto", "traditional PKWARE encryption (opens with unzip -P"),
        (["--aes"], "aes", "WinZip AES-256"),
    ],
)
def test_package_encrypted_with_the_password_from_the_environment(tmp_path, monkeypatch, flags, method, said):
    import shutil
    import subprocess

    import pyzipper

    out = _packaged_month(tmp_path)
    monkeypatch.setenv("MAGFW_ZIP_PASSWORD", PASSWORD)
    res = run_cli(["stereo", "package", "2024-01", "--out", str(out), *flags])
    assert res.exit_code == 0, res.stderr
    zips = find_products(out, DEFS["delivery_zip"], yyyy=2024, mmm="jan")
    assert len(zips) == 1
    path = zips[0].path
    assert path.name == "stereo_MAG_MAGB_CDF_2024jan.zip" and said in res.stdout
    assert path.relative_to(out).parts[:2] == ("prep_zips", "l1_MAG")  # the seed's folder
    with pyzipper.AESZipFile(path) as zf:
        assert sorted(n for n in zf.namelist() if not n.endswith("/")) == EXPECTED_TREE
        files = [i for i in zf.infolist() if not i.is_dir()]
        assert all(i.flag_bits & 0x1 for i in files)  # every file encrypted
        with pytest.raises(RuntimeError):
            zf.read(EXPECTED_TREE[0])  # not without the password
        zf.setpassword(PASSWORD.encode())
        _verify_checksums(zf)
        assert (
            zf.read("stereo_MAG_MAGB_CDF_2024jan/202401StereoACounts.asc")
            == find_products(out, DEFS["counts_table"], sc="A")[-1].path.read_bytes()
        )
        # AES entries carry the AE-x extra field (header id 0x9901); ZipCrypto ones don't
        assert all((b"\x01\x99" in i.extra) == (method == "aes") for i in files)
    if method == "zipcrypto":  # the seed's users open it with a standard unzip -P
        assert shutil.which("unzip"), "the system unzip is needed (.ci/run installs it)"
        dest = tmp_path / "unzipped"
        run = subprocess.run(
            ["unzip", "-q", "-P", PASSWORD, str(path), "-d", str(dest)], capture_output=True, text=True
        )
        assert run.returncode == 0, run.stderr
        top = dest / "stereo_MAG_MAGB_CDF_2024jan"
        check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=top, capture_output=True, text=True)
        assert check.returncode == 0 and check.stdout.count(": OK") == len(EXPECTED_TREE) - 1
        for name in [n for n in EXPECTED_TREE if n.endswith(".cdf")]:
            rel = name.split("/", 1)[1]
            src = next(out.rglob(Path(rel).name))
            assert (top / rel).read_bytes() == src.read_bytes()
        wrong = subprocess.run(
            ["unzip", "-q", "-P", "wrong", "-t", str(path)], capture_output=True, text=True
        )
        assert wrong.returncode != 0
    # the password is nowhere: output tree (ledger, logs, staging), test log, terminal
    needle = PASSWORD.encode()
    for p in [*out.rglob("*"), tmp_path / "magfw-test.log"]:
        if p.is_file():
            assert needle not in p.read_bytes(), p
    assert PASSWORD not in res.stdout + res.stderr
    assert not [p for p in out.rglob("*") if ".zipstage-" in p.name]
    entry = Ledger(out / ".magfw" / "ledger.sqlite").last_ok("stereo/package/-/2024-01")
    assert entry is not None and entry.versions["selection"]["encryption"] == method


def test_package_zipcrypto_without_the_zip_command_is_one_line(tmp_path, monkeypatch):
    out = _packaged_month(tmp_path)
    monkeypatch.setenv("MAGFW_ZIP_PASSWORD", PASSWORD)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    res = run_cli(["stereo", "package", "2024-01", "--out", str(out)])
    assert res.exit_code == 2
    line = one_error(res.stderr)
    assert "the system `zip` command (Info-ZIP) is needed" in line and "--aes" in line
    assert find_products(out, DEFS["delivery_zip"]) == []
    monkeypatch.setenv("MAGFW_ZIP_PASSWORD", "x" * 80)
    monkeypatch.delenv("PATH")
    res = run_cli(["stereo", "package", "2024-01", "--out", str(out)])
    assert res.exit_code == 2 and "longer than 79 bytes" in one_error(res.stderr)


@pytest.mark.slow
def test_package_without_password_is_plain_and_says_so(tmp_path):
    out = _packaged_month(tmp_path)
    res = run_cli(["stereo", "package", "2024-01", "--out", str(out)])
    assert res.exit_code == 0, res.stderr
    assert "NOT encrypted: MAGFW_ZIP_PASSWORD is not set" in res.stdout
    path = find_products(out, DEFS["delivery_zip"])[0].path
    with zipfile.ZipFile(path) as zf:  # the standard library reads it: no encryption
        assert sorted(zf.namelist()) == EXPECTED_TREE
        assert not any(i.flag_bits & 0x1 for i in zf.infolist())
        _verify_checksums(zf)
    assert "2024-01-03..2024-01-31" in res.stdout  # missing days named, the rest packaged


@pytest.mark.slow
def test_merge_and_package_stereo_b(tmp_path):
    """STEREO-B alone (merge --spacecraft B), then one zip holding both spacecraft."""
    out = tmp_path / "out"
    write_month(out, days=(1, 2), sc="A")
    write_month(out, days=(1,), burst_days=(), sc="B")
    res = run_cli(["stereo", "merge", "2024-01", "--spacecraft", "B", "--out", str(out)])
    assert res.exit_code == 0, res.stderr
    merged = find_products(out, DEFS["monthly_review"], sc="B")
    assert sorted(f.path.name for f in merged) == [
        "STB_L1_MAG_RTN_202401_REVIEW_V06.cdf",
        "STB_L1_MAG_SC_202401_REVIEW_V06.cdf",
    ]
    assert find_products(out, DEFS["monthly_review"], sc="A") == []
    for sc in ("A", "B"):
        src = researcher_file(tmp_path, january_rows(), sc=sc)
        assert run_cli(["stereo", "offsets", "import", str(src), "--out", str(out)]).exit_code == 0
    res = run_cli(["stereo", "package", "2024-01", "--out", str(out)])
    assert res.exit_code == 0, res.stderr
    with zipfile.ZipFile(find_products(out, DEFS["delivery_zip"])[0].path) as zf:
        names = set(zf.namelist())
        _verify_checksums_any(zf)
    top = "stereo_MAG_MAGB_CDF_2024jan/"
    assert set(EXPECTED_TREE) <= names
    assert {
        top + "202401StereoBCounts.asc",
        top + "sc/Bfgy2024/STB_L1_MAG_SC_20240101_V06.cdf",
        top + "rtn/Bfgy2024/STB_L1_MAG_RTN_20240101_V06.cdf",
    } <= names
    assert len(names) == len(EXPECTED_TREE) + 3


def _verify_checksums_any(zf: zipfile.ZipFile) -> None:
    top = "stereo_MAG_MAGB_CDF_2024jan/"
    for line in zf.read(top + "SHA256SUMS").decode("ascii").splitlines():
        digest, name = line.split("  ", 1)
        assert hashlib.sha256(zf.read(top + name)).hexdigest() == digest, name


@pytest.mark.slow
def test_package_refuses_damaged_input_and_missing_table(tmp_path, monkeypatch):
    monkeypatch.setenv("MAGFW_ZIP_PASSWORD", PASSWORD)
    out = tmp_path / "out"
    write_month(out, days=(1, 2))
    res = run_cli(["stereo", "package", "2024-01", "--out", str(out)])
    assert res.exit_code == 1
    assert "no imported offsets (Counts table) for STA 2024-01" in one_error(res.stderr)
    src = researcher_file(tmp_path, january_rows())
    assert run_cli(["stereo", "offsets", "import", str(src), "--out", str(out)]).exit_code == 0
    bad = daily_path(out, "l1_magb_sc", 2)
    bad.write_bytes(bad.read_bytes()[:2000])
    res = run_cli(["stereo", "package", "2024-01", "--out", str(out)])
    assert res.exit_code == 1
    (line,) = [ln for ln in res.stderr.splitlines() if ln.startswith("magfw: stereo package")]
    assert f"2024-01: {bad}: not a readable CDF: truncated (2000 of" in line
    assert find_products(out, DEFS["delivery_zip"]) == []
    assert not [p for p in out.rglob("*") if ".magfw-tmp-" in p.name]
    monkeypatch.setenv("MAGFW_ZIP_PASSWORD", "")
    res = run_cli(["stereo", "package", "2024-01", "--out", str(out)])
    assert res.exit_code == 2 and "MAGFW_ZIP_PASSWORD is set but empty" in res.stderr


# ---------------------------------------------------------------------------------------------
# End to end on the real chain (when its L1 level exists)
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_end_to_end_l1_then_merge_and_package(tmp_path, monkeypatch):
    """The seed's chain on three simulated days: the researcher's file (the simulator writes
    it) is imported, L1 runs with it, then merge and package; the zip's Counts table is the one
    L1 used."""
    import shutil
    import subprocess

    import pyzipper

    out, sim = tmp_path / "out", tmp_path / "sim"
    res = run_cli(["simulate", "stereo", "2024-01-01..2024-01-03", "--out", str(sim)])
    assert res.exit_code == 0, res.stderr
    researcher = sorted(sim.rglob(offsets_file_name("A", 2024, 1)))
    assert researcher, "the simulator wrote no researcher's offsets file"
    res = run_cli(["stereo", "offsets", "import", str(researcher[0]), "--out", str(out)])
    assert res.exit_code == 0, res.stderr
    res = run_cli(["run", "stereo", "l1", "2024-01-01..2024-01-03", "--source", str(sim), "--out", str(out)])
    assert res.exit_code == 0, res.stdout + res.stderr
    res = run_cli(["stereo", "merge", "2024-01", "--out", str(out)])
    assert res.exit_code == 0, res.stderr
    assert "2024-01-04..2024-01-31" in res.stdout
    reviews = find_products(out, DEFS["monthly_review"], sc="A")
    assert {(f.fields["burst"], f.fields["frame"]) for f in reviews} >= {("", "SC"), ("", "RTN")}
    for f in reviews:
        check_ok(f.path)
    monkeypatch.setenv("MAGFW_ZIP_PASSWORD", PASSWORD)
    res = run_cli(["stereo", "package", "2024-01", "--out", str(out)])
    assert res.exit_code == 0, res.stderr
    assert "another offsets table" not in res.stdout + res.stderr
    # opened as the recipient does, with the system unzip (pyzipper decrypts the traditional
    # encryption in pure Python, a minute for this zip; the small package test uses it)
    zip_path = find_products(out, DEFS["delivery_zip"])[0].path
    with pyzipper.AESZipFile(zip_path) as zf:
        names = [n for n in zf.namelist() if not n.endswith("/")]
    assert sum("/sc/Afgy2024/" in n for n in names) == 3
    assert sum("/rtn/Afgy2024/" in n for n in names) == 3
    dest = tmp_path / "unzipped"
    run = subprocess.run(
        ["unzip", "-q", "-P", PASSWORD, str(zip_path), "-d", str(dest)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    check = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"],
        cwd=dest / "stereo_MAG_MAGB_CDF_2024jan",
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0 and check.stdout.count(": OK") == len(names) - 1, check.stdout
    shutil.rmtree(dest)
    for p in out.rglob("*"):
        if p.is_file():
            assert PASSWORD.encode() not in p.read_bytes(), p


@pytest.mark.slow
def test_merge_runs_while_another_run_processes_another_month(tmp_path):
    """One output tree, two runs at once: `magfw run stereo l1` on February while `magfw stereo
    merge` merges January. Both complete; nothing is lost; both are in the ledger."""
    import os
    import subprocess
    import sys
    import time

    out = tmp_path / "out"
    res = run_cli(
        [
            "run",
            "stereo",
            "l1",
            "2024-01-01..2024-01-02",
            "--source",
            "simulated",
            "--out",
            str(out),
            "--workers",
            "1",
        ]
    )
    assert res.exit_code == 0, res.stderr
    january = {p: p.read_bytes() for p in products(out)}
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAGFW_")}
    env["MAGFW_LOG"] = str(tmp_path / "log.txt")
    feb = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "magfw",
            "run",
            "stereo",
            "l1",
            "2024-02-01..2024-02-02",
            "--source",
            "simulated",
            "--out",
            str(out),
            "--workers",
            "1",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 120  # merge once February is under way (its simulation done)
    while time.time() < deadline and not list(out.glob(".magfw/staging/*/*")):
        time.sleep(0.05)
    merge = subprocess.run(
        [sys.executable, "-m", "magfw", "stereo", "merge", "2024-01", "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert feb.poll() is None, "the February run had finished: the test proves nothing"
    stdout, stderr = feb.communicate(timeout=300)
    assert merge.returncode == 0, merge.stdout + merge.stderr
    assert feb.returncode == 0, stdout + stderr
    after = {p: p.read_bytes() for p in products(out)}
    assert all(after[p] == b for p, b in january.items())  # nothing lost or changed
    assert len([p for p in after if "REVIEW" in p.name]) == 2  # MAG SC and RTN (no burst)
    assert len([p for p in after if "_202402" in p.name and p.suffix == ".cdf"]) >= 4
    ledger = Ledger(out / ".magfw" / "ledger.sqlite")
    assert ledger.last_ok("stereo/merge/A/2024-01") is not None
    assert all(ledger.last_ok(f"stereo/l1/A/2024-02-0{d}") is not None for d in (1, 2))
    assert ledger.commits() == [] and not list(out.glob(".magfw/staging/*/*/*"))


def test_stereo_l1_without_period_processes_the_seeds_month(tmp_path, monkeypatch):
    """auto_step1.sh / auto_step2.sh: at the start of month N, month N-2 (configurable)."""
    from magfw import period

    monkeypatch.setattr(period, "utc_today", lambda: date(2024, 3, 1))
    res = run_cli(["run", "stereo", "l1", "--source", "simulated", "--out", str(tmp_path / "o"), "--dry-run"])
    assert res.exit_code == 0, res.stderr
    assert "no PERIOD given: stereo l1 2024-01 (the current month minus 2)" in res.stdout
    assert "dry run: 31 would run" in res.stdout  # every day of January 2024, nothing else
    monkeypatch.setattr(period, "utc_today", lambda: date(2024, 1, 31))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "magfw.toml").write_text("[missions.stereo.default_period]\nl1 = 3\n")
    res = run_cli(["run", "stereo", "l1", "--source", "simulated", "--out", str(tmp_path / "o"), "--dry-run"])
    assert res.exit_code == 0, res.stderr
    assert "no PERIOD given: stereo l1 2023-10 (the current month minus 3" in res.stdout
    assert "dry run: 31 would run" in res.stdout
