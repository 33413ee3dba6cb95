"""The day figure of a product: every file a unit wrote for it, drawn as one quicklook.

Each file's panels come from :func:`magfw.tools.plot.quicklook_spec` with the product's
definition (its declared ``quicklook`` panels, else what ``magfw plot`` draws), and the files'
records are put end to end in time order (Aditya writes several L1 files a day: the figure
covers the whole day, not the first file). Drawn by :func:`magfw.tools.plot.render_png`,
cached by the files' SHA-256 in ``.magfw/serve/plots/``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from magfw.plugin.context import PlotPanel, PlotSpec
from magfw.plugin.definitions import ProductDefinition

SIZE_PX = (1000, 560)
_VERSION = "day-2"


def cache_key(shas: list[str]) -> str:
    h = hashlib.sha256(_VERSION.encode())
    for s in sorted(shas):
        h.update(s.encode())
    return h.hexdigest() + ".png"


def _joined(specs: list[PlotSpec]) -> PlotSpec:
    """One spec of several files' specs of the same product (panels matched by position and
    series label; a series a file lacks is NaN there)."""
    first = specs[0]
    time = np.concatenate([np.asarray(s.time, dtype=np.int64) for s in specs])
    order = np.argsort(time, kind="stable")
    panels = []
    for i, panel in enumerate(first.panels):
        series: dict[str, np.ndarray] = {}
        for label in panel.series:
            parts = []
            for s in specs:
                p = s.panels[i] if i < len(s.panels) else None
                got = p.series.get(label) if p is not None else None
                n = np.asarray(s.time).shape[0]
                parts.append(np.full(n, np.nan) if got is None else np.asarray(got, dtype=np.float64))
            series[label] = np.concatenate(parts)[order]
        panels.append(PlotPanel(series, panel.ylabel, panel.colors))
    title = first.title if len(specs) == 1 else f"{first.title} + {len(specs) - 1} more file(s)"
    return PlotSpec(time=time[order], panels=panels, title=title, size_px=first.size_px, dpi=first.dpi)


def day_png(definition: ProductDefinition, paths: list[Path]) -> bytes:
    """The PNG of the day figure of ``paths`` (one unit's files of ``definition``)."""
    from magfw.tools.plot import quicklook_spec, render_png

    specs = [quicklook_spec(p, size_px=SIZE_PX, definition=definition) for p in paths]
    return render_png(_joined(specs))
