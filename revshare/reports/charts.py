"""Charts for the HTML reports: matplotlib figures rendered to SVG text (see
:mod:`revshare.reports.chart_base` for the settings that make names safe and the bytes
reproducible).

The HTML report embeds each SVG as ``<img src="data:image/svg+xml;base64,...">``
(:func:`data_uri`): an SVG loaded as an image never runs script or loads anything, whatever its
text says, which is a second wall behind matplotlib's escaping.

Money by group is drawn as horizontal bars in small multiples (one panel per group, one bar per
structure), never as one colour per structure: two colours whatever the number of structures,
every name written horizontally, every panel with its own tick labels. Each chart says which
money it counts: *direct* (a group's own allocation) or *served* (direct plus a head-share of
the centre's slice and of any government account serving the group).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from .chart_base import (
    BAD,
    DIRECT,
    EXTRA,
    GOOD,
    data_uri,
    fit_label,
    label_inches,
    money_unit,
    render,
    short,
    style,
)
from .chart_series import coincident, fan_chart, frontier_chart, fund_chart

__all__ = [
    "coincident",
    "data_uri",
    "fan_chart",
    "frontier_chart",
    "fund_chart",
    "guarantee_bars",
    "lorenz_curves",
    "lorenz_points",
    "per_head_bars",
    "short",
    "surplus_bars",
]


def _grid(table: pd.DataFrame, column: str, structures: list[str], groups: list[str]) -> np.ndarray:
    """``column`` as a groups x structures array (NaN where a pair is missing)."""
    wide = table.pivot_table(index="group", columns="structure", values=column, aggfunc="first")
    return wide.reindex(index=groups, columns=structures).to_numpy(dtype=float)


def _bar_panels(
    structures: list[str],
    groups: list[str],
    base: np.ndarray,
    extra: np.ndarray | None,
    colours: np.ndarray | str,
    *,
    xlabel: str,
    group_label: str,
    legend: list[Patch],
) -> Figure:
    """Horizontal bars: with one structure a single panel, one bar per group; with several, one
    panel per group, one bar per structure, every panel with its own labels. ``base`` (and the
    lighter ``extra`` stacked on it) are groups x structures; ``colours`` is one colour for all
    bars or an array of the same shape."""
    single = len(structures) == 1
    panels = [("", groups, 0)] if single else [(g, structures, i) for i, g in enumerate(groups)]
    ncols = 1 if single else min(3, len(panels))
    nrows = -(-len(panels) // ncols)
    bars = len(groups) if single else len(structures)
    labels = [short(n) for n in (groups if single else structures)]
    width = 2.8 + label_inches(labels)
    height = 0.24 * bars + 0.9
    fig = Figure(figsize=(width * ncols, height * nrows + 0.5), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True)
    colour_grid = np.broadcast_to(np.asarray(colours, dtype=object), base.shape)
    for ax, (title, names, i) in zip(axes.flat, panels, strict=False):
        y = np.arange(len(names))
        values = base[:, 0] if single else base[i]
        colour = colour_grid[:, 0] if single else colour_grid[i]
        ax.barh(y, np.nan_to_num(values), 0.7, color=list(colour))
        if extra is not None:
            more = extra[:, 0] if single else extra[i]
            ax.barh(y, np.nan_to_num(more), 0.7, left=np.nan_to_num(values), color=EXTRA)
        ax.set_yticks(y, [short(n) for n in names])
        ax.invert_yaxis()
        ax.axvline(0, color="0.3", linewidth=0.6)
        ax.grid(axis="x", linewidth=0.4, alpha=0.5)
        ax.set_axisbelow(True)
        ax.xaxis.set_tick_params(labelbottom=True)
        ax.set_xlabel(fit_label(xlabel, width - 0.4))
        if title:
            ax.set_title(f"{group_label} {short(title)}", fontsize=9, loc="left")
        elif single:
            ax.set_ylabel(group_label)
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_visible(False)
    fig.legend(handles=legend, loc="outside upper left", ncols=len(legend))
    return fig


def per_head_bars(table: pd.DataFrame, *, group_label: str) -> str:
    """Money per head a year of each ``group`` under each ``structure``: the direct allocation
    (dark) and what the served view adds, the centre's slice a head (light).

    ``table`` has ``structure, group, usd_per_head_direct, usd_per_head_with_centre``; the order
    of first appearance is kept.
    """
    return _stacked_bars(
        table,
        ("usd_per_head_direct", "direct: the group's own allocation"),
        ("usd_per_head_with_centre", "+ centre's slice a head (whole bar: served)"),
        group_label=group_label,
    )


def guarantee_bars(table: pd.DataFrame, *, group_label: str) -> str:
    """Per group and structure, money a head guaranteed under a hostile centre (dark) and what a
    fair centre adds (light): the light part is the exposure.

    ``table`` has ``structure, group, fair_per_head, guaranteed_per_head``.
    """
    return _stacked_bars(
        table,
        ("guaranteed_per_head", "guaranteed under a hostile centre"),
        ("fair_per_head", "exposure: what a fair centre adds (served)"),
        group_label=group_label,
    )


def _stacked_bars(
    table: pd.DataFrame, base: tuple[str, str], whole: tuple[str, str], *, group_label: str
) -> str:
    """Bars of the ``base`` column (dark) with, on top, what the ``whole`` column adds (light),
    each a ``(column, legend label)``; a legend swatch only for what some bar shows."""
    structures = list(dict.fromkeys(table["structure"]))
    groups = list(dict.fromkeys(table["group"]))
    low = _grid(table, base[0], structures, groups)
    extra = np.maximum(_grid(table, whole[0], structures, groups) - low, 0.0)
    shown = np.nansum(extra) > 0
    legend = [Patch(facecolor=DIRECT, label=base[1])]
    if shown:
        legend.append(Patch(facecolor=EXTRA, label=whole[1]))
    return render(
        lambda: _bar_panels(
            structures,
            groups,
            low,
            extra if shown else None,
            DIRECT,
            xlabel="USD a head a year",
            group_label=group_label,
            legend=legend,
        )
    )


def surplus_bars(table: pd.DataFrame) -> str:
    """Each bloc's surplus over secession (its direct money minus its outside option), green
    where it accepts and red where it would do better seceding.

    ``table`` has ``structure, group, surplus_over_secession_usd`` and ``accepts`` (without
    it, a bloc accepts when its surplus is not negative).
    """
    structures = list(dict.fromkeys(table["structure"]))
    groups = list(dict.fromkeys(table["group"]))
    factor, unit = money_unit(table["surplus_over_secession_usd"].to_numpy(dtype=float))
    surplus = _grid(table, "surplus_over_secession_usd", structures, groups) / factor
    if "accepts" in table:
        accepts = _grid(table.assign(a=table["accepts"].astype(float)), "a", structures, groups)
    else:
        accepts = (surplus >= 0).astype(float)
    colours = np.where(accepts > 0.5, GOOD, BAD)
    legend = [
        Patch(facecolor=colour, label=label)
        for colour, label in (
            (GOOD, "accepts: direct money at least its outside option"),
            (BAD, "refuses: better off seceding"),
        )
        if (colours == colour).any()  # a swatch only for what some bar shows
    ]
    return render(
        lambda: _bar_panels(
            structures,
            groups,
            surplus,
            None,
            colours,
            xlabel=f"surplus over secession, direct money ({unit} a year)",
            group_label="bloc",
            legend=legend,
        )
    )


def lorenz_points(per_head: np.ndarray, population: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The Lorenz curve of money per head: cumulative population share against cumulative
    money share, poorest first, starting at (0, 0). Empty when nobody receives anything."""
    v, w = np.asarray(per_head, float), np.asarray(population, float)
    money = v * w
    if money.sum() <= 0 or w.sum() <= 0:
        return np.zeros(0), np.zeros(0)
    order = np.argsort(v, kind="stable")
    x = np.concatenate([[0.0], np.cumsum(w[order]) / w.sum()])
    y = np.concatenate([[0.0], np.cumsum(money[order]) / money.sum()])
    return x, y


def lorenz_curves(curves: Mapping[str, tuple[np.ndarray, np.ndarray, float]]) -> str:
    """Lorenz curves of direct money per head, one per structure; structures whose curves are
    the same share one line and one legend entry ("a = b").

    ``curves`` maps a structure's name to ``(per_head, population, gini)`` over the cells.
    """
    points = {n: lorenz_points(*curves[n][:2]) for n in curves}
    drawn = {n: p for n, p in points.items() if p[0].size}
    same = coincident({n: np.concatenate(p) for n, p in drawn.items()})

    def draw() -> Figure:
        fig = Figure(figsize=(7.4, 4.6), layout="constrained")
        ax = fig.add_subplot()
        ax.plot([0, 1], [0, 1], color="0.6", linestyle="--", linewidth=0.8, label="equal per head")
        for k, names in enumerate(same):
            x, y = drawn[names[0]]
            colour, line = style(k)
            label = " = ".join(short(n, 20) for n in names)
            ax.plot(
                x,
                y,
                color=colour,
                linestyle=line,
                linewidth=1.5,
                label=f"{label} (Gini {curves[names[0]][2]:.3f})",
            )
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal")
        ax.set_xlabel("share of population, poorest first")
        ax.set_ylabel("share of direct money (centre's slice not counted)")
        fig.legend(loc="outside right upper")
        ax.grid(linewidth=0.4, alpha=0.5)
        return fig

    return render(draw)
