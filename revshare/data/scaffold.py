"""A ready-to-edit dataset: the files ``revshare init DIR`` writes.

The scaffold is a small placeholder country (4 regions in 2 blocs, 2 factions, 3 fields, one of
them crossing a boundary) that reads, validates and solves as written. Its CSV headers are the
columns of :mod:`revshare.data.schema` and its ``README.md`` is their column dictionary, so the
scaffold cannot drift from what the readers accept. ``structures.toml`` holds one example
structure per kind of rule; ``SOURCES.md`` marks every figure :data:`PLACEHOLDER`.

CSV files have no comment lines (``E-COMMENT``): the explanations live in ``README.md``.
:func:`next_steps` tells the user, through ``validate``, which files still hold placeholders.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..atomic import write_bundle
from ..errors import InputError, Problem
from .dataset import Territory
from .schema import SCHEMAS, column_dictionary_markdown
from .workbook import write_dataset_workbook

PLACEHOLDER = "PLACEHOLDER"
"""The mark of a scaffold figure in ``SOURCES.md``; replace each with the figure's source."""

REGIONS = ("Region A", "Region B", "Region C", "Region D")
FACTIONS = ("Group A", "Group B")
FIELDS = ("Field 1", "Field 2", "Field 3")
EXAMPLE_PREFIX = "example-"
"""Every example structure's name starts with this."""

# Per file: the columns given, then one row of values each; a column of the schema not given here
# is in the header with empty cells (its default).
_TABLES: dict[str, tuple[tuple[str, ...], ...]] = {
    "population": (
        ("region", "faction", "population"),
        ("Region A", "Group A", "900000"),
        ("Region A", "Group B", "100000"),
        ("Region B", "Group A", "1400000"),
        ("Region B", "Group B", "600000"),
        ("Region C", "Group A", "300000"),
        ("Region C", "Group B", "1200000"),
        ("Region D", "Group B", "500000"),
    ),
    "regions": (
        ("region", "bloc", "area_km2", "need_index", "damage", "baseline_usd_per_capita",
         "min_usd_per_capita", "max_usd_per_capita", "coastal"),
        ("Region A", "north", "40000", "0.8", "0", "300", "", "", "false"),
        ("Region B", "north", "25000", "1", "1", "250", "", "", "false"),
        ("Region C", "south", "30000", "0.9", "0", "400", "", "5000", "true"),
        ("Region D", "south", "90000", "1.5", "2", "100", "50", "", "false"),
    ),
    "fields": (
        ("field", "region", "production_bpd", "share", "cost_usd_per_bbl", "government_take",
         "transit_fee_usd_per_bbl", "export_via"),
        ("Field 1", "Region A", "150000", "1", "12", "0.9", "2", "south"),
        ("Field 2", "Region B", "200000", "0.5", "8", "1", "", ""),
        ("Field 2", "Region C", "200000", "0.5", "8", "1", "", ""),
        ("Field 3", "Region D", "50000", "1", "15", "0.95", "", ""),
    ),
}  # fmt: skip
ROWS: dict[str, tuple[dict[str, str], ...]] = {
    role: tuple(dict(zip(table[0], row, strict=True)) for row in table[1:])
    for role, table in _TABLES.items()
}
"""Each file's rows, keyed by column name; an absent or empty value is an empty cell."""
DEFAULT_PRICE = 70.0


@dataclass(frozen=True)
class Example:
    """One example structure: its name, the rule it shows, and its TOML body."""

    name: str
    rule: str  # the parameter or the deal rule kind it shows
    description: str
    body: str


EXAMPLES = (
    Example("example-central-share", "central_share",
            "The centre keeps 30% of revenue; the rest is shared by population.",
            'central_share = 0.3\nobjective = "proportional"\n'),
    Example("example-derivation", "derivation",
            "Producing regions keep 10% of their fields' revenue; the rest goes by need.",
            'central_share = 0.2\nderivation = 0.1\nobjective = "needs"\n'),
    Example("example-bloc-retention", "bloc_retention",
            "The north keeps half of what its territory earns.",
            "central_share = 0.1\nbloc_retention = { north = 0.5 }\n"),
    Example("example-bloc-share", "bloc_share",
            "The south is guaranteed 45% of distributable revenue.",
            "central_share = 0.2\nbloc_share = { south = 0.45 }\n"),
    Example("example-faction-share", "faction_share",
            "Group B is guaranteed half of distributable revenue.",
            'central_share = 0.2\nfaction_share = { "Group B" = 0.5 }\n'),
    Example("example-floor", "per_capita_floor",
            "Nobody below 60% of the national mean a head; the rest by a formula.",
            'central_share = 0.2\nper_capita_floor = 0.6\nobjective = "formula"\n'
            "formula_weights = { equality = 40, population = 30, area = 10, need = 20 }\n"),
    Example("example-cap", "per_capita_cap",
            "Nobody above 1.5 times the national mean a head; the poorest raised first.",
            'central_share = 0.2\nper_capita_cap = 1.5\nobjective = "maxmin"\n'),
    Example("example-damage", "damage_allotment",
            "10% of the sharing pool goes to damaged regions by their damage weight.",
            "central_share = 0.2\ndamage_allotment = 0.1\n"),
    Example("example-secession", "secession_cost",
            "Every bloc gets at least 90% of what it would have as its own state.",
            "central_share = 0.05\nsecession_proof = true\nsecession_cost = 0.1\n"),
    Example("example-coalition", "coalition_proof",
            "No group of blocs would rather leave together, a new state costing USD 500 million "
            "a year.",
            "central_share = 0.05\ncoalition_proof = true\nsecession_fixed_cost_usd = 500000000\n"
            'objective = "leximin"\n'),
    Example("example-share-rule", "share",
            "A savings fund takes 10% of revenue first; the rest is shared by population.",
            'central_share = 0.25\n\n[structures.example-share-rule.accounts."Savings Fund"]\n'
            'kind = "fund"\n\n[[structures.example-share-rule.rules]]\nname = "savings"\n'
            'kind = "share"\nshare = 0.1\nto = "Savings Fund"\n'),
    Example("example-split-rule", "split",
            "Half of revenue is split among the regions by a formula; the centre keeps the rest.",
            'centre = "National Government"\ncentral_share = [0, 1]\nobjective = "centre-residual"'
            '\n\n[[structures.example-split-rule.rules]]\nname = "regions"\nkind = "split"\n'
            'share = 0.5\namong = "regions"\nby = { population = 60, area = 20, need = 20 }\n'),
    Example("example-per-unit-rule", "per_unit",
            "Each producing region gets USD 2 a barrel produced on its land.",
            'central_share = 0.25\n\n[[structures.example-per-unit-rule.rules]]\nname = "royalty"'
            '\nkind = "per_unit"\nusd_per_barrel = 2\namong = "producing regions"\n'),
    Example("example-fixed-rule", "fixed",
            "An oil agency is paid USD 100 million a year first; the rest is shared by population.",
            'central_share = 0.25\n\n[structures.example-fixed-rule.accounts."Oil Agency"]\n'
            'kind = "body"\n\n[[structures.example-fixed-rule.rules]]\nname = "agency budget"\n'
            'kind = "fixed"\nusd = 100000000\nto = "Oil Agency"\n'),
)  # fmt: skip
"""One example per parameter rule and per deal rule kind (the tests hold them to the model's
registries); ``min_usd_per_capita`` and ``max_usd_per_capita`` are columns of regions.csv."""

MEANINGS = {
    "central_share": "the centre's slice, a fraction of total revenue (or [lo, hi] to let it vary)",
    "derivation": "a producing region keeps this fraction of its fields' revenue",
    "bloc_retention": "a bloc keeps this fraction of its territory's revenue (one number for "
    "every bloc, or a table bloc = fraction)",
    "bloc_share": "a bloc is guaranteed this fraction of distributable revenue (table bloc = "
    "fraction)",
    "faction_share": "a faction is guaranteed this fraction of distributable revenue (table "
    "faction = fraction)",
    "per_capita_floor": "nobody gets less than this multiple of the national mean a head",
    "per_capita_cap": "nobody gets more than this multiple of the national mean a head",
    "damage_allotment": "this fraction of the sharing pool goes to the regions with damage > 0 "
    "(regions.csv), by their damage weight",
    "secession_cost": "with secession_proof = true, every bloc gets at least what it would have "
    "as its own state (its partition payoff) less this fraction",
    "coalition_proof": "no group of blocs would rather leave together; secession_fixed_cost_usd "
    "is what a new state pays a year to exist",
    "share": "a rule paying `share` of its pool (default: all revenue) to `to`",
    "split": "a rule splitting `share` of its pool among recipients (`among`) by weights (`by`)",
    "per_unit": "a rule paying `usd_per_barrel` for every barrel produced in each recipient region",
    "fixed": "a rule paying `usd` a year to `to`",
}
"""What each kind of rule the examples show says, for the comments and README.md."""
OTHER_KEYS = (
    "`objective`: how the freedom the rules leave is used (`proportional`, `needs`, `formula` "
    "with `formula_weights`, `maxmin`, `leximin`, `centre-residual`, `nash`); `accounts`: "
    "recipients that are not regions (a government, a fund or a body), which the rules pay; "
    "`centre`: the name of the centre's account; `extends`: a built-in preset to start from; "
    "`entrenched`: the rules that bind any government (default: every rule written)."
)

STEPS = (
    ("population.csv", "replace the placeholder regions and factions with yours: one row per "
     "region and faction living there, with its population"),
    ("regions.csv", "one row per region of population.csv: its bloc, area, need, damage, "
     "non-oil money a head, any legal floor or ceiling a head, and whether it has a coast"),
    ("fields.csv", "your oil fields: one row per field and region it lies in, with production, "
     "cost, government take and any transit fee"),
    ("structures.toml", "set default_price; keep, adapt or delete the example-* structures and "
     "write your own (README.md says what each rule does)"),
    ("SOURCES.md", f"replace every {PLACEHOLDER} with where the figure comes from"),
)  # fmt: skip
"""What to edit, in order: names first, since every other file refers to them."""


def _csv(role: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    names = SCHEMAS[role].names
    writer.writerow(names)
    writer.writerows([row.get(name, "") for name in names] for row in ROWS[role])
    return out.getvalue().encode("utf-8")


def _structures_toml() -> str:
    parts = [
        _comment(
            "Structures of this dataset: one example per kind of rule, its comment saying what "
            f"the rule does (README.md lists them). Every figure is a {PLACEHOLDER} (SOURCES.md)."
        )
        + "\n\n"
        f"# {PLACEHOLDER}: the oil price in USD a barrel; say which year and benchmark.\n"
        f"default_price = {DEFAULT_PRICE:g}\n"
    ]
    for e in EXAMPLES:
        parts.append(
            f"\n{_comment(f'`{e.rule}`: {MEANINGS[e.rule]}.')}\n[structures.{e.name}]\n"
            f"description = {_quote(e.description)}"
            f'\ncitation = "{PLACEHOLDER}: an illustration, not a real arrangement"\n{e.body}'
        )
    return "".join(parts)


def _comment(text: str) -> str:
    return textwrap.fill(text, 99, initial_indent="# ", subsequent_indent="# ")


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _readme() -> str:
    steps = "\n".join(f"{i}. `{name}`: {what}." for i, (name, what) in enumerate(STEPS, 1))
    examples = "\n".join(
        f"| `{e.name}` | `{e.rule}`: {MEANINGS[e.rule]} | {e.description} |" for e in EXAMPLES
    )
    return (
        "# A new dataset\n\n"
        "`revshare init` wrote this folder: a small placeholder country (4 regions in 2 blocs, "
        "2 factions, 3 fields) that `revshare validate` and `revshare compare` accept as "
        "written. Every figure is a placeholder: replace them with yours.\n\n"
        "## Edit in this order\n\n"
        f"{steps}\n\nRun `revshare validate` on the folder after each file: it reports every "
        "problem at once, with its file, line and column, and the steps still to do.\n"
        "CSV files have no comment lines; an optional column may be deleted or left empty.\n\n"
        "## The columns\n\n"
        f"{column_dictionary_markdown()}\n"
        "## structures.toml\n\n"
        "A top-level `default_price` (USD a barrel) and one `[structures.NAME]` table per "
        "structure. The examples, one per kind of rule:\n\n"
        "| structure | the rule it shows | what it says |\n| --- | --- | --- |\n"
        f"{examples}\n\nOther keys the examples use: {OTHER_KEYS}\n\n"
        "`min_usd_per_capita` and `max_usd_per_capita` (regions.csv) hold under every "
        "structure. The built-in presets (`revshare structures`) run on this dataset too.\n"
    )


def _sources() -> str:
    lines = [
        "# Sources\n",
        f"Every figure of this dataset is a **{PLACEHOLDER}** written by `revshare init`. Replace "
        f"each {PLACEHOLDER} below with the figure's status and source; `revshare validate` lists "
        f"the steps left while one remains.\n",
        "Legend: **P** published figure, copied; **D** derived by arithmetic from P; **E** "
        "estimate constructed for this dataset; **M** from memory, not re-verified.\n",
    ]
    for role, schema in SCHEMAS.items():
        used = [n for n in schema.names if any(row.get(n) for row in ROWS[role])]
        lines += [f"## {schema.filename}\n", "| column | status | source |", "| --- | --- | --- |"]
        lines += [f"| `{n}` | **{PLACEHOLDER}** | |" for n in used]
        lines.append("")
    lines += ["## structures.toml\n", "| figure | status | source |", "| --- | --- | --- |"]
    lines.append(f"| `default_price` | **{PLACEHOLDER}** | |")
    lines += [f"| `{e.name}` | **{PLACEHOLDER}** | |" for e in EXAMPLES]
    return "\n".join(lines) + "\n"


def scaffold_files(workbook: str | None = None) -> dict[str, bytes]:
    """The files of a new dataset folder, by name: the three CSVs (or, given a ``workbook`` name
    such as ``"mycountry.xlsx"``, one workbook with a sheet for each), ``structures.toml``,
    ``README.md`` (the column dictionary and the examples) and ``SOURCES.md``."""
    files = {SCHEMAS[role].filename: _csv(role) for role in SCHEMAS}
    if workbook is not None:
        files = {workbook: _as_workbook(files)}
    files["structures.toml"] = _structures_toml().encode("utf-8")
    files["README.md"] = _readme().encode("utf-8")
    files["SOURCES.md"] = _sources().encode("utf-8")
    return files


def _as_workbook(tables: Mapping[str, bytes]) -> bytes:
    """The CSVs as one workbook, written by :func:`~revshare.data.workbook.write_dataset_workbook`
    (structures.toml stays beside it, where it is easier to edit than in a sheet)."""
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in tables.items():
            (Path(tmp) / name).write_bytes(data)
        return write_dataset_workbook(tmp, Path(tmp) / "dataset.xlsx").read_bytes()


_NEW_FOLDER = "choose a new or empty folder"


def write_scaffold(folder: str | Path, *, force: bool = False, xlsx: bool = False) -> Path:
    """Write :func:`scaffold_files` into ``folder`` atomically (with a ``manifest.json``); with
    ``xlsx`` the tables are one workbook named after the folder (``mycountry/mycountry.xlsx``).

    Raises
    ------
    InputError
        ``E-OUTPUT-EXISTS`` when ``folder`` holds anything and ``force`` is False; with
        ``force`` the scaffold's files are replaced and any other file is kept.
    """
    out = Path(folder)
    if os.path.lexists(out) and not out.is_dir():
        raise InputError(
            Problem(str(out), None, None, "E-OUTPUT", "exists and is not a folder", _NEW_FOLDER)
        )
    if not force and out.is_dir() and _holds_anything(out):
        raise InputError(
            Problem(
                str(out),
                None,
                None,
                "E-OUTPUT-EXISTS",
                "the folder is not empty",
                f"{_NEW_FOLDER}, or pass `force` to replace the scaffold's files",
            )
        )
    workbook = f"{out.resolve().name}.xlsx" if xlsx else None
    return write_bundle(out, scaffold_files(workbook), force=force)


def _holds_anything(folder: Path) -> bool:
    with os.scandir(folder) as entries:
        return any(True for _ in entries)


def next_steps(territory: Territory) -> tuple[str, ...]:
    """The edits left to turn the scaffold into a dataset: one line per :data:`STEPS` entry whose
    file still holds placeholders, in order; empty for a dataset that holds none."""
    paths: Mapping[str, str] = territory.provenance.get("paths", {})
    regions = set(map(str, territory.regions.index)) | set(territory.factions)
    pending = {
        "population.csv": bool(regions & {*REGIONS, *FACTIONS}),
        "regions.csv": bool(regions & set(REGIONS)),
        "fields.csv": bool(set(territory.fields["field"]) & set(FIELDS)),
        "structures.toml": any(n.startswith(EXAMPLE_PREFIX) for n in territory.structures),
        "SOURCES.md": "population" in paths and _marked(Path(paths["population"]).parent),
    }
    book = Path(paths.get("population", "")).name.partition(":")[0]
    where = (
        {n: f"the {n.removesuffix('.csv')} sheet of {book}" for n in pending if n.endswith(".csv")}
        if book.lower().endswith(".xlsx")
        else {}
    )
    return tuple(f"{where.get(name, name)}: {what}" for name, what in STEPS if pending[name])


def _marked(folder: Path) -> bool:
    try:
        return PLACEHOLDER in (folder / "SOURCES.md").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
