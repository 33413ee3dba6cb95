"""The delivery step of a run: the zips a package level holds, uploaded where ``[delivery]``
says (:mod:`magfw.handoff.upload`), and what the delivery e-mail says of each.

A plugin's ``magfw_run_finished`` hook calls :func:`deliver_zips` (``magfw.api.deliver_zips``)
with its package level and e-mail event; it knows no mission. With a remote for the event
(``[delivery.events] <event>``, else ``[delivery] remote``) it delivers:

- every zip the level **committed in this run**: uploaded (with ``NAME.SHA256SUMS``), checked
  on the remote, and announced with its shared link (else the ``[notify.settings]`` download
  URL of the plugin, else the remote path);
- every zip of a unit **skipped as unchanged** whose delivery is incomplete on the remote (an
  upload that failed or was interrupted before): the rerun uploads what is missing, and only
  that, and announces it then. A zip the remote holds whole is left alone and not announced
  again.

A delivery that fails is one line in the run's failures (``RunSummary.fail``: the run exits
1) naming the zip, the remote and the problem, with the command that retries; the committed
zip stays where it is and no e-mail announces it. Without a remote, it is
:func:`magfw.handoff.notify.delivered_zips` (the mail names the static URL or this host).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from magfw.config import load_config, state_dir
from magfw.engine.jobs import RunSummary, UnitResult, unit_id
from magfw.errors import MagfwError
from magfw.handoff.notify import ZipNotice, delivered_zips, download_url, opens_with
from magfw.handoff.upload import Delivered, Parcel, deliver

if TYPE_CHECKING:  # the ledger (sqlite3) is imported when a delivery looks into it
    from magfw.engine.ledger import LedgerEntry

log = logging.getLogger("magfw.handoff.upload")


def _holdings(
    summary: RunSummary, mission: str, level: str
) -> Iterator[tuple[UnitResult, LedgerEntry, bool]]:
    """(result, its ledger entry, committed now?) of every unit of the level this run
    committed, or skipped while an earlier run's products stand (from the ledger)."""
    from magfw.engine.ledger import Ledger

    assert summary.request is not None
    ledger_path = state_dir(Path(summary.request.out_dir)) / "ledger.sqlite"
    for r in summary.results:
        if (r.mission, r.level) != (mission, level) or r.status == "failed":
            continue
        if r.status == "ok" and r.outputs and r.entry is not None:
            yield r, r.entry, True
        elif r.status == "skipped" and ledger_path.exists():
            entry = Ledger(ledger_path).last_ok(unit_id(r.mission, r.level, r.spacecraft, r.unit))
            if entry is not None:
                yield r, entry, False


def _zips(out_dir: Path, entry: LedgerEntry) -> list[tuple[Parcel, dict[str, Any]]]:
    return [
        (Parcel(path=out_dir / o["path"], size=int(o["size"]), sha256=str(o["sha256"])), o)
        for o in entry.outputs
        if str(o["path"]).endswith(".zip")
    ]


def _notice(r: UnitResult, entry: LedgerEntry, d: Delivered, url: str) -> ZipNotice:
    p = d.parcel
    return ZipNotice(
        path=p.path,
        unit_start=r.unit.start,
        size=p.size,
        sha256=p.sha256,
        opens_with=opens_with(entry.versions),
        download=d.link or (download_url(url, p.name) if url else d.zip.remote),
        remote=d.zip.remote,
        sums=d.sums.remote,
        checked=d.zip.checked,
    )


def deliver_zips(
    summary: RunSummary, mission: str, level: str, *, event: str, url: str = "", url_setting: str = ""
) -> list[ZipNotice]:
    """The zips of ``mission``'s ``level`` to announce in ``event``'s mail, uploaded first to
    the event's remote where one is configured (module docstring). ``url``: the
    ``[notify.settings]`` download URL (folder or ``{name}`` template) named ``url_setting``,
    used where the remote makes no link. Failures go to ``summary.fail``."""
    section = load_config().delivery
    remote = section.remote_for(event)
    if remote is None or summary.request is None:
        return delivered_zips(summary, mission, level, url, url_setting)
    out_dir = Path(summary.request.out_dir)
    notices = []
    for r, entry, fresh in _holdings(summary, mission, level):
        for parcel, _ in _zips(out_dir, entry):
            try:
                done = deliver(parcel, remote, section)
            except MagfwError as exc:
                log.warning("delivery of %s to %s failed: %s", parcel.path, remote, exc)
                summary.fail(
                    f"{mission} {level} {r.unit.key}: delivery of {parcel.name} to {remote} failed: "
                    f"{exc}; the zip stays at {parcel.path}, not announced; `magfw run {mission} "
                    f"{level} {r.unit.key}` uploads what is missing"
                )
                continue
            summary.warnings += [f"{mission} {level} {r.unit.key}: {parcel.name}: {n}" for n in done.notes]
            if fresh or done.uploaded:
                notices.append(_notice(r, entry, done, url))
            else:
                log.info("%s: delivered before (%s), not announced again", parcel.name, done.zip.remote)
    return notices
