"""The HTML pages of an apportionment (``revshare convention``) and of a referendum (``revshare
ratify``), through the reports' shared templates and escaping (:mod:`revshare.reports.html`).

Jinja2 is imported only when a page is written, so the terminal summaries stay light.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from ..analyses.convention import METHODS, TIE_RULES, Apportionment
from ..analyses.referendum import RULES, Referendum
from .words import GLOSSARY, glossary

GAIN = "gain: the proposal's served money a head a year minus the status quo's"
"""The glossary line of a referendum's gain (voters compare served money, :mod:`.words`)."""


def tie_sentence(a: Apportionment, cell: Callable[[str], str]) -> str:
    """The sentence on exact ties, each name passed through ``cell`` (escaping for Markdown)."""
    if not a.ties:
        return "No exact tie decided a seat."
    return (
        f"The last {a.tied_seats} seat(s) tied exactly between "
        f"{', '.join(cell(t) for t in a.ties)}; settled by the tie rule "
        f"{cell(a.tie_rule)}: {cell(TIE_RULES[a.tie_rule])}."
    )


def apportionment_html(a: Apportionment) -> str:
    """The apportionment as one self-contained, escaped HTML page, through the reports' templates."""
    from ..analyses.compare import timestamp
    from .html import _ENV  # Jinja2 and matplotlib are imported only when a page is written

    floor = max(a.min_seats, 1) if METHODS[a.method].first_seat_free else a.min_seats
    violations = set(a.quota_violations)
    rows = [
        {
            "name": r[a.unit],
            **{k: r[k] for k in ("population", "quota", "lower_quota", "upper_quota", "seats")},
            "seat_share": r["seat_share"],
            "population_share": r["population_share"],
            "within": r[a.unit] not in violations,
        }
        for r in a.table().to_dict("records")
    ]
    gallagher = (
        "Gallagher: the square root of half the sum of squared gaps between seat and "
        "population shares, 0 to 1"
    )
    notes = [
        *glossary(["quota"]),
        "Loosemore-Hanby: the share of seats that would have to move for every locality to get "
        "its population share (0 to 1)",
        gallagher,
    ]
    return _ENV.get_template("apportionment.html.j2").render(
        a=a,
        bounds=f"at least {floor}" + (f", at most {a.max_seats}" if a.max_seats else ""),
        tie_sentence=tie_sentence(a, str),
        rows=rows,
        notes=notes,
        generated_at=timestamp(),
    )


def _vote_rows(frame: pd.DataFrame, key: str) -> list[dict[str, Any]]:
    return [
        {
            "name": r[key],
            "bloc": r.get("bloc", ""),
            **{
                k: r[k]
                for k in ("voters", "yes", "no", "yes_share", "no_share", "difference_per_head")
            },
        }
        for r in frame.to_dict("records")
    ]


def referendum_html(r: Referendum) -> str:
    """The referendum as one self-contained, escaped HTML page (``report.html`` of ``ratify``):
    the verdict and who decided it, then the votes by bloc, region and faction, each gain
    labelled as served money (what voters compare)."""
    from ..analyses.compare import timestamp
    from .html import _ENV, _provenance  # Jinja2 is imported only when a page is written

    p = dict(r.parameters)
    logistic = (
        f", logistic scale {p.get('logistic_scale_usd', 0):g} USD, seed {p.get('seed')}"
        if p.get("vote_model") == "logistic"
        else ""
    )
    return _ENV.get_template("referendum.html.j2").render(
        r=r,
        rule=RULES[r.rule],
        dataset=str(r.provenance.get("dataset", "")),
        model=f"Vote model {p.get('vote_model')}, margin {p.get('margin_usd_per_head', 0):g} "
        f"USD a head, oil price {p.get('price_usd_per_bbl', 0):g} USD a barrel{logistic}.",
        tables=[
            ("Blocs", "bloc", _vote_rows(r.blocs, "bloc")),
            ("Regions", "region", _vote_rows(r.regions, "region")),
            ("Factions", "faction", _vote_rows(r.factions, "faction")),
        ],
        notes=[GLOSSARY["served"], GAIN],
        provenance=_provenance(r.provenance),
        generated_at=timestamp(),
    )
