"""Quicklook rendering: exact PNG size, gaps, no pyplot/backend change, atomic writes, the
panels chosen for product files, and time axes read from CDF and netCDF conventions."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cdflib
import numpy as np
import pytest

from magfw.io.atomic import TMP_PREFIX
from magfw.io.cdf import write_cdf
from magfw.io.products import write_product
from magfw.plugin.context import PlotPanel, PlotSpec, Product
from magfw.plugin.definitions import ProductDefinition
from magfw.tools.plot import _with_gaps, quicklook, quicklook_spec, render, time_as_tt2000

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
T0 = 742_651_269_184_000_000  # 2023-07-15T00:00:00 UTC, TT2000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) of a PNG, read from its IHDR chunk."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_SIGNATURE and head[12:16] == b"IHDR"
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def spec(size=(1200, 800), dpi=100, n=2000) -> PlotSpec:
    t = T0 + np.arange(n, dtype=np.int64) * 30_000_000_000
    t[n // 2 :] += 3 * 3600 * 10**9  # a three-hour data gap
    b = 5 * np.sin(np.arange(n) / 80.0)
    b[300:400] = np.nan  # a fill gap
    return PlotSpec(
        time=t,
        panels=[PlotPanel({"BR": b, "BT": -b}, "B [nT]"), PlotPanel({"|B|": np.abs(b)}, "|B| [nT]")],
        title="test",
        size_px=size,
        dpi=dpi,
    )


@pytest.mark.parametrize(("size", "dpi"), [((1200, 800), 100), ((1001, 333), 72)])
def test_render_exact_pixel_size(tmp_path: Path, size, dpi) -> None:
    out = render(spec(size, dpi), tmp_path / "q.png")
    assert out == tmp_path / "q.png"
    assert png_size(out) == size
    pil = pytest.importorskip("PIL.Image")
    with pil.open(out) as im:
        assert im.format == "PNG" and im.size == size
        pixels = np.asarray(im.convert("L"))
    assert pixels.min() < 100 < pixels.max()  # something was drawn on a light background


def test_long_time_steps_become_breaks() -> None:
    t = np.array([0, 1, 2, 3, 20, 21, 22], dtype="datetime64[s]")
    y = np.arange(7.0)
    t2, (y2,) = _with_gaps(t, [y])
    assert np.isnat(t2[4]) and np.isnan(y2[4])
    assert t2.size == 8 and np.array_equal(y2[~np.isnan(y2)], y)
    same_t, same = _with_gaps(t[:4], [y[:4]])
    assert same_t.size == 4 and np.array_equal(same[0], y[:4])


def test_all_nan_panel_and_empty_time_render(tmp_path: Path) -> None:
    s = spec(n=10)
    s.panels[1].series["|B|"][:] = np.nan
    assert png_size(render(s, tmp_path / "nan.png")) == (1200, 800)
    empty = PlotSpec(time=np.zeros(0, np.int64), panels=[PlotPanel({"x": np.zeros(0)})])
    assert png_size(render(empty, tmp_path / "empty.png")) == (1200, 800)


def test_no_pyplot_and_backend_untouched(tmp_path: Path) -> None:
    code = (
        "import sys, matplotlib, numpy as np\n"
        "from magfw.tools.plot import render\n"
        "from magfw.plugin.context import PlotSpec, PlotPanel\n"
        "render(PlotSpec(time=np.arange(5, dtype=np.int64) * 10**9 + 7 * 10**17,"
        " panels=[PlotPanel({'x': np.arange(5.0)})]), sys.argv[1])\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'\n"
        "print(matplotlib.get_backend())\n"
    )
    env = {**os.environ, "MPLBACKEND": "svg"}
    res = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "p.png")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "svg"


def test_failed_render_leaves_nothing(tmp_path: Path, monkeypatch) -> None:
    from matplotlib.figure import Figure

    def broken(self, *args, **kwargs):
        raise RuntimeError("renderer exploded")

    monkeypatch.setattr(Figure, "savefig", broken)
    with pytest.raises(RuntimeError, match="exploded"):
        render(spec(), tmp_path / "q.png")
    assert list(tmp_path.iterdir()) == []


def test_time_axes_from_file_conventions() -> None:
    ref = np.int64(cdflib.cdfepoch.compute_tt2000([2023, 7, 15, 0, 0, 0, 0, 0, 0]))
    ms = np.array([1_689_379_200_000.0, 1_689_379_260_000.0])
    got = time_as_tt2000(ms, "float64", {"units": "milliseconds since 1970-01-01T00:00:00Z"})
    assert got.tolist() == [ref, ref + 60 * 10**9]
    unix = time_as_tt2000(np.array([1_689_379_200.0]), "float64", {"units": "Seconds (UNIX time)"})
    assert unix.tolist() == [ref]
    days = time_as_tt2000(np.array([1.0]), "float64", {"units": "days since 2023-07-14"})
    assert days.tolist() == [ref]
    epoch = cdflib.cdfepoch.compute_epoch([2023, 7, 15, 0, 0, 0, 0])
    assert time_as_tt2000(np.array([epoch]), "CDF_EPOCH", {}).tolist() == [ref]
    tt = np.array([ref], dtype=np.int64)
    assert time_as_tt2000(tt, "CDF_TIME_TT2000", {}).tolist() == [ref]
    assert time_as_tt2000(np.array([1.0]), "float32", {"units": "nT"}) is None


def stereo_like(tmp_path: Path) -> Path:
    d = ProductDefinition.model_validate(
        {
            "id": "l1",
            "mission": "stereo",
            "level": "l1",
            "format": "cdf",
            "filename": {
                "template": "STA_L1_MAG_RTN_{date}_V{version}.cdf",
                "fields": {"date": {"kind": "int", "width": 8}, "version": {"kind": "int", "width": 2}},
            },
            "dims": {"time": None, "comp": 4},
            "variables": [
                {"name": "Epoch", "dtype": "tt2000", "var_type": "support_data"},
                {
                    "name": "BFIELD",
                    "dtype": "float32",
                    "dims": ["time", "comp"],
                    "units": "nT",
                    "fill": -1e31,
                    "labl_ptr": {"LABL_PTR_1": "CART_LABL_1"},
                },
                {"name": "MAGFLAGUC", "dtype": "uint32", "fill": 4294967295, "var_type": "support_data"},
                {
                    "name": "FILTER_VALUE",
                    "dtype": "float32",
                    "units": "nT",
                    "fill": -1e31,
                    "var_type": "support_data",
                },
                {
                    "name": "CART_LABL_1",
                    "dtype": "str",
                    "dims": ["comp"],
                    "record_varying": False,
                    "var_type": "metadata",
                },
            ],
        }
    )
    n = 8 * 600
    b = np.zeros((n, 4), np.float32)
    b[:, 0] = 3.0
    b[:, 3] = 3.0
    b[100:200] = -1e31
    v = {
        "Epoch": T0 + np.arange(n, dtype=np.int64) * 125_000_000,
        "BFIELD": b,
        "MAGFLAGUC": np.zeros(n, np.uint32),
        "FILTER_VALUE": np.full(n, 500, np.float32),
        "CART_LABL_1": np.array(["BR", "BT", "BN", "BTotal"]),
    }
    return write_cdf(tmp_path / "STA_L1_MAG_RTN_20230715_V06.cdf", d, v, {})


def test_quicklook_of_a_stereo_like_cdf(tmp_path: Path) -> None:
    path = stereo_like(tmp_path)
    s = quicklook_spec(path)
    assert s.time[0] == T0 and s.time.size == 4800
    # BFIELD only (data); flags and the support filter value are not plotted
    assert [list(p.series) for p in s.panels] == [["BR", "BT", "BN"], ["BTotal"]]
    br = s.panels[0].series["BR"]
    assert np.isnan(br[100:200]).all() and (br[:100] == 3.0).all()  # fill masked
    out = quicklook(path, tmp_path / "ql.png", size_px=(900, 600))
    assert png_size(out) == (900, 600)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(TMP_PREFIX)]


def test_png_and_bytes_products(tmp_path: Path) -> None:
    def definition(fmt: str, ext: str) -> ProductDefinition:
        return ProductDefinition.model_validate(
            {
                "id": f"ql_{fmt}",
                "mission": "stereo",
                "level": "ql",
                "format": fmt,
                "filename": {
                    "template": "ql_{date}_v{version}." + ext,
                    "fields": {"date": {"kind": "int", "width": 8}, "version": {"kind": "int", "width": 2}},
                },
            }
        )

    png = Product(definition=definition("png", "png"), fields={"date": 20230715}, plot=spec((640, 480), 80))
    assert png_size(write_product(png, tmp_path / "ql_20230715_v00.png", {})[0]) == (640, 480)
    raw = Product(definition=definition("bytes", "xml"), fields={"date": 20230715}, payload=b"<label/>")
    [out] = write_product(raw, tmp_path / "ql_20230715_v00.xml", {})
    assert out.read_bytes() == b"<label/>"


@pytest.mark.realdata
def test_quicklook_of_real_files(tmp_path: Path) -> None:
    mms = REALDATA / "mms" / "mms1.cdf"
    dscovr = sorted((REALDATA / "dscovr").glob("*.nc"))
    if not mms.is_file() or not dscovr:
        pytest.skip(f"real data files under {REALDATA} are not present")
    s = quicklook_spec(mms)
    assert len(s.panels) == 8  # four frames, each components + |B|
    assert list(s.panels[0].series) == ["Bx GSE", "By GSE", "Bz GSE"]
    assert s.time.size == 17792
    pytest.importorskip("scipy")
    d = quicklook_spec(dscovr[0])
    ref = cdflib.cdfepoch.compute_tt2000([2023, 7, 15, 0, 0, 0, 0, 0, 0])
    assert d.time[0] == ref and d.time.size == 1440
    vx = d.panels[0].series["proton_vx_gse"]
    assert not (vx <= -99999).any()  # missing_value masked to NaN
    assert -800 < np.nanmin(vx) and np.nanmax(vx) < 0  # anti-sunward solar wind
    assert png_size(quicklook(dscovr[0], tmp_path / "d.png")) == (1200, 800)


@pytest.mark.realdata
def test_quicklook_of_a_real_flat_file(tmp_path: Path) -> None:
    ffh = REALDATA / "flatfile" / "isee1_77nov10.ffh"
    if not ffh.is_file():
        pytest.skip(f"real data file {ffh} is not present")
    s = quicklook_spec(ffh)
    assert len(s.panels) == 7  # B (3 + total) and position (3) columns
    assert all(np.nanmax(np.abs(next(iter(p.series.values())))) < 1e30 for p in s.panels)
    assert png_size(quicklook(ffh, tmp_path / "ff.png")) == (1200, 800)


def test_dense_series_are_drawn_as_min_max_envelopes():
    """More samples than pixel columns: each column keeps its extremes (a one-sample spike
    survives) and an empty column stays a gap."""
    from magfw.tools.plot import _envelope

    n = 100_000
    t = np.arange(n, dtype=np.int64) * 1_000_000_000
    y = np.zeros(n)
    y[12_345] = 50.0  # a single-sample spike
    y[50_000:60_000] = np.nan  # a gap
    t_env, (env,) = _envelope(t, [y], 200)
    assert t_env.size == env.size == 400
    assert np.nanmax(env) == 50.0
    gap_cols = (t_env > 50_500 * 1e9) & (t_env < 59_500 * 1e9)
    assert np.isnan(env[gap_cols]).all()
    assert np.isfinite(env[~gap_cols & (t_env < 49_000 * 1e9)]).all()


def test_eight_panels_with_long_labels_and_legends_do_not_overlap():
    """Labels are sized to their panel and the top tick of each lower panel is pruned: no y
    label, drawn tick label, legend or title overlaps another panel's (tests/plot_helpers.py)."""
    from plot_helpers import overlaps

    from magfw.tools.plot import figure

    n = 3000
    t = T0 + np.arange(n, dtype=np.int64) * 10_000_000_000
    rng = np.random.default_rng(0)
    panels = [
        PlotPanel(
            {f"B{c}": rng.normal(0, 5 * (i + 1), n) for c in "xyz"},
            f"B_yaw_mag{i}\n_error\n[nano tesla - nT]",
        )
        for i in range(8)
    ]
    fig = figure(
        PlotSpec(time=t, panels=panels, title="a long title\nwith a second line", size_px=(1200, 800))
    )
    assert overlaps(fig) == []
