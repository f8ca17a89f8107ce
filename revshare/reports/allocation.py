"""Reports of one allocation: ``allocation.csv``, ``summary.json``, ``report.md`` and a terminal table."""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from ..analyses.optimize import Allocation
from .documents import SCHEMA_VERSION, envelope, json_ready
from .safe import csv_bytes, md_cell, price_phrase
from .words import aim, glossary_lines, glossary_text

CELL_COLUMNS = ["region", "faction", "bloc", "population", "usd_rounded", "usd_per_head", "usd"]


def allocation_csv(a: Allocation) -> bytes:
    """One row per cell, and a last row for the centre's slice."""
    rows = [
        [
            r.region,
            r.faction,
            r.bloc,
            int(r.population) if float(r.population).is_integer() else float(r.population),
            int(r.usd_rounded),
            round(float(r.usd_per_head), 4),
            round(float(r.usd), 4),
        ]
        for r in a.cells.itertuples()
    ]
    rows.append(["(centre)", "", "", 0, a.centre_usd_rounded, 0.0, round(a.centre_usd, 4)])
    return csv_bytes(CELL_COLUMNS, rows)


ACCOUNT_CSV_COLUMNS = [
    "account",
    "kind",
    "serves",
    "usd",
    "usd_rounded",
    "share_of_revenue",
    "population",
    "usd_per_head",
]
PAYMENT_CSV_COLUMNS = ["rule", "kind", "relation", "pool", "recipient", "usd", "share_of_revenue"]


def _blank(value: Any, digits: int) -> Any:
    """A number rounded for a CSV cell, or empty where there is none (a fund's population)."""
    return "" if value is None or pd.isna(value) else round(float(value), digits)


def accounts_csv(a: Allocation) -> bytes:
    """One row per recipient that is not a cell: the centre and a deal's accounts."""
    rows = [
        [
            r.account,
            r.kind,
            r.serves,
            round(float(r.usd), 4),
            int(r.usd_rounded),
            round(float(r.share_of_revenue), 12),
            "" if r.population is None else int(r.population),
            _blank(r.usd_per_head, 4),
        ]
        for r in a.accounts.itertuples()
    ]
    return csv_bytes(ACCOUNT_CSV_COLUMNS, rows)


def payments_csv(a: Allocation) -> bytes:
    """One row per rule of a deal and recipient, in the order the rules pay."""
    rows = [
        [
            r.rule,
            r.kind,
            r.relation,
            r.pool,
            r.recipient,
            round(float(r.usd), 4),
            round(float(r.share_of_revenue), 12),
        ]
        for r in a.payments.itertuples()
    ]
    return csv_bytes(PAYMENT_CSV_COLUMNS, rows)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """``frame``'s rows as JSON-ready objects; a population of whole people is an integer."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if (
            "population" in str(column)
            and pd.api.types.is_float_dtype(values)
            and values.notna().all()
            and (values % 1 == 0).all()
        ):
            out[column] = values.astype("int64")
    return [json_ready(r) for r in out.to_dict("records")]


def whole(people: float) -> int | float:
    """A population as JSON writes it: an integer when it is a whole number of people."""
    return int(people) if float(people).is_integer() else float(people)


def summary(a: Allocation) -> dict[str, Any]:
    """The whole result as a JSON-ready document (money in whole dollars under ``*_rounded``)."""
    structure = {
        k: (
            v._asdict()  # a record (the deal): by field
            if hasattr(v, "_asdict")
            else dict(v)
            if isinstance(v, dict)
            else list(v)
            if isinstance(v, tuple)
            else v
        )
        for k, v in dataclasses.asdict(a.structure).items()
    }
    return json_ready(
        {
            "schema_version": SCHEMA_VERSION,
            "status": "optimal" if a.optimal else "NOT OPTIMAL",
            "structure": structure,
            "price_usd_per_bbl": a.price,
            "revenue_usd": a.revenue_usd,
            "revenue_usd_rounded": int(a.cells["usd_rounded"].sum())
            + int(a.accounts["usd_rounded"].sum()),
            "centre_usd": a.centre_usd,
            "centre_usd_rounded": a.centre_usd_rounded,
            "objective": {"name": a.structure.objective, "value": a.objective_value},
            "metrics": dict(a.metrics),
            "regions": records(a.regions),
            "factions": records(a.factions),
            "blocs": records(a.blocs),
            "cells": records(a.cells),
            "accounts": records(a.accounts),
            "payments": records(a.payments),
            "binding_constraints": records(a.binding),
            "verification": {
                "max_violation_usd": a.verification.max_violation_usd,
                "worst": a.verification.worst,
                "budget_error_usd": a.verification.budget_error_usd,
                "tolerance_usd": a.verification.tolerance_usd,
                "checks": a.verification.checks,
            },
            "provenance": dict(a.provenance),
        }
    )


def summary_json(a: Allocation) -> bytes:
    """``summary.json``, the same bytes ``revshare optimize`` prints as JSON."""
    return envelope("allocation", str(a.provenance.get("dataset", "")), summary(a))


def _usd(v: float) -> str:
    """Whole dollars; an amount that rounds to zero prints as 0, never -0."""
    return f"{round(v) + 0.0:,.0f}"


def _centre_phrase(a: Allocation, *, lower: bool = False) -> str:
    """``Centre's slice`` or, when a deal names its central account, ``Centre (the National
    Government)``."""
    c = a.structure.centre
    word = "centre" if lower else "Centre"
    return f"{word}'s slice" if c in ("", "centre") else f"{word} (the {c})"


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out


def report_md(a: Allocation) -> str:
    """A readable Markdown report; every name is escaped (docs/design.md#safe-reports)."""
    s = a.structure
    m = a.metrics
    lines = [
        f"# Allocation under {md_cell(s.name)}",
        "",
        md_cell(s.description),
        "",
        f"- Dataset: {md_cell(str(a.provenance.get('dataset', '')))}; "
        f"{price_phrase(a.price, a.provenance)}; total revenue {_usd(a.revenue_usd)} USD a year.",
        f"- {md_cell(_centre_phrase(a))}: {_usd(a.centre_usd_rounded)} USD "
        f"({m['centre_share']:.2%}); no group's direct money, counted in the served view.",
        f"- Aim: {md_cell(aim(s.objective))}.",
        f"- Direct money: Gini {m['gini']:.4f}; lowest/highest a head "
        f"{m['min_max_per_head_ratio']:.3f}; Loosemore-Hanby {m['loosemore_hanby']:.4f}; "
        f"secession-proof: {'yes' if m['secession_proof'] else 'no'}.",
        "",
        glossary_text(
            ["direct", "served", "centre", "gini", "min-max", "loosemore-hanby"], centre=s.centre
        ),
        "",
        "## Regions",
        "",
    ]
    lines += _md_table(
        [
            "region",
            "bloc",
            "population",
            "USD (direct)",
            "USD a head, direct",
            "USD a head, served",
            "own revenue USD",
        ],
        [
            [
                md_cell(r.region),
                md_cell(str(a.cells.loc[a.cells["region"] == r.region, "bloc"].iloc[0])),
                f"{r.population:,.0f}",
                _usd(r.usd_rounded),
                f"{r.usd_per_head:,.2f}",
                f"{r.usd_per_head_served:,.2f}",
                _usd(r.own_revenue_usd),
            ]
            for r in a.regions.itertuples()
        ],
    )
    if len(a.accounts) > 1 or len(a.payments):
        lines += ["", "## Accounts (recipients that are not cells)", ""]
        lines += _md_table(
            ["account", "kind", "serves", "USD", "share of revenue", "USD a head served"],
            [
                [
                    md_cell(r.account),
                    md_cell(r.kind),
                    md_cell(r.serves),
                    _usd(r.usd_rounded),
                    f"{r.share_of_revenue:.4%}",
                    "" if r.usd_per_head is None else f"{r.usd_per_head:,.2f}",
                ]
                for r in a.accounts.itertuples()
            ],
        )
        lines += ["", "## Payments of the deal's rules, in order", ""]
        lines += _md_table(
            ["rule", "relation", "pool", "recipient", "USD", "share of revenue"],
            [
                [
                    md_cell(r.rule),
                    md_cell(r.relation),
                    md_cell(r.pool),
                    md_cell(r.recipient),
                    _usd(r.usd),
                    f"{r.share_of_revenue:.4%}",
                ]
                for r in a.payments.itertuples()
            ],
        )
    lines += ["", "## Factions", ""]
    lines += _md_table(
        ["faction", "population", "USD (direct)", "USD a head, direct", "USD a head, served"],
        [
            [
                md_cell(r.faction),
                f"{r.population:,.0f}",
                _usd(r.usd_rounded),
                f"{r.usd_per_head:,.2f}",
                f"{r.usd_per_head_served:,.2f}",
            ]
            for r in a.factions.itertuples()
        ],
    )
    lines += ["", "## Blocs", ""]
    lines += _md_table(
        [
            "bloc",
            "USD (direct)",
            "USD a head, direct",
            "USD a head, served",
            "outside option USD",
            "surplus over secession USD (direct)",
        ],
        [
            [
                md_cell(r.bloc),
                _usd(r.usd_rounded),
                f"{r.usd_per_head:,.2f}",
                f"{r.usd_per_head_served:,.2f}",
                _usd(r.outside_option_usd),
                _usd(r.surplus_over_secession_usd),
            ]
            for r in a.blocs.itertuples()
        ],
    )
    lines += ["", glossary_text(["surplus", "accepts"])]
    if len(a.binding):
        lines += ["", "## Rules that limit the answer", "", glossary_text(["binding"]), ""]
        lines += _md_table(
            ["rule", "change in the measure per USD of room"],
            [
                [md_cell(r.constraint), f"{r.objective_change_per_usd + 0.0:.4g}"]
                for r in a.binding.itertuples()
            ],
        )
    v = a.verification
    p = a.provenance
    lines += [
        "",
        "## Provenance",
        "",
        f"- Solver {md_cell(str(p.get('solver')))}, status {md_cell(str(p.get('status')))}; "
        f"verified {v.checks} rule checks, worst residual {v.max_violation_usd:.3g} USD "
        f"(tolerance {v.tolerance_usd:.3g} USD).",
        f"- Tie-break: {md_cell(str(p.get('tie_break')))}. Rounding: {md_cell(str(p.get('rounding')))}.",
        *[
            f"- Input {md_cell(k)}: sha256 {md_cell(h)}"
            for k, h in sorted(p.get("inputs", {}).items())
        ],
        *[
            f"- Version {md_cell(k)} {md_cell(val)}"
            for k, val in sorted(p.get("versions", {}).items())
        ],
        "",
    ]
    return "\n".join(lines)


def terminal_table(a: Allocation) -> str:
    """A plain-text summary for the terminal."""
    heads = ["usd_rounded", "usd_per_head", "usd_per_head_served"]
    shown = ["USD direct", "USD/head direct", "USD/head served"]
    regions = a.regions[["region", "population", *heads]].copy()
    regions.columns = ["region", "population", *shown]
    blocs = a.blocs[["bloc", *heads, "surplus_over_secession_usd"]].copy()
    blocs.columns = ["bloc", *shown, "surplus over secession (direct)"]
    factions = a.factions[["faction", *heads]].copy()
    factions.columns = ["faction", *shown]
    fmt = {
        "population": "{:,.0f}".format,
        "USD": _usd,
        "USD direct": _usd,
        "USD/head direct": "{:,.2f}".format,
        "USD/head served": "{:,.2f}".format,
        "surplus over secession (direct)": _usd,
    }
    m = a.metrics
    deal = []
    if len(a.accounts) > 1:
        accounts = a.accounts[["account", "kind", "usd_rounded", "share_of_revenue"]].copy()
        accounts.columns = ["account (not a cell)", "kind", "USD", "share of revenue"]
        deal = [
            accounts.to_string(
                index=False, formatters={**fmt, "share of revenue": "{:.4%}".format}
            ),
            "",
        ]
    return "\n".join(
        [
            f"{a.structure.name} {price_phrase(a.price, a.provenance, short=True)}: revenue "
            f"{_usd(a.revenue_usd)} USD; {_centre_phrase(a, lower=True)} "
            f"{_usd(a.centre_usd_rounded)} USD ({m['centre_share']:.1%})",
            "",
            *deal,
            regions.to_string(index=False, formatters=fmt),
            "",
            factions.to_string(index=False, formatters=fmt),
            "",
            blocs.to_string(index=False, formatters=fmt),
            "",
            f"Direct money: Gini {m['gini']:.4f}  min/max per head "
            f"{m['min_max_per_head_ratio']:.3f}  Loosemore-Hanby {m['loosemore_hanby']:.4f}  "
            f"secession-proof {'yes' if m['secession_proof'] else 'no'}  "
            f"verified ({a.verification.checks} checks)",
            *glossary_lines(["direct", "served", "centre", "surplus"], centre=a.structure.centre),
        ]
    )
