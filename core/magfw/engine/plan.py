"""Planning a run: the units of the requested level and of the levels it needs, as a graph.

Levels a level ``needs`` (``mission/level``) are planned too, for the same spacecraft, over the
requested period, and each unit waits for the needed units it overlaps (finished, whatever
their status: a product with a missing day marks it as fill). A month or year unit covers its
whole month or year but waits only for the needed units of the requested period; it reads the
other days' products already in the output tree. Units already done are skipped by the ledger,
so planning what exists costs little. A needed level that cannot run (no source for it, its
mission not installed, not implemented) is not planned, and the plan says so in one warning
line: its products already in the output tree are used.

Options (the rule ``docs/plugins.md`` states, *Level options and needs*): every planned level
gets its own options' defaults, then the value the request gives for each option of that name
it declares (``zeta l2 --despike-window 5`` reaches the ``l1`` it needs), each value checked
(:meth:`~magfw.plugin.options.LevelOption.checked`) before anything runs; a name no planned
level of the mission declares is a usage error. A *needed* unit whose last run used another
value of an output-affecting option the request does not give keeps that value
(:func:`keep_last_options`): a plain run of a dependent level never remakes its dependencies
with other options behind the user's back; giving the option is how to choose. ``--force``
redoes the requested level's units, ``--force-all`` every planned unit (options kept as above).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from magfw.config import load_config, mission_settings
from magfw.engine.jobs import SIMULATED_SOURCE, RunRequest, UnitJob, UnitResult, unit_id
from magfw.engine.simulation import simulated_root
from magfw.errors import MagfwError, UsageError
from magfw.period import plan_units
from magfw.plugin.manager import Hooks
from magfw.plugin.mission import AnyLevel

log = logging.getLogger("magfw.engine.runner")


@dataclass
class PlannedJob:
    """A job and the indices (in the plan) of the jobs it must wait for."""

    job: UnitJob
    after: list[int] = field(default_factory=list)


@dataclass
class Plan:
    """Every job of a request, dependencies first; the resolved spacecraft; and what the plan
    leaves out, one line each (a needed level with no source...)."""

    jobs: list[PlannedJob]
    spacecraft: str | None
    warnings: list[str] = field(default_factory=list)


def _source(hooks: Hooks, mission_id: str, level: str, request: RunRequest) -> str | None:
    if hooks.registry.get(mission_id).level(level).inputs_from == "output":
        return str(request.out_dir)
    if mission_id == request.mission or request.source == SIMULATED_SOURCE:
        return request.source
    mission = hooks.registry.get(mission_id)
    return mission_settings(mission, load_config(registry=hooks.registry)).source or mission.default_source


def level_options(level: AnyLevel, given: Mapping[str, Any]) -> dict[str, Any]:
    """A level's option values: its defaults, then the given value of each option it
    declares, checked (a bad value is a :class:`~magfw.errors.UsageError`)."""
    values = {o.name: o.default for o in level.options}
    for o in level.options:
        if o.name in given:
            values[o.name] = o.checked(given[o.name])
    return values


def plan_graph(hooks: Hooks, request: RunRequest) -> tuple[list[PlannedJob], str | None]:
    """Every job of the request and of the levels it needs, dependencies first; and the
    resolved spacecraft (:func:`make_plan` without its warnings)."""
    plan = make_plan(hooks, request)
    return plan.jobs, plan.spacecraft


def make_plan(hooks: Hooks, request: RunRequest) -> Plan:
    """The run's :class:`Plan`. Usage problems (a mistake in ``magfw.toml``, an unknown level,
    no source, a cycle, an option no planned level takes or a bad option value, a level's
    preflight) raise first, before anything is written."""
    load_config(registry=hooks.registry)  # the whole file, against these missions
    mission = hooks.registry.get(request.mission)
    level = mission.level(request.level)
    spacecraft = mission.resolve_spacecraft(request.spacecraft)  # usage errors first
    if not level.implemented:
        raise MagfwError(None, f"{mission.id} {level.name}: not implemented yet")
    if request.source is None and level.inputs_from == "archive":
        raise UsageError(
            None, f"no --source for {mission.id}: give an archive directory, a URL, or 'simulated'"
        )
    planner = _Planner(hooks, request, spacecraft)
    planner.add(mission.id, level.name, ())
    taken = {o.name for name in planner.levels_of(mission.id) for o in mission.level(name).options}
    unknown = sorted(set(request.options) - taken)
    if unknown:
        known = ", ".join(f"--{n.replace('_', '-')}" for n in sorted(taken)) or "none"
        raise UsageError(
            None,
            f"no level of this run of {mission.id} {level.name} takes "
            f"{', '.join('--' + n.replace('_', '-') for n in unknown)} (options: {known})",
        )
    return Plan(planner.planned, spacecraft, planner.warnings)


class _Planner:
    """Adds a level's units after those of the levels it needs (depth first)."""

    def __init__(self, hooks: Hooks, request: RunRequest, spacecraft: str | None) -> None:
        self.hooks, self.request, self.spacecraft = hooks, request, spacecraft
        self.planned: list[PlannedJob] = []
        self.by_level: dict[tuple[str, str], list[int]] = {}
        self.warnings: list[str] = []

    def levels_of(self, mission_id: str) -> list[str]:
        """The planned levels of ``mission_id``."""
        return [lvl for m, lvl in self.by_level if m == mission_id]

    def add(self, mission_id: str, level_name: str, chain: tuple[str, ...]) -> None:
        key = (mission_id, level_name)
        if key in self.by_level:
            return
        here = f"{mission_id}/{level_name}"
        if here in chain:
            raise UsageError(None, f"levels need each other in a cycle: {' -> '.join((*chain, here))}")
        lvl = self.hooks.registry.get(mission_id).level(level_name)
        source = _source(self.hooks, mission_id, level_name, self.request)
        if source is None:  # only a needed level gets here (the requested one was checked)
            self.warnings.append(_not_run(mission_id, level_name, chain, self.request))
            self.by_level[key] = []  # its options are still this run's to take
            return
        if lvl.implemented:  # a lazy level object is imported and checked here, before any unit
            self.hooks.level_object(mission_id, level_name)
        needed: list[int] = []
        for need in lvl.needs:
            needed += self._need(need, (*chain, here))
        self.by_level[key] = self._jobs(mission_id, lvl, source, needed, chain)

    def _need(self, need: str, chain: tuple[str, ...]) -> list[int]:
        """Plan one needed level; the indices of its jobs (none if it cannot run)."""
        dep_mission, _, dep_level = need.partition("/")
        by = chain[-1].replace("/", " ")
        if dep_mission not in self.hooks.registry:  # not installed/loaded: use files
            self.warnings.append(
                f"{dep_mission} {dep_level} (needed by {by}) is not run: mission {dep_mission!r} "
                "is not installed; the products already in the output tree are used"
            )
            return []
        if not self.hooks.registry.get(dep_mission).level(dep_level).implemented:
            self.warnings.append(
                f"{dep_mission} {dep_level} (needed by {by}) is not implemented yet: "
                "the products already in the output tree are used"
            )
            return []
        self.add(dep_mission, dep_level, chain)
        return self.by_level.get((dep_mission, dep_level), [])

    def _jobs(
        self, mission_id: str, lvl: AnyLevel, source: str, needed: list[int], chain: tuple[str, ...]
    ) -> list[int]:
        request, m = self.request, self.hooks.registry.get(mission_id)
        simulated = source == SIMULATED_SOURCE
        sc = m.resolve_spacecraft(self.spacecraft if m.spacecraft else None) if lvl.per_spacecraft else None
        root = str(simulated_root(request.out_dir, mission_id, sc, request.seed)) if simulated else source
        given = request.options if mission_id == request.mission else {}
        options = level_options(lvl, given)
        if lvl.preflight is not None:
            lvl.preflight(options)  # a usage problem of the level: before anything runs
        top = not chain
        sources = dict(request.sources) if mission_id == request.mission and not simulated else {}
        indices = []
        for unit in plan_units(request.period, lvl.unit):
            after = [
                i
                for i in needed
                if self.planned[i].job.unit.start <= unit.end and self.planned[i].job.unit.end >= unit.start
            ]
            job = UnitJob(
                mission=mission_id,
                level=lvl.name,
                unit=unit,
                spacecraft=sc,
                source=root,
                out_dir=request.out_dir,
                options=options,
                simulated=simulated,
                force=request.force_all or (request.force and top),
                previous=None,
                unit_id=unit_id(mission_id, lvl.name, sc, unit),
                sources=sources,
                needed_by=None if top else chain[-1].replace("/", " "),
                given_options=frozenset(n for n in given if n in options),
            )
            indices.append(len(self.planned))
            self.planned.append(PlannedJob(job, after))
        return indices


def _not_run(mission_id: str, level: str, chain: tuple[str, ...], request: RunRequest) -> str:
    """The warning for a needed level that has no source."""
    by = chain[-1].replace("/", " ") if chain else request.level
    if mission_id == request.mission:
        how = "no --source was given"
    else:
        how = f"no source for {mission_id} (set source in [missions.{mission_id}] of magfw.toml)"
    return (
        f"{mission_id} {level} (needed by {by}) is not run: {how}; "
        "the products already in the output tree are used"
    )


def keep_last_options(job: UnitJob, level: AnyLevel) -> tuple[UnitJob, dict[str, tuple[Any, Any]]]:
    """A needed unit's job with the output-affecting option values of its last successful run
    for the options the request did not give, and what was kept (name -> (kept, planned)).
    The requested level's units, and units never run, are planned as they are."""
    if job.needed_by is None or job.previous is None:
        return job, {}
    last = job.previous.versions.get("options", {})
    kept = {
        o.name: (last[o.name], job.options.get(o.name))
        for o in level.options
        if o.affects_output
        and o.name not in job.given_options
        and o.name in last
        and last[o.name] != job.options.get(o.name)
    }
    if not kept:
        return job, {}
    return replace(job, options={**job.options, **{k: v for k, (v, _) in kept.items()}}), kept


def kept_text(kept: Mapping[str, tuple[Any, Any]]) -> str:
    """``kept --despike-window 5 of its last run (planned: 9)``."""
    parts = [f"--{k.replace('_', '-')} {v!r} (planned {p!r})" for k, (v, p) in kept.items()]
    return "kept " + ", ".join(parts) + " of its last run"


def kept_warnings(results: Iterable[UnitResult]) -> list[str]:
    """One line per needed level whose units kept option values of their last run."""
    by_level: dict[tuple[str, str], dict[str, set[str]]] = {}
    counts: dict[tuple[str, str], int] = {}
    for r in results:
        if r.kept_options:
            key = (r.mission, r.level)
            counts[key] = counts.get(key, 0) + 1
            for name, (value, planned) in r.kept_options.items():
                by_level.setdefault(key, {}).setdefault(name, set()).add(f"{value!r} (planned {planned!r})")
    lines = []
    for (mission, level), names in by_level.items():
        flags = "; ".join(f"--{n.replace('_', '-')} {', '.join(sorted(v))}" for n, v in names.items())
        given = " ".join(f"--{n.replace('_', '-')} VALUE" for n in names)
        lines.append(
            f"{mission} {level}: {counts[(mission, level)]} unit(s) made with other options were "
            f"kept as they are ({flags}); to remake them, give {given}"
        )
    return lines
