"""Issue 11, class 24: a dataset whose fields all give ``annual_revenue_usd`` needs no price, and
its reports do not pretend that one was used."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import cli


@pytest.fixture
def usd(tmp_path: Path) -> Path:
    (tmp_path / "fields.csv").write_text(
        "field,region,annual_revenue_usd\nf1,A,1000000000\nf2,B,500000000\n", encoding="utf-8"
    )
    (tmp_path / "population.csv").write_text(
        "region,faction,population\nA,x,1000000\nB,y,2000000\nC,x,500000\n", encoding="utf-8"
    )
    (tmp_path / "regions.csv").write_text(
        "region,bloc,area_km2\nA,north,100\nB,south,200\nC,north,50\n", encoding="utf-8"
    )
    return tmp_path


@pytest.mark.parametrize("command", ["optimize", "compare"])
def test_no_price_is_needed_or_shown(usd, command):
    result = CliRunner().invoke(cli.main, [command, str(usd)])
    assert result.exit_code == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert "with revenue given in USD" in first and "USD/bbl" not in first


@pytest.mark.parametrize("command", ["optimize", "compare"])
def test_a_given_price_is_not_used_and_a_notice_says_so(usd, command):
    plain = CliRunner().invoke(cli.main, [command, str(usd)])
    priced = CliRunner().invoke(cli.main, [command, str(usd), "--price", "80"])
    assert priced.exit_code == 0
    assert "notice: price: 80 USD a barrel is not used" in priced.stderr
    assert priced.stdout == plain.stdout


def test_a_price_sweep_over_it_is_refused(usd):
    result = CliRunner().invoke(cli.main, ["sweep", str(usd), "--prices", "60,80"])
    assert result.exit_code == 2
    assert "[E-PRICE-UNUSED]" in result.stderr


def test_a_dataset_named_by_dot_is_named_after_its_folder(usd, monkeypatch):
    """Issue 15: ``revshare compare .`` inside a dataset names the dataset."""
    monkeypatch.chdir(usd)
    result = CliRunner().invoke(cli.main, ["compare", "."])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"{usd.name} with revenue given in USD")
