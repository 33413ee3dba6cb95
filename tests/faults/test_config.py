"""A mistake in ``magfw.toml`` stops every command before anything is written (exit 2) with one
line naming the file, the line, the key and the problem ("did you mean" for a misspelt key).

The misspellings are generated from the models: every key of every section
(:mod:`magfw.config.sections`) and of every installed mission's settings model, every
mission's notify events and settings, its source roles and its levels with a default period;
each misspelt file is given to every command of the CLI (magfw's and the plugins'). Seen
before: a misspelt ``out`` wrote the products elsewhere, a misspelt ``[missions.stereo]`` key
was ignored, a bad ``[notify]`` port was a warning after the run, ``out = 5`` an internal
error.
"""

from __future__ import annotations

import os
import re
import typing
from pathlib import Path

import pytest
import typer
from pydantic import BaseModel

from magfw.cli import build_app
from magfw.config.sections import MagfwConfig, MissionSettings
from magfw.errors import UsageError
from magfw.plugin.manager import get_hooks
from magfw.testing import make_hooks, run_cli, run_level

ROOT = Path(__file__).resolve().parents[2]


def misspelt(key: str) -> str:
    """``key`` as a hurried hand types it: two neighbouring letters swapped (``source`` ->
    ``osurce``), the last letter doubled in a short key (``l1`` -> ``l11``)."""
    if len(key) <= 3:
        return key + key[-1]
    i = next(i for i in range(len(key) - 1) if key[i] != key[i + 1])
    return key[:i] + key[i + 1] + key[i] + key[i + 2 :]


def toml_value(annotation: object) -> str:
    """A valid TOML value of a field's type (so that only the key's name is wrong)."""
    text = str(annotation)
    if "dict" in text:
        return "{}"
    if "list" in text:
        return "[]"
    if "bool" in text:
        return "true"
    if "float" in text:
        return "1.0"
    if "int" in text:
        return "1"
    return '"x"'


def _fields(model: type[BaseModel]) -> dict[str, object]:
    hints = typing.get_type_hints(model)
    return {name: hints[name] for name in model.model_fields}


def cases() -> list[tuple[str, str, str]]:
    """(id, magfw.toml text, the key the error line must name), from the models."""
    out: list[tuple[str, str, str]] = []
    for name, annotation in _fields(MagfwConfig).items():
        section = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
        if section is None:
            out.append((name, f"{misspelt(name)} = {toml_value(annotation)}\n", misspelt(name)))
            continue
        for key, sub in _fields(section).items():
            text = f"[{name}]\n{misspelt(key)} = {toml_value(sub)}\n"
            out.append((f"{name}.{key}", text, f"[{name}] {misspelt(key)}"))
    out.append(("missions", '[mision.stereo]\nsource = "x"\n', "mision"))
    for mission in get_hooks().registry:
        model = mission.settings
        text = f'[missions.{misspelt(mission.id)}]\nsource = "x"\n'
        out.append((f"missions.{mission.id}", text, f"[missions.{misspelt(mission.id)}]"))
        for key, sub in _fields(model).items():
            text = (
                f"# settings of {mission.id}\n[missions.{mission.id}]\n{misspelt(key)} = {toml_value(sub)}\n"
            )
            out.append((f"missions.{mission.id}.{key}", text, f"[missions.{mission.id}] {misspelt(key)}"))
        for event in model.notify_events:
            text = f'[notify.recipients]\n{misspelt(event)} = "a@example.org"\n'
            out.append((f"notify.recipients.{event}", text, f"[notify.recipients] {misspelt(event)}"))
        for key in model.notify_settings:
            text = f'[notify.settings]\n{misspelt(key)} = "x"\n'
            out.append((f"notify.settings.{key}", text, f"[notify.settings] {misspelt(key)}"))
        for role in model.source_roles or ():
            text = f'[missions.{mission.id}.sources]\n{misspelt(role)} = "/x"\n'
            out.append(
                (f"sources.{mission.id}.{role}", text, f"[missions.{mission.id}.sources] {misspelt(role)}")
            )
        for level in (lvl.name for lvl in mission.levels.values() if lvl.default_period is not None):
            text = f"[missions.{mission.id}.default_period]\n{misspelt(level)} = 2\n"
            key = f"[missions.{mission.id}.default_period] {misspelt(level)}"
            out.append((f"default_period.{mission.id}.{level}", text, key))
    return out


CASES = cases()


def test_the_misspellings_are_new_keys():
    known = set(MagfwConfig.model_fields)
    for section in _fields(MagfwConfig).values():
        known |= set(getattr(section, "model_fields", ()))
    for mission in get_hooks().registry:
        known |= {mission.id} | set(mission.levels)
        known |= set(mission.settings.model_fields) | set(mission.settings.notify_events)
        known |= set(mission.settings.notify_settings) | set(mission.settings.source_roles or ())
    assert len(CASES) > 40
    assert not {misspelt(k) for k in known} & known


def commands() -> list[list[str]]:
    """Every command of the CLI (magfw's own and the plugins'), as the words that call it."""
    found: list[list[str]] = []

    def walk(command: object, path: list[str]) -> None:
        subcommands = getattr(command, "commands", None)  # a group
        if subcommands is not None:
            for name, sub in subcommands.items():
                walk(sub, [*path, name])
        else:
            found.append(path)

    walk(typer.main.get_command(build_app()), [])
    return found


#: The arguments of a realistic call for the commands that work on a tree (the others get
#: none: the configuration is checked before the arguments are parsed).
REALISTIC = {
    "run": ["run", "stereo", "l1", "2024-01-01", "--source", "simulated", "--out", "out"],
    "publish": ["publish", "stereo", "l1", "2024-01-01", "--to", "web", "--out", "out"],
    "serve": ["serve", "--out", "out", "--port", "0"],
    "simulate": ["simulate", "stereo", "2024-01-01", "--out", "sim"],
    "aditya monitor": ["aditya", "monitor", "2024-08", "--out", "out"],
    "stereo package": ["stereo", "package", "2024-01", "--out", "out"],
    "new-plugin": ["new-plugin", "acme"],
    "plot": ["plot", "x.cdf", "-o", "x.png"],
}


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder (the log is outside it)."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def _written(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.name != "magfw.toml")


def _stops(words: list[str], text: str, key: str, folder: Path) -> None:
    """``magfw WORDS`` (a realistic call of it) with ``text`` as magfw.toml: exit 2, one line
    naming the file, line and key with a suggestion, nothing written."""
    (folder / "magfw.toml").write_text(text)
    line = text.count("\n", 0, text.index(key.split()[-1])) + 1
    name = " ".join(words)
    res = run_cli(REALISTIC.get(name, words))
    assert res.exit_code == 2, (name, res.stdout, res.stderr)
    (error,) = res.stderr.splitlines()
    assert error.startswith(f"magfw: error: magfw.toml: line {line}: {key}"), (name, error)
    assert "did you mean" in error, error
    assert _written(folder) == [], (name, _written(folder))


COMMANDS = commands()


def test_there_are_commands_to_stop():
    assert len(COMMANDS) > 15 and ["stereo", "offsets", "import"] in COMMANDS


@pytest.mark.parametrize(("case", "text", "key"), CASES, ids=[c[0] for c in CASES])
def test_a_misspelt_key_stops_every_command_with_one_line(case, text, key, folder):
    for words in COMMANDS:
        _stops(words, text, key, folder)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("out = 5\n", "line 1: out: must be a string, not 5"),
        ('\n[fetch]\ntimeout_s = "30"\n', 'line 3: [fetch] timeout_s: must be a number, not "30"'),
        ("[fetch]\nretries = 0\n", "line 2: [fetch] retries: must be >= 1, not 0"),
        ("[fetch]\ndeadline_s = -1\n", "line 2: [fetch] deadline_s: must be > 0, not -1"),
        ("[fetch]\nbackoff_s = -0.5\n", "line 2: [fetch] backoff_s: must be >= 0, not -0.5"),
        (
            '[notify]\nserver = "smtp.example.org:x"\n',
            "line 2: [notify] server: 'smtp.example.org:x': bad port",
        ),
        ('[notify]\nssl = "yes"\n', 'line 2: [notify] ssl: must be true or false, not "yes"'),
        ("[notify.recipients]\nstereo_delivery = 5\n", "line 2: [notify.recipients] stereo_delivery"),
        ("[missions]\nstereo = 5\n", "line 2: [missions] stereo: must be a table, not 5"),
        ("[missions]\nstereo = {source = 5}\n", "line 2: [missions.stereo] source: must be a string, not 5"),
        (
            "[missions.stereo.default_period]\nl1 = -1\n",
            "line 2: [missions.stereo.default_period] l1: must be >= 0",
        ),
        (
            '[missions.plastic]\nvnum = "11"\n',
            'line 2: [missions.plastic] vnum: must be a whole number, not "11"',
        ),
        (
            "[missions.aditya]\ncreator_email = 5\n",
            "line 2: [missions.aditya] creator_email: must be a string",
        ),
        ("out = [\n", "not valid TOML: "),
    ],
)
def test_a_wrong_type_is_named_with_the_file_line_and_key(text, line, folder):
    (folder / "magfw.toml").write_text(text)
    for args in (REALISTIC["run"], REALISTIC["publish"], ["aditya", "compare", "2024-08"]):
        res = run_cli(args)
        assert res.exit_code == 2 and "internal error" not in res.stderr, res.stderr
        assert res.stderr.startswith(f"magfw: error: magfw.toml: {line}"), res.stderr
        assert _written(folder) == []


def test_a_mission_table_is_checked_before_a_run_through_the_api(folder):
    """The planner checks the whole file against the run's missions (API runs included)."""
    from toyplugin import Toy

    hooks = make_hooks(Toy())
    (folder / "magfw.toml").write_text('[missions.toy]\nsorce = "/archive"\n')
    with pytest.raises(
        UsageError, match=r"line 2: \[missions.toy\] sorce: unknown key \(did you mean 'source'"
    ):
        run_level(hooks, "toy", "l1", "2024-01-01", folder / "out")
    assert not (folder / "out").exists()
    (folder / "magfw.toml").write_text('[missions.toy]\nsource = "simulated"\n')
    assert run_level(hooks, "toy", "l1", "2024-01-01", folder / "out").ok


def test_a_plugin_declares_its_settings_model(folder):
    """A mission's own keys are typed by its model; read with ``Model.configured(id)``."""
    from toyplugin import Toy

    class ToySettings(MissionSettings):
        gain: float = 1.0

    toy = Toy()
    hooks = make_hooks(toy)
    mission = hooks.registry.get("toy")
    mission.settings = ToySettings
    (folder / "magfw.toml").write_text("[missions.toy]\ngain = 2.5\n")
    out = ["--out", str(folder.parent / "out")]
    assert (
        run_cli(
            ["run", "toy", "l1", "2024-01-01", "--source", "simulated", "--dry-run", *out], hooks
        ).exit_code
        == 0
    )
    assert ToySettings.configured("toy").gain == 2.5
    (folder / "magfw.toml").write_text("[missions.toy]\ngian = 2.5\n")
    res = run_cli(["run", "toy", "l1", "2024-01-01", "--source", "simulated"], hooks)
    assert res.exit_code == 2 and "[missions.toy] gian: unknown key (did you mean 'gain'?)" in res.stderr
    (folder / "magfw.toml").write_text('[missions.toy]\ngain = "high"\n')
    res = run_cli(["run", "toy", "l1", "2024-01-01", "--source", "simulated"], hooks)
    assert res.exit_code == 2 and '[missions.toy] gain: must be a number, not "high"' in res.stderr
    assert _written(folder) == []


def test_help_and_version_work_with_a_broken_file(folder):
    (folder / "magfw.toml").write_text("ou = 1\n")
    assert run_cli(["--version"]).exit_code == 0
    assert run_cli(["run", "--help"]).exit_code == 0
    assert re.search(r"line 1: ou: unknown key", run_cli(["missions"]).stderr)
    assert os.listdir(folder) == ["magfw.toml"]


def test_the_readmes_example_is_valid(folder):
    """The annotated magfw.toml of the README passes the checks it describes."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    (folder / "magfw.toml").write_text(block)
    from magfw.config import load_config

    config = load_config(registry=get_hooks().registry)
    assert config.fetch.deadline_s == 600 and config.out == "/data/magfw"
    assert config.mission_table("stereo").default_period == {"l1": 2}
