"""What a ``/data`` request reads, piece by piece, on the tiny mission's CDF, netCDF and flat
files: a record range of each format equals the same records of a whole read; a file's time
index knows its first and last records and locates any time reading a stride of times; the
cached time text is what the stream writes; a file whose times are not clean (a fill time,
a step back) is read by the filtering path and loses nothing; the 1-min summaries of the
month figure and the unit quality figures count what the file holds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from serveplugin import Tiny

from magfw.io.products import read_product
from magfw.testing import make_hooks, run_level


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from magfw.api import parse_period

    out = tmp_path_factory.mktemp("tinyrec") / "out"
    archive = out.parent / "archive"
    hooks = make_hooks(Tiny(), names=["tiny"])
    Tiny().magfw_simulate("tiny", parse_period("2024-03-01..2024-03-02"), archive, "X", 0)
    run_level(hooks, "tiny", "l1", "2024-03-01..2024-03-02", out, source=str(archive), spacecraft="X")
    return out


@pytest.fixture(scope="module")
def catalog():
    from magfw.serve.datasets import build_catalog

    return build_catalog(list(make_hooks(Tiny(), names=["tiny"]).registry))


def _file(tree: Path, pattern: str) -> Path:
    (p,) = tree.glob(pattern)
    return p


FILES = {
    "TINY_X_MAG": "tiny/X/2024/TINY_X_MAG_20240301_V*.cdf",
    "TINY_X_MAG_NC": "tiny/X/2024/TINY_X_MAG_20240301_V*.nc",
    "TINY_X_MAG_1MIN": "tiny/X/2024/TINY_X_MAG_1MIN_20240301_V*.ffh",
}


@pytest.mark.parametrize("dataset", list(FILES))
def test_a_record_range_is_the_same_records_as_a_whole_read(tree, catalog, dataset):
    from magfw.serve.records import open_records

    ds = catalog[dataset]
    path = _file(tree, FILES[dataset])
    with open_records(ds, path) as rec:
        assert rec.n == 1440
        tt_all, ok_all = rec.times(0, rec.n)
        assert ok_all.all() and (np.diff(tt_all) > 0).all()
        whole = {p.name: rec.raw(p, 0, rec.n) for p in ds.parameters[1:]}
        for lo, hi in [(0, 1), (5, 97), (1000, 1440), (1439, 1440)]:
            tt, ok = rec.times(lo, hi)
            np.testing.assert_array_equal(tt, tt_all[lo:hi])
            for p in ds.parameters[1:]:
                np.testing.assert_array_equal(rec.raw(p, lo, hi), whole[p.name][lo:hi])
    data = read_product(path)
    name = ds.parameters[1].name
    if ds.definition.format != "flatfile":
        np.testing.assert_array_equal(whole[name].reshape(data.variables[name].shape), data.variables[name])


@pytest.mark.parametrize("dataset", list(FILES))
def test_the_time_index_locates_any_time_reading_a_stride(tree, catalog, dataset, monkeypatch):
    from magfw.serve import timeindex
    from magfw.serve.records import open_records
    from magfw.serve.timefmt import TimeWriter

    monkeypatch.setattr(timeindex, "STRIDE", 64)  # several strides in a 1440-record day
    ds = catalog[dataset]
    with open_records(ds, _file(tree, FILES[dataset])) as rec:
        import io

        text = io.BytesIO()
        ft = timeindex.scan(rec, 256, text, ds.time_digits)
        tt, _ = rec.times(0, rec.n)
        assert ft.clean and ft.n == ft.valid == 1440
        assert (ft.first, ft.last) == (int(tt[0]), int(tt[-1]))
        assert ft.step_ns == 60_000_000_000
        np.testing.assert_array_equal(ft.samples, tt[::64])
        assert text.getvalue() == TimeWriter(ds.time_digits).format(tt).tobytes()
        reads = []
        real_times = rec.times
        monkeypatch.setattr(rec, "times", lambda lo, hi: reads.append(hi - lo) or real_times(lo, hi))
        for t in [int(tt[0]) - 1, int(tt[0]), int(tt[0]) + 1, int(tt[700]), int(tt[-1]), int(tt[-1]) + 1]:
            assert timeindex.first_at_or_after(ft, rec, t) == int(np.searchsorted(tt, t, side="left"))
        assert max(reads) <= 64


class _Fake:
    """Records of a file whose times hold a fill and a step back."""

    n = 10
    path = Path("fake")

    def __init__(self, ds):
        self.ds = ds
        base = 761_000_000_000_000_000
        self.tt = base + np.arange(10, dtype=np.int64) * 60_000_000_000
        self.tt[3] = np.iinfo(np.int64).min  # a fill time
        self.tt[7] = self.tt[5]  # a step back
        self.ok = self.tt > np.iinfo(np.int64).min + 1
        self.b = np.arange(30, dtype=np.float32).reshape(10, 3)

    def times(self, lo, hi):
        return self.tt[lo:hi], self.ok[lo:hi]

    def raw(self, p, lo, hi):
        return self.b[lo:hi]

    def stored_fill(self, p):
        return -1e31

    def close(self):
        pass


def test_a_file_with_a_fill_time_and_a_step_back_is_filtered_not_dropped(catalog):
    from magfw.serve.encode import Chunk
    from magfw.serve.files import OpenProduct
    from magfw.serve.stream import Streamer, StreamPlan
    from magfw.serve.timeindex import scan

    ds = catalog["TINY_X_MAG_1MIN"]
    fake = _Fake(ds)
    ft = scan(fake, 8192, None, ds.time_digits)
    assert not ft.clean and ft.valid == 9 and ft.first == int(fake.tt[0]) and ft.last == int(fake.tt[9])
    plan = StreamPlan(
        ds=ds,
        params=list(ds.parameters),
        fmt="csv",
        header=False,
        info={},
        products=[],
        start=int(fake.tt[0]),
        stop=int(fake.tt[9]) + 1,
        chunk_bytes=1 << 20,
    )
    streamer = Streamer(plan, files=None)
    chunks: list[Chunk] = list(streamer._filtered_chunks(OpenProduct(None, fake, ft)))
    (chunk,) = chunks
    # the fill time goes; the repeated time of record 7 is not sent again (times never go back)
    kept = [0, 1, 2, 4, 5, 6, 8, 9]
    np.testing.assert_array_equal(chunk.raw[0], fake.b[kept])
    assert len(chunk) == len(kept)


def test_quality_and_minute_summaries_count_what_the_file_holds(tree, catalog):
    from magfw.geometry.time import day_bounds_tt2000
    from magfw.serve import monthfigure
    from magfw.serve.files import OpenProduct
    from magfw.serve.quality import file_figures
    from magfw.serve.records import open_records
    from magfw.serve.timeindex import scan

    ds = catalog["TINY_X_MAG"]
    path = _file(tree, FILES["TINY_X_MAG"])
    t0, t1 = (int(x) for x in day_bounds_tt2000(np.datetime64("2024-03-01")))
    with open_records(ds, path) as rec:
        op = OpenProduct(None, rec, scan(rec, 8192, None, ds.time_digits))
        q = file_figures(ds, op, t0, t1)
        assert q["records"] == 1440 and q["outside"] == 0
        assert q["missing"] == len(range(5, 1440, 97))  # every 97th B is fill
        assert q["flags"]["STATUS"] == {"0": 15, "3": 8}  # bit 0 with the fills, bit 3 every 200th
        panels = monthfigure.month_panels(ds)
        assert [p.label for p in panels] == ["B GSE\n[nT]", "|B|\n[nT]"]
        m0 = int(day_bounds_tt2000(np.datetime64("2024-03-01"))[0])
        m1 = int(day_bounds_tt2000(np.datetime64("2024-03-31"))[1])
        s = monthfigure.summarise(ds, op, panels, m0, m1)
    b = read_product(path).variables["B"].astype(np.float64)
    good = b[:, 0] != np.float32(-1e31)
    assert s["counts"][0, :1440].sum() == good.sum() and s["counts"][0, 1440:].sum() == 0
    np.testing.assert_allclose(s["sums"][0, :1440][good], b[good, 0], rtol=1e-12)
    assert s["total"][:24].sum() == 1440
    # flagged: the records with a rare bit set (bit 0 with each fill, bit 3 every 200th)
    status = read_product(path).variables["STATUS"]
    assert s["flagged"].sum() == int((status != 0).sum())
