"""The product x tool matrix, generated from the installed definitions: every data product kind
(CDF, netCDF, UCLA flat file) of every bundled mission and of the ``magfw new-plugin`` template
plugin, made by running every level of its mission from its simulator, is

- opened with ``engine="magfw"``, values and times equal to an independent reader (cdflib,
  h5netcdf, the flat-file format read by hand: tests/matrix_readers.py), fill as NaN;
- opened with ``open_mfdataset`` over three units (all there are for a monthly or yearly
  product of the three simulated days) inside ``with``;
- written with ``to_netcdf`` and read back equal;
- valid for ``magfw check``;
- drawn by ``magfw plot`` with its declared panels, a title naming mission, spacecraft,
  product, version and SIMULATED and its cadence, no constant panel and no overlapping label;
- served by ``magfw serve`` and read over HAPI by hapiclient equal to the file.

A new product kind is covered by adding its definition: the kinds are the registry's, and the
session runs every level that writes one (its dependencies with it) from the simulator. A kind
that no level made in the simulated period fails, naming what its level said. Slow: the runs
take about a minute, once per session, and the trees are shared.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from matrix_readers import Independent, data_variables, read_independently
from plot_helpers import overlaps

from magfw.io.finder import find_products
from magfw.plugin.definitions import ProductDefinition
from magfw.testing import make_hooks, run_cli, run_level, using_hooks
from magfw_aditya import plugin as aditya_plugin
from magfw_example import plugin as example_plugin
from magfw_plastic import plugin as plastic_plugin
from magfw_stereo import plugin as stereo_plugin

xr = pytest.importorskip("xarray")

pytestmark = pytest.mark.timeout(600)

HOOKS = make_hooks(
    stereo_plugin,
    plastic_plugin,
    aditya_plugin,
    example_plugin,
    names=["stereo", "plastic", "aditya", "example"],
)
DATA_FORMATS = ("cdf", "netcdf", "flatfile")
KINDS = [d for d in HOOKS.registry.definitions() if d.format in DATA_FORMATS]
#: Three UTC days across a month end: every level of every mission runs on them ...
PERIOD = "2024-01-30..2024-02-01"
#: ... except where a simulator writes another era (the STEREO beacon chain, inactive since).
PERIODS = {("stereo", "beacon"): "2015-01-01..2015-01-03"}
#: Time tolerance of an independent reader: float seconds (UNIX, flat-file ticks) hold ~0.3 us.
TIME_TOLERANCE = np.timedelta64(1, "us")
#: Over HAPI times are written to the microsecond (flat files, UNIX seconds): 1 us more.
HAPI_TIME_TOLERANCE = np.timedelta64(2, "us")


@dataclass
class Matrix:
    base: Path
    said: dict[str, list[str]] = field(default_factory=dict)  #: mission -> what failing levels said
    servers: dict[str, str] = field(default_factory=dict)
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    def tree(self, d: ProductDefinition) -> Path:
        return self.base / d.mission

    def files(self, d: ProductDefinition) -> list[Path]:
        found = [f.path for f in find_products(self.tree(d), d)]
        if not found:
            pytest.fail(
                f"{d.key}: no file made from the simulated {PERIOD}; its mission said: {self.said[d.mission]}"
            )
        return found

    def server(self, d: ProductDefinition) -> str:
        if d.mission not in self.servers:
            from serve_helpers import running_server

            from magfw.serve import ServeSettings, create_app

            app = create_app(ServeSettings(out_dir=self.tree(d)), missions=list(HOOKS.registry))
            self.servers[d.mission] = self.stack.enter_context(running_server(app))
        return self.servers[d.mission]


@pytest.fixture(scope="session")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    base = tmp_path_factory.mktemp("matrix")
    m = Matrix(base)
    with pytest.MonkeyPatch.context() as mp:  # as tests/conftest.py isolates each test
        for var in ("MAGFW_DATA", "MAGFW_PLUGINS", "MAGFW_DISABLE_PLUGIN_AUTOLOAD", "MAGFW_ZIP_PASSWORD"):
            mp.delenv(var, raising=False)
        mp.setenv("MAGFW_LOG", str(base / "magfw.log"))
        mp.chdir(base)
        for mission in HOOKS.registry:
            m.said[mission.id] = []
            sc = {"spacecraft": mission.default_spacecraft} if mission.spacecraft else {}
            data = {d.id for d in mission.products if d.format in DATA_FORMATS}
            for name, level in mission.levels.items():
                if not data & set(level.products):
                    continue  # a level of zips, reports or images only: no kind of the matrix
                period = PERIODS.get((mission.id, name), PERIOD)
                summary = run_level(
                    HOOKS, mission.id, name, period, base / mission.id, source="simulated", **sc
                )
                m.said[mission.id] += [f"{name}: {r.message}" for r in summary.results if r.status != "ok"]
    with m.stack:
        yield m


def _kind_ids(d: ProductDefinition) -> str:
    return d.key


def _units(d: ProductDefinition, files: list[Path]) -> list[Path]:
    """Three files (units) of one series of a kind (the same name fields but dates and
    version: one spacecraft, frame, burst mode...), or all there are."""
    dates = {"yyyy", "yy", "mm", "mmm", "dd", "doy", "hh", "mi", "ss", "ms", d.version.field}
    series: dict[tuple, list[Path]] = {}
    for path in files:
        fields = d.filename.parse(path.name) or d.filename.parse(path.as_posix()) or {}
        key = tuple(sorted((k, str(v)) for k, v in fields.items() if k not in dates))
        series.setdefault(key, []).append(path)
    return max(series.values(), key=len)[:3]


def _dataset_values(ds, d: ProductDefinition, name: str) -> np.ndarray:
    """The values the engine gives for definition variable ``name`` (its own, or its column of
    a declared vector)."""
    if name in ds:
        return np.asarray(ds[name].values, dtype=np.float64)
    vec = d.variable(name).attrs.get("vector")
    assert isinstance(vec, list), f"{name} is neither a dataset variable nor a declared component"
    comps = list(ds[vec[0]].attrs["components"])
    return np.asarray(ds[vec[0]].values[:, comps.index(vec[1])], dtype=np.float64)


def _assert_equal_to(ds, d: ProductDefinition, ref: Independent, where: str) -> None:
    dt = np.abs(ds["time"].values.astype("datetime64[ns]") - ref.time)
    assert dt.max() <= TIME_TOLERANCE, f"{where}: times differ by {dt.max()}"
    for name, raw in ref.raw.items():
        want = raw.astype(np.float64)
        want[ref.fill[name]] = np.nan
        got = _dataset_values(ds, d, name)
        assert got.shape == want.shape, (where, name, got.shape, want.shape)
        np.testing.assert_array_equal(got, want, err_msg=f"{where}: {name}")


# ------------------------------------------------------------------------------- the matrix


@pytest.mark.slow
@pytest.mark.parametrize("d", KINDS, ids=_kind_ids)
def test_opens_with_the_engine_equal_to_an_independent_reader(matrix, d):
    with using_hooks(HOOKS):
        for path in _units(d, matrix.files(d)):
            ref = read_independently(path, d)
            assert ref.raw, f"{path.name}: the independent reader found none of the data variables"
            with xr.open_dataset(path, engine="magfw") as ds:
                assert ds.attrs["magfw_definition"] == d.key
                _assert_equal_to(ds, d, ref, path.name)


@pytest.mark.slow
@pytest.mark.parametrize("d", KINDS, ids=_kind_ids)
def test_open_mfdataset_over_three_units_inside_with(matrix, d):
    files = _units(d, matrix.files(d))
    refs = [read_independently(p, d) for p in files]
    with using_hooks(HOOKS):
        opts = {"combine": "nested", "concat_dim": "time", "data_vars": "minimal", "compat": "override"}
        with xr.open_mfdataset(files, engine="magfw", coords="minimal", **opts) as ds:
            assert ds.sizes["time"] == sum(r.time.size for r in refs)
            whole = Independent(
                np.concatenate([r.time for r in refs]),
                {k: np.concatenate([r.raw[k] for r in refs]) for k in refs[0].raw},
                {k: np.concatenate([r.fill[k] for r in refs]) for k in refs[0].raw},
            )
            _assert_equal_to(ds.load(), d, whole, f"{len(files)} units of {d.key}")


@pytest.mark.slow
@pytest.mark.parametrize("d", KINDS, ids=_kind_ids)
def test_to_netcdf_round_trip(matrix, d, tmp_path):
    path = matrix.files(d)[0]
    with using_hooks(HOOKS), xr.open_dataset(path, engine="magfw") as ds:
        ds.to_netcdf(tmp_path / "back.nc")
        with xr.open_dataset(tmp_path / "back.nc") as back:
            assert set(back.data_vars) == set(ds.data_vars)
            np.testing.assert_array_equal(back["time"].values, ds["time"].values)
            for name in ds.data_vars:
                np.testing.assert_array_equal(back[name].values, ds[name].values, err_msg=name)
                assert back[name].attrs.get("units") == ds[name].attrs.get("units"), name
            assert back.attrs["magfw_definition"] == d.key


@pytest.mark.slow
@pytest.mark.parametrize("d", KINDS, ids=_kind_ids)
def test_magfw_check_accepts_it(matrix, d):
    from magfw.tools.check import check_file, format_report

    for path in _units(d, matrix.files(d)):
        report = check_file(path, HOOKS.registry.definitions())
        assert report.ok and report.definition == d.key, format_report(report)


@pytest.mark.slow
@pytest.mark.parametrize("d", KINDS, ids=_kind_ids)
def test_magfw_plot_draws_the_declared_panels(matrix, d, tmp_path):
    from magfw.tools.plot import figure
    from magfw.tools.quicklook import cadence_text, quicklook_spec

    assert d.quicklook is not None, f"{d.key} declares no quicklook panels"
    path = matrix.files(d)[0]
    res = run_cli(["plot", str(path), "-o", str(tmp_path / "q.png")], HOOKS)
    assert res.exit_code == 0, res.stderr
    assert (tmp_path / "q.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with using_hooks(HOOKS):
        spec = quicklook_spec(path, definition=d)
    assert len(spec.panels) == len(d.quicklook.panels)
    mission = HOOKS.registry.get(d.mission)
    for word in (mission.title, d.key, "SIMULATED"):
        assert word in spec.title, (word, spec.title)
    assert "  ·  V" in spec.title or d.version.field not in d.filename.fields, spec.title
    if "sc" in d.filename.fields:
        assert "spacecraft A" in spec.title, spec.title
    if d.cadence_s:
        assert cadence_text(d.cadence_s) in spec.title, spec.title
        steps = np.diff(np.asarray(spec.time, dtype=np.int64)) / 1e9
        assert np.median(steps) == pytest.approx(d.cadence_s, rel=0.01), "the title's cadence is the data's"
    for i, panel in enumerate(spec.panels):
        values = np.concatenate([np.asarray(v, dtype=np.float64) for v in panel.series.values()])
        finite = values[np.isfinite(values)]
        assert finite.size and finite.min() < finite.max(), f"panel {i} ({panel.ylabel!r}) is constant"
    assert overlaps(figure(spec)) == []


def _hapi_dataset(d: ProductDefinition, path: Path, tree: Path) -> str:
    """The HAPI dataset id serving ``path`` (its definition, spacecraft and choice fields)."""
    from magfw.serve.datasets import build_catalog

    fields = d.filename.parse(path.relative_to(tree).as_posix()) or {}
    for dataset_id, ds in build_catalog(list(HOOKS.registry)).items():
        if ds.definition.key == d.key and all(str(fields.get(k)) == v for k, v in ds.given):
            return dataset_id
    raise AssertionError(f"{d.key}: no HAPI dataset serves {path.name}")


@pytest.mark.slow
@pytest.mark.parametrize("d", KINDS, ids=_kind_ids)
def test_over_hapi_with_hapiclient_equal_to_the_file(matrix, d, tmp_path):
    from hapiclient import hapi

    path = matrix.files(d)[0]
    ref = read_independently(path, d)
    url = matrix.server(d)
    dataset = _hapi_dataset(d, path, matrix.tree(d))
    start = str(ref.time[0].astype("datetime64[ms]")) + "Z"
    stop = str((ref.time[-1] + np.timedelta64(1, "ms")).astype("datetime64[ms]")) + "Z"
    opts = {
        "format": "binary",
        "cache": False,
        "usecache": False,
        "cachedir": str(tmp_path),
        "logging": False,
    }
    data, meta = hapi(url + "/hapi", dataset, "", start, stop, **opts)
    times = np.array(
        [t.decode().rstrip("Z") for t in data[meta["parameters"][0]["name"]]], dtype="datetime64[ns]"
    )
    inside = (ref.time >= np.datetime64(start.rstrip("Z"))) & (ref.time < np.datetime64(stop.rstrip("Z")))
    assert times.size == inside.sum(), (
        f"{dataset}: {times.size} records over HAPI, the file has {inside.sum()}"
    )
    assert np.abs(times - ref.time[inside]).max() <= HAPI_TIME_TOLERANCE
    served = {p["name"] for p in meta["parameters"]}
    for v in data_variables(d):
        if v.name not in ref.raw or v.name not in served:
            continue
        got = np.asarray(data[v.name], dtype=np.float64).reshape(ref.raw[v.name][inside].shape)
        want = ref.raw[v.name][inside].astype(np.float64)
        fill = ref.fill[v.name][inside]
        np.testing.assert_array_equal(got[~fill], want[~fill], err_msg=f"{dataset} {v.name}")
        param = next(p for p in meta["parameters"] if p["name"] == v.name)
        if fill.any() and param.get("fill") is not None:
            np.testing.assert_allclose(
                got[fill], float(param["fill"]), rtol=1e-6, err_msg=f"{dataset} {v.name} fill"
            )


def test_every_kind_is_in_the_matrix_and_declares_its_panels():
    """The matrix is the registry's: every data kind of every installed mission (and the
    template plugin's) is a case, and each declares the panels ``magfw plot`` draws."""
    missions = {d.mission for d in KINDS}
    assert missions == {"stereo", "plastic", "aditya", "example"}
    assert [d.key for d in KINDS if d.quicklook is None] == []
