"""The ``magfw`` command line: generic commands dispatched through the mission registry.

Exit codes: 0 success; 1 processing failure (bad or missing input, a unit failed); 2 usage
error. Every failure prints one line naming the file and the problem; tracebacks go to the log
(``<out>/.magfw/logs/magfw.log`` for runs, else ``$MAGFW_LOG`` or the user cache directory).
Plugins add sub-commands through the ``register_commands`` hook.

The commands live in the modules of this package (:mod:`magfw.cli.runs`: ``run`` and
:func:`run_level_command`; :mod:`magfw.cli.publishing`; :mod:`magfw.cli.commands`: the
others); they print through :data:`out` and :data:`err` of this module, looked up at each call,
so that :func:`magfw.testing.run_cli` can capture them.
"""

from __future__ import annotations

import logging
import sys

import typer
from rich.console import Console

from magfw.config import load_config
from magfw.errors import MagfwError
from magfw.plugin.manager import get_hooks

err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)
log = logging.getLogger("magfw")


def say(text: str) -> None:
    """Print a line of a command's output (stdout), no markup."""
    out.print(text, markup=False)


def warn(text: str) -> None:
    """Print ``magfw: warning: TEXT`` on stderr, no markup."""
    err.print(f"magfw: warning: {text}", markup=False)


# the commands register on the app as their modules are imported (after the consoles exist)
from magfw.cli import commands as _commands  # noqa: E402, F401
from magfw.cli import publishing as _publishing  # noqa: E402, F401
from magfw.cli.app import app  # noqa: E402
from magfw.cli.logs import default_log_path, log_path, setup_logging  # noqa: E402
from magfw.cli.runs import (  # noqa: E402
    check_request,
    default_period_of,
    output_tree,
    parse_level_options,
    run_level_command,
)


def _plugin_warning(text: str) -> None:
    """A plugin left out: one line on the terminal and in the log."""
    log.warning("%s", text)
    warn(text)


def build_app() -> typer.Typer:
    """The CLI: magfw's own commands and the sub-commands of the plugins loaded now (a fresh
    command tree each time, so the plugins of each call, not of the first, are there)."""
    tree = typer.Typer(
        name=app.info.name,
        no_args_is_help=True,
        add_completion=False,
        rich_markup_mode=None,
        help=app.info.help,
    )
    tree.registered_callback = app.registered_callback
    tree.registered_commands = list(app.registered_commands)
    tree.registered_groups = list(app.registered_groups)
    get_hooks().register_commands(tree)
    return tree


def main(argv: list[str] | None = None) -> int:
    """Entry point: one line per failure on stderr, exit 0/1/2, tracebacks to the log.

    The log is :func:`default_log_path` from the start (plugin loading included); a command
    that works on an output tree moves it to ``<out>/.magfw/logs/magfw.log``. ``./magfw.toml``
    is validated whole before any command (not before ``--help`` or ``--version``) works."""
    setup_logging()
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        hooks = get_hooks(warn=_plugin_warning)
        if args and not args[0].startswith("-") and "--help" not in args:
            load_config(registry=hooks.registry)  # a mistake in it: exit 2 before anything
        command = typer.main.get_command(build_app())
        rv = command.main(args=args, prog_name="magfw", standalone_mode=False)
        code = rv if isinstance(rv, int) else 0
    except MagfwError as exc:
        log.warning("error: %s", exc, exc_info=exc.__cause__ is not None)
        err.print(f"magfw: error: {exc}", markup=False)
        code = exc.exit_code
    except typer.Exit as exc:
        code = exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        err.print("magfw: interrupted; rerun to resume (finished units are kept)")
        code = 130
    except Exception as exc:
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):  # a usage error found by the parser
            exc.show(file=sys.stderr)
            return int(exc.exit_code)
        log.exception("internal error")
        path = log_path()
        where = f"traceback in {path}" if path else "the log cannot be written"
        err.print(f"magfw: internal error: {type(exc).__name__}: {exc} ({where})", markup=False)
        code = 1
    return code


if __name__ == "__main__":
    sys.exit(main())

__all__ = [
    "app",
    "build_app",
    "check_request",
    "default_log_path",
    "default_period_of",
    "err",
    "log_path",
    "main",
    "out",
    "output_tree",
    "parse_level_options",
    "run_level_command",
    "say",
    "setup_logging",
    "warn",
]
