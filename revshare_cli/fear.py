"""Commands on the fear of domination: guarantees, the core, power and the secession vote."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

import revshare

if TYPE_CHECKING:
    from revshare.reports.fear import Report

from . import choices
from .failures import handle_errors, solver_options_of
from .inputs import load, refuse_existing
from .options import (
    dataset_options,
    emit,
    force_option,
    format_option,
    method_option,
    out_option,
    overrides_option,
    price_option,
    solving_options,
    structure_names,
    structure_option,
    structures_option,
    vote_model_option,
)

EXAMPLES = {
    "guarantees": "revshare guarantees data/iraq -s unified,federation,partition",
    "core": "revshare core data/iraq -s federation,partition --set secession_fixed_cost_usd=5e9",
    "power": "revshare power data/iraq --rule double-majority",
    "secession": (
        "revshare secession data/sudan-2005 --structure sudan-cpa-2005 "
        "--periods data/iraq/brent-2005-2024.csv --vote-after 6 --discount-rate 0.05"
    ),
}


def _solving(
    solver: str, cross_check: bool, time_limit: float | None, solver_options: tuple[str, ...]
) -> dict[str, Any]:
    """The solving options as the library takes them."""
    return {
        "solver": solver,
        "cross_check": cross_check,
        "time_limit": time_limit,
        "solver_options": solver_options_of(solver_options),
    }


def _publish(report: Report, outdir: Path | None, force: bool, fmt: str, text: Any) -> None:
    """Write the report folder (when asked) and print the result as ``--format`` asks; the CSV
    on stdout is the report's first table."""
    from revshare.reports.fear import report_json, table_csv, write_report

    if outdir is not None:
        write_report(report, outdir, force=force)
    emit(
        fmt,
        text,
        lambda: table_csv(report.sections[0].frame),
        lambda: report_json(report),
        kind=report.kind,
        dataset=report.dataset,
    )


@click.command(epilog=f"Example: {EXAMPLES['guarantees']}")
@dataset_options
@structures_option
@price_option
@overrides_option("Override a parameter in every structure; repeatable.")
@solving_options
@click.option("--no-capture", is_flag=True, help="Skip the controller x victim matrix.")
@out_option("Write guarantees.csv, capture.csv, guarantees.json, report.md and report.html here.")
@format_option
@force_option()
@handle_errors
def guarantees(
    dataset: Path | None,
    fields: Path | None,
    population: Path | None,
    regions: Path | None,
    encoding: str,
    delimiter: str,
    names: str,
    price: float | None,
    overrides: tuple[str, ...],
    solver: str,
    cross_check: bool,
    time_limit: float | None,
    solver_options: tuple[str, ...],
    no_capture: bool,
    outdir: Path | None,
    fmt: str,
    force: bool,
) -> None:
    """What each group is guaranteed if others capture the centre, beside a fair centre."""
    from revshare.reports.guarantees import (
        GUARANTEE_FILES,
        guarantees_csv,
        guarantees_document,
        terminal_guarantees,
        write_guarantees,
    )

    refuse_existing(outdir, GUARANTEE_FILES, force)
    territory = load(dataset, fields, population, regions, encoding, delimiter)
    chosen = _chosen(territory, names)
    result = revshare.guarantees(
        territory,
        chosen,
        price=price,
        overrides=list(overrides),
        capture=not no_capture,
        **_solving(solver, cross_check, time_limit, solver_options),
    )
    if outdir is not None:
        write_guarantees(result, outdir, force=force)
    emit(
        fmt,
        lambda: terminal_guarantees(result),
        lambda: guarantees_csv(result),
        lambda: guarantees_document(result),
        kind="guarantees",
        dataset=result.dataset,
    )


def _chosen(territory: revshare.Territory, names: str) -> str | list[str]:
    """``--structures`` as given, or for "all" every preset and dataset structure that can run
    here (a preset naming other blocs cannot)."""
    from revshare.data.structures import resolve
    from revshare.model.lp import check_applicable

    chosen = structure_names(names)
    if chosen != "all":
        return chosen
    every = dict.fromkeys([*revshare.PRESETS, *territory.structures])
    return [n for n in every if not check_applicable(resolve(n, territory.structures), territory)]


@click.command(epilog=f"Example: {EXAMPLES['core']}")
@dataset_options
@structures_option
@price_option
@overrides_option("Override a parameter in every structure; repeatable.")
@solving_options
@out_option("Write core.csv, excesses.csv, core.json, report.md and report.html here.")
@format_option
@force_option()
@handle_errors
def core(
    dataset: Path | None,
    fields: Path | None,
    population: Path | None,
    regions: Path | None,
    encoding: str,
    delimiter: str,
    names: str,
    price: float | None,
    overrides: tuple[str, ...],
    solver: str,
    cross_check: bool,
    time_limit: float | None,
    solver_options: tuple[str, ...],
    outdir: Path | None,
    fmt: str,
    force: bool,
) -> None:
    """Would a coalition of blocs rather leave together? The core, the least core, the largest
    centre slice with a non-empty core."""
    from revshare.reports.fear import CORE_FILES, core_report

    refuse_existing(outdir, CORE_FILES, force)
    territory = load(dataset, fields, population, regions, encoding, delimiter)
    chosen = _chosen(territory, names)
    result = revshare.core(
        territory,
        chosen,
        price=price,
        overrides=list(overrides),
        **_solving(solver, cross_check, time_limit, solver_options),
    )
    table = result.table

    def text() -> str:
        shown = table.assign(
            worst_excess_musd=table["worst_excess_usd"] / 1e6,
            least_core_musd=table["least_core_usd"] / 1e6,
        )[
            [
                "structure",
                "in_core",
                "worst_coalition",
                "worst_excess_musd",
                "least_core_musd",
                "max_centre_share",
            ]
        ]
        return "\n".join(
            [
                f"{result.dataset} at {result.price:g} USD/bbl: the core of the secession game "
                "(money of a bloc: its cells' and its own governments', not the centre's)",
                "",
                shown.to_string(index=False, float_format=lambda v: f"{v:,.3f}"),
                "",
                "excess: a coalition's money less its outside option as one new state, million "
                "USD a year; least core: the most every coalition can get above its option at "
                "once (negative: the core is empty)",
            ]
        )

    _publish(core_report(result), outdir, force, fmt, text)


@click.command(epilog=f"Example: {EXAMPLES['power']}")
@dataset_options
@click.option(
    "--rule",
    type=click.Choice(choices.RULES),
    default="majority",
    show_default=True,
    help="The ratification rule, each region or bloc voting as one block.",
)
@click.option(
    "--by",
    "power_by",
    type=click.Choice(choices.POWER_VOTERS),
    default="region",
    show_default=True,
    help="Who votes as one block.",
)
@click.option("--seats", type=click.IntRange(min=1), help="Instead: a convention of this size.")
@method_option
@out_option("Write power.csv, power.json, report.md and report.html here.")
@format_option
@force_option()
@handle_errors
def power(
    dataset: Path | None,
    fields: Path | None,
    population: Path | None,
    regions: Path | None,
    encoding: str,
    delimiter: str,
    rule: str,
    power_by: str,
    seats: int | None,
    method: str,
    outdir: Path | None,
    fmt: str,
    force: bool,
) -> None:
    """Who can block what: exact Banzhaf and Shapley-Shubik power under a ratification rule or
    in a convention's seats. Counting votes solves no LP: no solver options."""
    from revshare.reports.fear import POWER_FILES, power_report

    refuse_existing(outdir, POWER_FILES, force)
    territory = load(dataset, fields, population, regions, encoding, delimiter)
    if seats is not None:
        a = revshare.apportion_territory(territory, seats, method, by=power_by)
        table = revshare.seat_power(a, Fraction(1, 2))
        title = f"a convention of {seats} seats ({method}) deciding by a majority of seats"
    else:
        table = revshare.rule_power(territory, rule, power_by)
        title = f"the rule {rule}, each {power_by} voting as one block"

    def text() -> str:
        return "\n".join(
            [
                f"{territory.name}: power under {title}",
                "",
                table.to_string(index=False, float_format=lambda v: f"{v:.4f}"),
                "",
                "banzhaf: share of the swings (sums to 1); banzhaf_absolute: the chance of "
                "deciding a random vote; shapley_shubik: the chance of being pivotal in a random order",
            ]
        )

    _publish(power_report(territory.name, title, table), outdir, force, fmt, text)


@click.command(epilog=f"Example: {EXAMPLES['secession']}")
@dataset_options
@structure_option("A structure name or .toml.", required=True)
@click.option(
    "--periods",
    "periods_file",
    type=click.Path(path_type=Path),
    required=True,
    help="The price path (period,price[,years]).",
)
@click.option(
    "--vote-after", type=float, required=True, help="Years into the path when the vote is held."
)
@click.option("--discount-rate", type=float, default=0.0, show_default=True, help="A year.")
@click.option(
    "--by",
    "vote_by",
    type=click.Choice(choices.SECESSION_VOTERS),
    default="bloc",
    show_default=True,
    help="Who votes.",
)
@vote_model_option
@click.option("--margin", type=float, default=0.0, show_default=True, help="USD a head a year.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@overrides_option("Override a parameter of the structure; repeatable.")
@solving_options
@out_option("Write secession.csv, secession.json, report.md and report.html here.")
@format_option
@force_option()
@handle_errors
def secession(
    dataset: Path | None,
    fields: Path | None,
    population: Path | None,
    regions: Path | None,
    encoding: str,
    delimiter: str,
    structure: str,
    periods_file: Path,
    vote_after: float,
    discount_rate: float,
    vote_by: str,
    vote_model: str,
    margin: float,
    seed: int,
    overrides: tuple[str, ...],
    solver: str,
    cross_check: bool,
    time_limit: float | None,
    solver_options: tuple[str, ...],
    outdir: Path | None,
    fmt: str,
    force: bool,
) -> None:
    """The secession referendum after N years: each bloc (or region) against its outside option."""
    from revshare.reports.fear import SECESSION_FILES, secession_report

    refuse_existing(outdir, SECESSION_FILES, force)
    territory = load(dataset, fields, population, regions, encoding, delimiter)
    path = revshare.read_periods(periods_file)
    vote = revshare.secession_vote(
        territory,
        structure,
        path,
        vote_after=vote_after,
        discount_rate=discount_rate,
        by=vote_by,
        vote_model=vote_model,
        margin=margin,
        seed=seed,
        overrides=list(overrides),
        **_solving(solver, cross_check, time_limit, solver_options),
    )
    votes = vote.votes

    def text() -> str:
        return "\n".join(
            [
                f"{territory.name}: a vote on leaving {vote.structure} after {vote_after:g} years, "
                f"discounted at {discount_rate:.1%} a year ({vote_model})",
                "",
                votes.to_string(index=False, float_format=lambda v: f"{v:,.2f}"),
                "",
                "gain: money a head a year from staying (its own, and a head that of every "
                "government serving it, the centre's included) less its outside option",
                f"leaving: {', '.join(vote.leaving) or 'nobody'}",
            ]
        )

    _publish(secession_report(territory.name, vote), outdir, force, fmt, text)
