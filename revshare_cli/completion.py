"""Shell completion of structure names (docs/shell-completion.md).

Click completes the command line when the shell runs ``revshare`` with ``_REVSHARE_COMPLETE`` set
(``bash_source``/``zsh_source``/``fish_source`` print the shell's script; ``*_complete`` answer
one request). :func:`complete_structure` and :func:`complete_structures` are the
``shell_complete`` functions of ``--structure`` and of ``--structures`` (comma-separated): they
offer the built-in presets and the structures of the dataset named on the command line, with
their descriptions (shown by zsh and fish). A word that is no structure's beginning is left to
the shell's file completion, for a ``.toml`` file.

The dataset's ``structures.toml`` is read for its names only, without validating anything:
completion answers at every key press and must neither fail nor wait for a whole dataset.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

ALL = "all"
"""``--structures all``: every preset and dataset structure."""


def structure_choices(dataset: Path | str | None) -> dict[str, str]:
    """The structure names a command could take, presets first, each with its description.

    Parameters
    ----------
    dataset : path or None
        The dataset folder given on the command line; its ``structures.toml`` adds its own
        structures. An unreadable or invalid file adds none (the command itself reports it).
    """
    import tomllib

    from revshare.data.structures import PRESETS

    names = {name: s.description for name, s in PRESETS.items()}
    if dataset is None:
        return names
    try:
        data = tomllib.loads((Path(dataset) / "structures.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return names
    tables = data.get("structures")
    if isinstance(tables, dict):
        for name, table in tables.items():
            about = table.get("description") if isinstance(table, dict) else None
            names[name] = about if isinstance(about, str) else ""
    return names


def dataset_given(ctx: click.Context) -> Any:
    """The DATASET of the command line being completed, or None.

    While the option being completed has no value yet, Click's resilient parsing stops at it
    and leaves the positional words unassigned in ``ctx.args`` (DATASET is the only positional
    argument of the commands that take a structure), so they are read there too.
    """
    given = ctx.params.get("dataset")
    return given if given is not None or not ctx.args else ctx.args[0]


def _names(ctx: click.Context, prefix: str, incomplete: str, skip: set[str]) -> list[Any]:
    from click.shell_completion import CompletionItem  # only completing needs it

    choices = structure_choices(dataset_given(ctx))
    return [
        CompletionItem(prefix + name, help=about or None)
        for name, about in choices.items()
        if name.startswith(incomplete) and name not in skip
    ]


def _or_file(items: list[Any], word: str) -> list[Any]:
    """``items``, or the shell's file completion of ``word`` when there are none."""
    from click.shell_completion import CompletionItem

    return items or [CompletionItem(word, type="file")]


def complete_structure(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """``shell_complete`` of an option taking one structure: a name, or a ``.toml`` file."""
    return _or_file(_names(ctx, "", incomplete, set()), incomplete)


def complete_structures(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """``shell_complete`` of ``--structures``: ``all``, or names separated by commas; the last
    name is completed after the ones already written, which are not offered again."""
    head, comma, last = incomplete.rpartition(",")
    written = {n.strip() for n in head.split(",")} if comma else set()
    items = _names(ctx, head + comma, last, written)
    if not comma and ALL.startswith(incomplete):
        from click.shell_completion import CompletionItem

        items.insert(0, CompletionItem(ALL, help="every preset and dataset structure"))
    return _or_file(items, incomplete)
