"""``revshare periods``: allocate every period of a price path, with an optional stabilisation
fund; ``optimize --periods`` is the same run under its old name."""

from __future__ import annotations

from pathlib import Path

import click

import revshare

from .failures import handle_errors
from .fund import fund_options
from .inputs import load, refuse_existing
from .options import (
    dataset_options,
    emit,
    force_option,
    format_option,
    out_option,
    overrides_option,
    structure_option,
    time_limit_option,
)

EXAMPLE = (
    "revshare periods data/iraq --structure federation --periods data/iraq/brent-2005-2024.csv "
    "--fund-benchmark ma:5"
)
MOVED = (
    "runs `revshare periods` (multi-period allocation moved there; see 'revshare periods --help')"
)


def fund_of(
    benchmark: str | None,
    target: float | None,
    spend_rule: float | None,
    interest: float,
    initial: float,
) -> revshare.Fund | None:
    """The fund the options describe, or None."""
    from revshare.analyses.periods import fund_from_options

    return fund_from_options(
        benchmark, target_usd=target, spend_rule=spend_rule, interest=interest, initial_usd=initial
    )


def run_periods(
    territory: revshare.Territory,
    structure: str,
    overrides: tuple[str, ...],
    periods_file: Path,
    fund: revshare.Fund | None,
    smooth: bool,
    time_limit: float | None,
    outdir: Path | None,
    fmt: str,
    force: bool,
) -> None:
    """Solve every period, write the reports into ``outdir`` and print as ``fmt`` asks."""
    from revshare.reports.periods import (
        PERIOD_FILES,
        periods_csv,
        periods_document,
        periods_terminal,
        write_period_reports,
    )

    refuse_existing(outdir, PERIOD_FILES, force)
    path = revshare.read_periods(periods_file)
    result = revshare.optimize_periods(
        territory,
        structure,
        path,
        fund=fund,
        smooth=smooth,
        overrides=list(overrides),
        time_limit=time_limit,
    )
    if outdir is not None:
        write_period_reports(result, outdir, force=force)
    emit(
        fmt,
        lambda: periods_terminal(result),
        lambda: periods_csv(result),
        lambda: periods_document(result),
        kind="periods",
        dataset=territory.name,
    )


@click.command(epilog=f"Example: {EXAMPLE}")
@dataset_options
@structure_option()
@click.option(
    "--periods",
    "periods_file",
    type=click.Path(path_type=Path),
    required=True,
    help="The price path: a CSV of period,price[,years] (years: the period's length).",
)
@overrides_option("Override a structure parameter; repeatable (e.g. --set central_share=0).")
@fund_options()
@time_limit_option
@out_option("Write periods.csv, cells_by_period.csv, summary.json, report.md and report.html here.")
@format_option
@force_option()
@handle_errors
def periods(
    dataset: Path | None,
    fields: Path | None,
    population: Path | None,
    regions: Path | None,
    encoding: str,
    delimiter: str,
    structure: str,
    periods_file: Path,
    overrides: tuple[str, ...],
    fund_benchmark: str | None,
    fund_target: float | None,
    fund_spend_rule: float | None,
    fund_interest: float,
    fund_initial: float,
    smooth: bool,
    time_limit: float | None,
    outdir: Path | None,
    fmt: str,
    force: bool,
) -> None:
    """Allocate the revenue in every period of a price path (each verified), with an optional
    stabilisation fund; the fund's flows are USD in each period, each group's money USD a head
    a year."""
    fund = fund_of(fund_benchmark, fund_target, fund_spend_rule, fund_interest, fund_initial)
    territory = load(dataset, fields, population, regions, encoding, delimiter)
    run_periods(
        territory,
        structure,
        overrides,
        periods_file,
        fund,
        smooth,
        time_limit,
        outdir,
        fmt,
        force,
    )
