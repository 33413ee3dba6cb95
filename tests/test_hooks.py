"""One test per hook and per step (tests/test_docs.py checks every hook has a
``test_hook_<name>`` and every step a ``test_step_<name>``).

Each step test checks the value the step produced, not only that it ran.
"""

import json
from pathlib import Path

import pytest
import typer
from toyplugin import Toy
from typer.testing import CliRunner

from magfw.api import Level, Mission, PluginError, hookimpl, parse_period
from magfw.testing import make_hooks, run_cli, run_level

PIPELINE = ["read", "calibrate", "correct", "transform", "average", "quality"]


@pytest.fixture
def toy():
    return Toy()


@pytest.fixture
def hooks(toy):
    return make_hooks(toy, names=["toy"])


def _product(out: Path, day: str = "20240101", version: int = 0) -> dict:
    return json.loads((out / f"toy/TOY_{day}_V{version:02d}.json").read_text())


def test_hook_magfw_register_missions(hooks, toy):
    mission = hooks.registry.get("toy")
    assert mission.plugin == "toy" and list(mission.levels) == ["l1"]
    assert toy.calls == ["register_missions"]


def test_hook_magfw_register_commands(toy):
    class WithCommand(Toy):
        @hookimpl
        def magfw_register_commands(self, app: typer.Typer) -> None:
            sub = typer.Typer(help="toy tools")

            @sub.command("hello")
            def hello(name: str) -> None:
                typer.echo(f"hello {name}")

            app.add_typer(sub, name="toytools")

    hooks = make_hooks(WithCommand("withcmd"))
    app = typer.Typer()
    hooks.register_commands(app)
    result = CliRunner().invoke(app, ["toytools", "hello", "world"])
    assert result.exit_code == 0 and result.output.strip() == "hello world"


def test_hook_magfw_simulate(hooks, toy, tmp_path):
    root = hooks.simulate("toy", parse_period("2024-01-01..2024-01-02"), tmp_path / "sim", None, 5)
    assert sorted(p.name for p in root.iterdir()) == ["20240101.txt", "20240102.txt"]
    assert (root / "20240101.txt").read_text().split()[0] == "5"


def test_step_fetch(hooks, toy, tmp_path):
    summary = run_level(hooks, "toy", "l1", "2024-01-01", tmp_path / "out")
    entry = summary.results[0].entry
    assert entry.inputs[0]["name"] == "20240101.txt" and len(entry.inputs[0]["sha256"]) == 64
    assert toy.calls.count("fetch") == 1


def test_step_fetch_skip_reason(hooks, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    summary = run_level(hooks, "toy", "l1", "2024-01-01", tmp_path / "out", source=str(empty))
    assert summary.results[0].status == "skipped" and "no file" in summary.results[0].message


def test_step_read(hooks, tmp_path):
    summary = run_level(hooks, "toy", "l1", "2024-01-01", tmp_path / "out")
    assert summary.vectors == 10  # read counts what it decoded
    assert _product(tmp_path / "out")["steps"][0] == "read"


def test_step_calibrate(hooks, tmp_path):
    run_level(hooks, "toy", "l1", "2024-01-01", tmp_path / "out", options={"gain": 2.0})
    # gain 2, then the transform's sign change: -(2 * (0..9))
    assert _product(tmp_path / "out")["values"] == [-2.0 * x for x in range(10)]


def test_step_correct(hooks, tmp_path):
    run_level(hooks, "toy", "l1", "2024-01-01", tmp_path / "out", options={"offset": 3.0})
    product = _product(tmp_path / "out")
    assert product["values"] == [-(x - 3.0) for x in range(10)]  # offset removed before transform
    assert product["steps"].index("correct") == 2


def test_step_transform(hooks, tmp_path):
    run_level(hooks, "toy", "l1", "2024-01-01", tmp_path / "out", options={"gain": 2.0, "offset": 1.0})
    product = _product(tmp_path / "out")
    assert product["values"] == [-(2.0 * x - 1.0) for x in range(10)]
    assert product["steps"].index("transform") == 3


def test_step_average(hooks, tmp_path):
    run_level(hooks, "toy", "l1", "2024-01-01", tmp_path / "out")
    assert _product(tmp_path / "out")["mean"] == pytest.approx(-4.5)


def test_step_quality(hooks, tmp_path):
    run_level(hooks, "toy", "l1", "2024-01-01", tmp_path / "out", options={"limit": 6.5})
    product = _product(tmp_path / "out")
    assert product["flagged"] == 3  # |-7|, |-8|, |-9|
    assert product["steps"] == PIPELINE  # all steps, in order


def test_step_write(hooks, tmp_path):
    summary = run_level(hooks, "toy", "l1", "2024-01-01", tmp_path / "out")
    (path,) = summary.results[0].outputs
    assert path == tmp_path / "out" / "toy/TOY_20240101_V00.json"
    assert _product(tmp_path / "out")["version"] == 0


def test_step_write_must_return_products(tmp_path):
    toy = Toy("silent")
    toy.level.write = lambda ctx, data: None  # type: ignore[method-assign]
    hooks = make_hooks(toy)
    summary = run_level(hooks, "silent", "l1", "2024-01-01", tmp_path / "out")
    assert summary.results[0].status == "failed"
    assert "step write returned nothing" in summary.results[0].message


def test_hook_magfw_product_written(tmp_path):
    seen: list[tuple[str, str, str, int]] = []

    class Watcher:
        @hookimpl
        def magfw_product_written(self, ctx, path, definition):
            seen.append((ctx.mission, ctx.unit.key, definition.id, path.stat().st_size))

    hooks = make_hooks(Toy(), Watcher(), names=["toy", "watcher"])
    summary = run_level(hooks, "toy", "l1", "2024-01-01..2024-01-02", tmp_path / "out")
    assert summary.ok
    sizes = [p.stat().st_size for p in summary.outputs]
    assert seen == [
        ("toy", "2024-01-01", "summary", sizes[0]),
        ("toy", "2024-01-02", "summary", sizes[1]),
    ]  # committed, in place


def test_hook_magfw_run_finished(tmp_path):
    got = []

    class Watcher:
        @hookimpl
        def magfw_run_finished(self, summary):
            got.append((summary.request.level, summary.count("ok"), [p.name for p in summary.outputs]))

    class Broken:
        @hookimpl
        def magfw_run_finished(self, summary):
            raise RuntimeError("mail server down")

    hooks = make_hooks(Toy(), Broken(), Watcher(), names=["toy", "broken", "watcher"])
    summary = run_level(hooks, "toy", "l1", "2024-01-01", tmp_path / "out")
    assert got == [("l1", 1, ["TOY_20240101_V00.json"])]  # called after the broken one too
    assert summary.ok and any("mail server down" in w for w in summary.warnings)


def test_level_options_reach_steps_through_cli(hooks, tmp_path):
    res = run_cli(
        [
            "run",
            "toy",
            "l1",
            "2024-01-01",
            "--source",
            "simulated",
            "--out",
            str(tmp_path / "o"),
            "--gain",
            "3",
        ],
        hooks,
    )
    assert res.exit_code == 0, res.stderr
    assert _product(tmp_path / "o")["mean"] == pytest.approx(-13.5)
    res = run_cli(["run", "toy", "l1", "2024-01-01", "--source", "simulated", "--colour", "x"], hooks)
    assert res.exit_code == 2 and "no such option --colour" in res.stderr


def test_plugin_error_class_is_one_line():
    err = PluginError(None, "a\nb")
    assert str(err) == "a b"


def test_a_failing_step_names_mission_level_step_and_plugin(tmp_path):
    toy = Toy("boom")

    def transform(ctx, data):
        raise ZeroDivisionError("division by zero")

    toy.level.transform = transform  # type: ignore[method-assign]
    summary = run_level(make_hooks(toy, names=["boomplugin"]), "boom", "l1", "2024-01-01", tmp_path / "out")
    (result,) = summary.results
    assert result.status == "failed" and "\n" not in result.message
    assert "boom l1: step transform of" in result.message
    assert "boomplugin" in result.message and "ZeroDivisionError" in result.message


def test_registering_unknown_product_in_level_fails():
    with pytest.raises(ValueError, match="unknown products"):
        Mission(id="m", title="M", levels={"l1": Level(name="l1", products=["nope"])})
