"""``revshare init DIR``: a ready-to-edit dataset (:mod:`revshare.data.scaffold`)."""

from __future__ import annotations

import hashlib
import shlex
from pathlib import Path

import click

from .failures import handle_errors
from .options import emit, force_option, format_option

EXAMPLE = "revshare init mycountry"


@click.command(epilog=f"Example: {EXAMPLE}")
@click.argument("folder", type=click.Path(path_type=Path))
@force_option("Write into a folder that is not empty, replacing the scaffold's files there.")
@click.option(
    "--xlsx",
    is_flag=True,
    help="Write the tables as one Excel workbook (FOLDER/FOLDER.xlsx), structures.toml beside it.",
)
@format_option
@handle_errors
def init(folder: Path, force: bool, xlsx: bool, fmt: str) -> None:
    """Write a new dataset to fill in: a placeholder country that validates and solves as written.

    FOLDER gets fields.csv, population.csv, regions.csv, structures.toml (one example structure
    per kind of rule), README.md (every column explained) and SOURCES.md (every figure marked
    PLACEHOLDER). `revshare validate FOLDER` then lists the files left to edit, in order.
    With --format csv or json, the files written are listed with their size and SHA-256.
    """
    from revshare.data.scaffold import (
        EXAMPLES,
        FACTIONS,
        FIELDS,
        REGIONS,
        scaffold_files,
        write_scaffold,
    )
    from revshare.reports.safe import csv_bytes

    files = scaffold_files(f"{folder.resolve().name}.xlsx" if xlsx else None)
    write_scaffold(folder, force=force, xlsx=xlsx)
    rows = [(name, len(data), hashlib.sha256(data).hexdigest()) for name, data in files.items()]
    where = shlex.quote(str(folder))
    emit(
        fmt,
        lambda: (
            f"wrote {folder}: a placeholder dataset ({len(REGIONS)} regions, {len(FACTIONS)} "
            f"factions, {len(FIELDS)} fields, {len(EXAMPLES)} example structures); read its "
            f"README.md, then run:\n  revshare validate {where}\n  revshare compare {where}"
        ),
        lambda: csv_bytes(("file", "bytes", "sha256"), rows),
        lambda: {
            "folder": str(folder),
            "files": [{"file": n, "bytes": b, "sha256": h} for n, b, h in rows],
        },
        kind="init",
        dataset=Path(folder).resolve().name,
    )
