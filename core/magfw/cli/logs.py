"""Where magfw logs: a file with tracebacks, never the terminal.

Commands without an output tree log to :func:`default_log_path`; a command that works on an
output tree moves the log to ``<out>/.magfw/logs/magfw.log``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger("magfw")


def default_log_path() -> Path:
    """Where commands without an output tree log: ``$MAGFW_LOG``, else
    ``$XDG_CACHE_HOME/magfw/magfw.log`` (``~/.cache/magfw/magfw.log``)."""
    env = os.environ.get("MAGFW_LOG")
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return Path(env) if env else cache / "magfw" / "magfw.log"


def setup_logging(path: Path | None = None) -> Path | None:
    """Send magfw's log (with tracebacks) to a file; return its path, or None when it cannot
    be written (then nothing is logged, and no logging error ever reaches the terminal)."""
    path = path or default_log_path()
    logging.raiseExceptions = False  # a log that fails mid-run must not print tracebacks
    for h in list(log.handlers):
        if isinstance(h, logging.FileHandler):
            log.removeHandler(h)
            h.close()
    log.setLevel(logging.DEBUG if os.environ.get("MAGFW_DEBUG") else logging.INFO)
    if not any(isinstance(h, logging.NullHandler) for h in log.handlers):
        log.addHandler(logging.NullHandler())  # never Python's last-resort stderr handler
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        writable = os.access(path, os.W_OK) if path.exists() else os.access(path.parent, os.W_OK)
        if not writable:
            return None
        handler = logging.FileHandler(path, delay=True)  # created at the first record
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    return path


def log_path() -> Path | None:
    """The file magfw is logging to now, if any."""
    for h in log.handlers:
        if isinstance(h, logging.FileHandler):
            return Path(h.baseFilename)
    return None
