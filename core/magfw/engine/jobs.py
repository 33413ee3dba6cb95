"""The records a run is made of: the request, one job per unit, each unit's result, the summary.

All are plain, picklable dataclasses: a job travels to a worker process (or a Dask worker) and
its :class:`UnitResult` travels back to the coordinator, which commits the staged files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from magfw.period import Period, Unit

if TYPE_CHECKING:  # (the ledger, and sqlite3, are not needed to describe a run)
    from magfw.engine.ledger import LedgerEntry

Status = Literal["ok", "failed", "skipped"]
SIMULATED_SOURCE = "simulated"


@dataclass(frozen=True, kw_only=True)
class RunRequest:
    """What ``magfw run`` asks for.

    ``source`` is the default archive (a directory, an http(s) URL or ``simulated``);
    ``sources`` adds archives by role (``{"spice": "https://..."}``), which a level reads
    with ``ctx.archive_for(role)``. ``options``: the option values the user gives, by name
    (each planned level of the mission that declares one gets it; the rest take their
    defaults). ``force`` redoes the requested level's units even if unchanged; ``force_all``
    every planned unit, the needed levels' too.
    """

    mission: str
    level: str
    period: Period
    out_dir: Path
    source: str | None = None
    spacecraft: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    force: bool = False
    force_all: bool = False
    dry_run: bool = False
    workers: int = 1
    seed: int = 0
    executor: str = "local"
    scheduler: str | None = None
    sources: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class StagedFile:
    """A product file written into the run's staging folder, waiting for its commit."""

    staged: Path  #: where it is now (inside ``<out>/.magfw/staging/<run>/``)
    rel: str  #: where it goes, relative to the output tree
    product: str  #: the product definition id
    sha256: str  #: computed while writing
    size: int


@dataclass(frozen=True, kw_only=True)
class UnitJob:
    """Everything a (possibly remote) worker needs to process one unit; picklable.

    ``previous`` (the unit's last successful run) is read by the coordinator once it holds
    the unit's lock, just before the job is sent, so two runs never both redo a unit.
    ``needed_by`` names the level that needs this one (None: the requested level);
    ``given_options`` the options whose values the user gave (a needed unit keeps its last
    run's values of the others: :func:`magfw.engine.plan.keep_last_options`).
    """

    mission: str
    level: str
    unit: Unit
    spacecraft: str | None
    source: str  #: the default archive: a local directory or a URL
    out_dir: Path
    options: dict[str, Any]
    simulated: bool
    force: bool
    previous: LedgerEntry | None
    unit_id: str
    run_id: str = ""
    stage_dir: Path | None = None  #: this run's staging folder
    sources: dict[str, str] = field(default_factory=dict)
    needed_by: str | None = None
    given_options: frozenset[str] = frozenset()


@dataclass(kw_only=True)
class UnitResult:
    """How one unit ended."""

    unit: Unit
    status: Status
    message: str = ""
    outputs: list[Path] = field(default_factory=list)
    vectors: int = 0
    duration_s: float = 0.0
    entry: LedgerEntry | None = None
    mission: str = ""
    level: str = ""
    peak_rss_mb: float = 0.0  #: the processing process's peak resident memory so far
    staged: list[StagedFile] = field(default_factory=list)
    spacecraft: str | None = None
    version: int | None = None
    reason: str | None = None
    simulated: bool = False
    commit_dir: Path | None = None  #: where the staged files wait (None once committed)
    warnings: list[str] = field(default_factory=list)  #: what ``ctx.warn`` said
    step_s: dict[str, float] = field(default_factory=dict)  #: seconds per step (and "stage")
    #: a dry run's answer (:mod:`magfw.engine.dryrun`): "run", "unchanged", "skip" or "fail"
    forecast: str | None = None
    #: options a needed unit kept from its last run: name -> (kept value, planned value)
    kept_options: dict[str, tuple[Any, Any]] = field(default_factory=dict)


@dataclass(kw_only=True)
class RunSummary:
    """The end of a run: every unit's result and the totals.

    ``request`` is what was asked; ``warnings`` collects what did not fail a unit but is
    worth telling (a notification hook that failed, a unit waiting for another run);
    ``failures`` the hand-offs after the units that did not happen (an upload that failed:
    :meth:`fail`), each one line; they fail the run (exit 1) as a failed unit does.
    """

    results: list[UnitResult]
    wall_s: float
    request: RunRequest | None = None
    warnings: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def fail(self, line: str) -> None:
        """Record a hand-off of this run that did not happen (one line): the run fails."""
        self.failures.append(" ".join(line.split()))

    def count(self, status: Status) -> int:
        """How many units ended with ``status``."""
        return sum(r.status == status for r in self.results)

    @property
    def vectors(self) -> int:
        """Vectors read over all units."""
        return sum(r.vectors for r in self.results)

    @property
    def ok(self) -> bool:
        """True when no unit failed and no hand-off failed."""
        return self.count("failed") == 0 and not self.failures

    @property
    def vectors_per_s(self) -> float:
        """Throughput of the whole run (vectors read per second of wall time)."""
        return self.vectors / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def outputs(self) -> list[Path]:
        """Every file committed by the run, in unit order."""
        return [p for r in self.results for p in r.outputs]

    def committed(self, mission: str, level: str) -> list[UnitResult]:
        """The units of ``mission``'s ``level`` that ended ``ok`` and committed files (not
        the skipped or failed ones): what a notification announces."""
        return [
            r
            for r in self.results
            if (r.mission, r.level) == (mission, level) and r.status == "ok" and r.outputs
        ]


def unit_id(mission: str, level: str, spacecraft: str | None, unit: Unit) -> str:
    """The ledger key of a unit: ``mission/level/spacecraft/key``."""
    return f"{mission}/{level}/{spacecraft or '-'}/{unit.key}"
