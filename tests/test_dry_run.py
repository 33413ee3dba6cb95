"""``magfw run --dry-run``: what a run would do, and why, unit by unit (fetched and compared
with the ledger through ``versioning.decide``), with nothing processed and nothing written into
the output tree (no staging, no ledger row, no lock, no cache file, no log, no simulation).

The example plugin (``magfw new-plugin example``) served over HTTP on loopback (the PLASTIC
"check the site" step: what is new there), and STEREO L1 on its simulated archive (slow): a new
Berkeley version of one day names that day and that file; the others are unchanged.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from magfw.engine.ledger import Ledger
from magfw.engine.versioning import decide, explain
from magfw.period import parse_period
from magfw.testing import make_hooks, run_cli


def snapshot(root: Path) -> dict[str, tuple[str, int, int]]:
    """Every file and folder under ``root``: kind or SHA-256, size, modification time (ns)."""
    out = {}
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        kind = "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
        out[p.relative_to(root).as_posix()] = (kind, st.st_size if kind != "dir" else 0, st.st_mtime_ns)
    return out


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output quiet
        pass


@pytest.fixture
def served(example_hooks, tmp_path) -> Iterator[tuple[str, Path]]:
    """The example archive of 2024-03-01..03 on an HTTP server on loopback: (URL, folder)."""
    root = tmp_path / "site"
    example_hooks.simulate("example", parse_period("2024-03-01..2024-03-03"), root, None, 0)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", root
    server.shutdown()
    server.server_close()


def run(hooks, url: str, out: Path, *more: str):
    return run_cli(
        ["run", "example", "l1", "2024-03-01..2024-03-03", "--source", url, "--out", str(out), *more], hooks
    )


def rows(stdout: str) -> dict[str, str]:
    """The dry-run table's rows: unit -> the rest of its line(s), joined."""
    found: dict[str, str] = {}
    last = None
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.strip("│┃").split("│")]
        if len(cells) == 3 and cells[0][:4].isdigit():
            last = cells[0]
            found[last] = f"{cells[1]} {cells[2]}"
        elif len(cells) == 3 and last and not cells[0] and cells[2]:
            found[last] += f" {cells[2]}"
    return found


@pytest.mark.slow  # over half a second: the whole suite runs it
def test_a_dry_run_over_http_names_the_changed_day_and_writes_nothing(
    example_hooks, served, tmp_path, monkeypatch
):
    url, site = served
    out = tmp_path / "out"
    res = run(example_hooks, url, out)
    assert res.exit_code == 0, res.stderr
    before = snapshot(out)
    log = tmp_path / "outside.log"
    monkeypatch.setenv("MAGFW_LOG", str(log))

    res = run(example_hooks, url, out, "--dry-run")
    assert res.exit_code == 0, res.stderr
    table = rows(res.stdout)
    assert len(table) == 3 and all(v.startswith("unchanged unchanged since ") for v in table.values()), table
    assert "dry run: 0 would run, 3 unchanged, 0 would be skipped, 0 would fail" in res.stdout

    # the site gets a new raw file for the 2nd: that day would run, and says why
    raw = site / "raw" / "2024" / "EXAMPLE_RAW_20240302.dat"
    raw.write_bytes(raw.read_bytes() * 2)  # (the cache knows a copy by its size: a new size)
    res = run(example_hooks, url, out, "--dry-run")
    assert res.exit_code == 0, res.stderr
    table = rows(res.stdout)
    assert table["2024-03-02"] == "run changed input EXAMPLE_RAW_20240302.dat (new content)"
    assert table["2024-03-01"].startswith("unchanged") and table["2024-03-03"].startswith("unchanged")
    assert "dry run: 1 would run, 2 unchanged" in res.stdout

    # a new calibration table version: every day would run, naming it
    cal = next((site / "cal").glob("EXAMPLE_CAL_V*.txt"))
    shutil.copy(cal, site / "cal" / "EXAMPLE_CAL_V09.txt")
    res = run(example_hooks, url, out, "--dry-run")
    table = rows(res.stdout)
    assert all("new calibration version EXAMPLE_CAL_V09.txt (was " in v for v in table.values()), table
    assert snapshot(out) == before  # no cache file, ledger row, lock, staging or log in the tree
    assert log.is_file()  # the log went outside the tree

    res = run(example_hooks, url, out)  # the real run does what the dry run said
    assert res.exit_code == 0 and "3 ok" in res.stdout, res.stdout


def test_a_dry_run_of_a_new_tree_says_never_processed_and_creates_nothing(example_hooks, served, tmp_path):
    url, _ = served
    out = tmp_path / "never"
    res = run(example_hooks, url, out, "--dry-run")
    assert res.exit_code == 0, res.stderr
    assert set(rows(res.stdout).values()) == {"run never processed"}
    assert not out.exists()


def test_a_unit_whose_input_is_missing_would_fail_with_its_line(example_hooks, served, tmp_path):
    url, site = served
    (site / "raw" / "2024" / "EXAMPLE_RAW_20240303.dat").unlink()
    res = run(example_hooks, url, tmp_path / "out", "--dry-run")
    assert res.exit_code == 0, res.stderr
    assert rows(res.stdout)["2024-03-03"].startswith("fail ")
    assert "no raw file for this day" in res.stdout and "1 would fail" in res.stdout


def test_simulated_sources_are_not_simulated_by_a_dry_run(example_hooks, tmp_path):
    out = tmp_path / "sim"
    args = ["run", "example", "l1", "2024-03-01..2024-03-02", "--source", "simulated", "--out", str(out)]
    res = run_cli([*args, "--dry-run"], example_hooks)
    assert res.exit_code == 0 and "never processed (the simulated archive is made first)" in res.stdout
    assert not out.exists()


def test_the_reasons_in_words():
    """``explain`` (and ``decide``'s ``why``): a new version of a file, a changed calibration
    table, a new kernel, new software or definition, never processed."""
    from magfw.engine.ledger import LedgerEntry

    def rec(role, name, sha="a"):
        return {"role": role, "name": name, "sha256": sha, "size": 1, "version": None}

    versions = {"magfw": "0.1.0", "plugin": "p 1", "definitions": {"l1": "d1"}, "options": {}}
    before = [
        rec("data", "impact/STA_L1_MAG_20240102_V01.cdf"),
        rec("calibration", "offsets/V01/202401StereoACounts.asc"),
        rec("kernel", "gen/naif0012.tls"),
    ]
    previous = LedgerEntry(unit="u", status="ok", versions=versions, inputs=before)
    now = [
        rec("data", "impact/STA_L1_MAG_20240102_V02.cdf"),
        rec("calibration", "offsets/V01/202401StereoACounts.asc", "b"),
        rec("kernel", "gen/naif0012.tls"),
        rec("kernel", "depm/ahead_2024_002_01.depm.bsp"),
    ]
    words = explain(previous, now, {**versions, "magfw": "0.2.0", "definitions": {"l1": "d2"}})
    assert words == [
        "new input version STA_L1_MAG_20240102_V02.cdf (was STA_L1_MAG_20240102_V01.cdf)",
        "new kernel ahead_2024_002_01.depm.bsp",
        "changed calibration 202401StereoACounts.asc (new content)",
        "new software (magfw 0.1.0 -> 0.2.0)",
        "new product definition l1",
    ]
    assert decide(None, now, "x", versions, []).why == ("never processed",)
    same = decide(previous, before, "d", versions, [], outputs_intact=True)
    assert same.why and same.run  # the digest differs from the (absent) recorded one
    previous.inputs_digest = "d"
    assert not decide(previous, before, "d", versions, []).run


def test_the_read_only_ledger_leaves_no_file(tmp_path):
    from magfw.engine.ledger import LedgerEntry, traceless

    path = tmp_path / "l" / "ledger.sqlite"
    Ledger(path).record(LedgerEntry(unit="u", status="ok", versions={}))
    files = sorted(p.name for p in path.parent.iterdir())
    with traceless():
        reader = Ledger.reader(path)
        assert reader is not None and reader.last_ok("u") is not None and reader.commits() == []
    assert sorted(p.name for p in path.parent.iterdir()) == files == ["ledger.sqlite"]
    assert Ledger.reader(tmp_path / "none.sqlite") is None and not (tmp_path / "none.sqlite").exists()


@pytest.mark.slow
def test_a_new_berkeley_version_of_one_day_is_named_and_the_others_unchanged(tmp_path):
    """The issue's case: STEREO-A L1 of three days from an archive; Berkeley puts out
    STA_L1_MAG_20240102_V03.cdf; the dry run says the 2nd would run and names the file; the
    1st and 3rd are unchanged; the merge that needs the L1 days would run after the 2nd; the
    tree is untouched."""
    from magfw_stereo import plugin

    hooks = make_hooks(plugin, names=["stereo"])
    archive, out = tmp_path / "berkeley", tmp_path / "out"
    period = "2024-01-01..2024-01-03"
    assert (
        run_cli(["simulate", "stereo", period, "--spacecraft", "A", "--out", str(archive)], hooks).exit_code
        == 0
    )
    args = ["run", "stereo", "l1", period, "--source", str(archive), "--out", str(out)]
    res = run_cli(args, hooks)
    assert res.exit_code == 0, res.stderr
    before = snapshot(out)
    folder = next(p.parent for p in archive.rglob("STA_L1_MAG_20240102_V*.cdf"))
    newest = max(folder.glob("STA_L1_MAG_20240102_V*.cdf"))
    shutil.copy(newest, folder / "STA_L1_MAG_20240102_V03.cdf")
    res = run_cli([*args, "--dry-run"], hooks)
    assert res.exit_code == 0, res.stderr
    table = rows(res.stdout)
    assert table["2024-01-02"].startswith("run new input version STA_L1_MAG_20240102_V03.cdf (was ")
    assert table["2024-01-01"].startswith("unchanged") and table["2024-01-03"].startswith("unchanged")
    res = run_cli(
        ["run", "stereo", "merge", period, "--source", str(archive), "--out", str(out), "--dry-run"], hooks
    )
    assert res.exit_code == 0, res.stderr
    assert "would run after stereo l1 STA 2024-01-02" in " ".join(res.stdout.split())
    assert snapshot(out) == before
