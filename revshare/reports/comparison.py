"""Reports of a comparison: ``comparison.csv``, ``comparison.json``, ``report.md``,
``report.html`` and a terminal table.

Every format names the view of money per head it shows. The CSV is the long table, one row per
structure and group (faction or bloc), with a row of its own for each structure without a
verified allocation, so that none disappears. Text cells are neutralised against formula
injection (docs/design.md#safe-reports), the JSON is strict (O4), Markdown cells are escaped (O3) and the
HTML is escaped and sandboxed (O2, :mod:`revshare.reports.html`).
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from ..analyses.compare import Comparison
from ..atomic import check_outputs
from ..errors import InputError
from .allocation import records, whole
from .documents import SCHEMA_VERSION, envelope, json_ready
from .html import comparison_html
from .safe import csv_bytes, md_cell, price_phrase
from .words import glossary_lines, glossary_text
from .workbook import write_report_bundle

COMPARISON_FILES = ("comparison.csv", "comparison.json", "report.md", "report.html")
CSV_COLUMNS = [
    "structure",
    "status",
    "reason",
    "level",
    "group",
    "population",
    "usd_rounded",
    "usd_per_head_direct",
    "usd_per_head_with_centre",
    "rank",
    "outside_option_usd",
    "surplus_over_secession_usd",
    "accepts",
]


def _num(value: Any, digits: int = 4) -> Any:
    if pd.isna(value):
        return ""
    number = round(float(value), digits)
    return int(number) if digits == 0 else number


def comparison_csv(c: Comparison) -> bytes:
    """The long table: per-head money in both views, each group's rank of the structure, and
    for blocs the outside option, the surplus and whether the bloc accepts."""
    rank = {(r.level, r.group, r.structure): int(r.rank) for r in c.rankings.itertuples()}
    rows: list[list[Any]] = []
    for name in c.structures:
        status = c.status[name]
        if c.allocations.get(name) is None:
            reason = c.infeasible.get(name) or c.not_applicable.get(name, "")
            rows.append([name, status, reason, *[""] * (len(CSV_COLUMNS) - 3)])
            continue
        for level, table in (("faction", c.factions), ("bloc", c.blocs)):
            for r in table[table["structure"] == name].itertuples():
                is_bloc = level == "bloc"
                rows.append(
                    [
                        name,
                        status,
                        "",
                        level,
                        r.group,
                        _num(r.population, 0),
                        int(r.usd_rounded),
                        _num(r.usd_per_head_direct),
                        _num(r.usd_per_head_with_centre),
                        rank[(level, r.group, name)],
                        _num(r.outside_option_usd) if is_bloc else "",
                        _num(r.surplus_over_secession_usd) if is_bloc else "",
                        ("yes" if r.accepts else "no") if is_bloc else "",
                    ]
                )
    return csv_bytes(CSV_COLUMNS, rows)


def comparison_document(c: Comparison) -> dict[str, Any]:
    """The whole comparison as a JSON-ready document."""
    accept = c.acceptable.set_index("structure")
    structures = []
    for row in records(c.metrics):
        name = row["structure"]
        a = c.allocations.get(name)
        structures.append(
            {
                **row,
                "description": c.definitions[name].description,
                "citation": c.definitions[name].citation,
                "centre_usd_rounded": a.centre_usd_rounded if a else None,
                "accepted_by": list(accept.loc[name, "accepted_by"]),
                "refused_by": list(accept.loc[name, "refused_by"]),
                "all_accept": bool(accept.loc[name, "all_accept"]),
            }
        )
    return json_ready(
        {
            "schema_version": SCHEMA_VERSION,
            "kind": "comparison",
            "dataset": c.dataset,
            "price_usd_per_bbl": c.price,
            "revenue_usd": c.revenue_usd,
            "population": whole(c.population),
            "preference_view": c.preference_view,
            "structures": structures,
            "factions": records(c.factions),
            "blocs": records(c.blocs),
            "rankings": records(c.rankings),
            "pairwise": records(c.pairwise),
            "condorcet": {
                "winner": c.condorcet.winner,
                "smith_set": list(c.condorcet.smith_set),
                "cycle": None if c.condorcet.cycle is None else list(c.condorcet.cycle),
            },
            "provenance": dict(c.provenance),
        }
    )


def comparison_json(c: Comparison) -> bytes:
    """``comparison.json``, the same bytes ``revshare compare`` prints as JSON: strict JSON (no NaN
    or infinity) in the envelope (:func:`~revshare.reports.documents.envelope`)."""
    return envelope("comparison", c.dataset, comparison_document(c))


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return out + ["| " + " | ".join(row) + " |" for row in rows]


def _fmt(value: Any, spec: str) -> str:
    return "-" if pd.isna(value) else format(float(value), spec)


def _wide_md(table: pd.DataFrame, column: str, structures: tuple[str, ...]) -> list[str]:
    groups = list(dict.fromkeys(table["group"]))
    rows = []
    for name in structures:
        values = table[table["structure"] == name].set_index("group").reindex(groups)[column]
        rows.append([md_cell(name), *[_fmt(v, ",.2f") for v in values]])
    return _md_table(["structure", *[md_cell(g) for g in groups]], rows)


def _deal(c: Comparison) -> bool:
    """Whether a compared structure is a deal with accounts beside the centre."""
    return any(a is not None and len(a.accounts) > 1 for a in c.allocations.values())


def _verdict(c: Comparison, cell: Callable[[str], str] = md_cell) -> list[str]:
    if not c.feasible:
        return ["No structure has a feasible, verified allocation on this dataset."]
    k = c.condorcet
    if k.winner is not None:
        lines = [
            f"Condorcet winner: {cell(k.winner)} (a population majority, counted by cell, "
            "prefers it to every other structure, comparing served money a head)."
        ]
    else:
        lines = [
            f"No Condorcet winner. Top cycle (Smith set): "
            f"{', '.join(cell(s) for s in k.smith_set)}."
        ]
        if k.cycle:
            chain = " beats ".join(cell(s) for s in (*k.cycle, k.cycle[0]))
            lines.append(f"Majority cycle: {chain}.")
    every = [cell(r.structure) for r in c.acceptable.itertuples() if r.all_accept]
    lines.append(
        f"Accepted by every bloc (secession-proof, direct money): {', '.join(every) or 'none'}."
    )
    return lines


def comparison_md(c: Comparison) -> str:
    """A readable Markdown report; every name is escaped (docs/design.md#safe-reports)."""
    lines = [
        f"# Comparison of {len(c.structures)} structures on {md_cell(c.dataset)}",
        "",
        f"{price_phrase(c.price, c.provenance).capitalize()}; revenue {c.revenue_usd:,.0f} USD a "
        "year; "
        f"population {c.population:,.0f}. {len(c.feasible)} structures have a verified optimum.",
        "",
        "Money per head is shown two ways. Direct: a group's own allocation. Served: direct "
        "plus a head-share of the centre's slice (and, under a deal, of each government account "
        "over the people it serves). Preferences, rankings and the Condorcet winner compare "
        "served money; surplus over secession, acceptance, secession-proof, Gini and "
        "Loosemore-Hanby count direct money.",
        "",
        *_centre_lines(c),
        "## Verdict",
        "",
        *_verdict(c),
        "",
        "## Structures",
        "",
    ]
    lines += _md_table(
        [
            "structure",
            "status",
            "centre's share",
            "Gini (direct)",
            "lowest/highest a head (direct)",
            "Loosemore-Hanby (direct)",
            "secession-proof (direct)",
            "reason",
        ],
        [
            [
                md_cell(r.structure),
                md_cell(r.status),
                _fmt(r.centre_share, ".1%"),
                _fmt(r.gini, ".4f"),
                _fmt(r.min_max_per_head_ratio, ".3f"),
                _fmt(r.loosemore_hanby, ".4f"),
                "-" if not r.feasible else "yes" if r.secession_proof else "no",
                md_cell(r.reason),
            ]
            for r in c.metrics.itertuples()
        ],
    )
    lines += ["", _note(["centre", "gini", "min-max", "loosemore-hanby", "secession-proof"])]
    if c.feasible:
        for title, table in (("faction", c.factions), ("bloc", c.blocs)):
            lines += [
                "",
                f"## Money per head by {title} (USD a year)",
                "",
                "Direct money a head (the group's own allocation):",
                "",
                *_wide_md(table, "usd_per_head_direct", c.feasible),
                "",
                "Served money a head: direct plus the centre's slice a head"
                + (
                    " (a deal's governments count too, a head of the people each serves)"
                    if _deal(c)
                    else ""
                )
                + "; the view preferences use:",
                "",
                *_wide_md(table, "usd_per_head_with_centre", c.feasible),
            ]
            if "guaranteed_usd" in table:
                lines += [
                    "",
                    "Guaranteed if others capture the centre (the least under the entrenched rules "
                    "alone):",
                    "",
                    *_wide_md(
                        table.assign(g=table["guaranteed_usd"] / table["population"]),
                        "g",
                        c.feasible,
                    ),
                ]
        lines += [
            "",
            "## Surplus over secession (direct money, USD a year)",
            "",
            *_wide_md(c.blocs, "surplus_over_secession_usd", c.feasible),
            "",
            _note(["surplus", "accepts"]),
            "",
            "## Rankings (best first, by served money a head)",
            "",
        ]
        ranking_rows = []
        for (level, group), g in c.rankings.groupby(["level", "group"], sort=False):
            order = "; ".join(f"{int(r.rank)}. {md_cell(r.structure)}" for r in g.itertuples())
            ranking_rows.append([level, md_cell(group), order])
        lines += _md_table(["level", "group", "ranking"], ranking_rows)
        lines += ["", "## Pairwise majorities (population, by cell, served money)", ""]
        lines += _md_table(
            ["a", "b", "prefer a", "prefer b", "indifferent", "majority"],
            [
                [
                    md_cell(r.a),
                    md_cell(r.b),
                    f"{r.prefer_a:,.0f}",
                    f"{r.prefer_b:,.0f}",
                    f"{r.indifferent:,.0f}",
                    "tie" if r.winner is None else md_cell(r.winner),
                ]
                for r in c.pairwise.itertuples()
            ],
        )
    if c.feasible:
        lines += ["", _note(["preferences"])]
    lines += [
        "",
        "## Who would accept each structure (direct money against the outside option)",
        "",
    ]
    lines += _md_table(
        ["structure", "accepted by", "refused by", "every bloc accepts"],
        [
            [
                md_cell(r.structure),
                ", ".join(md_cell(b) for b in r.accepted_by) or "-",
                ", ".join(md_cell(b) for b in r.refused_by) or "-",
                ("yes" if r.all_accept else "no") if r.feasible else "-",
            ]
            for r in c.acceptable.itertuples()
        ],
    )
    p = c.provenance
    lines += [
        "",
        "## Provenance",
        "",
        f"- Solver {md_cell(str(p.get('solver')))}; "
        f"generated {md_cell(str(p.get('generated_at')))}.",
        *[
            f"- Input {md_cell(k)}: sha256 {md_cell(h)}"
            for k, h in sorted(dict(p.get("inputs", {})).items())
        ],
        *[
            f"- Version {md_cell(k)} {md_cell(v)}"
            for k, v in sorted(dict(p.get("versions", {})).items())
        ],
        "",
    ]
    return "\n".join(lines)


def _note(terms: list[str]) -> str:
    """A glossary line under a Markdown table."""
    return glossary_text(terms)


def _centre_lines(c: Comparison, cell: Callable[[str], str] = md_cell) -> list[str]:
    """Which structures name their centre (a deal's central government), and what that means."""
    named = [(n, c.definitions[n].centre) for n in c.structures]
    return [
        f"Under {cell(n)} the centre is the {cell(centre)}: its slice is no group's direct "
        "money, so a group can get little directly and still be served well."
        for n, centre in named
        if centre not in ("", "centre")
    ]


def _terminal_wide(table: pd.DataFrame, column: str, structures: tuple[str, ...]) -> str:
    """Rows of structures, columns of groups, whole numbers with thousands separators."""
    wide = table.pivot_table(
        index="structure", columns="group", values=column, aggfunc="first", sort=False
    ).reindex(list(structures))
    wide = wide[list(dict.fromkeys(table["group"]))]
    wide.columns.name = None
    wide.index.name = "structure"
    # Adding 0.0 turns a negative zero into zero, so nothing prints as "-0".
    return wide.to_string(float_format=lambda v: f"{round(v) + 0.0:,.0f}")


def comparison_table(c: Comparison) -> str:
    """A plain-text summary for the terminal."""
    m = c.metrics.copy()
    summary = pd.DataFrame(
        {
            "structure": m["structure"],
            "status": m["status"],
            "centre": [_fmt(v, ".1%") for v in m["centre_share"]],
            "Gini (direct)": [_fmt(v, ".4f") for v in m["gini"]],
            "min/max (direct)": [_fmt(v, ".3f") for v in m["min_max_per_head_ratio"]],
            "every bloc accepts (direct)": [
                ("yes" if a else "no") if f else "-"
                for a, f in zip(c.acceptable["all_accept"], c.acceptable["feasible"], strict=True)
            ],
        }
    )
    out = [
        f"{c.dataset} {price_phrase(c.price, c.provenance, short=True)}: revenue "
        f"{c.revenue_usd:,.0f} USD a year; "
        f"{len(c.feasible)} of {len(c.structures)} structures feasible",
        "",
        summary.to_string(index=False),
        *glossary_lines(["centre", "gini", "min-max", "secession-proof"]),
        *[w for line in _centre_lines(c, str) for w in textwrap.wrap(line, 100)],
    ]
    out += [
        f"  {n}: {c.status[n]}: {c.infeasible.get(n) or c.not_applicable.get(n, '')}"
        for n in c.structures
        if c.allocations.get(n) is None
    ]
    if c.feasible:
        for title, table in (("faction", c.factions), ("bloc", c.blocs)):
            out += [
                "",
                f"USD a head by {title}, direct allocation only (the {title}'s own money):",
                _terminal_wide(table, "usd_per_head_direct", c.feasible),
                "",
                f"USD a head by {title}, served: direct plus the centre's slice per head "
                "(the view preferences use):",
                *(
                    ["(a deal's governments count too, a head of the people each serves)"]
                    if _deal(c)
                    else []
                ),
                _terminal_wide(table, "usd_per_head_with_centre", c.feasible),
            ]
            if "guaranteed_usd" in table:
                out += [
                    "",
                    f"USD per head by {title}, guaranteed if others capture the centre (the least "
                    "under the entrenched rules alone):",
                    _terminal_wide(
                        table.assign(g=table["guaranteed_usd"] / table["population"]),
                        "g",
                        c.feasible,
                    ),
                ]
        out += [
            "",
            "Surplus over secession, direct money, million USD a year (negative: the bloc "
            "refuses):",
            _terminal_wide(
                c.blocs.assign(m=c.blocs["surplus_over_secession_usd"] / 1e6),
                "m",
                c.feasible,
            ),
            *glossary_lines(["surplus"]),
        ]
    out += ["", *[w for line in _verdict(c, str) for w in textwrap.wrap(line, 100)]]
    return "\n".join(out)


def write_comparison(c: Comparison, outdir: str | Path, *, force: bool = False) -> Path:
    """Write ``comparison.csv``, ``comparison.json``, ``report.md``, ``report.html`` and
    ``manifest.json`` (their SHA-256) as the report folder ``outdir``, replaced as a whole.

    Raises
    ------
    InputError
        ``E-OUTPUT-EXISTS`` when a report is already there and ``force`` is false,
        ``E-OUTPUT-SYMLINK`` when a report's path is a symbolic link; checked before anything
        is rendered, and again by :func:`~revshare.atomic.write_bundle` before writing.
    """
    problems = check_outputs(Path(outdir), [*COMPARISON_FILES, "manifest.json"], force)
    if problems:
        raise InputError(problems)
    files = {
        "comparison.csv": comparison_csv(c),
        "comparison.json": comparison_json(c),
        "report.md": comparison_md(c).encode("utf-8"),
        "report.html": comparison_html(c).encode("utf-8"),
    }
    return write_report_bundle(outdir, files, force=force)
