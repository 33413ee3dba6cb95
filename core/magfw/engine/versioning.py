"""Product versions, decided in one place: whether a unit runs again, the version its products
get, what kind of revision that is and why; and which earlier files a new version supersedes.

A product definition's :class:`~magfw.plugin.definitions.VersionPolicy` says how its version
counts: ``increment`` (V00, V01...: +1 per regeneration), ``major_minor`` (``Vmn``: a new
calibration, definition, software or output-affecting option is a *major* revision, m + 1 and
n = 0; new input files, kernels or selection a *minor* one, n + 1) or ``fixed`` (always its
``start``, overwritten in place: a processing release such as STEREO's V06). A unit's products
share one version (``ctx.version``); a ``fixed`` product's files keep their own.

The rule (stated once, in ``docs/plugins.md``, *Versions, reruns and --force*): a version,
once written, is never rewritten with other content, except under ``fixed``.

- nothing changed and the outputs are intact: the unit is skipped;
- something changed (an input, a calibration, kernels, the selection, an output-affecting
  option, a definition, the software): the next version, with the change as its reason;
- forced (``--force``, ``--force-all``) with nothing changed: the next version too (``rerun
  forced``; a *minor* revision under ``major_minor``), beside the earlier one, since the
  rerun may differ in what the ledger cannot see;
- nothing changed but an output of the last run is missing or damaged: the same version is
  written again (``earlier outputs missing``): made from the same inputs, versions and
  software, it is the same product, repaired.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from magfw.engine.ledger import LedgerEntry, describe_changes
from magfw.plugin.definitions import ProductDefinition

#: Ledger version keys whose change is a *major* revision (a new calibration or algorithm);
#: any other change (input files, kernels, selection) is *minor*.
MAJOR_KEYS = ("calibration", "definitions", "plugin", "magfw", "options")

Kind = Literal["major", "minor"]


@dataclass(frozen=True, kw_only=True)
class Decision:
    """What a unit's run does with versions."""

    run: bool  #: False: nothing changed and the outputs are intact, the unit is skipped
    version: int  #: the unit's product version (``ctx.version``)
    kind: Kind | None  #: the revision kind of a ``major_minor`` regeneration, else None
    reason: str | None  #: why this is a regeneration; None the first time (and when skipped)


def revision_kind(previous: Mapping[str, Any], current: Mapping[str, Any]) -> Kind:
    """``major`` or ``minor``: what kind of revision regenerating with ``current`` is."""
    return "major" if any(previous.get(k) != current.get(k) for k in MAJOR_KEYS) else "minor"


def bump(version: int, kind: Kind) -> int:
    """The ``Vmn`` after ``version`` (m = version // 10) for a ``major``/``minor`` revision."""
    if kind == "major" or version % 10 == 9:
        return (version // 10 + 1) * 10
    return version + 1


def first_version(definitions: Iterable[ProductDefinition]) -> int:
    """The version of a unit's first products: the highest ``start`` of its counting policies."""
    return max((d.version.start for d in definitions if d.version.policy != "fixed"), default=0)


def decide(
    previous: LedgerEntry | None,
    inputs: list[dict[str, Any]],
    inputs_digest: str,
    versions: dict[str, Any],
    definitions: list[ProductDefinition],
    *,
    force: bool = False,
    outputs_intact: bool = True,
) -> Decision:
    """The unit's decision from its last successful run (``previous``), its inputs (ledger
    records and digest), its versions (:func:`magfw.engine.process.unit_versions`) and the
    definitions of its level's products."""
    if previous is None:
        return Decision(run=True, version=first_version(definitions), kind=None, reason=None)
    reason = describe_changes(previous, inputs, versions)
    base = previous.product_version if previous.product_version is not None else 0
    unchanged = reason is None and previous.inputs_digest == inputs_digest
    if unchanged and not force:
        if outputs_intact:
            return Decision(run=False, version=base, kind=None, reason=None)
        return Decision(run=True, version=base, kind=None, reason="earlier outputs missing")
    if reason is None:
        reason = "rerun forced" if force else "inputs changed"
    kind: Kind | None = None
    if any(d.version.policy == "major_minor" for d in definitions):
        kind = revision_kind(previous.versions, versions) if not unchanged else "minor"
        version, reason = bump(base, kind), f"{kind} revision: {reason}"
    else:
        version = base + 1
    return Decision(run=True, version=version, kind=kind, reason=reason)


def file_version(definition: ProductDefinition, unit_version: int) -> int:
    """The version a file of ``definition`` is named with, in a unit of ``unit_version``."""
    return definition.version.start if definition.version.policy == "fixed" else unit_version


def file_identity(definition: ProductDefinition, rel: str) -> tuple[str, str] | None:
    """A file's identity across versions: its product and its name without the version (None
    when the name is not the definition's)."""
    fields = definition.filename.parse(rel)
    if fields is None:
        return None
    rest = sorted((k, str(v)) for k, v in fields.items() if k != definition.version.field)
    return definition.id, repr(rest)


def superseded(
    previous_outputs: Iterable[Mapping[str, Any]],
    new_outputs: Iterable[tuple[str, str]],
    definitions: Mapping[str, ProductDefinition],
) -> list[str]:
    """The earlier outputs of a unit (ledger records: ``path``, ``product``) that a new commit of
    ``new_outputs`` ((product id, path) pairs) supersedes without writing a newer version of the
    same file: the commit retires them, so that the newest version of a unit is one complete
    set. A file whose newer version is written stays beside it (an earlier version kept)."""

    def identity(product: str, rel: str) -> tuple[str, str] | None:
        d = definitions.get(product)
        return file_identity(d, rel) if d is not None else None

    kept = {identity(p, rel) for p, rel in new_outputs} - {None}
    return [o["path"] for o in previous_outputs if identity(o["product"], o["path"]) not in kept]
