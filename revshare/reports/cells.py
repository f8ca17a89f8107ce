"""How the HTML pages write a cell: money, shares, yes/no, isolated names and file paths.

Each is a Jinja2 filter of the reports' templates (:mod:`revshare.reports.html`); a missing
value prints as a dash, and no figure prints as ``-0``.
"""

from __future__ import annotations

import math
import re
from typing import Any

from markupsafe import Markup

FSI, PDI = "\u2068", "\u2069"  # first-strong isolate, pop directional isolate


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def usd(value: Any) -> str:
    """Whole dollars with thousands separators; a dash when missing. A negative amount that
    rounds to zero prints as 0, never as -0."""
    return "\u2013" if _missing(value) else f"{round(float(value)) + 0.0:,.0f}"


def per_head(value: Any) -> str:
    return "\u2013" if _missing(value) else f"{float(value):,.2f}"


def gain(value: Any) -> str:
    """A signed amount a head, to the cent; one that rounds to zero prints as 0.00, unsigned."""
    if _missing(value):
        return "\u2013"
    cents = round(float(value), 2) + 0.0
    return "0.00" if cents == 0 else f"{cents:+,.2f}"


def pct(value: Any) -> str:
    return "\u2013" if _missing(value) else f"{float(value):.1%}"


def ratio(value: Any) -> str:
    return "\u2013" if _missing(value) else f"{float(value):.4f}"


def yes_no(value: Any) -> str:
    return "\u2013" if _missing(value) else "yes" if bool(value) else "no"


def path_breaks(path: Any) -> Markup:
    """A file path escaped, each name (with the separator after it) kept whole in a
    ``<span class="name">`` (no break inside, not even at a hyphen) and a line-break opportunity
    (``<wbr>``) after each ``/`` and ``\\``, so that a long path wraps between its names."""
    pieces = [p for p in _SEPARATOR.split(str(path)) if p]
    return Markup("<wbr>").join(Markup('<span class="name">{}</span>').format(p) for p in pieces)


_SEPARATOR = re.compile(r"(?<=[/\\])")


def isolate(text: Any) -> str:
    """Text wrapped in first-strong isolate marks, for places that hold no markup."""
    return f"{FSI}{text}{PDI}"
