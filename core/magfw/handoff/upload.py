"""Delivering a committed file (a delivery zip) to a remote through rclone: upload it and its
checksum list, verify what the remote holds, ask for a shared link.

Configuration (``[delivery]`` in ``magfw.toml``, :class:`magfw.config.sections.DeliverySection`)::

    [delivery]
    remote = "box:STEREO deliveries"     # rclone REMOTE:FOLDER for every delivery event
    link = true                          # ask `rclone link` for a shared link (where it can)
    link_expire = "90d"                  # rclone link --expire (default: the backend's)
    timeout_s = 3600                     # one rclone call (an upload) at most, seconds
    retries = 3                          # rclone --retries
    rclone = "rclone"                    # the program
    [delivery.events]                    # a folder per e-mail event (else `remote`)
    plastic_delivery = "box:STEREO PLASTIC deliveries"

The remote is one of rclone's (``rclone config`` makes it, e.g. for UCLA Box; the token stays
in rclone's configuration): magfw never sees a credential (:mod:`magfw.handoff.rclone`).

What :func:`deliver` does with a file ``NAME.zip`` of known size and SHA-256 (what the ledger
recorded when the runner committed it):

1. It asks the remote which checksums it keeps (``rclone backend features``) and picks the one
   to compare: SHA-256 (local disks, Google Drive...), else SHA-1 (Box, SFTP servers), MD5 (S3,
   WebDAV servers that keep one), the Dropbox hash or CRC-32; a remote that keeps none is
   checked by size only (and says so). A SHA-1 or MD5 is computed from the zip, together with
   its SHA-256, which must still be the ledger's (a zip changed since its run is refused).
2. For the zip and ``NAME.SHA256SUMS`` (``<sha256>  NAME.zip``: ``sha256sum -c`` checks a
   download with it) in turn: a file the remote already holds with that size and checksum is
   left alone; any other is uploaded (``rclone copyto``) and then checked on the remote; a
   mismatch removes the damaged copy and fails.
3. With ``link`` and a backend that makes links, ``rclone link`` gives the shared link (a link
   that cannot be had is a warning in the log: the remote path is used instead).

So a failed or interrupted upload is one :class:`~magfw.handoff.rclone.RcloneError` line and
changes nothing in the output tree, and a rerun uploads what the remote lacks, and only that.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from magfw.config.sections import DeliverySection
from magfw.errors import MagfwError
from magfw.handoff.rclone import Features, Rclone, RcloneError, RemoteFile

log = logging.getLogger("magfw.handoff.upload")

#: The checksums magfw can compare, best first, with their names in messages.
HASH_NAMES = {
    "sha256": "SHA-256",
    "sha1": "SHA-1",
    "md5": "MD5",
    "dropbox": "Dropbox hash",
    "crc32": "CRC-32",
}
CHUNK = 1 << 20
DROPBOX_BLOCK = 4 << 20  #: the Dropbox content hash: SHA-256 of the SHA-256s of 4 MiB blocks


@dataclass(frozen=True, kw_only=True)
class Parcel:
    """A file to deliver: where it is, and its size and SHA-256 as the ledger recorded them."""

    path: Path
    size: int
    sha256: str

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def sums_name(self) -> str:
        """The name of its checksum list on the remote: ``NAME.SHA256SUMS``."""
        return f"{self.path.stem}.SHA256SUMS"

    def sums(self) -> bytes:
        """``NAME.SHA256SUMS``: the zip's SHA-256 in ``sha256sum`` format."""
        return f"{self.sha256}  {self.name}\n".encode("ascii")


@dataclass(frozen=True, kw_only=True)
class Placed:
    """One file on the remote: its path, whether this call uploaded it, how it was checked."""

    remote: str
    uploaded: bool
    checked: str  #: "SHA-1", "SHA-256"..., or "size only"


@dataclass(frozen=True, kw_only=True)
class Delivered:
    """Where a parcel went: the zip and its checksum list on the remote, and its link."""

    parcel: Parcel
    zip: Placed
    sums: Placed
    link: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def uploaded(self) -> bool:
        """Whether this call uploaded anything (False: the remote had it all already)."""
        return self.zip.uploaded or self.sums.uploaded

    @property
    def where(self) -> str:
        """The shared link, else the zip's remote path."""
        return self.link or self.zip.remote


def remote_path(remote: str, name: str) -> str:
    """``name`` inside the rclone destination ``remote`` (``box:`` or ``box:folder``)."""
    if remote.endswith((":", "/")):
        return remote + name
    return f"{remote}/{name}"


def choose_hash(features: Features) -> str | None:
    """The best checksum the remote keeps that magfw can compute (None: size only)."""
    return next((h for h in HASH_NAMES if h in features.hashes), None)


class _Hasher(Protocol):
    def update(self, data: bytes, /) -> None: ...
    def hexdigest(self) -> str: ...


class _DropboxHash:
    """The Dropbox content hash, incrementally: SHA-256 of the SHA-256s of 4 MiB blocks."""

    def __init__(self) -> None:
        self.whole, self.block, self.filled = hashlib.sha256(), hashlib.sha256(), 0

    def update(self, data: bytes) -> None:
        while data:
            take = data[: DROPBOX_BLOCK - self.filled]
            self.block.update(take)
            self.filled += len(take)
            data = data[len(take) :]
            if self.filled == DROPBOX_BLOCK:
                self.whole.update(self.block.digest())
                self.block, self.filled = hashlib.sha256(), 0

    def hexdigest(self) -> str:
        final = self.whole.copy()
        if self.filled:
            final.update(self.block.digest())
        return final.hexdigest()


class _Crc32:
    def __init__(self) -> None:
        self.value = 0

    def update(self, data: bytes) -> None:
        self.value = zlib.crc32(data, self.value)

    def hexdigest(self) -> str:
        return f"{self.value:08x}"


def _hasher(hash_type: str) -> _Hasher:
    if hash_type == "dropbox":
        return _DropboxHash()
    if hash_type == "crc32":
        return _Crc32()
    return hashlib.new(hash_type)


def local_digest(path: Path, hash_type: str) -> tuple[str, str]:
    """(sha256, ``hash_type``) of the file at ``path``, in one read."""
    sha256, other = hashlib.sha256(), _hasher(hash_type)
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            sha256.update(chunk)
            other.update(chunk)
    return sha256.hexdigest(), other.hexdigest()


def _expected(parcel: Parcel, hash_type: str | None) -> str | None:
    """The zip's ``hash_type`` checksum, after making sure it is the file the ledger recorded."""
    try:
        size = parcel.path.stat().st_size
    except OSError as exc:
        raise MagfwError(parcel.path, f"cannot read the delivery: {exc.strerror or exc}") from None
    if size != parcel.size:
        raise MagfwError(
            parcel.path, f"has {size} bytes, the ledger recorded {parcel.size} (changed since its run)"
        )
    if hash_type is None or hash_type == "sha256":
        return parcel.sha256 if hash_type else None
    sha256, digest = local_digest(parcel.path, hash_type)
    if sha256 != parcel.sha256:
        raise MagfwError(
            parcel.path, "its SHA-256 is not the one the ledger recorded (changed since its run)"
        )
    return digest


def _matches(found: RemoteFile | None, size: int, hash_type: str | None, expected: str | None) -> bool:
    if found is None or found.size != size:
        return False
    have = found.hashes.get(hash_type or "", "")
    return not have or expected is None or have == expected


def _place(
    rc: Rclone, local: Path, dest: str, size: int, hash_type: str | None, expected: str | None
) -> Placed:
    """Upload ``local`` to ``dest`` unless the remote holds it already; check what it holds."""
    checked = HASH_NAMES[hash_type] if hash_type else "size only"
    if _matches(rc.stat(dest, hash_type), size, hash_type, expected):
        log.info("%s: already on the remote (%s checked)", dest, checked)
        return Placed(remote=dest, uploaded=False, checked=checked)
    rc.copyto(local, dest)
    found = rc.stat(dest, hash_type)
    if found is None:
        raise RcloneError(dest, "not on the remote after its upload")
    have = found.hashes.get(hash_type or "", "")
    if found.size != size or (expected is not None and have and have != expected):
        what = (
            f"{found.size} bytes on the remote, {size} here"
            if found.size != size
            else f"{checked} on the remote {have}, here {expected}"
        )
        _discard(rc, dest)
        raise RcloneError(dest, f"checksum mismatch after the upload ({what}): the damaged copy is removed")
    if not have:
        checked = "size only"  # the remote keeps no checksum for this file (a multipart upload)
    log.info("%s: uploaded (%s checked)", dest, checked)
    return Placed(remote=dest, uploaded=True, checked=checked)


def _discard(rc: Rclone, dest: str) -> None:
    try:
        rc.deletefile(dest)
    except RcloneError as exc:
        log.warning("%s: the damaged copy could not be removed: %s", dest, exc)


def deliver(parcel: Parcel, remote: str, settings: DeliverySection | None = None) -> Delivered:
    """Upload ``parcel`` and its ``SHA256SUMS`` to ``remote`` (``REMOTE:FOLDER``), verify them
    there and ask for its link (module docstring). Raises one-line :class:`MagfwError` s."""
    s = settings or DeliverySection()
    rc = Rclone(s.rclone, timeout_s=s.timeout_s, retries=s.retries)
    features = rc.features(remote)
    hash_type = choose_hash(features)
    expected = _expected(parcel, hash_type)
    zip_placed = _place(rc, parcel.path, remote_path(remote, parcel.name), parcel.size, hash_type, expected)
    sums = parcel.sums()
    with tempfile.TemporaryDirectory(prefix="magfw-delivery-") as tmp:
        local = Path(tmp) / parcel.sums_name
        local.write_bytes(sums)
        sums_expected = local_digest(local, hash_type)[1] if hash_type else None
        sums_placed = _place(
            rc, local, remote_path(remote, parcel.sums_name), len(sums), hash_type, sums_expected
        )
    link, notes = None, []
    if s.link and features.public_link:
        try:
            link = rc.link(zip_placed.remote, s.link_expire)
        except RcloneError as exc:
            log.warning("no shared link: %s", exc)
            notes.append(f"no shared link ({exc.problem})")
    return Delivered(parcel=parcel, zip=zip_placed, sums=sums_placed, link=link, notes=notes)
