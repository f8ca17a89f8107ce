"""The reports of a sweep: the scenario table, its summaries, charts, Markdown and HTML.

Written together with :func:`revshare.atomic.write_bundle` (atomic, manifest last) into
the sweep's folder, beside ``sweep.json`` and the ``chunks/`` it was streamed to. :func:`sweep`
runs the analysis (:func:`revshare.analyses.sweep.sweep`, which writes no report) and then its reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..analyses.chunks import remove_chunks
from ..analyses.compare import timestamp
from ..analyses.sweep import SweepResult
from ..analyses.sweep import sweep as analyse
from ..atomic import plain
from ..data.dataset import Territory
from ..data.structures import Structure
from . import charts
from .documents import envelope
from .html import _ENV, Chart, pct, per_head
from .safe import frame_csv, md_cell
from .words import glossary, glossary_text
from .workbook import write_report_bundle


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain dicts, NaN as None (strict JSON)."""
    out = []
    for row in frame.to_dict(orient="records"):
        out.append({k: plain(v) for k, v in row.items()})
    return out


def sweep_charts(result: SweepResult) -> list[Chart]:
    """The fan chart of money per head against price and, for a parameter grid, the frontier."""
    solved = result.results[result.results["status"] == "optimal"]
    out = []
    blocs = [c for c in solved.columns if c.startswith("bloc:")]
    if len(solved) and solved["price"].nunique() > 1:
        first = solved
        note = ""
        if result.parameters:  # the fan shows the price's effect: hold the grid at its first point
            point = solved.iloc[0][result.parameters]
            keep = np.logical_and.reduce([solved[p] == point[p] for p in result.parameters])
            first = solved[keep]
            note = " at " + ", ".join(f"{p} = {point[p]:g}" for p in result.parameters)
        same = []
        for name in dict.fromkeys(first["structure"]):
            part = first[first["structure"] == name]
            for names in charts.coincident({b: part[b].to_numpy() for b in blocs}):
                if len(names) > 1:
                    same.append(f"{name}: " + " = ".join(b.split(":", 1)[-1] for b in names))
        out.append(
            Chart(
                "Money per head against the oil price" + note + " (direct money)",
                "Fan chart, one panel per structure: for each bloc the median direct money per "
                "head a year against the oil price (line), the middle half of the scenarios in "
                "each price bin (darker band, 25-75%) and nine in ten of them (lighter band, "
                "5-95%).",
                charts.data_uri(charts.fan_chart(first, blocs)),
                "The line is the median scenario in each price bin; the darker band holds the "
                "middle half of the scenarios, the lighter band nine in ten."
                + (
                    " Blocs with the same money are drawn over each other, the later one "
                    "thinner: " + "; ".join(same) + "."
                    if same
                    else ""
                ),
            )
        )
    if len(solved) and len(result.parameters) == 1:
        parameter = result.parameters[0]
        points = (
            solved.groupby(["structure", parameter], sort=False)[["producing_retention", "gini"]]
            .median()
            .reset_index()
        )
        out.append(
            Chart(
                f"Autonomy against fairness as {parameter} varies",
                "Line chart, one line per structure through the parameter grid: producing "
                "regions' retention of their own revenue (autonomy) against the Gini index of "
                "direct money per head (fairness, lower is fairer), medians over the scenarios; "
                "a hollow circle marks the parameter's lowest value, a filled square its highest.",
                charts.data_uri(charts.frontier_chart(points, parameter)),
            )
        )
    return out


def _structures_table(result: SweepResult) -> pd.DataFrame:
    t = result.structures.copy()
    t["failed"] = t["share_not_optimal"] + t["share_not_verified"]
    return t


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _header(result: SweepResult) -> str:
    """What was swept: the dataset, how many scenarios and the range of their prices."""
    prices = result.results["price"]
    span = (
        f"oil price {prices.min():,.2f} to {prices.max():,.2f} USD/bbl"
        if prices.min() != prices.max()
        else f"oil price {prices.min():,.2f} USD/bbl"
    )
    points = result.results[["scenario", "period"]].drop_duplicates()
    grid = f"; {len(result.structures):,} pairs of structure and parameter point" * bool(
        result.parameters
    )
    return (
        f"{result.provenance.get('dataset', '')}: {_count(len(points), 'scenario')}, {span}{grid}"
    )


def sweep_table(result: SweepResult) -> str:
    """A plain-text summary for the terminal: per structure (and point), the share of scenarios
    solved, the median money per head of each bloc and the chance it falls below its outside
    option."""
    keys = ["structure", *result.parameters]
    medians = result.summary[result.summary["group_kind"] == "bloc"]
    lines = [_header(result)]
    for _, row in _structures_table(result).iterrows():
        label = ", ".join(f"{k}={row[k]}" for k in result.parameters)
        head = f"{row['structure']}" + (f" ({label})" if label else "")
        lines.append(
            f"{head}: {_count(row['scenarios'], 'scenario')}, {pct(row['share_optimal'])} solved, "
            f"{pct(row['share_infeasible'])} infeasible"
            + (
                f", {pct(row['share_no_revenue'])} no revenue (nothing to share at that price)"
                if row.get("share_no_revenue", 0)
                else ""
            )
            + (
                f", {pct(row['share_not_applicable'])} not applicable"
                if row["share_not_applicable"]
                else ""
            )
            + (f", {pct(row['failed'])} FAILED" if row["failed"] else "")
        )
        match = np.logical_and.reduce([medians[k] == row[k] for k in keys])
        risk = result.risk[np.logical_and.reduce([result.risk[k] == row[k] for k in keys])]
        for _, m in medians[match].iterrows():
            p = risk.loc[risk["bloc"] == m["group"], "p_below_outside_option"]
            lines.append(
                f"  {m['group']}: median {per_head(m['p50'])} USD a head, direct "
                f"(5-95%: {per_head(m['p5'])} to {per_head(m['p95'])}); "
                f"below outside option in {pct(p.iloc[0]) if len(p) else 'n/a'}"
            )
    return "\n".join(lines)


def sweep_markdown(result: SweepResult) -> str:
    keys = ["structure", *result.parameters]
    lines = [f"# Sweep of {md_cell(str(result.provenance.get('dataset', 'dataset')))}", ""]
    if result.failed:
        lines += [
            f"**{result.failed} scenario(s) could not be proven optimal and verified**; they are "
            "in scenarios.csv with their status and left out of every summary.",
            "",
        ]
    notices = list(result.provenance.get("notices", []))
    if notices:  # chunks that resume found damaged and solved again
        lines += ["## Notices", "", *(f"- {md_cell(str(n))}" for n in notices), ""]
    lines += ["## Status of each structure", ""]
    t = _structures_table(result)
    head = [*keys, "scenarios", "optimal", "infeasible", "no revenue", "not applicable", "failed"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, r in t.iterrows():
        cells = [md_cell(str(r[k])) for k in keys] + [str(r["scenarios"])]
        cells += [
            pct(r[c])
            for c in (
                "share_optimal",
                "share_infeasible",
                "share_no_revenue",
                "share_not_applicable",
                "failed",
            )
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "## Probability that a bloc falls below its outside option (direct money)", ""]
    lines += [
        "Share of the solved (optimal) scenarios in which the bloc's direct money is less than "
        "it would keep by seceding; infeasible scenarios are not counted.",
        "",
    ]
    head = [*keys, "bloc", "scenarios", "probability"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, r in result.risk.iterrows():
        cells = [md_cell(str(r[k])) for k in keys] + [md_cell(r["bloc"]), str(r["scenarios"])]
        lines.append("| " + " | ".join([*cells, pct(r["p_below_outside_option"])]) + " |")
    lines += ["", "## Direct money a head (USD a year): percentiles over the scenarios", ""]
    head = [*keys, "group", "5%", "25%", "median", "75%", "95%"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, r in result.summary.iterrows():
        cells = [md_cell(str(r[k])) for k in keys] + [md_cell(f"{r['group_kind']} {r['group']}")]
        cells += [per_head(r[f"p{p}"]) for p in (5, 25, 50, 75, 95)]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", glossary_text(["direct", "percentiles"])]
    return "\n".join(lines) + "\n"


def sweep_html(result: SweepResult) -> str:
    prices = result.results["price"]
    p = result.provenance
    return _ENV.get_template("sweep.html.j2").render(
        dataset=str(p.get("dataset", "dataset")),
        failed=result.failed,
        scenario_count=int(result.spec.get("scenario_count", 0)),
        parameters=result.parameters,
        price_min=f"{prices.min():,.2f}",
        price_max=f"{prices.max():,.2f}",
        structures=_records(_structures_table(result)),
        risk=_records(result.risk),
        summary=_records(result.summary),
        chart_list=sweep_charts(result),
        percentile_notes=glossary(["percentiles"]),
        generated_at=timestamp(),
        executor=p.get("executor", ""),
        seconds=f"{p.get('seconds', 0.0):.1f}",
        inputs=sorted(dict(p.get("inputs", {})).items()),
    )


def sweep_document(result: SweepResult) -> dict[str, Any]:
    """What the sweep ran, each structure's statuses, each bloc's risk and the percentiles of
    money per head: ``summary.json``, and what ``revshare sweep`` prints as JSON."""
    return {
        "spec": result.spec,
        "provenance": {
            k: plain(v) if not isinstance(v, dict) else v for k, v in result.provenance.items()
        },
        "structures": _records(_structures_table(result)),
        "risk": _records(result.risk),
        "summary": _records(result.summary),
        "generated_at": timestamp(),
    }


def sweep_json(result: SweepResult) -> bytes:
    """``summary.json`` of a sweep in the envelope (:func:`sweep_document`)."""
    dataset = str(result.provenance.get("dataset", ""))
    return envelope("sweep", dataset, sweep_document(result))


def sweep_files(result: SweepResult) -> dict[str, bytes]:
    return {
        "scenarios.csv": frame_csv(result.results),
        "summary.csv": frame_csv(result.summary),
        "risk.csv": frame_csv(result.risk),
        "structures.csv": frame_csv(_structures_table(result)),
        "summary.json": sweep_json(result),
        "report.md": sweep_markdown(result).encode(),
        "report.html": sweep_html(result).encode(),
    }


def write_sweep_reports(result: SweepResult, folder: str | Path) -> Path:
    """Write every report of ``result`` into ``folder`` (the sweep's own folder)."""
    return write_report_bundle(folder, sweep_files(result), force=True)


def sweep(
    territory: Territory,
    structures: Sequence[str | Structure] | str,
    scenarios: pd.DataFrame,
    *,
    out: str | Path | None = None,
    keep_chunks: bool = False,
    **options: Any,
) -> SweepResult:
    """Solve every structure at every scenario (:func:`revshare.analyses.sweep.sweep`) and, with ``out``,
    write the reports there.

    Parameters
    ----------
    out : the sweep's folder: chunks are streamed there as they finish; when every scenario was
        proven optimal and verified, the reports are written there and ``chunks/`` removed.
    keep_chunks : keep ``out/chunks/`` after the reports are written (an unfinished or failed
        sweep always keeps them).
    **options : the other options of :func:`revshare.analyses.sweep.sweep`.
    """
    result = analyse(territory, structures, scenarios, out=out, **options)
    if out is not None and not result.failed:  # reports hold proven, verified optima only
        write_sweep_reports(result, out)
        if not keep_chunks:  # only now: until the reports are written, chunks are the work
            remove_chunks(out)
    return result
