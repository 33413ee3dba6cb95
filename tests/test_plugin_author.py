"""What a plugin author was left to guess (issue 21), answered by code and checked here on the
"zeta" plugin (tests/zetaplugin.py: a daily CDF level, a monthly netCDF level that needs it,
attitude quaternions): level options, their checks and how they reach the levels a level needs;
a needed level never remade with other options behind the user's back; --force and
--force-all; a needed level without a source said in one line; every error class raised the
documented way from a step, a plugin command and registration, with the documented exit code
and one line; the calibration of inputs carried by derived products, one format in CDF and
netCDF. (netCDF time and definitions: test_netcdf_definitions.py; attitude: test_attitude.py.)
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from zetaplugin import ERRORS, BrokenRegistration, Zeta

import magfw.api as api
from magfw.engine.jobs import RunRequest
from magfw.engine.ledger import Ledger
from magfw.engine.runner import Runner
from magfw.period import parse_period
from magfw.plugin.loading import build_plugin_manager
from magfw.plugin.manager import Hooks
from magfw.testing import make_hooks, run_cli, run_level

DAY = "2024-01-01"


@pytest.fixture
def hooks() -> Hooks:
    return make_hooks(Zeta(), names=["zeta"])


def _run(hooks: Hooks, out: Path, *args: str, source: str | None = "simulated"):
    extra = ["--source", source] if source else []
    return run_cli(["run", "zeta", *args, "--out", str(out), "--workers", "1", *extra], hooks)


def _files(out: Path) -> dict[str, str]:
    products = [p for p in sorted((out / "zeta").rglob("ZETA_L*"))]  # not the simulated archive
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in products}


def _options(out: Path, unit: str) -> dict:
    return Ledger(out / ".magfw" / "ledger.sqlite").last_ok(unit).versions["options"]


# ---------------------------------------------------------------------------------------------
# Options: types and ranges checked before anything is written (exit 2)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ["--despike-window", "4"],
            "option --despike-window: 4 must be odd (a running median has a middle sample)",
        ),
        (["--despike-window", "1"], "option --despike-window: 1 is below the minimum 3"),
        (["--despike-window=2.5"], "option --despike-window: '2.5' is not an int"),
        (["--spike-nt", "nan"], "option --spike-nt: nan is not a finite number"),
        (["--spike-nt=-1"], "option --spike-nt: -1.0 is below the minimum 0.0"),
        (["--spike-nt"], "option --spike-nt needs a value"),
        (["--despike-windw", "5"], "no such option --despike-windw for zeta l1"),
    ],
)
@pytest.mark.parametrize("level", ["l1", "l2"])  # l2 takes the options of the l1 it needs
def test_a_bad_option_value_is_one_line_and_exit_2_before_anything_is_written(
    hooks, tmp_path, args, said, level
):
    out = tmp_path / "out"
    res = _run(hooks, out, level, DAY, *args)
    assert res.exit_code == 2, res.stderr
    shown = said.replace("zeta l1", f"zeta {level}")
    assert res.stderr.startswith(f"magfw: error: {shown}") and res.stderr.count("\n") == 1, res.stderr
    assert not out.exists()  # nothing written, not even the tree


def test_option_values_given_in_code_are_checked_by_the_runner(hooks, tmp_path):
    out = tmp_path / "out"

    def request(**options: object) -> RunRequest:
        return RunRequest(
            mission="zeta",
            level="l2",
            period=parse_period(DAY),
            out_dir=out,
            source="simulated",
            options=options,
        )

    with pytest.raises(api.UsageError, match="despike-window: 4 must be odd"):
        Runner(hooks).run(request(despike_window=4))
    with pytest.raises(api.UsageError, match=r"despike-window: 2\.5 is not an int"):
        Runner(hooks).run(request(despike_window=2.5))
    with pytest.raises(api.UsageError, match="no level of this run of zeta l2 takes --gain"):
        Runner(hooks).run(request(gain=2.0))
    assert not out.exists()
    summary = Runner(hooks).run(request(despike_window="5"))  # text is parsed, as on the command line
    assert summary.ok and _options(out, f"zeta/l1/-/{DAY}")["despike_window"] == 5


def test_a_bad_declaration_is_refused_when_the_level_is_declared():
    from pydantic import ValidationError
    from zetaplugin import odd

    with pytest.raises(ValidationError, match="option --w: default 4 must be odd"):
        api.LevelOption(name="w", type="int", default=4, check=odd)
    with pytest.raises(ValidationError, match="choices are for str options"):
        api.LevelOption(name="w", type="int", choices=["1"])
    with pytest.raises(ValidationError, match="min 5.0 is above max 1.0"):
        api.LevelOption(name="w", type="float", min=5, max=1)
    one, other = api.LevelOption(name="w", type="int"), api.LevelOption(name="w", type="float")
    with pytest.raises(ValidationError, match="option 'w' is declared differently by levels a and b"):
        api.Mission(
            id="m",
            title="m",
            levels={"a": api.Level(name="a", options=[one]), "b": api.Level(name="b", options=[other])},
        )


def test_a_bool_option_takes_yes_and_no_and_refuses_anything_else():
    flag = api.LevelOption(name="aes", type="bool", default=False)
    assert [flag.parse(None), flag.parse("no"), flag.parse("YES"), flag.checked(False)] == [
        True,
        False,
        True,
        False,
    ]
    with pytest.raises(api.UsageError, match="'maybe' is not a bool"):
        flag.parse("maybe")


# ---------------------------------------------------------------------------------------------
# needs: options reach the levels a level needs; a needed level is never remade silently
# ---------------------------------------------------------------------------------------------


def test_magfw_options_lists_what_a_run_of_a_level_takes(hooks):
    res = run_cli(["options", "zeta", "l2"], hooks)
    assert res.exit_code == 0, res.stderr
    assert res.stdout.splitlines() == [
        "zeta l2:",
        "  --despike-window INT (default 9; 3 to 99, checked, from l1)",
        "      samples in the running median",
        "  --spike-nt FLOAT (default 50.0; >= 0.0, from l1)",
        "      spike threshold (nT)",
    ]
    assert run_cli(["options", "zeta", "nope"], hooks).exit_code == 2


def test_a_dependent_level_hands_its_options_to_the_levels_it_needs(hooks, tmp_path):
    out = tmp_path / "out"
    res = _run(hooks, out, "l2", DAY, "--despike-window", "5")
    assert res.exit_code == 0, res.stderr
    assert _options(out, f"zeta/l1/-/{DAY}") == {"despike_window": 5, "spike_nt": 50.0}


@pytest.mark.slow  # over half a second: the whole suite runs it
def test_a_plain_run_of_a_dependent_level_keeps_the_options_its_needs_were_made_with(hooks, tmp_path):
    out = tmp_path / "out"
    assert _run(hooks, out, "l1", DAY, "--despike-window", "5").exit_code == 0
    made = _files(out)
    res = _run(hooks, out, "l2", DAY)  # a plain run: the day made with 5 is not remade with 9
    assert res.exit_code == 0, res.stderr
    assert {k: v for k, v in _files(out).items() if "L1" in k} == made  # no new l1 version
    assert "kept --despike-window 5 (planned 9) of its last run" in res.stdout
    warning = [line for line in res.stderr.splitlines() if "despike-window" in line]
    assert warning == [
        "magfw: warning: zeta l1: 1 unit(s) made with other options were kept as they are "
        "(--despike-window 5 (planned 9)); to remake them, give --despike-window VALUE"
    ]
    assert _options(out, f"zeta/l1/-/{DAY}")["despike_window"] == 5
    # giving the option is the user's choice: the day is remade, as the next version
    res = _run(hooks, out, "l2", DAY, "--despike-window", "9")
    assert res.exit_code == 0 and "kept" not in res.stdout, res.stdout
    assert {"ZETA_L1_20240101_V00.cdf", "ZETA_L1_20240101_V01.cdf", "ZETA_L2_202401_V01.nc"} <= set(
        _files(out)
    )
    entry = Ledger(out / ".magfw" / "ledger.sqlite").last_ok(f"zeta/l1/-/{DAY}")
    assert entry.versions["options"]["despike_window"] == 9 and "options" in entry.reason
    # the requested level itself takes what it is given (here: its default)
    res = _run(hooks, out, "l1", DAY, "--despike-window", "7")
    assert res.exit_code == 0 and "v2: options" in res.stdout, res.stdout


def test_force_redoes_the_level_and_force_all_its_needs_and_no_version_is_rewritten(hooks, tmp_path):
    out = tmp_path / "out"
    assert _run(hooks, out, "l2", DAY).exit_code == 0
    first = _files(out)
    assert set(first) == {"ZETA_L1_20240101_V00.cdf", "ZETA_L2_202401_V00.nc"}
    res = _run(hooks, out, "l2", DAY, "--force")
    assert res.exit_code == 0, res.stderr
    after = _files(out)
    assert set(after) - set(first) == {"ZETA_L2_202401_V01.nc"}  # the level, not what it needs
    assert all(after[k] == v for k, v in first.items())  # V00 untouched
    res = _run(hooks, out, "l2", DAY, "--force-all")
    assert res.exit_code == 0, res.stderr
    last = _files(out)
    assert set(last) - set(after) == {"ZETA_L1_20240101_V01.cdf", "ZETA_L2_202401_V02.nc"}
    assert all(last[k] == v for k, v in after.items())
    reasons = [e.reason for e in Ledger(out / ".magfw" / "ledger.sqlite").history("zeta/l2/-/2024-01")]
    assert (
        reasons[:2] == [None, "rerun forced"] and "new input zeta/l1/ZETA_L1_20240101_V01.cdf" in reasons[2]
    )


def test_a_needed_level_without_a_source_says_so_in_one_line(hooks, tmp_path):
    out = tmp_path / "out"
    res = _run(hooks, out, "l2", DAY, source=None)  # l2 reads the tree; the l1 it needs, an archive
    line = (
        "magfw: warning: zeta l1 (needed by zeta l2) is not run: no --source was given; "
        "the products already in the output tree are used"
    )
    assert line in res.stderr.splitlines(), res.stderr
    assert res.exit_code == 1 and "no zeta l1 product of 2024-01: run zeta l1 first" in res.stderr
    assert _run(hooks, out, "l1", DAY).exit_code == 0
    res = _run(hooks, out, "l2", DAY, source=None)
    assert res.exit_code == 0 and line in res.stderr.splitlines(), res.stderr
    dry = _run(hooks, out, "l2", DAY, "--dry-run", source=None)
    assert dry.exit_code == 0 and line in dry.stderr.splitlines()


# ---------------------------------------------------------------------------------------------
# Errors: each class raised the documented way, its exit code and one line
# ---------------------------------------------------------------------------------------------


def _message(name: str, form: str, where: str) -> str:
    text = f"{name} raised as documented"
    return text if form == "one" else f"{where}: {text}"


@pytest.mark.parametrize("form", ["one", "two"])
@pytest.mark.parametrize("name", ERRORS)
def test_an_error_raised_in_a_step_fails_its_unit_in_one_line_and_the_run_exits_1(
    hooks, tmp_path, name, form
):
    out, root = tmp_path / "out", tmp_path / "archive"
    root.mkdir()
    step = ("fetch", "read", "write")[(ERRORS.index(name) + len(form)) % 3]  # each step, in turn
    res = _run(hooks, out, "fail", DAY, "--error", name, "--form", form, "--step", step, source=str(root))
    assert res.exit_code == 1, res.stderr
    line = f"magfw: zeta fail {DAY}: {_message(name, form, f'{root}/zeta.bin')}"
    assert res.stderr.splitlines()[0] == line, res.stderr
    assert res.stderr.splitlines()[1].startswith("details of failures: ")
    assert len(res.stderr.splitlines()) == 2 and "internal error" not in res.stdout + res.stderr


@pytest.mark.parametrize("form", ["one", "two"])
@pytest.mark.parametrize("name", ERRORS)
def test_an_error_raised_in_a_plugin_command_is_one_line_and_its_exit_code(hooks, name, form):
    res = run_cli(["zeta", "raise", name, "--form", form], hooks)
    assert res.exit_code == getattr(api, name).exit_code == (2 if name == "UsageError" else 1)
    assert res.stderr == f"magfw: error: {_message(name, form, 'zeta.cfg')}\n"


@pytest.mark.parametrize("form", ["one", "two"])
@pytest.mark.parametrize("name", ERRORS)
def test_an_error_raised_in_registration_leaves_the_plugin_out_with_one_line(name, form):
    said: list[str] = []
    pm = build_plugin_manager(
        autoload=False,
        allow=[],
        strict=False,
        extra=[("broken", BrokenRegistration(name, form)), ("zeta", Zeta())],
    )
    hooks = Hooks(pm, strict=False, warn=said.append)
    problem = _message(name, form, "broken/schemas/l1.yaml")
    what = "" if name == "PluginError" else "register_missions failed: "
    assert said == [f"plugin 'broken' not loaded: {what}{problem}"]
    res = run_cli(["missions"], hooks)  # every other mission works: exit 0
    assert res.exit_code == 0 and "zeta" in res.stdout
    with pytest.raises(api.PluginError) as strict:  # MAGFW_STRICT_PLUGINS=1, magfw.testing
        make_hooks(BrokenRegistration(name, form), names=["broken"])
    assert str(strict.value) == f"plugin 'broken': {what}{problem}" and strict.value.exit_code == 1


# ---------------------------------------------------------------------------------------------
# Calibration: carried by derived products, one format in CDF and netCDF
# ---------------------------------------------------------------------------------------------


def test_derived_products_carry_the_calibration_of_their_inputs_in_one_format(hooks, tmp_path):
    import cdflib
    import xarray as xr

    out = tmp_path / "out"
    summary = run_level(hooks, "zeta", "l2", DAY, out)
    assert summary.ok, [r.message for r in summary.results]
    l1 = sorted(out.rglob("ZETA_L1_*.cdf"))
    (l2,) = out.rglob("ZETA_L2_*.nc")
    text = "cal_table=V03; cal/ZETA_CAL_V03.txt"  # the l1's own, in l2 inherited
    for path in l1:
        assert api.read_cdf(path).global_attrs["Calibration_version"] in (text, [text])
        assert cdflib.CDF(str(path)).globalattsget()["Calibration_version"] == [text]  # one entry
    assert api.read_netcdf(l2).global_attrs["Calibration_version"] == text
    with xr.open_dataset(l2, engine="h5netcdf") as ds:
        assert ds.attrs["Calibration_version"] == text
