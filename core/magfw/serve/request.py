"""HAPI request parameters, checked strictly (HAPI 3.3 section 3.1, status codes 4.2).

- an unknown request parameter is ``1401``; one given twice ``1411`` (duplicate parameters);
- the 3.x names (``dataset``, ``start``, ``stop``) and the 2.x ones (``id``, ``time.min``,
  ``time.max``) are both accepted, not mixed: ``dataset`` with ``id``, or a 3.x time name with
  a 2.x one (``start`` with ``time.max``), is ``1400``;
- ``start``/``stop``: ``1402``/``1403`` when missing or malformed, ``1404`` unless start <
  stop; ``parameters``: ``1407`` for a name the dataset lacks, ``1411`` out of order or
  repeated; ``format`` ``1409``; ``include`` ``1410``; ``resolve_references`` ``1412``;
  ``depth`` ``1413``.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from magfw.serve.datasets import Dataset
from magfw.serve.encode import FORMATS
from magfw.serve.parameters import Parameter
from magfw.serve.status import HapiError
from magfw.serve.timefmt import HapiTimeError, parse_hapi_time

DATA_PARAMS = {"dataset", "id", "start", "stop", "time.min", "time.max", "parameters", "include", "format"}


def check_params(request: Request, allowed: set[str]) -> dict[str, str]:
    """The query parameters (one value each); unknown (1401) or repeated (1411) ones are
    errors."""
    got: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        if key not in allowed:
            raise HapiError(1401, "see the HAPI specification for this endpoint's parameters")
        if key in got:
            raise HapiError(1411, f"request parameter {key} given twice")
        got[key] = value
    return got


def dataset_name(q: dict[str, str]) -> str:
    """``dataset`` (or HAPI 2's ``id``); both, or neither, is 1400."""
    if "dataset" in q and "id" in q:
        raise HapiError(1400, "give dataset or id (HAPI 2), not both")
    name = q.get("dataset", q.get("id"))
    if not name:
        raise HapiError(1400, "dataset is required")
    return name


def resolve_references(q: dict[str, str]) -> None:
    value = q.get("resolve_references")
    if value is not None and value not in ("true", "false"):
        raise HapiError(1412, "true or false")


def catalog_depth(q: dict[str, str]) -> str:
    depth = q.get("depth", "dataset")
    if depth not in ("dataset", "all"):
        raise HapiError(1413, "dataset or all")
    return depth


@dataclass(frozen=True, kw_only=True)
class DataQuery:
    """A ``/data`` request's time range (TT2000 ns, stop exclusive) and choices."""

    start: int
    stop: int
    fmt: str
    include_header: bool


def _time(q: dict[str, str], new: str, old: str, code: int) -> int:
    text = q.get(new, q.get(old))
    if not text:
        raise HapiError(code, f"{new} is required")
    try:
        return parse_hapi_time(text)
    except HapiTimeError:
        raise HapiError(code) from None


def data_query(q: dict[str, str]) -> DataQuery:
    """The time range and format choices of a ``/data`` request (module notes)."""
    v3, v2 = {"start", "stop"} & set(q), {"time.min", "time.max"} & set(q)
    if v3 and v2:
        raise HapiError(1400, "give start and stop, or time.min and time.max (HAPI 2), not a mixture")
    start = _time(q, "start", "time.min", 1402)
    stop = _time(q, "stop", "time.max", 1403)
    if start >= stop:
        raise HapiError(1404)
    fmt = q.get("format", "csv") or "csv"
    if fmt not in FORMATS:
        raise HapiError(1409, "csv, binary or json")
    include = q.get("include")
    if include not in (None, "header"):
        raise HapiError(1410, "only include=header")
    return DataQuery(start=start, stop=stop, fmt=fmt, include_header=fmt == "json" or include == "header")


def chosen_parameters(ds: Dataset, text: str | None) -> list[Parameter]:
    """The dataset's parameters a ``parameters`` list names, the time first (all when the
    list is absent or empty)."""
    if text is None or text.strip() == "":
        return list(ds.parameters)
    names = [n.strip() for n in text.split(",")]
    order = {p.name: i for i, p in enumerate(ds.parameters)}
    if any(n not in order for n in names):
        raise HapiError(1407)
    idx = [order[n] for n in names]
    if len(set(idx)) != len(idx) or idx != sorted(idx):
        raise HapiError(1411)
    chosen = [ds.parameters[i] for i in idx]
    if chosen[0] is not ds.parameters[0]:
        chosen.insert(0, ds.parameters[0])  # the time parameter is always there
    return chosen
