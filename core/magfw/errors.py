"""Errors that magfw reports to users as one line: the file (or thing) and the problem.

Every error a user can cause (bad input, missing calibration, HTTP failure, bad usage) is a
:class:`MagfwError`. The CLI prints ``str(error)`` on one line and exits with ``exit_code``;
the traceback goes to the log only.

Each class takes the problem alone or the file (or thing) it concerns first::

    raise UsageError("--window must be odd")              # magfw: error: --window must be odd
    raise InputError(path, "truncated: 12 bytes")         # .../raw.dat: truncated: 12 bytes
    raise MissingInputError(None, "no calibration table")  # where unknown: the problem alone

What the user then sees and the exit code depend on where it is raised (a level step fails its
unit; a command or an option check ends the command): ``docs/plugins.md``, *Errors*.
"""

from __future__ import annotations

from os import PathLike
from typing import overload

Where = str | PathLike[str] | None


class MagfwError(Exception):
    """A failure with a one-line explanation naming the file (or object) and the problem.

    ``MagfwError(problem)`` or ``MagfwError(where, problem)``: ``where`` (a path, a URL, a
    name, or None) is shown before the problem (``where: problem``); the problem is folded onto
    one line. ``exit_code``: what the command exits with (1; ``UsageError`` 2).
    """

    exit_code = 1

    @overload
    def __init__(self, problem: str, /) -> None: ...

    @overload
    def __init__(self, where: str | PathLike[str] | None, problem: str, /) -> None: ...

    def __init__(self, where: Where, problem: str | None = None, /) -> None:
        if problem is None:  # the one-argument form: the problem alone
            where, problem = None, str(where)
        self.where = None if where is None else str(where)
        self.problem = " ".join(str(problem).split())  # one line, always
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """``where: problem``, or the problem alone when there is no ``where``."""
        return self.problem if self.where is None else f"{self.where}: {self.problem}"

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[type[MagfwError], tuple[str | None, str]]:
        # keep the class and fields across process boundaries
        return (self.__class__, (self.where, self.problem))


class UsageError(MagfwError):
    """The command line, an option or the configuration asks for something that cannot be
    done: exit 2, raised before anything is written (an option's ``check``, a level's
    ``preflight``, a plugin command checking its arguments)."""

    exit_code = 2


class InputError(MagfwError):
    """An input file is unreadable, truncated, or does not hold what it should (``where``: the
    file)."""


class MissingInputError(InputError):
    """A required input (data, calibration, kernel) could not be found."""


class FetchError(MagfwError):
    """Bringing an input from its source failed (HTTP error, time-out, checksum mismatch)."""


class DefinitionError(MagfwError):
    """A product definition (YAML) is invalid, or a product does not match its definition."""


class KernelError(MagfwError):
    """SPICE kernels are missing, or a time lies outside their coverage."""


class PluginError(MagfwError):
    """A plugin is broken: unknown hook, bad registration, a hook that returned nothing."""


#: What an errno means, in the words a user expects.
_ERRNO_TEXT = {
    "ENOSPC": "no space left on device",
    "EDQUOT": "disk quota exceeded",
    "EROFS": "read-only file system",
    "EACCES": "permission denied",
    "EPERM": "operation not permitted",
    "EFBIG": "file too large (file-size limit)",
    "ENOENT": "no such file or directory",
    "EISDIR": "is a directory",
    "ENOTDIR": "not a directory",
    "EIO": "input/output error",
}


def os_error(exc: OSError, path: str | PathLike[str] | None = None, doing: str = "writing") -> MagfwError:
    """A file-system failure as one line: ``no space left on device writing FILE``; FILE is
    ``path`` when given (the product being written), else the file the error names."""
    import errno

    name = errno.errorcode.get(exc.errno or 0, "")
    problem = _ERRNO_TEXT.get(name, exc.strerror or str(exc))
    where = path if path is not None else exc.filename
    return MagfwError(None, f"{problem} {doing} {where}" if where is not None else problem)
