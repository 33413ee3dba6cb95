"""magfw publish: copy only what is newer, keep times, never delete."""

import os

import pytest

from magfw.testing import run_cli


@pytest.mark.slow  # over half a second: the whole suite runs it
def test_publish_copies_only_newer_and_never_deletes(example_hooks, tmp_path):
    out, web = tmp_path / "out", tmp_path / "web"
    run_cli(
        ["run", "example", "l1", "2024-03-01..2024-03-02", "--source", "simulated", "--out", str(out)],
        example_hooks,
    )
    args = [
        "publish",
        "example",
        "l1",
        "2024-03-01..2024-03-03",
        "--to",
        str(web),
        "--out",
        str(out),
        "--format",
        "cdf",
    ]
    res = run_cli(args, example_hooks)
    assert res.exit_code == 0, res.stderr
    assert "copied 2 files" in res.stdout and "2024-03-03" in res.stderr  # not processed yet
    (src,) = out.rglob("EXAMPLE_L1_MAG_20240301_V00.cdf")
    dst = web / src.relative_to(out)
    assert dst.read_bytes() == src.read_bytes()
    assert dst.stat().st_mtime_ns == src.stat().st_mtime_ns  # times preserved (cp -p)

    extra = web / "example" / "keep-me.txt"
    extra.write_text("published by someone else")
    res = run_cli(args, example_hooks)
    assert "copied 0 files, 2 already up to date" in res.stdout
    assert extra.exists()  # never deletes

    later = src.stat().st_mtime + 100
    os.utime(src, (later, later))
    res = run_cli(args, example_hooks)
    assert "copied 1 files" in res.stdout and dst.stat().st_mtime == later


def test_publish_without_a_ledger_is_one_line_error(example_hooks, tmp_path):
    res = run_cli(
        [
            "publish",
            "example",
            "l1",
            "2024-03-01",
            "--to",
            str(tmp_path / "w"),
            "--out",
            str(tmp_path / "empty"),
        ],
        example_hooks,
    )
    assert res.exit_code == 1 and "no ledger here" in res.stderr


def test_default_publishes_flat_files_and_declared_layouts(tmp_path):
    """Without --format: the level's products whose definitions declare a ``publish`` folder
    go there (Aditya, tests/test_aditya_calibration.py), a level without any publishes its flat
    files at their tree paths, as before (STEREO)."""
    from magfw.api import shipped_definitions

    defs = {d.id: d for d in shipped_definitions("stereo")}
    assert all(d.publish is None for d in defs.values())
    aditya = {d.id: d for d in shipped_definitions("aditya")}
    assert (
        aditya["l2"].publish_path("L2_AL1_MAG_20240801_V10.nc")
        == "mag/level2/2024/08/01/L2_AL1_MAG_20240801_V10.nc"
    )
    l1 = "L1_MAG91N18P1AL10017109024026100025140104_N00_0000_000842_V00.nc"
    assert aditya["l1"].publish_path(l1) == f"mag/level1/2026/04/N00_0000/{l1}"
    assert aditya["l2_metadata"].publish is None  # the provenance XML is not delivered
    # the layout is not part of a product's identity: no regeneration when it changes
    moved = aditya["l2"].model_copy(update={"publish": "elsewhere/{yyyy}"})
    assert moved.digest() == aditya["l2"].digest()
    from magfw.errors import DefinitionError

    with pytest.raises(DefinitionError, match="cannot be filled"):
        aditya["l2"].model_copy(update={"publish": "{nope}"}).publish_path("L2_AL1_MAG_20240801_V10.nc")


@pytest.mark.slow
def test_publish_stereo_l1_flat_files(tmp_path):
    import magfw_stereo.plugin as stereo_plugin
    from magfw.testing import make_hooks

    hooks = make_hooks(stereo_plugin)
    out, web = tmp_path / "out", tmp_path / "web"
    res = run_cli(
        ["run", "stereo", "l1", "2024-01-01", "-s", "A", "--source", "simulated", "--out", str(out)], hooks
    )
    assert res.exit_code == 0, res.stderr
    res = run_cli(
        ["publish", "stereo", "l1", "2024-01-01", "-s", "A", "--to", str(web), "--out", str(out)], hooks
    )
    assert res.exit_code == 0, res.stderr
    copied = sorted(p.relative_to(web).as_posix() for p in web.rglob("*") if p.is_file())
    assert copied and all(p.endswith((".ffh", ".ffd")) for p in copied)
    assert all((out / p).read_bytes() == (web / p).read_bytes() for p in copied)
