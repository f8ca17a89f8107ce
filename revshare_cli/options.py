"""The options several commands share, each written once; choice lists are the library's
registries' names (:mod:`revshare_cli.choices`, light to import, so that help prints at once).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import click

from . import choices
from .completion import complete_structure, complete_structures

FORMATS = ("table", "csv", "json")
"""What a command prints on stdout."""

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def stack(*decorators: Decorator) -> Decorator:
    """One decorator applying ``decorators`` so that the options appear in the order given."""

    def apply(fn: Callable[..., Any]) -> Callable[..., Any]:
        for decorator in reversed(decorators):
            fn = decorator(fn)
        return fn

    return apply


dataset_options = stack(
    click.argument("dataset", required=False, type=click.Path(path_type=Path)),
    click.option(
        "--fields", type=click.Path(path_type=Path), help="fields.csv (overrides DATASET's)."
    ),
    click.option("--population", type=click.Path(path_type=Path), help="population.csv."),
    click.option("--regions", type=click.Path(path_type=Path), help="regions.csv."),
    click.option(
        "--encoding", default="utf-8", show_default=True, help="Input encoding, e.g. cp1256."
    ),
    click.option("--delimiter", default=",", show_default=True, help="CSV delimiter."),
)
price_option = click.option(
    "--price", type=float, help="Oil price, USD a barrel (default: the dataset's)."
)
solver_option = click.option(
    "--solver",
    type=click.Choice(choices.SOLVERS),
    default="highs",
    show_default=True,
    help="The LP solver.",
)
time_limit_option = click.option(
    "--time-limit", type=click.FloatRange(min=0, min_open=True), help="Seconds per LP solve."
)
cross_check_option = click.option(
    "--cross-check", is_flag=True, help="Also solve with the other solver; fail if they disagree."
)
solver_options_option = click.option(
    "--solver-option",
    "solver_options",
    multiple=True,
    metavar="NAME=VALUE",
    help="Pass an option to the solver as is (HiGHS option name, or CBC word); repeatable.",
)
solving_options = stack(solver_option, cross_check_option, time_limit_option, solver_options_option)
"""The options of every command that solves: which solver, a cross-check, a time limit, and
options passed to the solver."""


def structure_option(
    help: str = "A preset or dataset structure name, or a .toml file.", *, required: bool = False
) -> Decorator:
    """``--structure/-s NAME|FILE.toml``: one structure (``federation`` unless ``required``),
    completed in the shell from the presets and the dataset's own structures."""
    default = {"required": True} if required else {"default": "federation", "show_default": True}
    return click.option(
        "--structure", "-s", "structure", help=help, shell_complete=complete_structure, **default
    )


structures_option = click.option(
    "--structures",
    "-s",
    "names",
    default="all",
    show_default=True,
    help="Comma-separated structure names or .toml files, or 'all'.",
    shell_complete=complete_structures,
)


def overrides_option(help: str) -> Decorator:
    """``--set PARAM=VALUE``, repeatable."""
    return click.option("--set", "overrides", multiple=True, metavar="PARAM=VALUE", help=help)


def out_option(help: str = "Write reports into this folder.") -> Decorator:
    """``--out DIR``."""
    return click.option("--out", "outdir", type=click.Path(path_type=Path), help=help)


def force_option(help: str = "Replace existing reports in --out.") -> Decorator:
    """``--force``."""
    return click.option("--force", is_flag=True, help=help)


format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="What to print on stdout.",
)


def emit(
    fmt: str,
    table: Callable[[], str],
    csv: Callable[[], bytes],
    json: Callable[[], bytes | Mapping[str, Any]],
    *,
    kind: str,
    dataset: str,
) -> None:
    """Print a result on stdout as ``--format`` asks: the terminal table, the report's own CSV
    (the bytes its report file holds), or its JSON in the one envelope every command prints
    (:func:`envelope`; the bytes of the report file where there is one)."""
    if fmt == "table":
        click.echo(table())
    elif fmt == "csv":
        click.echo(csv().decode("utf-8"), nl=False)
    else:
        click.echo(envelope(kind, dataset, json()).decode("utf-8"), nl=False)


def csv_bytes(columns: list[str], rows: list[list[Any]]) -> bytes:
    """Rows as the reports write CSV (formula-like text neutralised)."""
    from revshare.reports.safe import csv_bytes as safe_csv

    return safe_csv(columns, rows)


def envelope(kind: str, dataset: str, document: bytes | Mapping[str, Any]) -> bytes:
    """``document`` with ``schema_version``, ``kind`` and ``dataset`` first: the library's one
    envelope (:func:`revshare.reports.documents.envelope`), the same bytes a report file holds."""
    from revshare.reports.documents import envelope as library_envelope

    return library_envelope(kind, dataset, document)


def structure_names(names: str) -> str | list[str]:
    """``--structures`` as the library takes it: "all", or the listed names."""
    return "all" if names.strip() == "all" else [n.strip() for n in names.split(",") if n.strip()]


method_option = click.option(
    "--method",
    type=click.Choice((*choices.METHODS, *choices.METHOD_ALIASES), case_sensitive=False),
    default="huntington-hill",
    show_default=True,
    help="How a convention's seats are apportioned.",
)


vote_model_option = click.option(
    "--vote-model",
    type=click.Choice(choices.VOTE_MODELS),
    default="deterministic",
    show_default=True,
    help="How voters decide: all by the margin, or each by a seeded logistic draw.",
)
