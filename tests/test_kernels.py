"""magfw.geometry.kernels: classification, selection, the guarded kernel pool, coverage, writers."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import spiceypy as sp

from magfw.errors import KernelError, MissingInputError
from magfw.geometry import frames, kernels
from magfw.geometry.time import tt2000_from_iso, tt2000_to_et
from magfw.io.checksum import sha256_file

T0 = float(tt2000_to_et(tt2000_from_iso(np.array(["2024-01-01T00:00:00"])))[0])
DAY_S = 86400.0


def line_states(et: np.ndarray, speed: float = 10.0) -> np.ndarray:
    """States (km, km/s) of a straight-line motion 1e8 km from the origin along X."""
    pos = np.stack([1e8 + speed * (et - T0), np.zeros_like(et), np.zeros_like(et)], 1)
    return np.hstack([pos, np.tile([speed, 0.0, 0.0], (et.size, 1))])


def spk_for(path: Path, first_day: float, days: float, body: int = -234) -> Path:
    et = T0 + np.arange(first_day * DAY_S, (first_day + days) * DAY_S + 1, 3600.0)
    return kernels.write_spk(path, body, 10, "J2000", et, line_states(et))


def test_classify_by_id_word_and_extension(tmp_path: Path) -> None:
    spk = spk_for(tmp_path / "x.bsp", 0, 1)
    assert kernels.classify(spk) == "spk"
    renamed = spk.rename(tmp_path / "strange.dat")  # the DAF ID word decides
    assert kernels.classify(renamed) == "spk"
    (tmp_path / "a.tf").write_text("KPL/FK\n")
    (tmp_path / "b.tls.txt").write_text("no id word\n")
    (tmp_path / "c.tsc").write_text("\r\n\\begindata\r\n")  # CRLF, no KPL line (Aditya SCLK)
    (tmp_path / "d.xyz").write_text("text\n")
    assert kernels.classify(tmp_path / "a.tf") == "fk"
    assert kernels.classify(tmp_path / "b.tls.txt") == "lsk"
    assert kernels.classify(tmp_path / "c.tsc") == "sclk"
    with pytest.raises(KernelError, match="cannot tell the kernel type"):
        kernels.classify(tmp_path / "d.xyz")
    with pytest.raises(MissingInputError, match="kernel file not found"):
        kernels.classify(tmp_path / "missing.bsp")


def test_kernel_file_and_generic_kernels() -> None:
    gen = kernels.generic_kernels()
    assert [k.kind for k in gen] == ["lsk", "pck", "fk", "spk"]
    assert [k.name for k in gen][1:] == ["magfw_pck.tpc", "magfw_frames.tf", "de421.bsp"]
    for k in gen:
        assert k.path.is_file() and k.sha256 == sha256_file(k.path)


def test_pool_loads_clears_and_reports_provenance(tmp_path: Path) -> None:
    spk = spk_for(tmp_path / "ahead_2024_001_01.depm.bsp", 0, 2)
    with kernels.kernel_pool([spk]) as pool:
        assert sp.ktotal("ALL") == 5
        prov = pool.provenance()
        assert [p["name"] for p in prov] == [
            "latest_leapseconds.tls",
            "magfw_pck.tpc",
            "magfw_frames.tf",
            "de421.bsp",
            "ahead_2024_001_01.depm.bsp",
        ]
        assert prov[-1] == {"name": spk.name, "sha256": sha256_file(spk), "kind": "spk"}
        assert kernels.active_pool() is pool
    assert sp.ktotal("ALL") == 0 and kernels.active_pool() is None
    with pytest.raises(RuntimeError), kernels.kernel_pool([spk]):
        raise RuntimeError("unit failed")
    assert sp.ktotal("ALL") == 0


def test_pool_refuses_bad_kernels_and_foreign_state(tmp_path: Path) -> None:
    bad = tmp_path / "broken.bsp"
    bad.write_bytes(b"DAF/SPK " + b"\0" * 100)
    with pytest.raises(KernelError, match="broken.bsp: SPK cannot be loaded"), kernels.kernel_pool([bad]):
        pass
    assert sp.ktotal("ALL") == 0
    gen = kernels.generic_kernels()
    sp.furnsh(str(gen[0].path))
    try:
        with (
            pytest.raises(KernelError, match="1 SPICE kernel.s. were loaded outside magfw"),
            kernels.kernel_pool(),
        ):
            pass
        assert sp.ktotal("ALL") == 1
        with kernels.kernel_pool(clear_foreign=True):
            assert sp.ktotal("ALL") == 4
    finally:
        sp.kclear()


def test_nested_use_fails_and_threads_serialise() -> None:
    with (
        kernels.kernel_pool(),
        pytest.raises(KernelError, match="nested use in one thread"),
        kernels.kernel_pool(),
    ):
        pass
    order: list[str] = []
    entered = threading.Event()
    results: list[object] = []

    def holder() -> None:
        with kernels.kernel_pool():
            entered.set()
            time.sleep(0.3)
            order.append("holder done")

    def impatient() -> None:
        try:
            with kernels.kernel_pool(timeout=0.05):
                results.append("entered")
        except KernelError as exc:
            results.append(exc)

    def patient() -> None:
        with kernels.kernel_pool():
            order.append("patient in")

    th = threading.Thread(target=holder)
    th.start()
    entered.wait()
    t2, t3 = threading.Thread(target=impatient), threading.Thread(target=patient)
    t2.start()
    t3.start()
    for t in (th, t2, t3):
        t.join()
    assert isinstance(results[0], KernelError) and "held by another thread" in str(results[0])
    assert order == ["holder done", "patient in"]


def _child_pool_size(_: int) -> int:
    with kernels.kernel_pool():
        return sp.ktotal("ALL")


def test_forked_worker_starts_with_a_fresh_pool() -> None:
    """A process forked while the parent holds the pool has its own, unlocked and empty."""
    ctx = multiprocessing.get_context("fork")
    with kernels.kernel_pool(), ctx.Pool(1) as workers:
        assert workers.map(_child_pool_size, [0]) == [4]


def test_kernel_series_and_versions() -> None:
    ks = kernels.kernel_series
    assert ks("ahead_2024_015_01.depm.bsp") == ("ahead_2024_015_*.depm.bsp", 1)
    assert ks("ahead_2024_015_02.depm.bsp") == ("ahead_2024_015_*.depm.bsp", 2)
    assert ks("al1_att_20240801_v02.bc") == ("al1_att_20240801_*.bc", 2)
    assert ks("ahead_science_12.sclk") == ("ahead_science_*.sclk", 12)
    assert ks("ahead_2017_061_5295day_predict.epm.bsp")[1] == 0
    assert ks("ahead_2024_015.depm.bsp")[1] == 0  # a day of year is not a version
    assert ks("mission-r7.bsp", r"-r(?P<version>\d+)$") == ("mission_*.bsp", 7)


def test_select_kernels(tmp_path: Path) -> None:
    d = tmp_path
    files = [
        spk_for(d / "ahead_2024_001_01.depm.bsp", 0, 3),
        spk_for(d / "ahead_2024_001_02.depm.bsp", 0, 3),  # supersedes _01
        spk_for(d / "ahead_2023_300_01.depm.bsp", -60, 30),  # ends before the span
        spk_for(d / "ahead_2023_360_01.epm.bsp", -5, 30),  # predictive
        spk_for(d / "behind_2024_001_01.depm.bsp", 0, 3, body=-235),  # other body
        kernels.write_sclk(d / "ahead_science_01.sclk", -234, start_et=T0 - 10 * DAY_S),
        kernels.write_sclk(d / "ahead_science_02.sclk", -234, start_et=T0 - 10 * DAY_S),
    ]
    (d / "stereo_rtn.tf").write_text("KPL/FK\n")
    files.append(d / "stereo_rtn.tf")
    et = T0 + np.arange(-DAY_S, 3 * DAY_S, 1.0)
    q = np.tile([1.0, 0, 0, 0], (et.size, 1))
    with kernels.kernel_pool([files[-2]]):
        for name, lo in (
            ("ahead_2024_001_01.ah.bc", 0),
            ("ahead_2024_001_02.ah.bc", 0),
            ("ahead_2024_002_01.ah.bc", 1),
            ("ahead_2024_010_01.ah.bc", 2),
        ):
            sel = (et >= T0 + lo * DAY_S) & (et < T0 + (lo + 1) * DAY_S)
            if name.startswith("ahead_2024_010"):
                sel = et >= T0 + 2.5 * DAY_S
            files.append(kernels.write_ck(d / name, -234000, "J2000", -234, et[sel], q[sel]))
    chosen = kernels.select_kernels(
        files, T0 + 0.5 * DAY_S, T0 + 1.5 * DAY_S, bodies=["STEREO AHEAD"], ck_ids=[-234000]
    )
    assert [k.name for k in chosen] == [
        "stereo_rtn.tf",
        "ahead_science_02.sclk",
        "ahead_2023_360_01.epm.bsp",
        "ahead_2024_001_02.depm.bsp",
        "ahead_2024_001_02.ah.bc",
        "ahead_2024_002_01.ah.bc",
    ]
    assert sp.ktotal("ALL") == 0
    everything = kernels.select_kernels(files, T0 + 0.5 * DAY_S, T0 + 1.5 * DAY_S)
    assert "behind_2024_001_01.depm.bsp" in [k.name for k in everything]
    # definitive data win when both are loaded in the chosen order
    with kernels.kernel_pool(chosen):
        handle, _, _ = sp.spksfs(-234, T0 + DAY_S, 40)
        definitive = next(k for k in chosen if k.name == "ahead_2024_001_02.depm.bsp")
        assert handle == sp.kinfo(str(definitive.path))[2]


def test_a_damaged_neighbour_is_left_out_when_the_required_span_is_covered(tmp_path: Path) -> None:
    """A day's CK covers the day +- 60 s; its neighbours' CKs would only add the margin. A
    neighbour SPICE cannot read is left out when the day itself (``required``) is covered, and
    fails the selection when the day needs it."""
    d = tmp_path
    sclk = kernels.write_sclk(d / "ahead_science_01.sclk", -234, start_et=T0 - 10 * DAY_S)
    et = T0 + np.arange(-2 * DAY_S, 3 * DAY_S, 1.0)
    q = np.tile([1.0, 0, 0, 0], (et.size, 1))
    cks = []
    with kernels.kernel_pool([sclk]):
        for k in range(3):  # days 0, 1, 2, each +- 60 s
            sel = (et >= T0 + k * DAY_S - 60) & (et <= T0 + (k + 1) * DAY_S + 60)
            cks.append(
                kernels.write_ck(
                    d / f"ahead_2024_00{k + 1}_01.ah.bc", -234000, "J2000", -234, et[sel], q[sel]
                )
            )
    cks[0].unlink()
    cks[0].write_bytes(np.random.default_rng(7).integers(0, 256, 8192, np.uint8).tobytes())
    day = (T0 + DAY_S, T0 + 2 * DAY_S)
    span = (day[0] - 120, day[1] + 120)
    chosen = kernels.select_kernels([sclk, *cks], *span, ck_ids=[-234000], required=day)
    assert [k.name for k in chosen] == [
        "ahead_science_01.sclk",
        "ahead_2024_002_01.ah.bc",
        "ahead_2024_003_01.ah.bc",
    ]
    with pytest.raises(KernelError, match=r"ahead_2024_001_01\.ah\.bc: SPICE cannot read this CK"):
        kernels.select_kernels([sclk, *cks], *span, ck_ids=[-234000])  # the margin is required
    with pytest.raises(KernelError, match=r"ahead_2024_001_01\.ah\.bc"):  # the damaged day itself
        kernels.select_kernels([sclk, *cks], T0, T0 + DAY_S, ck_ids=[-234000], required=(T0, T0 + DAY_S))


def test_require_coverage_message_and_mask(tmp_path: Path) -> None:
    spk = spk_for(tmp_path / "ahead_2024_001_01.depm.bsp", 0, 1)
    spk2 = spk_for(tmp_path / "ahead_2024_003_01.depm.bsp", 2, 1)
    tt = tt2000_from_iso(
        np.array(
            [
                "2024-01-01T12:00:00",
                "2024-01-02T06:00:00",
                "2024-01-02T12:00:00",
                "2024-01-03T12:00:00",
                "2024-01-05T00:00:00",
            ]
        )
    )
    with kernels.kernel_pool([spk, spk2]) as pool:
        mask = kernels.require_coverage(pool, -234, tt, flag=True)
        assert mask.tolist() == [True, False, False, True, False]
        with pytest.raises(KernelError) as exc:
            kernels.require_coverage(pool, "STEREO AHEAD", tt)
        assert str(exc.value) == (
            "SPK for STEREO AHEAD (-234): no coverage 2024-01-02T06:00:00 .. "
            "2024-01-02T12:00:00 (loaded: ahead_2024_001_01.depm.bsp, "
            "ahead_2024_003_01.depm.bsp); 1 more gap(s)"
        )
        with pytest.raises(
            KernelError,
            match=r"^SPK for STEREO BEHIND \(-235\): .*no loaded "
            r"SPK holds -235\)$",
        ):
            kernels.require_coverage(pool, -235, tt[:1])
        assert kernels.require_coverage(pool, 399, tt).all()


def test_write_sclk_spk_ck_round_trip(tmp_path: Path) -> None:
    sclk = kernels.write_sclk(tmp_path / "x.tsc", -77, start_et=T0, ticks_per_second=1000)
    et = T0 + np.arange(0.0, 7200.0, 60.0)
    states = line_states(et)
    states[:, 1] = 1e3 * np.sin(et / 500.0)
    states[:, 4] = 2.0 * np.cos(et / 500.0)
    spk13 = kernels.write_spk(tmp_path / "a.bsp", -77, "SUN", "J2000", et, states)
    spk9 = kernels.write_spk(tmp_path / "b.bsp", -78, "SUN", "J2000", et, states, spk_type=9)
    rng = np.random.default_rng(0)
    q = rng.normal(size=(et.size, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    q[q[:, 0] < 0] *= -1
    fk = kernels.write_fk(
        tmp_path / "x.tf",
        {
            **kernels.ck_frame_definition("X77_SC", -77000, sclk_id=-77, spk_id=-77),
            **kernels.tk_frame_definition("X77_MAG", -77100, "X77_SC", [[0, -1, 0], [1, 0, 0], [0, 0, 1]]),
        },
    )
    with kernels.kernel_pool([sclk, fk, spk13, spk9]) as pool:
        assert sp.sct2e(-77, 0.0) == pytest.approx(T0, abs=1e-9)
        assert sp.sce2c(-77, T0 + 1.5) == pytest.approx(1500.0)
        ck = kernels.write_ck(
            tmp_path / "a.bc", -77000, "J2000", -77, et, q, interval_starts=[et[60]], max_gap_s=120.0
        )
        pool.load([ck])
        for body in (-77, -78):
            got, _ = sp.spkezr(str(body), et[5], "J2000", "NONE", "SUN")
            assert np.abs(np.asarray(got) - states[5]).max() < 1e-6
        for i in (0, 7, 59, 60, 119):
            c = sp.pxform("J2000", "X77_SC", et[i])
            assert np.abs(c - sp.q2m(q[i])).max() < 1e-12
        w = pool.windows(-77000, "ck")
        assert w.shape == (2, 2) and w[1, 0] == pytest.approx(et[60], abs=1e-6)
        # TK: X77_MAG -> X77_SC is the given matrix (MAG +X = SC +Y)
        m = sp.pxform("X77_MAG", "X77_SC", et[3])
        assert np.allclose(m @ [1, 0, 0], [0, 1, 0])
        tt = tt2000_from_iso(np.array(["2024-01-01T00:30:00"]))
        v = frames.rotate(np.array([[1.0, 0, 0]]), tt, "X77_MAG", "X77_SC")
        assert np.allclose(v, [[0, 1, 0]])


def test_writers_reject_bad_input(tmp_path: Path) -> None:
    et = T0 + np.array([0.0, 1.0, 1.0])
    with pytest.raises(KernelError, match="increasing epochs"):
        kernels.write_spk(tmp_path / "a.bsp", -1, 10, "J2000", et, np.zeros((3, 6)))
    with pytest.raises(KernelError, match="increasing epochs"):
        kernels.write_ck(tmp_path / "a.bc", -1000, "J2000", -1, et, np.zeros((3, 4)))
    with pytest.raises(KernelError, match=r"a\.bc: cannot encode ET with SCLK -1 "):
        kernels.write_ck(tmp_path / "a.bc", -1000, "J2000", -1, et[:2], np.ones((2, 4)) / 2)
    assert not list(tmp_path.iterdir())
