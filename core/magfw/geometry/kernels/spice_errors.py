"""SPICE errors as one line."""

from __future__ import annotations

from spiceypy.utils.exceptions import SpiceyError

__all__ = ["SpiceyError", "spice_error_text"]


def spice_error_text(exc: Exception) -> str:
    """One line for a SPICE error: its short message (``SPICE(NOSUCHFILE)``) and long message
    (SpiceyError has ``short``, ``explain``, ``long``; no ``value``)."""
    short = str(getattr(exc, "short", "") or "")
    long = " ".join(str(getattr(exc, "long", "") or "").split())
    long = long.split(". ")[0].rstrip(".")  # the first sentence says what is wrong
    if short and long:
        return f"{short}: {long}"
    return short or long or " ".join(str(exc).split())
