"""The stabilisation fund's options, shared by ``revshare periods`` and the hidden ``optimize
--periods``: a module of their own, so that ``optimize`` builds them without importing the
``periods`` command."""

from __future__ import annotations

import click

from .options import Decorator, stack


def fund_options(hidden: bool = False) -> Decorator:
    """The stabilisation fund's options (hidden where they are an old name's)."""
    return stack(
        click.option(
            "--fund-benchmark",
            metavar="PRICE|ma:N",
            hidden=hidden,
            help="A stabilisation fund saving revenue above this benchmark price (USD a barrel), "
            "or above the N-period moving average (ma:N).",
        ),
        click.option(
            "--fund-target",
            type=float,
            hidden=hidden,
            help="Distributable floor, USD a year (default: revenue at the benchmark).",
        ),
        click.option(
            "--fund-spend-rule",
            type=float,
            hidden=hidden,
            help="Withdraw at most this share of the balance a period.",
        ),
        click.option(
            "--fund-interest",
            type=float,
            default=0.0,
            show_default=True,
            hidden=hidden,
            help="The fund's interest, a year.",
        ),
        click.option(
            "--fund-initial",
            type=float,
            default=0.0,
            show_default=True,
            hidden=hidden,
            help="Opening balance, USD.",
        ),
        click.option(
            "--smooth",
            is_flag=True,
            hidden=hidden,
            help="Choose withdrawals to smooth each cell's money.",
        ),
    )
