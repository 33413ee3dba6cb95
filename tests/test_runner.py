"""The runner and ledger: failures isolated, reruns skipped, regenerations versioned, no partial output."""

import json
import os

import pytest
from toyplugin import Toy

from magfw.api import hookimpl
from magfw.engine.ledger import Ledger
from magfw.period import parse_period
from magfw.testing import make_hooks, run_level


def test_failed_unit_does_not_stop_the_others(tmp_path):
    hooks = make_hooks(Toy(fail_days=("2024-01-02",)), names=["toy"])
    s = run_level(hooks, "toy", "l1", "2024-01-01..2024-01-03", tmp_path / "out")
    assert [r.status for r in s.results] == ["ok", "failed", "ok"]
    msg = s.results[1].message
    assert "20240102.txt" in msg and "deliberately unreadable" in msg and "\n" not in msg
    assert not list((tmp_path / "out").rglob("TOY_20240102*"))  # nothing partial
    assert (s.count("ok"), s.count("failed"), s.vectors) == (2, 1, 20)


def test_rerun_skips_unchanged_units_and_force_redoes_them(tmp_path):
    toy = Toy()
    hooks = make_hooks(toy, names=["toy"])
    out = tmp_path / "out"
    run_level(hooks, "toy", "l1", "2024-01-01..2024-01-02", out)
    toy.calls.clear()
    s = run_level(hooks, "toy", "l1", "2024-01-01..2024-01-02", out)
    assert [r.status for r in s.results] == ["skipped", "skipped"]
    assert "unchanged since" in s.results[0].message
    assert "read" not in toy.calls  # skipped before any processing
    s = run_level(hooks, "toy", "l1", "2024-01-01", out, force=True)
    assert s.results[0].status == "ok"
    # a forced rerun is a new version beside the earlier one: V00 is never rewritten
    assert json.loads((out / "toy/TOY_20240101_V01.json").read_text())["reason"] == "rerun forced"
    assert json.loads((out / "toy/TOY_20240101_V00.json").read_text())["reason"] is None


def test_changed_input_regenerates_with_higher_version(tmp_path):
    hooks = make_hooks(Toy(), names=["toy"])
    out = tmp_path / "out"
    archive = tmp_path / "archive"
    hooks.simulate("toy", parse_period("2024-01-01"), archive, None, 0)
    run_level(hooks, "toy", "l1", "2024-01-01", out, source=str(archive))
    (archive / "20240101.txt").write_text("1 2 3")
    s = run_level(hooks, "toy", "l1", "2024-01-01", out, source=str(archive))
    assert s.results[0].status == "ok"
    v1 = json.loads((out / "toy/TOY_20240101_V01.json").read_text())
    assert v1["version"] == 1 and "input changed 20240101.txt" in v1["reason"]
    assert (out / "toy/TOY_20240101_V00.json").exists()  # earlier product untouched
    history = Ledger(out / ".magfw/ledger.sqlite").history("toy/l1/-/2024-01-01")
    assert [(e.status, e.product_version) for e in history] == [("ok", 0), ("ok", 1)]
    assert history[1].inputs[0]["sha256"] != history[0].inputs[0]["sha256"]


def test_changed_option_is_a_version_change(tmp_path):
    hooks = make_hooks(Toy(), names=["toy"])
    out = tmp_path / "out"
    run_level(hooks, "toy", "l1", "2024-01-01", out, options={"gain": 1.0})
    s = run_level(hooks, "toy", "l1", "2024-01-01", out, options={"gain": 2.0})
    assert s.results[0].status == "ok"
    assert "options" in json.loads((out / "toy/TOY_20240101_V01.json").read_text())["reason"]


def test_deleted_output_is_regenerated(tmp_path):
    hooks = make_hooks(Toy(), names=["toy"])
    out = tmp_path / "out"
    run_level(hooks, "toy", "l1", "2024-01-01", out)
    os.remove(out / "toy/TOY_20240101_V00.json")
    s = run_level(hooks, "toy", "l1", "2024-01-01", out)
    assert s.results[0].status == "ok" and (out / "toy/TOY_20240101_V00.json").exists()


def test_ledger_records_outputs_with_checksums(tmp_path):
    hooks = make_hooks(Toy(), names=["toy"])
    out = tmp_path / "out"
    run_level(hooks, "toy", "l1", "2024-01-01", out)
    (entry,) = Ledger(out / ".magfw/ledger.sqlite").history()
    assert entry.outputs[0]["path"] == "toy/TOY_20240101_V00.json"
    import hashlib

    assert (
        entry.outputs[0]["sha256"]
        == hashlib.sha256((out / entry.outputs[0]["path"]).read_bytes()).hexdigest()
    )
    assert entry.versions["magfw"] and "definitions" in entry.versions
    assert entry.duration_s > 0 and entry.vectors == 10


def test_products_say_they_are_simulated(tmp_path, example_hooks):
    """However a simulated archive is given (``--source simulated``, its path, or a copy of
    it served over HTTP), its products say so: the simulator's marker travels with it."""
    import shutil

    import cdflib

    from magfw.fetch import SIMULATED_MARKER
    from magfw.testing import run_cli

    def source_of(path):
        return str(cdflib.CDF(str(path)).globalattsget()["Data_source"])

    s = run_level(example_hooks, "example", "l1", "2024-03-01", tmp_path / "out")
    assert s.ok, s.results[0].message
    assert "SIMULATED" in source_of(s.outputs[0])

    sim = tmp_path / "sim"  # `magfw simulate` into a folder, then that folder as --source
    assert run_cli(["simulate", "example", "2024-03-02", "--out", str(sim)], example_hooks).exit_code == 0
    assert (sim / SIMULATED_MARKER).is_file()
    s = run_level(example_hooks, "example", "l1", "2024-03-02", tmp_path / "b", source=str(sim))
    assert s.ok and "SIMULATED" in source_of(s.outputs[0])
    # the L1 of the simulated archive, as input of another unit's ledger record
    entry = Ledger(tmp_path / "b/.magfw/ledger.sqlite").last_ok("example/l1/-/2024-03-02")
    assert entry is not None and entry.simulated

    real = tmp_path / "real"  # the same files without the marker: observed
    shutil.copytree(sim, real)
    (real / SIMULATED_MARKER).unlink()
    s = run_level(example_hooks, "example", "l1", "2024-03-02", tmp_path / "c", source=str(real))
    assert s.ok and "SIMULATED" not in source_of(s.outputs[0])
    assert "observed" in source_of(s.outputs[0])


@pytest.mark.slow  # over half a second: the whole suite runs it
def test_workers_give_the_same_products(tmp_path, example_hooks):
    """Two processes produce byte-identical data to one (creation time aside)."""
    import cdflib
    import numpy as np

    a = run_level(example_hooks, "example", "l1", "2024-03-01..2024-03-02", tmp_path / "a")
    b = run_level(example_hooks, "example", "l1", "2024-03-01..2024-03-02", tmp_path / "b", workers=2)
    assert a.ok and b.ok, [r.message for r in b.results]
    for ra, rb in zip(a.results, b.results, strict=True):
        ca, cb = cdflib.CDF(str(ra.outputs[0])), cdflib.CDF(str(rb.outputs[0]))
        assert np.array_equal(ca.varget("B"), cb.varget("B"))


def test_simulation_is_done_once_per_day(tmp_path):
    toy = Toy()
    hooks = make_hooks(toy, names=["toy"])
    out = tmp_path / "out"
    run_level(hooks, "toy", "l1", "2024-01-02..2024-01-03", out)
    run_level(hooks, "toy", "l1", "2024-01-01..2024-01-04", out)
    run_level(hooks, "toy", "l1", "2024-01-03", out)
    assert toy.calls.count("simulate") == 3  # 02..03, then 01 and 04 (two stretches), then none


def test_notes_reach_the_user_and_products_name_their_own_inputs(tmp_path):
    from toyplugin import ToyL1

    from magfw.engine.provenance import provenance_attrs
    from magfw.plugin.context import InputFile, Inputs, Product

    class Noted(ToyL1):
        @hookimpl
        def fetch(self, ctx):
            inputs = super().fetch(ctx)
            inputs.notes.append("day listed twice on the server; used V06")
            return inputs

        @hookimpl
        def average(self, ctx, data):
            ctx.note("3 samples above the range")
            return super().average(ctx, data)

    toy = Toy("noted")
    toy.level = Noted(toy)
    s = run_level(make_hooks(toy), "noted", "l1", "2024-01-01", tmp_path / "out")
    message = s.results[0].message
    assert "day listed twice on the server; used V06" in message
    assert "3 samples above the range" in message
    entry = Ledger(tmp_path / "out/.magfw/ledger.sqlite").last_ok("noted/l1/-/2024-01-01")
    assert entry is not None and entry.message == message  # kept for the review pages

    from magfw_example import plugin as example

    d = example.load_definitions(example.SCHEMAS)[0]
    inputs = Inputs(
        files=[InputFile(role="data", name=n, path=tmp_path / n, sha256="0" * 64, size=1) for n in ("a", "b")]
    )

    class Ctx:
        simulated, reason = False, None

    whole = provenance_attrs(Ctx(), Product(definition=d, fields={}), inputs, "sw")  # type: ignore[arg-type]
    own = provenance_attrs(Ctx(), Product(definition=d, fields={}, inputs=["b"]), inputs, "sw")  # type: ignore[arg-type]
    assert whole["Parents"] == ["a", "b"] and own["Parents"] == ["b"]


def test_major_minor_versions(tmp_path):
    """Vmn: a changed input file is a minor revision (n + 1); a changed calibration a major
    one (m + 1, n = 0); the ledger's reason says which."""
    from commitplugin import Commit

    from magfw.engine.versioning import bump, revision_kind

    assert [bump(v, k) for v, k in [(0, "minor"), (3, "major"), (19, "minor")]] == [1, 10, 20]
    assert revision_kind({"calibration": {"a": "1"}}, {"calibration": {"a": "2"}}) == "major"
    assert revision_kind({"selection": {"a": "1"}}, {"selection": {"a": "2"}}) == "minor"

    plugin = Commit()
    hooks = make_hooks(plugin, names=["commit"])
    d = hooks.registry.get("commit").product("inc_i")
    hooks.registry.get("commit").products[1] = d.model_copy(
        update={"version": d.version.model_copy(update={"policy": "major_minor"})}
    )
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    (src / "2024-01-01.txt").write_text("1")
    assert run_level(hooks, "commit", "l1", "2024-01-01", out, source=str(src)).ok
    (src / "2024-01-01.txt").write_text("2")
    s = run_level(hooks, "commit", "l1", "2024-01-01", out, source=str(src))
    assert s.results[0].version == 1 and s.results[0].reason.startswith("minor revision: input")
    assert (out / "inc/I_20240101_V01.txt").is_file()


def _definition(policy: str, start: int = 0):
    from magfw.api import ProductDefinition

    return ProductDefinition.model_validate(
        {
            "id": f"p_{policy}",
            "mission": "m",
            "level": "l1",
            "format": "bytes",
            "filename": {
                "template": "M_{yyyy}{mm}{dd}_V{version}.txt",
                "fields": {
                    "yyyy": {"kind": "int", "width": 4},
                    "mm": {"kind": "int", "width": 2},
                    "dd": {"kind": "int", "width": 2},
                    "version": {"kind": "int", "width": 2},
                },
            },
            "time_variable": None,
            "variables": [],
            "version": {"policy": policy, "start": start},
        }
    )


def _previous(version: int, versions: dict, inputs: list, digest: str = "d"):
    from magfw.engine.ledger import LedgerEntry

    return LedgerEntry(
        unit="m/l1/-/2024-01-01",
        status="ok",
        versions=versions,
        inputs=inputs,
        inputs_digest=digest,
        product_version=version,
    )


A = [{"role": "data", "name": "a.dat", "sha256": "1" * 64, "size": 1, "version": None}]
A2 = [{"role": "data", "name": "a.dat", "sha256": "2" * 64, "size": 1, "version": None}]


@pytest.mark.parametrize(
    "policy, start, first, new_input, new_calibration",
    [
        ("increment", 0, 0, 1, 1),  # +1 whatever changed
        ("major_minor", 0, 0, 1, 10),  # a new input: minor; a new calibration: major
        ("fixed", 6, 0, 1, 1),  # the unit's version counts; its files keep V06 (file_version)
    ],
)
def test_a_version_per_policy(policy, start, first, new_input, new_calibration):
    from magfw.engine.versioning import decide, file_version

    d = [_definition(policy, start)]
    cal1, cal2 = {"calibration": {"t": "V01"}}, {"calibration": {"t": "V02"}}
    assert decide(None, A, "d", cal1, d).version == (start if policy != "fixed" else first)
    unchanged = decide(_previous(0, cal1, A), A, "d", cal1, d)
    assert not unchanged.run and unchanged.reason is None
    forced = decide(_previous(0, cal1, A), A, "d", cal1, d, force=True)
    assert forced.run and forced.version == 1  # a forced rerun never rewrites a version
    assert forced.reason == ("minor revision: rerun forced" if policy == "major_minor" else "rerun forced")
    missing = decide(_previous(0, cal1, A), A, "d", cal1, d, outputs_intact=False)
    assert missing.run and missing.reason == "earlier outputs missing"
    assert missing.version == 0  # the same product, repaired
    both = decide(_previous(0, cal1, A), A2, "e", cal1, d, force=True)
    assert both.version == new_input and "input changed a.dat" in both.reason
    by_input = decide(_previous(0, cal1, A), A2, "e", cal1, d)
    assert by_input.version == new_input and "input changed a.dat" in by_input.reason
    by_cal = decide(_previous(0, cal1, A), A, "d", cal2, d)
    assert by_cal.version == new_calibration and "calibration" in by_cal.reason
    if policy == "major_minor":
        assert (by_input.kind, by_cal.kind) == ("minor", "major")
        assert by_cal.reason.startswith("major revision: ")
    assert file_version(d[0], 3) == (start if policy == "fixed" else 3)


def test_a_new_version_keeps_the_earlier_file_and_retires_what_it_no_longer_writes():
    from magfw.engine.versioning import file_identity, superseded

    d = _definition("increment")
    assert file_identity(d, "M_20240101_V00.txt") == file_identity(d, "M_20240101_V01.txt")
    assert file_identity(d, "M_20240101_V00.txt") != file_identity(d, "M_20240102_V00.txt")
    before = [
        {"path": "M_20240101_V00.txt", "product": d.id},
        {"path": "M_20240102_V00.txt", "product": d.id},
        {"path": "gone.txt", "product": "not_a_product"},
    ]
    assert superseded(before, [(d.id, "M_20240101_V01.txt")], {d.id: d}) == ["M_20240102_V00.txt", "gone.txt"]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_flush_that_fails_fails_its_unit_with_one_line(tmp_path, monkeypatch, workers):
    """Files are flushed to disk behind the computation (in one process, while the next unit
    runs): a flush that fails (EIO, a disk found full only then) fails that unit with one line
    naming the product, commits nothing of it, and a rerun completes it."""
    import errno

    from magfw.io import checksum

    def failing(fd):
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    out = tmp_path / "out"
    hooks = make_hooks(Toy(), names=["toy"])
    monkeypatch.setattr(checksum, "_fsync_close", failing)
    s = run_level(hooks, "toy", "l1", "2024-01-01..2024-01-02", out, workers=1)
    assert [r.status for r in s.results] == ["failed", "failed"]
    line = s.results[0].message
    assert line.lower().startswith("input/output error writing ") and "\n" not in line
    assert line.endswith("out/toy/TOY_20240101_V00.json")
    assert not list(out.rglob("TOY_*"))
    monkeypatch.undo()
    s = run_level(hooks, "toy", "l1", "2024-01-01..2024-01-02", out, workers=workers)
    assert [r.status for r in s.results] == ["ok", "ok"]


def test_a_rerun_reads_no_unchanged_input_again(tmp_path, monkeypatch):
    """Input digests are kept in the output tree (path, size, mtime_ns): a rerun in a fresh
    process decides "unchanged" without reading the inputs, and a changed input is read."""
    import time

    from magfw.engine.simulation import simulated_root
    from magfw.io import digests

    hooks = make_hooks(Toy(), names=["toy"])
    out = tmp_path / "out"
    assert run_level(hooks, "toy", "l1", "2024-01-01..2024-01-02", out).ok
    assert (out / ".magfw" / "cache" / "digests.sqlite").is_file()
    day = simulated_root(out, "toy", None, 0) / "20240102.txt"
    old = time.time_ns() - 10**10  # (a file modified just before it was hashed is not trusted)
    for f in day.parent.glob("*.txt"):
        os.utime(f, ns=(old, old))
    monkeypatch.setattr(digests, "_DIGESTS", {})  # as a new process
    assert run_level(hooks, "toy", "l1", "2024-01-01..2024-01-02", out, force=True).ok  # stored now
    monkeypatch.setattr(digests, "_DIGESTS", {})
    read: list[str] = []
    real = digests.sha256_file
    monkeypatch.setattr(digests, "sha256_file", lambda p: read.append(str(p)) or real(p))
    s = run_level(hooks, "toy", "l1", "2024-01-01..2024-01-02", out)
    assert [r.status for r in s.results] == ["skipped", "skipped"] and read == []
    day.write_text(day.read_text() + " ")
    os.utime(day, ns=(old + 10**9, old + 10**9))
    s = run_level(hooks, "toy", "l1", "2024-01-01..2024-01-02", out)
    assert [r.status for r in s.results][1] == "ok" and read == [str(day.resolve())]
