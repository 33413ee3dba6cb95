"""``magfw new-plugin NAME``: a working mission plugin package to start from.

The template (``magfw/templates/plugin``) is a complete plugin: a pyproject with the
``magfw.missions`` entry point, one level object with typed stages, an annotated product
definition, a simulator writing raw inputs with the truth beside them, and tests using
:mod:`magfw.testing`. It installs and passes its own tests unchanged. The tokens
``__mission__``, ``__Mission__`` and ``__MISSION__`` in file names and contents become the
mission id, its title and its upper-case form.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from collections.abc import Collection
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from magfw.errors import UsageError, os_error

NAME = re.compile(r"^[a-z][a-z0-9_]{0,30}$")


def template_root() -> Traversable:
    """The plugin template shipped with magfw."""
    return resources.files("magfw.tools") / "templates" / "plugin"


def render(text: str, name: str) -> str:
    """Replace the template's tokens with the mission id ``name``."""
    return (
        text.replace("__mission__", name)
        .replace("__Mission__", name.capitalize())
        .replace("__MISSION__", name.upper())
    )


def new_plugin(name: str, parent: Path, installed: Collection[str] = ()) -> Path:
    """Write the plugin package ``parent/name`` and return its path. Refused (usage error)
    before anything is written: a name that is not a mission id, the id of an ``installed``
    mission, a ``parent`` that is a file, an existing non-empty ``parent/name``. Written into
    a temporary folder first, then renamed into place; folders get the user's umask."""
    if not NAME.match(name):
        raise UsageError(
            None,
            f"plugin name {name!r}: use a lower-case identifier "
            "(letters, digits, _; it becomes the mission id)",
        )
    if name in installed:
        raise UsageError(None, f"{name!r} is the id of an installed mission: choose another name")
    parent = Path(parent)
    blocking = next((p for p in (parent, *parent.parents) if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise UsageError(blocking, "is a file, not a folder: give --dir a folder")
    target = parent / name
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UsageError(target, "exists and is not empty; choose another --dir or name")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = _new_folder(parent, f".{name}-")
    except OSError as exc:
        raise os_error(exc, parent, "creating a folder in") from exc
    try:
        _copy(template_root(), tmp, name)
        if target.exists():
            target.rmdir()
        os.replace(tmp, target)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise os_error(exc, target) from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _new_folder(parent: Path, prefix: str) -> Path:
    """A new, uniquely named folder in ``parent`` with the user's umask (``mkdtemp`` would
    make it 0700, and the renamed plugin folder would keep that)."""
    while True:
        path = parent / f"{prefix}{secrets.token_hex(4)}"
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path


def _copy(src: Traversable, dst: Path, name: str) -> None:
    for entry in src.iterdir():
        if entry.name == "__pycache__" or entry.name.endswith(".pyc"):
            continue
        out = dst / render(entry.name, name)
        if entry.is_dir():
            out.mkdir()
            _copy(entry, out, name)
        else:
            out.write_text(render(entry.read_text(), name))
