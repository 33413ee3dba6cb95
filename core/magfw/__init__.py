"""magfw: a plugin framework that turns spacecraft magnetometer telemetry into science products.

Plugin authors need only ``from magfw import hookimpl`` (the hook contract is
:mod:`magfw.plugin.hookspecs`; the guide is ``docs/plugins.md``).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from magfw.plugin.hookspecs import hookimpl

try:
    __version__ = version("magfw")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["__version__", "hookimpl"]
