"""Reports of an apportionment and of a referendum: CSV, JSON, Markdown and a terminal summary.

Written with the safe helpers of :mod:`revshare.reports.safe`: CSV text cells neutralised, strict
JSON, Markdown cells escaped and isolated, every bundle written atomically with its manifest.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import pandas as pd

from ..analyses.convention import METHODS, TIE_RULES, Apportionment
from ..analyses.referendum import RULES, Referendum
from .allocation import records, whole
from .convention_html import apportionment_html, referendum_html, tie_sentence
from .documents import SCHEMA_VERSION, envelope
from .safe import csv_bytes, md_cell
from .workbook import write_report_bundle

APPORTIONMENT_FILES = ("apportionment.csv", "summary.json", "report.md", "report.html")
REFERENDUM_FILES = ("referendum.csv", "summary.json", "report.md", "report.html")


def _clean(value: Any) -> Any:
    """JSON-ready: NaN and infinities to ``None``, numpy scalars to Python, fractions as text."""
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _number(value: Any) -> int | float:
    v = float(value)
    return int(v) if v.is_integer() else round(v, 6)


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return out + ["| " + " | ".join(row) + " |" for row in rows]


# --- apportionment -------------------------------------------------------------------------------

APPORTIONMENT_COLUMNS = [
    "population",
    "quota",
    "quota_exact",
    "lower_quota",
    "upper_quota",
    "seats",
    "seat_share",
    "population_share",
    "within_quota",
]


def apportionment_csv(a: Apportionment) -> bytes:
    """One row per locality; ``quota_exact`` is the quota as an exact fraction ``p/q``."""
    violations = set(a.quota_violations)
    rows = [
        [
            r[a.unit],
            _number(r["population"]),
            round(r["quota"], 6),
            _clean(a.quota[r[a.unit]]),
            r["lower_quota"],
            r["upper_quota"],
            r["seats"],
            round(r["seat_share"], 8),
            round(r["population_share"], 8),
            "no" if r[a.unit] in violations else "yes",
        ]
        for r in a.table().to_dict("records")
    ]
    return csv_bytes([a.unit, *APPORTIONMENT_COLUMNS], rows)


def apportionment_summary(a: Apportionment) -> dict[str, Any]:
    """The whole apportionment as a JSON-ready document (exact quotas as ``"p/q"`` text)."""
    return _clean(
        {
            "schema_version": SCHEMA_VERSION,
            "kind": "apportionment",
            "method": a.method,
            "citation": a.citation,
            "unit": a.unit,
            "house_size": a.house_size,
            "min_seats": a.min_seats,
            "max_seats": a.max_seats,
            "tie_rule": {"name": a.tie_rule, "meaning": TIE_RULES[a.tie_rule]},
            "ties": {"localities": list(a.ties), "seats": a.tied_seats},
            "loosemore_hanby": a.loosemore_hanby,
            "gallagher": a.gallagher,
            "quota_violations": a.quota_violations,
            "localities": [
                {
                    "name": n,
                    "population": a.populations[n],
                    "quota": a.quota[n],
                    "quota_value": float(a.quota[n]),
                    "seats": s,
                }
                for n, s in a.seats.items()
            ],
        }
    )


def apportionment_json(a: Apportionment, dataset: str = "") -> bytes:
    """``summary.json``, the same bytes ``revshare convention`` prints as JSON
    on ``dataset``."""
    return envelope("apportionment", dataset, apportionment_summary(a))


def apportionment_md(a: Apportionment) -> str:
    """A readable Markdown report; every name is escaped."""
    floor = max(a.min_seats, 1) if METHODS[a.method].first_seat_free else a.min_seats
    bounds = f"at least {floor}" + (f", at most {a.max_seats}" if a.max_seats else "")
    violations = ", ".join(md_cell(v) for v in a.quota_violations) or "none"
    lines = [
        f"# Apportionment of {a.house_size} seats by {md_cell(a.method)}",
        "",
        f"- Method: {md_cell(a.method)} ({md_cell(a.citation)}).",
        f"- Seats per {md_cell(a.unit)}: {bounds}.",
        f"- {tie_sentence(a, md_cell)}",
        f"- Loosemore-Hanby {a.loosemore_hanby:.6f}; Gallagher {a.gallagher:.6f} (shares, 0 to 1).",
        f"- Outside the quota (fewer than its lower or more than its upper quota): {violations}.",
        "",
        "| " + md_cell(a.unit) + " | population | quota | seats | seat share | population share |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {md_cell(str(r[a.unit]))} | {r['population']:,.0f} | {r['quota']:.4f} | "
        f"{r['seats']} | {r['seat_share']:.4%} | {r['population_share']:.4%} |"
        for r in a.table().to_dict("records")
    ]
    return "\n".join([*lines, ""])


def apportionment_text(a: Apportionment) -> str:
    """A plain-text summary for the terminal."""
    t = a.table()[[a.unit, "population", "quota", "seats"]]
    ties = (
        f"tie: the last {a.tied_seats} seat(s) between {', '.join(a.ties)}, settled by {a.tie_rule}"
        if a.ties
        else "no tie"
    )
    return "\n".join(
        [
            f"{a.method}: {a.house_size} seats among {len(a.seats)} localities (by {a.unit}); {ties}",
            "",
            t.to_string(
                index=False, formatters={"population": "{:,.0f}".format, "quota": "{:.4f}".format}
            ),
            "",
            f"Loosemore-Hanby {a.loosemore_hanby:.6f}  Gallagher {a.gallagher:.6f}  outside quota: "
            f"{', '.join(a.quota_violations) or 'none'}",
        ]
    )


def write_apportionment(
    a: Apportionment, outdir: str | Path, *, force: bool = False, dataset: str = ""
) -> Path:
    """Write ``apportionment.csv``, ``summary.json`` (naming ``dataset``), ``report.md`` and
    ``report.html`` as the report folder ``outdir``, replaced as a whole
    (:func:`~revshare.reports.workbook.write_report_bundle`, with ``report.xlsx``)."""
    return write_report_bundle(
        outdir,
        {
            "apportionment.csv": apportionment_csv(a),
            "summary.json": apportionment_json(a, dataset),
            "report.md": apportionment_md(a).encode("utf-8"),
            "report.html": apportionment_html(a).encode("utf-8"),
        },
        force=force,
    )


# --- referendum ----------------------------------------------------------------------------------

VOTE_COLUMNS = [
    "population",
    "voters",
    "yes",
    "no",
    "yes_share",
    "no_share",
    "proposal_per_head",
    "status_quo_per_head",
    "difference_per_head",
]
REFERENDUM_COLUMNS = ["level", "region", "faction", "bloc", *VOTE_COLUMNS]


def _vote_rows(frame: pd.DataFrame, level: str) -> list[list[Any]]:
    rows = []
    for r in frame.to_dict("records"):
        names = [
            str(r[k]) if level in levels else ""
            for k, levels in (
                ("region", ("region", "cell")),
                ("faction", ("faction", "cell")),
                ("bloc", ("bloc", "region", "cell")),
            )
        ]
        values = [
            _number(r[c])
            if c in ("population", "voters", "yes", "no")
            else (round(float(r[c]), 6) if pd.notna(r[c]) else "")
            for c in VOTE_COLUMNS
        ]
        rows.append([level, *names, *values])
    return rows


def referendum_csv(r: Referendum) -> bytes:
    """One tidy table: the overall row, then blocs, regions, factions and cells (``level``)."""
    o = r.overall
    total = [
        [
            "overall",
            "",
            "",
            "",
            _number(o["population"]),
            o["voters"],
            o["yes"],
            o["no"],
            round(float(o["yes_share"]), 6),
            round(float(o["no_share"]), 6),
            "",
            "",
            "",
        ]
    ]
    rows = (
        total
        + _vote_rows(r.blocs, "bloc")
        + _vote_rows(r.regions, "region")
        + _vote_rows(r.factions, "faction")
        + _vote_rows(r.cells, "cell")
    )
    return csv_bytes(REFERENDUM_COLUMNS, rows)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [_clean(x) for x in records(frame)]


def referendum_summary(r: Referendum) -> dict[str, Any]:
    """The whole referendum as a JSON-ready document."""
    rule = RULES[r.rule]
    return _clean(
        {
            "schema_version": SCHEMA_VERSION,
            "kind": "referendum",
            "proposal": r.proposal,
            "status_quo": r.status_quo,
            "rule": {"name": rule.name, "meaning": rule.description, "citation": rule.citation},
            "verdict": "ratified" if r.verdict else "rejected",
            "ratified": r.verdict,
            "reason": r.reason,
            "deciding": list(r.deciding),
            "overall": {k: whole(v) if k == "population" else v for k, v in r.overall.items()},
            "blocs": _records(r.blocs),
            "regions": _records(r.regions),
            "factions": _records(r.factions),
            "cells": _records(r.cells),
            "parameters": dict(r.parameters),
            "provenance": dict(r.provenance),
        }
    )


def referendum_json(r: Referendum) -> bytes:
    """``summary.json``, the same bytes ``revshare ratify`` prints as JSON."""
    return envelope("referendum", str(r.provenance.get("dataset", "")), referendum_summary(r))


def _vote_table(frame: pd.DataFrame, key: str) -> list[str]:
    return _md_table(
        [key, "voters", "yes", "no", "yes share", "no share", "gain USD a head (served)"],
        [
            [
                md_cell(str(x[key])),
                f"{x['voters']:,}",
                f"{x['yes']:,}",
                f"{x['no']:,}",
                f"{x['yes_share']:.2%}",
                f"{x['no_share']:.2%}",
                f"{x['difference_per_head']:+,.2f}",
            ]
            for x in frame.to_dict("records")
        ],
    )


def referendum_md(r: Referendum) -> str:
    """A readable Markdown report; every name is escaped."""
    rule = RULES[r.rule]
    o, p = r.overall, r.parameters
    lines = [
        f"# Referendum: {md_cell(r.proposal)} against {md_cell(r.status_quo)}",
        "",
        f"**{'RATIFIED' if r.verdict else 'REJECTED'}** under {md_cell(rule.name)} "
        f"({md_cell(rule.description)}; {md_cell(rule.citation)}).",
        "",
        f"- {md_cell(r.reason)}",
        f"- Deciding: {', '.join(md_cell(d) for d in r.deciding) or 'none'}.",
        f"- Overall: {o['yes']:,} yes and {o['no']:,} no of {o['voters']:,} voters "
        f"({float(o['yes_share']):.2%} yes).",
        f"- Vote model {md_cell(str(p.get('vote_model')))}, margin "
        f"{p.get('margin_usd_per_head', 0):g} USD a head, oil price "
        f"{p.get('price_usd_per_bbl', 0):g} USD a barrel"
        + (
            f", logistic scale {p.get('logistic_scale_usd'):g} USD, seed {p.get('seed')}"
            if p.get("vote_model") == "logistic"
            else ""
        )
        + ".",
        "",
        "## Blocs",
        "",
        *_vote_table(r.blocs, "bloc"),
        "",
        "## Regions",
        "",
        *_vote_table(r.regions, "region"),
        "",
        "## Factions",
        "",
        *_vote_table(r.factions, "faction"),
        "",
        "## Provenance",
        "",
        f"- Dataset {md_cell(str(r.provenance.get('dataset', '')))}.",
        *[
            f"- Input {md_cell(k)}: sha256 {md_cell(h)}"
            for k, h in sorted(r.provenance.get("inputs", {}).items())
        ],
        *[
            f"- Version {md_cell(k)} {md_cell(v)}"
            for k, v in sorted(r.provenance.get("versions", {}).items())
        ],
        "",
    ]
    return "\n".join(lines)


def referendum_text(r: Referendum) -> str:
    """A plain-text summary for the terminal: the verdict, who decided it, and the regions."""
    t = r.regions[["region", "bloc", "voters", "yes_share", "no_share", "difference_per_head"]]
    fmt = {
        "voters": "{:,}".format,
        "yes_share": "{:.1%}".format,
        "no_share": "{:.1%}".format,
        "difference_per_head": "{:+,.2f}".format,
    }
    return "\n".join(
        [
            f"{'RATIFIED' if r.verdict else 'REJECTED'} under {r.rule} ({RULES[r.rule].citation}): "
            f"{r.proposal} against {r.status_quo}",
            r.reason,
            f"deciding: {', '.join(r.deciding) or 'none'}",
            "",
            t.to_string(index=False, formatters=fmt),
        ]
    )


def write_referendum(r: Referendum, outdir: str | Path, *, force: bool = False) -> Path:
    """Write ``referendum.csv``, ``summary.json``, ``report.md`` and ``report.html`` as the
    report folder ``outdir``, replaced as a whole
    (:func:`~revshare.reports.workbook.write_report_bundle`, with ``report.xlsx``)."""
    return write_report_bundle(
        outdir,
        {
            "referendum.csv": referendum_csv(r),
            "summary.json": referendum_json(r),
            "report.md": referendum_md(r).encode("utf-8"),
            "report.html": referendum_html(r).encode("utf-8"),
        },
        force=force,
    )
