"""The level contract: what a level object is, step by step, typed stage to stage.

A level object processes one unit of its level (a day, a month or a year) in eight steps,
which the core calls directly, in this order::

    fetch(ctx) -> Inputs            (the ledger may skip the unit here)
    read(ctx, inputs) -> S0
    calibrate(ctx, S0) -> S1
    correct(ctx, S1) -> S2
    transform(ctx, S2) -> S3
    average(ctx, S3) -> S4
    quality(ctx, S4) -> S5
    write(ctx, S5) -> list[Product]

``S0`` ... ``S5`` are the level's own stage types (frozen dataclasses, usually). Because
:class:`magfw.api.Level` is generic over them, ``Level(name="l1", pipeline=L1())`` makes mypy
check the whole chain: a step that takes another stage than the one before it returns is a
type error at that line. A step the level does not need comes from its pass-through mixin
(:class:`NoCalibrate` ... :class:`NoQuality`, or :class:`NoMiddleSteps` for all five), which
hands the data on unchanged and keeps the chain typed.

Each step's docstring below is the promise its name makes: the work it names goes there, and
nothing else. Steps are pure: data in, data out. ``fetch`` reaches files only through
``ctx.archive`` (and ``ctx`` helpers for products of the output tree), ``read`` decodes them
with the core readers, and a step may load SPICE kernels that ``fetch`` brought (through
:func:`magfw.api.kernels.kernel_pool`); no step writes a file: ``write`` returns products and
the runner writes them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from magfw.plugin.context import Inputs, Product, UnitContext

S0 = TypeVar("S0")
S1 = TypeVar("S1")
S2 = TypeVar("S2")
S3 = TypeVar("S3")
S4 = TypeVar("S4")
S5 = TypeVar("S5")
T = TypeVar("T")

#: The steps of a level object, in call order.
STEPS = ("fetch", "read", "calibrate", "correct", "transform", "average", "quality", "write")
#: The five middle steps, each ``(ctx, data) -> data``; a level skips one with its mixin.
MIDDLE_STEPS = ("calibrate", "correct", "transform", "average", "quality")
#: The arguments each step takes (beside ``self``).
STEP_ARGS = {"fetch": ("ctx",), "read": ("ctx", "inputs"), **{s: ("ctx", "data") for s in STEPS[2:]}}


class LevelObject(Protocol[S0, S1, S2, S3, S4, S5]):
    """What the core calls for each unit of a level (see the module notes)."""

    def fetch(self, ctx: UnitContext) -> Inputs:
        """Find and bring the unit's inputs through ``ctx.archive``; return them with checksums.

        Pick versions here (highest version wins, duplicates dropped) and include calibration
        tables and kernels as inputs, so that the ledger sees every change; name the versions
        in force in ``Inputs.calibration``, ``Inputs.kernels`` and ``Inputs.selection``. Raise
        :class:`magfw.api.MissingInputError` if a required input is absent; return
        ``Inputs(skip_reason=...)`` if the unit legitimately has nothing to process. Nothing is
        decoded here, so that the ledger can skip an unchanged unit cheaply.
        """
        ...

    def read(self, ctx: UnitContext, inputs: Inputs) -> S0:
        """Decode the fetched files into the level's first stage (with the core readers):
        telemetry, tables and earlier products as arrays, nothing changed yet.

        Add the number of vectors read to ``ctx.vectors``. A bad file raises
        :class:`magfw.api.InputError` naming the file and the problem.
        """
        ...

    def calibrate(self, ctx: UnitContext, data: S0) -> S1:
        """Raw values -> physical units with calibration tables (validity ranges, versions):
        counts -> nT with temperature correction, the on-board clock -> UT with a
        time-correlation table; and deriving calibration: offset fits from rotation
        manoeuvres, offset estimates, whatever calibration record a level makes (with what
        such a fit needs as its model, e.g. the attitude of each sample)."""
        ...

    def correct(self, ctx: UnitContext, data: S1) -> S2:
        """Repair the measurements at their own cadence: timing fixes, spike, glitch and
        saturation removal, zero offsets, spacecraft-field removal, smoothing. The per-sample
        flags of what was repaired or is to be left out (the samples an average may take)
        are set here, where that is decided."""
        ...

    def transform(self, ctx: UnitContext, data: S2) -> S3:
        """Frames and coordinates: rotations (spacecraft -> RTN / GSE / GSM...), positions
        and other geometry (:mod:`magfw.api.frames`, SPICE)."""
        ...

    def average(self, ctx: UnitContext, data: S3) -> S4:
        """Change of time base: re-sampling, binning and averaging (31.25 ms -> 125 ms, 1 s,
        1 min, 10 s), merging series onto one time grid (with the quantities each grid point
        derives from the merged values, e.g. a plasma beta from the minute's field and
        moments), aligning one series to another's records; with correct bin edges and time
        tags as the product definition's ``time_convention`` says."""
        ...

    def quality(self, ctx: UnitContext, data: S4) -> S5:
        """Judge the result: the product's quality flags and figures (per bin, per file: a
        quality factor, a missing-data percentage), monitoring, cross-comparison with other
        spacecraft or instruments."""
        ...

    def write(self, ctx: UnitContext, data: S5) -> list[Product]:
        """Build the unit's products in memory; the runner writes them.

        Return one :class:`magfw.api.Product` per file, with the file-name fields the unit
        does not give (the runner fills the version and the date fields ``yyyy``, ``yy``,
        ``mm``, ``mmm``, ``dd``, ``doy`` from ``ctx.version`` and the unit), the variables and
        extra attributes. The runner adds provenance, stages every file, commits the unit's
        files together and records them in the ledger.
        """
        ...


class NoCalibrate:
    """A level without a ``calibrate`` step: the data pass through unchanged."""

    def calibrate(self, ctx: UnitContext, data: T) -> T:
        return data


class NoCorrect:
    """A level without a ``correct`` step: the data pass through unchanged."""

    def correct(self, ctx: UnitContext, data: T) -> T:
        return data


class NoTransform:
    """A level without a ``transform`` step: the data pass through unchanged."""

    def transform(self, ctx: UnitContext, data: T) -> T:
        return data


class NoAverage:
    """A level without an ``average`` step: the data pass through unchanged."""

    def average(self, ctx: UnitContext, data: T) -> T:
        return data


class NoQuality:
    """A level without a ``quality`` step: the data pass through unchanged."""

    def quality(self, ctx: UnitContext, data: T) -> T:
        return data


class NoMiddleSteps(NoCalibrate, NoCorrect, NoTransform, NoAverage, NoQuality):
    """A level that is not a per-sample pipeline (a merge, a package, an import): only
    ``fetch``, ``read`` and ``write``."""


_PASS_THROUGH = {
    "calibrate": NoCalibrate.calibrate,
    "correct": NoCorrect.correct,
    "transform": NoTransform.transform,
    "average": NoAverage.average,
    "quality": NoQuality.quality,
}


class LazyLevel:
    """A level object whose module is imported when it is first used (a step called, its
    class or steps inspected): what a class given by :func:`lazy_level` makes. Everything
    else is the level object's own (attributes are looked up on it)."""

    def __init__(self, target: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self._target, self._args, self._kwargs = target, args, kwargs
        self._object: object | None = None

    def resolve(self) -> object:
        """The level object itself (its module imported and the object made, once)."""
        if self._object is None:
            module, _, name = self._target.partition(":")
            self._object = getattr(importlib.import_module(module), name)(*self._args, **self._kwargs)
        return self._object

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("_target", "_args", "_kwargs", "_object"):
            raise AttributeError(name)
        return getattr(self.resolve(), name)

    def __repr__(self) -> str:
        state = "imported" if self._object is not None else "not imported yet"
        return f"<level {self._target} ({state})>"


def lazy_level(target: str) -> Callable[..., LazyLevel]:
    """The level class ``"module:Class"``, imported when a level object made from it is first
    used, so that loading a plugin imports none of its level code. For mypy the plugin names
    the real class, so ``Level(name=..., pipeline=L1())`` is still checked end to end::

        if TYPE_CHECKING:  # mypy checks each level with its real class
            from magfw_acme.l1 import L1
        else:  # at run time the module is imported on first use
            L1 = lazy_level("magfw_acme.l1:L1")

    The core checks a lazy level object (steps, arguments, chained types) when it first
    resolves it, which the runner does while planning, before any unit is processed."""

    def make(*args: Any, **kwargs: Any) -> LazyLevel:
        return LazyLevel(target, args, kwargs)

    make.__qualname__ = make.__name__ = target.rpartition(":")[2]
    return make


def resolve_level(obj: object) -> object:
    """``obj`` itself, or the level object a :class:`LazyLevel` stands for."""
    return obj.resolve() if isinstance(obj, LazyLevel) else obj


def step_is_used(obj: object, step: str) -> bool:
    """Whether level object ``obj`` does the work of ``step`` (not a pass-through mixin, not
    absent)."""
    func = getattr(type(resolve_level(obj)), step, None)
    return callable(func) and func is not _PASS_THROUGH.get(step)


def used_steps(obj: object) -> list[str]:
    """The steps ``obj`` implements, in call order."""
    return [s for s in STEPS if step_is_used(obj, s)]
