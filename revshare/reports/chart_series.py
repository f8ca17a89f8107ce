"""Charts of series: the sweep's fan chart and frontier, and the fund over the periods.

Every panel has its own tick labels and axis titles, panels are laid out by matplotlib's
constrained layout (titles never run into the row above), bands are explained in the legend,
and series that coincide are drawn so both stay visible: each later series thinner on top of
the earlier, and :func:`coincident` names them for the caption.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from .chart_base import money_unit, render, short, style


def coincident(series: Mapping[str, np.ndarray]) -> list[tuple[str, ...]]:
    """The series grouped by equal values (to a part in a million), in order of first
    appearance: ``[("a", "c"), ("b",)]`` when ``a`` and ``c`` are the same."""
    out: list[list[str]] = []
    for name, values in series.items():
        v = np.asarray(values, dtype=float)
        for names in out:
            w = np.asarray(series[names[0]], dtype=float)
            if v.shape == w.shape and np.allclose(v, w, rtol=1e-6, atol=1e-9, equal_nan=True):
                names.append(name)
                break
        else:
            out.append([name])
    return [tuple(n) for n in out]


def _width(k: int) -> float:
    """Each later series a little thinner, so one drawn over an equal one leaves it visible."""
    return max(2.8 - 0.5 * k, 1.0)


def fan_chart(results: pd.DataFrame, groups: Sequence[str], *, bins: int = 24) -> str:
    """Money per head against the oil price, one panel per structure and one colour per group:
    the median line and the 5-95% and 25-75% bands of the scenarios in each price bin.

    ``results`` has ``structure, price`` and one column per group (money per head, named
    ``kind:name``); only solved scenarios should be passed.
    """
    structures = list(dict.fromkeys(results["structure"]))
    ncols = min(3, max(len(structures), 1))
    nrows = -(-len(structures) // ncols)

    def draw() -> Figure:
        fig = Figure(figsize=(4.0 * ncols, 3.1 * nrows + 0.7), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True)
        for ax, name in zip(axes.flat, structures, strict=False):
            part = results[results["structure"] == name]
            price = part["price"].to_numpy(dtype=float)
            edges = np.unique(np.quantile(price, np.linspace(0, 1, bins + 1)))
            where = np.clip(
                np.searchsorted(edges, price, side="right") - 1, 0, max(len(edges) - 2, 0)
            )
            for k, group in enumerate(groups):
                colour, line = style(k)
                values = part[group].to_numpy(dtype=float)
                stats = [
                    (
                        price[where == b].mean(),
                        *np.percentile(values[where == b], (5, 25, 50, 75, 95)),
                    )
                    for b in np.unique(where)
                ]
                x, p5, p25, p50, p75, p95 = (np.array(s) for s in zip(*stats, strict=True))
                ax.fill_between(x, p5, p95, color=colour, alpha=0.12, linewidth=0)
                ax.fill_between(x, p25, p75, color=colour, alpha=0.25, linewidth=0)
                ax.plot(x, p50, color=colour, linestyle=line, linewidth=_width(k))
            ax.set_title(short(name, 40), fontsize=9, loc="left")
            ax.grid(linewidth=0.4, alpha=0.5)
            ax.xaxis.set_tick_params(labelbottom=True)
            ax.set_xlabel("oil price (USD a barrel)")
            ax.set_ylabel("direct USD a head a year")
        for ax in list(axes.flat)[len(structures) :]:
            ax.set_visible(False)
        handles: list[Line2D | Patch] = []
        for k, group in enumerate(groups):
            colour, line = style(k)
            handles.append(
                Line2D(
                    [],
                    [],
                    color=colour,
                    linestyle=line,
                    linewidth=_width(k),
                    label=short(group.split(":", 1)[-1]),
                )
            )
        handles += [
            Line2D([], [], color="0.3", linewidth=1.5, label="median of the scenarios"),
            Patch(facecolor="0.3", alpha=0.25, label="middle half (25-75%)"),
            Patch(facecolor="0.3", alpha=0.12, label="9 in 10 scenarios (5-95%)"),
        ]
        fig.legend(handles=handles, loc="outside right upper")
        return fig

    return render(draw)


def frontier_chart(points: pd.DataFrame, parameter: str) -> str:
    """The autonomy-fairness frontier of a parameter grid: producing regions' retention (x,
    autonomy) against the Gini index of direct money per head (y, lower is fairer), one line per
    structure through its grid points, from the parameter's lowest value (hollow circle) to
    its highest (filled square).

    ``points`` has ``structure, <parameter>, producing_retention, gini`` (medians over the
    scenarios at each point).
    """
    structures = list(dict.fromkeys(points["structure"]))

    def draw() -> Figure:
        fig = Figure(figsize=(7.6, 4.6), layout="constrained")
        ax = fig.add_subplot()
        handles: list[Line2D] = []
        for k, name in enumerate(structures):
            colour, line = style(k)
            part = points[points["structure"] == name].sort_values(parameter)
            x, y = part["producing_retention"].to_numpy(), part["gini"].to_numpy()
            ax.plot(
                x, y, color=colour, linestyle=line, linewidth=_width(k), marker="o", markersize=3
            )
            ax.plot(
                x[:1],
                y[:1],
                marker="o",
                markersize=8,
                markerfacecolor="white",
                markeredgecolor=colour,
                linestyle="none",
            )
            ax.plot(x[-1:], y[-1:], marker="s", markersize=7, color=colour, linestyle="none")
            handles.append(
                Line2D([], [], color=colour, linestyle=line, linewidth=_width(k), label=short(name))
            )
        lo, hi = points[parameter].min(), points[parameter].max()
        handles += [
            Line2D(
                [],
                [],
                marker="o",
                markersize=8,
                markerfacecolor="white",
                markeredgecolor="0.3",
                linestyle="none",
                label=f"{short(parameter)} = {lo:g}",
            ),
            Line2D(
                [],
                [],
                marker="s",
                markersize=7,
                color="0.3",
                linestyle="none",
                label=f"{short(parameter)} = {hi:g}",
            ),
        ]
        ax.set_xlabel("producing regions' retention of their own revenue (autonomy)")
        ax.set_ylabel("Gini of direct money per head (lower is fairer)")
        fig.legend(handles=handles, loc="outside right upper")
        ax.grid(linewidth=0.4, alpha=0.5)
        return fig

    return render(draw)


def fund_chart(flows: pd.DataFrame, periods: pd.DataFrame, groups: Sequence[str]) -> str:
    """Two panels over the periods: the fund's balance (line) with its deposits and withdrawals
    (bars), and direct money per head a year of each group (lines; ``periods`` has ``period``
    and one column per group)."""
    has_fund = "balance_usd" in flows

    def draw() -> Figure:
        fig = Figure(figsize=(9.0, 6.6 if has_fund else 3.6), layout="constrained")
        axes = fig.subplots(2 if has_fund else 1, 1, sharex=True, squeeze=False)[:, 0]
        x = flows["period"].to_numpy()
        if has_fund:
            ax = axes[0]
            factor, unit = money_unit(flows["balance_usd"].to_numpy(dtype=float))
            ax.bar(x, flows["deposit_usd"] / factor, color="#009E73", width=0.8, label="deposit")
            ax.bar(
                x, -flows["withdrawal_usd"] / factor, color="#D55E00", width=0.8, label="withdrawal"
            )
            ax.plot(x, flows["balance_usd"] / factor, color="0.15", linewidth=1.5, label="balance")
            ax.axhline(0, color="0.4", linewidth=0.6)
            ax.set_ylabel(f"{unit} in the period")
            ax.set_title("stabilisation fund", fontsize=9, loc="left")
            ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
            ax.grid(linewidth=0.4, alpha=0.5)
            ax.xaxis.set_tick_params(labelbottom=True)
        ax = axes[-1]
        for k, group in enumerate(groups):
            colour, line = style(k)
            ax.plot(
                x,
                periods[group],
                color=colour,
                linestyle=line,
                linewidth=_width(k),
                label=short(group.split(":", 1)[-1]),
            )
        ax.set_xlabel("period")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("direct USD a head a year")
        ax.set_title("direct money per head (at a year's rate)", fontsize=9, loc="left")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
        ax.grid(linewidth=0.4, alpha=0.5)
        return fig

    return render(draw)
