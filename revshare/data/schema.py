"""The columns of revshare's input files, declared once as data, and how each kind of cell parses.

:mod:`revshare.data.readers` validates every CSV against these schemas, and
:func:`column_dictionary_markdown` renders them for ``data/README.md``, so the documentation, the
validation and the test inputs cannot drift apart.

Kinds of column:

- ``text``: a name (region, faction, field or bloc). Surrounding whitespace and left-to-right or
  right-to-left marks are removed and the name is NFC-normalised (each with a notice). It must be
  at most :data:`MAX_NAME_LENGTH` characters, free of control, bidi-override and zero-width
  characters (ZWNJ and ZWJ are allowed: Persian needs them), with no word mixing scripts.
  ``NA``, ``N/A``, ``null`` and ``None`` are names like any other: only an empty cell is missing.
- ``number``: a finite decimal number with ASCII digits and a ``.`` decimal point. A leading ``+``
  and scientific notation are accepted (with a notice). Thousands separators, decimal commas,
  units, percent signs, formulas and non-ASCII digits (Arabic-Indic included) are rejected, never
  guessed or transliterated. Every number column has a lower and an upper bound (and, where a
  tiny positive value is meaningless, a smallest non-zero magnitude), documented in
  data/README.md; the bounds keep every total in USD below 1e15, far below 2**53. A column marked
  ``integer`` (period labels) refuses a value that is not whole instead of truncating it.
- ``bool``: ``true``/``false``, ``yes``/``no`` or ``1``/``0``, in any case.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Literal, NamedTuple

Kind = Literal["text", "number", "bool"]
Blank = Literal["error", "default"]
Value = str | float | bool

MAX_NAME_LENGTH = 200
"""Longest accepted name, in characters; longer names are an error, never truncated."""

SHARE_TOLERANCE = 1e-9
"""How far the shares of one field may sum away from 1."""

# Documented magnitudes (data/README.md, "Ranges"). Every total in USD stays below 1e15, far below
# 2**53 (about 9e15), so that whole-dollar rounding of every total is exact.
MAX_PRICE = 10_000.0
"""Highest accepted oil price, cost or transit fee, USD a barrel (the record is about 150)."""
MAX_PRODUCTION_BPD = 1e8
"""Highest production of one field, and of the whole dataset, barrels a day (the world's is 1e8)."""
MAX_REVENUE_USD = 1e15
"""Highest revenue of one row, and of the whole dataset at any price, USD a year (about 300 times
the world's oil revenue); also the highest baseline money of the dataset."""
MAX_PATH_USD = 1e15
"""Highest revenue summed over a price path (periods times years), USD."""
MAX_POPULATION = 1e10
"""Highest population of one cell and of the whole dataset (the world's is 8e9)."""
MIN_POPULATION = 1e-3
"""Lowest population of one cell (fractions arise from splitting a census by shares)."""
MAX_PERIOD = 1_000_000
"""Highest period label (labels are integers 0 to this: 0, 1, 2, ..., 2005 or 202401)."""


class CellError(Exception):
    """A cell cannot be read; carries the problem's code, message and remedy."""

    def __init__(self, code: str, message: str, remedy: str) -> None:
        super().__init__(message)
        self.code, self.message, self.remedy = code, message, remedy


class Column(NamedTuple):
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
        Whether a number that is not whole deserves a notice.
    integer : bool
        Whether the value must be a whole number (``2005``, ``2005.0`` and ``2.005e3`` are the
        same label; ``1.7`` is an error, never truncated).
    tiny : float or None
        The smallest magnitude of a value other than 0; a positive value below it is an error
        (``1e-300`` is never a meaningful weight, fee or production).
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
    integer: bool = False
    tiny: float | None = None

    def in_range(self, value: float) -> bool:
        """Return whether ``value`` lies within the column's bounds."""
        if not math.isfinite(value):
            return False
        if self.tiny is not None and 0 < abs(value) < self.tiny:
            return False
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return self.high is None or (value < self.high if self.high_open else value <= self.high)

    def range_text(self) -> str:
        """Return the bounds as text, e.g. ``0 < x <= 1``, or "" when there are none."""
        low = f"{num(self.low)} {'<' if self.low_open else '<='} " if self.low is not None else ""
        high = (
            f" {'<' if self.high_open else '<='} {num(self.high)}" if self.high is not None else ""
        )
        if self.tiny is not None:
            return f"x = 0 or {num(self.tiny)} <= x{high}"
        return f"{low}x{high}" if low or high else ""

    def parse(self, raw: str, notes: list[str]) -> Value:
        """Parse one cell of this column.

        Parameters
        ----------
        raw : str
            The cell as the CSV holds it.
        notes : list of str
            Receives one text per normalisation applied.

        Returns
        -------
        str, float or bool
            The value; the default for an empty cell where that is allowed.

        Raises
        ------
        CellError
            With the code, message and remedy of the first problem found.
        """
        text = clean_cell(raw, notes)
        if not text:
            if self.blank == "default":
                return self.default
            alt = "" if self.required else ", or delete the column to use the default everywhere"
            raise CellError("E-MISSING-VALUE", f"the {self.name} cell is empty", f"fill it in{alt}")
        if self.kind == "text":
            return parse_name(text, notes)
        if self.kind == "bool":
            return parse_bool(text)
        value = parse_number(text, notes)
        if not self.in_range(value):
            why = f"; {self.why}" if self.why else ""
            raise CellError(
                "E-RANGE",
                f"{show(text)} is outside {self.range_text()}{why}",
                f"give a value with {self.range_text()}",
            )
        if self.integer and not value.is_integer():
            raise CellError(
                "E-NOT-INTEGER",
                f"{show(text)} is not a whole number; a {self.name} is an integer",
                "write a whole number; revshare never rounds or truncates it",
            )
        if self.whole and not value.is_integer():
            notes.append(f"kept a {self.name} that is not a whole number")
        return value


class FileSchema(NamedTuple):
    """One input file: its role, its file name, its columns and its unique key."""

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


def num(value: float) -> str:
    """Format a bound for a message: ``10000``, ``1e8``, ``1e-6``, ``0.001``."""
    return re.sub(r"e([+-])0*(\d)", lambda m: f"e{'-' * (m[1] == '-')}{m[2]}", f"{value:g}")


def _name(name: str, description: str, *, required: bool = True) -> Column:
    return Column(
        name,
        "text",
        description,
        required=required,
        default="",
        blank="error" if required else "default",
    )


FIELDS = FileSchema(
    "fields",
    "fields.csv",
    "One row per oil field and region it lies in; a cross-boundary field has one row per region.",
    (
        _name("field", "Name of the oil field."),
        _name(
            "region", "Region the field (or this share of it) lies in; must be in population.csv."
        ),
        Column(
            "production_bpd",
            "number",
            "Production; each row needs it or annual_revenue_usd.",
            "barrels a day",
            required=True,
            required_unless="annual_revenue_usd",
            blank="default",
            low=0.0,
            high=MAX_PRODUCTION_BPD,
            tiny=1e-6,
        ),
        Column(
            "share",
            "number",
            "Share of the field in this region; a field's shares sum to 1.",
            "fraction",
            default=1.0,
            blank="default",
            low=1e-9,
            high=1.0,
        ),
        Column(
            "cost_usd_per_bbl",
            "number",
            "Production cost.",
            "USD a barrel",
            default=0.0,
            blank="default",
            low=0.0,
            high=MAX_PRICE,
        ),
        Column(
            "government_take",
            "number",
            "Share of the net revenue the state collects.",
            "fraction",
            default=1.0,
            blank="default",
            low=0.0,
            high=1.0,
            tiny=1e-6,
        ),
        Column(
            "transit_fee_usd_per_bbl",
            "number",
            "Fee paid to the bloc the exports cross; needs production_bpd and export_via.",
            "USD a barrel",
            default=0.0,
            blank="default",
            low=0.0,
            high=MAX_PRICE,
            tiny=1e-6,
        ),
        _name(
            "export_via",
            "Bloc the exports cross under partition; a bloc of regions.csv.",
            required=False,
        ),
        Column(
            "annual_revenue_usd",
            "number",
            "Annual revenue, replacing production and price; not with production_bpd.",
            "USD a year",
            blank="default",
            low=0.0,
            high=MAX_REVENUE_USD,
            tiny=1.0,
        ),
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
        Column(
            "population",
            "number",
            "People of this faction in this region; not-whole numbers are kept with a notice.",
            "people",
            required=True,
            low=MIN_POPULATION,
            high=MAX_POPULATION,
            whole=True,
            why="per-head rules divide by population",
        ),
    ),
    key=("region", "faction"),
)

REGIONS = FileSchema(
    "regions",
    "regions.csv",
    "One row per region of population.csv, with its attributes.",
    (
        _name("region", "Region name; regions.csv and population.csv list the same regions."),
        _name("bloc", "Bloc (group of regions acting as one government).", required=False),
        Column("area_km2", "number", "Area.", "km²", blank="default", low=1e-6, high=1e9),
        Column(
            "need_index",
            "number",
            "Relative need indicator.",
            "index",
            blank="default",
            low=1e-6,
            high=1e6,
        ),
        Column(
            "damage",
            "number",
            "Damage indicator (war, environment).",
            "index",
            blank="default",
            low=0.0,
            high=1e6,
            tiny=1e-6,
        ),
        Column(
            "baseline_usd_per_capita",
            "number",
            "Non-oil revenue a head already has.",
            "USD a head",
            blank="default",
            low=0.0,
            high=MAX_REVENUE_USD,
        ),
        Column(
            "min_usd_per_capita",
            "number",
            "Least oil money a head the region must receive, under every structure (a floor "
            "written in law, e.g. a guaranteed minimum transfer).",
            "USD a head",
            blank="default",
            low=0.0,
            high=MAX_REVENUE_USD,
        ),
        Column(
            "max_usd_per_capita",
            "number",
            "Most oil money a head the region may receive, under every structure (a ceiling, "
            "as in Canada's equalization).",
            "USD a head",
            blank="default",
            low=0.0,
            high=MAX_REVENUE_USD,
        ),
        Column(
            "coastal",
            "bool",
            "Whether the region has a coast: true/false, yes/no or 1/0.",
            default=False,
            blank="default",
        ),
    ),
    key=("region",),
    optional=True,
)

SCHEMAS: dict[str, FileSchema] = {s.role: s for s in (FIELDS, POPULATION, REGIONS)}

PRICES = FileSchema(
    "prices",
    "prices.csv",
    "Price scenarios for a sweep (`revshare.read_prices`): one row per scenario, or per scenario "
    "and period for price paths.",
    (
        _name("scenario", "Scenario name; blank rows are numbered by their line.", required=False),
        Column(
            "period",
            "number",
            "Period of a price path (0, 1, 2, ...); blank for a single price.",
            blank="default",
            default=0.0,
            low=0.0,
            high=MAX_PERIOD,
            integer=True,
        ),
        Column(
            "price", "number", "Oil price.", "USD a barrel", required=True, low=0.0, high=MAX_PRICE
        ),
    ),
    key=("scenario", "period"),
)

"""The CSV schemas by role."""


def _value_text(value: Value) -> str:
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float):
        return "no value" if math.isnan(value) else f"`{value:g}`"
    return "empty" if not value else f"`{value}`"


def _absent_text(col: Column) -> str:
    if col.required:
        unless = f" unless `{col.required_unless}` is given" if col.required_unless else ""
        return f"required{unless}"
    return _value_text(col.default)


def column_dictionary_markdown() -> str:
    """Render every schema as a Markdown table, one section per file.

    Returns
    -------
    str
        Markdown with a ``###`` heading per file and one table row per column.
    """
    out: list[str] = []
    for schema in SCHEMAS.values():
        out += [
            f"### `{schema.filename}`{' (optional)' * schema.optional}",
            "",
            f"{schema.description} Unique key: {', '.join(schema.key)}.",
            "",
            "| column | type | unit | if absent | empty cell | allowed | description |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        out += [
            f"| `{c.name}` | {c.kind} | {c.unit} | {_absent_text(c)} | "
            f"{'error' if c.blank == 'error' else _value_text(c.default)} | "
            f"{c.range_text()}{f' ({c.why})' * bool(c.why)} | {c.description} |"
            for c in schema.columns
        ]
        out.append("")
    return "\n".join(out)


# Parsers of one cell, shared by every column of a kind.

_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_MARKS = re.compile("[\u200e\u200f\u061c]")  # LRM, RLM, ALM: invisible direction marks
# Space separators (NBSP included) and tab, stripped around values; other controls are errors.
# Written out: the Unicode category Zs from U+0080 to U+3000 (tests/test_startup.py computes it),
# not scanned for at every start (15 million instructions, 1% of `optimize`).
_SPACES = " \t\u00a0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u202f\u205f\u3000"
_JOINERS = frozenset("\u200c\u200d")  # ZWNJ and ZWJ belong to Persian and Indic spelling
_SCRIPTS = frozenset({"LATIN", "CYRILLIC", "GREEK", "ARABIC", "HEBREW", "ARMENIAN", "GEORGIAN"})
_WORD = re.compile(r"[^\W\d_]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# What a cell that is not a number was meant to be: patterns, compiled (and cached by re) the
# first time a cell fails to parse, not at every start.
_THOUSANDS = "[+-]?[0-9]{1,3}([, '\u00a0\u202f])[0-9]{3}(?:\\1[0-9]{3})*(?:\\.[0-9]*)?"
_DECIMAL_COMMA = r"[+-]?(?:[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]*),[0-9]+"
_NON_FINITE = r"(?i:[+-]?(?:inf|infinity|nan))"
_UNIT = r"[^\W\d_]|[$€£¥%]"
_TRUE, _FALSE = frozenset({"true", "yes", "1"}), frozenset({"false", "no", "0"})


def show(value: str, limit: int = 60) -> str:
    """Quote ``value`` for a message, escaping invisible characters and shortening long values."""
    text = value if len(value) <= limit else value[:limit] + "..."
    return "'" + "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text) + "'"


_CONTROL_NAMES = {0: "NULL", 9: "TAB", 10: "LINE FEED", 13: "CARRIAGE RETURN", 127: "DELETE"}


def _codepoint(ch: str) -> str:
    name = unicodedata.name(ch, _CONTROL_NAMES.get(ord(ch), "CONTROL CHARACTER"))
    return f"U+{ord(ch):04X} {name}"


def clean_cell(raw: str, notes: list[str]) -> str:
    """Remove direction marks and outer spaces and tabs; reject control and bidi characters.

    Raises
    ------
    CellError
        ``E-CONTROL-CHAR`` (C0 but an outer tab, C1, DEL, NUL, line breaks, U+2028/2029) or
        ``E-BIDI-CONTROL``.
    """
    text = _MARKS.sub("", raw)
    if text != raw:
        notes.append("removed left-to-right or right-to-left marks from a value")
    if text.strip(_SPACES) != text:
        notes.append("stripped whitespace around a value")
    text = text.strip(_SPACES)
    if text.isascii() and text.isprintable():  # no control, separator or bidi character
        return text
    for i, ch in enumerate(text, 1):
        if unicodedata.category(ch) in ("Cc", "Zl", "Zp"):
            raise CellError(
                "E-CONTROL-CHAR",
                f"{show(raw)} holds the control character "
                f"{_codepoint(ch)} at character {i} of the trimmed value",
                "delete it; values cannot hold control characters or line breaks",
            )
        if ch in _BIDI:
            raise CellError(
                "E-BIDI-CONTROL",
                f"{show(raw)} holds the bidi control "
                f"{_codepoint(ch)} at character {i} of the trimmed value",
                "delete it; embedding and override controls reorder text on screen",
            )
    return text


def parse_name(text: str, notes: list[str]) -> str:
    """Check and NFC-normalise a cleaned, non-empty name.

    Raises
    ------
    CellError
        ``E-INVISIBLE-CHAR``, ``E-TOO-LONG`` or ``E-MIXED-SCRIPT``.
    """
    if text.isascii():  # no invisible character, already NFC, every letter Latin
        if len(text) > MAX_NAME_LENGTH:
            raise _too_long(text)
        return text
    for i, ch in enumerate(text, 1):
        if unicodedata.category(ch) == "Cf" and ch not in _JOINERS:
            raise CellError(
                "E-INVISIBLE-CHAR",
                f"{show(text)} holds the invisible character {_codepoint(ch)} at character {i}",
                "delete it; names that look alike must be alike",
            )
    name = unicodedata.normalize("NFC", text)
    if name != text:
        notes.append("NFC-normalised a name")
    if len(name) > MAX_NAME_LENGTH:
        raise _too_long(name)
    for word in _WORD.findall(name):
        scripts = {s for c in word if (s := unicodedata.name(c, "").split(" ")[0]) in _SCRIPTS}
        if len(scripts) > 1:
            raise CellError(
                "E-MIXED-SCRIPT",
                f"the word {show(word)} in {show(name)} mixes "
                f"{' and '.join(sorted(s.title() for s in scripts))} letters",
                "retype it in one script (a look-alike letter was pasted in?)",
            )
    return name


def _too_long(name: str) -> CellError:
    return CellError(
        "E-TOO-LONG",
        f"the name {show(name)} is {len(name)} characters long",
        f"shorten it to at most {MAX_NAME_LENGTH} characters",
    )


def parse_number(text: str, notes: list[str]) -> float:
    """Parse a cleaned, non-empty number strictly.

    Raises
    ------
    CellError
        ``E-NON-FINITE``, ``E-FORMULA``, ``E-NON-ASCII-DIGIT``, ``E-THOUSANDS``,
        ``E-DECIMAL-COMMA``, ``E-UNIT-IN-VALUE`` or ``E-NOT-A-NUMBER``.
    """
    if _NUMBER.fullmatch(text):
        value = float(text)
        if math.isinf(value):
            raise CellError(
                "E-NON-FINITE",
                f"{show(text)} overflows a 64-bit float",
                "check the value; it is far beyond any plausible magnitude",
            )
        if text.startswith("+"):
            notes.append("removed a leading '+' from a number")
        if "e" in text.lower():
            notes.append("read a number in scientific notation")
        return value
    if text.startswith("="):
        raise CellError(
            "E-FORMULA",
            f"{show(text)} is a spreadsheet formula, not a number",
            "paste the value instead of the formula",
        )
    if any(c.isdecimal() and not c.isascii() for c in text):
        digits = "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)
        raise CellError(
            "E-NON-ASCII-DIGIT",
            f"{show(text)} is written with non-ASCII digits",
            f"write it with ASCII digits: {show(digits)}",
        )
    if re.fullmatch(_NON_FINITE, text):
        raise CellError(
            "E-NON-FINITE", f"{show(text)} is not a finite number", "give the actual value"
        )
    if re.fullmatch(_THOUSANDS, text):
        raise CellError(
            "E-THOUSANDS",
            f"{show(text)} has a thousands separator",
            "write 1000, not 1,000 (if the comma is a decimal comma, write a point)",
        )
    if re.fullmatch(_DECIMAL_COMMA, text):
        raise CellError(
            "E-DECIMAL-COMMA",
            f"{show(text)} has a decimal comma",
            "use a point as the decimal separator: 1.5, not 1,5",
        )
    if any(c.isdigit() for c in text) and re.search(_UNIT, text):
        raise CellError(
            "E-UNIT-IN-VALUE",
            f"{show(text)} carries a unit, currency or scale",
            "write the plain number in the column's unit (see the column dictionary)",
        )
    raise CellError("E-NOT-A-NUMBER", f"{show(text)} is not a number", "write a decimal number")


# Default-ignorable code points (Unicode DerivedCoreProperties.txt, Default_Ignorable_Code_Point):
# invisible when rendered, so two names differing only by them look the same.
_IGNORABLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)
_ANY_SPACE = re.compile(r"[\s\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
# Spelling variants that make two Arabic-script names look alike: tatweel, alef and yeh forms,
# teh marbuta and heh, Persian keheh and yeh (docs/design.md#reading-input). Folded only to compare names.
_ARABIC_FOLD = str.maketrans(
    {
        "\u0640": "",
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ی": "ي",
        "ک": "ك",
        "ة": "ه",
        "ۀ": "ه",
    }
)


def name_key(name: str) -> str:
    """The key under which two names count as the same name spelt two ways.

    Default-ignorable code points (ZWNJ, ZWJ, variation selectors, soft hyphens...) are removed,
    the name is NFKC-normalised (full-width letters, ligatures and Arabic presentation forms
    become plain letters), case-folded, Arabic letter variants are folded, and every run of
    Unicode spaces becomes one space. Names are never *replaced* by their key: two different
    names of one column with one key are an error (``E-NEAR-DUP``), a decision for the user.
    """
    text = unicodedata.normalize("NFKC", _IGNORABLE.sub("", name)).casefold()
    text = unicodedata.normalize("NFKC", text.translate(_ARABIC_FOLD))
    return _ANY_SPACE.sub(" ", _IGNORABLE.sub("", text)).strip()


def parse_bool(text: str) -> bool:
    """Parse a cleaned, non-empty yes/no value (``CellError`` ``E-NOT-A-BOOL`` if it is not)."""
    if text.lower() in _TRUE | _FALSE:
        return text.lower() in _TRUE
    raise CellError(
        "E-NOT-A-BOOL",
        f"{show(text)} is not a yes/no value",
        "write true or false (yes/no and 1/0 are accepted too)",
    )


PERIODS = FileSchema(
    "periods",
    "periods.csv",
    "A price path (`revshare.read_periods`): one row per period, in any order.",
    (
        Column(
            "period",
            "number",
            "Period label, an integer (0, 1, 2, ... or 2005, 2006, ...); periods run in this order.",
            required=True,
            low=0.0,
            high=MAX_PERIOD,
            integer=True,
        ),
        Column(
            "price",
            "number",
            "Oil price in the period.",
            "USD a barrel",
            required=True,
            low=0.0,
            high=MAX_PRICE,
        ),
        Column(
            "years",
            "number",
            "Length of the period (1/12 for a month).",
            "years",
            blank="default",
            default=1.0,
            low=1e-3,
            high=10.0,
        ),
    ),
    key=("period",),
)
