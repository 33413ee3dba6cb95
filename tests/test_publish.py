"""magfw publish: copy only what is newer, keep times, never delete."""

import os

from magfw.testing import run_cli


def test_publish_copies_only_newer_and_never_deletes(example_hooks, tmp_path):
    out, web = tmp_path / "out", tmp_path / "web"
    run_cli(["run", "example", "l1", "2024-03-01..2024-03-02", "--source", "simulated", "--out",
             str(out)], example_hooks)
    args = ["publish", "example", "l1", "2024-03-01..2024-03-03", "--to", str(web), "--out",
            str(out), "--format", "cdf"]
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
    res = run_cli(["publish", "example", "l1", "2024-03-01", "--to", str(tmp_path / "w"),
                   "--out", str(tmp_path / "empty")], example_hooks)
    assert res.exit_code == 1 and "no ledger here" in res.stderr
