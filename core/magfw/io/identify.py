"""Which product definition a file is: by its name, else by what it holds.

By name (:func:`by_name`): the definition whose file-name template matches the path's trailing
components or, for a file outside its directory tree, its name against the template's last
part (a flat file is named by either half). ``magfw check`` and the xarray engine decide the
same way.

By content (:func:`by_content`), for a renamed or moved product, a bare copy or a file object:
among the definitions of the file's format, those whose variables the file has (every required
one, nothing undeclared; a flat file: exactly the definition's columns) are ranked by

1. the name the file records for itself (a CDF's ``Logical_file_id``, a netCDF's ``id`` or
   ``Logical_file_id``, a flat file's ``DATA`` keyword) matching the definition's template;
2. how many of the definition's fixed global attributes (``Data_type``, ``Descriptor``,
   ``OWNER``, ``title``...) the file holds with the same value, less those it holds with
   another value.

A single best candidate is the answer; none, or a tie, is one :class:`InputError` line.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from magfw.errors import InputError
from magfw.io.products import ProductData
from magfw.plugin.definitions import ProductDefinition
from magfw.plugin.filenames import FileName

#: Global attributes in which a file records its own name, by format.
_SELF_NAMES = {
    "cdf": (("Logical_file_id", ".cdf"),),
    "netcdf": (("id", ".nc"), ("Logical_file_id", ".nc")),
    "flatfile": (("DATA", ""),),
}


def last_segment(fn: FileName) -> FileName | None:
    """The template's final path component as a template of its own (for a bare file)."""
    last = fn.template.rsplit("/", 1)[-1]
    used = [f for _, f, _, _ in string.Formatter().parse(last) if f]
    try:
        return FileName(template=last, fields={k: fn.fields[k] for k in used})
    except ValueError:
        return None


def _name_matches(d: ProductDefinition, name: str) -> bool:
    """``name`` (a bare file name) fits the last part of ``d``'s template."""
    seg = last_segment(d.filename) if "/" in d.filename.template else d.filename
    return seg is not None and seg.parse(name) is not None


def by_name(path: str | Path, definitions: Iterable[ProductDefinition]) -> ProductDefinition | None:
    """The definition whose file-name template matches ``path`` (module notes), or None."""
    defs = list(definitions)
    path = Path(path)
    candidates = [path]
    if path.suffix.lower() in (".ffh", ".ffd"):  # a flat file is named by either half
        other = ".ffd" if path.suffix.lower() == ".ffh" else ".ffh"
        candidates.append(path.with_suffix(other))
    for p in candidates:
        for d in defs:
            if d.filename.parse(p.as_posix()) is not None:
                return d
    for p in candidates:
        for d in defs:
            if "/" in d.filename.template and _name_matches(d, p.name):
                return d
    return None


def _fits(d: ProductDefinition, data: ProductData) -> bool:
    """The file holds ``d``'s variables: every required one and nothing undeclared (a flat
    file: exactly its columns)."""
    if data.format == "flatfile":
        from magfw.io.flatfile_product import layout

        try:
            _, tname, cols = layout(d)
        except Exception:  # a definition that cannot be laid out is not this file's
            return False
        return {tname, *(n for _, names in cols for n in names)} == set(data.variables)
    declared = {v.name for v in d.variables}
    required = {v.name for v in d.variables if not v.optional}
    return required <= set(data.variables) <= declared


def _text(value: Any) -> str:
    if isinstance(value, np.ndarray | list | tuple):
        return ", ".join(str(v) for v in np.asarray(value).reshape(-1))
    return " ".join(str(value).split())


def _rank(d: ProductDefinition, data: ProductData) -> tuple[int, int]:
    """(the file's own name fits ``d``'s template, attribute agreements less disagreements)."""
    named = 0
    for key, suffix in _SELF_NAMES.get(data.format, ()):
        own = data.global_attrs.get(key)
        if own is not None:
            name = _text(own)
            if suffix and not name.lower().endswith(suffix):
                name += suffix
            if data.format == "flatfile":  # DATA names the .ffd; the template the .ffh
                name = Path(name).with_suffix(Path(d.filename.template).suffix).name
            named = max(named, int(_name_matches(d, Path(name).name)))
    score = 0
    for key, want in d.global_attrs.items():
        if want is None or key not in data.global_attrs:
            continue
        score += 1 if _text(data.global_attrs[key]) == _text(want) else -1
    return named, score


def name_fields(d: ProductDefinition, path: str | Path) -> dict[str, Any] | None:
    """The file-name fields of ``path`` under ``d``'s template (its trailing components, else
    its bare name against the template's last part), or None."""
    path = Path(path)
    fields = d.filename.parse(path.as_posix())
    if fields is None and "/" in d.filename.template:
        seg = last_segment(d.filename)
        fields = None if seg is None else seg.parse(path.name)
    return fields


def by_content(data: ProductData, definitions: Iterable[ProductDefinition]) -> ProductDefinition:
    """The definition ``data`` (a file already read) belongs to, judged by its content
    (module notes); an :class:`InputError` naming the file when none or several fit."""
    fitting = [d for d in definitions if d.format == data.format and _fits(d, data)]
    if not fitting:
        raise InputError(
            data.path,
            f"not a magfw product: its name matches no product definition and its {data.format} "
            "variables are those of none (magfw missions lists them)",
        )
    ranked = sorted(((_rank(d, data), d.key, d) for d in fitting), key=lambda r: r[:2], reverse=True)
    best = [d for rank, _, d in ranked if rank == ranked[0][0]]
    if len(best) > 1:
        raise InputError(
            data.path,
            "its name matches no product definition and its content fits several: "
            + ", ".join(sorted(d.key for d in best))
            + " (give it its product name)",
        )
    return best[0]
