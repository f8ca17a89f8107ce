"""Reports of the core, of voting power and of the secession vote (issue 15): each a folder of CSV,
``<kind>.json``, ``report.md`` and ``report.html`` (with ``report.xlsx`` and ``manifest.json``),
written as a whole by :func:`~revshare.reports.workbook.write_report_bundle`, as
:mod:`revshare.reports.guarantees` writes the guarantees.

Each report is described once as a :class:`Report` (its tables, the money view they count and
the words that explain them) and every format is rendered from that description, so the CSV,
JSON, Markdown and HTML say the same thing. Every JSON starts with ``schema_version``, ``kind``
and ``dataset`` (:func:`document`), and says which money it counts (``money_view``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..analyses.compare import timestamp
from ..analyses.core import Core
from ..analyses.secession import SecessionVote
from ..atomic import check_outputs
from ..errors import InputError
from .allocation import records
from .documents import envelope
from .html import _ENV, per_head, ratio, usd, yes_no
from .safe import csv_bytes, md_cell
from .words import DIRECT, GLOSSARY, SERVED

CORE_FILES = ("core.csv", "excesses.csv", "core.json", "report.md", "report.html")
POWER_FILES = ("power.csv", "power.json", "report.md", "report.html")
SECESSION_FILES = ("secession.csv", "secession.json", "report.md", "report.html")

CORE_MONEY = (
    "a bloc's money is its cells' and its own governments' (a deal's accounts serving "
    "it or its regions), the centre's slice not counted: a coalition that leaves pays for its "
    "own state"
)
SECESSION_MONEY = (
    "a group's own money and a head-share of every government serving it, the "
    "centre's included, against what it would have as a state of its own"
)
POWER_MONEY = "none: voting power counts votes, not money"
NUMERIC: tuple[Callable[[Any], str], ...] = (usd, per_head, ratio)

CORE_NOTES = [
    "excess: a coalition's money less its outside option as one new state (its fields' revenue "
    "net of fees, less the cost of secession), USD a year; negative: it would rather leave",
    "least core: the most every coalition can get above its option at once under the "
    "structure's other rules (negative: the core is empty, by that much)",
    "largest centre slice: the largest share of revenue the centre can take with every "
    "coalition still at its option (a dash: none)",
]
POWER_NOTES = [
    "banzhaf: share of the swings (sums to 1); banzhaf absolute: the chance of deciding a random "
    "vote; shapley-shubik: the chance of being pivotal in a random order of voters",
    "weight: the votes (people, or seats) the player casts as one block",
]
SECESSION_NOTES = [
    "gain: money a head a year from staying (its own, and a head-share of every government "
    "serving it, the centre's included) less its outside option, discounted",
    "leaves: more than half of the group's people vote to leave",
    GLOSSARY["served"],
]

Format = Callable[[Any], str]


@dataclass(frozen=True)
class Section:
    """One table of a report: its CSV file, heading, columns (name -> header and format) and
    glossary lines."""

    file: str
    title: str
    frame: pd.DataFrame
    columns: Mapping[str, tuple[str, Format | None]]
    notes: Sequence[str] = ()


@dataclass(frozen=True)
class Report:
    """A report folder's content: what it is (``title``, our words, then ``names`` from the data:
    a structure, the dataset), the money it counts (``money_view``: ``direct``,
    ``served`` or None, :mod:`revshare.reports.words`; ``money_meaning`` in words), its tables
    and the body of its JSON."""

    kind: str
    dataset: str
    title: str
    names: Sequence[str]
    lede: str
    money_view: str | None
    money_meaning: str
    sections: Sequence[Section]
    body: Mapping[str, Any] = field(default_factory=dict)

    @property
    def files(self) -> tuple[str, ...]:
        return (*(s.file for s in self.sections), f"{self.kind}.json", "report.md", "report.html")


def report_json(r: Report) -> bytes:
    """The report's JSON (:func:`revshare.reports.documents.envelope`): its body, then the money
    view (after the body's own fields, which the schema in revshare/reports/schemas/ requires)."""
    money = {"money_view": r.money_view, "money_meaning": r.money_meaning}
    return envelope(r.kind, r.dataset, {**r.body, **money})


def table_csv(frame: pd.DataFrame) -> bytes:
    """A table as the reports write CSV: every column, missing values empty, text neutralised."""
    return csv_bytes(
        list(frame.columns), frame.astype(object).where(frame.notna(), "").values.tolist()
    )


def _text(value: Any, fmt: Format | None) -> str:
    if fmt is not None:
        return fmt(value)
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "\u2013"
    return f"{value:,.4f}" if isinstance(value, float) else str(value)


def _rows(s: Section) -> list[list[str]]:
    return [
        [_text(v, fmt) for v, (_, fmt) in zip(row, s.columns.values(), strict=True)]
        for row in s.frame[list(s.columns)].itertuples(index=False)
    ]


def report_md(r: Report) -> str:
    """The report in Markdown: names from the data escaped and isolated, numbers as they are."""
    heading = " on ".join(md_cell(n) for n in r.names)
    money = f"Money counted: **{r.money_view or 'none'}** ({r.money_meaning})."
    lines = [f"# {r.title}: {heading}", "", r.lede, "", money]
    for s in r.sections:
        lines += ["", f"## {s.title}", ""]
        lines.append("| " + " | ".join(h for h, _ in s.columns.values()) + " |")
        lines.append("|" + "---|" * len(s.columns))
        num = [_numeric(s.frame[c], fmt) for c, (_, fmt) in s.columns.items()]
        for row in _rows(s):
            cells = [c if n else md_cell(c) for c, n in zip(row, num, strict=True)]
            lines.append("| " + " | ".join(cells) + " |")
        if s.notes:
            lines += ["", *(f"- {n}" for n in s.notes)]
    return "\n".join(lines) + "\n"


def report_html(r: Report) -> str:
    """The report as one self-contained, escaped HTML page (the shared template's styles)."""
    sections = [
        {
            "title": s.title,
            "headers": [h for h, _ in s.columns.values()],
            "num": [_numeric(s.frame[c], fmt) for c, (_, fmt) in s.columns.items()],
            "rows": _rows(s),
            "notes": list(s.notes),
        }
        for s in r.sections
    ]
    return _ENV.get_template("fear.html.j2").render(
        {"r": r, "sections": sections, "generated_at": timestamp()}
    )


def _numeric(column: pd.Series, fmt: Format | None) -> bool:
    """Whether a column holds numbers (right-aligned, never wrapped)."""
    if fmt is None:
        kind = column.dtype
        return pd.api.types.is_numeric_dtype(kind) and not pd.api.types.is_bool_dtype(kind)
    return fmt in NUMERIC or fmt is _share


def report_files(r: Report) -> dict[str, bytes]:
    return {
        **{s.file: table_csv(s.frame) for s in r.sections},
        f"{r.kind}.json": report_json(r),
        "report.md": report_md(r).encode("utf-8"),
        "report.html": report_html(r).encode("utf-8"),
    }


def write_report(r: Report, outdir: str | Path, *, force: bool = False) -> Path:
    """Write the report and ``manifest.json`` as the folder ``outdir``, replaced as a whole
    (:func:`~revshare.atomic.write_bundle`); an existing report needs ``force``."""
    from .workbook import write_report_bundle

    problems = check_outputs(Path(outdir), [*r.files, "manifest.json"], force)
    if problems:
        raise InputError(problems)
    return write_report_bundle(outdir, report_files(r), force=force)


def _share(value: Any) -> str:
    return "\u2013" if value is None or pd.isna(value) else f"{float(value) + 0.0:.1%}"


def core_report(c: Core) -> Report:
    table = c.table.astype(object).where(c.table.notna(), None)
    return Report(
        "core",
        c.dataset,
        "The core of the secession game",
        [c.dataset],
        f"At {c.price:g} USD a barrel: would a coalition of blocs rather leave together? "
        "For each structure, whether its allocation is in the core, the most dissatisfied "
        "coalition, the least core and the largest centre slice with a non-empty core.",
        DIRECT,
        CORE_MONEY,
        [
            Section(
                "core.csv",
                "The core, structure by structure",
                table,
                {
                    "structure": ("structure", None),
                    "in_core": ("in the core", yes_no),
                    "worst_coalition": ("most dissatisfied coalition", None),
                    "worst_excess_usd": ("its excess, USD a year (direct)", usd),
                    "least_core_usd": ("least core, USD a year (direct)", usd),
                    "max_centre_share": ("largest centre slice", _share),
                },
                CORE_NOTES,
            ),
            Section(
                "excesses.csv",
                "Every coalition under each structure",
                c.excesses,
                {
                    "structure": ("structure", None),
                    "coalition": ("coalition", None),
                    "size": ("blocs", None),
                    "option_usd": ("outside option, USD a year", usd),
                    "money_usd": ("money, USD a year (direct)", usd),
                    "excess_usd": ("excess, USD a year", usd),
                },
                CORE_NOTES[:1],
            ),
        ],
        {
            "price_usd_per_bbl": c.price,
            "structures": c.table.to_dict("records"),
            "excesses": c.excesses.to_dict("records"),
        },
    )


def power_report(dataset: str, title: str, table: pd.DataFrame) -> Report:
    return Report(
        "power",
        dataset,
        "Voting power",
        [dataset],
        f"Who can block what: exact Banzhaf and Shapley-Shubik power under {title}.",
        None,
        POWER_MONEY,
        [
            Section(
                "power.csv",
                "Power of each player",
                table,
                {
                    "player": ("player", None),
                    "weight": ("weight", None),
                    "banzhaf": ("banzhaf", ratio),
                    "banzhaf_absolute": ("banzhaf absolute", ratio),
                    "shapley_shubik": ("shapley-shubik", ratio),
                },
                POWER_NOTES,
            )
        ],
        {"title": title, "players": table.to_dict("records")},
    )


def secession_report(dataset: str, v: SecessionVote) -> Report:
    return Report(
        "secession",
        dataset,
        "A vote on leaving",
        [v.structure, dataset],
        f"Each {v.by} votes after {v.vote_after:g} years on what the structure delivered, "
        f"discounted at {v.discount_rate:.1%} a year ({v.vote_model} votes); "
        f"{len(v.leaving)} of {len(v.votes)} vote to leave.",
        SERVED,
        SECESSION_MONEY,
        [
            Section(
                "secession.csv",
                f"The vote, {v.by} by {v.by}",
                v.votes,
                {
                    "group": (v.by, None),
                    "population": ("people", usd),
                    "money_usd": ("money over the interim, USD (served, discounted)", usd),
                    "option_usd": ("outside option, USD (discounted)", usd),
                    "gain_usd_per_head_a_year": ("gain, USD a head a year (served)", per_head),
                    "leave_votes": ("votes to leave", usd),
                    "leaves": ("leaves", yes_no),
                },
                SECESSION_NOTES,
            )
        ],
        {
            "structure": v.structure,
            "by": v.by,
            "vote_after_years": v.vote_after,
            "discount_rate": v.discount_rate,
            "vote_model": v.vote_model,
            "leaving": v.leaving,
            "votes": records(v.votes),
        },
    )
