"""The seed's two PLASTIC e-mails, sent when a run has written what they announce
(``magfw_run_finished``; SMTP and recipients from ``[notify]`` in magfw.toml, see
:mod:`magfw.handoff.notify`; without configuration the text is printed):

- ``plastic_delivery`` (Berkeley): a ``package`` run wrote the year's zip; its name, size,
  SHA-256, encryption, contents and download location: with ``[delivery] remote`` (or
  ``[delivery.events] plastic_delivery``) the zip is uploaded first and the mail gives its
  shared link and where it went (:mod:`magfw.handoff.delivery`); else ``[notify.settings]
  plastic_download_url``. The password is never in the mail.
- ``plastic_web_copy`` (the web operator): a ``monthly`` run wrote monthly merged flat files;
  the seed's copy, ``cd /mnt/MissionRepo/stereo_public/L2/MP/MONTHLY/Afgy{yyyy}`` then ``cp -pu
  .../monthly_flatfile/Afgy{yyyy}/{mmm}_* .``, with the exact files (``[notify.settings]
  plastic_web_root``, default the seed's ``/mnt/MissionRepo/stereo_public/L2/MP/MONTHLY``), and
  the ``magfw publish`` command that does the same.
"""

from __future__ import annotations

import socket
from collections import defaultdict
from pathlib import Path

from magfw.api import (
    NotifyMessage,
    RunSummary,
    ZipNotice,
    deliver_zips,
    hookimpl,
    notify_settings,
    send_notifications,
)

MISSION = "plastic"
WEB_ROOT = "/mnt/MissionRepo/stereo_public/L2/MP/MONTHLY"


def uploaded(z: ZipNotice) -> str:
    """The mail's line saying where the zip was uploaded, and how it was checked ("" when
    ``[delivery]`` names no remote)."""
    return f"\n  uploaded: {z.uploaded_text}" if z.remote else ""


def delivery(summary: RunSummary, url: str) -> list[NotifyMessage]:
    """One mail per zip the package level committed (or, with ``[delivery]``, uploaded)."""
    messages = []
    for z in deliver_zips(
        summary, MISSION, "package", event="plastic_delivery", url=url, url_setting="plastic_download_url"
    ):
        year, path = z.unit_start.year, z.path
        body = f"""Hello,

the merged STEREO MAG + PLASTIC 1-minute yearly CDF for {year} is ready for you:

  file:     {path.name}
  size:     {z.size:,} bytes
  SHA-256:  {z.sha256}
  download: {z.download}{uploaded(z)}
  encryption: {z.opens_with}; the password comes separately, as before.

Inside, under {path.stem}/: st{{a,b}}_l2_magplasma_1m_{year}0101_vNN.cdf and SHA256SUMS
(check with: cd {path.stem} && sha256sum -c SHA256SUMS).

-- magfw on {socket.gethostname()}
"""
        subject = f"STEREO MAG+PLASTIC merged yearly CDF {year}: {path.name}"
        messages.append(NotifyMessage("plastic_delivery", subject, body))
    return messages


def web_copy(summary: RunSummary, out: Path, web_root: str) -> list[NotifyMessage]:
    by_folder: dict[str, list[Path]] = defaultdict(list)
    months = set()
    for r in summary.committed(MISSION, "monthly"):
        months.add(f"{r.unit.start:%Y-%m}")
        for p in r.outputs:
            if p.suffix in (".ffh", ".ffd"):
                by_folder[p.parent.name].append(p)  # Afgy{yyyy}
    if not by_folder:
        return []
    blocks = []
    for folder, files in sorted(by_folder.items()):
        dest = f"{web_root.rstrip('/')}/{folder}"
        globs = sorted({f"{p.parent}/{p.name.split('_', 1)[0]}_*" for p in files})
        blocks.append(
            f"$ mkdir -p {dest} && cd {dest}\n"
            + "\n".join(f"$ cp -pu {g} ." for g in globs)
            + "\n  (the files: "
            + ", ".join(sorted(p.name for p in files))
            + ")"
        )
    n = sum(len(v) for v in by_folder.values())
    years = sorted({m[:4] for m in months})
    body = f"""Hello,

new merged MAG + PLASTIC monthly flat files ({", ".join(sorted(months))}; {n} files) are ready
to be copied to the web-serving folders and loaded into the UCLA data servers. On
{socket.gethostname()}:

{chr(10).join(blocks)}

(or: magfw publish plastic l2 {years[0]} --product merged_monthly_ff --from monthly_flatfile
--to {web_root}, which copies exactly these
monthly flat files, only newer ones, like cp -pu)

-- magfw on {socket.gethostname()}
"""
    return [
        NotifyMessage(
            "plastic_web_copy",
            f"STEREO MAG+PLASTIC monthly flat files to copy to the web ({', '.join(sorted(months))})",
            body,
        )
    ]


def messages(summary: RunSummary) -> list[NotifyMessage]:
    if summary.request is None:
        return []
    s = notify_settings()
    return [
        *delivery(summary, s.setting("plastic_download_url")),
        *web_copy(summary, Path(summary.request.out_dir), s.setting("plastic_web_root", WEB_ROOT)),
    ]


@hookimpl
def magfw_run_finished(summary: RunSummary) -> None:
    """The ``notify`` step: send (or print) the e-mails this run calls for."""
    found = messages(summary)
    if found:
        send_notifications(found)
