"""pytest fixtures and helpers for magfw plugin authors.

Enable in a plugin's ``conftest.py``::

    pytest_plugins = ["magfw.testing"]

then::

    def test_my_mission_end_to_end(magfw_hooks, magfw_run):
        hooks = magfw_hooks(my_plugin)               # only this plugin, no autoload, strict
        summary = magfw_run(hooks, "mymission", "l1", "2024-08-01")
        assert summary.ok
        for path in summary.outputs:
            assert_valid_product(path, hooks)
        truth = simulated_archive(summary) / "truth"  # what the simulator wrote beside it

Fixtures: ``magfw_hooks`` (a factory of :class:`magfw.plugin.manager.Hooks` over chosen plugins, in
strict mode: an unknown hook or argument is an error with a "did you mean"), ``magfw_run``
(run a level on a simulated archive in a temporary output tree), ``magfw_cli`` (run the
``magfw`` command in-process over chosen plugins, capturing exit code and output).

Where things land: ``magfw_run`` writes into ``tmp_path / "out"``; with ``source="simulated"``
(the default) the simulated archive is at
``out/.magfw/simulated/<mission>/<spacecraft or "all">/seed<seed>/`` (the simulator's
``truth/`` folder inside it), which :func:`simulated_archive` returns.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from magfw.engine.jobs import RunRequest, RunSummary
from magfw.engine.runner import Runner
from magfw.engine.simulation import simulated_root
from magfw.period import parse_period
from magfw.plugin import manager as _plugins
from magfw.plugin.loading import build_plugin_manager
from magfw.plugin.manager import Hooks


def make_hooks(
    *plugins: object, names: list[str] | None = None, autoload: bool = False, strict: bool = True
) -> Hooks:
    """A :class:`Hooks` facade over exactly ``plugins`` (modules or objects), no autoload.

    ``strict`` (the default here): a plugin with an unknown hook, an argument a hook does not
    take, or a failing ``register_missions`` raises :class:`magfw.errors.PluginError` instead
    of being left out with a warning."""
    names = names or [getattr(p, "__name__", type(p).__name__) for p in plugins]
    pm = build_plugin_manager(
        autoload=autoload, allow=[], strict=strict, extra=list(zip(names, plugins, strict=True))
    )
    return Hooks(pm, strict=strict)


def simulated_archive(summary: RunSummary) -> Path:
    """The simulated archive a ``source="simulated"`` run read (its ``truth/`` inside)."""
    request = summary.request
    assert request is not None, "a dry run or a summary without its request"
    sc = next((r.spacecraft for r in summary.results if r.mission == request.mission), None)
    return simulated_root(request.out_dir, request.mission, sc, request.seed)


def run_level(
    hooks: Hooks,
    mission: str,
    level: str,
    period: str,
    out_dir: Path,
    *,
    source: str = "simulated",
    **kwargs: Any,
) -> RunSummary:
    """Run ``mission level period`` with ``hooks`` into ``out_dir`` (simulated by default)."""
    request = RunRequest(
        mission=mission,
        level=level,
        period=parse_period(period),
        out_dir=Path(out_dir),
        source=source,
        **kwargs,
    )
    return Runner(hooks).run(request)


def assert_valid_product(path: Path, hooks: Hooks) -> None:
    """Fail the test with every problem ``magfw check`` finds in ``path``."""
    from magfw.tools.check import check_file, format_report

    report = check_file(path, hooks.registry.definitions())
    assert report.ok, format_report(report)
    assert report.definition is not None, f"{path}: no product definition recognises it"


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@contextlib.contextmanager
def using_hooks(hooks: Hooks) -> Iterator[Hooks]:
    """Make ``hooks`` the process-wide facade (what the CLI uses) for the duration."""
    saved = _plugins._cached
    _plugins._cached = hooks
    try:
        yield hooks
    finally:
        _plugins._cached = saved


def run_cli(args: list[str], hooks: Hooks | None = None) -> CliResult:
    """Run ``magfw ARGS`` in-process (over ``hooks`` if given); capture exit code and output."""
    from rich.console import Console

    from magfw import cli

    out, err = io.StringIO(), io.StringIO()
    saved = cli.out, cli.err
    cli.out = Console(file=out, width=200, highlight=False, soft_wrap=True)
    cli.err = Console(file=err, width=200, highlight=False, soft_wrap=True, stderr=True)
    try:
        with contextlib.ExitStack() as stack:
            if hooks is not None:
                stack.enter_context(using_hooks(hooks))
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = cli.main(args)
    finally:
        cli.out, cli.err = saved
    return CliResult(code, out.getvalue(), err.getvalue())


@pytest.fixture
def magfw_hooks() -> Callable[..., Hooks]:
    """Factory: ``magfw_hooks(plugin, ...)`` → a Hooks facade over just those plugins."""
    return make_hooks


@pytest.fixture
def magfw_run(tmp_path: Path) -> Callable[..., RunSummary]:
    """Factory: ``magfw_run(hooks, mission, level, period, **request_fields)`` → RunSummary,
    written under a temporary output tree (``tmp_path / "out"``)."""

    def _run(hooks: Hooks, mission: str, level: str, period: str, **kwargs: Any) -> RunSummary:
        kwargs.setdefault("out_dir", tmp_path / "out")
        out_dir = kwargs.pop("out_dir")
        return run_level(hooks, mission, level, period, out_dir, **kwargs)

    return _run


@pytest.fixture
def magfw_cli() -> Callable[..., CliResult]:
    """Factory: ``magfw_cli(["run", ...], hooks=None)`` → CliResult(exit_code, stdout, stderr)."""
    return run_cli
