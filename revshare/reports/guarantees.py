"""Reports of guarantees under a hostile centre: ``guarantees.csv``, ``capture.csv``,
``guarantees.json``, ``report.md``, ``report.html`` and a terminal table (issue 14).

Every format says what *fair* and *guaranteed* mean and which rules each structure entrenches.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..analyses.compare import timestamp
from ..analyses.guarantees import CAPTURE_COLUMNS, GUARANTEE_COLUMNS, Guarantees
from ..atomic import check_outputs
from ..errors import InputError
from . import charts
from .allocation import records
from .documents import SCHEMA_VERSION, envelope, json_ready
from .html import _ENV, Chart
from .safe import csv_bytes, md_cell
from .words import glossary, glossary_lines
from .workbook import write_report_bundle

GUARANTEE_FILES = ("guarantees.csv", "capture.csv", "guarantees.json", "report.md", "report.html")
MEANING = (
    "fair: the structure's allocation, the centre's slice spread equally over everyone (served "
    "money: direct plus a head-share of the centre's slice and of any government serving the "
    "group); guaranteed: the least under the entrenched rules alone, the centre used against the "
    "group; exposure = fair - guaranteed"
)


def _cell(value: Any) -> Any:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return round(value, 4) if isinstance(value, float) else value


def _csv(frame: pd.DataFrame, columns: list[str]) -> bytes:
    return csv_bytes(
        columns, [[_cell(v) for v in row] for row in frame[columns].itertuples(index=False)]
    )


def guarantees_csv(g: Guarantees) -> bytes:
    return _csv(g.table, GUARANTEE_COLUMNS)


def capture_csv(g: Guarantees) -> bytes:
    return _csv(g.capture, CAPTURE_COLUMNS)


def guarantees_document(g: Guarantees) -> dict[str, Any]:
    return json_ready(
        {
            "schema_version": SCHEMA_VERSION,
            "kind": "guarantees",
            "dataset": g.dataset,
            "price_usd_per_bbl": g.price,
            "meaning": MEANING,
            "entrenched": {
                name: {"rules": list(rules), "because": because}
                for name, (rules, because) in g.entrenched.items()
            },
            "guarantees": records(g.table),
            "capture": records(g.capture),
        }
    )


def guarantees_json(g: Guarantees) -> bytes:
    """``guarantees.json``, the same bytes ``revshare guarantees`` prints as JSON."""
    return envelope("guarantees", g.dataset, guarantees_document(g))


def guarantees_md(g: Guarantees) -> str:
    lines = [
        f"# Guarantees under a hostile centre: {md_cell(g.dataset)}",
        "",
        f"At {g.price:g} USD a barrel. {MEANING}.",
        "",
        "## Entrenched rules",
        "",
    ]
    for name, (rules, because) in g.entrenched.items():
        listed = ", ".join(md_cell(r) for r in rules) or "none"
        lines.append(f"- {md_cell(name)}: {listed}. {md_cell(because)}".rstrip())
    lines += ["", "## Guarantees and exposure", ""]
    lines.append(
        "| structure | level | group | fair USD a year (served) | guaranteed USD a year | "
        "exposure USD a year | exposure share of fair |"
    )
    lines.append("|---|---|---|---|---|---|---|")
    for r in g.table.itertuples():
        lines.append(
            f"| {md_cell(r.structure)} | {r.level} | {md_cell(r.group)} | {r.fair_usd:,.0f} | "
            f"{r.guaranteed_usd:,.0f} | {r.exposure_usd:,.0f} | {r.exposure_share:.1%} |"
        )
    return "\n".join(lines) + "\n"


def terminal_guarantees(g: Guarantees) -> str:
    """Factions and blocs: fair and guaranteed money a head, and the exposure share."""
    t = g.table[g.table["level"].isin(["faction", "bloc"])].copy()
    t["fair/head (served)"] = t["fair_usd"] / t["population"]
    t["guaranteed/head"] = t["guaranteed_usd"] / t["population"]
    t["exposed"] = t["exposure_share"]
    shown = t[["structure", "level", "group", "fair/head (served)", "guaranteed/head", "exposed"]]
    fmt = {
        "fair/head (served)": "{:,.2f}".format,
        "guaranteed/head": "{:,.2f}".format,
        "exposed": "{:.1%}".format,
    }
    entrenched = [
        f"  {name}: {', '.join(rules) or 'none'}" for name, (rules, _) in g.entrenched.items()
    ]
    return "\n".join(
        [
            f"{g.dataset} at {g.price:g} USD/bbl: USD a head a year, fair centre and hostile centre",
            "",
            shown.to_string(index=False, formatters=fmt),
            "",
            *glossary_lines(["fair", "served", "guaranteed", "exposure"]),
            "Entrenched (binding on any government):",
            *entrenched,
        ]
    )


def guarantees_html(g: Guarantees) -> str:
    """Guarantees, exposure and capture as one self-contained, escaped HTML page."""
    table = g.table
    figures = []
    for level in ("faction", "bloc"):
        part = table[table["level"] == level]
        if part.empty:
            continue
        heads = part["population"].astype(float)
        chart_table = pd.DataFrame(
            {
                "structure": part["structure"],
                "group": part["group"],
                "fair_per_head": part["fair_usd"] / heads,
                "guaranteed_per_head": part["guaranteed_usd"] / heads,
            }
        )
        figures.append(
            Chart(
                f"Money per head by {level}: guaranteed under a hostile centre, and fair (served)",
                f"One panel per {level}, one bar per structure: the dark part is the money a head "
                "a year guaranteed under a hostile centre, the light part what a fair centre adds "
                "(the exposure); the whole bar is the fair, served money.",
                charts.data_uri(charts.guarantee_bars(chart_table, group_label=level)),
            )
        )
    return _ENV.get_template("guarantees.html.j2").render(
        {
            "g": g,
            "rows": [dict(r) for r in table.to_dict("records")],
            "capture": [dict(r) for r in g.capture.to_dict("records")],
            "entrenched": [(n, rules, why) for n, (rules, why) in g.entrenched.items()],
            "charts": figures,
            "notes": glossary(["fair", "guaranteed", "exposure"]),
            "generated_at": timestamp(),
        }
    )


def write_guarantees(g: Guarantees, outdir: str | Path, *, force: bool = False) -> Path:
    """Write the guarantee reports and ``manifest.json`` as the folder ``outdir``, replaced as a
    whole (:func:`~revshare.atomic.write_bundle`)."""
    problems = check_outputs(Path(outdir), [*GUARANTEE_FILES, "manifest.json"], force)
    if problems:
        raise InputError(problems)
    files = {
        "guarantees.csv": guarantees_csv(g),
        "capture.csv": capture_csv(g),
        "guarantees.json": guarantees_json(g),
        "report.md": guarantees_md(g).encode("utf-8"),
        "report.html": guarantees_html(g).encode("utf-8"),
    }
    return write_report_bundle(outdir, files, force=force)
