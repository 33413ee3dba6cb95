"""What the ledger says about a set of units, as rows for the review pages: the calibration
tables the units used, their version history, their files.

A calibration table that is itself a recorded output of the tree (STEREO's imported Counts
table ``offsets/Vnn/YYYYMMStereoACounts.asc``) is shown in full; one read from the input
archive is named with its version and SHA-256.
"""

from __future__ import annotations

import html
from typing import Any

from starlette.requests import Request

from magfw.serve.calendars import when
from magfw.serve.holdings import Holdings, UnitKey

_TABLE_BYTES = 512 * 1024


def text_table(text: str) -> dict[str, Any]:
    """A text table: a comment header line (``%``/``#``) naming the columns, rows of numbers;
    else the text as it is."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    head: list[str] = []
    rows: list[list[str]] = []
    for ln in lines:
        if ln.lstrip().startswith(("%", "#")):
            names = [html.unescape(c.strip()) for c in ln.lstrip("%# ").split(",")]
            if len(names) > 1:
                head = names
            continue
        rows.append(ln.split())
    if head and rows and all(len(r) == len(head) for r in rows):
        return {"columns": head, "rows": rows}
    return {"text": text}


def calibration(h: Holdings, units: list[UnitKey]) -> list[dict[str, Any]]:
    """The calibration inputs of the units' latest successful runs, one row per table."""
    tables: dict[tuple[str, str], dict[str, Any]] = {}
    for u in units:
        e = h.current(u.unit)
        if e is None:
            continue
        for i in e.inputs:
            if i["role"] != "calibration":
                continue
            t = tables.setdefault(
                (i["name"], i["sha256"]),
                {
                    "name": i["name"],
                    "sha256": i["sha256"],
                    "version": i.get("version"),
                    "days": [],
                    "content": None,
                },
            )
            t["days"].append(u.key)
    for (name, sha), t in tables.items():
        rec = h.recorded(name)
        if rec is not None and rec[0].sha256 == sha and rec[0].size < _TABLE_BYTES:
            try:
                text = h.path(rec[0]).read_text(errors="replace")
            except OSError:
                continue
            t["content"] = text_table(text)
            t["in_tree"] = True
    return list(tables.values())


def history(h: Holdings, units: list[UnitKey]) -> list[dict[str, Any]]:
    """Every run of the units, oldest first per unit."""
    return [
        {
            "day": u.key,
            "when": when(r.started),
            "status": r.status,
            "version": r.product_version,
            "reason": r.reason or "",
            "message": r.error or r.message,
            "simulated": r.simulated,
        }
        for u in units
        for r in h.runs(u.unit)
    ]


def files(h: Holdings, request: Request, u: UnitKey) -> list[dict[str, Any]]:
    """The files of the unit's latest successful run, with their download links."""
    e = h.current(u.unit)
    if e is None:
        return []
    return [
        {
            "path": o["path"],
            "product": o["product"],
            "size": o["size"],
            "url": str(request.url_for("review_file", path=o["path"])),
        }
        for o in sorted(e.outputs, key=lambda o: o["path"])
    ]
