"""Periods and the stabilisation fund: flat paths, the fund's books, rules in every period,
tampering, smoothing, bad inputs, infeasible periods, the synthetic generator and the CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import revshare
from cli import main
from revshare.analyses.periods import (
    Fund,
    benchmark_prices,
    check_fund,
    fund_from_options,
    mechanical_flows,
    optimize_periods,
)
from revshare.data.dataset import Money, indicator_matrix
from revshare.data.structures import resolve
from revshare.data.synthetic import generate, price_path, synthetic_territory, write_dataset
from revshare.errors import InfeasibleError, InputError
from revshare.solve.verify import verify_batch

DATA = Path(__file__).resolve().parent.parent / "data"
PRICE = 82.49  # data/iraq's default price
KRG = "Kurdistan Region"


@pytest.fixture(scope="module")
def iraq() -> revshare.Territory:
    return revshare.load_dataset(DATA / "iraq")


def _path(prices: list[float], years: float = 1.0, first: int = 0) -> pd.DataFrame:
    return pd.DataFrame(
        {"period": np.arange(first, first + len(prices)), "price": prices, "years": years}
    )


def _V(t: revshare.Territory, prices: list[float] | np.ndarray) -> np.ndarray:
    """Annual revenue at each price, straight from the data."""
    return t.money(np.asarray(prices, dtype=float)).revenue


def _cell_matrix(result: revshare.PeriodAllocation, t: revshare.Territory) -> np.ndarray:
    """(T, C) money per period and cell, cells in the order of ``t.cells``."""
    T = len(result.flows)
    cells = result.cells
    assert len(cells) == T * len(t.cells)
    x = cells["usd"].to_numpy().reshape(T, len(t.cells))
    # the long table repeats t.cells in order for every period
    regions = cells["region"].to_numpy().reshape(T, -1)
    factions = cells["faction"].to_numpy().reshape(T, -1)
    assert (regions == t.cells["region"].to_numpy()).all()
    assert (factions == t.cells["faction"].to_numpy()).all()
    assert (
        cells["period"].to_numpy().reshape(T, -1) == result.flows["period"].to_numpy()[:, None]
    ).all()
    return x


def _period_money(t: revshare.Territory, flows: pd.DataFrame) -> Money:
    """Each period's quantities scaled to the money it shares out (R_t over the annual V)."""
    m = t.money(flows["price"].to_numpy(dtype=float))
    f = flows["distributable_usd"].to_numpy() / m.revenue
    return Money(
        m.prices, m.revenue * f, m.region * f[:, None], m.bloc * f[:, None], m.outside * f[:, None]
    )


def _fund_by_hand(
    V: np.ndarray, VB: np.ndarray, years: np.ndarray, fund: Fund
) -> dict[str, list[float]]:
    """The module docstring's rules, written out once more in plain Python."""
    balance = fund.initial_usd
    out: dict[str, list[float]] = {
        k: [] for k in ("deposit", "interest", "withdrawal", "balance", "R")
    }
    for v, vb, y in zip(V, VB, years, strict=True):
        grown = balance * (1.0 + fund.interest) ** y
        d = max(v - vb, 0.0)
        target = vb if fund.target_usd is None else fund.target_usd * y
        cap = grown if fund.spend_rule is None else fund.spend_rule * grown
        w = min(max(target - (v - d), 0.0), cap)
        out["deposit"].append(d)
        out["interest"].append(grown - balance)
        out["withdrawal"].append(w)
        balance = grown + d - w
        out["balance"].append(balance)
        out["R"].append(v - d + w)
    return out


# 1. A flat path is T copies of the single-period allocation ------------------------------------


@pytest.fixture(scope="module")
def single(iraq) -> revshare.Allocation:
    return revshare.optimize(iraq, "iraq-2005", price=PRICE)


@pytest.mark.parametrize("fund", [None, Fund()], ids=["no-fund", "moving-average-fund"])
def test_flat_path_is_copies_of_the_single_period_allocation(iraq, single, fund):
    T = 5
    result = optimize_periods(iraq, "iraq-2005", _path([PRICE] * T), fund=fund)
    x = _cell_matrix(result, iraq)
    one = single.cells["usd"].to_numpy()
    V = single.revenue_usd
    assert np.max(np.abs(x - one[None, :])) / V < 1e-9
    assert np.max(np.abs(result.flows["centre_usd"].to_numpy() - single.centre_usd)) / V < 1e-9
    assert np.allclose(result.flows["distributable_usd"], V, rtol=1e-12)
    if fund is not None:
        for col in ("deposit_usd", "withdrawal_usd", "balance_usd"):
            assert np.abs(result.flows[col]).max() / V < 1e-9, col
    assert result.smoothing["lowest_relative_to_average"] == pytest.approx(1.0, abs=1e-9)
    assert result.smoothing["largest_drop_relative_to_average"] == pytest.approx(0.0, abs=1e-9)


def test_monthly_periods_share_out_a_twelfth_of_the_annual_allocation(iraq, single):
    result = optimize_periods(iraq, "iraq-2005", _path([PRICE] * 4, years=1 / 12), fund=Fund())
    x = _cell_matrix(result, iraq)
    one = single.cells["usd"].to_numpy()
    V = single.revenue_usd
    assert np.max(np.abs(x - one / 12)) / V < 1e-9
    assert np.allclose(result.flows["revenue_usd"], V / 12, rtol=1e-12)
    assert np.max(np.abs(result.flows["centre_usd"] - single.centre_usd / 12)) / V < 1e-9
    # money per head a year is the annual figure, not the month's
    per_year = result.cells["usd_per_head_a_year"].to_numpy().reshape(4, -1)
    assert np.allclose(per_year, single.cells["usd_per_head"].to_numpy()[None, :], rtol=1e-9)


# 2. The fund's mechanics, by hand ---------------------------------------------------------------

HAND_PRICES = [80.0, 50.0, 40.0, 90.0, 35.0]
FUNDS = {
    "plain": Fund(benchmark_price=60),
    "spend-rule": Fund(benchmark_price=60, spend_rule=0.5),
    "interest": Fund(benchmark_price=60, interest=0.05),
    "initial": Fund(benchmark_price=60, initial_usd=2e10),
    "all": Fund(benchmark_price=60, spend_rule=0.4, interest=0.03, initial_usd=5e9),
    "target": Fund(benchmark_price=60, target_usd=8e10, initial_usd=1e10),
}


def test_benchmark_prices_are_fixed_or_the_moving_average_of_earlier_periods():
    prices = np.array([10.0, 20.0, 30.0, 40.0, 50.0])
    assert benchmark_prices(prices, Fund(benchmark_price=60)).tolist() == [60.0] * 5
    assert benchmark_prices(prices, Fund(window=2)).tolist() == [10.0, 10.0, 15.0, 25.0, 35.0]
    assert benchmark_prices(prices, Fund(window=12)).tolist() == [10.0, 10.0, 15.0, 20.0, 25.0]


def test_plain_fund_numbers_in_units_of_one_dollar_of_price(iraq):
    """Above the highest field cost (16 USD) revenue is linear in the price, so with a benchmark
    of 60 every flow is a whole number of ``s = V(61) - V(60)``."""
    s = float(_V(iraq, [61.0])[0] - _V(iraq, [60.0])[0])
    V = _V(iraq, HAND_PRICES)
    assert np.allclose(np.diff(_V(iraq, [20.0, 40.0, 60.0, 80.0])), 20 * s, rtol=1e-12)
    flows = mechanical_flows(iraq, _path(HAND_PRICES), FUNDS["plain"])
    # 80: save 20s; 50: take 10s; 40: wants 20s, only 10s left; 90: save 30s; 35: take 25s
    expect = {
        "deposit_usd": [20, 0, 0, 30, 0],
        "withdrawal_usd": [0, 10, 10, 0, 25],
        "balance_usd": [20, 10, 0, 30, 5],
    }
    for col, units in expect.items():
        assert np.allclose(flows[col], np.array(units) * s, rtol=0, atol=1e-6 * s), col
    V60 = float(_V(iraq, [60.0])[0])
    assert np.allclose(flows["distributable_usd"], [V60, V60, V[2] + 10 * s, V60, V60], rtol=1e-12)


@pytest.mark.parametrize("name", list(FUNDS))
@pytest.mark.parametrize("years", [1.0, 0.25])
def test_fund_flows_follow_the_rules_by_hand(iraq, name, years):
    fund = FUNDS[name]
    path = _path(HAND_PRICES, years=years)
    V = _V(iraq, HAND_PRICES) * years
    VB = _V(iraq, [60.0] * len(HAND_PRICES)) * years
    hand = _fund_by_hand(V, VB, path["years"].to_numpy(), fund)
    result = optimize_periods(iraq, "iraq-2005", path, fund=fund)
    flows = result.flows
    tol = 1e-9 * V.sum()
    assert np.allclose(flows["revenue_usd"], V, rtol=1e-12)
    assert np.allclose(flows["benchmark_price"], 60.0)
    for col, key in (
        ("deposit_usd", "deposit"),
        ("interest_usd", "interest"),
        ("withdrawal_usd", "withdrawal"),
        ("balance_usd", "balance"),
        ("distributable_usd", "R"),
    ):
        assert np.max(np.abs(flows[col].to_numpy() - np.array(hand[key]))) <= tol, col
    balance = flows["balance_usd"].to_numpy()
    before = np.append(fund.initial_usd, balance[:-1])
    growth = (1 + fund.interest) ** path["years"].to_numpy()
    assert (balance >= -tol).all()
    assert np.allclose(
        balance, before * growth + flows["deposit_usd"] - flows["withdrawal_usd"], rtol=0, atol=tol
    )
    cap = before * growth * (1.0 if fund.spend_rule is None else fund.spend_rule)
    assert (flows["withdrawal_usd"].to_numpy() <= cap + tol).all()
    # every period's allocation shares out exactly the distributable revenue
    x = _cell_matrix(result, iraq)
    assert np.allclose(
        x.sum(axis=1) + flows["centre_usd"], flows["distributable_usd"], rtol=0, atol=tol
    )
    assert check_fund(iraq, path, fund, flows, False) == []
    assert result.verification["max_violation_usd"] <= result.verification["tolerance_usd"]


def test_fund_rules_change_the_numbers(iraq):
    """The settings are not ignored: each one moves the flows the way the rules say."""
    path = _path(HAND_PRICES)
    plain = mechanical_flows(iraq, path, FUNDS["plain"])
    spend = mechanical_flows(iraq, path, FUNDS["spend-rule"])
    grow = mechanical_flows(iraq, path, FUNDS["interest"])
    start = mechanical_flows(iraq, path, FUNDS["initial"])
    s = float(_V(iraq, [61.0])[0] - _V(iraq, [60.0])[0])
    # spend rule 0.5: period 1 may take only 10s of the 20s balance; it wants 10s: unchanged;
    # period 2 wants 20s and may take half of the 10s left
    assert spend["withdrawal_usd"].iloc[1] == pytest.approx(10 * s, rel=1e-9)
    assert spend["withdrawal_usd"].iloc[2] == pytest.approx(5 * s, rel=1e-9)
    assert grow["interest_usd"].iloc[1] == pytest.approx(20 * s * 0.05, rel=1e-9)
    assert grow["interest_usd"].iloc[0] == 0.0
    assert (grow["balance_usd"] >= plain["balance_usd"] - 1e-6).all()
    assert start["balance_usd"].iloc[0] == pytest.approx(2e10 + 20 * s, rel=1e-12)
    # the 2e10 USD opening balance lets period 2 reach the target
    V60 = float(_V(iraq, [60.0])[0])
    assert start["distributable_usd"].iloc[2] == pytest.approx(V60, rel=1e-12)


# 3. Every rule holds in every period ------------------------------------------------------------


@pytest.mark.parametrize(
    ("structure", "fund"),
    [
        ("iraq-2005", FUNDS["all"]),
        ("iraq-2005-krg17", FUNDS["spend-rule"]),
        ("federation", Fund(window=2, interest=0.02)),
        ("confederation", None),
    ],
)
def test_every_rule_holds_in_every_period(iraq, structure, fund):
    path = _path(HAND_PRICES, years=0.5)
    result = optimize_periods(iraq, structure, path, fund=fund)
    s = resolve(structure, iraq.structures)
    x = _cell_matrix(result, iraq)
    g = result.flows["centre_usd"].to_numpy()
    checked = verify_batch(iraq, s, _period_money(iraq, result.flows), x, g, 1e-9)
    assert checked.ok.all(), list(zip(checked.worst, checked.max_violation_usd, strict=True))
    assert checked.checks == result.verification["checks_per_period"]


def test_kurdistan_share_holds_on_each_periods_distributable_money(iraq):
    fund = FUNDS["all"]
    path = _path(HAND_PRICES, years=0.5)
    result = optimize_periods(iraq, "iraq-2005", path, fund=fund)
    x = _cell_matrix(result, iraq)
    bloc = iraq.cells["region"].map(iraq.regions["bloc"])
    krg = x @ indicator_matrix(bloc, [KRG])[:, 0]
    R = result.flows["distributable_usd"].to_numpy()
    g = result.flows["centre_usd"].to_numpy()
    tol = 1e-9 * R
    assert (krg >= 0.1267 * (R - g) - tol).all()
    # federation's centre takes exactly a quarter of what the period shares out
    assert np.allclose(g, 0.25 * R, rtol=1e-9)
    # the rules are linear in the money: each period is the single-period answer scaled by R_t/V_t
    for k, price in enumerate(HAND_PRICES):
        a = revshare.optimize(iraq, "iraq-2005", price=price)
        scaled = a.cells["usd"].to_numpy() * R[k] / a.revenue_usd
        assert np.max(np.abs(x[k] - scaled)) / R[k] < 1e-9, k
    # the bloc table reads the same money
    krg_rate = krg / iraq.cells.loc[bloc == KRG, "population"].sum() / 0.5
    assert np.allclose(result.periods[f"bloc:{KRG}"], krg_rate, rtol=1e-12)


# 4. check_fund catches tampering ----------------------------------------------------------------


@pytest.fixture(scope="module")
def good(iraq) -> tuple[pd.DataFrame, Fund, pd.DataFrame]:
    fund = FUNDS["spend-rule"]
    path = _path(HAND_PRICES)
    result = optimize_periods(iraq, "iraq-2005", path, fund=fund)
    assert result.verification["max_violation_usd"] <= result.verification["tolerance_usd"]
    assert result.verification["periods"] == len(HAND_PRICES)
    return path, fund, result.flows


def test_check_fund_passes_the_real_books(iraq, good):
    path, fund, flows = good
    assert check_fund(iraq, path, fund, flows, False) == []
    assert check_fund(iraq, path, fund, flows, True) == []
    plain = mechanical_flows(iraq, path, None)
    assert check_fund(iraq, path, None, plain, False) == []


def _tampered(flows: pd.DataFrame, col: str, k: int, delta: float) -> pd.DataFrame:
    out = flows.copy()
    out.loc[k, col] = out.loc[k, col] + delta
    return out


def test_check_fund_catches_a_negative_balance(iraq, good):
    path, fund, flows = good
    bad = flows.copy()
    bad.loc[2, "balance_usd"] = -1e8
    assert any("below zero" in p for p in check_fund(iraq, path, fund, bad, False))


def test_check_fund_catches_a_withdrawal_above_the_spend_rule(iraq, good):
    """Period 2 took all the spend rule allowed; take 1e9 more and keep the books balanced, so
    only the cap is broken (the balance stays positive)."""
    path, fund, flows = good
    extra = 1e9
    bad = _tampered(flows, "withdrawal_usd", 2, extra)
    bad = _tampered(bad, "distributable_usd", 2, extra)
    for k in range(2, len(bad)):
        bad.loc[k, "balance_usd"] -= extra
    assert (bad["balance_usd"] > 0).iloc[:4].all()
    problems = check_fund(iraq, path, fund, bad, True)
    assert problems == ["a withdrawal exceeds what the fund rules allow"]
    assert "a withdrawal differs from the fund's rule" in check_fund(iraq, path, fund, bad, False)


def test_check_fund_catches_a_withdrawal_off_the_rule(iraq, good):
    path, fund, flows = good
    bad = _tampered(flows, "withdrawal_usd", 2, -1e9)
    bad = _tampered(bad, "distributable_usd", 2, -1e9)
    for k in range(2, len(bad)):
        bad.loc[k, "balance_usd"] += 1e9
    assert check_fund(iraq, path, fund, bad, False) == ["a withdrawal differs from the fund's rule"]
    assert check_fund(iraq, path, fund, bad, True) == []  # smoothing may choose it


@pytest.mark.parametrize(
    ("col", "message"),
    [
        ("deposit_usd", "a deposit differs from the revenue above the benchmark"),
        ("balance_usd", "a balance does not follow from the last one"),
        ("distributable_usd", "distributable revenue differs from revenue - deposit + withdrawal"),
    ],
)
def test_check_fund_catches_books_that_do_not_balance(iraq, good, col, message):
    path, fund, flows = good
    assert message in check_fund(iraq, path, fund, _tampered(flows, col, 3, 1e6), False)


def test_check_fund_without_a_fund_wants_the_whole_revenue(iraq, good):
    path, _, _ = good
    plain = mechanical_flows(iraq, path, None)
    assert check_fund(iraq, path, None, _tampered(plain, "distributable_usd", 1, -1e6), False) == [
        "distributable differs from revenue"
    ]


# 5. Smoothing -------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 4])
def test_smoothing_raises_the_lowest_period_and_keeps_the_fund_solvent(iraq, seed):
    path = price_path(36, seed)
    fund = Fund(window=12)
    mech = optimize_periods(iraq, "federation", path, fund=fund)
    smooth = optimize_periods(iraq, "federation", path, fund=fund, smooth=True)
    low_m = mech.smoothing["lowest_relative_to_average"]
    low_s = smooth.smoothing["lowest_relative_to_average"]
    assert low_s >= low_m - 1e-9
    assert low_s > low_m + 0.05  # a volatile path: smoothing makes a real difference
    flows = smooth.flows
    tol = 1e-9 * flows["revenue_usd"].sum()
    assert (flows["balance_usd"] >= -tol).all()
    assert np.allclose(flows["deposit_usd"], mech.flows["deposit_usd"], rtol=0, atol=tol)
    assert check_fund(iraq, path, fund, flows, True) == []
    assert smooth.provenance["smooth"] is True
    x = _cell_matrix(smooth, iraq)
    s = resolve("federation", iraq.structures)
    assert verify_batch(
        iraq, s, _period_money(iraq, flows), x, flows["centre_usd"].to_numpy()
    ).ok.all()
    # the reported measure is recomputed from the cells, relative to the path without a fund
    rate = smooth.cells["usd_per_head_a_year"].to_numpy().reshape(len(path), -1)
    plain = optimize_periods(iraq, "federation", path)
    reference = plain.cells["usd_per_head_a_year"].to_numpy().reshape(len(path), -1)
    assert low_s == pytest.approx((rate / reference.mean(axis=0)).min(), rel=1e-9)


@pytest.mark.parametrize("seed", [1, 6])
def test_smoothing_withdrawals_stay_within_the_balance_before_the_deposit(iraq, seed):
    path = price_path(36, seed)
    result = optimize_periods(iraq, "federation", path, fund=Fund(window=12), smooth=True)
    assert check_fund(iraq, path, Fund(window=12), result.flows, True) == []


def test_smoothing_with_a_spend_rule_respects_it(iraq):
    path = price_path(24, 3)
    fund = Fund(window=6, spend_rule=0.3, interest=0.04)
    result = optimize_periods(iraq, "federation", path, fund=fund, smooth=True)
    flows = result.flows
    balance = flows["balance_usd"].to_numpy()
    before = np.append(0.0, balance[:-1])
    growth = 1.04 ** flows["years"].to_numpy()
    tol = 1e-9 * flows["revenue_usd"].sum()
    assert (flows["withdrawal_usd"].to_numpy() <= 0.3 * before * growth + tol).all()
    assert (balance >= -tol).all()
    assert check_fund(iraq, path, fund, flows, True) == []


# 6. Bad inputs --------------------------------------------------------------------------------


def test_read_periods_reports_every_problem_with_its_place(tmp_path):
    f = tmp_path / "periods.csv"
    f.write_text("period,price,years\n0,80,1\n1,-5,1\n1,70,1\n2,abc,1\n3,60,0\n4,60,-1\n")
    with pytest.raises(InputError) as info:
        revshare.read_periods(f)
    found = {(p.line, p.column, p.code) for p in info.value.problems}
    assert found == {
        (3, "price", "E-RANGE"),
        (4, "period", "E-DUPLICATE"),
        (5, "price", "E-NOT-A-NUMBER"),
        (6, "years", "E-RANGE"),
        (7, "years", "E-RANGE"),
    }
    assert all(p.file == str(f) for p in info.value.problems)
    assert all(f"{f}:{p.line}:{p.column}" in str(p) for p in info.value.problems)


def test_read_periods_sorts_and_fills_in_years(tmp_path):
    f = tmp_path / "periods.csv"
    f.write_text("period,price\n2,70\n0,80\n1,60\n")
    path = revshare.read_periods(f)
    assert path["period"].tolist() == [0, 1, 2]
    assert path["price"].tolist() == [80.0, 60.0, 70.0]
    assert path["years"].tolist() == [1.0, 1.0, 1.0]
    assert path["_line"].tolist() == [3, 4, 2]


def test_smoothing_without_a_fund_is_a_usage_error(iraq):
    with pytest.raises(InputError) as info:
        optimize_periods(iraq, "federation", _path([80.0, 60.0]), smooth=True)
    assert [(p.file, p.code) for p in info.value.problems] == [("smooth", "E-USAGE")]


def test_a_price_below_every_fields_cost_is_zero_revenue(iraq, tmp_path):
    assert _V(iraq, [5.0])[0] == 0.0
    with pytest.raises(InputError) as info:
        optimize_periods(iraq, "federation", _path([80.0, 5.0, 60.0]))
    [p] = info.value.problems
    assert p.code == "E-ZERO-REVENUE" and p.column == "price" and "period 1" in p.message
    f = tmp_path / "periods.csv"
    f.write_text("period,price\n0,80\n1,5\n2,4\n")
    with pytest.raises(InputError) as info:
        optimize_periods(iraq, "federation", revshare.read_periods(f), fund=Fund())
    assert [(p.line, p.code) for p in info.value.problems] == [
        (3, "E-ZERO-REVENUE"),
        (4, "E-ZERO-REVENUE"),
    ]


def test_bad_fund_settings_and_nash_are_input_errors(iraq):
    path = _path([80.0, 60.0])
    for fund in (Fund(spend_rule=1.5), Fund(window=0), Fund(benchmark_price=-1), Fund(interest=-1)):
        with pytest.raises(InputError):
            optimize_periods(iraq, "federation", path, fund=fund)
    with pytest.raises(InputError, match="nash"):
        optimize_periods(iraq, "federation", path, overrides=["objective=nash"])


def test_fund_from_options_reads_prices_and_moving_averages():
    assert fund_from_options("70") == Fund(benchmark_price=70.0)
    assert fund_from_options("ma") == Fund(window=12)
    assert fund_from_options("ma:6") == Fund(window=6)
    assert fund_from_options(" MA:3 ") == Fund(window=3)
    assert fund_from_options(None) is None
    full = fund_from_options("65", target_usd=1e9, spend_rule=0.03, interest=0.02, initial_usd=5.0)
    assert full == Fund(65.0, 12, 1e9, 0.03, 0.02, 5.0)


@pytest.mark.parametrize(
    ("word", "settings", "parameter", "code"),
    [
        ("abc", {}, "fund_benchmark", "E-USAGE"),
        ("ma:x", {}, "fund_benchmark", "E-USAGE"),
        ("ma:0", {}, "fund_benchmark", "E-RANGE"),
        ("-5", {}, "fund_benchmark", "E-RANGE"),
        ("nan", {}, "fund_benchmark", "E-RANGE"),
        ("70", {"spend_rule": 2.0}, "fund_spend_rule", "E-RANGE"),
        (None, {"spend_rule": 0.1}, "fund_spend_rule", "E-USAGE"),
        (None, {"target_usd": 1e9}, "fund_target", "E-USAGE"),
        (None, {"interest": 0.02}, "fund_interest", "E-USAGE"),
        (None, {"initial_usd": 1e6}, "fund_initial", "E-USAGE"),
    ],
)
def test_fund_from_options_rejects_bad_words(word, settings, parameter, code):
    """The library names its parameters (``fund_benchmark``), never a command-line flag."""
    with pytest.raises(InputError) as info:
        fund_from_options(word, **settings)
    assert [(p.file, p.code) for p in info.value.problems] == [(parameter, code)]


@pytest.mark.parametrize("word", ["max", "mango"])
def test_fund_from_options_rejects_words_that_only_start_with_ma(word):
    with pytest.raises(InputError):
        fund_from_options(word)


# 7. Infeasible periods ------------------------------------------------------------------------

PROOF = ["secession_proof=true"]


def test_infeasible_periods_are_named(iraq):
    """With a secession cost of 0.35 the Kurdistan Region's outside option beats its share only at
    low prices (its fields cost less than the others')."""
    path = _path([PRICE, 15.0, 60.0, 12.0, 90.0], first=2020)
    over = [*PROOF, "secession_cost=0.35"]
    for p in (PRICE, 60.0, 90.0):
        revshare.optimize(iraq, "iraq-2005-krg17", price=p, overrides=over)
    with pytest.raises(InfeasibleError) as info:
        optimize_periods(iraq, "iraq-2005-krg17", path, overrides=over)
    text = str(info.value)
    assert "infeasible in 2 period(s): 2021, 2023;" in text
    # the fund scales every quantity alike, so it neither causes nor cures it
    with pytest.raises(InfeasibleError, match=r"2 period\(s\): 2021, 2023;"):
        optimize_periods(
            iraq, "iraq-2005-krg17", path, overrides=over, fund=Fund(benchmark_price=50)
        )
    # feasible once the low-price periods are gone
    ok = optimize_periods(iraq, "iraq-2005-krg17", path.iloc[[0, 2, 4]], overrides=over)
    assert ok.flows["period"].tolist() == [2020, 2022, 2024]


def test_a_structure_infeasible_at_every_price_names_every_period(iraq):
    over = [*PROOF, "secession_cost=0"]
    with pytest.raises(InfeasibleError, match=r"infeasible in 3 period\(s\): 7, 8, 9;"):
        optimize_periods(
            iraq, "iraq-2005-krg17", _path([40.0, PRICE, 120.0], first=7), overrides=over
        )
    many = _path([PRICE] * 12)
    with pytest.raises(
        InfeasibleError, match=r"12 period\(s\): 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 \.\.\."
    ):
        optimize_periods(iraq, "iraq-2005-krg17", many, overrides=over)


# 8. The synthetic generator -------------------------------------------------------------------


def test_same_seed_same_frames_other_seed_other_frames():
    a, b, c = generate(60, seed=3), generate(60, seed=3), generate(60, seed=4)
    for x, y in zip(a, b, strict=True):
        pd.testing.assert_frame_equal(x, y)
    assert not a[1].equals(c[1])
    pd.testing.assert_frame_equal(price_path(24, 5), price_path(24, 5))
    assert not price_path(24, 5).equals(price_path(24, 6))


@pytest.mark.parametrize("seed", [0, 1])
def test_generated_sizes_are_as_asked(seed):
    fields, pop, regions = generate(774, factions=5, seed=seed)
    assert len(regions) == 774 and regions["region"].is_unique
    assert set(pop["region"]) == set(regions["region"])
    assert len(pop) <= 774 * 5
    assert not pop.duplicated(["region", "faction"]).any()
    assert fields["field"].nunique() == 774 // 4
    assert 774 // 4 <= len(fields) <= 2 * (774 // 4)
    straddle = fields.groupby("field")["share"].agg(["count", "sum"])
    assert straddle["count"].max() <= 2
    assert np.allclose(straddle["sum"], 1.0, atol=1e-9)
    assert regions["bloc"].nunique() == 3
    t = synthetic_territory(regions=774, seed=seed)
    assert len(t.regions) == 774 and len(t.cells) == len(pop)
    share = t.cells["population"] / t.cells["population"].sum()
    assert share.min() > 2e-7  # well above the 1e-7 a cell could vanish at
    within = pop["population"] / pop.groupby("region")["population"].transform("sum")
    assert within.min() >= 0.005 - 1e-3


def test_fields_count_and_small_settings():
    fields, pop, regions = generate(20, factions=2, fields=7, blocs=2, seed=9)
    assert fields["field"].nunique() == 7 and 7 <= len(fields) <= 14
    assert set(pop["faction"]) <= {"F1", "F2"} and len(pop) <= 40
    assert regions["bloc"].tolist() == ["B1"] * 10 + ["B2"] * 10
    with pytest.raises(InputError):
        generate(1)
    with pytest.raises(InputError):
        generate(5, blocs=6)


def test_price_path_is_monthly_and_positive():
    path = price_path(120, 2)
    assert path["period"].tolist() == list(range(120))
    assert path["price"].iloc[0] == 80.0
    assert (path["price"] > 0).all()
    assert np.allclose(path["years"], 1 / 12)
    assert path["price"].std() > 1.0


def test_synthetic_territory_allocates():
    t = synthetic_territory(regions=60, seed=2)
    result = optimize_periods(t, "federation", price_path(6, 2), fund=Fund(window=3))
    assert result.verification["max_violation_usd"] <= result.verification["tolerance_usd"]


def test_written_dataset_reads_back(tmp_path):
    frames = generate(40, seed=11)
    path = price_path(10, 11)
    out = write_dataset(tmp_path / "ds", frames, path, 11)
    t = revshare.load_dataset(out)
    assert len(t.regions) == 40 and len(t.cells) == len(frames[1])
    assert t.default_price == 80.0
    assert t.cells["population"].sum() == frames[1]["population"].sum()
    back = revshare.read_periods(out / "periods.csv")
    assert back["period"].tolist() == list(range(10))
    assert np.allclose(back["price"], path["price"], rtol=0, atol=0)
    assert np.allclose(back["years"], 1 / 12, rtol=1e-15)
    assert "SYNTHETIC" in (out / "SOURCES.md").read_text()
    assert (out / "manifest.json").exists()
    assert not (write_dataset(tmp_path / "np", frames, None, 11) / "periods.csv").exists()


# 9. CLI -------------------------------------------------------------------------------------


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


def _strict(text: str) -> object:
    def refuse(name: str) -> None:
        raise ValueError(f"not strict JSON: {name}")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "ds"
    code, stdout, stderr = _run(
        "generate", str(out), "--regions", "30", "--periods", "12", "--seed", "1"
    )
    assert code == 0, stderr
    assert "30 regions" in stdout and "12 monthly periods" in stdout
    return out


def test_cli_generate_writes_a_dataset(generated):
    for name in (
        "fields.csv",
        "population.csv",
        "regions.csv",
        "structures.toml",
        "SOURCES.md",
        "periods.csv",
        "manifest.json",
    ):
        assert (generated / name).exists(), name
    t = revshare.load_dataset(generated)
    assert len(t.regions) == 30
    assert len(revshare.read_periods(generated / "periods.csv")) == 12
    code, stdout, _ = _run("validate", str(generated))
    assert code == 0 and "30 regions" in stdout


def test_cli_optimize_periods_writes_the_reports(generated, tmp_path):
    rep = tmp_path / "rep"
    code, stdout, stderr = _run(
        "optimize",
        str(generated),
        "--periods",
        str(generated / "periods.csv"),
        "--fund-benchmark",
        "ma:6",
        "--out",
        str(rep),
    )
    assert code == 0, stderr
    assert "over 12 periods" in stdout and "6-period moving average" in stdout
    for name in (
        "periods.csv",
        "cells_by_period.csv",
        "summary.json",
        "report.md",
        "report.html",
        "manifest.json",
    ):
        assert (rep / name).stat().st_size > 0, name
    summary = _strict((rep / "summary.json").read_text(encoding="utf-8"))
    assert isinstance(summary, dict)
    assert len(summary["periods"]) == 12
    assert summary["verification"]["max_violation_usd"] <= summary["verification"]["tolerance_usd"]
    assert summary["provenance"]["fund"]["window"] == 6
    manifest = _strict((rep / "manifest.json").read_text())
    assert set(manifest["files"]) == {
        "periods.csv",
        "cells_by_period.csv",
        "summary.json",
        "report.md",
        "report.html",
        "report.xlsx",
    }
    table = pd.read_csv(rep / "periods.csv")
    assert len(table) == 12
    t = revshare.load_dataset(generated)
    assert len(pd.read_csv(rep / "cells_by_period.csv")) == 12 * len(t.cells)
    # the fund's books in the report balance
    R = table["revenue_usd"] - table["deposit_usd"] + table["withdrawal_usd"]
    assert np.allclose(table["distributable_usd"], R, rtol=1e-9)
    # a second run refuses to overwrite
    code, _, stderr = _run(
        "optimize", str(generated), "--periods", str(generated / "periods.csv"), "--out", str(rep)
    )
    assert code == 2 and "E-OUTPUT-EXISTS" in stderr


def test_cli_smooth_on_iraq(tmp_path):
    f = tmp_path / "periods.csv"
    price_path(36, 0).to_csv(f, index=False)
    code, stdout, stderr = _run(
        "optimize", str(DATA / "iraq"), "--periods", str(f), "--fund-benchmark", "ma",
        "--smooth", "--format", "json",
    )  # fmt: skip
    assert code == 0, stderr
    summary = _strict(stdout)
    assert summary["provenance"]["smooth"] is True
    assert min(r["balance_usd"] for r in summary["periods"]) >= 0.0


def test_cli_smooth_on_the_generated_dataset(generated):
    code, _, stderr = _run(
        "optimize", str(generated), "--periods", str(generated / "periods.csv"),
        "--fund-benchmark", "ma:6", "--smooth",
    )  # fmt: skip
    assert code == 0, stderr


def test_cli_optimize_periods_json_is_strict(generated):
    code, stdout, stderr = _run(
        "optimize", str(generated), "--periods", str(generated / "periods.csv"), "--format", "json"
    )
    assert code == 0, stderr
    summary = _strict(stdout)
    assert summary["provenance"]["fund"] is None
    assert all(math.isfinite(r["distributable_usd"]) for r in summary["periods"])


@pytest.mark.parametrize(
    "args",
    [
        ("--periods", "{p}", "--price", "70"),
        ("--fund-benchmark", "ma:6"),
        ("--smooth",),
        ("--periods", "{p}", "--smooth"),
        ("--periods", "{p}", "--fund-benchmark", "abc"),
        ("--periods", "{p}", "--fund-spend-rule", "0.1"),
    ],
    ids=[
        "price",
        "fund-without-periods",
        "smooth-without-periods",
        "smooth-without-fund",
        "bad-benchmark",
        "setting-without-fund",
    ],
)
def test_cli_period_usage_errors_exit_2(generated, tmp_path, args):
    rep = tmp_path / "rep"
    filled = [a.format(p=generated / "periods.csv") for a in args]
    code, stdout, stderr = _run("optimize", str(generated), *filled, "--out", str(rep))
    assert code == 2, (stdout, stderr)
    assert not rep.exists()


def test_cli_bad_periods_file_exits_2_with_its_place(generated, tmp_path):
    bad = tmp_path / "periods.csv"
    bad.write_text("period,price\n0,80\n0,70\n")
    code, _, stderr = _run("optimize", str(generated), "--periods", str(bad))
    assert code == 2
    assert f"{bad}:3:period" in stderr and "E-DUPLICATE" in stderr


def test_cli_infeasible_periods_exit_3(tmp_path):
    f = tmp_path / "periods.csv"
    f.write_text("period,price\n0,82.49\n1,15\n")
    code, _, stderr = _run(
        "optimize", str(DATA / "iraq"), "-s", "iraq-2005-krg17", "--periods", str(f),
        "--set", "secession_proof=true", "--set", "secession_cost=0.35",
    )  # fmt: skip
    assert code == 3 and "1 period(s): 1;" in stderr


def test_a_benchmark_where_no_field_earns_is_an_input_error(iraq):
    """A fund benchmarked below every field's cost would take all the revenue."""
    path = pd.DataFrame({"period": [0, 1], "price": [70.0, 80.0], "years": 1.0})
    with pytest.raises(InputError) as info:
        optimize_periods(iraq, "federation", path, fund=Fund(benchmark_price=0.0))
    assert [p.code for p in info.value.problems] == ["E-RANGE"]
