"""The ``revshare`` command group: every command lives in a module of its own, imported when run."""

from __future__ import annotations

import click

import revshare

from .failures import Group, LazyCommands

# The commands defined in modules of their own, imported when run (or listed in a help): a
# command line loads its own command's module only.
ELSEWHERE = {
    **{name: f"revshare_cli.solving:{name}" for name in ("optimize", "compare", "sweep")},
    "periods": "revshare_cli.periods:periods",
    **{name: f"revshare_cli.fear:{name}" for name in ("guarantees", "core", "power", "secession")},
    "init": "revshare_cli.init_command:init",
    **{
        name: f"revshare_cli.others:{name}"
        for name in ("generate", "convention", "ratify", "validate", "structures")
    },
}


@click.group(
    cls=Group,
    commands=LazyCommands(ELSEWHERE),
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(revshare.__version__, prog_name="revshare")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
def main(debug: bool) -> None:
    """Who gets the oil money under each way of governing a divided country.

    \b
    Example:
      revshare optimize data/iraq --structure federation --price 75
    """
