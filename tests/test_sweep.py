"""Sweeps: the in-place engine against fresh ``optimize`` calls, executors, resume, reports, CLI."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import revshare
from cli import main
from revshare.data.scenarios import PriceModel, monte_carlo, price_grid
from revshare.data.structures import resolve
from revshare.errors import InfeasibleError, InputError
from revshare.model.metrics import gini, gini_rows
from revshare.reports.sweep import sweep
from revshare.solve.engine import Engine
from revshare.solve.verify import verify, verify_batch

DATA = Path(__file__).resolve().parent.parent / "data"
PRESET_NAMES = ["unified", "federation", "confederation", "partition", "nigeria-derivation"]


@pytest.fixture(scope="module")
def iraq() -> revshare.Territory:
    return revshare.load_dataset(DATA / "iraq")


@pytest.fixture(scope="module")
def sudan() -> revshare.Territory:
    return revshare.load_dataset(DATA / "sudan-2005")


def _variants(base: revshare.Structure) -> list[revshare.Structure]:
    """Structures that exercise every rule and objective the engine re-solves in place."""
    r = dataclasses.replace
    return [
        r(base, name="floor-cap", per_capita_floor=0.5, per_capita_cap=1.6),
        r(base, name="cells", within_region="free", objective="leximin"),
        r(base, name="maxmin", objective="maxmin", derivation=0.1),
        r(base, name="centre", objective="centre-residual", central_share=(0.1, 0.6)),
        r(base, name="needs-ish", objective="formula", damage_allotment=0.1),
        r(base, name="proof", secession_proof=True, secession_cost=0.4),
    ]


def _engine_vs_optimize(t: revshare.Territory, s: revshare.Structure, prices: np.ndarray) -> float:
    engine = Engine(t, s, float(prices.max()))
    solved = engine.solve(t.money(prices))
    worst = 0.0
    for i, price in enumerate(prices):
        a = revshare.optimize(t, s, price=float(price))
        assert solved.status[i].value == "optimal", (s.name, price)
        gap = np.max(np.abs(a.cells["usd"].to_numpy() - solved.cells_usd[i]))
        worst = max(
            worst, gap / a.revenue_usd, abs(a.centre_usd - solved.centre_usd[i]) / a.revenue_usd
        )
    return worst


@pytest.mark.parametrize("name", [*PRESET_NAMES, "iraq-2005", "iraq-2005-krg17"])
def test_engine_equals_a_fresh_optimize_for_every_iraq_structure(iraq, name):
    """Prices in shuffled order (so bases are replayed across gaps) give optimize's answer."""
    prices = np.random.default_rng(7).permutation(np.linspace(25.0, 140.0, 9))
    assert _engine_vs_optimize(iraq, resolve(name, iraq.structures), prices) < 1e-9


@pytest.mark.parametrize("index", range(6))
def test_engine_equals_optimize_for_every_rule_and_objective(iraq, index):
    s = _variants(revshare.PRESETS["federation"])[index]
    assert _engine_vs_optimize(iraq, s, np.array([35.0, 60.0, 82.49, 120.0])) < 1e-9


def test_engine_on_sudan_cpa_matches_optimize(sudan):
    # the built-in preset: data/sudan-2005 writes the agreement as a deal under the same name
    s = resolve("sudan-cpa-2005")
    assert _engine_vs_optimize(sudan, s, np.array([20.0, 50.0, 71.0, 110.0])) < 1e-9


def test_engine_recovers_where_dual_simplex_without_presolve_fails(iraq):
    """At 114.79 USD, a leximin round of iraq-2005 is declared infeasible by HiGHS without
    presolve; the engine retries with presolve and agrees with optimize."""
    s = resolve("iraq-2005", iraq.structures)
    assert _engine_vs_optimize(iraq, s, np.array([256.5, 114.79426, 114.8])) < 1e-9


def test_optimize_recovers_where_highs_with_presolve_fails(sudan):
    """sudan-2005 federation at 25, 30, 140 and 145 USD: HiGHS with presolve declared a leximin
    round infeasible (exit 4); optimize now re-runs the staged solve with presolve off."""
    s = resolve("federation", sudan.structures)
    assert _engine_vs_optimize(sudan, s, np.array([25.0, 30.0, 140.0, 145.0])) < 1e-9


def test_engine_replays_bases_instead_of_solving_every_price(iraq):
    """Most prices reuse a basis: far fewer LP solves than scenarios, and none of them wrong."""
    engine = Engine(iraq, resolve("federation", iraq.structures), 130.0)
    prices = np.linspace(30.0, 130.0, 500)
    solved = engine.solve(iraq.money(prices))
    assert all(s.value == "optimal" for s in solved.status)
    assert solved.stages.sum() < 100
    checked = verify_batch(
        iraq, engine.structure, iraq.money(prices), solved.cells_usd, solved.centre_usd, 1e-10
    )
    assert checked.ok.all()


def test_infeasible_scenarios_are_infeasible_for_optimize_too(iraq):
    s = dataclasses.replace(
        resolve("iraq-2005-krg17", iraq.structures), secession_proof=True, secession_cost=0.0
    )
    prices = np.array([60.0, 90.0])
    solved = Engine(iraq, s, 90.0).solve(iraq.money(prices))
    assert [x.value for x in solved.status] == ["infeasible", "infeasible"]
    assert np.isnan(solved.cells_usd).all()
    for price in prices:
        with pytest.raises(InfeasibleError):
            revshare.optimize(iraq, s, price=float(price))


def test_sweep_marks_infeasible_and_no_revenue_scenarios(iraq):
    proof = dataclasses.replace(
        resolve("iraq-2005-krg17", iraq.structures), name="proof", secession_proof=True
    )
    r = sweep(iraq, ["federation", proof], price_grid("0,80"), workers=1)
    status = r.results.set_index(["structure", "price"])["status"]
    assert status[("federation", 0.0)] == "no revenue"
    assert status[("federation", 80.0)] == "optimal"
    assert status[("proof", 80.0)] == "infeasible"
    row = r.structures.set_index("structure").loc["proof"]
    assert row["share_infeasible"] == 0.5 and row["share_no_revenue"] == 0.5
    assert r.failed == 0


def test_sweep_results_are_the_verified_allocations(iraq):
    """Each row's per-head columns are the verified optimum of that price, conserved."""
    r = sweep(iraq, ["iraq-2005"], price_grid("45,82.49"), workers=1)
    for _, row in r.results.iterrows():
        a = revshare.optimize(iraq, "iraq-2005", price=row["price"])
        blocs = a.blocs.set_index("bloc")
        for b in iraq.blocs:
            assert row[f"bloc:{b}"] == pytest.approx(blocs.loc[b, "usd_per_head"], rel=1e-9)
            assert row[f"surplus:{b}"] == pytest.approx(
                blocs.loc[b, "surplus_over_secession_usd"], rel=1e-8, abs=1e-3
            )
        assert row["gini"] == pytest.approx(a.metrics["gini"], rel=1e-9)
        assert row["centre_usd"] == pytest.approx(a.centre_usd, rel=1e-9)
        assert row["max_violation_usd"] <= 1e-10 * row["revenue_usd"] + 1e-6


def test_same_results_with_one_two_workers_and_dask(iraq):
    distributed = pytest.importorskip("distributed")
    scen = monte_carlo(600, PriceModel(start=80.0), seed=3)
    kwargs = {"chunk_size": 150}
    names = ["federation", "partition", "nigeria-derivation"]
    one = sweep(iraq, names, scen, workers=1, **kwargs).results
    two = sweep(iraq, names, scen, workers=2, **kwargs).results
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        dask = sweep(iraq, names, scen, scheduler=cluster.scheduler_address, **kwargs).results
    pd.testing.assert_frame_equal(one, two, check_exact=True)
    pd.testing.assert_frame_equal(one, dask, check_exact=True)
    assert len(one) == 1800 and (one["status"] == "optimal").all()


def test_interrupted_sweep_resumes_without_loss_or_duplication(iraq, tmp_path):
    scen = price_grid("30:130:2.5")
    names = ["federation", "partition"]
    whole = sweep(iraq, names, scen, workers=1, chunk_size=7).results

    calls = []

    def stop_after_three_chunks(done: int, total: int) -> None:
        calls.append(done)
        if len(calls) == 4:  # the first call reports 0 done
            raise KeyboardInterrupt

    out = tmp_path / "sweep"
    with pytest.raises(KeyboardInterrupt):
        sweep(iraq, names, scen, workers=1, chunk_size=7, out=out, progress=stop_after_three_chunks)
    kept = sorted(p.name for p in (out / "chunks").glob("*.json"))
    assert len(kept) == 3
    assert not (out / "manifest.json").exists()
    seen = []
    resumed = sweep(
        iraq,
        names,
        scen,
        workers=1,
        chunk_size=7,
        out=out,
        resume=True,
        keep_chunks=True,
        progress=lambda d, t: seen.append((d, t)),
    )
    assert seen[0][0] == sum(
        len(json.loads((out / "chunks" / k).read_text())["rows"]) for k in kept
    )
    assert resumed.provenance["resumed_chunks"] == 3
    pd.testing.assert_frame_equal(resumed.results, whole, check_exact=True)
    assert not resumed.results.duplicated(["structure", "scenario"]).any()
    on_disk = pd.read_csv(out / "scenarios.csv", encoding="utf-8-sig")
    assert len(on_disk) == len(whole)


def test_output_folder_holding_a_sweep_needs_resume_or_force(iraq, tmp_path):
    out = tmp_path / "s"
    sweep(iraq, ["unified"], price_grid("50,60"), workers=1, out=out)
    with pytest.raises(InputError) as again:
        sweep(iraq, ["unified"], price_grid("50,60"), workers=1, out=out)
    assert "`resume=True`" in str(again.value)
    with pytest.raises(InputError) as other:
        sweep(iraq, ["unified"], price_grid("50,70"), workers=1, out=out, resume=True)
    assert "different sweep" in str(other.value)
    r = sweep(iraq, ["unified"], price_grid("50,70"), workers=1, out=out, force=True)
    assert list(r.results["price"]) == [50.0, 70.0]
    with pytest.raises(InputError):
        sweep(iraq, ["unified"], price_grid("50"), workers=1, out=tmp_path / "none", resume=True)


def test_a_wrong_engine_answer_is_caught_by_verification(iraq, monkeypatch):
    real = Engine.solve

    def broken(self, money):
        out = real(self, money)
        cells = out.cells_usd.copy()
        cells[:, 0] += 0.01 * money.revenue  # gives one cell money the rules forbid
        return dataclasses.replace(out, cells_usd=cells)

    monkeypatch.setattr(Engine, "solve", broken)
    r = sweep(iraq, ["unified"], price_grid("50,80"), workers=1)
    assert (r.results["status"] == "not verified").all()
    assert r.failed == 2
    assert r.results["bloc:Shia Region"].isna().all()
    assert r.summary.empty or (r.summary["scenarios"] == 0).all()


def test_parameter_grid_rows_and_frontier(iraq, tmp_path):
    r = sweep(
        iraq,
        ["federation"],
        price_grid("60,90"),
        params=["derivation=0:0.3:0.1"],
        workers=1,
        out=tmp_path / "p",
    )
    assert sorted(r.results["derivation"].unique()) == pytest.approx([0.0, 0.1, 0.2, 0.3])
    retention = r.results.groupby("derivation")["producing_retention"].median()
    assert retention.is_monotonic_increasing  # more derivation, more kept by producers
    for d in (0.1, 0.3):
        row = r.results[np.isclose(r.results["derivation"], d) & (r.results["price"] == 60)]
        a = revshare.optimize(iraq, "federation", price=60.0, overrides=[f"derivation={d!r}"])
        assert row["centre_usd"].iloc[0] == pytest.approx(a.centre_usd, rel=1e-9)
    html = (tmp_path / "p" / "report.html").read_text()
    assert "Autonomy against fairness as derivation varies" in html
    assert "Money per head against the oil price at derivation = 0" in html


def test_gini_rows_equals_metrics_gini():
    rng = np.random.default_rng(0)
    values = rng.gamma(2.0, 100.0, size=(20, 15))
    values[3] = 0.0
    values[4, :5] = values[4, 5:10]  # ties
    weights = rng.integers(1, 10_000, 15).astype(float)
    expected = [gini(v, weights) for v in values]
    assert gini_rows(values, weights) == pytest.approx(expected, abs=1e-12)


def test_verify_batch_agrees_with_verify(iraq):
    s = resolve("iraq-2005", iraq.structures)
    prices = np.array([40.0, 82.49])
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1e8, (2, len(iraq.cells)))
    centre = rng.uniform(0, 1e9, 2)
    batch = verify_batch(iraq, s, iraq.money(prices), x, centre)
    for i, p in enumerate(prices):
        single = verify(iraq, s, float(p), x[i], float(centre[i]))
        assert batch.max_violation_usd[i] == pytest.approx(single.max_violation_usd, rel=1e-12)
        assert batch.worst[i] == single.worst
        assert bool(batch.ok[i]) == single.ok


def test_money_at_many_prices_matches_one_price_at_a_time(sudan):
    prices = np.array([0.0, 15.0, 71.0, 140.0])
    money = sudan.money(prices)
    for i, p in enumerate(prices):
        assert money.region[i] == pytest.approx(sudan.region_revenue(p).to_numpy())
        assert money.outside[i] == pytest.approx(sudan.outside_options(p).to_numpy())
        assert money.revenue[i] == pytest.approx(sudan.field_revenue(p).sum())


# -- the command --------------------------------------------------------------------------------


def test_cli_sweep_writes_reports_and_prints_a_summary(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        [
            "sweep",
            str(DATA / "iraq"),
            "--structures",
            "federation,partition",
            "--scenarios",
            "200",
            "--seed",
            "4",
            "--price-model",
            "mean-reverting",
            "--workers",
            "1",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "federation: 200 scenarios, 100.0% solved" in result.output
    names = {p.name for p in out.iterdir()}
    assert {
        "scenarios.csv",
        "summary.csv",
        "risk.csv",
        "summary.json",
        "report.html",
        "report.md",
        "manifest.json",
        "sweep.json",
    } <= names
    assert "chunks" not in names  # a complete sweep's reports hold everything its chunks had
    summary = json.loads((out / "summary.json").read_text())
    assert summary["spec"]["scenario_count"] == 200
    assert "Money per head against the oil price" in (out / "report.html").read_text()


@pytest.mark.parametrize(
    "args",
    [
        [],  # no price source
        ["--prices", "30:40:5", "--scenarios", "3"],  # two sources
        ["--prices", "40:30:5"],
        ["--prices", "30:40:5", "--param", "derivation"],
        ["--prices", "30:40:5", "--param", "nonsense=0:1:0.5"],
        ["--scenarios", "5", "--volatility", "-1"],
        ["--prices", "30:40:5", "--structures", "sudan-cpa-2005"],  # named, not under "all"
    ],
)
def test_cli_sweep_bad_usage_exits_2_without_traceback(args, tmp_path):
    result = CliRunner().invoke(
        main, ["sweep", str(DATA / "iraq"), *args, "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_resume_needs_an_output_folder(iraq):
    with pytest.raises(InputError) as info:
        sweep(iraq, ["unified"], price_grid("50"), workers=1, resume=True)
    assert info.value.problems[0].file == "resume"


def test_cli_sweep_from_a_prices_file_neutralises_formula_names(tmp_path):
    prices = tmp_path / "prices.csv"
    prices.write_text('scenario,price\n"=HYPERLINK(""x"")",70\nbase,80\n', encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        [
            "sweep",
            str(DATA / "iraq"),
            "--structures",
            "unified",
            "--prices-file",
            str(prices),
            "--workers",
            "1",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    text = (out / "scenarios.csv").read_text(encoding="utf-8-sig")
    assert "\"'=HYPERLINK" in text
    assert ',"=' not in text


def test_cli_sweep_exits_4_when_a_scenario_fails_verification(monkeypatch, tmp_path):
    real = Engine.solve

    def broken(self, money):
        out = real(self, money)
        return dataclasses.replace(out, centre_usd=out.centre_usd * 1.01)

    monkeypatch.setattr(Engine, "solve", broken)
    result = CliRunner().invoke(
        main,
        [
            "sweep",
            str(DATA / "iraq"),
            "--structures",
            "unified",
            "--prices",
            "50,60",
            "--workers",
            "1",
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert result.exit_code == 4, result.output
    assert "2 scenario(s) could not be proven optimal" in result.output
    assert "no report was written" in result.output
    out = tmp_path / "o"
    assert not (out / "scenarios.csv").exists() and not (out / "manifest.json").exists()
    kept = [json.loads(p.read_text()) for p in (out / "chunks").glob("*.json")]
    statuses = [row[kept[0]["columns"].index("status")] for doc in kept for row in doc["rows"]]
    assert statuses == ["not verified", "not verified"]


def test_a_sweep_never_replaces_another_commands_report(tmp_path):
    out = tmp_path / "o"
    runner = CliRunner()
    first = runner.invoke(main, ["optimize", str(DATA / "iraq"), "--out", str(out)])
    assert first.exit_code == 0, first.output
    before = (out / "report.md").read_bytes()
    result = runner.invoke(
        main,
        [
            "sweep",
            str(DATA / "iraq"),
            "--structures",
            "unified",
            "--prices",
            "50,60",
            "--workers",
            "1",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 2, result.output
    assert "E-OUTPUT-EXISTS" in result.output
    assert (out / "report.md").read_bytes() == before


def test_time_limit_applies_to_each_solve_not_to_the_engine_lifetime():
    """HiGHS counts an instance's whole run time; the engine resets the limit per solve."""
    from revshare.data.synthetic import synthetic_territory
    from revshare.solve.solver import SolverConfig

    t = synthetic_territory(regions=60, factions=3, seed=3)
    # a limit far above one solve (milliseconds) and below the engine's total (the replayed
    # engine solves little per call, so many calls)
    limit = 0.05
    engine = Engine(t, revshare.PRESETS["confederation"], 150.0, SolverConfig("highs", limit))
    prices = np.linspace(40.0, 150.0, 30)
    for _ in range(60):
        solved = engine.solve(t.money(prices))
        assert all(s.value == "optimal" for s in solved.status)
    assert engine.h.getRunTime() > limit  # the limit would have been spent without the reset


@pytest.mark.parametrize(
    ("prices", "header", "count", "no_revenue"),
    [
        ("0,60,80", "iraq: 3 scenarios, oil price 0.00 to 80.00 USD/bbl", "3 scenarios", True),
        ("80", "iraq: 1 scenario, oil price 80.00 USD/bbl", "1 scenario,", False),
    ],
)
def test_the_terminal_summary_names_what_was_swept(iraq, prices, header, count, no_revenue):
    """Issue 15: a header (dataset, scenarios, price range), "1 scenario" in the singular, and the
    share of scenarios with no revenue shown when there is one."""
    from revshare.data.scenarios import price_grid
    from revshare.reports.sweep import sweep_table

    text = sweep_table(revshare.sweep(iraq, ["federation"], price_grid(prices)))
    lines = text.splitlines()
    assert lines[0] == header
    assert lines[1].startswith(f"federation: {count}")
    assert ("no revenue" in lines[1]) is no_revenue
