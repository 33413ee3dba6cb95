"""The STEREO monthly hand-off as the seed runs it, end to end on the simulator: sources by
role, the seed's folders, the delivery zip (traditional PKWARE encryption by default, AES with
--aes), the notifications, and the L1 products opened where scientists open them (pySPEDAS,
cdflib/xarray).

One simulated STEREO-A stretch (2024-01-01..02: the 2nd is listed twice) is processed once per
module and shared (CI keeps to two days).
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import smtp_mailbox
from rclone_helpers import alias_remote, need_rclone

from magfw.engine.simulation import simulated_root
from magfw.io.cdf import read_cdf
from magfw.io.products import read_product
from magfw.testing import make_hooks, run_cli, run_level
from magfw_stereo import layout, plugin
from magfw_stereo.researcher import offsets_file_name

pytestmark = pytest.mark.slow  # end to end on the simulator

PERIOD = "2024-01-01..2024-01-02"
DAYS = ("20240101", "20240102")


RECIPIENTS = {
    "stereo_offsets_needed": ["researcher@example.edu"],
    "stereo_delivery": ["berkeley@example.edu", "peter@example.edu"],
    "stereo_web_copy": ["web@example.edu"],
}
PASSWORD = "Handoff-canary-31b7"


@dataclass
class Month:
    out: Path
    archive: Path
    mailbox: Any
    zip_output: str


@pytest.fixture(scope="module")
def hooks():
    return make_hooks(plugin, names=["stereo"])


@pytest.fixture(scope="module")
def month(hooks, tmp_path_factory) -> Iterator[Month]:
    """The seed's month on STEREO-A 2024-01-01..02, with the notifications going to a real SMTP
    server on loopback ([notify] in magfw.toml): prep (the researcher is told), the
    researcher's file imported, l1 (the web operator is told), package (Berkeley is told)."""
    base = tmp_path_factory.mktemp("handoff")
    out = base / "out"
    with smtp_mailbox() as box, pytest.MonkeyPatch.context() as mp:
        delivery = ""
        if shutil.which("rclone"):  # the zip goes to UCLA Box: here a local rclone remote
            delivery = f'[delivery]\nremote = "{alias_remote(mp, "box", base / "box")}STEREO L1"\n'
        (base / "magfw.toml").write_text(
            box.toml(
                RECIPIENTS,
                {
                    "stereo_web_root": "/web/stereo/data",
                    "stereo_download_url": "https://box.example.edu/s/{name}",
                },
            )
            + delivery
        )
        mp.chdir(base)
        for var in ("MAGFW_DATA", "MAGFW_PLUGINS", "MAGFW_ZIP_PASSWORD"):
            mp.delenv(var, raising=False)
        summary = run_level(hooks, "stereo", "prep", "2024-01-01", out, spacecraft="A")
        assert summary.ok, [r.message for r in summary.results]
        archive = simulated_root(out, "stereo", "A", 0)
        researcher = archive / layout.INPUT_OFFSETS_DIR / offsets_file_name("A", 2024, 1)
        res = run_cli(["stereo", "offsets", "import", str(researcher), "--out", str(out)], hooks)
        assert res.exit_code == 0, res.stderr
        summary = run_level(hooks, "stereo", "l1", PERIOD, out, spacecraft="A")
        assert summary.ok, [r.message for r in summary.results]
        mp.setenv("MAGFW_ZIP_PASSWORD", PASSWORD)
        res = run_cli(["stereo", "package", "2024-01", "--out", str(out)], hooks)
        assert res.exit_code == 0, res.stderr
        yield Month(out, archive, box, res.stdout)


def mails(m: Month, event: str) -> list:
    return [msg for _, _, msg in m.mailbox.messages if msg["X-Magfw-Event"] == event]


def body(msg) -> str:
    return msg.get_content().replace("\r\n", "\n")


def l1_products(out: Path) -> dict[str, Path]:
    """Every L1 product file (CDF and flat-file header) by name."""
    return {
        p.name: p
        for p in out.rglob("*")
        if p.suffix in (".cdf", ".ffh")
        and ".magfw" not in p.parts
        and "_L1_MAG" in p.name
        and "REVIEW" not in p.name
    }


def test_separate_berkeley_spice_offsets_sources_equal_the_single_root_run(month, hooks, tmp_path):
    # the three parts of the archive on three "hosts" (folders), each at its own root
    berkeley, spice, offsets = tmp_path / "berkeley", tmp_path / "spice", tmp_path / "offsets"
    shutil.copytree(month.archive / "impact", berkeley / "impact")
    shutil.copytree(month.archive / layout.SPICE_ROOT, spice)
    shutil.copytree(month.archive / layout.OFFSETS_DIR, offsets)
    # the single-root run used the table imported from the researcher's file: the same one
    (imported,) = (month.out / "offsets").rglob("202401StereoACounts.asc")
    shutil.copyfile(imported, offsets / "202401StereoACounts.asc")
    out = tmp_path / "out"
    res = run_cli(
        [
            "run",
            "stereo",
            "l1",
            PERIOD,
            "--source",
            f"berkeley={berkeley}",
            "--source",
            f"spice={spice}",
            "--source",
            f"offsets={offsets}",
            "--out",
            str(out),
        ],
        hooks,
    )
    assert res.exit_code == 0, res.stdout + res.stderr
    single, split = l1_products(month.out), l1_products(out)
    assert sorted(single) == sorted(split) and len(single) >= 2 * 4
    for name, path in single.items():
        a, b = read_product(path), read_product(split[name])
        assert sorted(a.variables) == sorted(b.variables), name
        for var in a.variables:
            assert np.array_equal(a.variables[var], b.variables[var]), (name, var)
    # the kernels were read from the spice source, the data from the berkeley one
    kernels = read_cdf(split["STA_L1_MAG_RTN_20240101_V06.cdf"]).global_attrs["SPICE_kernels"]
    assert "stereo_rtn.tf" in str(kernels)
    log = (out / ".magfw" / "logs" / "magfw.log").read_text()
    assert "Traceback" not in log


def test_the_researcher_is_told_the_offsets_file_is_needed(month):
    (msg,) = mails(month, "stereo_offsets_needed")
    assert msg["To"] == "researcher@example.edu"
    assert "STEREO_A_offset_2024jan_avg.txt" in msg["Subject"]
    text = body(msg)
    assert "STEREO-A for January 2024" in text and "(1 day(s): 2024-01-01)" in text
    assert str(month.out / "l1_0_avg" / "Afgy2024") in text  # where the averages are
    assert str(month.out / "input_offsets") in text  # where the file goes
    assert f"magfw stereo offsets import {month.out / 'input_offsets'}" in text
    assert "'YEAR DOY O_X O_Y O_Z'" in text  # the layouts accepted


def test_the_web_operator_is_told_the_exact_files_to_copy(month):
    (msg,) = mails(month, "stereo_web_copy")
    assert msg["To"] == "web@example.edu"
    text = body(msg)
    flat = sorted(p for p in (month.out / "l1_final_flat").rglob("*") if p.suffix in (".ffh", ".ffd"))
    assert len(flat) >= 2 * 8 and f"({len(flat)} files, 2024-01)" in text
    for p in flat:  # every flat file the run wrote, in the cp -pu list of its web folder
        assert f"    {p} \\" in text, p
    assert "$ mkdir -p /web/stereo/data/L1_sc/Afgy2024 && cd /web/stereo/data/L1_sc/Afgy2024" in text
    assert "/web/stereo/data/L1_rtn/Afgy2024" in text
    assert "--from l1_final_flat --to /web/stereo/data" in text


def test_berkeley_is_told_the_zip_name_checksum_and_link(month):
    (msg,) = mails(month, "stereo_delivery")
    assert msg["To"] == "berkeley@example.edu, peter@example.edu"
    (zip_path,) = (month.out / "prep_zips" / "l1_MAG").glob("*.zip")
    text = body(msg)
    assert zip_path.name == "stereo_MAG_MAGB_CDF_2024jan.zip" and zip_path.name in msg["Subject"]
    assert f"SHA-256:  {hashlib.sha256(zip_path.read_bytes()).hexdigest()}" in text
    assert f"size:     {zip_path.stat().st_size:,} bytes" in text
    assert "download: https://box.example.edu/s/stereo_MAG_MAGB_CDF_2024jan.zip" in text
    assert "traditional PKWARE encryption: opens with `unzip -P`" in text
    assert PASSWORD not in text and "the password comes separately" in text
    assert "traditional PKWARE encryption" in month.zip_output  # the command said so too


def test_the_zip_went_to_the_remote_and_the_mail_says_where(month):
    """[delivery] remote: the month's zip and its SHA256SUMS on the rclone remote, byte for
    byte, and the mail's "uploaded:" line; the remote makes no link, so the download URL stays
    the configured one."""
    need_rclone()
    (zip_path,) = (month.out / "prep_zips" / "l1_MAG").glob("*.zip")
    there = month.out.parent / "box" / "STEREO L1"
    assert (there / zip_path.name).read_bytes() == zip_path.read_bytes()
    sums = (there / "stereo_MAG_MAGB_CDF_2024jan.SHA256SUMS").read_text()
    assert sums == f"{hashlib.sha256(zip_path.read_bytes()).hexdigest()}  {zip_path.name}\n"
    text = body(mails(month, "stereo_delivery")[0])
    assert f"  uploaded: box:STEREO L1/{zip_path.name} (SHA-256 checked on the remote; checksums: " in text


def test_pyspedas_stereo_loader_reads_a_magfw_l1_day_from_local_files(month, tmp_path, monkeypatch):
    """pySPEDAS's STEREO MAG loader (pyspedas.projects.stereo.mag), pointed at magfw's L1 RTN
    CDF laid out as Berkeley serves it (impact/level1/ahead/mag/RTN/YYYY/MM/), with no
    network (no_update): the same variable, units and times, the values of the CDF."""
    pyspedas = pytest.importorskip("pyspedas")
    from pyspedas.projects.stereo.config import CONFIG

    from magfw.geometry.time import tt2000_from_cdf_epoch

    name = "STA_L1_MAG_RTN_20240101_V06.cdf"
    src = next(month.out.rglob(name))
    local = tmp_path / "stereo_data"
    dest = local / "impact/level1/ahead/mag/RTN/2024/01" / name
    dest.parent.mkdir(parents=True)
    shutil.copyfile(src, dest)
    monkeypatch.setitem(CONFIG, "local_data_dir", str(local) + "/")
    monkeypatch.setitem(CONFIG, "no_download", True)
    names = pyspedas.projects.stereo.mag(trange=["2024-01-01", "2024-01-02"], probe="a", no_update=True)
    assert names == ["BFIELD"]
    data = pyspedas.get_data("BFIELD")
    meta = pyspedas.get_data("BFIELD", metadata=True)
    cdf = read_cdf(src)
    b = cdf.variables["BFIELD"].astype(np.float64)
    b[b <= -1e30] = np.nan  # pySPEDAS turns FILLVAL into NaN
    assert data.y.shape == b.shape == (691200, 4)
    assert np.array_equal(np.isnan(data.y), np.isnan(b))
    assert np.array_equal(data.y[~np.isnan(b)], b[~np.isnan(b)])
    # times: CDF_EPOCH (ms) as pySPEDAS gives them (Unix seconds), to the microsecond
    tt = np.asarray(tt2000_from_cdf_epoch(cdf.variables["Epoch"]), dtype=np.int64)
    unix = (np.asarray(cdf.variables["Epoch"], dtype=np.float64) - 62167219200000.0) / 1e3
    got = np.asarray(data.times)
    if np.issubdtype(got.dtype, np.datetime64):
        got = got.astype("datetime64[ns]").astype(np.int64) / 1e9
    got = got.astype(np.float64)
    assert np.max(np.abs(got - unix)) < 1e-5 and tt.size == got.size
    vatt = meta["CDF"]["VATT"]
    assert vatt["UNITS"] == "nT" and vatt["DEPEND_0"] == "Epoch"
    assert vatt["LABL_PTR_1"] == "CART_LABL_1"


def test_every_cdf_product_opens_with_cdflib_xarray_and_carries_the_istp_globals(month):
    """cdflib.cdf_to_xarray opens each CDF the month made (daily SC/RTN, MAG and MAGB, the
    review CDFs) with the field's values; the ISTP globals the public STEREO L1 files carry,
    the recommended ones, and a Logical_file_id that begins with the Logical_source."""
    from cdflib.xarray import cdf_to_xarray

    cdfs = sorted(p for p in month.out.rglob("*.cdf") if ".magfw" not in p.parts)
    assert len(cdfs) >= 2 * 2 + 2  # two days x SC/RTN and the review CDFs (SC, RTN)
    for path in cdfs:
        # to_datetime=False: cdflib's per-record date conversion takes ~13 s a day; the
        # times are checked in the pySPEDAS test
        ds = cdf_to_xarray(str(path), to_datetime=False, fillval_to_nan=True)
        raw = read_cdf(path)
        b = raw.variables["BFIELD"].astype(np.float64)
        b[b <= -1e30] = np.nan
        assert np.array_equal(np.asarray(ds["BFIELD"].values, dtype=np.float64), b, equal_nan=True), path.name
        assert ds["BFIELD"].attrs["UNITS"] == "nT" and ds.sizes[ds["BFIELD"].dims[0]] == len(b)
        g = raw.global_attrs
        for key in (
            "Project",
            "Source_name",
            "Discipline",
            "Data_type",
            "Descriptor",
            "Data_version",
            "Logical_file_id",
            "Logical_source",
            "Logical_source_description",
            "PI_name",
            "PI_affiliation",
            "TEXT",
            "Instrument_type",
            "Mission_group",
            "Time_resolution",
            "Acknowledgement",
            "Rules_of_use",
            "Generated_by",
            "HTTP_LINK",
            "LINK_TEXT",
            "LINK_TITLE",
            "MODS",
            "Generation_date",
            "Software_version",
        ):
            assert g.get(key) not in (None, "", []), (path.name, key)
        assert str(g["Logical_file_id"]) == path.stem
        assert path.stem.startswith(str(g["Logical_source"]) + "_"), path.name
        assert str(g["Source_name"]).startswith("Ahead") and str(g["Data_version"]) == "6"
        assert str(g["PI_name"]) == "J. Luhmann" and str(g["Mission_group"]) == "STEREO"
        sw = str(g["Software_version"])
        assert sw.startswith("magfw ") and "(core)" in sw and "stereo plugin" in sw


def test_quicklook_draws_the_definitions_panels_and_says_simulated(month, tmp_path):
    """magfw plot on an L1 RTN day: the definition's quicklook block (B RTN and |B|), titled
    with spacecraft, frame and version, and SIMULATED (its inputs were simulated)."""
    from magfw.plugin.definitions import find_definition
    from magfw.plugin.manager import get_hooks
    from magfw.tools.plot import quicklook_spec

    path = next(month.out.rglob("STA_L1_MAG_RTN_20240101_V06.cdf"))
    definition, _ = find_definition(path.as_posix(), get_hooks().registry.definitions())
    spec = quicklook_spec(path, definition=definition)
    assert spec.title.startswith("STEREO-A IMPACT/MAG L1 8 Hz, RTN\n")
    assert "spacecraft A" in spec.title and "  ·  V06  ·  " in spec.title
    assert spec.title.endswith("SIMULATED")
    assert [list(p.series) for p in spec.panels] == [["BR", "BT", "BN"], ["BTotal"]]
    b = read_cdf(path).variables["BFIELD"].astype(np.float64)
    b[b <= -1e30] = np.nan
    assert np.array_equal(spec.panels[0].series["BT"], b[:, 1], equal_nan=True)
    res = run_cli(["plot", str(path), "-o", str(tmp_path / "q.png")])
    assert res.exit_code == 0 and (tmp_path / "q.png").stat().st_size > 10_000
