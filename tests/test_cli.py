"""The command line: exit codes 0/1/2, one-line errors, nothing partial left behind."""

import functools
import http.server
import threading
from datetime import date
from pathlib import Path

import pytest

from magfw.period import parse_period
from magfw.testing import run_cli


def _files(out: Path) -> list[Path]:
    """Product files in an output tree (the .magfw state folder aside)."""
    return sorted(p for p in out.rglob("*") if p.is_file() and ".magfw" not in p.parts)


def _one_error_line(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.startswith("magfw:")]
    assert lines, stderr
    return lines[0]


def test_help_missions_plugins():
    res = run_cli(["--help"])
    assert res.exit_code == 0 and "run" in res.stdout and "missions" in res.stdout
    res = run_cli(["missions"])
    assert res.exit_code == 0 and "stereo" in res.stdout and "aditya" in res.stdout
    res = run_cli(["plugins"])
    assert res.exit_code == 0 and "magfw_register_missions" in res.stdout
    # each plugin's levels under it: the level object's class and the steps it implements
    assert "stereo l1 (day) magfw_stereo.l1.L1: fetch, read, correct, transform, average, write" in res.stdout
    assert "aditya monitor (month) magfw_aditya.monitor.Monitor: fetch, read, quality, write" in res.stdout
    assert run_cli(["--version"]).stdout.startswith("magfw ")


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["run", "nope", "l1", "2024-01"], "unknown mission 'nope'"),
        (["run", "stereo", "l9", "2024-01"], "no level 'l9'"),
        (["run", "stereo", "l1", "2024-13"], "PERIOD '2024-13'"),
        (["run", "stereo", "l1", "2024-01", "--spacecraft", "C"], "no spacecraft 'C'"),
        (["run", "aditya", "l1"], "needs a PERIOD"),
        (["run", "stereo"], "Missing argument"),
        (["frobnicate"], "No such command"),
    ],
)
def test_usage_errors_exit_2(args, text):
    res = run_cli(args)
    assert res.exit_code == 2, res
    assert text in res.stderr


def test_unimplemented_level_exits_1():
    from magfw import hookimpl
    from magfw.plugin.mission import Level, Mission
    from magfw.testing import make_hooks

    class Shell:
        @hookimpl
        def magfw_register_missions(self, registry):
            registry.add(
                Mission(id="shell", title="Shell", levels={"l1": Level(name="l1")})
            )  # a level without a level object

    res = run_cli(["run", "shell", "l1", "2024-08-01", "--source", "simulated"], make_hooks(Shell()))
    assert res.exit_code == 1
    assert _one_error_line(res.stderr) == "magfw: error: shell l1: not implemented yet"


def test_plugin_warnings_reach_the_terminal_as_one_line_each(monkeypatch, tmp_path):
    """A broken plugin outside strict mode: one warning line, and every command works."""
    import magfw_example.plugin  # noqa: F401  (importable: the session's example plugin)

    monkeypatch.setenv("MAGFW_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("MAGFW_PLUGINS", "magfw_example.plugin,no_such_plugin_module")
    from magfw.plugin import manager as plugins

    monkeypatch.setattr(plugins, "_cached", None)
    res = run_cli(["missions"])
    assert res.exit_code == 0 and "example" in res.stdout
    lines = [ln for ln in res.stderr.splitlines() if "no_such_plugin_module" in ln]
    assert len(lines) == 1 and lines[0].startswith("magfw: warning: plugin 'no_such_plugin_module'")


@pytest.mark.slow  # over half a second: the whole suite runs it
def test_run_simulated_then_rerun_skips(example_hooks, tmp_path):
    args = ["run", "example", "l1", "2024-03-01..2024-03-02", "--source", "simulated", "--out", str(tmp_path)]
    res = run_cli(args, example_hooks)
    assert res.exit_code == 0, res.stderr
    assert "2 ok, 0 failed, 0 skipped" in res.stdout and "vectors/s" in res.stdout
    res = run_cli(args, example_hooks)
    assert res.exit_code == 0 and "0 ok, 0 failed, 2 skipped" in res.stdout


def test_dry_run_writes_nothing(example_hooks, tmp_path):
    res = run_cli(
        ["run", "example", "l1", "2024-03", "--source", "simulated", "--out", str(tmp_path), "--dry-run"],
        example_hooks,
    )
    assert res.exit_code == 0 and "dry run: 31 would run, 0 unchanged" in res.stdout
    assert _files(tmp_path) == []


def _simulate(hooks, root: Path, period: str) -> None:
    hooks.simulate("example", parse_period(period), root, None, 0)


def test_missing_day_fails_that_unit_only(example_hooks, tmp_path):
    archive = tmp_path / "archive"
    _simulate(example_hooks, archive, "2024-03-01..2024-03-03")
    (archive / "raw/2024/EXAMPLE_RAW_20240302.dat").unlink()
    res = run_cli(
        [
            "run",
            "example",
            "l1",
            "2024-03-01..2024-03-03",
            "--source",
            str(archive),
            "--out",
            str(tmp_path / "out"),
        ],
        example_hooks,
    )
    assert res.exit_code == 1
    line = _one_error_line(res.stderr)
    assert "EXAMPLE_RAW_20240302.dat" in line and "no raw file" in line
    assert [p.name for p in _files(tmp_path / "out")] == [
        "EXAMPLE_L1_MAG_20240301_V00.cdf",
        "EXAMPLE_L1_MAG_20240303_V00.cdf",
    ]


def test_truncated_input_fails_cleanly_and_input_untouched(example_hooks, tmp_path):
    archive = tmp_path / "archive"
    _simulate(example_hooks, archive, "2024-03-01")
    raw = archive / "raw/2024/EXAMPLE_RAW_20240301.dat"
    raw.write_bytes(raw.read_bytes()[:-7])
    before = raw.read_bytes()
    res = run_cli(
        ["run", "example", "l1", "2024-03-01", "--source", str(archive), "--out", str(tmp_path / "out")],
        example_hooks,
    )
    assert res.exit_code == 1
    assert "truncated" in _one_error_line(res.stderr) and str(raw) in res.stderr
    assert _files(tmp_path / "out") == [] and raw.read_bytes() == before
    assert "Traceback" not in res.stderr


def test_bad_calibration_table(example_hooks, tmp_path):
    archive = tmp_path / "archive"
    _simulate(example_hooks, archive, "2024-03-01")
    (archive / "cal/EXAMPLE_CAL_V02.txt").write_text("0.01 1 2\n")  # highest version wins, and is bad
    res = run_cli(
        ["run", "example", "l1", "2024-03-01", "--source", str(archive), "--out", str(tmp_path / "out")],
        example_hooks,
    )
    assert res.exit_code == 1
    assert "EXAMPLE_CAL_V02.txt: bad calibration table" in _one_error_line(res.stderr)


class _Handler(http.server.SimpleHTTPRequestHandler):
    broken: set[str] = set()

    def log_message(self, *args):  # keep test output quiet
        pass

    def do_GET(self):
        if any(b in self.path for b in self.broken):
            self.send_error(500, "Internal Server Error")
            return
        super().do_GET()

    def do_HEAD(self):
        if any(b in self.path for b in self.broken):
            self.send_error(500, "Internal Server Error")
            return
        super().do_HEAD()


@pytest.fixture
def http_archive(example_hooks, tmp_path):
    root = tmp_path / "served"
    _simulate(example_hooks, root, "2024-03-01..2024-03-02")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Handler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    _Handler.broken = set()


def test_run_from_http_archive(example_hooks, http_archive, tmp_path):
    res = run_cli(
        [
            "run",
            "example",
            "l1",
            "2024-03-01..2024-03-02",
            "--source",
            http_archive,
            "--out",
            str(tmp_path / "out"),
        ],
        example_hooks,
    )
    assert res.exit_code == 0, res.stderr
    assert len(_files(tmp_path / "out")) == 2


@pytest.mark.slow  # three attempts with back-off (2 s)
def test_http_500_fails_that_unit_with_one_line(example_hooks, http_archive, tmp_path):
    _Handler.broken = {"EXAMPLE_RAW_20240302"}
    res = run_cli(
        [
            "run",
            "example",
            "l1",
            "2024-03-01..2024-03-02",
            "--source",
            http_archive,
            "--out",
            str(tmp_path / "out"),
        ],
        example_hooks,
    )
    assert res.exit_code == 1
    line = _one_error_line(res.stderr)
    assert "EXAMPLE_RAW_20240302.dat" in line and "500" in line
    assert [p.name for p in _files(tmp_path / "out")] == ["EXAMPLE_L1_MAG_20240301_V00.cdf"]
    cache = tmp_path / "out" / ".magfw" / "cache"
    assert not [p for p in cache.rglob("*") if "EXAMPLE_RAW_20240302" in p.name]  # no partial download


def test_check_reports_problems_and_exits_1(example_hooks, tmp_path):
    run_cli(
        ["run", "example", "l1", "2024-03-01", "--source", "simulated", "--out", str(tmp_path)], example_hooks
    )
    (good,) = tmp_path.rglob("EXAMPLE_L1_MAG_20240301_V00.cdf")
    assert run_cli(["check", str(good)], example_hooks).exit_code == 0
    renamed = good.with_name("EXAMPLE_L1_MAG_2024031_V00.cdf")
    renamed.write_bytes(good.read_bytes())
    res = run_cli(["check", str(renamed)], example_hooks)
    assert res.exit_code == 1 and "does not match any product definition" in res.stdout
    truncated = good.with_name("EXAMPLE_L1_MAG_20240302_V00.cdf")
    truncated.write_bytes(good.read_bytes()[:5000])
    res = run_cli(["check", str(truncated)], example_hooks)
    assert res.exit_code == 1 and "not a readable CDF" in res.stdout


def test_plot_missing_and_truncated_files(example_hooks, tmp_path):
    res = run_cli(["plot", str(tmp_path / "nope.cdf")], example_hooks)
    assert res.exit_code == 1 and "nope.cdf" in _one_error_line(res.stderr)
    bad = tmp_path / "bad.cdf"
    bad.write_bytes(b"\xcd\xf3\x00\x01" + b"\0" * 100)
    res = run_cli(["plot", str(bad), "-o", str(tmp_path / "bad.png")], example_hooks)
    assert res.exit_code == 1 and "bad.cdf" in _one_error_line(res.stderr)
    assert not (tmp_path / "bad.png").exists()


def test_plot_quicklook(example_hooks, tmp_path):
    run_cli(
        ["run", "example", "l1", "2024-03-01", "--source", "simulated", "--out", str(tmp_path)], example_hooks
    )
    (good,) = tmp_path.rglob("EXAMPLE_L1_MAG_20240301_V00.cdf")
    res = run_cli(["plot", str(good), "-o", str(tmp_path / "q.png")], example_hooks)
    assert res.exit_code == 0, res.stderr
    assert (tmp_path / "q.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow  # over half a second: the whole suite runs it
def test_plot_never_writes_a_product(example_hooks, tmp_path, monkeypatch):
    """Without -o the quicklook is ./<name>.quicklook.png (no product is named so); an -o
    naming the plotted file or a product the tree's ledger records is refused, exit 2, and the
    product is left byte-identical."""
    out = tmp_path / "tree"
    run_cli(
        ["run", "example", "l1", "2024-03-01..2024-03-02", "--source", "simulated", "--out", str(out)],
        example_hooks,
    )
    (good,) = out.rglob("EXAMPLE_L1_MAG_20240301_V00.cdf")
    (other,) = out.rglob("EXAMPLE_L1_MAG_20240302_V00.cdf")
    before = good.read_bytes()
    monkeypatch.chdir(good.parent)
    res = run_cli(["plot", str(good)], example_hooks)
    assert res.exit_code == 0, res.stderr
    assert (good.parent / "EXAMPLE_L1_MAG_20240301_V00.quicklook.png").read_bytes()[:4] == b"\x89PNG"
    others = other.read_bytes()
    for target in (good, other):
        res = run_cli(["plot", str(good), "-o", str(target)], example_hooks)
        assert res.exit_code == 2 and target.name in _one_error_line(res.stderr)
    assert "ledger" in _one_error_line(res.stderr)
    assert good.read_bytes() == before and other.read_bytes() == others


def test_sources_by_role(tmp_path, monkeypatch):
    from magfw.config import MissionSettings, resolve_sources
    from magfw.errors import UsageError

    none = MissionSettings()
    assert resolve_sources(["/a"], none, "m") == ("/a", {})
    assert resolve_sources(["/a", "spice=https://x/y", "offsets=/o"], none, "m") == (
        "/a",
        {"spice": "https://x/y", "offsets": "/o"},
    )
    # roles only: the first is also the default; a URL is never taken for a role
    assert resolve_sources(["berkeley=/b", "spice=/s"], none, "m") == (
        "/b",
        {"berkeley": "/b", "spice": "/s"},
    )
    assert resolve_sources(["https://host/x=1"], none, "m") == ("https://host/x=1", {})
    configured = MissionSettings(source="/conf", sources={"spice": "/conf-spice"})
    assert resolve_sources(["spice=/cli"], configured, "m") == ("/conf", {"spice": "/cli"})
    with pytest.raises(UsageError, match="more than one --source without a role"):
        resolve_sources(["/a", "/b"], none, "m")

    class Named(MissionSettings):
        source_roles = ("spice", "berkeley")

    with pytest.raises(UsageError, match=r"reads no source role 'spcie' .*did you mean 'spice'"):
        resolve_sources(["spcie=/s"], Named(), "m")


def test_a_level_reads_its_sources_by_role(tmp_path):
    from toyplugin import Toy, ToyL1

    from magfw.api import InputFile, Inputs, hookimpl
    from magfw.testing import make_hooks

    class TwoSources(ToyL1):
        @hookimpl
        def fetch(self, ctx):
            main = ctx.archive.get(f"{ctx.day:%Y%m%d}.txt")
            extra = ctx.archive_for("extra").get("extra.txt")
            return Inputs(
                files=[InputFile.from_fetched(main, "data"), InputFile.from_fetched(extra, "calibration")]
            )

    toy = Toy("roles")
    toy.level = TwoSources(toy)
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "20240101.txt").write_text("1 2 3")
    (b / "extra.txt").write_text("x")
    res = run_cli(
        [
            "run",
            "roles",
            "l1",
            "2024-01-01",
            "--source",
            str(a),
            "--source",
            f"extra={b}",
            "--out",
            str(tmp_path / "out"),
        ],
        make_hooks(toy),
    )
    assert res.exit_code == 0, res.stdout + res.stderr
    (a / "20240102.txt").write_text("1 2 3")
    res = run_cli(
        ["run", "roles", "l1", "2024-01-02", "--source", str(a), "--out", str(tmp_path / "out")],
        make_hooks(toy),
    )
    assert res.exit_code == 1 and "a/extra.txt" in res.stderr  # no role: the default archive


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["--source", "/no/such/archive"], "--source /no/such/archive: no such directory"),
        (["--source", "ftp://host/x"], "unsupported URL scheme"),
        (["--source", "spice=/no/such/kernels", "--source", "simulated"], "--source spice="),
        (["--source", "simulated", "--out", "FILE"], "--out is a file"),
    ],
)
def test_usage_problems_exit_2_before_anything_is_written(args, text, example_hooks, tmp_path):
    out = tmp_path / "out"
    args = [a if a != "FILE" else str(tmp_path / "afile") for a in args]
    (tmp_path / "afile").write_text("not a tree")
    if "--out" not in args:
        args += ["--out", str(out)]
    res = run_cli(["run", "example", "l1", "2024-03-01", *args], example_hooks)
    assert res.exit_code == 2, res.stdout + res.stderr
    assert text in _one_error_line(res.stderr)
    assert not out.exists()  # no output tree, no log inside it
    assert (tmp_path / "afile").read_text() == "not a tree"


def test_check_on_a_missing_path_says_so(tmp_path):
    res = run_cli(["check", str(tmp_path / "nope.cdf")])
    assert res.exit_code == 1 and "no such file" in res.stdout


def test_run_without_period_uses_the_levels_default_period(tmp_path, monkeypatch):
    """A level with a DefaultPeriod runs without PERIOD (its lag settable in magfw.toml); a
    level without one says a PERIOD is needed (exit 2)."""
    from toyplugin import Toy

    from magfw import period
    from magfw.testing import make_hooks

    monkeypatch.setattr(period, "utc_today", lambda: date(2024, 3, 15))
    toy = Toy("lagged")
    hooks = make_hooks(toy)
    res = run_cli(
        ["run", "lagged", "l1", "--source", "simulated", "--out", str(tmp_path / "o"), "--dry-run"], hooks
    )
    assert res.exit_code == 2 and "needs a PERIOD" in res.stderr
    mission = hooks.registry.get("lagged")
    lvl = mission.levels["l1"]
    mission.levels["l1"] = lvl.model_copy(update={"default_period": period.DefaultPeriod("month", 2)})
    res = run_cli(
        ["run", "lagged", "l1", "--source", "simulated", "--out", str(tmp_path / "o"), "--dry-run"], hooks
    )
    assert res.exit_code == 0, res.stderr
    assert "no PERIOD given: lagged l1 2024-01 (the current month minus 2)" in res.stdout
    assert "dry run: 31 would run" in res.stdout
    monkeypatch.chdir(tmp_path)
    (tmp_path / "magfw.toml").write_text("[missions.lagged.default_period]\nl1 = 3\n")
    res = run_cli(
        ["run", "lagged", "l1", "--source", "simulated", "--out", str(tmp_path / "o"), "--dry-run"], hooks
    )
    assert res.exit_code == 0, res.stderr
    assert (
        "lagged l1 2023-12 (the current month minus 3 ([missions.lagged.default_period] l1 = 3))"
        in res.stdout
    )
    (tmp_path / "magfw.toml").write_text("[missions.lagged.default_period]\nl1 = -1\n")
    res = run_cli(["run", "lagged", "l1", "--source", "simulated", "--dry-run"], hooks)
    assert (
        res.exit_code == 2
        and "line 2: [missions.lagged.default_period] l1: must be >= 0, not -1" in res.stderr
    )
