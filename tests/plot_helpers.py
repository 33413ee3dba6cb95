"""What the quicklook tests measure in a drawn figure."""

from __future__ import annotations

import itertools
from typing import Any


def overlaps(fig: Any) -> list[str]:
    """Pairs of labels (y labels, tick labels, legends, the title) of different panels, or of
    a panel and the title, whose boxes intersect."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes: list[tuple[str, object]] = []
    if fig._suptitle is not None:  # matplotlib keeps the suptitle here; no public getter
        boxes.append(("title", fig._suptitle.get_window_extent(renderer)))
    for i, ax in enumerate(fig.axes):
        if ax.yaxis.label.get_text():
            boxes.append((f"panel {i} y label", ax.yaxis.label.get_window_extent(renderer)))
        lo, hi = sorted(ax.get_ylim())
        for loc, tick in zip(ax.yaxis.get_majorticklocs(), ax.yaxis.get_ticklabels(), strict=True):
            if lo <= loc <= hi and tick.get_visible() and tick.get_text():  # drawn ones only
                boxes.append((f"panel {i} tick {tick.get_text()}", tick.get_window_extent(renderer)))
        legend = ax.get_legend()
        if legend is not None:
            boxes.append((f"panel {i} legend", legend.get_window_extent(renderer)))
    found = []
    for (na, a), (nb, b) in itertools.combinations(boxes, 2):
        if na.split(" ")[:2] == nb.split(" ")[:2]:
            continue  # one panel's own labels (a tick under its legend is not a clash)
        if a.overlaps(b) and a.width > 0 and b.width > 0:
            found.append(f"{na} / {nb}")
    return found
