"""Planning a run: the units of the requested level and of the levels it needs, as a graph.

Levels a level ``needs`` (``mission/level``) are planned too, for the same spacecraft, over the
requested period, and each unit waits for the needed units it overlaps (finished, whatever
their status: a product with a missing day marks it as fill). A month or year unit covers its
whole month or year but waits only for the needed units of the requested period; it reads the
other days' products already in the output tree. Units already done are skipped by the ledger,
so planning what exists costs little.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from magfw.config import load_config, mission_setting
from magfw.engine.jobs import SIMULATED_SOURCE, RunRequest, UnitJob, unit_id
from magfw.engine.simulation import simulated_root
from magfw.errors import MagfwError, UsageError
from magfw.period import Period, plan_units
from magfw.plugin.manager import Hooks

log = logging.getLogger("magfw.engine.runner")


@dataclass
class PlannedJob:
    """A job and the indices (in the plan) of the jobs it must wait for."""

    job: UnitJob
    after: list[int] = field(default_factory=list)


def _source(hooks: Hooks, mission_id: str, level: str, request: RunRequest) -> str | None:
    if hooks.registry.get(mission_id).level(level).inputs_from == "output":
        return str(request.out_dir)
    if mission_id == request.mission or request.source == SIMULATED_SOURCE:
        return request.source
    return (
        mission_setting(load_config(), mission_id, "source") or hooks.registry.get(mission_id).default_source
    )


def plan_graph(hooks: Hooks, request: RunRequest) -> tuple[list[PlannedJob], str | None]:
    """Every job of the request and of the levels it needs, dependencies first; and the
    resolved spacecraft. Usage problems (unknown level, no source, a cycle) raise first."""
    mission = hooks.registry.get(request.mission)
    level = mission.level(request.level)
    spacecraft = mission.resolve_spacecraft(request.spacecraft)  # usage errors first
    if not level.implemented:
        raise MagfwError(None, f"{mission.id} {level.name}: not implemented yet")
    if request.source is None and level.inputs_from == "archive":
        raise UsageError(
            None, f"no --source for {mission.id}: give an archive directory, a URL, or 'simulated'"
        )
    planned: list[PlannedJob] = []
    by_level: dict[tuple[str, str], list[int]] = {}
    period: Period = request.period

    def add(mission_id: str, level_name: str, chain: tuple[str, ...]) -> None:
        key = (mission_id, level_name)
        if key in by_level:
            return
        if f"{mission_id}/{level_name}" in chain:
            raise UsageError(
                None,
                f"levels need each other in a cycle: {' -> '.join((*chain, f'{mission_id}/{level_name}'))}",
            )
        m = hooks.registry.get(mission_id)
        lvl = m.level(level_name)
        if lvl.implemented:  # a lazy level object is imported and checked here, before any unit
            hooks.level_object(mission_id, level_name)
        source = _source(hooks, mission_id, level_name, request)
        needed: list[int] = []
        for need in lvl.needs:
            dep_mission, _, dep_level = need.partition("/")
            if dep_mission not in hooks.registry:  # not installed/loaded: use files
                log.info(
                    "%s %s needs %s, which is not loaded: existing products are used",
                    mission_id,
                    level_name,
                    need,
                )
                continue
            dep = hooks.registry.get(dep_mission).level(dep_level)
            if dep.implemented and _source(hooks, dep_mission, dep_level, request) is not None:
                add(dep_mission, dep_level, (*chain, f"{mission_id}/{level_name}"))
                needed += by_level.get((dep_mission, dep_level), [])
        if source is None:  # a needed level with no archive: use what is already there
            log.info("%s %s not planned: no source configured", mission_id, level_name)
            return
        simulated = source == SIMULATED_SOURCE
        sc = m.resolve_spacecraft(spacecraft if m.spacecraft else None) if lvl.per_spacecraft else None
        root = str(simulated_root(request.out_dir, mission_id, sc, request.seed)) if simulated else source
        top = key == (request.mission, request.level)
        # every level gets its own options' defaults, then what the request gives for an
        # option of that name (``plastic l2 --vnum 11`` reaches the ``daily`` level it needs)
        options = {o.name: o.default for o in lvl.options}
        given = request.options if mission_id == request.mission else {}
        options.update({k: v for k, v in given.items() if top or k in options})
        sources = dict(request.sources) if mission_id == request.mission and not simulated else {}
        indices = []
        for unit in plan_units(period, lvl.unit):
            uid = unit_id(mission_id, level_name, sc, unit)
            after = [
                i
                for i in needed
                if planned[i].job.unit.start <= unit.end and planned[i].job.unit.end >= unit.start
            ]
            job = UnitJob(
                mission=mission_id,
                level=level_name,
                unit=unit,
                spacecraft=sc,
                source=root,
                out_dir=request.out_dir,
                options=options,
                simulated=simulated,
                force=request.force and top,
                previous=None,
                unit_id=uid,
                sources=sources,
            )
            indices.append(len(planned))
            planned.append(PlannedJob(job, after))
        by_level[key] = indices

    add(mission.id, level.name, ())
    return planned, spacecraft
