"""The commands that solve: ``optimize``, ``compare`` and ``sweep``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

import revshare
from revshare.errors import NotOptimalError

from . import choices
from .failures import fail, handle_errors, solver_options_of, usage
from .fund import fund_options
from .inputs import load, price_notice, refuse_existing
from .options import (
    dataset_options,
    emit,
    force_option,
    format_option,
    out_option,
    overrides_option,
    price_option,
    solving_options,
    structure_names,
    structure_option,
    structures_option,
)

EXAMPLES = {
    "optimize": "revshare optimize data/iraq --structure federation --price 75 --out out/",
    "compare": "revshare compare data/iraq --structures all --out out/compare",
    "sweep": "revshare sweep data/iraq --structures all --scenarios 10000 --seed 1 --out out/sweep",
}


@click.command(epilog=f"Example: {EXAMPLES['optimize']}")
@dataset_options
@structure_option()
@price_option
@overrides_option("Override a structure parameter; repeatable (e.g. --set central_share=0).")
@solving_options
@out_option()
@format_option
@click.option("--write-lp", is_flag=True, help="Also write model.lp into --out.")
@click.option(
    "--periods",
    "periods_file",
    type=click.Path(path_type=Path),
    hidden=True,
    help="Moved: see 'revshare periods'.",
)
@fund_options(hidden=True)
@force_option()
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
    """Allocate the revenue under one structure and report the verified optimum.

    Multi-period allocation moved to 'revshare periods'; 'optimize --periods FILE' (and its fund
    options) still runs it there, and says so on stderr.
    """
    from revshare import reports
    from revshare.analyses.optimize import model_lp

    if periods_file is not None:
        from .periods import MOVED, fund_of, run_periods

        clash = [
            f"`{name}`"
            for name, on in (
                ("price", price is not None),
                ("solver", solver != "highs"),
                ("cross_check", cross_check),
                ("write_lp", write_lp),
            )
            if on
        ]
        if clash:
            raise usage(
                "periods",
                "takes its prices from the file and solves with HiGHS",
                f"drop {', '.join(clash)}",
            )
        fund = fund_of(fund_benchmark, fund_target, fund_spend_rule, fund_interest, fund_initial)
        territory = load(dataset, fields, population, regions, encoding, delimiter)
        click.echo(f"revshare: note: optimize --periods {MOVED}", err=True)
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
        return
    if fund_benchmark is not None or smooth:
        name = "fund_benchmark" if fund_benchmark is not None else "smooth"
        raise usage(name, "needs a price path", "add `periods=FILE`, or drop it")
    if write_lp and outdir is None:
        raise usage("write_lp", "writes model.lp into the report folder", "add `out=DIR`")
    refuse_existing(outdir, (*reports.REPORT_FILES, *(["model.lp"] if write_lp else [])), force)
    territory = load(dataset, fields, population, regions, encoding, delimiter)
    price_notice(territory, price)
    alloc = revshare.optimize(
        territory,
        structure,
        price=price,
        overrides=list(overrides),
        solver=solver,
        cross_check=cross_check,
        time_limit=time_limit,
        solver_options=solver_options_of(solver_options),
    )
    if outdir is not None:
        lp = model_lp(territory, alloc.structure, price=alloc.price) if write_lp else None
        reports.write_reports(alloc, outdir, force=force, lp_text=lp)
    emit(
        fmt,
        lambda: reports.terminal_table(alloc),
        lambda: reports.allocation_csv(alloc),
        lambda: reports.summary_json(alloc),
        kind="allocation",
        dataset=territory.name,
    )


@click.command(epilog=f"Example: {EXAMPLES['compare']}")
@dataset_options
@structures_option
@price_option
@overrides_option("Override a parameter in every structure; repeatable.")
@solving_options
@click.option(
    "--guarantees",
    is_flag=True,
    help="Also each faction's and bloc's money guaranteed if others capture the centre.",
)
@out_option("Write comparison.csv, comparison.json, report.md and report.html here.")
@format_option
@force_option()
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
    cross_check: bool,
    time_limit: float | None,
    solver_options: tuple[str, ...],
    guarantees: bool,
    outdir: Path | None,
    fmt: str,
    force: bool,
) -> None:
    """Solve several structures side by side: who gets what, who prefers which, who would leave."""
    from revshare.reports.comparison import (
        COMPARISON_FILES,
        comparison_csv,
        comparison_json,
        comparison_table,
        write_comparison,
    )

    refuse_existing(outdir, COMPARISON_FILES, force)
    territory = load(dataset, fields, population, regions, encoding, delimiter)
    price_notice(territory, price)
    chosen = structure_names(names)
    result = revshare.compare(
        territory,
        chosen,
        price=price,
        overrides=list(overrides),
        solver=solver,
        guarantees=guarantees,
        time_limit=time_limit,
        solver_options=solver_options_of(solver_options),
        cross_check=cross_check,
    )
    if result.unproven:
        click.echo(comparison_table(result))
        raise NotOptimalError(
            f"no proven, verified optimum for {', '.join(result.unproven)}; no report written "
            "(see the reasons above; try --solver cbc)"
        )
    if outdir is not None:
        write_comparison(result, outdir, force=force)
    emit(
        fmt,
        lambda: comparison_table(result),
        lambda: comparison_csv(result),
        lambda: comparison_json(result),
        kind="comparison",
        dataset=result.dataset,
    )


@click.command(epilog=f"Example: {EXAMPLES['sweep']}")
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
    type=click.Choice(choices.PRICE_MODELS),
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
@overrides_option("Override a parameter in every structure; repeatable (fixed; --param varies).")
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
@solving_options
@out_option("Stream results and reports here.")
@format_option
@click.option("--resume", is_flag=True, help="Continue the interrupted sweep in --out.")
@force_option("Start over, replacing the sweep in --out.")
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
    overrides: tuple[str, ...],
    params: tuple[str, ...],
    workers: int | None,
    scheduler: str | None,
    chunk_size: int,
    solver: str,
    cross_check: bool,
    time_limit: float | None,
    solver_options: tuple[str, ...],
    outdir: Path | None,
    fmt: str,
    resume: bool,
    force: bool,
    keep_chunks: bool,
) -> None:
    """Solve structures over many prices and parameter values: price grids, Monte Carlo, paths."""
    from tqdm import tqdm

    from revshare.data import scenarios as sc
    from revshare.reports.safe import frame_csv
    from revshare.reports.sweep import sweep as run_sweep
    from revshare.reports.sweep import sweep_json, sweep_table

    given = [x for x in (grid, scenarios, prices_file) if x is not None]
    if len(given) != 1:
        raise usage(
            "prices",
            "give exactly one of --prices, --scenarios and --prices-file",
            "e.g. --prices 30:130:5",
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
            overrides=list(overrides),
            solver=solver,
            solver_options=solver_options_of(solver_options),
            cross_check=cross_check,
            progress=progress,
            notice=lambda line: tqdm.write(line, file=sys.stderr),
        )
    except KeyboardInterrupt:
        kept = f"; finished chunks are kept in {outdir}: run again with --resume" if outdir else ""
        fail(f"revshare: interrupted{kept}", 130)
    finally:
        bar.close()
    emit(
        fmt,
        lambda: sweep_table(result),
        lambda: frame_csv(result.summary),
        lambda: sweep_json(result),
        kind="sweep",
        dataset=territory.name,
    )
    if result.failed:
        fail(
            f"revshare: not optimal: {result.failed} scenario(s) could not be proven optimal and "
            "verified, so no report was written"
            + (f"; the finished chunks are kept in {outdir}" if outdir else ""),
            4,
        )
