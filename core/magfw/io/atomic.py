"""Atomic file writes: write to a temporary name beside the target, then rename into place.

A failed or interrupted write leaves no partial product and never touches an earlier file of
the same name until the new one is complete.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

TMP_PREFIX = ".magfw-tmp-"


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success.

    The temporary keeps the target's suffix (some writers, e.g. cdflib, insist on ``.cdf``).
    On any exception the temporary is removed and ``target`` is left as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f"{TMP_PREFIX}{os.getpid()}-", suffix=target.suffix, dir=target.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # writers that refuse to overwrite (cdflib) need the name free
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"writer produced no file at {tmp}")
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_bytes_atomic(target: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically and return the target path."""
    with atomic_path(target) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    return Path(target)


def _owner_alive(name: str) -> bool:
    """Whether the process that made temporary ``name`` (``.magfw-tmp-<pid>-...``) lives."""
    pid_text = name[len(TMP_PREFIX) :].split("-", 1)[0]
    if not pid_text.isdigit():
        return False  # a temporary of an older magfw, without its owner: nobody writes it
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    return True


def clean_stale_temporaries(directory: str | os.PathLike[str], *, recursive: bool = True) -> int:
    """Remove temporaries left under ``directory`` (in it alone unless ``recursive``) by
    processes that died (a killed download, an interrupted simulation or publish); a live
    process's temporaries are left alone. Returns how many were removed."""
    n = 0
    pattern = f"{TMP_PREFIX}*"
    found = Path(directory).rglob(pattern) if recursive else Path(directory).glob(pattern)
    for p in found:
        if _owner_alive(p.name):
            continue
        with contextlib.suppress(OSError):
            if p.is_dir():
                import shutil

                shutil.rmtree(p)
            else:
                p.unlink()
            n += 1
    return n
