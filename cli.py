"""The ``revshare`` command line: parse, make one library call, print or write, map errors to exit codes.

Exit codes (DESIGN.md section 9): 0 verified optimum written; 1 internal error; 2 bad input or
usage; 3 infeasible; 4 not proven optimal or not verified; 5 solver unavailable.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import shlex
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

import revshare
from revshare.errors import InfeasibleError, InputError, NotOptimalError, Problem, RevshareError

EXAMPLES = {
    "optimize": "revshare optimize data/iraq --structure federation --price 75 --out out/",
    "validate": "revshare validate data/iraq",
    "structures": "revshare structures data/iraq",
    "compare": "revshare compare data/iraq --structures all --out out/compare",
    "convention": "revshare convention data/iraq --seats 100 --method huntington-hill --min-seats 1",
    "ratify": "revshare ratify data/iraq --structure confederation --status-quo unified --rule iraq-2005",
    "generate": "revshare generate out/district --regions 774 --factions 5 --periods 120",
    "sweep": "revshare sweep data/iraq --structures all --scenarios 10000 --seed 1 --out out/sweep",
}
METHODS = ["hamilton", "jefferson", "webster", "huntington-hill", "adams", "dean"]
RULES = ["majority", "double-majority", "iraq-2005", "bloc-veto"]


def _fail(message: str, code: int) -> None:
    click.echo(message, err=True)
    sys.exit(code)


# The library names its parameters (``fund_interest``); the command line shows the flag the user
# typed (``--fund-interest``). Where the two names differ, this table joins them; otherwise the
# parameter is the option's own name.
LIBRARY_PARAMETERS = {
    "prices": "grid",
    "kind": "price_model",
    "start": "price_start",
    "mean": "mean_price",
    "n": "scenarios",
    "periods": "periods_file",
}


def _as_typed(problem: Problem) -> Problem:
    """``problem`` with a library parameter in its place shown as the flag of this command."""
    ctx = click.get_current_context(silent=True)
    if ctx is None or problem.line is not None:
        return problem
    options = {p.name: p for p in ctx.command.params if isinstance(p, click.Option)}
    option = options.get(LIBRARY_PARAMETERS.get(problem.file, problem.file))
    if option is None:
        return problem
    return dataclasses.replace(problem, file=max(option.opts, key=len))


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn library exceptions into the exit-code contract; tracebacks only with --debug."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = click.get_current_context().find_root().params.get("debug", False)
        try:
            return fn(*args, **kwargs)
        except InputError as exc:
            _fail("\n".join(f"revshare: error: {_as_typed(p)}" for p in exc.problems), 2)
        except InfeasibleError as exc:
            lines = [f"revshare: infeasible: {exc}"] + [f"  {c}" if c else "" for c in exc.conflict]
            if exc.concession:
                lines.append(f"cheapest concession: {exc.concession}")
            if exc.overrides:
                lines.append(
                    "apply it with: " + shlex.join(a for o in exc.overrides for a in ("--set", o))
                )
            _fail("\n".join(lines), 3)
        except RevshareError as exc:
            label = {4: "not optimal", 5: "solver unavailable"}.get(exc.exit_code, "error")
            _fail(f"revshare: {label}: {exc}", exc.exit_code)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            _fail("revshare: interrupted; nothing written", 130)
        except Exception as exc:
            if debug:
                traceback.print_exc()
            _fail(
                f"revshare: internal error: {type(exc).__name__}: {exc} (run with --debug for "
                "the traceback and report it)",
                1,
            )

    return wrapper


def dataset_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    options = [
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
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


price_option = click.option(
    "--price", type=float, help="Oil price, USD a barrel (default: the dataset's)."
)
solver_option = click.option(
    "--solver", type=click.Choice(["highs", "cbc"]), default="highs", show_default=True
)
force_option = click.option("--force", is_flag=True, help="Replace existing reports in --out.")
structures_option = click.option(
    "--structures",
    "names",
    default="all",
    show_default=True,
    help="Comma-separated structure names or .toml files, or 'all'.",
)


def structure_names(names: str) -> str | list[str]:
    """``--structures`` as the library takes it: "all", or the listed names."""
    return "all" if names.strip() == "all" else [n.strip() for n in names.split(",") if n.strip()]


def _write_or_refuse(outdir: Path | None, names: tuple[str, ...], force: bool) -> None:
    from revshare.atomic import check_outputs

    if outdir is not None:
        problems = check_outputs(outdir, [*names, "manifest.json"], force)
        if problems:
            raise InputError(problems)


def _price_notice(territory: revshare.Territory, price: float | None) -> None:
    notice = territory.price_notice(price)
    if notice is not None:
        click.echo(notice, err=True)


def load(
    dataset: Path | None,
    fields: Path | None,
    population: Path | None,
    regions: Path | None,
    encoding: str,
    delimiter: str,
) -> revshare.Territory:
    return revshare.load_dataset(
        dataset,
        fields=fields,
        population=population,
        regions=regions,
        encoding=encoding,
        delimiter=delimiter,
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(revshare.__version__, prog_name="revshare")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
def main(debug: bool) -> None:
    """Who gets the oil money under each way of governing a divided country.

    \b
    Example:
      revshare optimize data/iraq --structure federation --price 75
    """


@main.command(epilog=f"Example: {EXAMPLES['optimize']}")
@dataset_options
@click.option(
    "--structure",
    "-s",
    default="federation",
    show_default=True,
    help="A preset or dataset structure name, or a .toml file.",
)
@price_option
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="PARAM=VALUE",
    help="Override a structure parameter; repeatable (e.g. --set central_share=0).",
)
@solver_option
@click.option(
    "--cross-check", is_flag=True, help="Also solve with the other solver; fail if they disagree."
)
@click.option(
    "--time-limit", type=click.FloatRange(min=0, min_open=True), help="Seconds per solve."
)
@click.option(
    "--solver-option",
    "solver_options",
    multiple=True,
    metavar="NAME=VALUE",
    help="Pass an option to the solver as is (HiGHS option name, or CBC word); repeatable.",
)
@click.option(
    "--out", "outdir", type=click.Path(path_type=Path), help="Write reports into this folder."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="What to print on stdout.",
)
@click.option("--write-lp", is_flag=True, help="Also write model.lp into --out.")
@click.option(
    "--periods",
    "periods_file",
    type=click.Path(path_type=Path),
    help="A price path (period,price[,years]): allocate every period.",
)
@click.option(
    "--fund-benchmark",
    metavar="PRICE|ma:N",
    help="With --periods: a stabilisation fund saving revenue above this benchmark price.",
)
@click.option(
    "--fund-target",
    type=float,
    help="Distributable floor, USD a year (default: revenue at the benchmark).",
)
@click.option(
    "--fund-spend-rule", type=float, help="Withdraw at most this share of the balance a period."
)
@click.option("--fund-interest", type=float, default=0.0, show_default=True, help="A year.")
@click.option(
    "--fund-initial", type=float, default=0.0, show_default=True, help="Opening balance, USD."
)
@click.option("--smooth", is_flag=True, help="Choose withdrawals to smooth each cell's money.")
@force_option
@handle_errors
def optimize(
    dataset: Path | None,
    fields: Path | None,
    population: Path | None,
    regions: Path | None,
    encoding: str,
    delimiter: str,
    structure: str,
    price: float | None,
    overrides: tuple[str, ...],
    solver: str,
    cross_check: bool,
    time_limit: float | None,
    solver_options: tuple[str, ...],
    outdir: Path | None,
    fmt: str,
    write_lp: bool,
    periods_file: Path | None,
    fund_benchmark: str | None,
    fund_target: float | None,
    fund_spend_rule: float | None,
    fund_interest: float,
    fund_initial: float,
    smooth: bool,
    force: bool,
) -> None:
    """Allocate the revenue under one structure and report the verified optimum."""
    from revshare import reports
    from revshare.analyses.optimize import model_lp
    from revshare.data.structures import parse_override

    if periods_file is not None:
        clash = [
            flag
            for flag, on in (
                ("--price", price is not None),
                ("--solver cbc", solver != "highs"),
                ("--cross-check", cross_check),
                ("--write-lp", write_lp),
            )
            if on
        ]
        if clash:
            raise click.UsageError(
                f"--periods takes its prices from the file; drop {', '.join(clash)}"
            )
        from revshare.analyses.periods import fund_from_options

        fund = fund_from_options(
            fund_benchmark,
            target_usd=fund_target,
            spend_rule=fund_spend_rule,
            interest=fund_interest,
            initial_usd=fund_initial,
        )
        territory = load(dataset, fields, population, regions, encoding, delimiter)
        _optimize_periods(
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
        return
    if fund_benchmark is not None or smooth:
        raise click.UsageError("--fund-benchmark and --smooth need --periods FILE")
    if write_lp and outdir is None:
        raise click.UsageError("--write-lp needs --out DIR")
    _write_or_refuse(outdir, (*reports.REPORT_FILES, *(["model.lp"] if write_lp else [])), force)
    territory = load(dataset, fields, population, regions, encoding, delimiter)
    _price_notice(territory, price)
    alloc = revshare.optimize(
        territory,
        structure,
        price=price,
        overrides=list(overrides),
        solver=solver,
        cross_check=cross_check,
        time_limit=time_limit,
        solver_options=dict(parse_override(o) for o in solver_options),
    )
    if outdir is not None:
        lp = model_lp(territory, alloc.structure, price=alloc.price) if write_lp else None
        reports.write_reports(alloc, outdir, force=force, lp_text=lp)
    if fmt == "table":
        click.echo(reports.terminal_table(alloc))
    elif fmt == "csv":
        click.echo(reports.allocation_csv(alloc).decode("utf-8-sig"), nl=False)
    else:
        click.echo(reports.summary_json(alloc).decode("utf-8"), nl=False)


def _optimize_periods(
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
    from revshare.reports.periods import (
        PERIOD_FILES,
        periods_csv,
        periods_json,
        periods_terminal,
        write_period_reports,
    )

    _write_or_refuse(outdir, PERIOD_FILES, force)
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
    if fmt == "table":
        click.echo(periods_terminal(result))
    elif fmt == "csv":
        click.echo(periods_csv(result).decode("utf-8-sig"), nl=False)
    else:
        click.echo(periods_json(result).decode("utf-8"), nl=False)


@main.command(epilog=f"Example: {EXAMPLES['generate']}")
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
@force_option
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
) -> None:
    """Write a synthetic dataset of any size (with a monthly price path) for scale tests."""
    from revshare.data.synthetic import generate as make
    from revshare.data.synthetic import price_path, write_dataset

    frames = make(n_regions, factions, n_fields, blocs, seed)
    write_dataset(outdir, frames, price_path(periods, seed), seed, force=force)
    click.echo(
        f"wrote {outdir}: {n_regions} regions, {len(frames[1])} cells, {len(frames[0])} field rows, "
        f"{periods} monthly periods (synthetic, seed {seed})"
    )


@main.command(epilog=f"Example: {EXAMPLES['compare']}")
@dataset_options
@structures_option
@price_option
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="PARAM=VALUE",
    help="Override a parameter in every structure; repeatable.",
)
@solver_option
@click.option(
    "--out",
    "outdir",
    type=click.Path(path_type=Path),
    help="Write comparison.csv, comparison.json, report.md and report.html here.",
)
@force_option
@handle_errors
def compare(
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
    outdir: Path | None,
    force: bool,
) -> None:
    """Solve several structures side by side: who gets what, who prefers which, who would leave."""
    from revshare.reports.comparison import COMPARISON_FILES, comparison_table, write_comparison

    _write_or_refuse(outdir, COMPARISON_FILES, force)
    territory = load(dataset, fields, population, regions, encoding, delimiter)
    _price_notice(territory, price)
    chosen = structure_names(names)
    result = revshare.compare(
        territory, chosen, price=price, overrides=list(overrides), solver=solver
    )
    if result.unproven:
        click.echo(comparison_table(result))
        raise NotOptimalError(
            f"no proven, verified optimum for {', '.join(result.unproven)}; no report written "
            "(see the reasons above; try --solver cbc)"
        )
    if outdir is not None:
        write_comparison(result, outdir, force=force)
    click.echo(comparison_table(result))


@main.command(epilog=f"Example: {EXAMPLES['sweep']}")
@dataset_options
@structures_option
@click.option("--prices", "grid", metavar="START:STOP:STEP", help="A price grid, or a,b,c.")
@click.option("--scenarios", type=click.IntRange(min=1), help="Monte Carlo: this many prices.")
@click.option(
    "--prices-file",
    type=click.Path(path_type=Path),
    help="Price scenarios from a CSV: scenario,period,price.",
)
@click.option(
    "--price-model",
    type=click.Choice(["gbm", "mean-reverting"]),
    default="gbm",
    show_default=True,
    help="Monte Carlo model (see README).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Monte Carlo seed.")
@click.option("--price-start", type=float, help="Today's price (default: the dataset's).")
@click.option("--volatility", type=float, default=0.30, show_default=True, help="A year.")
@click.option("--drift", type=float, default=0.0, show_default=True, help="gbm drift a year.")
@click.option("--mean-price", type=float, help="mean-reverting long-run price (default: start).")
@click.option("--reversion", type=float, default=0.5, show_default=True, help="Speed a year.")
@click.option("--horizon", type=float, default=1.0, show_default=True, help="Years ahead.")
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="PARAM=START:STOP:STEP",
    help="A parameter grid; several make their product.",
)
@click.option("--workers", type=click.IntRange(min=1), help="Local processes (default: cores).")
@click.option("--scheduler", metavar="ADDRESS", help="A Dask scheduler, e.g. tcp://host:8786.")
@click.option("--chunk-size", type=click.IntRange(min=1), default=1000, show_default=True)
@click.option(
    "--time-limit", type=click.FloatRange(min=0, min_open=True), help="Seconds per LP solve."
)
@click.option(
    "--out", "outdir", type=click.Path(path_type=Path), help="Stream results and reports here."
)
@click.option("--resume", is_flag=True, help="Continue the interrupted sweep in --out.")
@click.option("--force", is_flag=True, help="Start over, replacing the sweep in --out.")
@click.option(
    "--keep-chunks",
    is_flag=True,
    help="Keep --out/chunks/ after a complete sweep (removed once the reports are written).",
)
@handle_errors
def sweep(
    dataset: Path | None,
    fields: Path | None,
    population: Path | None,
    regions: Path | None,
    encoding: str,
    delimiter: str,
    names: str,
    grid: str | None,
    scenarios: int | None,
    prices_file: Path | None,
    price_model: str,
    seed: int,
    price_start: float | None,
    volatility: float,
    drift: float,
    mean_price: float | None,
    reversion: float,
    horizon: float,
    params: tuple[str, ...],
    workers: int | None,
    scheduler: str | None,
    chunk_size: int,
    time_limit: float | None,
    outdir: Path | None,
    resume: bool,
    force: bool,
    keep_chunks: bool,
) -> None:
    """Solve structures over many prices and parameter values: price grids, Monte Carlo, paths."""
    from tqdm import tqdm

    from revshare.data import scenarios as sc
    from revshare.reports.sweep import sweep as run_sweep
    from revshare.reports.sweep import sweep_table

    given = [x for x in (grid, scenarios, prices_file) if x is not None]
    if len(given) != 1:
        raise InputError(
            revshare.Problem(
                "--prices",
                None,
                None,
                "E-USAGE",
                "give exactly one of --prices, --scenarios and --prices-file",
                "e.g. --prices 30:130:5",
            )
        )
    territory = load(dataset, fields, population, regions, encoding, delimiter)
    if grid is not None:
        table = sc.price_grid(grid)
    elif prices_file is not None:
        table = revshare.read_prices(prices_file)
    else:
        start = price_start if price_start is not None else territory.default_price or 80.0
        model = sc.PriceModel(price_model, start, volatility, drift, mean_price, reversion, horizon)
        table = sc.monte_carlo(scenarios or 0, model, seed)
    chosen = structure_names(names)
    bar = tqdm(total=0, unit=" scenario", file=sys.stderr, disable=not sys.stderr.isatty())

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    try:
        result = run_sweep(
            territory,
            chosen,
            table,
            params=list(params),
            # the command line uses every core unless told; the library's default is in process
            workers=workers if workers is not None else (os.cpu_count() or 1),
            scheduler=scheduler,
            out=outdir,
            resume=resume,
            force=force,
            keep_chunks=keep_chunks,
            chunk_size=chunk_size,
            time_limit=time_limit,
            progress=progress,
            notice=lambda line: tqdm.write(line, file=sys.stderr),
        )
    except KeyboardInterrupt:
        kept = f"; finished chunks are kept in {outdir}: run again with --resume" if outdir else ""
        _fail(f"revshare: interrupted{kept}", 130)
    finally:
        bar.close()
    click.echo(sweep_table(result))
    if result.failed:
        _fail(
            f"revshare: not optimal: {result.failed} scenario(s) could not be proven optimal and "
            "verified, so no report was written"
            + (f"; the finished chunks are kept in {outdir}" if outdir else ""),
            4,
        )


@main.command(epilog=f"Example: {EXAMPLES['convention']}")
@dataset_options
@click.option("--seats", type=click.IntRange(min=1), required=True, help="Seats in the convention.")
@click.option("--method", type=click.Choice(METHODS), default="huntington-hill", show_default=True)
@click.option("--min-seats", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--max-seats", type=click.IntRange(min=1), help="At most this many seats each.")
@click.option(
    "--by",
    type=click.Choice(["region", "bloc", "faction"]),
    default="region",
    show_default=True,
    help="Which localities get seats.",
)
@click.option(
    "--tie-rule",
    type=click.Choice(["error", "larger-population", "alphabetical"]),
    default="error",
    show_default=True,
    help="How an exact tie for the last seat is settled.",
)
@click.option("--out", "outdir", type=click.Path(path_type=Path), help="Write reports here.")
@force_option
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
    force: bool,
) -> None:
    """Apportion a constitutional convention's seats with exact arithmetic; ties are reported."""
    from revshare.analyses.convention import apportion_territory
    from revshare.reports.convention import (
        APPORTIONMENT_FILES,
        apportionment_text,
        write_apportionment,
    )

    _write_or_refuse(outdir, APPORTIONMENT_FILES, force)
    territory = load(dataset, fields, population, regions, encoding, delimiter)
    result = apportion_territory(
        territory, seats, method, by=by, min_seats=min_seats, max_seats=max_seats, tie_rule=tie_rule
    )
    if outdir is not None:
        write_apportionment(result, outdir, force=force)
    click.echo(apportionment_text(result))


@main.command(epilog=f"Example: {EXAMPLES['ratify']}")
@dataset_options
@click.option("--structure", "-s", required=True, help="The proposal: a structure name or .toml.")
@click.option(
    "--status-quo", required=True, help="What voters have now: a structure name or .toml."
)
@click.option("--rule", type=click.Choice(RULES), default="majority", show_default=True)
@click.option(
    "--margin",
    type=float,
    default=0.0,
    show_default=True,
    help="USD a head a cell must gain to vote yes.",
)
@price_option
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="PARAM=VALUE",
    help="Override a parameter of the proposal; repeatable.",
)
@click.option(
    "--turnout",
    type=click.FloatRange(min=0, max=1, min_open=True),
    default=1.0,
    show_default=True,
    help="Share of each cell's people who vote.",
)
@click.option(
    "--vote-model",
    type=click.Choice(["deterministic", "logistic"]),
    default="deterministic",
    show_default=True,
)
@click.option(
    "--logistic-scale",
    type=click.FloatRange(min=0, min_open=True),
    default=100.0,
    show_default=True,
    help="USD a head that raises the odds of yes e-fold (logistic).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the logistic model.")
@click.option("--out", "outdir", type=click.Path(path_type=Path), help="Write reports here.")
@force_option
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
    turnout: float,
    vote_model: str,
    logistic_scale: float,
    seed: int,
    outdir: Path | None,
    force: bool,
) -> None:
    """Would the voters ratify a proposal? Each cell compares its money per head with the status quo."""
    from revshare.analyses.referendum import ratify as run_referendum
    from revshare.reports.convention import REFERENDUM_FILES, referendum_text, write_referendum

    _write_or_refuse(outdir, REFERENDUM_FILES, force)
    territory = load(dataset, fields, population, regions, encoding, delimiter)
    result = run_referendum(
        territory,
        structure,
        status_quo,
        rule,
        margin=margin,
        price=price,
        overrides=list(overrides),
        turnout=turnout,
        vote_model=vote_model,
        logistic_scale_usd=logistic_scale,
        seed=seed,
    )
    if outdir is not None:
        write_referendum(result, outdir, force=force)
    click.echo(referendum_text(result))


@main.command(epilog=f"Example: {EXAMPLES['validate']}")
@dataset_options
@price_option
@handle_errors
def validate(
    dataset: Path | None,
    fields: Path | None,
    population: Path | None,
    regions: Path | None,
    encoding: str,
    delimiter: str,
    price: float | None,
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
    click.echo(
        f"ok: {len(t.regions)} regions, {len(t.factions)} factions, {len(t.cells)} cells, "
        f"{t.fields['field'].nunique()} fields, {len(t.blocs)} blocs, "
        f"{len(t.structures)} dataset structures; {applicable} of {len(result.structures)} "
        "structures can run"
    )
    for name, reason in result.presets_not_applicable.items():
        click.echo(f"preset {name} cannot apply: {reason}")


@main.command(epilog=f"Example: {EXAMPLES['structures']}")
@click.argument("dataset", required=False, type=click.Path(path_type=Path))
@handle_errors
def structures(dataset: Path | None) -> None:
    """List the built-in presets and the dataset's own structures."""
    available = dict(revshare.PRESETS)
    if dataset is not None:
        available.update(revshare.load_dataset(dataset).structures)
    for name, s in available.items():
        click.echo(f"{name:<20} [{s.source}] objective={s.objective}  {s.description}")


if __name__ == "__main__":
    main()
