"""The plugin API reference, generated from the docstrings of :mod:`magfw.api`.

``python -m magfw.tools.apidoc [PATH]`` writes ``docs/api.md`` (default) or prints it (``-``). A
test regenerates it and compares it with the checked-in file, so the reference cannot drift
from the code. For each name of ``magfw.api.__all__``: a class with its docstring, its fields
(type, default, and the ``#:`` or ``#`` comment on the field's line) and its public methods
and properties; a function with its signature and docstring; a service module with each of its
public functions.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import sys
import textwrap
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

HEADER = """# magfw plugin API reference

Generated from the docstrings by `python -m magfw.tools.apidoc` (a test checks it is current).
Everything here is importable from `magfw.api`, the one import a plugin needs; anything else in
magfw may change without notice. The guide is [plugins.md](plugins.md).
"""


def _doc(obj: Any) -> str:
    text = inspect.getdoc(obj) or ""
    return text.strip()


def _first_paragraph(text: str) -> str:
    return text.split("\n\n", 1)[0].replace("\n", " ").strip()


class _AsWritten(str):
    """An annotation's source text, shown without quotes."""

    def __repr__(self) -> str:
        return str(self)


def _sig(func: Callable[..., Any], name: str) -> str:
    """``name(params) -> return`` with the annotations as the source writes them (magfw's
    modules postpone evaluation), so the text does not change with numpy's or pluggy's
    version. A library's object that ``magfw.api`` re-exports (``hookimpl``) shows no
    signature: it is that library's, and changes with it."""
    if not (getattr(func, "__module__", None) or "").startswith("magfw"):
        return f"{name}(...)"
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return f"{name}(...)"
    params = [
        p.replace(annotation=_AsWritten(p.annotation)) if isinstance(p.annotation, str) else p
        for p in sig.parameters.values()
    ]
    ret = sig.return_annotation
    sig = sig.replace(parameters=params, return_annotation=_AsWritten(ret) if isinstance(ret, str) else ret)
    return f"{name}{sig}"


def _field_comments(cls: type) -> dict[str, str]:
    """Comments on the lines of a class's annotated fields (``x: int = 0  #: what``)."""
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):
        return {}
    lines = source.splitlines()
    out: dict[str, str] = {}
    tree = ast.parse(source)
    node = tree.body[0]
    if not isinstance(node, ast.ClassDef):
        return out
    for item in node.body:
        if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            line = lines[item.lineno - 1]
            if "#" in line:
                comment = line.split("#", 1)[1].lstrip(":").strip()
                if comment and not comment.startswith(("noqa", "type:")):
                    out[item.target.id] = comment
    return out


def _fmt_type(tp: Any) -> str:
    text = tp if isinstance(tp, str) else getattr(tp, "__name__", None) or repr(tp)
    return str(text).replace("typing.", "").replace("collections.abc.", "")


def _fields(cls: type) -> Iterator[tuple[str, str, str, str]]:
    """(name, type, default, comment) of a dataclass's or pydantic model's fields."""
    comments = _field_comments(cls)
    if dataclasses.is_dataclass(cls):
        for f in dataclasses.fields(cls):
            if f.name.startswith("_"):
                continue
            if f.default is not dataclasses.MISSING:
                default = repr(f.default)
            elif f.default_factory is not dataclasses.MISSING:
                default = f"{getattr(f.default_factory, '__name__', 'factory')}()"
            else:
                default = ""
            yield f.name, _fmt_type(f.type), default, comments.get(f.name, "")
        return
    model_fields = getattr(cls, "model_fields", None)
    if isinstance(model_fields, dict):
        for name, info in model_fields.items():
            if info.exclude and name not in ("pipeline", "settings", "preflight", "check"):
                continue
            default = (
                ""
                if info.is_required()
                else (
                    f"{getattr(info.default_factory, '__name__', 'factory')}()"
                    if info.default_factory is not None
                    else info.default.__name__
                    if isinstance(info.default, type)
                    else repr(info.default)
                )
            )
            note = info.description or comments.get(name, "")
            yield name, _fmt_type(_annotation(cls, name, info)), default, note


def _annotation(cls: type, name: str, info: Any) -> Any:
    """A field's annotation as its class's source writes it (text, stable across library
    versions), else the type pydantic or the dataclass holds."""
    for klass in cls.__mro__:
        written = klass.__dict__.get("__annotations__", {}).get(name)
        if written is not None:
            return written
    return info.annotation


def _members(cls: type) -> Iterator[tuple[str, str, str]]:
    """(kind, signature, first paragraph) of a class's own public methods and properties."""
    for name, member in cls.__dict__.items():
        if name.startswith("_"):
            continue
        if isinstance(member, property):
            yield "property", name, _first_paragraph(_doc(member))
        elif isinstance(member, (classmethod, staticmethod)):
            func = member.__func__
            yield (
                "method",
                _sig(func, name).replace("(cls, ", "(").replace("(cls)", "()"),
                _first_paragraph(_doc(func)),
            )
        elif inspect.isfunction(member) and not getattr(member, "magfw_impl", None):
            yield (
                "method",
                _sig(member, name).replace("(self, ", "(").replace("(self)", "()"),
                _first_paragraph(_doc(member)),
            )


def _raised_as(name: str, cls: type) -> list[str]:
    """An exception's constructor forms (its ``__init__`` overloads) and exit code."""
    init = getattr(cls, "__init__")  # noqa: B009 - the class's (inherited) constructor
    forms = typing.get_overloads(init) or [init]
    sigs = [
        _sig(f, name).replace("(self, ", "(").replace(", /)", ")").replace(" -> None", "")
        for f in forms
        if (getattr(f, "__module__", None) or "").startswith("magfw")
    ]
    if not sigs:
        return []
    code = getattr(cls, "exit_code", None)
    tail = f"; `exit_code = {code}`" if isinstance(code, int) else ""
    return ["Raised as " + " or ".join(f"`{s}`" for s in sigs) + tail + ".", ""]


def _class(name: str, cls: type) -> list[str]:
    kind = "exception" if issubclass(cls, BaseException) else "class"
    out = [f"## `{name}` ({kind})", "", _doc(cls) or "(no docstring)", ""]
    if kind == "exception":
        out += _raised_as(name, cls)
    rows = list(_fields(cls))
    if rows:
        out += ["| field | type | default | |", "|---|---|---|---|"]
        for fname, ftype, default, comment in rows:
            out.append(
                f"| `{fname}` | `{cell(ftype)}` | {f'`{cell(default)}`' if default else ''}"
                f" | {cell(comment)} |"
            )
        out.append("")
    members = list(_members(cls))
    if members:
        for kind_, sig, text in members:
            out.append(f"- {kind_} `{sig}`" + (f": {text}" if text else ""))
        out.append("")
    return out


def cell(text: str) -> str:
    """Text safe in a Markdown table cell."""
    return text.replace("|", "\\|")


def _function(name: str, func: Callable[..., Any]) -> list[str]:
    return [f"## `{_sig(func, name)}`", "", _doc(func) or "(no docstring)", ""]


def _module(name: str, mod: ModuleType) -> list[str]:
    out = [f"## `{name}` (module `{mod.__name__}`)", "", _first_paragraph(_doc(mod)), ""]
    names = getattr(mod, "__all__", None) or [
        n
        for n, v in vars(mod).items()
        if not n.startswith("_") and inspect.isfunction(v) and v.__module__ == mod.__name__
    ]
    for n in sorted(names):
        obj = getattr(mod, n)
        if inspect.isfunction(obj):
            out.append(f"- `{_sig(obj, n)}`: {_first_paragraph(_doc(obj))}")
        elif inspect.isclass(obj):
            out.append(f"- class `{n}`: {_first_paragraph(_doc(obj))}")
    out.append("")
    return out


def _constant(name: str, value: Any) -> list[str]:
    return [f"## `{name}` = `{value!r}`", ""]


def render() -> str:
    """The whole reference (Markdown)."""
    import magfw.api as api

    out = [HEADER]
    names = sorted(api.__all__, key=lambda n: (n.startswith("_"), n.lower()))
    out.append("Contents: " + ", ".join(f"`{n}`" for n in names) + "\n")
    for name in names:
        obj = getattr(api, name)
        if isinstance(obj, ModuleType):
            out += _module(name, obj)
        elif inspect.isclass(obj):
            out += _class(name, obj)
        elif callable(obj):
            out += _function(name, obj)
        else:
            out += _constant(name, obj)
    text = "\n".join(out).rstrip() + "\n"
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def main(argv: list[str] | None = None) -> int:
    """``[PATH]``: write the reference there (default ``docs/api.md``; ``-``: print it)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 1 or (args and args[0] != "-" and args[0].startswith("-")):
        print("usage: python -m magfw.tools.apidoc [PATH | -]", file=sys.stderr)
        return 2
    text = render()
    target = args[0] if args else "docs/api.md"
    if target == "-":
        sys.stdout.write(text)
    else:
        Path(target).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
