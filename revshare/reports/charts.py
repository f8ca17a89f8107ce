"""Charts for the HTML reports: matplotlib figures rendered to SVG text, and SVG to data URIs.

Figures are built with :class:`matplotlib.figure.Figure` directly, never through ``pyplot``, so no
global figure registry or interactive backend is involved; SVG output needs no backend choice.

Names from the data reach these charts as tick labels and legend entries. Three settings make
that safe and faithful:

- ``text.parse_math`` off: a name with ``$`` signs is shown as written, never parsed as
  mathtext (which could fail on it).
- ``svg.fonttype = "none"``: text stays text (``<text>`` elements, XML-escaped by matplotlib), so
  the browser shapes Arabic and applies the bidirectional algorithm; matplotlib's own glyph
  layout does neither and would print Arabic letters unjoined and backwards.
- ``svg.hashsalt`` fixed and no date in the metadata: the same data gives the same bytes.

The HTML report embeds each SVG as ``<img src="data:image/svg+xml;base64,...">``
(:func:`data_uri`): an SVG loaded as an image never runs script or loads anything, whatever its
text says, which is a second wall behind matplotlib's escaping.
"""

from __future__ import annotations

import base64
import io
import warnings
from collections.abc import Callable, Mapping, Sequence

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

LABEL_CHARS = 28


def data_uri(svg: str) -> str:
    """An SVG document as a base64 ``data:`` URI, for an ``<img src>``."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def short(name: str, limit: int = LABEL_CHARS) -> str:
    """A label cut to ``limit`` characters with an ellipsis; the tables carry the full name."""
    flat = " ".join(str(name).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "\u2026"


def _render(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    return buf.getvalue().decode("utf-8")


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    # No layout engine: ``bbox_inches="tight"`` at save time makes room for the labels and the
    # legend outside the axes, with one drawing pass fewer than constrained layout.
    fig = Figure(figsize=(width, height))
    return fig, fig.add_subplot()


def _colours(n: int) -> list[tuple[float, float, float, float]]:
    cmap = mpl.colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def _light(colour: tuple[float, float, float, float]) -> tuple[float, float, float]:
    """The colour blended a third of the way from white, opaque, for the centre's part."""
    r, g, b = colour[:3]
    return (0.65 + 0.35 * r, 0.65 + 0.35 * g, 0.65 + 0.35 * b)


def _money_unit(values: np.ndarray) -> tuple[float, str]:
    biggest = float(np.max(np.abs(values))) if values.size else 0.0
    for factor, label in ((1e9, "billion USD"), (1e6, "million USD"), (1e3, "thousand USD")):
        if biggest >= factor:
            return factor, label
    return 1.0, "USD"


def _group_axis(ax: Axes, groups: Sequence[str]) -> None:
    labels = [short(g) for g in groups]
    tilt = len(groups) > 6 or max((len(s) for s in labels), default=0) > 12
    ax.set_xticks(
        np.arange(len(groups)),
        labels,
        rotation=35 if tilt else 0,
        ha="right" if tilt else "center",
        rotation_mode="anchor",
    )
    ax.set_xlim(-0.6, len(groups) - 0.4)


def _size(groups: int, series: int) -> float:
    return float(np.clip(3.0 + groups * (0.22 * series + 0.35), 6.0, 15.0))


def _with_settings(draw: Callable[[], Figure]) -> str:
    with (
        mpl.rc_context(
            {
                "svg.fonttype": "none",
                "svg.hashsalt": "revshare",
                "text.parse_math": False,
                "font.size": 9.0,
                "axes.spines.top": False,
                "axes.spines.right": False,
            }
        ),
        warnings.catch_warnings(),
    ):
        # A glyph missing from matplotlib's font only affects its layout estimate: the text is
        # written as text and the browser draws it with its own fonts.
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font")
        return _render(draw())


def per_head_bars(table: pd.DataFrame, *, group_label: str) -> str:
    """Grouped bars of money per head: one group of bars per ``group``, one bar per
    ``structure``; the solid part is the direct allocation, the hatched part on top the
    centre's slice spread per head.

    ``table`` has ``structure, group, usd_per_head_direct, usd_per_head_with_centre``; the order
    of first appearance is kept.
    """
    structures = list(dict.fromkeys(table["structure"]))
    groups = list(dict.fromkeys(table["group"]))

    def draw() -> Figure:
        fig, ax = _figure(_size(len(groups), len(structures)), 4.2)
        width = 0.8 / max(len(structures), 1)
        x = np.arange(len(groups))
        for k, (name, colour) in enumerate(zip(structures, _colours(len(structures)), strict=True)):
            rows = table[table["structure"] == name].set_index("group").reindex(groups)
            direct = rows["usd_per_head_direct"].to_numpy(dtype=float)
            centre = rows["usd_per_head_with_centre"].to_numpy(dtype=float) - direct
            pos = x - 0.4 + width * (k + 0.5)
            ax.bar(pos, direct, width, color=colour, label=short(name))
            # Only bars with a centre's part: a zero-height bar at the top of a direct bar would
            # pin the axis limit there.
            some = centre > 0
            ax.bar(
                pos[some],
                centre[some],
                width,
                bottom=direct[some],
                facecolor=_light(colour),
                hatch="///",
                edgecolor=colour,  # the hatch lines' colour
                linewidth=0,
            )
        _group_axis(ax, groups)
        ax.set_xlabel(group_label)
        ax.set_ylabel("USD per head a year")
        handles = ax.get_legend_handles_labels()[0]
        handles += [
            Patch(facecolor="0.45", label="direct allocation"),
            Patch(
                facecolor="0.85", hatch="///", edgecolor="0.45", label="+ centre's slice per head"
            ),
        ]
        ax.legend(
            handles=handles, fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0)
        )
        ax.grid(axis="y", linewidth=0.4, alpha=0.5)
        ax.set_axisbelow(True)
        return fig

    return _with_settings(draw)


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
    """Lorenz curves of direct money per head, one per structure.

    ``curves`` maps a structure's name to ``(per_head, population, gini)`` over the cells.
    """
    names = list(curves)

    def draw() -> Figure:
        fig, ax = _figure(6.8, 4.6)
        ax.plot([0, 1], [0, 1], color="0.6", linestyle="--", linewidth=0.8, label="equal per head")
        for name, colour in zip(names, _colours(len(names)), strict=True):
            per_head, population, gini = curves[name]
            x, y = lorenz_points(per_head, population)
            if x.size:
                ax.plot(x, y, color=colour, linewidth=1.4, label=f"{short(name)} (Gini {gini:.3f})")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal")
        ax.set_xlabel("share of population, poorest first")
        ax.set_ylabel("share of directly allocated money")
        ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        ax.grid(linewidth=0.4, alpha=0.5)
        return fig

    return _with_settings(draw)


def surplus_bars(table: pd.DataFrame) -> str:
    """Each bloc's surplus over secession (money in the union minus its outside option), one
    bar per structure; a bar below zero is a bloc that would do better alone.

    ``table`` has ``structure, group, surplus_over_secession_usd``.
    """
    structures = list(dict.fromkeys(table["structure"]))
    groups = list(dict.fromkeys(table["group"]))
    factor, unit = _money_unit(table["surplus_over_secession_usd"].to_numpy(dtype=float))

    def draw() -> Figure:
        fig, ax = _figure(_size(len(groups), len(structures)), 4.0)
        width = 0.8 / max(len(structures), 1)
        x = np.arange(len(groups))
        for k, (name, colour) in enumerate(zip(structures, _colours(len(structures)), strict=True)):
            rows = table[table["structure"] == name].set_index("group").reindex(groups)
            surplus = rows["surplus_over_secession_usd"].to_numpy(dtype=float) / factor
            ax.bar(x - 0.4 + width * (k + 0.5), surplus, width, color=colour, label=short(name))
        ax.axhline(0, color="0.2", linewidth=0.8)
        _group_axis(ax, groups)
        ax.set_xlabel("bloc (below zero: better off seceding)")
        ax.set_ylabel(f"surplus over secession ({unit} a year)")
        ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        ax.grid(axis="y", linewidth=0.4, alpha=0.5)
        ax.set_axisbelow(True)
        return fig

    return _with_settings(draw)


def fan_chart(results: pd.DataFrame, groups: Sequence[str], *, bins: int = 24) -> str:
    """Money per head against the oil price, one panel per structure and one colour per group:
    the median line and the 5-95% and 25-75% bands of the scenarios in each price bin.

    ``results`` has ``structure, price`` and one column per group (money per head); only solved
    scenarios should be passed.
    """
    structures = list(dict.fromkeys(results["structure"]))
    ncols = min(3, max(len(structures), 1))
    nrows = -(-len(structures) // ncols)

    def draw() -> Figure:
        fig = Figure(figsize=(4.2 * ncols + 1.8, 3.0 * nrows))
        axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True)
        colours = _colours(len(groups))
        for ax, name in zip(axes.flat, structures, strict=False):
            part = results[results["structure"] == name]
            price = part["price"].to_numpy(dtype=float)
            edges = np.unique(np.quantile(price, np.linspace(0, 1, bins + 1)))
            where = np.clip(
                np.searchsorted(edges, price, side="right") - 1, 0, max(len(edges) - 2, 0)
            )
            for group, colour in zip(groups, colours, strict=True):
                values = part[group].to_numpy(dtype=float)
                stats = [
                    (
                        price[where == b].mean(),
                        *np.percentile(values[where == b], (5, 25, 50, 75, 95)),
                    )
                    for b in np.unique(where)
                ]
                x, p5, p25, p50, p75, p95 = (np.array(s) for s in zip(*stats, strict=True))
                ax.fill_between(x, p5, p95, color=colour, alpha=0.15, linewidth=0)
                ax.fill_between(x, p25, p75, color=colour, alpha=0.3, linewidth=0)
                ax.plot(x, p50, color=colour, linewidth=1.3, label=short(group.split(":", 1)[1]))
            ax.set_title(short(name, 40), fontsize=9)
            ax.grid(linewidth=0.4, alpha=0.5)
            ax.set_xlabel("oil price (USD a barrel)")
            ax.set_ylabel("USD a head a year")
        for ax in list(axes.flat)[len(structures) :]:
            ax.set_visible(False)
        fig.legend(
            *axes.flat[0].get_legend_handles_labels(),
            fontsize=8,
            frameon=False,
            loc="upper left",
            bbox_to_anchor=(1.0, 0.95),
        )
        return fig

    return _with_settings(draw)


def frontier_chart(points: pd.DataFrame, parameter: str) -> str:
    """The autonomy-fairness frontier of a parameter grid: producing regions' retention (x,
    autonomy) against the Gini index of money per head (y, lower is fairer), one line per
    structure through its grid points, each point labelled with the parameter's value.

    ``points`` has ``structure, <parameter>, producing_retention, gini`` (medians over the
    scenarios at each point).
    """
    structures = list(dict.fromkeys(points["structure"]))

    def draw() -> Figure:
        fig, ax = _figure(7.0, 4.6)
        for name, colour in zip(structures, _colours(len(structures)), strict=True):
            part = points[points["structure"] == name].sort_values(parameter)
            ax.plot(
                part["producing_retention"],
                part["gini"],
                marker="o",
                markersize=3.5,
                color=colour,
                linewidth=1.2,
                label=short(name),
            )
            for _, row in part.iloc[:: max(1, len(part) // 6)].iterrows():
                ax.annotate(
                    f"{row[parameter]:g}",
                    (row["producing_retention"], row["gini"]),
                    textcoords="offset points",
                    xytext=(4, 3),
                    fontsize=7,
                    color=colour,
                )
        ax.set_xlabel("producing regions' retention of their own revenue (autonomy)")
        ax.set_ylabel("Gini index of money per head (lower is fairer)")
        ax.set_title(f"labels: {short(parameter)}", fontsize=8, loc="left")
        ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        ax.grid(linewidth=0.4, alpha=0.5)
        return fig

    return _with_settings(draw)


def fund_chart(flows: pd.DataFrame, periods: pd.DataFrame, groups: Sequence[str]) -> str:
    """Two panels over the periods: the fund's balance (line) with its deposits and withdrawals
    (bars), and money per head a year of each group (lines; ``periods`` has ``period`` and one
    column per group)."""
    has_fund = "balance_usd" in flows

    def draw() -> Figure:
        fig = Figure(figsize=(9.0, 6.4 if has_fund else 3.4))
        axes = fig.subplots(2 if has_fund else 1, 1, sharex=True, squeeze=False)[:, 0]
        x = flows["period"].to_numpy()
        if has_fund:
            ax = axes[0]
            factor, unit = _money_unit(flows["balance_usd"].to_numpy(dtype=float))
            ax.bar(x, flows["deposit_usd"] / factor, color="#4c956c", width=0.8, label="deposit")
            ax.bar(
                x, -flows["withdrawal_usd"] / factor, color="#d1495b", width=0.8, label="withdrawal"
            )
            ax.plot(x, flows["balance_usd"] / factor, color="0.15", linewidth=1.5, label="balance")
            ax.axhline(0, color="0.4", linewidth=0.6)
            ax.set_ylabel(unit)
            ax.set_title("stabilisation fund", fontsize=9, loc="left")
            ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
            ax.grid(linewidth=0.4, alpha=0.5)
        ax = axes[-1]
        for group, colour in zip(groups, _colours(len(groups)), strict=True):
            ax.plot(
                x, periods[group], color=colour, linewidth=1.3, label=short(group.split(":", 1)[1])
            )
        ax.set_xlabel("period")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("USD a head a year")
        ax.set_title("money per head (a year's rate)", fontsize=9, loc="left")
        ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        ax.grid(linewidth=0.4, alpha=0.5)
        return fig

    return _with_settings(draw)


def guarantee_bars(table: pd.DataFrame, *, group_label: str) -> str:
    """Per group, one pair of bars per structure: money a head from a fair centre (outline) and
    guaranteed under a hostile one (solid); the gap between them is the exposure.

    ``table`` has ``structure, group, fair_per_head, guaranteed_per_head``.
    """
    structures = list(dict.fromkeys(table["structure"]))
    groups = list(dict.fromkeys(table["group"]))

    def draw() -> Figure:
        fig, ax = _figure(_size(len(groups), len(structures)), 4.2)
        width = 0.8 / max(len(structures), 1)
        x = np.arange(len(groups))
        for k, (name, colour) in enumerate(zip(structures, _colours(len(structures)), strict=True)):
            rows = table[table["structure"] == name].set_index("group").reindex(groups)
            pos = x - 0.4 + width * (k + 0.5)
            fair = rows["fair_per_head"].to_numpy(dtype=float)
            guaranteed = rows["guaranteed_per_head"].to_numpy(dtype=float)
            ax.bar(pos, fair, width, facecolor="none", edgecolor=colour, linewidth=1.2)
            ax.bar(pos, guaranteed, width, color=colour, label=short(name))
        _group_axis(ax, groups)
        ax.set_xlabel(group_label)
        ax.set_ylabel("USD per head a year")
        handles = ax.get_legend_handles_labels()[0]
        handles += [
            Patch(facecolor="0.45", label="guaranteed (hostile centre)"),
            Patch(facecolor="none", edgecolor="0.45", label="fair centre (outline)"),
        ]
        ax.legend(
            handles=handles, fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0)
        )
        ax.grid(axis="y", linewidth=0.4, alpha=0.5)
        ax.set_axisbelow(True)
        return fig

    return _with_settings(draw)
