"""Reports of a multi-period allocation: the periods table, the money per cell and period, the
fund's flows, a chart, Markdown and HTML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..analyses.compare import timestamp
from ..analyses.periods import PeriodAllocation
from ..atomic import plain
from . import charts
from .html import _ENV, Chart
from .safe import frame_csv, json_bytes, md_cell
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


def periods_table(p: PeriodAllocation) -> pd.DataFrame:
    """One row per period: the fund's flows and money per head a year of each bloc and faction."""
    groups = p.periods.drop(columns=["period", "centre_usd"])
    return pd.concat([p.flows.reset_index(drop=True), groups.reset_index(drop=True)], axis=1)


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


def periods_markdown(p: PeriodAllocation) -> str:
    t = periods_table(p)
    cols = [
        "period",
        "price",
        *[c for c in MONEY_COLUMNS if c in t],
        *[c for c in t if c.startswith("bloc:")],
    ]
    lines = [
        f"# {md_cell(p.structure.name)} over {len(t)} periods",
        "",
        f"Verified in every period; {_fund_text(p)}.",
        "",
        "| " + " | ".join(md_cell(c) for c in cols) + " |",
        "|" + "---|" * len(cols),
    ]
    for _, row in t.iterrows():
        lines.append("| " + " | ".join(_fmt(c, row[c]) for c in cols) + " |")
    return "\n".join(lines) + "\n"


def _fmt(column: str, value: Any) -> str:
    if column == "period":
        return str(int(value))
    if column == "price":
        return f"{value:,.2f}"
    if column.endswith("_usd"):
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def periods_html(p: PeriodAllocation) -> str:
    t = periods_table(p)
    cols = [
        "period",
        "price",
        *[c for c in MONEY_COLUMNS if c in t],
        *[c for c in t if c.startswith(("bloc:", "faction:"))],
    ]
    rows = [{c: _fmt(c, r[c]) for c in cols} for _, r in t.iterrows()]
    return _ENV.get_template("periods.html.j2").render(
        structure=p.structure.name,
        flows=p.flows,
        verification=p.verification,
        smoothing=p.smoothing,
        fund_text=_fund_text(p),
        chart_list=period_charts(p),
        columns=cols,
        rows=rows,
        generated_at=timestamp(),
        solver=p.provenance.get("solver", ""),
        inputs=sorted(dict(p.provenance.get("inputs", {})).items()),
    )


def periods_json(p: PeriodAllocation) -> bytes:
    t = periods_table(p)
    return json_bytes(
        {
            "structure": p.structure.name,
            "generated_at": timestamp(),
            "verification": {k: plain(v) for k, v in p.verification.items()},
            "smoothing": {k: plain(v) for k, v in p.smoothing.items()},
            "provenance": {k: v for k, v in p.provenance.items()},
            "periods": [{k: plain(v) for k, v in r.items()} for r in t.to_dict(orient="records")],
        }
    )


def periods_terminal(p: PeriodAllocation) -> str:
    t = periods_table(p)
    cols = [
        "period",
        "price",
        *[c for c in MONEY_COLUMNS if c in t],
        *[c for c in t if c.startswith("bloc:")],
    ]
    shown = t[cols].copy()
    text = shown.to_string(index=False, formatters={c: (lambda v, c=c: _fmt(c, v)) for c in cols})
    s = p.smoothing
    return (
        f"{p.structure.name} over {len(t)} periods, verified in every period; {_fund_text(p)}\n\n"
        f"{text}\n\nlowest period relative to the cell's average {s['lowest_relative_to_average']:.3f}; "
        f"largest drop {s['largest_drop_relative_to_average']:.3f}"
    )


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
