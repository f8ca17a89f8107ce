"""What every command does before its one library call: read the dataset, refuse to overwrite."""

from __future__ import annotations

from pathlib import Path

import click

import revshare
from revshare.errors import InputError


def load(
    dataset: Path | None,
    fields: Path | None,
    population: Path | None,
    regions: Path | None,
    encoding: str,
    delimiter: str,
) -> revshare.Territory:
    """The dataset the dataset options name."""
    return revshare.load_dataset(
        dataset,
        fields=fields,
        population=population,
        regions=regions,
        encoding=encoding,
        delimiter=delimiter,
    )


def refuse_existing(outdir: Path | None, names: tuple[str, ...], force: bool) -> None:
    """Stop before any work if ``outdir`` holds reports that ``force`` does not allow replacing."""
    if outdir is not None:
        from revshare.atomic import check_outputs  # only a command writing reports checks

        problems = check_outputs(outdir, [*names, "manifest.json"], force)
        if problems:
            raise InputError(problems)


def price_notice(territory: revshare.Territory, price: float | None) -> None:
    """Say on stderr when the dataset ignores ``price`` (its fields give revenue in USD)."""
    notice = territory.price_notice(price)
    if notice is not None:
        click.echo(notice, err=True)
