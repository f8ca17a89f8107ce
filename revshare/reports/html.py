"""Self-contained HTML reports: one allocation (``revshare optimize``) or a comparison.

Safety (docs/design.md#safe-reports): templates are rendered by Jinja2 with autoescaping on for every
template, so every name from the data is HTML-escaped; nothing is marked safe. Each page carries a
Content-Security-Policy (``default-src 'none'; style-src 'unsafe-inline'; img-src data:``, plus
``base-uri`` and ``form-action`` ``'none'``, which do not fall back to ``default-src``) that
forbids script, frames, fonts, forms and any fetch, so even a missed escape could not run code or
call out. Names are wrapped in ``<bdi dir="auto">`` (in the ``<title>``, which holds only text, in
U+2068...U+2069), so an Arabic name does not reorder the numbers beside it. Charts are SVG from
matplotlib, embedded as ``data:`` images (see :mod:`revshare.reports.charts`). Nothing is
loaded from the network: the page is one file.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined

from ..analyses.compare import ACCEPT_RELATIVE, Comparison, timestamp
from ..analyses.guarantees import Guarantees
from ..analyses.optimize import Allocation
from . import charts

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'"
)
FSI, PDI = "\u2068", "\u2069"


@dataclass(frozen=True)
class Chart:
    """A chart for the page: a caption, a text alternative, and the image as a data URI."""

    title: str
    alt: str
    src: str


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def usd(value: Any) -> str:
    """Whole dollars with thousands separators; a dash when missing."""
    return "\u2013" if _missing(value) else f"{float(value):,.0f}"


def per_head(value: Any) -> str:
    return "\u2013" if _missing(value) else f"{float(value):,.2f}"


def pct(value: Any) -> str:
    return "\u2013" if _missing(value) else f"{float(value):.1%}"


def ratio(value: Any) -> str:
    return "\u2013" if _missing(value) else f"{float(value):.4f}"


def yes_no(value: Any) -> str:
    return "\u2013" if _missing(value) else "yes" if bool(value) else "no"


def isolate(text: Any) -> str:
    """Text wrapped in first-strong isolate marks, for places that hold no markup."""
    return f"{FSI}{text}{PDI}"


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
        usd=usd, per_head=per_head, pct=pct, ratio=ratio, yes_no=yes_no, isolate=isolate
    )
    env.globals["CSP"] = CSP
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


def comparison_charts(c: Comparison) -> list[Chart]:
    """Per-head money by faction, Lorenz curves and each bloc's surplus over secession."""
    if not c.feasible:
        return []
    curves = {}
    for name in c.feasible:
        a = c.allocations[name]
        if a is not None:
            curves[name] = (*_lorenz_input(a.cells), float(a.metrics["gini"]))
    return [
        Chart(
            "Money per head by faction under each structure",
            "Grouped bar chart of money per head a year for each faction under each structure: "
            "solid bars are the direct allocation, hatched tops the centre's slice per head. "
            "The same figures are in the tables below.",
            charts.data_uri(charts.per_head_bars(c.factions, group_label="faction")),
        ),
        Chart(
            "Lorenz curves of direct money per head",
            "Lorenz curves, one per structure, of directly allocated money per head over the "
            "population; the Gini coefficients are in the structures table.",
            charts.data_uri(charts.lorenz_curves(curves)),
        ),
        Chart(
            "Each bloc's surplus over secession",
            "Bar chart of each bloc's money in the union minus its outside option, under each "
            "structure; below zero the bloc would do better seceding. The figures are in the "
            "bloc table.",
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
        structures.append(
            {
                **row,
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
    return {
        "c": c,
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


def _single(table: pd.DataFrame, key: str, structure: str, centre_per_head: float) -> pd.DataFrame:
    out = table.rename(columns={key: "group", "usd_per_head": "usd_per_head_direct"})
    out["structure"] = structure
    out["usd_per_head_with_centre"] = out["usd_per_head_direct"] + centre_per_head
    return out


def allocation_charts(a: Allocation) -> list[Chart]:
    """Per-head money by region and by faction, the Lorenz curve and each bloc's surplus."""
    name = a.structure.name
    centre = a.centre_usd / float(a.cells["population"].sum())
    blocs = a.blocs.rename(columns={"bloc": "group"}).assign(structure=name)
    return [
        Chart(
            "Money per head by region",
            "Bar chart of money per head a year by region: solid bars are the direct "
            "allocation, hatched tops the centre's slice per head. The figures are in the "
            "region table.",
            charts.data_uri(
                charts.per_head_bars(
                    _single(a.regions, "region", name, centre), group_label="region"
                )
            ),
        ),
        Chart(
            "Money per head by faction",
            "Bar chart of money per head a year by faction, direct and with the centre's slice "
            "per head. The figures are in the faction table.",
            charts.data_uri(
                charts.per_head_bars(
                    _single(a.factions, "faction", name, centre), group_label="faction"
                )
            ),
        ),
        Chart(
            "Lorenz curve of direct money per head",
            "Lorenz curve of directly allocated money per head over the population.",
            charts.data_uri(
                charts.lorenz_curves({name: (*_lorenz_input(a.cells), float(a.metrics["gini"]))})
            ),
        ),
        Chart(
            "Each bloc's surplus over secession",
            "Bar chart of each bloc's money in the union minus its outside option; below zero "
            "the bloc would do better seceding. The figures are in the bloc table.",
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
                f"Money per head by {level}: fair centre and hostile centre",
                f"Bars of fair and guaranteed money per head by {level} and structure",
                charts.data_uri(charts.guarantee_bars(chart_table, group_label=level)),
            )
        )
    return _ENV.get_template("guarantees.html.j2").render(
        {
            "g": g,
            "rows": _records(table),
            "capture": _records(g.capture),
            "entrenched": [(n, rules, why) for n, (rules, why) in g.entrenched.items()],
            "charts": figures,
            "generated_at": timestamp(),
        }
    )
