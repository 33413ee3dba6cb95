"""File names of products: a template with named, width-checked fields (part of a product
definition, :mod:`magfw.plugin.definitions`), formatted for writing and parsed back for finding."""

from __future__ import annotations

import functools
import re
import string
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from magfw.errors import DefinitionError


class DefinitionModel(BaseModel):
    """The base of every part of a product definition: unknown keys refused, frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------------------------------------
# File names
# ---------------------------------------------------------------------------------------------


class NameField(DefinitionModel):
    """One named field of a file-name template.

    Exactly how a field may look: a fixed ``width`` (characters), a set of ``choices``, or a
    regular expression ``pattern`` (combinable). ``kind: int`` fields are zero-padded to
    ``width`` when formatted and parsed back to ``int``.
    """

    kind: Literal["str", "int"] = "str"
    width: Annotated[int, Field(ge=1)] | None = None
    choices: list[str] | None = None
    pattern: str | None = None
    description: str = ""

    @model_validator(mode="after")
    def _check(self) -> NameField:
        if self.width is None and self.choices is None and self.pattern is None:
            raise ValueError("a name field needs a width, choices or a pattern")
        if self.choices is not None and self.width is not None:
            bad = [c for c in self.choices if len(c) != self.width]
            if bad:
                raise ValueError(f"choices {bad} do not have width {self.width}")
        if self.pattern is not None:
            re.compile(self.pattern)
        return self

    def regex(self) -> str:
        if self.choices is not None:
            return "(?:" + "|".join(re.escape(c) for c in self.choices) + ")"
        if self.pattern is not None:
            return f"(?:{self.pattern})"
        cls = r"\d" if self.kind == "int" else r"[A-Za-z0-9\-]"
        return f"{cls}{{{self.width}}}"

    def format(self, name: str, value: Any) -> str:
        if self.kind == "int":
            text = f"{int(value):0{self.width or 1}d}"
        else:
            text = str(value)
        if self.width is not None and len(text) != self.width:
            raise DefinitionError(None, f"name field {name}={text!r} is not {self.width} wide")
        if self.choices is not None and text not in self.choices:
            raise DefinitionError(None, f"name field {name}={text!r} not one of {self.choices}")
        if self.pattern is not None and not re.fullmatch(self.pattern, text):
            raise DefinitionError(None, f"name field {name}={text!r} does not match {self.pattern}")
        return text


class FileName(DefinitionModel):
    """Where a product is kept and what it is called: templates with ``{field}`` placeholders.

    ``template`` is the file name; ``directory`` (optional) the folder it is kept in, relative
    to the output tree (``L1_rtn/{sc}fgy{yyyy}``). Both may use the same fields. A file is
    recognised by its full relative path, or by its name alone (so ``magfw check`` knows a
    product wherever it lies). Example (Aditya-L1 L1, the ICD name of the seed's Table 1)::

        L1_{payload}{station}{pacq}{strip}{vcid}{apid}{yy}{doy}{hh}{mi}{ss}{ms}_{obsid}_V{version}.nc

    with ``payload: {width: 5, choices: [MAG91]}``, ``yy: {kind: int, width: 2}`` and so on.
    """

    template: str
    directory: str = ""
    fields: dict[str, NameField]

    @model_validator(mode="after")
    def _check(self) -> FileName:
        used = self.placeholders()
        missing = [u for u in used if u not in self.fields]
        if missing:
            raise ValueError(f"template uses undefined fields {missing}")
        unused = [f for f in self.fields if f not in used]
        if unused:
            raise ValueError(f"fields {unused} are not used by the template")
        if self.directory.startswith("/") or self.directory.endswith("/"):
            raise ValueError("directory must be relative, without a leading or trailing '/'")
        return self

    @property
    def path_template(self) -> str:
        return f"{self.directory}/{self.template}" if self.directory else self.template

    def placeholders(self) -> list[str]:
        names = [f for _, f, _, _ in string.Formatter().parse(self.path_template) if f]
        return list(dict.fromkeys(names))

    def _compile(self, text: str) -> re.Pattern[str]:
        parts: list[str] = []
        seen: set[str] = set()
        for literal, name, _, _ in string.Formatter().parse(text):
            parts.append(re.escape(literal))
            if name:
                if name in seen:  # a field used twice must repeat the same text
                    parts.append(f"(?P={name})")
                else:
                    parts.append(f"(?P<{name}>{self.fields[name].regex()})")
                    seen.add(name)
        return re.compile("".join(parts))

    @functools.cached_property
    def _regexes(self) -> list[tuple[int, re.Pattern[str]]]:
        """(path depth, regex) for the full relative path, then for the name alone."""
        out = [(self.path_template.count("/") + 1, self._compile(self.path_template))]
        if self.directory:
            out.append((self.template.count("/") + 1, self._compile(self.template)))
        return out

    def format(self, **values: Any) -> str:
        """The relative path (directory/name) for these field values; checks every field."""
        missing = [f for f in self.placeholders() if f not in values]
        if missing:
            raise DefinitionError(None, f"file name {self.path_template!r} needs fields {missing}")
        texts = {k: self.fields[k].format(k, values[k]) for k in self.placeholders()}
        return self.path_template.format(**texts)

    def parse(self, name: str) -> dict[str, Any] | None:
        """Field values of a path, or None if it does not fit.

        The full template (directory and name) is matched against the path's last components;
        failing that, the name template alone (directory fields are then absent).
        """
        parts = Path(name).as_posix().split("/")
        for depth, regex in self._regexes:
            m = regex.fullmatch("/".join(parts[-depth:]))
            if m is not None:
                return {k: int(v) if self.fields[k].kind == "int" else v for k, v in m.groupdict().items()}
        return None

    def glob(self, **values: Any) -> str:
        """A glob pattern of the relative path, given fields filled and the others ``*``."""
        texts = {
            k: (self.fields[k].format(k, values[k]) if k in values else "*") for k in self.placeholders()
        }
        # adjacent unfilled fields would give "**", which glob reads as "any directories"
        return re.sub(r"\*{2,}", "*", self.path_template.format(**texts))
