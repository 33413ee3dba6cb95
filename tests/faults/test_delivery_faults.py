"""Deliveries that fail: rclone missing, the remote unreachable, an upload interrupted (past
``[delivery] timeout_s``, or rclone killed mid-transfer), a copy damaged on its way (checksum
mismatch). Each is one line naming the zip, the remote and the problem, the run exits 1, the
committed zip stays as the ledger recorded it, no mail announces it; and a rerun, the fault
gone, uploads what the remote lacks and announces it.

A real rclone against local (alias) and loopback SFTP remotes (:mod:`rclone_helpers`); the
interrupted and damaging transfers are real rclone runs wrapped by a small shell script that
stops them or changes a byte of what they stored.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest
from conftest import smtp_mailbox
from deliveryplugin import Parcel
from rclone_helpers import alias_remote, free_port, need_rclone, served_remote

from magfw.engine.ledger import Ledger
from magfw.period import parse_period
from magfw.testing import make_hooks, run_cli

ZIP = "parcel_2024jan.zip"


@pytest.fixture
def setup(tmp_path):
    hooks = make_hooks(Parcel(), names=["parcel"])
    archive = tmp_path / "archive"
    hooks.simulate("parcel", parse_period("2024-01"), archive, None, 0)
    with smtp_mailbox() as box:
        yield hooks, archive, box


def write_config(tmp_path: Path, box, delivery: str) -> None:
    text = box.toml({"parcel_delivery": ["berkeley@example.edu"]})
    (tmp_path / "magfw.toml").write_text(text + "[delivery]\n" + delivery)


def package(hooks, archive: Path, out: Path):
    return run_cli(
        ["run", "parcel", "package", "2024-01", "--source", str(archive), "--out", str(out)], hooks
    )


def assert_one_line_and_zip_kept(res, out: Path, box, *words: str) -> None:
    """Exit 1, one ``magfw:`` line saying the delivery failed (and ``words``), the committed zip
    as the ledger recorded it, and no mail."""
    assert res.exit_code == 1, res.stdout + res.stderr
    lines = [line for line in res.stderr.splitlines() if line.startswith("magfw:")]
    assert len(lines) == 1, res.stderr
    assert f"delivery of {ZIP} to " in lines[0] and "the zip stays at" in lines[0]
    assert "`magfw run parcel package 2024-01` uploads what is missing" in lines[0]
    for word in words:
        assert word in lines[0], lines[0]
    assert "Traceback" not in res.stderr
    (entry,) = Ledger(out / ".magfw" / "ledger.sqlite").current("parcel/package")
    (record,) = entry.outputs
    data = (out / record["path"]).read_bytes()
    assert (len(data), hashlib.sha256(data).hexdigest()) == (record["size"], record["sha256"])
    assert box.messages == []


def assert_rerun_delivers(hooks, archive: Path, out: Path, box, there: Path) -> None:
    res = package(hooks, archive, out)
    assert res.exit_code == 0, res.stderr
    assert "1 skipped" in res.stdout  # the unit is unchanged: only the delivery is redone
    assert (there / ZIP).read_bytes() == (out / "prep_zips" / ZIP).read_bytes()
    assert len(box.messages) == 1


def wrapper(tmp_path: Path, body: str) -> Path:
    """A program standing for rclone: ``body`` (sh), with ``$REAL`` the real rclone."""
    path = tmp_path / "bin" / "rclone-wrapped"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\nREAL={need_rclone()}\n{body}")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_rclone_missing_is_one_line_and_a_rerun_with_it_delivers(setup, tmp_path, monkeypatch):
    hooks, archive, box = setup
    real = need_rclone()
    remote = alias_remote(monkeypatch, "dlv", tmp_path / "box")
    write_config(tmp_path, box, f'remote = "{remote}"\n')
    out = tmp_path / "out"
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    path = os.environ["PATH"]
    monkeypatch.setenv("PATH", str(empty))
    res = package(hooks, archive, out)
    assert_one_line_and_zip_kept(
        res, out, box, "rclone: not found (install Debian's rclone: apt-get install rclone"
    )
    assert not (tmp_path / "box" / ZIP).exists()
    monkeypatch.setenv("PATH", f"{Path(real).parent}{os.pathsep}{path}")
    assert_rerun_delivers(hooks, archive, out, box, tmp_path / "box")


def test_an_unreachable_remote_is_one_line(setup, tmp_path, monkeypatch):
    hooks, archive, box = setup
    need_rclone()
    remote = served_remote(monkeypatch, "far", "sftp", free_port())  # nobody listens there
    monkeypatch.setenv("RCLONE_LOW_LEVEL_RETRIES", "1")  # rclone's own settings, by environment
    write_config(tmp_path, box, f'remote = "{remote}incoming"\n')
    out = tmp_path / "out"
    res = package(hooks, archive, out)
    assert_one_line_and_zip_kept(res, out, box, "far:incoming", "connection refused")


@pytest.mark.slow  # over half a second: the whole suite runs it
def test_an_upload_past_its_time_limit_is_interrupted_and_a_rerun_completes_it(setup, tmp_path, monkeypatch):
    hooks, archive, box = setup
    need_rclone()
    remote = alias_remote(monkeypatch, "dlv", tmp_path / "box")
    write_config(tmp_path, box, f'remote = "{remote}"\ntimeout_s = 3\n')
    monkeypatch.setenv("RCLONE_BWLIMIT", "8k")  # ~200 kB at 8 kB/s: 25 s
    out = tmp_path / "out"
    res = package(hooks, archive, out)
    assert_one_line_and_zip_kept(
        res, out, box, "interrupted: rclone copyto did not finish within 3 s ([delivery] timeout_s"
    )
    monkeypatch.delenv("RCLONE_BWLIMIT")
    assert_rerun_delivers(hooks, archive, out, box, tmp_path / "box")


@pytest.mark.slow  # over half a second: the whole suite runs it
def test_an_upload_killed_midway_leaves_a_partial_copy_that_a_rerun_replaces(setup, tmp_path, monkeypatch):
    hooks, archive, box = setup
    remote = alias_remote(monkeypatch, "dlv", tmp_path / "box")
    program = wrapper(
        tmp_path,
        'if [ "$2" = copyto ]; then\n'
        '  "$REAL" "$@" --bwlimit 8k & pid=$!\n'
        "  sleep 1; kill -TERM $pid; wait $pid; kill -KILL $$\n"
        "fi\n"
        'exec "$REAL" "$@"\n',
    )
    write_config(tmp_path, box, f'remote = "{remote}"\nrclone = "{program}"\n')
    out = tmp_path / "out"
    res = package(hooks, archive, out)
    assert_one_line_and_zip_kept(res, out, box, "interrupted: rclone copyto was stopped by SIGKILL")
    partial = tmp_path / "box" / ZIP
    assert not partial.exists() or partial.stat().st_size < (out / "prep_zips" / ZIP).stat().st_size
    write_config(tmp_path, box, f'remote = "{remote}"\n')
    assert_rerun_delivers(hooks, archive, out, box, tmp_path / "box")


@pytest.mark.slow  # over half a second: the whole suite runs it
def test_a_copy_damaged_on_the_remote_is_a_checksum_mismatch_and_is_removed(setup, tmp_path, monkeypatch):
    hooks, archive, box = setup
    there = tmp_path / "box"
    remote = alias_remote(monkeypatch, "dlv", there)
    program = wrapper(
        tmp_path,
        '"$REAL" "$@"; rc=$?\n'
        'if [ "$2" = copyto ]; then\n'
        f'  for f in "{there}"/*.zip; do printf X | dd of="$f" bs=1 seek=100 conv=notrunc 2>/dev/null; done\n'
        "fi\n"
        "exit $rc\n",
    )
    write_config(tmp_path, box, f'remote = "{remote}"\nrclone = "{program}"\n')
    out = tmp_path / "out"
    res = package(hooks, archive, out)
    assert_one_line_and_zip_kept(
        res,
        out,
        box,
        "checksum mismatch after the upload (SHA-256 on the remote",
        "the damaged copy is removed",
    )
    assert not (there / ZIP).exists()
    write_config(tmp_path, box, f'remote = "{remote}"\n')
    assert_rerun_delivers(hooks, archive, out, box, there)
