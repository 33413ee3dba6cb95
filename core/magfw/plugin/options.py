"""Level options: typed, range-checked values a level takes from the command line or from code.

A :class:`LevelOption` is declared on a :class:`~magfw.plugin.mission.Level`; every value given
for it (``magfw run ... --name value``, ``run_level_command(..., options={...})``,
``RunRequest(options=...)``) is parsed and checked here before any unit starts, so a bad value
is one line and exit 2 with nothing written. Which levels of a run an option reaches, and what
happens to a needed level made with other values, is the planner's rule
(:mod:`magfw.engine.plan`; ``docs/plugins.md``, *Level options and needs*).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from magfw.errors import UsageError

if TYPE_CHECKING:
    from magfw.plugin.mission import Mission

OptionType = Literal["str", "int", "float", "bool"]

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class LevelOption(BaseModel):
    """A level-specific option: ``--name value`` on ``magfw run`` (a ``bool``: ``--name``
    alone, or ``--name=yes|no``), ``ctx.options["name"]`` in every step.

    ``type`` is what the value is parsed into; ``default`` the value when it is not given
    (None: unset, the step decides); ``choices`` the values a ``str`` option allows;
    ``min``/``max`` inclusive bounds of an ``int`` or ``float`` option (a ``float`` must be
    finite); ``check`` a function of the parsed value returning what is wrong with it in words,
    or None when it is fine (``lambda w: None if w % 2 else "must be odd"``). The default is
    checked when the level is declared; every given value before any unit runs (one line,
    exit 2). ``affects_output`` (the default): the value is part of the ledger's versions, so
    a unit made with another value is remade, as a new version, when it is run with this one;
    False for options that change how a level works but never what it writes.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")  #: ``spike_nt``: ``--spike-nt``
    type: OptionType = "str"  #: str, int, float or bool: what a value is parsed into
    default: Any = None  #: when not given; None: unset (checked like any value)
    choices: list[str] | None = None  #: the values a str option allows
    min: float | None = None  #: inclusive lower bound (int and float options)
    max: float | None = None  #: inclusive upper bound (int and float options)
    check: Callable[[Any], str | None] | None = Field(
        default=None, exclude=True, repr=False, description="value -> None, or what is wrong with it in words"
    )
    help: str = ""  #: shown by ``magfw options``
    affects_output: bool = True  #: part of the ledger's versions: another value, a new version

    @model_validator(mode="after")
    def _consistent(self) -> LevelOption:
        if self.choices is not None and self.type != "str":
            raise ValueError(f"option {self.name}: choices are for str options (use min/max or check)")
        if (self.min is not None or self.max is not None) and self.type not in ("int", "float"):
            raise ValueError(f"option {self.name}: min/max are for int and float options")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"option {self.name}: min {self.min} is above max {self.max}")
        try:
            self.checked(self.default)
        except UsageError as exc:  # "option --w: 4 must be odd" -> "option --w: default 4 ..."
            lead = f"option --{self.flag}: "
            raise ValueError(exc.problem.replace(lead, lead + "default ", 1)) from None
        return self

    @property
    def flag(self) -> str:
        """The command-line spelling: ``despike_window`` -> ``despike-window``."""
        return self.name.replace("_", "-")

    def parse(self, text: str | None) -> Any:
        """The value of ``--flag TEXT`` (``text`` None: ``--flag`` alone), checked."""
        if text is None:
            if self.type != "bool":
                raise UsageError(f"option --{self.flag} needs a value")
            return True
        return self.checked(text)

    def checked(self, value: Any) -> Any:
        """``value`` (text from the command line, or a value given in code) as the option's
        type, checked against its choices, bounds and ``check``; None stays None (unset).
        Anything else is a :class:`~magfw.errors.UsageError` naming the option."""
        if value is None:
            return None
        typed = self._typed(value)
        problem = self._problem(typed)
        if problem is not None:
            raise UsageError(f"option --{self.flag}: {typed!r} {problem}")
        return typed

    def _typed(self, value: Any) -> Any:
        """``value`` converted to the option's type (text is parsed; a value of the wrong kind
        is refused, never silently converted: 2.5 is not an int, 1 is not a str)."""
        text = value.strip() if isinstance(value, str) else None
        if self.type == "bool":
            if isinstance(value, bool):
                return value
            if text is not None and text.lower() in _TRUE + _FALSE:
                return text.lower() in _TRUE
        elif self.type == "str":
            if isinstance(value, str):
                return value
        elif self.type == "int":
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if text is not None:
                try:
                    return int(text)
                except ValueError:
                    pass
        else:
            if isinstance(value, int | float) and not isinstance(value, bool):
                return float(value)
            if text is not None:
                try:
                    return float(text)
                except ValueError:
                    pass
        article = "an" if self.type == "int" else "a"
        raise UsageError(f"option --{self.flag}: {value!r} is not {article} {self.type}")

    def _problem(self, value: Any) -> str | None:
        """What is wrong with a value of the right type, or None."""
        if isinstance(value, float) and not math.isfinite(value):
            return "is not a finite number"
        if self.choices is not None and value not in self.choices:
            return f"is not one of {', '.join(self.choices)}"
        if self.min is not None and value < self.min:
            return f"is below the minimum {self._bound(self.min)}"
        if self.max is not None and value > self.max:
            return f"is above the maximum {self._bound(self.max)}"
        if self.check is not None:
            try:
                said = self.check(value)
            except (ValueError, TypeError) as exc:
                said = str(exc) or type(exc).__name__
            except UsageError as exc:
                said = exc.problem
            if said:
                return " ".join(str(said).split())
        return None

    def _bound(self, bound: float) -> str:
        return str(int(bound)) if self.type == "int" and bound == int(bound) else str(bound)

    def same_as(self, other: LevelOption) -> bool:
        """Whether two levels declare one option alike (type and choices): an option of one
        name is one option across a mission's levels, since a run hands it to each."""
        return (self.type, self.choices) == (other.type, other.choices)


def run_options(mission: Mission, level: str) -> list[LevelOption]:
    """The options a run of ``mission``'s ``level`` takes: the level's own, then those of the
    levels of the same mission it needs (directly or through others), one per name."""
    return [o for _, o in declared_options(mission, level)]


def declared_options(mission: Mission, level: str) -> list[tuple[str, LevelOption]]:
    """(declaring level, option) of every option a run of ``level`` takes, the level's own
    first, then the levels it needs in the order they are found; one per name."""
    seen: dict[str, tuple[str, LevelOption]] = {}
    todo, done = [level], set()
    while todo:
        name = todo.pop(0)
        if name in done or name not in mission.levels:
            continue
        done.add(name)
        lvl = mission.levels[name]
        for o in lvl.options:
            seen.setdefault(o.name, (name, o))
        todo += [n.partition("/")[2] for n in lvl.needs if n.partition("/")[0] == mission.id]
    return list(seen.values())


def describe_bounds(option: LevelOption) -> str:
    """What values an option allows, in words: ``one of a, b``, ``3 to 99, checked``..."""
    parts = []
    if option.choices is not None:
        parts.append("one of " + ", ".join(option.choices))
    if option.min is not None or option.max is not None:
        lo = "" if option.min is None else option._bound(option.min)
        hi = "" if option.max is None else option._bound(option.max)
        parts.append(f">= {lo}" if not hi else (f"<= {hi}" if not lo else f"{lo} to {hi}"))
    if option.check is not None:
        parts.append("checked")
    return ", ".join(parts) or "any " + option.type
