"""Encrypted delivery zips: the traditional PKWARE encryption ``unzip -P`` opens, or AES-256.

A delivery (the STEREO monthly CDFs for Berkeley, the PLASTIC yearly merged CDF) is a zip of
one top folder, encrypted with a password given at run time. Two encryptions:

- ``zipcrypto`` (the default): the traditional PKWARE encryption, what the seed's ``zip -er``
  makes and every ``unzip -P``, Windows Explorer and macOS Archive Utility open. It is weak
  cryptography (known-plaintext attacks), which is why ``aes`` exists.
- ``aes``: WinZip AES-256 (AE-2) through ``pyzipper``; 7-Zip, WinZip, pyzipper and
  ``bsdtar``/libarchive open it, Info-ZIP ``unzip`` 6.0 does **not**.

Why ZipCrypto is written by driving the system Info-ZIP ``zip -e`` through a pseudo-terminal:

- Python's :mod:`zipfile` reads ZipCrypto but cannot write it; ``pyzipper`` writes only AES.
- A ZipCrypto cipher in pure Python runs at a few MB/s: a month of CDFs (about 1.5 GB) would
  take many minutes; the C ones on PyPI were evaluated: ``pyminizip`` (last release 2021, a
  build from source, the password passed as a Python string: fine, but unmaintained),
  ``rusty-zip`` and ``zipctl`` (first releases in 2026, no track record). Info-ZIP ``zip`` is
  the tool the seed uses, in every Linux distribution (``apt-get install zip``), and writes
  at disk speed.
- ``zip -P PASSWORD`` would put the password in the process list (readable by every user),
  an environment variable would leave it in ``/proc/PID/environ`` of the child, a file would
  put it on disk. ``zip -e`` reads it from its controlling terminal: magfw starts ``zip`` on a
  pseudo-terminal (:mod:`pty`), turns the terminal's echo off and writes the password to the
  two prompts. It goes from this process's memory through the kernel's pty buffer to zip's:
  never to disk, argv or the environment, and zip's output is never shown with it in.
- A missing ``zip`` command is one line (:class:`UsageError`) naming the fix.

Info-ZIP reads at most 79 characters of password; a longer one (or one with a line break) is
refused with one line rather than silently truncated.
"""

from __future__ import annotations

import hashlib
import os
import select
import shutil
import time
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from magfw.errors import InputError, MagfwError, UsageError

if TYPE_CHECKING:
    from magfw.plugin.context import UnitContext

Encryption = Literal["zipcrypto", "aes", "none"]
#: Longest password Info-ZIP ``zip -e`` accepts at its prompt (its 80-byte buffer).
MAX_ZIPCRYPTO_PASSWORD = 79
CHUNK = 1 << 20
PROMPT_TIMEOUT_S = 30.0
ZIP_MISSING = (
    "the system `zip` command (Info-ZIP) is needed for the traditional PKWARE "
    "encryption that `unzip -P` opens: install it (apt-get install zip), or use --aes"
)


@dataclass(frozen=True)
class ZipEntry:
    """One file of a delivery zip: its name inside the zip, and a file (``path``, whose
    SHA-256 must be ``sha256`` when given) or bytes (``data``)."""

    arcname: str
    path: Path | None = None
    data: bytes | None = None
    sha256: str | None = None


def _method(encryption: str) -> Encryption:
    if encryption not in ("zipcrypto", "aes", "none"):
        raise ValueError(f"unknown zip encryption {encryption!r} (zipcrypto, aes or none)")
    return encryption  # type: ignore[return-value]


def describe(encryption: str) -> str:
    """A line for the command's output and the ledger: what opens the zip."""
    return {
        "zipcrypto": "traditional PKWARE encryption (opens with unzip -P, 7-Zip, Windows "
        "and macOS; weak cryptography: --aes for recipients who can open AES)",
        "aes": "WinZip AES-256 (opens with 7-Zip, WinZip, pyzipper; not with Info-ZIP unzip)",
        "none": "NOT encrypted",
    }[encryption]


#: The environment variable that holds a delivery zip's password (never a file or argument).
PASSWORD_ENV = "MAGFW_ZIP_PASSWORD"


def password_from_env() -> str | None:
    """The zip password from ``MAGFW_ZIP_PASSWORD`` (None when unset; empty is a usage error)."""
    value = os.environ.get(PASSWORD_ENV)
    if value is None:
        return None
    if not value:
        raise UsageError(
            None, f"{PASSWORD_ENV} is set but empty: unset it for a plain zip, or give the delivery password"
        )
    return value


def choose(password: str | None, aes: bool) -> Encryption:
    """``none`` without a password, ``aes`` when asked for (``--aes``), else ``zipcrypto``."""
    if password is None:
        return "none"
    return "aes" if aes else "zipcrypto"


def note(encryption: str) -> str:
    """What a packaging unit reports: :func:`describe`, or why the zip is not encrypted."""
    return describe(encryption) if encryption != "none" else f"NOT encrypted: {PASSWORD_ENV} is not set"


def preflight(options: Mapping[str, Any]) -> None:
    """The usage problems of a run that writes a delivery zip, raised before anything runs (a
    level's ``preflight``): an empty ``MAGFW_ZIP_PASSWORD``, a password the encryption cannot
    take, a missing ``zip`` command (``options["aes"]`` true: AES-256)."""
    password = password_from_env()
    if password is not None:
        check_password(password, choose(password, bool(options.get("aes"))))


def report_encryption(ctx: UnitContext, encryption: str) -> None:
    """Say how the unit's zip is encrypted (:func:`note`, in the run's table); a zip that is
    not is also a warning on the terminal."""
    ctx.note(note(encryption))
    if encryption == "none":
        ctx.warn(f"the delivery zip is NOT encrypted: {PASSWORD_ENV} is not set (set it to encrypt the zip)")


def check_password(password: str, encryption: str) -> None:
    """One line for a password the chosen encryption cannot take."""
    _method(encryption)
    if not password:
        raise UsageError(None, "the zip password is empty")
    if "\n" in password or "\r" in password:
        raise UsageError(None, "the zip password contains a line break")
    if encryption == "zipcrypto":
        if len(password.encode("utf-8")) > MAX_ZIPCRYPTO_PASSWORD:
            raise UsageError(
                None,
                f"the zip password is longer than {MAX_ZIPCRYPTO_PASSWORD} "
                "bytes, the most Info-ZIP zip reads (use --aes, or a shorter one)",
            )
        if shutil.which("zip") is None:
            raise UsageError(None, ZIP_MISSING)


def _hash_matches(entry: ZipEntry) -> None:
    if entry.path is None or entry.sha256 is None:
        return
    h = hashlib.sha256()
    with open(entry.path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    if h.hexdigest() != entry.sha256:
        raise InputError(
            entry.path,
            "changed since it was written (SHA-256 differs from the ledger's): rerun the level that makes it",
        )


def write_zip(
    path: Path,
    entries: Sequence[ZipEntry],
    *,
    password: str | None,
    encryption: str = "zipcrypto",
    compresslevel: int = 1,
) -> None:
    """Write the zip ``path`` holding ``entries`` (in order), encrypted with ``password``
    (None: a plain zip). ``encryption``: ``zipcrypto``, ``aes`` or ``none``. Every file is
    checked against its recorded SHA-256."""
    _method(encryption)
    if password is None:
        encryption = "none"
    else:
        check_password(password, encryption)
    if encryption == "zipcrypto":
        assert password is not None
        for e in entries:
            _hash_matches(e)
        _zipcrypto(path, entries, password, compresslevel)
    else:
        _python_zip(path, entries, password if encryption == "aes" else None, compresslevel)
    with zipfile.ZipFile(path) as zf:  # the central directory lists exactly the entries
        names = {i.filename for i in zf.infolist() if not i.is_dir()}
    if names != {e.arcname for e in entries}:
        raise MagfwError(path, "the zip does not list the files it was given")


def _python_zip(path: Path, entries: Sequence[ZipEntry], password: str | None, compresslevel: int) -> None:
    """Plain or AES zip through pyzipper; each file read once, hashed as it goes."""
    import pyzipper

    zf: zipfile.ZipFile
    if password is not None:
        zf = pyzipper.AESZipFile(
            path,
            "w",
            compression=pyzipper.ZIP_DEFLATED,
            compresslevel=compresslevel,
            encryption=pyzipper.WZ_AES,
        )
        zf.setpassword(password.encode("utf-8"))
    else:
        zf = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compresslevel)
    with zf:
        for e in entries:
            if e.path is None:
                zf.writestr(e.arcname, e.data or b"")
                continue
            h = hashlib.sha256()
            info_cls = getattr(zf, "zipinfo_cls", zipfile.ZipInfo)  # pyzipper's own kind
            info = info_cls.from_file(e.path, e.arcname)
            info.compress_type = zipfile.ZIP_DEFLATED
            cast(Any, info)._compresslevel = compresslevel  # the 3.11 name of the level
            with open(e.path, "rb") as src, zf.open(info, "w") as dst:
                while chunk := src.read(CHUNK):
                    h.update(chunk)
                    dst.write(chunk)
            if e.sha256 is not None and h.hexdigest() != e.sha256:
                raise InputError(
                    e.path,
                    "changed since it was written (SHA-256 differs from "
                    "the ledger's): rerun the level that makes it",
                )


def _stop(pid: int) -> None:
    try:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    except OSError:
        pass


def _wait_echo_off(fd: int, pid: int, path: Path, termios: Any) -> None:
    """Wait until the terminal's echo is off (zip is reading the password)."""
    end = time.monotonic() + PROMPT_TIMEOUT_S
    while time.monotonic() < end:
        if not termios.tcgetattr(fd)[3] & termios.ECHO:
            return
        time.sleep(0.005)
    _stop(pid)
    raise MagfwError(path, "zip did not start reading the password in time")


def _zipcrypto(path: Path, entries: Sequence[ZipEntry], password: str, compresslevel: int) -> None:
    """``zip -q -r -e -N`` over a folder of symbolic links laid out as the zip, the password
    written to zip's prompts through a pseudo-terminal (module docstring)."""
    import pty
    import termios

    zip_cmd = shutil.which("zip")
    if zip_cmd is None:
        raise UsageError(None, ZIP_MISSING)
    path = Path(path).resolve()
    stage = path.parent / f".zipstage-{os.getpid()}-{time.monotonic_ns()}"
    try:
        tops: list[str] = []
        for e in entries:
            target = stage / e.arcname
            target.parent.mkdir(parents=True, exist_ok=True)
            if e.path is not None:
                target.symlink_to(Path(e.path).resolve())
            else:
                target.write_bytes(e.data or b"")
            top = e.arcname.split("/", 1)[0]
            if top not in tops:
                tops.append(top)
        argv = [zip_cmd, "-q", "-r", "-e", f"-{compresslevel}", str(path), *tops]
        pid, fd = pty.fork()
        if pid == 0:  # the child: zip on the pty, in the staging folder
            try:
                os.chdir(stage)
                os.execv(zip_cmd, argv)
            finally:
                os._exit(127)
        output, answered = b"", 0
        deadline = time.monotonic() + PROMPT_TIMEOUT_S
        while True:
            wait = max(0.0, deadline - time.monotonic()) if answered < 2 else None
            ready, _, _ = select.select([fd], [], [], wait)
            if not ready:
                _stop(pid)
                raise MagfwError(path, "zip did not ask for the password in time")
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child closed the terminal (EIO): it has finished
                break
            if not chunk:
                break
            output += chunk
            if b"try again" in output:
                _stop(pid)
                raise UsageError(None, "zip refused the password (too long?)")
            if answered < 2 and output.lower().count(b"password:") > answered:
                # zip prints its prompt, then turns the echo off with TCSAFLUSH, which drops
                # whatever was typed before: answer only once the echo is off
                _wait_echo_off(fd, pid, path, termios)
                os.write(fd, password.encode("utf-8") + b"\n")
                answered += 1
                deadline = time.monotonic() + PROMPT_TIMEOUT_S
        os.close(fd)
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            text = output.decode("utf-8", "replace").replace(password, "***")
            last = [ln.strip() for ln in text.splitlines() if ln.strip() and "password" not in ln.lower()]
            raise MagfwError(path, f"zip failed (exit {code})" + (f": {last[-1]}" if last else ""))
    finally:
        shutil.rmtree(stage, ignore_errors=True)
