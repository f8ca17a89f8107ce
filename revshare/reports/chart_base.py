"""What every chart shares: safe, reproducible SVG settings, a small palette, and data URIs.

Figures are built with :class:`matplotlib.figure.Figure` directly, never through ``pyplot``, so no
global figure registry or interactive backend is involved; SVG output needs no backend choice.

Names from the data reach the charts as tick labels, panel titles and legend entries. Three
settings make that safe and faithful:

- ``text.parse_math`` off: a name with ``$`` signs is shown as written, never parsed as
  mathtext (which could fail on it).
- ``svg.fonttype = "none"``: text stays text (``<text>`` elements, XML-escaped by matplotlib), so
  the browser shapes Arabic and applies the bidirectional algorithm; matplotlib's own glyph
  layout does neither and would print Arabic letters unjoined and backwards.
- ``svg.hashsalt`` fixed and no date in the metadata: the same data gives the same bytes.

Legibility: at most six colours (Okabe and Ito's colour-blind-safe set); a seventh series
repeats a colour with another line style (:func:`style`), so no two series look alike.
"""

from __future__ import annotations

import base64
import io
import textwrap
import warnings
from collections.abc import Callable
from typing import Literal

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure

LABEL_CHARS = 28
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00")
"""Okabe and Ito (2008), less yellow and black: six colours told apart by colour-blind readers."""
LineStyle = Literal["-", "--", ":", "-."]
LINE_STYLES: tuple[LineStyle, ...] = ("-", "--", ":", "-.")
DIRECT = "#0072B2"  # a group's own money
EXTRA = "#A6CEE3"  # what the served view adds (the centre's slice a head), or a fair centre
GOOD = "#1B7837"  # a bloc that accepts
BAD = "#B2182B"  # a bloc that refuses


def data_uri(svg: str) -> str:
    """An SVG document as a base64 ``data:`` URI, for an ``<img src>``."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def short(name: str, limit: int = LABEL_CHARS) -> str:
    """A label cut to ``limit`` characters with an ellipsis; the tables carry the full name."""
    flat = " ".join(str(name).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "\u2026"


def style(k: int) -> tuple[str, LineStyle]:
    """The colour and line style of the ``k``-th series: six colours, then other line styles."""
    return PALETTE[k % len(PALETTE)], LINE_STYLES[(k // len(PALETTE)) % len(LINE_STYLES)]


def money_unit(values: np.ndarray) -> tuple[float, str]:
    """A divisor and its unit so that the largest value reads in ones to thousands."""
    biggest = float(np.max(np.abs(values))) if values.size else 0.0
    for factor, label in ((1e9, "billion USD"), (1e6, "million USD"), (1e3, "thousand USD")):
        if biggest >= factor:
            return factor, label
    return 1.0, "USD"


def label_inches(labels: list[str], size: float = 8.0) -> float:
    """A generous estimate of the width of the longest label, in inches."""
    return max((len(s) for s in labels), default=0) * size * 0.62 / 72


def fit_label(text: str, inches: float, size: float = 9.0) -> str:
    """``text`` wrapped onto as many lines as it takes to fit ``inches`` (by the estimate of
    :func:`label_inches`), so that a panel's axis label does not run into its neighbour's."""
    per_line = max(12, int(inches * 72 / (size * 0.62)))
    return textwrap.fill(text, per_line, break_on_hyphens=False)


def _render(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    return buf.getvalue().decode("utf-8")


def render(draw: Callable[[], Figure]) -> str:
    """Draw a figure under the safe settings and return it as SVG text."""
    with (
        mpl.rc_context(
            {
                "svg.fonttype": "none",
                "svg.hashsalt": "revshare",
                "text.parse_math": False,
                "font.size": 9.0,
                "axes.spines.top": False,
                "axes.spines.right": False,
                "legend.frameon": False,
                "legend.fontsize": 8.0,
            }
        ),
        warnings.catch_warnings(),
    ):
        # A glyph missing from matplotlib's font only affects its layout estimate: the text is
        # written as text and the browser draws it with its own fonts.
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font")
        return _render(draw())
