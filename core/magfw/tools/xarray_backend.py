"""An xarray backend for every magfw product: ``xr.open_dataset(path, engine="magfw")``.

Registered as the entry point ``xarray.backends: magfw`` (pyproject.toml); nothing else in
magfw imports this module, so xarray is loaded only by xarray users. It follows xarray's
``BackendEntrypoint`` conventions ("How to add a new backend"):

- ``open_dataset(filename_or_obj, *, drop_variables, mask_and_scale, decode_times,
  decode_timedelta, use_cftime, concat_characters, decode_coords)``: the standard keywords,
  each honoured as :mod:`magfw.tools.xarray_dataset` describes (``decode_cf=False`` turns them
  all off; ``decode_times`` may be an ``xr.coders.CFDatetimeCoder``, its ``use_cftime`` and
  ``time_unit`` honoured; a mapping by variable name is accepted where xarray allows one).
  magfw's readers give whole strings, so ``concat_characters`` has nothing to join;
- ``filename_or_obj``: a path (str or ``os.PathLike``), or, where the format is one file (CDF,
  netCDF), a binary file object or bytes: its content is copied to a temporary file that is
  removed before the call returns. A flat file is two files: open its ``.ffh`` or ``.ffd``;
- the file is read whole by magfw's readers (:func:`magfw.io.products.read_product`), nothing
  stays open: ``ds.close()``, ``with xr.open_dataset(...)`` and ``with xr.open_mfdataset(...)``
  work (the close callback has nothing to release);
- its definition is found by name (:func:`magfw.io.identify.by_name`, as ``magfw check`` finds
  it), else by content (:func:`magfw.io.identify.by_content`: a renamed or moved product, a
  bare copy, a file object);
- a bad file raises one :class:`magfw.errors.InputError` (no chained traceback) whose message
  names the file and the problem;
- ``guess_can_open``: flat files (no other engine reads them) and CDFs whose name is a magfw
  product's; other products need ``engine="magfw"``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import xarray as xr
from xarray.backends import BackendEntrypoint

from magfw.errors import InputError, MagfwError
from magfw.io.products import ProductData, read_product
from magfw.plugin.definitions import ProductDefinition
from magfw.tools.xarray_dataset import COMPONENT_DIM, Decoding, decode_time, product_dataset

__all__ = ["COMPONENT_DIM", "MagfwBackendEntrypoint", "decode_time", "definition_of", "open_product"]

_CDF_MAGIC = (bytes.fromhex("cdf30001"), bytes.fromhex("cdf26002"), bytes.fromhex("0000ffff"))
_NETCDF_MAGIC = (b"\x89HDF\r\n\x1a\n", b"CDF\x01", b"CDF\x02", b"CDF\x05")


def definitions() -> list[ProductDefinition]:
    """Every product definition of the registered missions (and magfw's shipped ones)."""
    from magfw.plugin.manager import get_hooks

    return list(get_hooks().registry.definitions())


def definition_of(
    path: Path | None, data: ProductData, defs: Iterable[ProductDefinition] | None = None
) -> ProductDefinition:
    """The definition of a file read into ``data``: by ``path``'s name, else by content."""
    defs = definitions() if defs is None else list(defs)
    if path is not None:
        from magfw.io.identify import by_name

        found = by_name(path, defs)
        if found is not None:
            return found
    from magfw.io.identify import by_content

    return by_content(data, defs)


@contextlib.contextmanager
def _local_file(obj: Any) -> Iterator[tuple[Path, Path | None]]:
    """(a path to read, the name to recognise it by) of a path, file object or bytes."""
    if isinstance(obj, str | os.PathLike):
        path = Path(os.fspath(obj))
        yield path, path
        return
    if isinstance(obj, bytes | bytearray | memoryview):
        import io

        obj = io.BytesIO(bytes(obj))
    if not hasattr(obj, "read"):
        raise TypeError(
            f"engine='magfw' opens a path, a binary file object or bytes, not {type(obj).__name__}"
        )
    name = getattr(obj, "name", None)
    label = Path(name) if isinstance(name, str) else None
    head = obj.read(8)
    if not isinstance(head, bytes):
        raise InputError(label or "file object", "is opened in text mode; open it in binary mode ('rb')")
    if head[:4] in _CDF_MAGIC:
        suffix = ".cdf"
    elif head in _NETCDF_MAGIC[:1] or head[:4] in _NETCDF_MAGIC[1:]:
        suffix = ".nc"
    else:
        raise InputError(
            label or "file object",
            "holds neither a CDF nor a netCDF file (a flat file is two files: open its .ffh or .ffd by path)",
        )
    with tempfile.TemporaryDirectory(prefix="magfw-xarray-") as tmp:
        path = Path(tmp) / ((label.stem if label else "product") + suffix)
        with open(path, "wb") as out:
            out.write(head)
            shutil.copyfileobj(obj, out)
        yield path, label


def open_product(obj: Any, how: Decoding | None = None) -> xr.Dataset:
    """The dataset of a magfw product file (path, file object or bytes), decoded as ``how``
    says; one :class:`InputError` naming the file for a bad one."""
    where: Path | str = "file object"
    with _local_file(obj) as (path, label):
        where = label or where
        try:
            data = read_product(path)
            d = definition_of(label, data)
            return product_dataset(data, d, how)
        except MagfwError as exc:  # one line, this file's name, no chained traceback
            raise InputError(exc.where or where, exc.problem) from None
        except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
            raise InputError(
                where, f"cannot be read as a magfw product: {type(exc).__name__}: {exc}"
            ) from None


def _decoding(
    *,
    drop_variables: Any,
    mask_and_scale: Any,
    decode_times: Any,
    decode_timedelta: Any,
    use_cftime: Any,
    decode_coords: Any,
) -> Decoding:
    """xarray's decoder keywords as a :class:`Decoding` (None: xarray's default)."""
    time_unit = "ns"
    coders = getattr(xr, "coders", None)
    if coders is not None and isinstance(decode_times, coders.CFDatetimeCoder):
        use_cftime = decode_times.use_cftime if use_cftime is None else use_cftime
        time_unit = str(decode_times.time_unit or "ns")
        decode_times = True
    if coders is not None and isinstance(decode_timedelta, coders.CFTimedeltaCoder):
        decode_timedelta = True
    if isinstance(drop_variables, str):
        drop_variables = [drop_variables]
    return Decoding(
        mask_and_scale=True if mask_and_scale is None else mask_and_scale,
        decode_times=True if decode_times is None else decode_times,
        decode_timedelta=False if decode_timedelta is None else decode_timedelta,
        use_cftime=bool(use_cftime),
        time_unit=time_unit,
        decode_coords=decode_coords is None or bool(decode_coords),
        drop_variables=frozenset(drop_variables or ()),
    )


def _no_resources() -> None:
    """The close callback: every array is in memory and no file stays open."""


class MagfwBackendEntrypoint(BackendEntrypoint):
    """``xr.open_dataset(path, engine="magfw")``: any magfw product, any mission."""

    description = "magfw products (CDF, netCDF, UCLA flat files) with decoded time"
    open_dataset_parameters = (
        "filename_or_obj",
        "drop_variables",
        "mask_and_scale",
        "decode_times",
        "concat_characters",
        "decode_coords",
        "use_cftime",
        "decode_timedelta",
    )

    def open_dataset(
        self,
        filename_or_obj: Any,
        *,
        drop_variables: str | Iterable[str] | None = None,
        mask_and_scale: Any = None,
        decode_times: Any = None,
        concat_characters: Any = None,
        decode_coords: Any = None,
        use_cftime: Any = None,
        decode_timedelta: Any = None,
    ) -> xr.Dataset:
        how = _decoding(
            drop_variables=drop_variables,
            mask_and_scale=mask_and_scale,
            decode_times=decode_times,
            decode_timedelta=decode_timedelta,
            use_cftime=use_cftime,
            decode_coords=decode_coords,
        )
        ds = open_product(filename_or_obj, how)
        ds.set_close(_no_resources)
        return ds

    def guess_can_open(self, filename_or_obj: Any) -> bool:
        """Flat files (no other engine reads them) and CDFs named as a magfw product."""
        if not isinstance(filename_or_obj, str | os.PathLike):
            return False
        path = Path(os.fspath(filename_or_obj))
        suffix = path.suffix.lower()
        if suffix in (".ffh", ".ffd"):
            return True
        if suffix != ".cdf":
            return False
        from magfw.io.identify import by_name

        try:
            return by_name(path, definitions()) is not None
        except MagfwError:
            return False
