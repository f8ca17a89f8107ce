"""The commands that solve no allocation of their own: generate, convention, ratify, validate
and structures. A module of their own, imported when one of them runs (or a help lists them),
so that a solving command's start defines none of their options."""

from __future__ import annotations

from pathlib import Path

import click

import revshare
from revshare.errors import InputError

from . import choices
from .completion import complete_structure
from .failures import handle_errors, solver_options_of
from .inputs import load, refuse_existing
from .options import (
    csv_bytes,
    dataset_options,
    emit,
    force_option,
    format_option,
    method_option,
    out_option,
    overrides_option,
    price_option,
    solving_options,
    structure_option,
    vote_model_option,
)

EXAMPLES = {
    "validate": "revshare validate data/iraq",
    "structures": "revshare structures data/iraq",
    "convention": "revshare convention data/iraq --seats 100 --method huntington-hill --min-seats 1",
    "ratify": "revshare ratify data/iraq --structure confederation --status-quo unified --rule iraq-2005",
    "generate": "revshare generate out/district --regions 774 --factions 5 --periods 120",
}


@click.command(epilog=f"Example: {EXAMPLES['generate']}")
@click.argument("outdir", type=click.Path(path_type=Path))
@click.option(
    "--regions", "n_regions", type=click.IntRange(2, 100_000), default=774, show_default=True
)
@click.option("--factions", type=click.IntRange(1, 50), default=5, show_default=True)
@click.option(
    "--fields", "n_fields", type=click.IntRange(1, 1_000_000), help="Default: regions / 4."
)
@click.option("--blocs", type=click.IntRange(1, 1_000), default=3, show_default=True)
@click.option(
    "--periods", type=click.IntRange(1, 12_000), default=120, show_default=True, help="Months."
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@force_option("Replace an existing dataset in OUTDIR.")
@format_option
@handle_errors
def generate(
    outdir: Path,
    n_regions: int,
    factions: int,
    n_fields: int | None,
    blocs: int,
    periods: int,
    seed: int,
    force: bool,
    fmt: str,
) -> None:
    """Write a synthetic dataset of any size (with a monthly price path) for scale tests."""
    from revshare.data.synthetic import generate as make
    from revshare.data.synthetic import price_path, write_dataset

    frames = make(n_regions, factions, n_fields, blocs, seed)
    write_dataset(outdir, frames, price_path(periods, seed), seed, force=force)
    wrote = {
        "path": str(outdir),
        "regions": n_regions,
        "cells": len(frames[1]),
        "field_rows": len(frames[0]),
        "periods": periods,
        "seed": seed,
    }
    emit(
        fmt,
        lambda: (
            f"wrote {outdir}: {n_regions} regions, {wrote['cells']} cells, "
            f"{wrote['field_rows']} field rows, {periods} monthly periods (synthetic, seed {seed})"
        ),
        lambda: csv_bytes(list(wrote), [list(wrote.values())]),
        lambda: wrote,
        kind="generated",
        dataset=Path(outdir).resolve().name,
    )


@click.command(epilog=f"Example: {EXAMPLES['convention']}")
@dataset_options
@click.option("--seats", type=click.IntRange(min=1), required=True, help="Seats in the convention.")
@method_option
@click.option("--min-seats", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--max-seats", type=click.IntRange(min=1), help="At most this many seats each.")
@click.option(
    "--by",
    type=click.Choice(choices.BY),
    default="region",
    show_default=True,
    help="Which localities get seats.",
)
@click.option(
    "--tie-rule",
    type=click.Choice(choices.TIE_RULES),
    default="error",
    show_default=True,
    help="How an exact tie for the last seat is settled.",
)
@out_option()
@format_option
@force_option()
@handle_errors
def convention(
    dataset: Path | None,
    fields: Path | None,
    population: Path | None,
    regions: Path | None,
    encoding: str,
    delimiter: str,
    seats: int,
    method: str,
    min_seats: int,
    max_seats: int | None,
    by: str,
    tie_rule: str,
    outdir: Path | None,
    fmt: str,
    force: bool,
) -> None:
    """Apportion a constitutional convention's seats with exact arithmetic; ties are reported."""
    from revshare.analyses.convention import apportion_territory
    from revshare.reports.convention import (
        APPORTIONMENT_FILES,
        apportionment_csv,
        apportionment_json,
        apportionment_text,
        write_apportionment,
    )

    refuse_existing(outdir, APPORTIONMENT_FILES, force)
    territory = load(dataset, fields, population, regions, encoding, delimiter)
    result = apportion_territory(
        territory, seats, method, by=by, min_seats=min_seats, max_seats=max_seats, tie_rule=tie_rule
    )
    if outdir is not None:
        write_apportionment(result, outdir, force=force, dataset=territory.name)
    emit(
        fmt,
        lambda: apportionment_text(result),
        lambda: apportionment_csv(result),
        lambda: apportionment_json(result, territory.name),
        kind="apportionment",
        dataset=territory.name,
    )


@click.command(epilog=f"Example: {EXAMPLES['ratify']}")
@dataset_options
@structure_option("The proposal: a structure name or .toml.", required=True)
@click.option(
    "--status-quo",
    required=True,
    help="What voters have now: a structure name or .toml.",
    shell_complete=complete_structure,
)
@click.option(
    "--rule",
    type=click.Choice(choices.RULES),
    default="majority",
    show_default=True,
)
@click.option(
    "--margin",
    type=float,
    default=0.0,
    show_default=True,
    help="USD a head a cell must gain to vote yes.",
)
@price_option
@overrides_option("Override a parameter of the proposal; repeatable.")
@click.option(
    "--status-quo-set",
    "status_quo_overrides",
    multiple=True,
    metavar="PARAM=VALUE",
    help="Override a parameter of the status quo; repeatable.",
)
@click.option(
    "--turnout",
    type=click.FloatRange(min=0, max=1, min_open=True),
    default=1.0,
    show_default=True,
    help="Share of each cell's people who vote.",
)
@vote_model_option
@click.option(
    "--logistic-scale",
    type=click.FloatRange(min=0, min_open=True),
    default=100.0,
    show_default=True,
    help="USD a head that raises the odds of yes e-fold (logistic).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the logistic model.")
@solving_options
@out_option("Write referendum.csv, summary.json, report.md and report.html here.")
@format_option
@force_option()
@handle_errors
def ratify(
    dataset: Path | None,
    fields: Path | None,
    population: Path | None,
    regions: Path | None,
    encoding: str,
    delimiter: str,
    structure: str,
    status_quo: str,
    rule: str,
    margin: float,
    price: float | None,
    overrides: tuple[str, ...],
    status_quo_overrides: tuple[str, ...],
    turnout: float,
    vote_model: str,
    logistic_scale: float,
    seed: int,
    solver: str,
    cross_check: bool,
    time_limit: float | None,
    solver_options: tuple[str, ...],
    outdir: Path | None,
    fmt: str,
    force: bool,
) -> None:
    """Would the voters ratify a proposal? Each cell compares its money per head with the status quo."""
    from revshare.analyses.referendum import ratify as run_referendum
    from revshare.reports.convention import (
        REFERENDUM_FILES,
        referendum_csv,
        referendum_json,
        referendum_text,
        write_referendum,
    )

    refuse_existing(outdir, REFERENDUM_FILES, force)
    territory = load(dataset, fields, population, regions, encoding, delimiter)
    result = run_referendum(
        territory,
        structure,
        status_quo,
        rule,
        margin=margin,
        price=price,
        overrides=list(overrides),
        status_quo_overrides=list(status_quo_overrides),
        turnout=turnout,
        vote_model=vote_model,
        logistic_scale_usd=logistic_scale,
        seed=seed,
        solver=solver,
        time_limit=time_limit,
        solver_options=solver_options_of(solver_options),
        cross_check=cross_check,
    )
    if outdir is not None:
        write_referendum(result, outdir, force=force)
    emit(
        fmt,
        lambda: referendum_text(result),
        lambda: referendum_csv(result),
        lambda: referendum_json(result),
        kind="referendum",
        dataset=territory.name,
    )


@click.command(epilog=f"Example: {EXAMPLES['validate']}")
@dataset_options
@price_option
@format_option
@handle_errors
def validate(
    dataset: Path | None,
    fields: Path | None,
    population: Path | None,
    regions: Path | None,
    encoding: str,
    delimiter: str,
    price: float | None,
    fmt: str,
) -> None:
    """Check a dataset and every structure that could run on it; solve nothing.

    Runs every check the solving commands run before they solve, for each of the dataset's own
    structures (a problem is exit 2) and each built-in preset (one that cannot apply is listed).
    """
    t = load(dataset, fields, population, regions, encoding, delimiter)
    result = revshare.validate(t, price=price)
    for notice in t.provenance.get("notices", []):
        click.echo(notice, err=True)
    if result.problems:
        raise InputError(list(result.problems))
    applicable = sum(c.applicable for c in result.structures)
    counts = {
        "regions": len(t.regions),
        "factions": len(t.factions),
        "cells": len(t.cells),
        "fields": int(t.fields["field"].nunique()),
        "blocs": len(t.blocs),
        "dataset_structures": len(t.structures),
    }
    rows = [
        {
            "structure": c.name,
            "source": c.source,
            "preset": c.preset,
            "applicable": c.applicable,
            "reason": c.reason,
        }
        for c in result.structures
    ]

    def text() -> str:
        lines = [
            f"ok: {counts['regions']} regions, {counts['factions']} factions, "
            f"{counts['cells']} cells, {counts['fields']} fields, {counts['blocs']} blocs, "
            f"{counts['dataset_structures']} dataset structures; {applicable} of "
            f"{len(result.structures)} structures can run"
        ]
        lines += [f"preset {n} cannot apply: {r}" for n, r in result.presets_not_applicable.items()]
        if result.next_steps:
            lines.append(
                "\nNext steps (placeholders of `revshare init` remain; validate after each):"
            )
            lines += [f"{i}. {step}" for i, step in enumerate(result.next_steps, 1)]
        return "\n".join(lines)

    emit(
        fmt,
        text,
        lambda: csv_bytes(list(rows[0]) if rows else [], [list(r.values()) for r in rows]),
        lambda: {
            "ok": True,
            "price_usd_per_bbl": result.price,
            **counts,
            "structures": rows,
            "next_steps": list(result.next_steps),
        },
        kind="validation",
        dataset=t.name,
    )


@click.command(epilog=f"Example: {EXAMPLES['structures']}")
@click.argument("dataset", required=False, type=click.Path(path_type=Path))
@format_option
@handle_errors
def structures(dataset: Path | None, fmt: str) -> None:
    """List the built-in presets and the dataset's own structures."""
    available = dict(revshare.PRESETS)
    name = ""
    if dataset is not None:
        territory = revshare.load_dataset(dataset)
        available.update(territory.structures)
        name = territory.name
    rows = [
        {"name": n, "source": s.source, "objective": s.objective, "description": s.description}
        for n, s in available.items()
    ]
    emit(
        fmt,
        lambda: "\n".join(
            f"{r['name']:<20} [{r['source']}] objective={r['objective']}  {r['description']}"
            for r in rows
        ),
        lambda: csv_bytes(list(rows[0]), [list(r.values()) for r in rows]),
        lambda: {"structures": rows},
        kind="structures",
        dataset=name,
    )
