"""E-mail notifications: ``[notify]`` in ``magfw.toml`` and sending through SMTP.

A plugin decides *what* to tell whom (its events, from its ``magfw_run_finished`` hook); this
module only knows how to send it. Configuration::

    [notify]
    server = "smtp.example.edu:587"      # host[:port]; without it nothing is sent (below)
    sender = "magfw@example.edu"
    starttls = true                       # default: true on port 587, false otherwise
    ssl = false                           # SMTP over TLS from the start (port 465)
    user_env = "MAGFW_SMTP_USER"          # the environment variables holding the
    password_env = "MAGFW_SMTP_PASSWORD"  # credentials (these names are the defaults)
    timeout_s = 30

    [notify.recipients]                   # who gets each event (a plugin's event names)
    stereo_offsets_needed = ["researcher@example.edu"]
    stereo_delivery = ["berkeley@example.edu"]

    [notify.settings]                     # free text a plugin puts into its messages
    stereo_download_url = "https://ucla.box.com/s/..."

Credentials are read from the environment at send time (never from the file, never logged):
login happens only when the user variable is set. An event without recipients, or a
configuration without ``server``, is not sent: :func:`send` prints one line saying so with the
subject, and writes the whole message (the recipients it would use, the subject and the text)
to the log, so an operator finds the text without any configuration and a run's output stays
short.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from magfw.config import CONFIG_FILE, load_config
from magfw.config.load import validate
from magfw.errors import MagfwError

if TYPE_CHECKING:
    import smtplib

    from magfw.engine.jobs import RunSummary

log = logging.getLogger("magfw.handoff.notify")


@dataclass(frozen=True)
class Message:
    """One e-mail a plugin wants sent: its event (which recipients), subject and text."""

    event: str
    subject: str
    body: str


@dataclass(frozen=True, kw_only=True)
class NotifySettings:
    """``[notify]`` of ``magfw.toml`` (module docstring)."""

    server: str | None = None
    port: int = 25
    sender: str = "magfw@localhost"
    starttls: bool = False
    ssl: bool = False
    user_env: str = "MAGFW_SMTP_USER"
    password_env: str = "MAGFW_SMTP_PASSWORD"
    timeout_s: float = 30.0
    recipients: dict[str, list[str]] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)

    def setting(self, key: str, default: str = "") -> str:
        """A free-text setting of ``[notify.settings]`` (a download URL, a web root...)."""
        return self.settings.get(key, default)


def notify_settings(config: dict[str, Any] | None = None) -> NotifySettings:
    """The ``[notify]`` settings of ``./magfw.toml`` (validated with the whole file), or of
    ``config`` (a parsed TOML document) when given."""
    if config is None:
        section = load_config().notify
    else:
        section = validate({"notify": config.get("notify", {})}, CONFIG_FILE).notify
    use_ssl = section.ssl
    starttls = section.port == 587 if section.starttls is None else section.starttls
    return NotifySettings(
        server=section.host,
        port=section.port,
        sender=section.sender,
        starttls=starttls and not use_ssl,
        ssl=use_ssl,
        user_env=section.user_env,
        password_env=section.password_env,
        timeout_s=section.timeout_s,
        recipients={k: list(v) for k, v in section.recipients.items()},
        settings=dict(section.settings),
    )


@dataclass(frozen=True)
class Delivery:
    """What became of one message: ``sent`` to ``to``, or printed (``why`` says why)."""

    message: Message
    to: list[str]
    sent: bool
    why: str = ""


_OPENS_WITH = {
    "zipcrypto": "traditional PKWARE encryption: opens with `unzip -P`, 7-Zip, Windows and macOS",
    "aes": "AES-256: opens with 7-Zip or WinZip (not with Info-ZIP unzip)",
    "none": "NOT encrypted",
}


@dataclass(frozen=True, kw_only=True)
class ZipNotice:
    """What a delivery mail says of a zip a run committed: its size and SHA-256 as the ledger
    recorded them at commit (the zip is not read again), how it opens, where to get it, and,
    when it was uploaded (:mod:`magfw.handoff.delivery`), where it went and how that was
    checked."""

    path: Path
    unit_start: date  #: the unit's first day
    size: int
    sha256: str
    opens_with: str
    download: str  #: the shared link, the download URL, or where the zip is
    remote: str | None = None  #: the zip's rclone path (``box:folder/NAME.zip``) once uploaded
    sums: str | None = None  #: its checksum list's rclone path (``NAME.SHA256SUMS``)
    checked: str | None = None  #: how the remote copy was checked ("SHA-1", "size only")

    @property
    def uploaded_text(self) -> str:
        """``box:f/NAME.zip (SHA-1 checked on the remote; checksums: box:f/NAME.SHA256SUMS)``,
        or "" when the zip was not uploaded."""
        if self.remote is None:
            return ""
        return f"{self.remote} ({self.checked} checked on the remote; checksums: {self.sums})"


def download_url(url: str, name: str) -> str:
    """The download URL of file ``name``: ``url`` a folder, or a template with ``{name}``."""
    return url.replace("{name}", name) if "{name}" in url else f"{url.rstrip('/')}/{name}"


def opens_with(versions: dict[str, Any]) -> str:
    """How a delivery zip opens, from its unit's ledger versions (the encryption chosen)."""
    encryption = str((versions.get("selection") or {}).get("encryption") or "unknown")
    return _OPENS_WITH.get(encryption, encryption)


def delivered_zips(
    summary: RunSummary, mission: str, level: str, url: str, url_setting: str
) -> list[ZipNotice]:
    """The ``.zip`` files ``mission``'s ``level`` committed in this run. ``url`` (the
    ``[notify.settings]`` value named ``url_setting``) is the download folder, or a template
    with ``{name}``; without it the mail names this host's path and asks for the upload.
    (:func:`magfw.handoff.delivery.deliver_zips` uploads them first, where ``[delivery]``
    names a remote.)"""
    import socket

    from magfw.io.checksum import sha256_file

    out = []
    for r in summary.committed(mission, level):
        recorded = {Path(o["path"]).name: o for o in (r.entry.outputs if r.entry is not None else [])}
        versions = r.entry.versions if r.entry is not None else {}
        for path in (p for p in r.outputs if p.suffix == ".zip"):
            rec = recorded.get(path.name)
            if url:
                where = download_url(url, path.name)
            else:
                where = (
                    f"{socket.gethostname()}:{path} (no {url_setting} in [notify.settings]: "
                    "upload it and send the link)"
                )
            out.append(
                ZipNotice(
                    path=path,
                    unit_start=r.unit.start,
                    size=int(rec["size"]) if rec else path.stat().st_size,
                    sha256=str(rec["sha256"]) if rec else sha256_file(path),
                    opens_with=opens_with(versions),
                    download=where,
                )
            )
    return out


def render(message: Message, sender: str, to: Sequence[str]) -> EmailMessage:
    """The e-mail (plain text, UTF-8) of a message."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = ", ".join(to)
    mail["Subject"] = message.subject
    mail["Date"] = formatdate(localtime=False, usegmt=True)
    mail["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    mail["X-Magfw-Event"] = message.event
    mail.set_content(message.body)
    return mail


def _connect(s: NotifySettings) -> smtplib.SMTP:
    import smtplib  # (imported when mail is sent, not with the hooks that compose it)
    import ssl as _ssl

    assert s.server is not None
    if s.ssl:
        return smtplib.SMTP_SSL(s.server, s.port, timeout=s.timeout_s, context=_ssl.create_default_context())
    smtp = smtplib.SMTP(s.server, s.port, timeout=s.timeout_s)
    if s.starttls:
        smtp.starttls(context=_ssl.create_default_context())
    return smtp


def send(
    messages: Sequence[Message],
    settings: NotifySettings | None = None,
    show: Callable[[str], None] | None = None,
) -> list[Delivery]:
    """Send each message to its event's recipients through the configured SMTP server. One that
    cannot be sent (no server, or no recipients for the event) is one line through ``show``
    (default :func:`magfw.cli.say`) and its whole text in the log. An SMTP failure is one
    :class:`MagfwError` line (the run reports it as a warning); the credentials never appear in it."""
    if not messages:
        return []
    s = settings or notify_settings()
    if show is None:
        from magfw.cli import say

        show = say
    out: list[Delivery] = []
    to_send: list[tuple[Message, list[str]]] = []
    for m in messages:
        to = s.recipients.get(m.event, [])
        why = (
            "no [notify] server in magfw.toml"
            if s.server is None
            else f"no [notify.recipients] {m.event} in magfw.toml"
            if not to
            else ""
        )
        if why:
            show(f"not mailed ({why}): {m.subject} (its text is in the log)")
            log.info(
                "would send (%s)\nTo: %s\nSubject: %s\n\n%s",
                why,
                ", ".join(to) or f"({m.event})",
                m.subject,
                m.body.rstrip(),
            )
            out.append(Delivery(m, to, False, why))
        else:
            to_send.append((m, to))
    if not to_send:
        return out
    import smtplib

    user = os.environ.get(s.user_env)
    password = os.environ.get(s.password_env)
    try:
        with _connect(s) as smtp:
            if user:
                smtp.login(user, password or "")
            for m, to in to_send:
                smtp.send_message(render(m, s.sender, to), from_addr=s.sender, to_addrs=to)
                out.append(Delivery(m, to, True))
    except (OSError, smtplib.SMTPException) as exc:
        text = str(exc)
        for secret in (password, user):
            if secret:
                text = text.replace(secret, "***")
        raise MagfwError(
            None, f"cannot send e-mail through {s.server}:{s.port}: {type(exc).__name__}: {text}"
        ) from None
    return out
