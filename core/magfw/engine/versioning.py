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

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from magfw.engine.ledger import LedgerEntry
from magfw.plugin.context import CALIBRATION_ROLE, KERNEL_ROLE
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
    why: tuple[str, ...] = ()  #: why it runs, in words (:func:`explain`); () when skipped


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
        return Decision(
            run=True, version=first_version(definitions), kind=None, reason=None, why=("never processed",)
        )
    reason = describe_changes(previous, inputs, versions)
    base = previous.product_version if previous.product_version is not None else 0
    unchanged = reason is None and previous.inputs_digest == inputs_digest
    if unchanged and not force:
        if outputs_intact:
            return Decision(run=False, version=base, kind=None, reason=None)
        why = ("its earlier outputs are missing or changed",)
        return Decision(run=True, version=base, kind=None, reason="earlier outputs missing", why=why)
    words = explain(previous, inputs, versions)
    if force:
        words.append("rerun forced (--force)")
    if reason is None:
        reason = "rerun forced" if force else "inputs changed"
    kind: Kind | None = None
    if any(d.version.policy == "major_minor" for d in definitions):
        kind = revision_kind(previous.versions, versions) if not unchanged else "minor"
        version, reason = bump(base, kind), f"{kind} revision: {reason}"
    else:
        version = base + 1
    return Decision(
        run=True, version=version, kind=kind, reason=reason, why=tuple(words or ["its inputs changed"])
    )


# ------------------------------------------------------------------------------ in words

_VERSION = re.compile(r"([._-])[vV]\d+(?=[._-]|$)")
_ROLE_WORDS = {CALIBRATION_ROLE: "calibration", KERNEL_ROLE: "kernel"}


def _unversioned(name: str) -> str:
    """A file name without its version (``STA_L1_MAG_20240102_V02.cdf`` -> ``..._20240102.cdf``)."""
    return _VERSION.sub(r"\1", name.rsplit("/", 1)[-1])


def _input_changes(previous: list[dict[str, Any]], current: list[dict[str, Any]]) -> list[str]:
    old = {(i["role"], i["name"]): i["sha256"] for i in previous}
    new = {(i["role"], i["name"]): i["sha256"] for i in current}
    added, gone = sorted(new.keys() - old.keys()), sorted(old.keys() - new.keys())
    words: list[str] = []
    for role, name in added:
        what = _ROLE_WORDS.get(role, "input")
        was = next((g for g in gone if g[0] == role and _unversioned(g[1]) == _unversioned(name)), None)
        base = name.rsplit("/", 1)[-1]
        if was is not None:
            gone.remove(was)
            words.append(f"new {what} version {base} (was {was[1].rsplit('/', 1)[-1]})")
        else:
            words.append(f"new {what} {base}")
    for role, name in gone:
        words.append(f"{_ROLE_WORDS.get(role, 'input')} {name.rsplit('/', 1)[-1]} no longer used")
    for role, name in sorted(new.keys() & old.keys()):
        if old[(role, name)] != new[(role, name)]:
            words.append(f"changed {_ROLE_WORDS.get(role, 'input')} {name.rsplit('/', 1)[-1]} (new content)")
    return words


def _version_changes(
    previous: Mapping[str, Any], current: Mapping[str, Any], inputs_changed: bool
) -> list[str]:
    words: list[str] = []
    software = [k for k in ("magfw", "plugin") if previous.get(k) != current.get(k)]
    if software:
        words.append(
            "new software (" + "; ".join(f"{k} {previous.get(k)} -> {current.get(k)}" for k in software) + ")"
        )
    old_defs, new_defs = previous.get("definitions") or {}, current.get("definitions") or {}
    changed = sorted(k for k in set(old_defs) | set(new_defs) if old_defs.get(k) != new_defs.get(k))
    if changed:
        words.append("new product definition " + ", ".join(changed))
    if previous.get("options") != current.get("options"):
        words.append(f"changed options ({previous.get('options')} -> {current.get('options')})")
    for key, what in (
        ("calibration", "calibration"),
        ("kernels", "kernel set"),
        ("selection", "input selection"),
    ):
        a, b = previous.get(key) or {}, current.get(key) or {}
        if a != b and not inputs_changed:  # else the inputs above say it
            diff = ", ".join(
                f"{k}: {a.get(k)} -> {b.get(k)}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)
            )
            words.append(f"changed {what} ({diff})")
    return words


def describe_changes(
    previous: LedgerEntry, inputs: list[dict[str, Any]], versions: dict[str, Any]
) -> str | None:
    """A one-line reason for regenerating a unit, or None if nothing changed: the reason the
    ledger records with the new version (:func:`explain` says it at length)."""
    parts: list[str] = []
    old = {(i["role"], i["name"]): i["sha256"] for i in previous.inputs}
    new = {(i["role"], i["name"]): i["sha256"] for i in inputs}
    added = sorted(n for (_, n) in new.keys() - old.keys())
    gone = sorted(n for (_, n) in old.keys() - new.keys())
    changed = sorted(k[1] for k in new.keys() & old.keys() if old[k] != new[k])
    if added:
        parts.append("new input " + ", ".join(added))
    if gone:
        parts.append("input no longer used " + ", ".join(gone))
    if changed:
        parts.append("input changed " + ", ".join(changed))
    for key in sorted(set(versions) | set(previous.versions)):
        a, b = previous.versions.get(key), versions.get(key)
        if a != b:
            parts.append(f"{key} {_short(a)} -> {_short(b)}")
    return "; ".join(parts) or None


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else value
    return text if len(text) <= 60 else text[:57] + "..."


def explain(previous: LedgerEntry, inputs: list[dict[str, Any]], versions: Mapping[str, Any]) -> list[str]:
    """Why a unit last run as ``previous`` would run again with these ``inputs`` and
    ``versions``, in words: ``new input version STA_L1_MAG_20240102_V02.cdf (was ..._V01.cdf)``,
    ``changed calibration 202401StereoACounts.asc (new content)``, ``new kernel ...``,
    ``new software (...)``, ``new product definition ...``; [] when nothing differs."""
    words = _input_changes(previous.inputs, inputs)
    return words + _version_changes(previous.versions, versions, bool(words))


def outputs_intact(out_dir: Path, entry: LedgerEntry) -> bool:
    """Whether every output of ``entry`` is still in ``out_dir`` with its recorded size."""
    for o in entry.outputs:
        p = out_dir / o["path"]
        if not p.is_file() or p.stat().st_size != o["size"]:
            return False
    return True


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
