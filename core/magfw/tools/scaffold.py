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
import shutil
import tempfile
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from magfw.errors import UsageError

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


def new_plugin(name: str, parent: Path) -> Path:
    """Write the plugin package ``parent/name`` (refusing an existing non-empty folder);
    return its path. Written into a temporary folder first, then renamed into place."""
    if not NAME.match(name):
        raise UsageError(
            None,
            f"plugin name {name!r}: use a lower-case identifier "
            "(letters, digits, _; it becomes the mission id)",
        )
    target = Path(parent) / name
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UsageError(target, "exists and is not empty; choose another --dir or name")
    Path(parent).mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=parent))
    try:
        _copy(template_root(), tmp, name)
        if target.exists():
            target.rmdir()
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


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
