"""The fault corpus for PLASTIC + MAG: one damaged input of 02-01 (a PLASTIC 1-min file in each
way people have seen them damaged, or a truncated MAG L1 CDF) fails that day only, with one
line naming the file; 02-02 and the month and year are made and name 02-01 as missing; the
earlier products of 02-01 stay byte-identical and nothing partial is left; repaired, a rerun
makes 02-01 and the month and year again.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
import test_plastic_pipeline as pp
from test_faults import leftovers, products

from magfw.api import read_cdf, read_product
from magfw.testing import run_cli

pytestmark = pytest.mark.slow
# the pipeline tests' simulated archive and merged tree
archive, quiet_env, merged = pp.archive, pp.quiet_env, pp.merged

DAMAGE = {
    "header only": "header only: no data rows",
    "garbage number": "column 'Np [1/cc]': 'x' is not a number",
    "short row": "line 8 has 20 fields, the header has 42",
    "zero bytes": "empty file (0 bytes)",
    "row of another day": "is not on 2024-02-01",
    "truncated MAG": "not a readable CDF: truncated",
}


def damage(path: Path, how: str) -> None:
    if how == "truncated MAG":
        path.write_bytes(path.read_bytes()[:5000])
        return
    lines = path.read_text().split("\n")
    if how == "header only":
        path.write_text("\n".join(lines[:2]) + "\n")
    elif how == "garbage number":
        cells = lines[5].split("\t")
        cells[8] = "x"  # the Np column
        lines[5] = "\t".join(cells)
        path.write_text("\n".join(lines))
    elif how == "short row":
        lines[7] = "\t".join(lines[7].split("\t")[:20])
        path.write_text("\n".join(lines))
    elif how == "zero bytes":
        path.write_bytes(b"")
    else:  # a row of another day
        lines[6] = lines[6].replace("2024-02-01/", "2024-02-02/", 1)
        path.write_text("\n".join(lines))


@pytest.mark.parametrize("how", list(DAMAGE))
def test_one_damaged_input_fails_its_day_only(archive, tmp_path, caplog, how):
    root = tmp_path / "archive"
    shutil.copytree(archive, root)
    day, hooks = date(2024, 2, 1), pp.plastic_hooks()
    if how == "truncated MAG":
        d = pp.sim.mag_definition()
        bad = root / d.filename.format(sc=pp.SC, yyyy=2024, mm=2, dd=1, version=6)
    else:
        bad = root / pp.sim.plastic_name(pp.SC, "1min", day, 11)
    good = bad.read_bytes()
    out = tmp_path / "out"
    assert pp.run(hooks, "2024-02-01..2024-02-02", root, out).ok  # the earlier products
    before = products(out)

    damage(bad, how)
    with caplog.at_level("WARNING", logger="magfw"):
        summary = pp.run(hooks, "2024-02-01..2024-02-02", root, out)
    # 02-02 reads the last rows of 02-01's file for its edge cycle: a whole damaged file costs
    # it that cycle (a warning, and a new version of 02-02); damage early in the file is not
    # read there at all
    whole = how in ("header only", "zero bytes")
    assert (f"2024-02-02: edge cycles not used: {bad}" in caplog.text) == whole
    failed = [r for r in summary.results if r.status == "failed"]
    assert [(r.level, r.unit.key) for r in failed] == [("daily", "2024-02-01")]
    message = failed[0].message
    assert message.startswith(str(bad) + ": ") and DAMAGE[how] in message
    assert "\n" not in message
    after = products(out)
    kept = [p for p in before if "20240201" in p]
    assert kept and all(after[p] == before[p] for p in kept)  # 02-01's earlier products kept
    assert leftovers(out) == []

    bad.write_bytes(good)  # repaired: the day is made, the month and the year follow
    again = pp.run(hooks, "2024-02-01..2024-02-02", root, out)
    assert again.ok, [r.message for r in again.results]
    feb = read_product(out / pp.FEB)
    assert feb.global_attrs["DAYS WITHOUT INPUTS"] == "2024-02-03..2024-02-29"
    assert read_cdf(out / pp.YEARLY).global_attrs["Days_in_file"] == "2024-02-01..2024-02-02"


def test_without_earlier_products_the_month_and_year_name_the_failed_day(archive, tmp_path):
    root = tmp_path / "archive"
    shutil.copytree(archive, root)
    damage(root / pp.sim.plastic_name(pp.SC, "1min", date(2024, 2, 1), 11), "short row")
    out = tmp_path / "out"
    summary = pp.run(pp.plastic_hooks(), "2024-02-01..2024-02-02", root, out)
    assert [(r.level, r.unit.key) for r in summary.results if r.status == "failed"] == [
        ("daily", "2024-02-01")
    ]
    assert not pp.daily_path(out, date(2024, 2, 1)).exists()
    feb = read_product(out / pp.FEB)
    assert feb.variables["TIME"].size == 1440
    assert feb.global_attrs["DAYS WITHOUT INPUTS"] == "2024-02-01, 2024-02-03..2024-02-29"
    year = read_cdf(out / pp.YEARLY)
    assert year.global_attrs["Days_in_file"] == "2024-02-02"
    assert "2024-02-01, 2024-02-03" in year.global_attrs["Days_without_inputs"]


def test_an_unencrypted_delivery_zip_is_a_warning_on_stderr(merged, tmp_path):
    """No MAGFW_ZIP_PASSWORD: the year's zip is made, and stderr says it is not encrypted (it
    was said only in the stdout table)."""
    out = tmp_path / "out"
    shutil.copytree(merged[0], out)
    res = run_cli(["run", "plastic", "package", "2024", "--out", str(out)], pp.plastic_hooks())
    assert res.exit_code == 0, res.stdout + res.stderr
    warnings = [ln for ln in res.stderr.splitlines() if ln.startswith("magfw: warning: ")]
    assert warnings == [
        # packaging what the tree holds without --source: the l2 it needs is not remade, and said
        "magfw: warning: plastic l2 (needed by plastic package) is not run: no --source was given; "
        "the products already in the output tree are used",
        "magfw: warning: plastic package 2024: the delivery zip is NOT encrypted: MAGFW_ZIP_PASSWORD "
        "is not set (set it to encrypt the zip)",
    ], res.stderr
    assert (out / "prep_zips/l2_merge/stereo_PLASTIC_MAG_yearly_cdf_2024.zip").is_file()
