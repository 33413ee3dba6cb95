"""Missions, their levels and products, and the registry plugins add them to.

A plugin's ``register_missions`` hook adds :class:`Mission` objects; the registry records which
plugin registered each, and the core dispatches every hook of a mission to exactly that plugin.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Generic, Literal

from pydantic import BaseModel, ConfigDict, Field, SkipValidation, model_validator

from magfw.config.sections import MissionSettings
from magfw.errors import PluginError, UsageError
from magfw.period import DefaultPeriod
from magfw.plugin.definitions import ProductDefinition
from magfw.plugin.level import S0, S1, S2, S3, S4, S5, LevelObject
from magfw.plugin.options import LevelOption


class Level(BaseModel, Generic[S0, S1, S2, S3, S4, S5]):
    """A processing level of a mission (``l1``, ``l2``, ``prep``, ``merge``...).

    ``unit`` is the unit of work: a UTC ``day``, or a whole calendar ``month`` or ``year``
    (a PERIOD selects which months or years; the unit always covers all of it). ``products``
    are the ids of the product definitions it writes; ``needs`` other levels
    (``mission/level``) whose products it reads: the runner plans them first, over the
    requested period. ``options`` (:class:`~magfw.plugin.options.LevelOption`) become
    ``--name value`` of ``magfw run``; a run of this level also takes the options of the levels
    of its mission it needs, and hands each value to every planned level that declares an
    option of that name; a needed unit keeps the output-affecting values of its last run for
    the options the user does not give (``docs/plugins.md``, *Level options and needs*).
    ``pipeline`` is the level object whose methods (``fetch``, ``read``,
    ``calibrate``... ``write``, :class:`magfw.api.LevelObject`) process one unit; the level is
    generic over its stage types, so mypy checks that each step takes what the one before it
    returns. A level without one is listed but not runnable ("not implemented yet").

    ``inputs_from``: ``archive`` (the default) reads a ``--source``; ``output`` reads only
    products already in the output tree (a monthly merge, a package), runs without
    ``--source`` and gets the output tree as its read-only ``ctx.archive``.
    ``per_spacecraft``: False for a level whose unit covers every spacecraft of the mission
    (``ctx.spacecraft`` is None; ``--spacecraft`` then only picks the spacecraft whose needed
    levels are planned).
    ``default_period``: what ``magfw run MISSION LEVEL`` without a PERIOD processes
    (:class:`magfw.period.DefaultPeriod`, e.g. the month two months back); None: a PERIOD is
    required. ``[missions.<id>.default_period] <level> = N`` in ``magfw.toml`` sets the lag.
    ``preflight``: called with the level's options when a run that includes the level is
    planned, before any unit runs; it raises :class:`~magfw.errors.UsageError` for a problem
    it can see then (a delivery zip's password: :func:`magfw.api.zip_preflight`).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str = ""
    unit: Literal["day", "month", "year"] = "day"
    products: list[str] = Field(default_factory=list)
    needs: list[str] = Field(default_factory=list)
    options: list[LevelOption] = Field(default_factory=list)
    inputs_from: Literal["archive", "output"] = "archive"
    per_spacecraft: bool = True
    default_period: DefaultPeriod | None = Field(default=None, exclude=True)
    pipeline: SkipValidation[LevelObject[S0, S1, S2, S3, S4, S5] | None] = Field(
        default=None, exclude=True, repr=False
    )
    preflight: Callable[[dict[str, Any]], None] | None = Field(default=None, exclude=True, repr=False)

    @property
    def implemented(self) -> bool:
        """Whether the level has a level object (can be run)."""
        return self.pipeline is not None

    def option(self, flag_or_name: str) -> LevelOption | None:
        key = flag_or_name.lstrip("-").replace("-", "_")
        return next((o for o in self.options if o.name == key), None)


#: A level of any stage types: how missions hold their levels.
AnyLevel = Level[Any, Any, Any, Any, Any, Any]


class Mission(BaseModel):
    """A mission: its spacecraft, levels and product definitions.

    ``settings``: the model of its ``[missions.<id>]`` table in ``magfw.toml`` (a subclass of
    :class:`~magfw.config.sections.MissionSettings` with the mission's own keys; the base
    takes only ``source``, ``sources`` and ``default_period``); the file is checked against it
    before any command works.
    """

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    description: str = ""
    spacecraft: list[str] = Field(default_factory=list)
    default_spacecraft: str | None = None
    default_source: str | None = Field(
        default=None, description="archive used when --source is not given (URL or directory)"
    )
    levels: dict[str, AnyLevel]
    products: list[ProductDefinition] = Field(default_factory=list)
    #: the model of its ``[missions.<id>]`` table in magfw.toml
    settings: type[MissionSettings] = Field(default=MissionSettings, exclude=True, repr=False)
    plugin: str = ""  # set by the registry: the registering plugin's name

    @model_validator(mode="after")
    def _check(self) -> Mission:
        ids = {p.id for p in self.products}
        for level in self.levels.values():
            missing = [p for p in level.products if p not in ids]
            if missing:
                raise ValueError(f"level {level.name} names unknown products {missing}")
        for p in self.products:
            if p.mission != self.id:
                raise ValueError(f"product {p.id} belongs to mission {p.mission!r}, not {self.id!r}")
        if self.default_spacecraft is not None and self.default_spacecraft not in self.spacecraft:
            raise ValueError(f"default spacecraft {self.default_spacecraft!r} not in spacecraft")
        return self

    @model_validator(mode="after")
    def _level_names(self) -> Mission:
        for key, level in self.levels.items():
            if key != level.name:
                raise ValueError(f"level key {key!r} differs from its name {level.name!r}")
        declared: dict[str, tuple[str, LevelOption]] = {}
        for level in self.levels.values():
            for o in level.options:
                first = declared.setdefault(o.name, (level.name, o))
                if not o.same_as(first[1]):
                    raise ValueError(
                        f"option {o.name!r} is declared differently by levels {first[0]} and "
                        f"{level.name}: a run gives one value to every level that takes it"
                    )
        return self

    def level(self, name: str) -> AnyLevel:
        try:
            return self.levels[name]
        except KeyError:
            raise UsageError(
                None, f"mission {self.id!r} has no level {name!r} (levels: {', '.join(self.levels)})"
            ) from None

    def product(self, product_id: str) -> ProductDefinition:
        for p in self.products:
            if p.id == product_id:
                return p
        raise UsageError(None, f"mission {self.id!r} has no product {product_id!r}")

    def level_products(self, level: str) -> list[ProductDefinition]:
        return [self.product(p) for p in self.level(level).products]

    def resolve_spacecraft(self, spacecraft: str | None) -> str | None:
        if not self.spacecraft:
            if spacecraft is not None:
                raise UsageError(None, f"mission {self.id!r} takes no --spacecraft")
            return None
        sc = spacecraft or self.default_spacecraft
        if sc is None:
            raise UsageError(None, f"mission {self.id!r} needs --spacecraft {'|'.join(self.spacecraft)}")
        sc = sc.upper() if sc.upper() in self.spacecraft else sc
        if sc not in self.spacecraft:
            raise UsageError(
                None, f"mission {self.id!r} has no spacecraft {spacecraft!r} ({'|'.join(self.spacecraft)})"
            )
        return sc


class MissionRegistry:
    """All registered missions by id. A duplicate id is a plugin error, never silently shadowed."""

    def __init__(self) -> None:
        self._missions: dict[str, Mission] = {}

    def add(self, mission: Mission, *, plugin: str) -> None:
        if mission.id in self._missions:
            other = self._missions[mission.id].plugin
            raise PluginError(None, f"mission {mission.id!r} registered by both {other!r} and {plugin!r}")
        mission.plugin = plugin
        self._missions[mission.id] = mission

    def get(self, mission_id: str) -> Mission:
        try:
            return self._missions[mission_id]
        except KeyError:
            known = ", ".join(sorted(self._missions)) or "none installed"
            raise UsageError(None, f"unknown mission {mission_id!r} (missions: {known})") from None

    def __iter__(self) -> Iterator[Mission]:
        return iter(sorted(self._missions.values(), key=lambda m: m.id))

    def __contains__(self, mission_id: object) -> bool:
        return mission_id in self._missions

    def __len__(self) -> int:
        return len(self._missions)

    def definitions(self) -> list[ProductDefinition]:
        return [p for m in self for p in m.products]


class PluginRegistrar:
    """The object a plugin's ``register_missions`` receives: ``add(mission)`` on its behalf.

    Missions are collected and handed to the registry only once the hook has returned
    without error, so a plugin that fails half-way registers nothing.
    """

    def __init__(self, registry: MissionRegistry, plugin: str) -> None:
        self._registry = registry
        self.plugin = plugin
        self.missions: list[Mission] = []

    def add(self, mission: Mission) -> None:
        """Register ``mission`` (with its levels' level objects) for this plugin."""
        if mission.id in self._registry or any(m.id == mission.id for m in self.missions):
            other = self._registry.get(mission.id).plugin if mission.id in self._registry else self.plugin
            raise PluginError(
                None, f"mission {mission.id!r} registered by both {other!r} and {self.plugin!r}"
            )
        self.missions.append(mission)
