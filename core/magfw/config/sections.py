"""The sections of ``magfw.toml``, each a typed model: the one place a section is declared.

::

    out = "/data/magfw"              # MagfwConfig.out: the output tree
    [fetch]                          # FetchSettings: downloads from HTTP(S) archives
    [notify]                         # NotifySection: e-mail (magfw.handoff.notify)
    [delivery]                       # DeliverySection: uploads through rclone (magfw.handoff.upload)
    [missions.<id>]                  # the mission's settings model: MissionSettings, or the
                                     # subclass its plugin declares (Mission(settings=...))

Every model refuses unknown keys and takes TOML's types as they are (strict: ``timeout_s =
"30"`` is refused, not converted). To add a section (``[delivery]``, say), write its model
here and add it as a field of :class:`MagfwConfig`: :mod:`magfw.config.load` then validates
it before any command works, and names the file, line and key of a mistake with the nearest
known key; code reads it as ``load_config().delivery``.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: Downloads: seconds to wait for the server (to connect, and for each read).
DEFAULT_TIMEOUT_S = 30.0
#: Downloads: attempts per request (1 = no retry).
DEFAULT_RETRIES = 3
#: Downloads: the wait before the second attempt (doubling after each further failure), s.
DEFAULT_BACKOFF_S = 0.5
#: Downloads: seconds one file (or directory listing) may take in all, every try and wait
#: included. Ten minutes: a 100 MB kernel at 170 kB/s; a server slower than that is stuck.
DEFAULT_DEADLINE_S = 600.0


class Section(BaseModel):
    """A table of ``magfw.toml``: unknown keys refused, TOML types taken strictly."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class FetchSettings(Section):
    """``[fetch]``: downloads from HTTP(S) archives (:class:`magfw.fetch.http.HttpArchive`)."""

    timeout_s: float = Field(
        default=DEFAULT_TIMEOUT_S, gt=0, description="wait for the server (connect, each read)"
    )
    retries: int = Field(default=DEFAULT_RETRIES, ge=1, description="attempts per request")
    backoff_s: float = Field(default=DEFAULT_BACKOFF_S, ge=0, description="wait before the first retry")
    deadline_s: float = Field(default=DEFAULT_DEADLINE_S, gt=0, description="time one file may take in all")


class NotifySection(Section):
    """``[notify]``: how e-mail is sent (:mod:`magfw.handoff.notify` documents each key)."""

    server: str | None = None  #: ``host`` or ``host:port`` (port 25 by default)
    sender: str = "magfw@localhost"
    starttls: bool | None = None  #: default: true on port 587
    ssl: bool = False
    user_env: str = "MAGFW_SMTP_USER"
    password_env: str = "MAGFW_SMTP_PASSWORD"
    timeout_s: float = Field(default=30.0, gt=0)
    recipients: dict[str, list[str]] = Field(default_factory=dict)  #: event -> addresses
    settings: dict[str, str] = Field(default_factory=dict)  #: free text plugins put in mails

    @field_validator("server")
    @classmethod
    def _server(cls, value: str | None) -> str | None:
        if value is not None:
            host, _, port = value.rpartition(":") if ":" in value else (value, "", "")
            if not host:
                raise ValueError("must be 'host' or 'host:port'")
            if port and not port.isdigit():
                raise ValueError(f"{value!r}: bad port {port!r}")
        return value

    @field_validator("recipients", mode="before")
    @classmethod
    def _one_address(cls, value: Any) -> Any:
        """``event = "a@b"`` is ``event = ["a@b"]``."""
        if isinstance(value, dict):
            return {k: [v] if isinstance(v, str) else v for k, v in value.items()}
        return value

    @property
    def host(self) -> str | None:
        """The server's host name, without the port."""
        if self.server is None:
            return None
        return self.server.rpartition(":")[0] if ":" in self.server else self.server

    @property
    def port(self) -> int:
        """The server's port (25 unless ``server`` names one)."""
        if self.server is None or ":" not in self.server:
            return 25
        return int(self.server.rpartition(":")[2])


#: Keys of an rclone connection string (``remote,KEY=value:path``) that would put a credential
#: into ``magfw.toml``: refused (the credentials belong in rclone's configuration).
_SECRET_WORDS = ("pass", "token", "secret", "key", "auth", "cred", "sas", "bearer", "cookie")


def _check_remote(value: str) -> str:
    """An rclone destination: ``REMOTE:FOLDER`` (a remote of rclone's configuration), an
    on-the-fly ``:backend:FOLDER``, or a local folder; never one carrying a credential."""
    if not value.strip():
        raise ValueError('must name an rclone remote and folder, e.g. "box:STEREO deliveries"')
    head, colon, _ = value.removeprefix(":").partition(":")  # ``:backend,k=v:`` on the fly
    if colon and "," in head:  # a connection string: remote,key=value,...:path
        for option in head.split(",")[1:]:
            key = option.partition("=")[0].strip().lower()
            if any(word in key for word in _SECRET_WORDS):
                raise ValueError(
                    f"the connection string sets {key!r}: credentials stay in rclone's own "
                    "configuration (`rclone config`) or its RCLONE_CONFIG_<NAME>_* variables, "
                    "never in magfw.toml"
                )
    return value


class DeliverySection(Section):
    """``[delivery]``: where delivery zips are uploaded, through rclone
    (:mod:`magfw.handoff.upload` documents each key)."""

    remote: str | None = None  #: ``REMOTE:FOLDER`` for every delivery event
    events: dict[str, str] = Field(default_factory=dict)  #: event -> ``REMOTE:FOLDER``
    rclone: str = "rclone"  #: the rclone program (a name on PATH or a path)
    link: bool = True  #: ask ``rclone link`` for a shared link where the backend makes one
    link_expire: str | None = None  #: ``rclone link --expire`` (``30d``); default: the backend's
    timeout_s: float = Field(default=3600.0, gt=0)  #: one rclone call (an upload) at most
    retries: int = Field(default=3, ge=1)  #: rclone ``--retries``

    @field_validator("remote")
    @classmethod
    def _remote(cls, value: str | None) -> str | None:
        return None if value is None else _check_remote(value)

    @field_validator("events")
    @classmethod
    def _events(cls, value: dict[str, str]) -> dict[str, str]:
        for remote in value.values():
            _check_remote(remote)
        return value

    def remote_for(self, event: str) -> str | None:
        """The destination of ``event``'s deliveries: its own, else ``remote``; None: none."""
        return self.events.get(event, self.remote)


Lag = Annotated[int, Field(ge=0)]


class MissionSettings(Section):
    """``[missions.<id>]``: the keys every mission takes, and the base of a mission's own
    settings model.

    A plugin whose mission reads more of ``magfw.toml`` subclasses this model, adds its keys
    as typed fields with defaults, and registers it with ``Mission(settings=AcmeSettings)``.
    Class variables name what it reads outside its table: ``notify_events`` (its events under
    ``[notify.recipients]``), ``notify_settings`` (its keys under ``[notify.settings]``) and
    ``source_roles`` (the roles of ``[missions.<id>.sources]`` and ``--source ROLE=``; None:
    any). Code reads the table with ``AcmeSettings.configured("acme")``.
    """

    #: This mission's events under ``[notify.recipients]`` (who gets which e-mail).
    notify_events: ClassVar[tuple[str, ...]] = ()
    #: This mission's free-text keys under ``[notify.settings]``.
    notify_settings: ClassVar[tuple[str, ...]] = ()
    #: The source roles it reads (``[missions.<id>.sources]``, ``--source ROLE=``); None: any
    #: role (the mission does not say), ``()``: none.
    source_roles: ClassVar[tuple[str, ...] | None] = None

    source: str | None = None  #: default ``--source`` of the mission's runs
    sources: dict[str, str] = Field(default_factory=dict)  #: sources by role
    default_period: dict[str, Lag] = Field(default_factory=dict)  #: level -> lag of its rule

    @classmethod
    def configured(cls, mission: str) -> Self:
        """``[missions.<mission>]`` of ``./magfw.toml`` as this model (defaults when absent)."""
        from magfw.config.load import load_config

        return load_config().mission_table(mission, cls)


class MagfwConfig(Section):
    """The whole of ``magfw.toml``: one field per section (see the module docstring)."""

    out: str | None = None  #: the output tree (after ``--out`` and ``MAGFW_DATA``)
    fetch: FetchSettings = FetchSettings()
    notify: NotifySection = NotifySection()
    delivery: DeliverySection = DeliverySection()
    #: ``[missions.<id>]`` tables, each validated by its mission's settings model
    missions: dict[str, dict[str, Any]] = Field(default_factory=dict)
