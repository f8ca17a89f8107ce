"""Reports of a multi-period allocation: the periods table, the money per cell and period, the
fund's flows, a chart, Markdown and HTML."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pandas as pd

from ..analyses.compare import timestamp
from ..analyses.periods import PeriodAllocation
from ..atomic import plain
from . import charts
from .documents import SCHEMA_VERSION, envelope
from .html import _ENV, Chart
from .safe import frame_csv, md_cell
from .workbook import write_report_bundle

PERIOD_FILES = ("periods.csv", "cells_by_period.csv", "summary.json", "report.md", "report.html")
MONEY_COLUMNS = (
    "revenue_usd",
    "deposit_usd",
    "withdrawal_usd",
    "balance_usd",
    "distributable_usd",
    "centre_usd",
)
"""The fund's flows: USD in the period (a balance: at the period's end)."""
PER_HEAD = ":usd_per_head_a_year"
"""The suffix of each bloc's and faction's column: its cells' own money, USD a head a year."""
# The terminal's headers: the flows in million USD in the period, the price in USD a barrel.
FLOW_HEADERS = {
    "period": ("period", ""),
    "price_usd_per_bbl": ("price", "USD/bbl"),
    "revenue_usd": ("revenue", "M USD"),
    "deposit_usd": ("to fund", "M USD"),
    "withdrawal_usd": ("from fund", "M USD"),
    "balance_usd": ("balance", "M USD"),
    "distributable_usd": ("shared", "M USD"),
    "centre_usd": ("centre", "M USD"),
}
WIDTH = 96
"""The terminal tables' width at most (a group table wider than this is split)."""


def periods_table(p: PeriodAllocation) -> pd.DataFrame:
    """One row per period: the price (USD a barrel), the period's length in years, the fund's
    flows (USD in the period) and each bloc's and faction's money (USD a head a year)."""
    groups = p.periods.drop(columns=["period", "centre_usd"])
    groups = groups.rename(
        columns={c: c + PER_HEAD for c in groups if c.startswith(("bloc:", "faction:"))}
    )
    flows = p.flows.rename(columns={"price": "price_usd_per_bbl", "years": "years_per_period"})
    return pd.concat([flows.reset_index(drop=True), groups.reset_index(drop=True)], axis=1)


def period_length(years: pd.Series) -> str:
    """How long a period is, in words: "a year", "a month", or the lengths."""
    if len(years) and (years == years.iloc[0]).all():
        y = float(years.iloc[0])
        for length, words in ((1.0, "a year"), (1 / 12, "a month"), (0.25, "a quarter")):
            if abs(y - length) <= 1e-9:
                return words
        return f"{y:g} years"
    return "varying length (the years column)"


def smoothing_sentence(p: PeriodAllocation) -> str:
    """The smoothing measures as a sentence a reader needs no definition for."""
    s = p.smoothing
    low, drop = s["lowest_relative_to_average"], s["largest_drop_relative_to_average"]
    return (
        f"How steady the money is: in its leanest period, the cell hit hardest got {low:.0%} of "
        f"its own average money a head over the path (100% would be perfectly steady); the "
        f"largest fall from one period to the next was {drop:.0%} of a cell's average."
    )


def _fund_text(p: PeriodAllocation) -> str:
    fund = p.provenance.get("fund")
    if not fund:
        return "no stabilisation fund"
    bench = (
        f"benchmark {fund['benchmark_price']:g} USD a barrel"
        if fund["benchmark_price"] is not None
        else f"benchmark the {fund['window']}-period moving average price"
    )
    extra = []
    if fund["spend_rule"] is not None:
        extra.append(f"spends at most {fund['spend_rule']:.0%} of the balance a period")
    if fund["interest"]:
        extra.append(f"earns {fund['interest']:.1%} a year")
    how = (
        "withdrawals chosen to smooth each cell's money"
        if p.provenance.get("smooth")
        else "withdrawals keep distributable revenue at the target"
    )
    return "stabilisation fund: " + "; ".join([bench, *extra, how])


def period_charts(p: PeriodAllocation) -> list[Chart]:
    blocs = [c for c in p.periods.columns if c.startswith("bloc:")]
    return [
        Chart(
            "The fund and money per head over time",
            "Top: the fund's balance as a line, deposits as bars above zero and withdrawals below. "
            "Bottom: each bloc's money per head a year in each period.",
            charts.data_uri(charts.fund_chart(p.flows, p.periods, blocs)),
        )
    ]


def _label(column: str) -> str:
    """A column's header in Markdown and HTML, with its unit."""
    if column.endswith(PER_HEAD):
        kind, _, name = column.removesuffix(PER_HEAD).partition(":")
        return f"{name} ({kind}), USD a head a year"
    if column == "period":
        return "period"
    if column == "price_usd_per_bbl":
        return "price, USD/bbl"
    return f"{FLOW_HEADERS[column][0]}, USD in the period"


def _report_columns(t: pd.DataFrame, groups: tuple[str, ...]) -> list[str]:
    return [
        "period",
        "price_usd_per_bbl",
        *[c for c in MONEY_COLUMNS if c in t],
        *[c for c in t if c.endswith(PER_HEAD) and c.startswith(groups)],
    ]


def _title(p: PeriodAllocation, t: pd.DataFrame) -> str:
    span = f"{t['period'].iloc[0]} to {t['period'].iloc[-1]}" if len(t) else "no periods"
    return (
        f"{p.structure.name} over {len(t)} periods of {period_length(t['years_per_period'])} "
        f"each ({span})"
    )


def periods_markdown(p: PeriodAllocation) -> str:
    t = periods_table(p)
    cols = _report_columns(t, ("bloc:",))
    lines = [
        f"# {md_cell(_title(p, t))}",
        "",
        f"Verified in every period; {_fund_text(p)}. The fund's flows are USD in each period; "
        "each bloc's money is its cells' own, USD a head a year (the centre's slice not counted).",
        "",
        smoothing_sentence(p),
        "",
        "| " + " | ".join(md_cell(_label(c)) for c in cols) + " |",
        "|" + "---|" * len(cols),
    ]
    for _, row in t.iterrows():
        lines.append("| " + " | ".join(_fmt(c, row[c]) for c in cols) + " |")
    return "\n".join(lines) + "\n"


def _fmt(column: str, value: Any) -> str:
    if column == "period":
        return str(value)
    if column.endswith("_usd"):
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def periods_html(p: PeriodAllocation) -> str:
    t = periods_table(p)
    cols = _report_columns(t, ("bloc:", "faction:"))
    rows = [{_label(c): _fmt(c, r[c]) for c in cols} for _, r in t.iterrows()]
    return _ENV.get_template("periods.html.j2").render(
        structure=p.structure.name,
        flows=p.flows,
        verification=p.verification,
        smoothing=p.smoothing,
        fund_text=_fund_text(p),
        chart_list=period_charts(p),
        columns=[_label(c) for c in cols],
        rows=rows,
        generated_at=timestamp(),
        solver=p.provenance.get("solver", ""),
        inputs=sorted(dict(p.provenance.get("inputs", {})).items()),
    )


def periods_document(p: PeriodAllocation) -> dict[str, Any]:
    """The whole result as a JSON-ready document, in the command line's envelope."""
    t = periods_table(p)
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "periods",
        "dataset": str(p.provenance.get("dataset", "")),
        "structure": p.structure.name,
        "generated_at": timestamp(),
        "units": {
            "flows": "USD in the period (balance_usd: at its end)",
            "groups": "USD a head a year, the cells' own money (the centre's slice not counted)",
        },
        "verification": {k: plain(v) for k, v in p.verification.items()},
        "smoothing": {k: plain(v) for k, v in p.smoothing.items()},
        "summary": smoothing_sentence(p),
        "provenance": {k: v for k, v in p.provenance.items()},
        "periods": [{k: plain(v) for k, v in r.items()} for r in t.to_dict(orient="records")],
    }


def periods_json(p: PeriodAllocation) -> bytes:
    """``summary.json``, the same bytes ``revshare periods`` prints as JSON."""
    return envelope("periods", str(p.provenance.get("dataset", "")), periods_document(p))


def _grid(headers: list[tuple[str, str]], columns: list[list[str]]) -> list[str]:
    """Right-aligned columns under a two-line header (name, then unit)."""
    widths = [
        max(len(a), len(b), *map(len, col)) for (a, b), col in zip(headers, columns, strict=True)
    ]
    lines = [
        "  ".join(h[i].rjust(w) for h, w in zip(headers, widths, strict=True)).rstrip()
        for i in (0, 1)
    ]
    for row in zip(*columns, strict=True):
        lines.append("  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)))
    return [line for line in lines if line.strip()]


def _split(headers: list[tuple[str, str]], columns: list[list[str]]) -> list[list[int]]:
    """The group columns (after the period, column 0) in runs that fit :data:`WIDTH` each."""
    width = [
        max(len(h[0]), len(h[1]), *map(len, c)) + 2 for h, c in zip(headers, columns, strict=True)
    ]
    runs: list[list[int]] = [[]]
    used = width[0]
    for i in range(1, len(headers)):
        if runs[-1] and used + width[i] > WIDTH:
            runs.append([])
            used = width[0]
        runs[-1].append(i)
        used += width[i]
    return runs


def periods_terminal(p: PeriodAllocation) -> str:
    t = periods_table(p)
    period = [str(v) for v in t["period"]]
    flows = [c for c in FLOW_HEADERS if c in t and c != "period"]
    flow_columns = [
        [f"{v:,.2f}" for v in t[c]]
        if c == "price_usd_per_bbl"
        else [f"{v / 1e6:,.1f}" for v in t[c]]
        for c in flows
    ]
    lines = [
        *_wrap(f"{_title(p, t)}, verified in every period; {_fund_text(p)}."),
        "",
        "The fund's flows in each period (million USD; the price in USD a barrel):",
        *_grid(
            [FLOW_HEADERS["period"], *(FLOW_HEADERS[c] for c in flows)], [period, *flow_columns]
        ),
        *_wrap(
            "shared: what the structure divides in the period (revenue, less what goes to the "
            "fund, plus what comes from it); centre: the centre's part of it."
        ),
    ]
    blocs = [c for c in t if c.startswith("bloc:") and c.endswith(PER_HEAD)]
    headers = [("period", "")] + [
        (c.removeprefix("bloc:").removesuffix(PER_HEAD), "USD/head/yr") for c in blocs
    ]
    columns = [period] + [[f"{v:,.2f}" for v in t[c]] for c in blocs]
    for run in _split(headers, columns) if blocs else []:
        lines += [
            "",
            *_wrap(
                "Each bloc's own money in each period, USD a head a year (its cells' money; "
                "the centre's slice not counted):"
            ),
            *_grid([headers[0], *(headers[i] for i in run)], [period, *(columns[i] for i in run)]),
        ]
    return "\n".join([*lines, "", *_wrap(smoothing_sentence(p))])


def _wrap(text: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, break_on_hyphens=False)


def periods_csv(p: PeriodAllocation) -> bytes:
    """The periods table as safe CSV (formula-like text neutralised)."""
    return frame_csv(periods_table(p))


def write_period_reports(p: PeriodAllocation, outdir: str | Path, *, force: bool = False) -> Path:
    """Write the period reports and ``manifest.json`` as the report folder ``outdir``,
    replaced as a whole (:func:`~revshare.atomic.write_bundle`)."""
    files = {
        "periods.csv": periods_csv(p),
        "cells_by_period.csv": frame_csv(p.cells),
        "summary.json": periods_json(p),
        "report.md": periods_markdown(p).encode("utf-8"),
        "report.html": periods_html(p).encode("utf-8"),
    }
    return write_report_bundle(outdir, files, force=force)
