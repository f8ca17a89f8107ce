"""``revshare init DIR``: a ready-to-edit dataset (:mod:`revshare.data.scaffold`)."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from .failures import handle_errors
from .options import force_option

EXAMPLE = "revshare init mycountry"


@click.command(epilog=f"Example: {EXAMPLE}")
@click.argument("folder", type=click.Path(path_type=Path))
@force_option("Write into a folder that is not empty, replacing the scaffold's files there.")
@handle_errors
def init(folder: Path, force: bool) -> None:
    """Write a new dataset to fill in: a placeholder country that validates and solves as written.

    FOLDER gets fields.csv, population.csv, regions.csv, structures.toml (one example structure
    per kind of rule), README.md (every column explained) and SOURCES.md (every figure marked
    PLACEHOLDER). `revshare validate FOLDER` then lists the files left to edit, in order.
    """
    from revshare.data.scaffold import EXAMPLES, FACTIONS, FIELDS, REGIONS, write_scaffold

    write_scaffold(folder, force=force)
    where = shlex.quote(str(folder))
    click.echo(
        f"wrote {folder}: a placeholder dataset ({len(REGIONS)} regions, {len(FACTIONS)} "
        f"factions, {len(FIELDS)} fields, {len(EXAMPLES)} example structures); read its "
        f"README.md, then run:\n  revshare validate {where}\n  revshare compare {where}"
    )
