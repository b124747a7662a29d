"""A check a reviewer makes on a figure, as code (issue 18, item 8): a legend must not cover data."""
from __future__ import annotations

import numpy as np


def _data_points(ax) -> np.ndarray:
    """Display coordinates of the plotted data: every marker, and points every few pixels along every
    drawn line segment (a curve crossing the legend between two vertices counts), plus scatter/errorbar
    collections."""
    pts = []
    for line in ax.get_lines():
        xy = np.column_stack([np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)])
        xy = _visible(ax, xy)
        if not xy.size:
            continue
        d = line.get_transform().transform(xy)
        pts.append(d)
        if line.get_linestyle() not in ("None", "none", "", " ") and len(d) > 1:
            t = np.linspace(0, 1, 40)[None, :, None]
            pts.append((d[:-1, None, :] * (1 - t) + d[1:, None, :] * t).reshape(-1, 2))
    for coll in ax.collections:
        off = np.asarray(coll.get_offsets(), float)
        if off.ndim == 2 and off.size:
            pts.append(ax.transData.transform(_visible(ax, off)))
    for patch in ax.patches:  # bars: a grid over each bar's drawn extent
        box = patch.get_window_extent()
        if box.width > 0 and box.height > 0:
            gx, gy = np.meshgrid(np.linspace(box.x0, box.x1, 5), np.linspace(box.y0, box.y1, 9))
            pts.append(np.column_stack([gx.ravel(), gy.ravel()]))
    pts = [p for p in pts if p.size]
    return np.concatenate(pts) if pts else np.empty((0, 2))


def _visible(ax, xy: np.ndarray) -> np.ndarray:
    keep = np.all(np.isfinite(xy), axis=1)
    if ax.get_xscale() == "log":
        keep &= xy[:, 0] > 0
    if ax.get_yscale() == "log":
        keep &= xy[:, 1] > 0
    return xy[keep]


def legend_overlaps(fig) -> list[str]:
    """Per axes whose legend covers at least one data point: '<title>: n points under the legend'."""
    fig.canvas.draw()
    out = []
    for ax in fig.axes:
        axes_with_data = [ax] + [o for o in fig.axes if o is not ax and o.bbox.bounds == ax.bbox.bounds]
        leg = ax.get_legend()
        if leg is None:
            continue
        box = leg.get_window_extent()
        n = 0
        for a in axes_with_data:  # a twinned axis shares the panel: its curves count too
            pts = _data_points(a)
            n += int(np.sum((pts[:, 0] >= box.x0) & (pts[:, 0] <= box.x1) & (pts[:, 1] >= box.y0)
                            & (pts[:, 1] <= box.y1)))
        if n:
            out.append(f"{ax.get_title() or 'axes'}: {n} data points under the legend")
    return out
