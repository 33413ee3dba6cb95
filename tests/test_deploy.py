"""The scheduled runs shipped in deploy/ (docs/operations.md): the systemd timer and service
units pass ``systemd-analyze verify`` (skipped with the reason where it is absent); every magfw
command they and the cron lines run is a command magfw takes, with the levels' default periods
(no PERIOD given); the step-2 condition asks ``--dry-run`` and starts step 2 only when
something would run; deploy/magfw.toml is valid for the installed missions.
"""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from magfw.config.load import load_config
from magfw.plugin.manager import get_hooks
from magfw.testing import run_cli

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("magfw-*"))
CRON = DEPLOY / "cron" / "magfw"
MAGFW = "/usr/local/bin/magfw"


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path)
    return parser


def exec_lines(path: Path) -> list[str]:
    """The Exec lines of a service, as systemd runs them (``$$`` is ``$``)."""
    return [
        line.split("=", 1)[1].replace("$$", "$")
        for line in path.read_text().splitlines()
        if re.match(r"^Exec(Start|Condition)=", line)
    ]


def magfw_commands(text: str) -> list[list[str]]:
    """Every ``magfw ...`` invocation in a command line (shell words after ``magfw``)."""
    out = []
    for match in re.finditer(r"(?:/usr/local/bin/)?\bmagfw (run [^;&|)']+)", text):
        words = shlex.split(match.group(1).replace('"$level"', "offsets").replace("$level", "offsets"))
        out.append(words)
    return out


def test_every_timer_has_its_service_and_they_are_documented():
    timers = [p for p in UNITS if p.suffix == ".timer"]
    assert {p.stem for p in timers} == {"magfw-stereo-step1", "magfw-stereo-step2", "magfw-plastic-check"}
    for timer in timers:
        assert timer.with_suffix(".service").is_file()
        parsed = unit(timer)
        assert parsed["Timer"]["OnCalendar"].endswith("UTC") and parsed["Timer"]["Persistent"] == "true"
        assert parsed["Install"]["WantedBy"] == "timers.target"
    docs = (ROOT / "docs" / "operations.md").read_text()
    for p in UNITS:
        assert p.name in docs, f"docs/operations.md does not name {p.name}"
    assert "deploy/cron/magfw" in docs and "operations.md" in (ROOT / "README.md").read_text()


def test_the_units_pass_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian's systemd; tests/run installs it)")
    magfw = Path(sys.executable).with_name("magfw")
    assert magfw.is_file(), "the magfw command of this Python"
    for p in UNITS:  # the units name /usr/local/bin/magfw: verify them naming this one
        (tmp_path / p.name).write_text(p.read_text().replace(MAGFW, str(magfw)))
    done = subprocess.run(
        [analyze, "verify", *sorted(str(p) for p in tmp_path.iterdir())], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "magfw-" not in done.stderr, done.stderr  # no warning about our units either
    broken = tmp_path / "magfw-stereo-step1.timer"
    broken.write_text(broken.read_text().replace("*-*-01 06:00:00 UTC", "the first of the month"))
    done = subprocess.run([analyze, "verify", str(broken)], capture_output=True, text=True)
    assert done.returncode != 0  # verify does judge what it is given


def test_the_services_and_cron_lines_run_magfw_commands_with_default_periods():
    """Each magfw command of the units and of the cron file is one magfw parses, with no PERIOD
    (the levels' default periods: the current month minus two), no --source (magfw.toml's)."""
    texts = [line for p in UNITS if p.suffix == ".service" for line in exec_lines(p)]
    cron = [
        line
        for line in CRON.read_text().splitlines()
        if line and not line.startswith("#") and "=" not in line.split()[0]
    ]
    assert len(cron) == 3
    for line in cron:
        fields = line.split(None, 6)
        assert re.fullmatch(r"[0-9*,/-]+", " ".join(fields[:5]).replace(" ", "")), line
        assert fields[5] == "magfw" and fields[6].startswith("cd /etc/magfw && ")
    commands = [
        c for text in [*texts, *(line.split(None, 6)[6] for line in cron)] for c in magfw_commands(text)
    ]
    assert {tuple(c[:3]) for c in commands} == {
        ("run", "stereo", "prep"),
        ("run", "stereo", "offsets"),
        ("run", "stereo", "package"),
        ("run", "plastic", "package"),
    }
    registry = get_hooks().registry
    for c in commands:
        level = registry.get(c[1]).level(c[2])
        assert level.default_period is not None, c
        assert all(not w[:1].isdigit() for w in c[3:]) and "--source" not in c, c
        assert set(c[3:]) <= {"--dry-run"}, c


def test_the_default_periods_are_the_seeds(monkeypatch):
    """At the start of month N: STEREO's month N-2, PLASTIC's year of that month."""
    from magfw import period

    registry = get_hooks().registry
    monkeypatch.setattr(period, "utc_today", lambda: date(2025, 2, 1))
    stereo = registry.get("stereo")
    for name in ("prep", "offsets", "l1", "merge", "package"):
        assert str(stereo.level(name).default_period.period()) == "2024-12", name
    for name in ("daily", "monthly", "l2", "package"):
        assert str(registry.get("plastic").level(name).default_period.period()) == "2024", name
    monkeypatch.setattr(period, "utc_today", lambda: date(2025, 3, 1))
    assert str(registry.get("plastic").level("package").default_period.period()) == "2025"


def test_deploy_magfw_toml_is_valid_for_the_installed_missions():
    config = load_config(DEPLOY / "magfw.toml", registry=get_hooks().registry)
    assert config.delivery.remote_for("stereo_delivery") == "box:STEREO deliveries"
    assert config.delivery.remote_for("plastic_delivery") == "box:STEREO PLASTIC deliveries"
    assert config.missions["stereo"]["sources"]["offsets"] == config.out


@pytest.mark.slow  # over half a second: the whole suite runs it
def test_the_step2_condition_starts_it_only_when_something_would_run(tmp_path, monkeypatch):
    """The ExecCondition of step 2, run as systemd runs it (bash, ``$$`` as ``$``, the
    credential in ``$CREDENTIALS_DIRECTORY``) on a tree of STEREO's month N-2 from the
    simulator: something would run (never processed): exit 0; a dry run that fails (a broken
    magfw.toml): 255, which fails the service; the zip password never on a command line."""
    from magfw import period

    monkeypatch.setattr(period, "utc_today", lambda: date(2024, 3, 1))
    condition = next(
        e for e in exec_lines(DEPLOY / "systemd" / "magfw-stereo-step2.service") if "--dry-run" in e
    )
    assert "MAGFW_ZIP_PASSWORD" not in " ".join(shlex.split(condition)[:2])
    script = shlex.split(condition)[2]  # /bin/bash -c SCRIPT
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "magfw-zip-password").write_text("Step2-canary-55aa")
    fake = tmp_path / "bin" / "magfw"  # the CLI in-process would be faster; this is the command line
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\nexec {sys.executable} -m magfw "$@" --source simulated\n')
    fake.chmod(0o755)
    env = {"PATH": f"{fake.parent}:/usr/bin:/bin", "CREDENTIALS_DIRECTORY": str(creds), "HOME": str(tmp_path)}
    env["MAGFW_DATA"] = str(tmp_path / "out")
    env["MAGFW_LOG"] = str(tmp_path / "log")
    script = script.replace(MAGFW, "magfw")
    done = subprocess.run(["/bin/bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr  # never processed: step 2 would start
    (tmp_path / "magfw.toml").write_text("[delivery]\nremot = 'box:'\n")
    done = subprocess.run(["/bin/bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 255 and "remot: unknown key" in done.stderr
    assert not (tmp_path / "out").exists()  # dry runs: nothing written
    res = run_cli(
        ["run", "stereo", "offsets", "--source", "simulated", "--out", str(tmp_path / "o2"), "--dry-run"]
    )
    assert res.exit_code == 2  # the same broken magfw.toml, in-process too
