"""Checking plugins and level objects against the contract, with a "did you mean" for each
problem.

A plugin (module or object) may implement only the hooks of :mod:`magfw.plugin.hookspecs`,
with the arguments they are given. A level object must have ``fetch``, ``read`` and ``write``,
takes each step's arguments by their names, and its steps' declared types must chain (the same
check mypy makes statically, repeated at start-up for plugins nobody ran mypy on). The
:class:`~magfw.plugin.manager.Hooks` facade turns each problem into a warning line, or an error
in strict mode.
"""

from __future__ import annotations

import difflib
import inspect
import typing
from collections.abc import Callable, Iterable
from typing import Any

from magfw.plugin import hookspecs
from magfw.plugin.level import MIDDLE_STEPS, STEP_ARGS, STEPS, resolve_level, step_is_used


def _spec_args() -> dict[str, list[str]]:
    out = {}
    for name, func in vars(hookspecs).items():
        if callable(func) and hasattr(func, f"{hookspecs.PROJECT}_spec"):
            out[name] = list(inspect.signature(func).parameters)
    return out


SPECS = _spec_args()


def did_you_mean(word: str, choices: Iterable[str], cutoff: float = 0.6) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices``, or ``""``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=cutoff)
    return f" (did you mean {close[0]!r}?)" if close else ""


def hook_impls(plugin: object) -> list[tuple[str, Callable[..., Any]]]:
    """(hook name, function) of every ``@hookimpl`` on ``plugin``."""
    out = []
    for attr in dir(plugin):
        if attr.startswith("__"):
            continue
        try:
            func = getattr(plugin, attr)
        except Exception:  # noqa: BLE001 - a property that raises is no hook
            continue
        opts = getattr(func, f"{hookspecs.PROJECT}_impl", None)
        if opts is not None and callable(func):
            out.append((opts.get("specname") or attr, func))
    return out


def plugin_problems(plugin: object) -> list[str]:
    """What is wrong with a plugin's hook implementations (empty when nothing is)."""
    problems: list[str] = []
    for hook, func in hook_impls(plugin):
        if hook in STEPS:
            problems.append(
                f"hook {hook!r} does not belong on a plugin module: steps go on a level object "
                "(Level(..., pipeline=...), docs/plugins.md)"
            )
            continue
        if hook not in SPECS:
            problems.append(f"unknown hook {hook!r}{did_you_mean(hook, SPECS)}")
            continue
        for p in inspect.signature(func).parameters:
            if p != "self" and p not in SPECS[hook]:
                problems.append(
                    f"hook {hook!r} has argument {p!r}, which it is not given"
                    f"{did_you_mean(p, SPECS[hook])}; {hook} takes ({', '.join(SPECS[hook])})"
                )
    return problems


def level_problems(obj: object) -> list[str]:
    """What is wrong with a level object (empty when nothing is)."""
    obj = resolve_level(obj)
    problems: list[str] = []
    kind = type(obj)
    for name in dir(kind):
        if name.startswith("_") or name in STEPS or not callable(getattr(kind, name, None)):
            continue
        close = did_you_mean(name, STEPS, cutoff=0.85)
        if close or hasattr(getattr(kind, name), f"{hookspecs.PROJECT}_impl"):
            problems.append(f"unknown step {name!r}{close}; the steps are {', '.join(STEPS)}")
    for step in STEPS:
        func = getattr(obj, step, None)
        if func is None:
            if step not in MIDDLE_STEPS:
                problems.append(f"a level object must implement {step!r}")
            continue
        if not callable(func):
            problems.append(f"step {step!r} is not a method")
            continue
        params = [p for p in inspect.signature(func).parameters if p != "self"]
        if params != list(STEP_ARGS[step]):
            wrong = next((p for p in params if p not in STEP_ARGS[step]), None)
            hint = did_you_mean(wrong, STEP_ARGS[step]) if wrong else ""
            problems.append(
                f"step {step!r} takes ({', '.join(STEP_ARGS[step])}), not ({', '.join(params)}){hint}"
            )
    return problems + chain_problems(obj)


def missing_steps(obj: object) -> list[str]:
    """Middle steps a level object neither implements nor skips with its mixin (the previous
    release's way to skip: they still pass the data through, with a deprecation warning)."""
    obj = resolve_level(obj)
    return [s for s in MIDDLE_STEPS if getattr(obj, s, None) is None]


def chain_problems(obj: object) -> list[str]:
    """Steps whose declared types do not chain (``read`` returns X, the next used step takes
    Y); pass-through steps hand the type on."""
    obj = resolve_level(obj)
    problems: list[str] = []
    previous: tuple[str, Any] | None = None
    for step in STEPS[1:]:
        if not step_is_used(obj, step):
            continue
        hints = _hints(getattr(obj, step))
        if previous is not None and hints is not None:
            wanted, (got_from, got) = hints.get("data"), previous
            if (
                isinstance(wanted, type)
                and isinstance(got, type)
                and wanted is not object
                and not issubclass(got, wanted)
            ):
                problems.append(
                    f"step {got_from!r} returns {got.__name__} but {step!r} takes {wanted.__name__}"
                )
        previous = (step, hints.get("return") if hints is not None else None)
    return problems


def _hints(func: Callable[..., Any]) -> dict[str, Any] | None:
    try:
        return typing.get_type_hints(func)
    except Exception:  # noqa: BLE001 - annotations that cannot be resolved here are not checked
        return None
