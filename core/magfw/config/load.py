"""Reading ``magfw.toml``: parsed and validated whole (its sections, and each ``[missions.<id>]``
table by that mission's settings model) before a command works.

A mistake is one :class:`~magfw.errors.UsageError` line (exit 2) naming the file, the line, the
key and the problem, with the nearest known key for a misspelt one::

    magfw.toml: line 3: [missions.stereo] sorce: unknown key (did you mean 'source'?)
    magfw.toml: line 1: out: must be a string, not 5

:func:`load_config` without a registry checks the sections only (what a worker process needs
to read its settings); with the installed missions' registry (what the CLI and the planner
pass) it also checks the mission tables, their default periods and source roles, and that
every event and setting under ``[notify]`` (and every event under ``[delivery.events]``)
belongs to an installed mission.
"""

from __future__ import annotations

import difflib
import json
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, PrivateAttr, ValidationError
from pydantic_core import ErrorDetails

from magfw.config.sections import MagfwConfig, MissionSettings
from magfw.errors import UsageError

if TYPE_CHECKING:
    from magfw.plugin.mission import MissionRegistry

CONFIG_FILE = "magfw.toml"
S = TypeVar("S", bound=MissionSettings)
Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One mistake in the file: where (the keys leading to it), what, and the keys known there."""

    loc: Loc
    text: str
    known: Sequence[str] = field(default_factory=tuple)
    table: bool = False  #: ``loc`` names a table (``[missions.stero]``), not a key


class Configuration(MagfwConfig):
    """``magfw.toml`` as validated (:class:`MagfwConfig`), with the file it came from, so that a
    mission table read later (:meth:`mission_table`) reports a mistake as the loader does."""

    _where: str = PrivateAttr(CONFIG_FILE)
    _text: str = PrivateAttr("")

    def mission_table(self, mission: str, model: type[S] = MissionSettings) -> S:  # type: ignore[assignment]
        """``[missions.<mission>]`` validated by ``model`` (its defaults when absent)."""
        try:
            return model.model_validate(self.missions.get(mission, {}))
        except ValidationError as exc:
            raise usage_error(self._where, self._text, problems(exc, model, ("missions", mission))) from None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the choice nearest ``word``, or ``""``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


# --------------------------------------------------------------------------------- reading


_cache: dict[tuple[str, str], Configuration] = {}


def load_config(path: Path | None = None, registry: MissionRegistry | None = None) -> Configuration:
    """``magfw.toml`` (of the current folder by default) validated; its defaults when absent.

    With ``registry`` the mission tables are checked too (module docstring). Without, the
    result is kept while the file's text is unchanged (settings read once per unit stay cheap)."""
    where = str(path) if path is not None else CONFIG_FILE
    path = path or Path.cwd() / CONFIG_FILE
    if not path.exists() and not path.is_symlink():
        return Configuration()
    text = _read(path, where)
    if registry is not None:  # checked against the missions as they are now
        return validate(_parse(text, where), where, text, registry)
    key = (str(path.absolute()), text)
    if key not in _cache:
        _cache[key] = validate(_parse(text, where), where, text)
    return _cache[key]


def _read(path: Path, where: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(where, f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise UsageError(
            where, f"not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start})"
        ) from None


def _parse(text: str, where: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(where, f"not valid TOML: {exc}") from None


def validate(
    raw: dict[str, Any], where: str, text: str = "", registry: MissionRegistry | None = None
) -> Configuration:
    """``raw`` (the parsed TOML) as a :class:`Configuration`, or one UsageError line."""
    try:
        config = Configuration.model_validate(raw)
    except ValidationError as exc:
        raise usage_error(where, text, problems(exc, MagfwConfig, ())) from None
    found = [] if registry is None else mission_problems(config, registry)
    if found:
        raise usage_error(where, text, found)
    config._where, config._text = where, text
    return config


# ------------------------------------------------------------------------- the mission tables


def mission_problems(config: MagfwConfig, registry: MissionRegistry) -> list[Problem]:
    """What the mission tables and ``[notify]`` name that the installed missions do not take."""
    found: list[Problem] = []
    for mission_id, table in config.missions.items():
        if mission_id not in registry:
            installed = [m.id for m in registry]
            text = f"no mission {mission_id!r} is installed (missions: {', '.join(installed) or 'none'})"
            found.append(Problem(("missions", mission_id), text, installed, table=True))
            continue
        mission = registry.get(mission_id)
        model = mission.settings
        try:
            settings = model.model_validate(table)
        except ValidationError as exc:
            found += problems(exc, model, ("missions", mission_id))
            continue
        ruled = [name for name, lvl in mission.levels.items() if lvl.default_period is not None]
        for level in settings.default_period:
            if level not in ruled:
                text = f"{mission_id} has no level {level!r} with a default period"
                text += f" (levels with one: {', '.join(ruled) or 'none'})"
                found.append(Problem(("missions", mission_id, "default_period", level), text, ruled))
        roles = model.source_roles
        for role in settings.sources:
            if roles is not None and role not in roles:
                text = f"{mission_id} reads no source role {role!r} (roles: {', '.join(roles) or 'none'})"
                found.append(Problem(("missions", mission_id, "sources", role), text, roles))
    return found + _event_problems(config, registry)


def _event_problems(config: MagfwConfig, registry: MissionRegistry) -> list[Problem]:
    """The e-mail events of ``[notify.recipients]`` and ``[delivery.events]``, and the keys of
    ``[notify.settings]``, that no installed mission has."""
    found: list[Problem] = []
    events = sorted({e for m in registry for e in m.settings.notify_events})
    named = [("notify", "recipients", e) for e in config.notify.recipients]
    named += [("delivery", "events", e) for e in config.delivery.events]
    for loc in named:
        if loc[-1] not in events:
            text = f"no installed mission sends this event (events: {', '.join(events) or 'none'})"
            found.append(Problem(loc, text, events))
    keys = sorted({k for m in registry for k in m.settings.notify_settings})
    for key in config.notify.settings:
        if key not in keys:
            text = f"no installed mission reads this setting (settings: {', '.join(keys) or 'none'})"
            found.append(Problem(("notify", "settings", key), text, keys))
    return found


# ------------------------------------------------------------------------------ the messages

_TYPES = {
    "string_type": "must be a string",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "bool_type": "must be true or false",
    "dict_type": "must be a table",
    "list_type": "must be a list",
}
_BOUNDS = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}


def problems(exc: ValidationError, model: type[BaseModel], prefix: Loc) -> list[Problem]:
    """pydantic's errors for ``model`` (validated at ``prefix``) in the file's words."""
    out = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        out.append(Problem((*prefix, *loc), _describe(error), _fields_at(model, loc[:-1])))
    return out


def _describe(error: ErrorDetails) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind in _TYPES:
        return f"{_TYPES[kind]}, not {_toml(error['input'])}"
    if kind in _BOUNDS:
        limit = next(iter(ctx.values()), "")
        return f"must be {_BOUNDS[kind]} {_toml(limit)}, not {_toml(error['input'])}"
    return f"{error['msg'][:1].lower()}{error['msg'][1:]}, not {_toml(error['input'])}"


def _toml(value: Any) -> str:
    """A value as TOML writes it (``"text"``, ``true``, ``5``; a table or list said so)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _fields_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """The keys ``model`` takes at ``loc`` (for "did you mean"); [] inside free tables."""
    for key in loc:
        info = model.model_fields.get(str(key))
        sub = info.annotation if info is not None else None
        if not (isinstance(sub, type) and issubclass(sub, BaseModel)):
            return []
        model = sub
    return list(model.model_fields)


def key_text(loc: Loc, table: bool = False) -> str:
    """``out``, ``[fetch] timeout_s``, ``[missions.stereo.sources] spice`` or, for a table,
    ``[missions.stero]``."""
    keys = [str(k) for k in loc if not isinstance(k, int)]
    if table:
        return f"[{'.'.join(keys)}]"
    if len(keys) == 1:
        return keys[0]
    return f"[{'.'.join(keys[:-1])}] {keys[-1]}"


def usage_error(where: str, text: str, found: list[Problem]) -> UsageError:
    """The first problem as one line: file, line, key, problem, a suggestion; how many more."""
    first = found[0]
    keys = tuple(str(k) for k in first.loc if not isinstance(k, int))
    line = line_of(text, keys)
    misspelt = bool(keys) and bool(first.known) and keys[-1] not in first.known
    hint = did_you_mean(keys[-1], first.known) if misspelt else ""
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    at = f"line {line}: " if line else ""
    return UsageError(where, f"{at}{key_text(first.loc, first.table)}: {first.text}{hint}{more}")


# --------------------------------------------------------------------------- line numbers

_BARE = r"[A-Za-z0-9_-]+|\"(?:[^\"\\]|\\.)*\"|'[^']*'"
_DOTTED = rf"(?:{_BARE})(?:\s*\.\s*(?:{_BARE}))*"
_HEADER = re.compile(rf"^\s*\[\[?\s*({_DOTTED})\s*\]\]?")
_KEY = re.compile(rf"^\s*({_DOTTED})\s*=")
_PART = re.compile(_BARE)


def _split(dotted: str) -> tuple[str, ...]:
    return tuple(p[1:-1] if p[0] in "\"'" else p for p in _PART.findall(dotted))


def line_of(text: str, keys: tuple[str, ...]) -> int | None:
    """The line (1-based) that sets ``keys`` in the TOML ``text``: the key's own line or table
    header, else the line of the inline table or dotted key holding it, else the longest table
    header holding it; None if not found."""
    table: tuple[str, ...] = ()
    inline = header = None
    depth = 0
    for n, line in enumerate(text.splitlines(), 1):
        found = _HEADER.match(line)
        if found:
            table = _split(found.group(1))
            if table == keys:
                return n
            if table[: len(keys)] == keys:
                inline = inline or n  # ``[mision.stereo]`` for ``mision``
            elif keys[: len(table)] == table and len(table) > depth:
                header, depth = n, len(table)
            continue
        found = _KEY.match(line)
        if found:
            full = table + _split(found.group(1))
            if full == keys:
                return n
            if keys[: len(full)] == full or full[: len(keys)] == keys:
                inline = inline or n  # ``stereo = {source = 5}``, ``missions.stero.source = 1``
    return inline or header
