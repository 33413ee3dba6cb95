"""Numbers as text for the csv and json streams, vectorised, and rows joined without loops.

A block of records becomes text in a few array operations: each column is written into a
fixed-width byte matrix (two-digit pairs gathered from a table into a structured array, as in
:mod:`magfw.serve.timefmt`) with, per row, the first valid column and the length; one boolean
mask then glues the columns and separators of every row together (:func:`join_rows`).
Python's per-value formatting costs about a microsecond a number (a day of 8 Hz vectors is 2.8
million numbers); this costs a few percent of that.

Floats are written in scientific notation with a fixed number of significant digits:
``-1.23456789e+01``. A stored float32 gets 9 digits, which always read back to the same
float32 (9 digits resolve 1e-8 relative, half a float32 step is at least 3e-8); a float64 gets
17 digits, checked to read back to the same double (the rare last-digit slip of the
extended-precision scaling is corrected). Fill is therefore written exactly as the info
header's ``fill`` string reads. NaN is ``NaN``; integers are plain decimals.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

#: A column as text: (chars (N, W) ASCII, first valid column (N,), length (N,)).
Text = tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64], npt.NDArray[np.int64]]

_PAIRS = np.array([(ord(str(i // 10)) | (ord(str(i % 10)) << 8)) for i in range(100)], dtype="<u2")
_DIGITS = np.frombuffer(b"0123456789", dtype="S1")
with np.errstate(over="ignore", under="ignore"):
    _P10 = 10.0 ** np.arange(-340, 341, dtype=np.float64)  # inf/0 beyond range: not used
    _P10_LD = np.longdouble(10) ** np.arange(-340, 341)


def _pow10(k: npt.NDArray[np.int64], table: npt.NDArray[np.floating]) -> npt.NDArray[np.floating]:
    return table[np.clip(k, -340, 340) + 340]


def _scaled(a: npt.NDArray[np.float64], p: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(m, e) with ``a ~= m * 10**(e - p + 1)`` and exactly ``p`` digits in m; a > 0 finite."""
    e = np.floor(np.log10(a)).astype(np.int64)
    if p <= 15:  # float64 scaling is exact enough; in two steps for extreme exponents
        k = p - 1 - e
        half = k // 2
        m = np.rint(a * _pow10(half, _P10) * _pow10(k - half, _P10))
        big = m >= 10.0**p
        e = e + big
        m = np.where(big, np.rint(m / 10), m)
        small = m < 10.0 ** (p - 1)
        e = e - small
        m = np.where(small, np.rint(a * _pow10(half + 1, _P10) * _pow10(k - half, _P10)), m)
        return m.astype(np.int64), e
    al = a.astype(np.longdouble)
    m_ld = np.rint(al * _pow10(p - 1 - e, _P10_LD))
    big = m_ld >= np.longdouble(10) ** p
    e = e + big
    m_ld = np.where(big, np.rint(al * _pow10(p - 1 - e, _P10_LD)), m_ld)
    small = m_ld < np.longdouble(10) ** (p - 1)
    e = e - small
    m_ld = np.where(small, np.rint(al * _pow10(p - 1 - e, _P10_LD)), m_ld)
    m = m_ld.astype(np.int64)
    for _ in range(2):  # read back; move the last digit by one where it does not give a again
        back = (m.astype(np.longdouble) * _pow10(e - p + 1, _P10_LD)).astype(np.float64)
        m = m + np.sign(a - back).astype(np.int64) * (back != a)
        over = m >= 10**p
        m, e = np.where(over, m // 10, m), e + over
    return m, e


def _mantissa_fields(p: int) -> list[tuple[str, str]]:
    fields = [("sign", "S1"), ("d0", "S1"), ("dot", "S1")]
    fields += [(f"p{i}", "<u2") for i in range((p - 1) // 2)]
    if (p - 1) % 2:
        fields.append(("last", "S1"))
    return fields


def format_floats(x: npt.ArrayLike, digits: int) -> Text:
    """``x`` (float64) in scientific notation with ``digits`` (9 or 17) significant digits,
    exponent of two digits (three for 17 digits, or where one needs it); NaN as ``NaN``,
    infinities as ``Infinity``."""
    x = np.asarray(x, dtype=np.float64).ravel()
    n, p = x.shape[0], int(digits)
    finite = np.isfinite(x)
    a = np.abs(np.where(finite, x, 1.0))
    zero = a == 0
    m, e = _scaled(np.where(zero, 1.0, a), p)
    m = np.where(zero, 0, m)
    e = np.where(zero, 0, e)
    exp_digits = 3 if p > 9 or (n and np.abs(e).max() >= 100) else 2
    dtype = np.dtype(
        [
            *_mantissa_fields(p),
            ("e", "S1"),
            ("esign", "S1"),
            *([("e0", "S1")] if exp_digits == 3 else []),
            ("ep", "<u2"),
        ]
    )
    rec = np.empty(n, dtype=dtype)
    rec["sign"], rec["dot"], rec["e"] = b"-", b".", b"e"
    lead = 10 ** (p - 1)
    rec["d0"] = _DIGITS[m // lead]
    rest = m % lead
    npairs = (p - 1) // 2
    if (p - 1) % 2:
        rec["last"] = _DIGITS[rest % 10]
        rest = rest // 10
    for i in range(npairs - 1, -1, -1):
        rec[f"p{i}"] = _PAIRS[rest % 100]
        rest = rest // 100
    rec["esign"] = np.where(e < 0, b"-", b"+")
    ae = np.abs(e)
    if exp_digits == 3:
        rec["e0"] = _DIGITS[np.minimum(ae // 100, 9)]
    rec["ep"] = _PAIRS[ae % 100]
    chars = rec.view(np.uint8).reshape(n, dtype.itemsize).copy()
    neg = finite & (x < 0) & ~zero
    start = np.where(neg, 0, 1).astype(np.int64)
    length = np.full(n, dtype.itemsize, dtype=np.int64) - start
    for rows, text in ((np.isnan(x), b"NaN"), (np.isposinf(x), b"Infinity"), (np.isneginf(x), b"-Infinity")):
        if rows.any():
            chars[rows, : len(text)] = np.frombuffer(text, dtype=np.uint8)
            start[rows], length[rows] = 0, len(text)
    return chars, start, length


def format_ints(x: npt.ArrayLike) -> Text:
    """Integers (any int dtype, or whole floats below 2**53) as decimal text."""
    v = np.asarray(x).ravel().astype(np.int64)
    n = v.shape[0]
    neg = v < 0
    a = np.abs(v)
    rec = np.empty(n, dtype=[("sign", "S1"), ("d0", "S1"), *[(f"p{i}", "<u2") for i in range(9)]])
    rec["sign"] = b"-"
    rest = a.copy()
    for i in range(8, -1, -1):
        rec[f"p{i}"] = _PAIRS[rest % 100]
        rest = rest // 100
    rec["d0"] = _DIGITS[rest % 10]
    chars = rec.view(np.uint8).reshape(n, 20).copy()
    ndig = np.ones(n, dtype=np.int64)
    for k in range(1, 19):
        ndig += a >= 10**k
    start = 20 - ndig
    chars[neg, start[neg] - 1] = ord("-")  # the sign goes just before the first digit
    start = start - neg
    return chars, start, ndig + neg


def literal(rows: int, text: bytes) -> Text:
    """A constant column (a separator, a bracket) of ``rows`` rows."""
    chars = np.frombuffer(text, dtype=np.uint8)
    return (
        np.broadcast_to(chars, (rows, chars.size)),
        np.zeros(rows, dtype=np.int64),
        np.full(rows, chars.size, dtype=np.int64),
    )


def fixed(chars: npt.NDArray[np.uint8]) -> Text:
    """A column of fixed-width text (e.g. times) as :data:`Text`."""
    n, w = chars.shape
    return chars, np.zeros(n, dtype=np.int64), np.full(n, w, dtype=np.int64)


def join_rows(items: Sequence[Text | bytes]) -> bytes:
    """Each row's items (columns, or literal bytes between them) concatenated, rows after
    each other: ``join_rows([time, b",", bx, b",", by, b"\\n"])`` is csv."""
    n = next(i[0].shape[0] for i in items if not isinstance(i, bytes))
    blocks: list[npt.NDArray[np.uint8]] = []
    masks: list[npt.NDArray[np.bool_]] = []
    for item in items:
        if isinstance(item, bytes):
            if item:
                blocks.append(np.broadcast_to(np.frombuffer(item, dtype=np.uint8), (n, len(item))))
                masks.append(np.ones((n, len(item)), dtype=bool))
            continue
        chars, start, length = item
        col = np.arange(chars.shape[1])[None, :]
        blocks.append(chars)
        masks.append((col >= start[:, None]) & (col < (start + length)[:, None]))
    return np.concatenate(blocks, axis=1)[np.concatenate(masks, axis=1)].tobytes()
