"""Price scenarios and parameter grids (revshare.data.scenarios) and the price-file reader.

Grids are checked point by point; Monte Carlo draws against the closed-form moments of each
model, within a few standard errors; errors by their stable codes, lines and columns.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from revshare.data.readers import read_prices
from revshare.data.scenarios import (
    PriceModel,
    monte_carlo,
    overrides_of,
    parameter_grid,
    price_grid,
)
from revshare.data.structures import parse_override
from revshare.errors import InputError

N = 200_000  # draws for the moment checks: a standard error of 0.3 / sqrt(N) = 0.00067


def _where(exc: pytest.ExceptionInfo[InputError]) -> list[tuple[int | None, str | None, str]]:
    return [(p.line, p.column, p.code) for p in exc.value.problems]


def test_price_grid_range_includes_both_ends() -> None:
    """30:130:5 gives 21 prices from 30 to 130, as scenario/period/price rows."""
    grid = price_grid("30:130:5")
    assert list(grid.columns) == ["scenario", "period", "price"]
    assert grid["price"].tolist() == [30.0 + 5 * i for i in range(21)]
    assert grid["scenario"].iloc[[0, -1]].tolist() == ["30", "130"]
    assert (grid["period"] == 0).all()
    assert price_grid("0:1:0.1")["price"].iloc[-1] == 1.0  # exactly, not 0.9999999999999999


def test_price_grid_list_keeps_the_given_values() -> None:
    """A comma list gives exactly its values, in order."""
    grid = price_grid("40,60,80")
    assert grid["price"].tolist() == [40.0, 60.0, 80.0]
    assert grid["scenario"].tolist() == ["40", "60", "80"]


@pytest.mark.parametrize(
    ("spec", "count", "last"),
    [("0:1:0.1", 11, 1.0), ("0:0.3:0.1", 4, 0.3), ("0.3:0.9:0.1", 7, 0.9)],
)
def test_price_grid_float_step_keeps_the_end(spec: str, count: int, last: float) -> None:
    """A decimal step does not lose the end point to rounding (0.3 / 0.1 = 2.999...)."""
    prices = price_grid(spec)["price"].to_numpy()
    assert len(prices) == count
    assert prices[-1] == pytest.approx(last, abs=1e-12)
    assert np.all(np.diff(prices) > 0)


@pytest.mark.parametrize(
    "spec",
    ["130:30:5", "30:130:0", "30:130:-5", "a:b:c", "1:2", "-10:10:5", "nan,1", "1:inf:1", ""],
)
def test_price_grid_rejects_bad_specs(spec: str) -> None:
    """Reversed, zero-step, unreadable, incomplete, negative or non-finite specs are E-USAGE."""
    with pytest.raises(InputError) as exc:
        price_grid(spec)
    assert exc.value.codes == ["E-USAGE"]
    assert exc.value.problems[0].file == "prices"


def test_price_grid_scenario_names_are_unique() -> None:
    """Every grid point gets its own scenario name, even with many significant digits."""
    grid = price_grid("1000:1000.004:0.001")
    assert len(grid) == 5
    assert grid["scenario"].is_unique


def test_monte_carlo_is_reproducible_by_seed() -> None:
    """The same seed gives identical prices; another seed gives other prices."""
    model = PriceModel()
    a, b, c = (monte_carlo(1000, model, seed)["price"].to_numpy() for seed in (7, 7, 8))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


@pytest.mark.parametrize("kind", ["gbm", "mean-reverting"])
def test_monte_carlo_prices_positive_and_names_unique(kind: str) -> None:
    """Every draw is a positive finite price with its own scenario name."""
    table = monte_carlo(5000, PriceModel(kind=kind, volatility=1.5, horizon=10), 3)
    assert list(table.columns) == ["scenario", "period", "price"]
    assert len(table) == 5000
    assert table["scenario"].is_unique
    prices = table["price"].to_numpy()
    assert np.all(np.isfinite(prices)) and np.all(prices > 0)


def test_gbm_log_price_moments() -> None:
    """gbm: ln P_1 has mean ln 80 - sigma^2/2 and standard deviation sigma."""
    logs = np.log(monte_carlo(N, PriceModel("gbm", 80.0, 0.3, 0.0, horizon=1.0), 11)["price"])
    assert abs(logs.mean() - (math.log(80) - 0.045)) < 4 * 0.3 / math.sqrt(N)
    assert logs.std() == pytest.approx(0.3, rel=0.01)


def test_gbm_drift_shifts_every_log_price_by_drift_times_horizon() -> None:
    """With the same seed, drift 0.1 over 2 years adds exactly 0.2 to each log price."""
    base = monte_carlo(100, PriceModel(horizon=2.0), 5)["price"].to_numpy()
    drifted = monte_carlo(100, PriceModel(drift=0.1, horizon=2.0), 5)["price"].to_numpy()
    np.testing.assert_allclose(np.log(drifted) - np.log(base), 0.2, atol=1e-12)


def test_mean_reverting_log_price_moments() -> None:
    """OU: ln P_T has the exact mean and standard deviation of the Schwartz one-factor model."""
    k, sigma, horizon = 0.5, 0.3, 1.0
    model = PriceModel("mean-reverting", 40.0, sigma, mean=100.0, reversion=k, horizon=horizon)
    logs = np.log(monte_carlo(N, model, 21)["price"])
    decay = math.exp(-k * horizon)
    mean = decay * math.log(40) + (1 - decay) * (math.log(100) - sigma**2 / (2 * k))
    std = sigma * math.sqrt((1 - math.exp(-2 * k * horizon)) / (2 * k))
    assert abs(logs.mean() - mean) < 4 * std / math.sqrt(N)
    assert logs.std() == pytest.approx(std, rel=0.01)


@pytest.mark.parametrize(("mean", "target"), [(100.0, 100.0), (None, 40.0)])
def test_mean_reverting_long_run_median(mean: float | None, target: float) -> None:
    """After 50 years the median is mean * exp(-sigma^2/2k); mean defaults to start."""
    model = PriceModel("mean-reverting", 40.0, 0.3, mean=mean, reversion=0.5, horizon=50.0)
    median = np.median(monte_carlo(N, model, 4)["price"])
    assert median == pytest.approx(target * math.exp(-0.09), rel=0.005)


@pytest.mark.parametrize(
    ("model", "parameter"),
    [
        (PriceModel(kind="brownian"), "kind"),
        (PriceModel(volatility=0.0), "volatility"),
        (PriceModel(volatility=-0.2), "volatility"),
        (PriceModel(volatility=math.nan), "volatility"),
        (PriceModel(horizon=0.0), "horizon"),
        (PriceModel(kind="mean-reverting", reversion=0.0), "reversion"),
        (PriceModel(start=-5.0, mean=100.0), "start"),
        (PriceModel(start=-5.0), "start"),
        (PriceModel(kind="mean-reverting", mean=-1.0), "mean"),
        (PriceModel(drift=math.inf), "drift"),
    ],
)
def test_monte_carlo_rejects_bad_models(model: PriceModel, parameter: str) -> None:
    """Each bad model setting is one E-USAGE problem naming its parameter (not a CLI flag)."""
    with pytest.raises(InputError) as exc:
        monte_carlo(10, model, 1)
    assert [(p.file, p.code) for p in exc.value.problems] == [(parameter, "E-USAGE")]


def test_monte_carlo_rejects_no_scenarios() -> None:
    """n < 1 is an E-USAGE problem on the parameter n."""
    with pytest.raises(InputError) as exc:
        monte_carlo(0, PriceModel(), 1)
    assert [(p.file, p.code) for p in exc.value.problems] == [("n", "E-USAGE")]


def test_monte_carlo_reports_every_model_problem_at_once() -> None:
    """A negative volatility and a zero horizon are both reported in one error."""
    with pytest.raises(InputError) as exc:
        monte_carlo(10, PriceModel(volatility=-1.0, horizon=0.0), 1)
    assert sorted(p.file for p in exc.value.problems) == ["horizon", "volatility"]
    assert exc.value.codes == ["E-USAGE", "E-USAGE"]


def test_parameter_grid_is_the_ordered_cartesian_product() -> None:
    """Two specs give 3 x 2 points; the first spec varies slowest."""
    points = parameter_grid(["derivation=0:0.5:0.25", "central_share=0.1,0.2"])
    assert points == [
        {"derivation": d, "central_share": c} for d in (0.0, 0.25, 0.5) for c in (0.1, 0.2)
    ]


BAD_PARAMS = [["d=0,0.1", "d = 0.2"], ["derivation"], ["=0.1"], ["d=0.5:0:0.1"], ["d=x:y:z"]]


@pytest.mark.parametrize("specs", BAD_PARAMS)
def test_parameter_grid_rejects_bad_specs(specs: list[str]) -> None:
    """A repeated parameter, a missing '=' or name, or a bad range is E-USAGE."""
    with pytest.raises(InputError) as exc:
        parameter_grid(specs)
    assert exc.value.codes == ["E-USAGE"]


def test_overrides_round_trip_exactly() -> None:
    """overrides_of writes PARAM=repr(value), which reads back to the same float."""
    assert overrides_of({"derivation": 0.1}) == ["derivation=0.1"]
    for point in parameter_grid(["derivation=0:1:0.1", "central_share=0.3"]):
        for text in overrides_of(point):
            key, value = parse_override(text)
            assert value == point[key]
            assert float(text.partition("=")[2]) == point[key]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "prices.csv"
    path.write_bytes(text.encode("utf-8"))
    return path


def test_read_prices_price_column_only(tmp_path: Path) -> None:
    """Without a scenario column, scenarios are named by their line; period defaults to 0."""
    table = read_prices(_write(tmp_path, "price\n50\n60.5\n70\n"))
    assert table["scenario"].tolist() == ["line-2", "line-3", "line-4"]
    assert table["price"].tolist() == [50.0, 60.5, 70.0]
    assert table["period"].tolist() == [0.0, 0.0, 0.0]


def test_read_prices_scenario_period_price(tmp_path: Path) -> None:
    """Named price paths are read in file order, with no _line column."""
    table = read_prices(_write(tmp_path, "scenario,period,price\nlow,0,40\nlow,1,45\nhigh,0,90\n"))
    assert list(table.columns) == ["scenario", "period", "price"]
    assert table.to_dict("list") == {
        "scenario": ["low", "low", "high"],
        "period": [0.0, 1.0, 0.0],
        "price": [40.0, 45.0, 90.0],
    }


def test_read_prices_reports_every_problem(tmp_path: Path) -> None:
    """A negative price, a non-number and a repeated pair are all reported with their places."""
    text = "scenario,period,price\na,0,-5\nb,0,abc\nc,0,60\na,0,50\n"
    with pytest.raises(InputError) as exc:
        read_prices(path := _write(tmp_path, text))
    assert {p.file for p in exc.value.problems} == {str(path)}
    assert _where(exc) == [
        (2, "price", "E-RANGE"),
        (3, "price", "E-NOT-A-NUMBER"),
        (5, "scenario", "E-DUPLICATE"),
    ]


def test_read_prices_missing_price_column(tmp_path: Path) -> None:
    """A file without a price column is E-MISSING-COLUMN on the header line."""
    with pytest.raises(InputError) as exc:
        read_prices(_write(tmp_path, "scenario,period\na,0\n"))
    assert _where(exc) == [(1, "price", "E-MISSING-COLUMN")]


@pytest.mark.parametrize(("text", "code"), [("scenario,price\n", "E-NO-ROWS"), ("", "E-EMPTY")])
def test_read_prices_without_rows(tmp_path: Path, text: str, code: str) -> None:
    """A header with no rows is E-NO-ROWS; an empty file is E-EMPTY."""
    with pytest.raises(InputError) as exc:
        read_prices(_write(tmp_path, text))
    assert _where(exc) == [(None, None, code)]


def test_read_prices_accepts_utf8_bom(tmp_path: Path) -> None:
    """A UTF-8 byte-order mark before the header is stripped."""
    table = read_prices(_write(tmp_path, "\ufeffscenario,price\nbase,75\n"))
    assert table["scenario"].tolist() == ["base"]
    assert table["price"].tolist() == [75.0]


def test_read_prices_blank_name_cannot_clash_with_a_given_name(tmp_path: Path) -> None:
    """A blank name on line 2 must not silently become a second 'line-2' scenario."""
    try:
        table = read_prices(_write(tmp_path, "scenario,price\n,50\nline-2,60\n"))
    except InputError as exc:
        assert exc.codes == ["E-DUPLICATE"]
    else:
        assert not table.duplicated(["scenario", "period"]).any()
