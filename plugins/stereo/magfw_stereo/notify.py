"""The seed's three e-mails, sent when a run has written what they announce
(``magfw_run_finished``; SMTP and recipients from ``[notify]`` in magfw.toml, see
:mod:`magfw.handoff.notify`; without configuration the text is printed):

- ``stereo_offsets_needed`` (the researcher): a ``prep`` run wrote a month's 1-s averages; the
  offsets file to write, its name, where to put it, the layouts accepted, the next commands.
- ``stereo_delivery`` (Berkeley): a ``package`` run wrote the month's zip; its name, size,
  SHA-256, encryption, contents and download location: with ``[delivery] remote`` in magfw.toml
  the zip is uploaded first (rclone, e.g. to UCLA Box) and the mail gives its shared link and
  where it went (:mod:`magfw.handoff.delivery`); else ``[notify.settings] stereo_download_url``.
  The password is never in the mail.
- ``stereo_web_copy`` (the web operator): an ``l1`` run wrote daily flat files; the exact files
  to copy into the web-serving tree (``[notify.settings] stereo_web_root``, default the seed's
  ``/mnt/MissionRepo/stereo/data``), as ``cp -pu`` commands per folder.

Nothing is sent for units that were skipped (unchanged) or failed, except a zip whose upload a
rerun completes.
"""

from __future__ import annotations

import socket
from collections import defaultdict
from pathlib import Path

from magfw.api import (
    MONTH_ABBR,
    MONTH_NAMES,
    NotifyMessage,
    RunSummary,
    UnitResult,
    ZipNotice,
    day_ranges,
    deliver_zips,
    hookimpl,
    notify_settings,
    send_notifications,
)
from magfw_stereo.researcher import LAYOUTS, offsets_file_name

MISSION = "stereo"
WEB_ROOT = "/mnt/MissionRepo/stereo/data"
FLAT_ROOT = "l1_final_flat"
SC_NAME = {"A": "STEREO-A", "B": "STEREO-B"}


def offsets_needed(summary: RunSummary, out: Path) -> list[NotifyMessage]:
    by_month: dict[tuple[str, int, int], list[UnitResult]] = defaultdict(list)
    for r in summary.committed(MISSION, "prep"):
        by_month[(r.spacecraft or "A", r.unit.start.year, r.unit.start.month)].append(r)
    messages = []
    for (sc, y, m), results in sorted(by_month.items()):
        name = offsets_file_name(sc, y, m, "avg")
        folders = sorted({str(p.parent) for r in results for p in r.outputs})
        days = day_ranges(r.unit.start for r in results)
        body = f"""Hello,

the 1-second averages of {SC_NAME[sc]} for {MONTH_NAMES[m - 1]} {y} are ready
({len(results)} day(s): {days}), made from Berkeley's L1_0 files:

{chr(10).join("  " + f for f in folders)}

Please write the month's offsets file

  {name}

(one row per day: the date, or year and day of year, then O_X O_Y O_Z in nT, spacecraft axes,
added to the field; accepted layouts: {LAYOUTS})
and place it in

  {out / "input_offsets"}

A proposal made from these averages (Davis-Smith method) can be had with
  magfw stereo offsets estimate {y:04d}-{m:02d} --spacecraft {sc}
Once the file is there, the processing goes on with
  magfw stereo offsets import {out / "input_offsets" / name}
  magfw run stereo l1 {y:04d}-{m:02d} --spacecraft {sc}

-- magfw on {socket.gethostname()}
"""
        messages.append(
            NotifyMessage(
                "stereo_offsets_needed",
                f"{SC_NAME[sc]} {y:04d}-{m:02d}: 1-s averages ready, offsets file {name} needed",
                body,
            )
        )
    return messages


def uploaded(z: ZipNotice) -> str:
    """The mail's line saying where the zip was uploaded, and how it was checked ("" when
    ``[delivery]`` names no remote)."""
    return f"\n  uploaded: {z.uploaded_text}" if z.remote else ""


def delivery(summary: RunSummary, url: str) -> list[NotifyMessage]:
    """One mail per zip the package level committed (or, with ``[delivery]``, uploaded)."""
    messages = []
    for z in deliver_zips(
        summary, MISSION, "package", event="stereo_delivery", url=url, url_setting="stereo_download_url"
    ):
        y, m, path = z.unit_start.year, z.unit_start.month, z.path
        body = f"""Hello,

the STEREO IMPACT/MAG L1 daily CDFs (MAG 8 Hz and MAGB 32 Hz, SC and RTN) for
{MONTH_NAMES[m - 1]} {y} are ready for you:

  file:     {path.name}
  size:     {z.size:,} bytes
  SHA-256:  {z.sha256}
  download: {z.download}{uploaded(z)}
  encryption: {z.opens_with}; the password comes separately, as before.

Inside, under {path.stem}/: sc/ and rtn/ folders {{A,B}}fgy{y:04d} (normal mode) and
{{A,B}}bfgy{y:04d} (burst), the month's Counts table {y:04d}{m:02d}Stereo{{A,B}}Counts.asc and
SHA256SUMS (check with: cd {path.stem} && sha256sum -c SHA256SUMS).

-- magfw on {socket.gethostname()}
"""
        subject = f"STEREO MAG/MAGB L1 CDFs {MONTH_NAMES[m - 1]} {y}: {path.name}"
        messages.append(NotifyMessage("stereo_delivery", subject, body))
    return messages


def web_copy(summary: RunSummary, out: Path, web_root: str) -> list[NotifyMessage]:
    """One mail: every flat file the run wrote, grouped by the web folder it goes to."""
    by_dest: dict[str, list[Path]] = defaultdict(list)
    months: set[str] = set()
    for r in summary.committed(MISSION, "l1"):
        months.add(f"{r.unit.start:%Y-%m}")
        for p in r.outputs:
            if p.suffix not in (".ffh", ".ffd"):
                continue
            rel = p.relative_to(out)
            parts = rel.parts[1:] if rel.parts[0] == FLAT_ROOT else rel.parts
            by_dest[str(Path(web_root, *parts[:-1]))].append(p)
    if not by_dest:
        return []
    n = sum(len(v) for v in by_dest.values())
    blocks = []
    for dest, files in sorted(by_dest.items()):
        blocks.append(
            f"$ mkdir -p {dest} && cd {dest}\n$ cp -pu \\\n"
            + " \\\n".join(f"    {f}" for f in sorted(files))
            + " \\\n    ."
        )
    months_text = ", ".join(sorted(months))
    body = f"""Hello,

new STEREO L1 daily flat files ({n} files, {months_text}) are ready to be copied to the web-serving
folders and loaded into the UCLA data servers. On {socket.gethostname()}:

{chr(10).join(blocks)}

(or: magfw publish stereo l1 {months_text.split(", ")[0]} --from l1_final_flat --to {web_root},
which copies the same
files, only newer ones, like cp -pu)

-- magfw on {socket.gethostname()}
"""
    return [
        NotifyMessage(
            "stereo_web_copy", f"STEREO L1 flat files to copy to the web ({months_text}): {n} files", body
        )
    ]


def messages(summary: RunSummary) -> list[NotifyMessage]:
    """Every message a finished run calls for (empty for runs of other missions)."""
    if summary.request is None:
        return []
    s = notify_settings()
    out = Path(summary.request.out_dir)
    return [
        *offsets_needed(summary, out),
        *delivery(summary, s.setting("stereo_download_url")),
        *web_copy(summary, out, s.setting("stereo_web_root", WEB_ROOT)),
    ]


@hookimpl
def magfw_run_finished(summary: RunSummary) -> None:
    """The ``notify`` step: send (or print) the e-mails this run calls for."""
    found = messages(summary)
    if found:
        send_notifications(found)


__all__ = ["MONTH_ABBR", "delivery", "magfw_run_finished", "messages", "offsets_needed", "web_copy"]
