"""Self-contained HTML reports: one allocation (``revshare optimize``) or a comparison.

Safety (docs/design.md#safe-reports): templates are rendered by Jinja2 with autoescaping on for every
template, so every name from the data is HTML-escaped; the one markup made in Python is the
``<span>`` and ``<wbr>`` that :func:`~revshare.reports.cells.path_breaks` puts around the escaped
names of a path. Each page carries a Content-Security-Policy (``default-src 'none'; style-src 'unsafe-inline'; img-src data:``, plus
``base-uri`` and ``form-action`` ``'none'``, which do not fall back to ``default-src``) that
forbids script, frames, fonts, forms and any fetch, so even a missed escape could not run code or
call out. Names are wrapped in ``<bdi dir="auto">`` (in the ``<title>``, which holds only text, in
U+2068...U+2069), so an Arabic name does not reorder the numbers beside it. Charts are SVG from
matplotlib, embedded as ``data:`` images (see :mod:`revshare.reports.charts`). Nothing is
loaded from the network: the page is one file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, Template

from ..analyses.compare import ACCEPT_RELATIVE, Comparison, timestamp
from ..analyses.optimize import Allocation
from . import charts
from .cells import gain, isolate, path_breaks, pct, per_head, ratio, usd, yes_no
from .words import GLOSSARY, aim, glossary

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'"
)


@dataclass(frozen=True)
class Chart:
    """A chart for the page: a caption, a text alternative, and the image as a data URI."""

    title: str
    alt: str
    src: str
    note: str = ""


_HEADING = re.compile(r"<h2>(.*?)</h2>", re.S)
CONTENTS_FROM = 4
"""A page with at least this many sections gets a table of contents."""


def with_contents(html: str) -> str:
    """The page with an id on every section heading (``<h2>``) and, for a long page, a table of
    contents linking to them before the first section or chart. The links are fragments of the page
    itself (``#s1``): nothing is loaded. The headings' text is already escaped."""
    headings: list[str] = []

    def number(match: re.Match[str]) -> str:
        headings.append(match.group(1))
        return f'<h2 id="s{len(headings)}">{match.group(1)}</h2>'

    out = _HEADING.sub(number, html)
    if len(headings) < CONTENTS_FROM:
        return out
    items = "".join(f'<li><a href="#s{i}">{h}</a></li>' for i, h in enumerate(headings, 1))
    nav = f'<nav class="contents" aria-label="Contents"><strong>Contents</strong><ol>{items}</ol></nav>\n'
    first = min(i for i in (out.find("<figure"), out.index('<h2 id="s1">')) if i >= 0)
    return out[:first] + nav + out[first:]


class _ReportTemplate(Template):
    """A template whose page gets section ids and, when long, a table of contents."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        return with_contents(super().render(*args, **kwargs))


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("revshare.reports", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        usd=usd,
        per_head=per_head,
        gain=gain,
        path_breaks=path_breaks,
        pct=pct,
        ratio=ratio,
        yes_no=yes_no,
        isolate=isolate,
    )
    env.globals["CSP"] = CSP
    env.template_class = _ReportTemplate
    return env


_ENV = _environment()


def _wide(table: pd.DataFrame, value: str, structures: list[str]) -> list[dict[str, Any]]:
    """Rows of structures, one value per group, in the order groups first appear."""
    groups = list(dict.fromkeys(table["group"]))
    out = []
    for name in structures:
        rows = table[table["structure"] == name].set_index("group").reindex(groups)
        out.append({"structure": name, "values": rows[value].tolist()})
    return out


def _group_names(table: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(table["group"]))


def _provenance(p: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "inputs": sorted(dict(p.get("inputs", {})).items()),
        "versions": sorted(dict(p.get("versions", {})).items()),
        "notices": list(p.get("notices", [])),
        "solver": p.get("solver", ""),
    }


def _lorenz_input(cells: pd.DataFrame) -> tuple[Any, Any]:
    return cells["usd_per_head"].to_numpy(dtype=float), cells["population"].to_numpy(dtype=float)


def _same_note(kind: str, same: list[tuple[str, ...]]) -> str:
    """A caption's note naming the series drawn as one because they are equal."""
    shared = ["; ".join(" = ".join(n) for n in same if len(n) > 1)]
    return f"{kind} with the same values share one line: {shared[0]}." if shared[0] else ""


def comparison_charts(c: Comparison) -> list[Chart]:
    """Money per head by faction (direct and served), Lorenz curves of direct money and each
    bloc's surplus over secession."""
    if not c.feasible:
        return []
    curves = {}
    for name in c.feasible:
        a = c.allocations[name]
        if a is not None:
            curves[name] = (*_lorenz_input(a.cells), float(a.metrics["gini"]))
    same = charts.coincident({n: charts.lorenz_points(v[0], v[1])[1] for n, v in curves.items()})
    return [
        Chart(
            "Money per head by faction under each structure: direct and served",
            "One panel per faction, one bar per structure: the dark part is the faction's direct "
            "money a head a year, the light part what the centre's slice a head adds; the whole "
            "bar is its served money, the view preferences use. The same figures are in the "
            "faction tables below.",
            charts.data_uri(charts.per_head_bars(c.factions, group_label="faction")),
        ),
        Chart(
            "Lorenz curves of direct money per head",
            "Lorenz curves, one per structure, of direct money per head over the population "
            "(the centre's slice not counted); the Gini coefficients are in the structures table.",
            charts.data_uri(charts.lorenz_curves(curves)),
            _same_note("Structures", same),
        ),
        Chart(
            "Each bloc's surplus over secession (direct money)",
            "One panel per bloc, one bar per structure: the bloc's direct money minus its outside "
            "option, green where it accepts and red where it would do better seceding. The "
            "figures are in the surplus table.",
            charts.data_uri(charts.surplus_bars(c.blocs)),
        ),
    ]


def _ranking_rows(rankings: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for (level, group), g in rankings.groupby(["level", "group"], sort=False):
        rows.append(
            {
                "level": level,
                "group": group,
                "items": [(int(r.rank), r.structure, r.usd_per_head) for r in g.itertuples()],
            }
        )
    return rows


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [dict(r) for r in frame.to_dict("records")]


def comparison_context(c: Comparison) -> dict[str, Any]:
    """Everything the comparison template shows, as plain values."""
    feasible = list(c.feasible)
    accept = c.acceptable.set_index("structure")
    structures = []
    for row in _records(c.metrics):
        name = row["structure"]
        role = (
            "Condorcet winner"
            if c.condorcet.winner == name
            else "in the top cycle"
            if name in c.condorcet.smith_set and c.condorcet.winner is None
            else ""
        )
        centre = c.definitions[name].centre
        structures.append(
            {
                **row,
                "centre_name": "" if centre in ("", "centre") else centre,
                "role": role,
                "accepted_by": list(accept.loc[name, "accepted_by"]),
                "refused_by": list(accept.loc[name, "refused_by"]),
                "all_accept": bool(accept.loc[name, "all_accept"]),
            }
        )
    surplus = []
    for name in feasible:
        rows = c.blocs[c.blocs["structure"] == name].set_index("group")
        surplus.append(
            {
                "structure": name,
                "values": [
                    (rows.loc[b, "surplus_over_secession_usd"], bool(rows.loc[b, "accepts"]))
                    for b in _group_names(c.blocs)
                ],
            }
        )
    named = [
        (n, c.definitions[n].centre)
        for n in c.structures
        if c.definitions[n].centre not in ("", "centre")
    ]
    return {
        "c": c,
        "named_centres": named,
        "direct_note": GLOSSARY["direct"],
        "served_note": GLOSSARY["served"]
        + (
            "; under a deal each government account counts for the people it serves"
            if named
            else ""
        ),
        "structure_notes": glossary(
            ["centre", "gini", "min-max", "loosemore-hanby", "secession-proof", "condorcet"]
        ),
        "surplus_notes": glossary(["surplus", "accepts"]),
        "ranking_notes": glossary(["preferences"]),
        "pairwise_notes": glossary(["preferences"]),
        "feasible": feasible,
        "structures": structures,
        "factions": _group_names(c.factions),
        "blocs": _group_names(c.blocs),
        "faction_direct": _wide(c.factions, "usd_per_head_direct", feasible),
        "faction_with_centre": _wide(c.factions, "usd_per_head_with_centre", feasible),
        "bloc_direct": _wide(c.blocs, "usd_per_head_direct", feasible),
        "bloc_with_centre": _wide(c.blocs, "usd_per_head_with_centre", feasible),
        "surplus": surplus,
        "rankings": _ranking_rows(c.rankings),
        "pairwise": _records(c.pairwise),
        "charts": comparison_charts(c),
        "provenance": _provenance(c.provenance),
        "generated_at": c.provenance.get("generated_at", timestamp()),
    }


def comparison_html(c: Comparison) -> str:
    """The comparison as one self-contained, escaped HTML page."""
    return _ENV.get_template("comparison.html.j2").render(comparison_context(c))


def _single(table: pd.DataFrame, key: str, structure: str) -> pd.DataFrame:
    out = table.rename(columns={key: "group", "usd_per_head": "usd_per_head_direct"})
    out["structure"] = structure
    out["usd_per_head_with_centre"] = out["usd_per_head_served"]
    return out


def allocation_charts(a: Allocation) -> list[Chart]:
    """Per-head money by region and by faction (direct and served), the Lorenz curve of direct
    money and each bloc's surplus over secession."""
    name = a.structure.name
    blocs = a.blocs.rename(columns={"bloc": "group"}).assign(
        structure=name,
        accepts=a.blocs["surplus_over_secession_usd"] >= -ACCEPT_RELATIVE * a.revenue_usd,
    )
    served = (
        "the light part what the centre's slice a head (and any government serving it) adds; "
        "the whole bar is served money"
    )
    return [
        Chart(
            "Money per head by region: direct and served",
            f"Bar chart of money per head a year by region: the dark part is direct money, {served}. "
            "The figures are in the region table.",
            charts.data_uri(
                charts.per_head_bars(_single(a.regions, "region", name), group_label="region")
            ),
        ),
        Chart(
            "Money per head by faction: direct and served",
            f"Bar chart of money per head a year by faction: the dark part is direct money, "
            f"{served}. The figures are in the faction table.",
            charts.data_uri(
                charts.per_head_bars(_single(a.factions, "faction", name), group_label="faction")
            ),
        ),
        Chart(
            "Lorenz curve of direct money per head",
            "Lorenz curve of direct money per head over the population (the centre's slice not "
            "counted).",
            charts.data_uri(
                charts.lorenz_curves({name: (*_lorenz_input(a.cells), float(a.metrics["gini"]))})
            ),
        ),
        Chart(
            "Each bloc's surplus over secession (direct money)",
            "Bar chart of each bloc's direct money minus its outside option, green where it "
            "accepts and red where it would do better seceding. The figures are in the bloc "
            "table.",
            charts.data_uri(charts.surplus_bars(blocs)),
        ),
    ]


def _bloc_of(a: Allocation) -> dict[str, str]:
    return dict(zip(a.cells["region"], a.cells["bloc"], strict=True))


def allocation_context(a: Allocation) -> dict[str, Any]:
    """Everything the allocation template shows, as plain values."""
    population = float(a.cells["population"].sum())
    centre = a.centre_usd / population
    tolerance = ACCEPT_RELATIVE * a.revenue_usd
    return {
        "a": a,
        "s": a.structure,
        "metric": dict(a.metrics),
        "centre_per_head": centre,
        "regions": _records(a.regions.assign(bloc=a.regions["region"].map(_bloc_of(a)))),
        "factions": _records(a.factions),
        "blocs": [
            {**r, "accepts": r["surplus_over_secession_usd"] >= -tolerance}
            for r in _records(a.blocs)
        ],
        "binding": _records(a.binding),
        "aim": aim(a.structure.objective),
        "head_notes": glossary(
            ["centre", "gini", "min-max", "loosemore-hanby", "secession-proof"],
            centre=a.structure.centre,
        ),
        "view_notes": glossary(["direct", "served"]),
        "bloc_notes": glossary(["direct", "served", "surplus", "accepts"]),
        "accounts": _records(a.accounts) if len(a.accounts) > 1 else [],
        "flows": _flows(a),
        "charts": allocation_charts(a),
        "provenance": _provenance(a.provenance),
        "p": dict(a.provenance),
        "generated_at": timestamp(),
    }


def _flows(a: Allocation) -> list[dict[str, Any]]:
    """A deal's pools in the order the rules first draw on them, each with one part per rule
    (named after its recipient when it pays one) and what it leaves (to later rules, or to the
    structure's objective), as shares of the pool."""
    out: dict[str, dict[str, Any]] = {}
    for p in _records(a.payments):
        pool = out.setdefault(p["pool"], {"pool": p["pool"], "usd": p["pool_usd"], "parts": {}})
        part = pool["parts"].setdefault(p["rule"], {"rule": p["rule"], "usd": 0.0, "paid": []})
        part["usd"] += p["usd"]
        part["paid"].append(p["recipient"])
    flows = []
    for pool in out.values():
        total = max(pool["usd"], 1e-300)
        parts = list(pool["parts"].values())
        for part in parts:
            many = len(part["paid"])
            part["label"] = part["paid"][0] if many == 1 else f"{part['rule']} ({many} recipients)"
            part["share"] = part["usd"] / total
        left = max(pool["usd"] - sum(part["usd"] for part in parts), 0.0)
        flows.append({**pool, "parts": parts, "left": {"usd": left, "share": left / total}})
    return flows


def allocation_html(a: Allocation) -> str:
    """One allocation as a self-contained, escaped HTML page (``report.html`` of ``optimize``)."""
    return _ENV.get_template("allocation.html.j2").render(allocation_context(a))
