"""The words every report uses for its figures: which money each counts, and a one-line glossary.

Two views of money per head appear in the reports (issue 15):

- **direct**: what a cell, region, faction or bloc receives itself, its own allocation. Surplus
  over secession, "accepts", "secession-proof", the Gini and Loosemore-Hanby indices, sweeps and
  periods count direct money.
- **served**: direct money plus a head-share of the centre's slice (spread over everyone) and of
  every government account that serves the group (a deal's regional government, spread over the
  people it serves). Preferences, rankings, pairwise majorities, the Condorcet winner, referendum
  votes and a fair centre in the guarantees count served money.

Terminal tables, Markdown, HTML and chart labels all take their wording from here, so a figure
says the same thing in every format.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable

DIRECT = "direct"
SERVED = "served"

GLOSSARY: dict[str, str] = {
    "direct": "direct: money paid to the group's own people (its cells), the centre's slice not "
    "counted",
    "served": "served: direct money plus a head-share of the centre's slice and of any government "
    "account serving the group (spending counted as benefiting everyone it serves alike)",
    "surplus": "surplus over secession: a bloc's direct money minus its outside option (the "
    "revenue of its own fields, net of transit fees, it would keep by seceding)",
    "accepts": "accepts: the bloc's surplus over secession is not below zero (to a millionth of "
    "revenue); below zero it would do better seceding",
    "secession-proof": "secession-proof: every bloc accepts",
    "gini": "Gini: inequality of direct money per head across cells, 0 when everyone gets the "
    "same, towards 1 when a few get everything",
    "min-max": "lowest / highest: the lowest cell's direct money per head divided by the "
    "highest's (1 is equal)",
    "loosemore-hanby": "Loosemore-Hanby: the share of direct money that would have to move for "
    "every cell to get its population share (0 to 1)",
    "centre": "centre: the central government's slice, spent for everyone; counted in the served "
    "view only",
    "preferences": "preferences (rankings, pairwise majorities, the Condorcet winner) compare "
    "served money a head; a difference of a cent or less is indifference",
    "condorcet": "Condorcet winner: the structure a population majority, counted cell by cell, "
    "prefers to every other",
    "fair": "fair: the structure's allocation with a fair centre, in the served view",
    "guaranteed": "guaranteed: the least the group can receive under the structure's entrenched "
    "rules alone, when whoever holds the centre uses every freedom left against it",
    "exposure": "exposure: fair minus guaranteed",
    "binding": "a rule that binds is one the answer presses against: loosening it by a dollar "
    "would move the optimizer's measure by the amount shown; rules not listed have room to spare",
    "percentiles": "percentiles over the scenarios: 5% of the scenarios give less than the 5% "
    "column, half less than the median",
    "quota": "quota: the seats a locality would get in exact proportion to its population",
}

AIMS: dict[str, str] = {
    "proportional": "money as close as the rules allow to each region's share of the population",
    "needs": "money as close as the rules allow to shares of population weighted by need",
    "formula": "money as close as the rules allow to the indicator formula's shares",
    "maxmin": "the most money a head for the worst-off cell",
    "leximin": "the most for the worst-off cell, then the next worst-off, and so on",
    "centre-residual": "every rule met exactly, and the rest to the centre",
    "nash": "the bargain that best balances every group's gain over seceding (Nash)",
}


def aim(objective: str) -> str:
    """The objective in plain words, e.g. ``proportional: money as close as ... population``."""
    return f"{objective}: {AIMS.get(objective, 'as the structure defines it')}"


def centre_words(centre: str) -> str:
    """How a structure's centre is named: ``the centre``, or ``the National Government (the
    centre)`` under a deal whose central account has its own name."""
    return "the centre" if centre in ("", "centre") else f"the {centre} (the centre)"


def glossary(terms: Iterable[str], *, centre: str = "centre") -> list[str]:
    """The glossary lines of ``terms``; the centre's line names a deal's central account."""
    out = []
    for term in terms:
        line = GLOSSARY[term]
        if term == "centre" and centre not in ("", "centre"):
            line = (
                f"centre: the {centre}, the central government's account, spent for everyone; "
                "counted in the served view only"
            )
        out.append(line)
    return out


def glossary_text(terms: Iterable[str], *, centre: str = "centre") -> str:
    """The glossary lines joined for a Markdown note: ``A; b.``"""
    text = "; ".join(glossary(terms, centre=centre)) + "."
    return text[:1].upper() + text[1:]


def glossary_lines(terms: Iterable[str], *, centre: str = "centre", width: int = 100) -> list[str]:
    """The glossary for a terminal: one term a line, wrapped at ``width`` and indented under
    its first line."""
    out = []
    for line in glossary(terms, centre=centre):
        out += textwrap.wrap(line, width, initial_indent="  ", subsequent_indent="    ")
    return out
