"""Running rclone (Debian's ``rclone``, 1.60 or newer): one call at a time, each within a time
limit, each failure one line, no credential in sight.

magfw never holds a credential for a remote: rclone reads its own configuration
(``rclone config``, ``~/.config/rclone/rclone.conf`` or ``RCLONE_CONFIG``) and its
``RCLONE_CONFIG_<NAME>_<KEY>`` environment variables. The command lines magfw builds hold only
remote names, folders and file names (``[delivery] remote`` refuses a connection string that
carries a secret), so nothing secret is visible in ``ps``; rclone's own words are shown and
logged with the value of every ``RCLONE_*`` variable that names a secret replaced by ``***``;
and rclone runs without magfw's own ``MAGFW_*`` variables (the zip password, the SMTP
credentials), which it has no use for.

The calls: ``backend features`` (the hashes a remote keeps, whether it makes public links),
``lsjson --stat --hash --hash-type T`` (one file's size and checksum; exit 3: absent),
``copyto --ignore-times`` (upload one file; rclone itself checks size and, where both ends
have one, the checksum), ``link`` (a shared link) and ``deletefile``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from magfw.errors import MagfwError

log = logging.getLogger("magfw.handoff.upload")

#: What, in the name of an ``RCLONE_*`` variable, says that its value is a secret.
_SECRET_NAME = re.compile(r"PASS|TOKEN|SECRET|KEY|AUTH|CRED|BEARER|COOKIE|SAS")
#: rclone's log prefix (``2024/03/01 12:00:00 ERROR : ``) and its "Failed to <verb>: ".
_PREFIX = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d (?:[A-Z]+\s*: )?")
_FAILED = re.compile(r"^(?:CRITICAL: )?Failed to [a-z]+: ")
#: ``lsjson --stat`` of a file that is not there: rclone's "directory not found" (3) or
#: "object not found" (4).
EXIT_NOT_FOUND = (3, 4)


class RcloneError(MagfwError):
    """An rclone call that failed (the remote path and rclone's words, one line)."""


@dataclass(frozen=True)
class Features:
    """What a remote can do, from ``rclone backend features``."""

    hashes: tuple[str, ...]  #: the checksums the remote keeps (``sha1``, ``md5``...)
    public_link: bool  #: ``rclone link`` makes shared links there


@dataclass(frozen=True)
class RemoteFile:
    """One file on a remote, from ``rclone lsjson --stat``."""

    size: int
    hashes: dict[str, str]  #: type -> lower-case hex ("" where the remote has none for it)


def secrets(env: Mapping[str, str]) -> list[str]:
    """The values of the ``RCLONE_*`` variables whose names say they hold a secret (long
    enough to be one: ``KEY_USE_AGENT=false`` is no secret), longest first."""
    found = {
        v
        for k, v in env.items()
        if k.startswith("RCLONE_") and _SECRET_NAME.search(k[len("RCLONE_") :]) and len(v) >= 6
    }
    return sorted(found, key=len, reverse=True)


def redact(text: str, env: Mapping[str, str] | None = None) -> str:
    """``text`` with every secret of ``env`` (default: this process's) as ``***``."""
    for secret in secrets(os.environ if env is None else env):
        text = text.replace(secret, "***")
    return text


def last_words(stderr: str) -> str:
    """rclone's failure in one line: its last message, without the time stamp, the log level
    and ``Failed to copyto:``."""
    lines = [_PREFIX.sub("", line).strip() for line in stderr.splitlines()]
    lines = [line for line in lines if line and not line.startswith("NOTICE")]
    if not lines:
        return "no message"
    return _FAILED.sub("", lines[-1])


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class Rclone:
    """The rclone program of ``[delivery] rclone``, called with a time limit per call."""

    def __init__(self, program: str = "rclone", *, timeout_s: float = 3600.0, retries: int = 3) -> None:
        found = shutil.which(program)
        if found is None:
            raise RcloneError(
                None,
                f"{program}: not found (install Debian's rclone: apt-get install rclone; "
                "[delivery] rclone in magfw.toml names another program)",
            )
        self.program = found
        self.timeout_s = timeout_s
        self.retries = retries
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("MAGFW_")}

    def run(
        self, args: Sequence[str], where: str, *, ok: Sequence[int] = (0,)
    ) -> subprocess.CompletedProcess[str]:
        """``rclone -q ARGS`` within the time limit; an exit code outside ``ok`` (or a time-out,
        or a signal) is one :class:`RcloneError` line naming ``where``."""
        argv = [self.program, "-q", *args]
        log.info("rclone %s", " ".join(args))
        try:
            done = subprocess.run(
                argv, env=self.env, capture_output=True, text=True, timeout=self.timeout_s, check=False
            )
        except subprocess.TimeoutExpired:
            raise RcloneError(
                where,
                f"interrupted: rclone {args[0]} did not finish within {self.timeout_s:g} s "
                "([delivery] timeout_s in magfw.toml sets the limit)",
            ) from None
        except OSError as exc:
            raise RcloneError(where, f"cannot run {self.program}: {exc.strerror or exc}") from None
        if done.returncode in ok:
            return done
        stderr = redact(done.stderr, self.env)
        log.warning("rclone %s: exit %d\n%s", " ".join(args), done.returncode, stderr.rstrip())
        if done.returncode < 0:
            problem = f"interrupted: rclone {args[0]} was stopped by {_signal_name(-done.returncode)}"
        else:
            problem = f"rclone {args[0]} failed (exit {done.returncode}): {last_words(stderr)}"
        raise RcloneError(where, problem)

    def _json(self, args: Sequence[str], where: str) -> Any:
        done = self.run(args, where)
        try:
            return json.loads(done.stdout)
        except json.JSONDecodeError:
            raise RcloneError(where, f"rclone {args[0]} did not answer in JSON") from None

    def features(self, remote: str) -> Features:
        """The hashes ``remote`` keeps and whether it makes public links (contacts it: an
        unreachable remote fails here)."""
        data = self._json(["backend", "features", remote], remote)
        return Features(
            hashes=tuple(str(h).lower() for h in data.get("Hashes") or ()),
            public_link=bool((data.get("Features") or {}).get("PublicLink")),
        )

    def stat(self, path: str, hash_type: str | None) -> RemoteFile | None:
        """Size and ``hash_type`` checksum of the file at ``path``; None if no file is there."""
        args = ["lsjson", "--stat", path]
        if hash_type is not None:
            args[2:2] = ["--hash", "--hash-type", hash_type]
        done = self.run(args, path, ok=(0, *EXIT_NOT_FOUND))
        if done.returncode in EXIT_NOT_FOUND:
            return None
        try:
            data = json.loads(done.stdout)
        except json.JSONDecodeError:
            raise RcloneError(path, "rclone lsjson did not answer in JSON") from None
        if data.get("IsDir"):  # no such file (bucket remotes answer an empty "folder");
            return None  # a real folder there makes the upload fail, in rclone's words
        hashes = {str(k).lower(): str(v).lower() for k, v in (data.get("Hashes") or {}).items()}
        return RemoteFile(size=int(data.get("Size", -1)), hashes=hashes)

    def copyto(self, local: Path, path: str) -> None:
        """Upload ``local`` to ``path`` whatever is there (the caller has compared them)."""
        self.run(["copyto", "--ignore-times", "--retries", str(self.retries), str(local), path], path)

    def link(self, path: str, expire: str | None = None) -> str:
        """A shared link to ``path`` (``--expire`` where given)."""
        args = ["link", *(["--expire", expire] if expire else []), path]
        url = self.run(args, path).stdout.strip()
        if not url:
            raise RcloneError(path, "rclone link printed no link")
        return url.splitlines()[-1]

    def deletefile(self, path: str) -> None:
        """Remove the file at ``path``."""
        self.run(["deletefile", path], path)
