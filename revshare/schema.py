"""The columns of revshare's input files, declared once, as data.

:mod:`revshare.readers` validates every CSV against these schemas, and
:func:`column_dictionary_markdown` renders them for ``data/README.md``, so the documentation, the
validation and the test inputs cannot drift apart.

Kinds of column:

- ``text``: a name (a region, faction, field or bloc). Surrounding whitespace is stripped and the name
  is NFC-normalised (both with a notice); it must be at most :data:`MAX_NAME_LENGTH` characters and
  free of control, bidi-override and zero-width characters and of a script mix inside one word.
  ``NA``, ``N/A``, ``null`` and ``None`` are names like any other: only an empty cell is missing.
- ``number``: a finite decimal number with ASCII digits and a ``.`` decimal point; a leading ``+``
  and scientific notation are accepted; no thousands separators, units or formulas.
- ``bool``: ``true``/``false``, ``yes``/``no`` or ``1``/``0``, in any case.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Kind = Literal["text", "number", "bool"]
Blank = Literal["error", "default"]
Value = str | float | bool

MAX_NAME_LENGTH = 200
"""Longest accepted name, in characters; longer names are an error, never truncated."""

SHARE_TOLERANCE = 1e-9
"""How far the shares of one field may sum away from 1."""


@dataclass(frozen=True)
class Column:
    """One column of an input file.

    Parameters
    ----------
    name : str
        The header name, matched exactly (case-sensitive).
    kind : {"text", "number", "bool"}
        How a cell is parsed.
    description : str
        One line for the column dictionary.
    unit : str
        The unit of a number column, "" for none.
    required : bool
        Whether the column must be in the header.
    required_unless : str
        Another column whose presence makes this one optional.
    default : str, float or bool
        The value of every row when the column is absent (NaN: no value).
    blank : {"error", "default"}
        What an empty cell means: an error, or the default.
    low, high : float or None
        Bounds of a number column.
    low_open, high_open : bool
        Whether the bound itself is excluded.
    why : str
        Why the bounds hold, quoted when a value breaks them.
    whole : bool
        Whether a non-whole number deserves a notice.
    """

    name: str
    kind: Kind
    description: str
    unit: str = ""
    required: bool = False
    required_unless: str = ""
    default: Value = math.nan
    blank: Blank = "error"
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    why: str = ""
    whole: bool = False

    def in_range(self, value: float) -> bool:
        """Return whether ``value`` lies within the column's bounds."""
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return self.high is None or (value < self.high if self.high_open else value <= self.high)

    def range_text(self) -> str:
        """Return the bounds as text, e.g. ``0 < x <= 1``, or "" when there are none."""
        parts = []
        if self.low is not None:
            parts.append(f"{self.low:g} {'<' if self.low_open else '<='}")
        parts.append("x")
        if self.high is not None:
            parts.append(f"{'<' if self.high_open else '<='} {self.high:g}")
        return " ".join(parts) if len(parts) > 1 else ""


@dataclass(frozen=True)
class FileSchema:
    """One input file: its role, its default file name, its columns and its unique key."""

    role: str
    filename: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    optional: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        """The column names in documented order."""
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        """Return the column called ``name`` (KeyError if there is none)."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


def _name(name: str, description: str, *, required: bool = True) -> Column:
    blank: Blank = "error" if required else "default"
    return Column(name, "text", description, required=required, default="", blank=blank)


FIELDS = FileSchema(
    "fields",
    "fields.csv",
    "One row per oil field and region it lies in; a cross-boundary field has one row per region.",
    (
        _name("field", "Name of the oil field."),
        _name("region", "Region the field (or this share of it) lies in; must be in population.csv."),
        Column("production_bpd", "number", "Production; each row needs it or annual_revenue_usd.",
                unit="barrels a day", required=True, required_unless="annual_revenue_usd",
                blank="default", low=0.0),
        Column("share", "number", "Share of the field in this region; a field's shares sum to 1.",
                unit="fraction", default=1.0, low=0.0, high=1.0, low_open=True),
        Column("cost_usd_per_bbl", "number", "Production cost.", unit="USD a barrel", default=0.0, low=0.0),
        Column("government_take", "number", "Share of the net revenue the state collects.", unit="fraction",
                default=1.0, low=0.0, high=1.0),
        Column("transit_fee_usd_per_bbl", "number", "Fee paid to the bloc exports cross (needs production).",
                unit="USD a barrel", default=0.0, blank="default", low=0.0),
        _name("export_via", "Bloc the exports cross under partition; a bloc of regions.csv.",
              required=False),
        Column("annual_revenue_usd", "number", "Annual revenue, replacing production and price.",
                unit="USD a year", blank="default", low=0.0),
    ),
    key=("field", "region"),
)

POPULATION = FileSchema(
    "population",
    "population.csv",
    "One row per region and faction living there.",
    (
        _name("region", "Region name."),
        _name("faction", "Faction (ethnic, sectarian or political group)."),
        Column("population", "number", "Number of people of this faction in this region.", unit="people",
                required=True, low=0.0, low_open=True, whole=True,
                why="per-head rules divide by population"),
    ),
    key=("region", "faction"),
)

REGIONS = FileSchema(
    "regions",
    "regions.csv",
    "Optional: one row per region of population.csv, with its attributes.",
    (
        _name("region", "Region name; the same regions as population.csv."),
        _name("bloc", "Bloc (group of regions acting as one government).", required=False),
        Column("area_km2", "number", "Area.", unit="km²", blank="default", low=0.0, low_open=True),
        Column("need_index", "number", "Relative need indicator.", unit="index", blank="default", low=0.0,
                low_open=True),
        Column("damage", "number", "Damage indicator (war, environment).", unit="index", blank="default",
                low=0.0),
        Column("baseline_usd_per_capita", "number", "Non-oil revenue a head already has.", unit="USD a head",
                blank="default", low=0.0),
        Column("coastal", "bool", "Whether the region has a coast (true/false/yes/no/1/0).",
               default=False, blank="default"),
    ),
    key=("region",),
    optional=True,
)

SCHEMAS: dict[str, FileSchema] = {s.role: s for s in (FIELDS, POPULATION, REGIONS)}
"""The CSV schemas by role."""


def _default_text(col: Column) -> str:
    if col.required:
        return "required"
    if isinstance(col.default, float) and math.isnan(col.default):
        return "empty"
    if isinstance(col.default, bool):
        return str(col.default).lower()
    return f"`{col.default:g}`" if isinstance(col.default, float) else '""'


def column_dictionary_markdown() -> str:
    """Render every schema as a Markdown table, one section per file.

    Returns
    -------
    str
        Markdown, with a ``###`` heading per file and one table row per column.
    """
    out: list[str] = []
    for schema in SCHEMAS.values():
        out += [f"### `{schema.filename}`{' (optional)' if schema.optional else ''}", "",
                schema.description + f" Unique key: {', '.join(schema.key)}.", "",
                "| column | type | unit | default | allowed | description |",
                "| --- | --- | --- | --- | --- | --- |"]
        for c in schema.columns:
            default = _default_text(c)
            if c.required_unless:
                default += f" unless `{c.required_unless}` is present"
            allowed = c.range_text().replace("<", "&lt;")
            out.append(f"| `{c.name}` | {c.kind} | {c.unit} | {default} | {allowed} | "
                       f"{c.description} |")
        out.append("")
    out.append("`structures.toml` (optional) holds dataset-specific structures; see the structures "
               "documentation.")
    return "\n".join(out) + "\n"
