"""Apportioning a convention: hand-computed examples for every method, published apportionments,
the classic paradoxes, exact ties, the error contract, reports, and hypothesis properties."""

from __future__ import annotations

import csv
import doctest
import json
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import revshare
from revshare.analyses import convention
from revshare.analyses.convention import (
    METHODS,
    apportion,
    apportion_territory,
    territory_populations,
)
from revshare.errors import InputError
from revshare.reports.convention import (
    apportionment_csv,
    apportionment_json,
    apportionment_md,
    apportionment_text,
    write_apportionment,
)

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data" / "apportionment"
DIVISOR = [m for m in METHODS if METHODS[m].priority is not None]


def read(name: str) -> list[dict[str, str]]:
    with open(DATA / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def seats_of(a: convention.Apportionment) -> tuple[int, ...]:
    return tuple(a.seats.values())


# --- hand-computed examples ----------------------------------------------------------------------
#
# Example 1: A 65, B 18, C 7, D 3 (P = 93), 8 seats. Quotas 8p/93: 5.591, 1.548, 0.602, 0.258.
#   hamilton: lower quotas 5, 1, 0, 0 (6 seats); the 2 left go to the largest remainders,
#     C .602 and A .591 -> 6, 1, 1, 0.
#   jefferson p/(s+1): A 65, 32.5, 21.7, 16.25, 13, 10.8, 9.29; B 18, 9; C 7; D 3. The 8 largest
#     are A's seven and B's 18 (the 9th would be B's 9) -> 7, 1, 0, 0.
#   webster p/(s+1/2): A 130, 43.3, 26, 18.6, 14.4, 11.8; B 36, 12, 7.2; C 14, 4.7; D 6. The 8
#     largest: A 130, 43.3, 26, 18.6, 14.4, B 36, 12, C 14 -> 5, 2, 1, 0.
#   adams (one seat each, then p/s): A 65, 32.5, 21.7, 16.25; B 18; C 7; D 3. The 4 left go to
#     A 65, 32.5, 21.7 and B 18 -> 4, 2, 1, 1.
#   huntington-hill (one seat each, then p/sqrt(s(s+1))): A 45.96, 26.54, 18.76, 14.53, 11.87;
#     B 12.73; C 4.95; D 2.12 -> the 4 left all go to A -> 5, 1, 1, 1.
#   dean (one seat each, then p(2s+1)/(2s(s+1))): A 48.75, 27.08, 18.96, 14.63, 11.92; B 13.5;
#     C 5.25; D 2.25 -> all 4 to A -> 5, 1, 1, 1.
#
# Example 2: A 11, B 6, C 1 (P = 18), 8 seats. Quotas 4.889, 2.667, 0.444.
#   hamilton: 4, 2, 0 then remainders A .889, B .667 -> 5, 3, 0.
#   jefferson: A 11, 5.5, 3.67, 2.75, 2.2, 1.83; B 6, 3, 2; C 1 -> the 8 largest end with B's 2,
#     just above A's 1.83 -> 5, 3, 0.
#   webster: A 22, 7.33, 4.4, 3.14, 2.44, 2; B 12, 4, 2.4; C 2 -> 5, 3, 0.
#   adams: one each, then A 11, 5.5, 3.67, 2.75; B 6, 3, 2; C 1 -> the 5 left: A 11, B 6, A 5.5,
#     A 3.67, B 3 -> 4, 3, 1.
#   huntington-hill squared, p^2/(s(s+1)): A 60.5, 20.17, 10.08, 6.05; B 18, 6; C 0.5. The 5 left:
#     A 60.5, A 20.17, B 18, A 10.08, then A 6.05 beats B 6 (121/20 > 36/6) -> 5, 2, 1.
#   dean: A 8.25, 4.58, 3.21, 2.475; B 4.5, 2.5; C 0.75. The 5 left: A 8.25, A 4.58, B 4.5, A 3.21,
#     then B 2.5 beats A 2.475 -> 4, 3, 1.

EXAMPLE_1 = (
    {"A": 65, "B": 18, "C": 7, "D": 3},
    8,
    {
        "hamilton": (6, 1, 1, 0),
        "jefferson": (7, 1, 0, 0),
        "webster": (5, 2, 1, 0),
        "adams": (4, 2, 1, 1),
        "huntington-hill": (5, 1, 1, 1),
        "dean": (5, 1, 1, 1),
    },
)
EXAMPLE_2 = (
    {"A": 11, "B": 6, "C": 1},
    8,
    {
        "hamilton": (5, 3, 0),
        "jefferson": (5, 3, 0),
        "webster": (5, 3, 0),
        "adams": (4, 3, 1),
        "huntington-hill": (5, 2, 1),
        "dean": (4, 3, 1),
    },
)


@pytest.mark.parametrize("example", [EXAMPLE_1, EXAMPLE_2], ids=["example1", "example2"])
@pytest.mark.parametrize("method", list(METHODS))
def test_hand_computed_examples(example, method):
    pops, seats, expected = example
    a = apportion(pops, seats, method)
    assert seats_of(a) == expected[method]
    assert a.ties == [] and a.tied_seats == 0
    assert a.quota == {n: Fraction(seats * p, sum(pops.values())) for n, p in pops.items()}


def test_exact_disproportionality_indices():
    # Example 1 under Hamilton, in 744ths: s - v = 38, -51, 37, -24 (744 = 8 * 93).
    a = apportion(EXAMPLE_1[0], 8, "hamilton")
    assert a.loosemore_hanby == float(Fraction(150, 2 * 744))
    assert a.gallagher == math.sqrt(Fraction(38**2 + 51**2 + 37**2 + 24**2, 2 * 744**2))
    perfect = apportion({"A": 3, "B": 1}, 4, "webster")
    assert perfect.loosemore_hanby == 0.0 and perfect.gallagher == 0.0


def test_method_aliases_and_registry_citations():
    assert seats_of(apportion({"A": 5, "B": 3}, 5, "dhondt")) == seats_of(
        apportion({"A": 5, "B": 3}, 5, "jefferson")
    )
    assert apportion({"A": 5, "B": 3}, 5, "Sainte-Lague").method == "webster"
    assert all(m.citation and m.description for m in METHODS.values())


# --- paradoxes -----------------------------------------------------------------------------------


def test_alabama_paradox_under_hamilton():
    # 10 seats: quotas 4.29, 4.29, 1.43 -> 4, 4, then C's remainder .43 wins: 4, 4, 2.
    # 11 seats: quotas 4.71, 4.71, 1.57 -> 4, 4, 1, then A and B's .71 win: 5, 5, 1. C loses a seat.
    pops = {"A": 6, "B": 6, "C": 2}
    assert seats_of(apportion(pops, 10, "hamilton")) == (4, 4, 2)
    assert seats_of(apportion(pops, 11, "hamilton")) == (5, 5, 1)


@pytest.mark.parametrize("method", DIVISOR)
def test_no_alabama_paradox_under_divisor_methods(method):
    pops = {"A": 6, "B": 6, "C": 2}
    small, large = (apportion(pops, n, method, tie_rule="alphabetical") for n in (10, 11))
    assert all(large.seats[n] >= small.seats[n] for n in pops)


def test_upper_quota_violation_under_jefferson():
    # Quota of A 8.6; its tenth seat's priority 860/10 = 86 still beats B's and C's 70: A gets 10.
    a = apportion({"A": 860, "B": 70, "C": 70}, 10, "jefferson")
    assert a.seats == {"A": 10, "B": 0, "C": 0}
    assert a.quota_violations == ["A"]
    assert apportion({"A": 860, "B": 70, "C": 70}, 10, "hamilton").quota_violations == []


def test_lower_quota_violation_under_adams():
    # A's quota is 8.6 but Adams gives each of the nine localities a seat first; A gets the 10th.
    pops = {"A": 1720, **{f"s{i}": 35 for i in range(8)}}
    a = apportion(pops, 10, "adams")
    assert a.seats["A"] == 2 and a.quota["A"] == Fraction(43, 5)
    assert a.quota_violations == ["A"]


# --- published apportionments --------------------------------------------------------------------


def test_huntington_hill_reproduces_the_2020_us_apportionment():
    rows = read("us-2020-census.csv")
    pops = {r["state"]: int(r["apportionment_population"]) for r in rows}
    assert len(pops) == 50 and sum(pops.values()) == 331_108_434
    a = apportion(pops, 435, "huntington-hill", min_seats=1)
    assert {r["state"]: int(r["representatives"]) for r in rows} == dict(a.seats)
    assert a.ties == []
    before = apportion(pops, 434, "huntington-hill", min_seats=1)
    after = apportion(pops, 436, "huntington-hill", min_seats=1)
    assert [n for n in pops if a.seats[n] != before.seats[n]] == ["Minnesota"]
    assert [n for n in pops if after.seats[n] != a.seats[n]] == ["New York"]
    for extra, ny in ((88, 26), (89, 27)):
        moved = apportion(
            {**pops, "New York": pops["New York"] + extra}, 435, "huntington-hill", min_seats=1
        )
        assert moved.seats["New York"] == ny


def test_1792_hamilton_and_jefferson_reproduce_the_bill_and_the_act():
    rows = read("us-1790-census.csv")
    pops = {r["state"]: int(r["apportionment_population"]) for r in rows}
    assert sum(pops.values()) == 3_615_920
    hamilton = apportion(pops, 120, "hamilton")
    jefferson = apportion(pops, 105, "jefferson")
    for r in rows:
        assert f"{float(hamilton.quota[r['state']]):.3f}" == r["quota_120_published"]
        assert hamilton.seats[r["state"]] == int(r["hamilton_120_vetoed_bill"])
        assert jefferson.seats[r["state"]] == int(r["jefferson_105_act_of_1792"])
    # The act's ratio, one member per 33,000 persons, is a Jefferson divisor for 105 seats.
    assert {n: p // 33_000 for n, p in pops.items()} == dict(jefferson.seats)
    hamilton_105 = apportion(pops, 105, "hamilton")
    assert {
        n: hamilton_105.seats[n] - jefferson.seats[n]
        for n in pops
        if hamilton_105.seats[n] != jefferson.seats[n]
    } == {"Delaware": 1, "Virginia": -1}
    jefferson_120 = apportion(pops, 120, "jefferson")
    assert jefferson_120.quota_violations == ["Virginia"] and jefferson_120.seats["Virginia"] == 22


def test_webster_reproduces_the_2009_bundestag_upper_apportionment():
    rows = read("bundestag-2009.csv")
    a = apportion({r["party"]: int(r["second_votes"]) for r in rows}, 598, "sainte-lague")
    assert {r["party"]: int(r["seats_before_overhang"]) for r in rows} == dict(a.seats)


# --- ties ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", list(METHODS))
def test_an_exact_tie_for_the_last_seat_is_an_error_naming_both(method):
    with pytest.raises(InputError) as err:
        apportion({"Erbil": 5, "Duhok": 5}, 3, method)
    assert err.value.codes == ["E-TIE"]
    assert "'Duhok'" in str(err.value) and "'Erbil'" in str(err.value)
    assert err.value.exit_code == 2
    even = apportion({"Erbil": 5, "Duhok": 5}, 4, method)
    assert even.seats == {"Duhok": 2, "Erbil": 2} and even.ties == []


def test_tie_rules_are_applied_and_reported():
    # Jefferson: B's 4 takes the first seat; then A's 2/1 and B's 4/2 tie for the second.
    pops = {"A": 2, "B": 4}
    with pytest.raises(InputError, match="E-TIE"):
        apportion(pops, 2, "jefferson")
    larger = apportion(pops, 2, "jefferson", tie_rule="larger-population")
    assert larger.seats == {"A": 0, "B": 2} and larger.ties == ["A", "B"]
    assert larger.tied_seats == 1
    alpha = apportion(pops, 2, "jefferson", tie_rule="alphabetical")
    assert alpha.seats == {"A": 1, "B": 1} and alpha.ties == ["A", "B"]


def test_hamilton_three_way_tie_on_remainders():
    with pytest.raises(InputError) as err:
        apportion({"A": 1, "B": 1, "C": 1}, 2, "hamilton")
    assert err.value.codes == ["E-TIE"] and "2 seat(s)" in str(err.value)
    a = apportion({"A": 1, "B": 1, "C": 1}, 2, "hamilton", tie_rule="alphabetical")
    assert a.seats == {"A": 1, "B": 1, "C": 0} and a.ties == ["A", "B", "C"]


def test_near_ties_are_not_ties():
    # Huntington-Hill compares 121/20 with 36/6 exactly; floats would too here, but a difference of
    # one person in 10^12 is still not a tie.
    big = 10**12
    a = apportion({"A": big + 1, "B": big}, 3, "webster")
    assert a.seats == {"A": 2, "B": 1} and a.ties == []


# --- bounds and errors ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", list(METHODS))
def test_min_and_max_seats_hold(method):
    pops = {"A": 1000, "B": 300, "C": 10, "D": 5}
    a = apportion(pops, 20, method, min_seats=2, max_seats=8)
    assert a.seats == {"A": 8, "B": 8, "C": 2, "D": 2}


def test_hamilton_with_a_minimum_shares_the_rest_by_bounded_quota():
    # C and D are held at 2; A and B share 16 seats as 1000 : 300 -> 12.31 and 3.69 -> 12, 4.
    a = apportion({"A": 1000, "B": 300, "C": 10, "D": 5}, 20, "hamilton", min_seats=2)
    assert a.seats == {"A": 12, "B": 4, "C": 2, "D": 2}


def test_every_bad_option_is_reported_at_once():
    with pytest.raises(InputError) as err:
        apportion({"A": 0, "B": -3, "C": float("nan")}, 0, "borda", min_seats=-1, tie_rule="coin")
    assert sorted(err.value.codes) == sorted(
        [
            "E-UNKNOWN-METHOD",
            "E-RANGE",
            "E-RANGE",
            "E-UNKNOWN-TIE-RULE",
            "E-ZERO-POPULATION",
            "E-ZERO-POPULATION",
            "E-NOT-A-NUMBER",
        ]
    )


@pytest.mark.parametrize(
    ("pops", "seats", "method", "kwargs", "option"),
    [
        ({"A": 1, "B": 2}, 3, "webster", {"min_seats": 2}, "seats"),
        ({"A": 1, "B": 2}, 5, "webster", {"max_seats": 2}, "max_seats"),
        ({"A": 1, "B": 2, "C": 3}, 2, "huntington-hill", {}, "seats"),
        ({"A": 1, "B": 2, "C": 3}, 2, "adams", {}, "seats"),
    ],
)
def test_impossible_house_sizes(pops, seats, method, kwargs, option):
    with pytest.raises(InputError) as err:
        apportion(pops, seats, method, **kwargs)
    assert err.value.codes == ["E-SEATS"] and err.value.problems[0].file == option


def test_other_input_errors():
    with pytest.raises(InputError, match="E-EMPTY"):
        apportion({}, 3, "webster")
    with pytest.raises(InputError, match="E-RANGE"):
        apportion({"A": 1}, 3, "webster", min_seats=2, max_seats=1)
    with pytest.raises(InputError, match="E-NOT-A-NUMBER"):
        apportion({"A": "many"}, 3, "webster")
    with pytest.raises(InputError, match="E-RANGE"):
        apportion({"A": 1}, True, "webster")


def test_populations_are_exact():
    assert convention.exact(0.1) == Fraction(1, 10)
    assert convention.exact(np.float64(3.5)) == Fraction(7, 2)
    assert convention.exact(np.int64(7)) == 7
    a = apportion({"A": Fraction(1, 3), "B": Fraction(2, 3)}, 3, "hamilton")
    assert a.seats == {"A": 1, "B": 2} and a.quota == {"A": 1, "B": 2}


# --- territories ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def iraq() -> revshare.Territory:
    return revshare.load_dataset(ROOT / "data" / "iraq")


@pytest.mark.parametrize("by", ["region", "bloc", "faction"])
def test_apportion_a_territory(iraq, by):
    a = apportion_territory(iraq, 100, "huntington-hill", by=by)
    assert sum(a.seats.values()) == 100 and a.unit == by
    assert sum(a.populations.values()) == int(iraq.cells["population"].sum())
    expected = {"region": iraq.regions.index, "bloc": iraq.blocs, "faction": iraq.factions}[by]
    assert sorted(a.seats) == sorted(map(str, expected))


def test_territory_blocs_sum_their_cells(iraq):
    pops = territory_populations(iraq, "bloc")
    assert pops["Kurdistan Region"] == int(
        iraq.regions.loc[["Duhok", "Erbil", "Sulaymaniyah"], "population"].sum()
    )
    with pytest.raises(InputError, match="E-OPTION"):
        territory_populations(iraq, "district")


def test_fractional_cell_populations_stay_exact():
    t = revshare.territory_from_frames(
        pd.DataFrame({"field": ["F"], "region": ["R1"], "annual_revenue_usd": [1.0]}),
        pd.DataFrame({"region": ["R1", "R2"], "faction": ["x", "x"], "population": [0.5, 1.25]}),
    )
    assert territory_populations(t) == {"R1": Fraction(1, 2), "R2": Fraction(5, 4)}


def test_docstring_examples_run(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = doctest.testmod(convention)
    assert result.attempted >= 2 and result.failed == 0


# --- reports -------------------------------------------------------------------------------------


def test_reports_are_safe_and_complete(tmp_path):
    a = apportion({"=HYPERLINK(1)": 10, "x|y": 7, "<b>Kirkuk</b>": 4}, 9, "huntington-hill")
    rows = list(csv.reader(apportionment_csv(a).decode("utf-8-sig").splitlines()))
    assert rows[0][:2] == ["locality", "population"]
    assert "'=HYPERLINK(1)" in [r[0] for r in rows] and sum(int(r[6]) for r in rows[1:]) == 9
    doc = json.loads(apportionment_json(a))
    assert doc["house_size"] == 9 and doc["method"] == "huntington-hill"
    assert {x["name"]: x["seats"] for x in doc["localities"]} == dict(a.seats)
    assert all("/" in x["quota"] for x in doc["localities"])
    md = apportionment_md(a)
    assert "<b>" not in md and "x\\|y" in md
    assert "huntington-hill" in apportionment_text(a)
    out = write_apportionment(a, tmp_path / "conv")
    assert sorted(p.name for p in out.iterdir()) == [
        "apportionment.csv",
        "manifest.json",
        "report.html",
        "report.md",
        "report.xlsx",
        "summary.json",
    ]
    before = (out / "report.md").read_bytes()
    with pytest.raises(InputError, match="E-OUTPUT-EXISTS"):
        write_apportionment(apportion({"A": 1}, 1, "webster"), out)
    assert (out / "report.md").read_bytes() == before


def test_report_names_the_tie():
    a = apportion({"A": 5, "B": 5}, 3, "webster", tie_rule="alphabetical")
    assert json.loads(apportionment_json(a))["ties"] == {"localities": ["A", "B"], "seats": 1}
    assert "tied exactly" in apportionment_md(a)


# --- properties ----------------------------------------------------------------------------------

names = st.text(alphabet="ABCDEFGHIJ", min_size=1, max_size=2)
# Small populations make exact ties common; large ones make near ties.
populations = st.dictionaries(
    names, st.integers(1, 12) | st.integers(1, 10**6), min_size=1, max_size=7
)


@st.composite
def problems(draw, methods=tuple(METHODS)):
    pops = draw(populations)
    n = len(pops)
    method = draw(st.sampled_from(methods))
    seats = draw(st.integers(n if METHODS[method].first_seat_free else 1, 60))
    lo = draw(st.integers(0, seats // n))
    hi = draw(st.none() | st.integers(max(lo, 1, -(-seats // n)), seats))
    return pops, seats, method, lo, hi


def _priority(method: str, p: Fraction, s: int) -> Fraction:
    """``p / d(s)`` (squared for Huntington-Hill), written out independently of the library."""
    if method == "huntington-hill":
        return p * p / (s * (s + 1))
    d = {
        "jefferson": Fraction(s + 1),
        "webster": Fraction(2 * s + 1, 2),
        "adams": Fraction(s),
        "dean": Fraction(2 * s * (s + 1), 2 * s + 1),
    }[method]
    return p / d


@given(problems())
def test_seat_totals_and_bounds_always_hold(case):
    pops, seats, method, lo, hi = case
    a = apportion(pops, seats, method, min_seats=lo, max_seats=hi, tie_rule="alphabetical")
    assert sum(a.seats.values()) == seats
    assert all(s >= lo and (hi is None or s <= hi) for s in a.seats.values())
    assert 0 <= a.loosemore_hanby <= 1 and 0 <= a.gallagher <= 1


@given(problems(methods=tuple(DIVISOR)))
def test_divisor_methods_satisfy_the_min_max_inequality_and_ties_are_exact(case):
    """Balinski and Young's characterisation: every seat held outranks every seat not given,
    ``min_i p_i/d(s_i - 1) >= max_j p_j/d(s_j)``; equality is exactly a tie for a seat."""
    pops, seats, method, lo, hi = case
    a = apportion(pops, seats, method, min_seats=lo, max_seats=hi, tie_rule="alphabetical")
    p = a.populations
    floor = max(lo, 1) if METHODS[method].first_seat_free else lo
    held = [_priority(method, p[n], s - 1) for n, s in a.seats.items() if s > floor]
    not_given = [_priority(method, p[n], s) for n, s in a.seats.items() if hi is None or s < hi]
    if held and not_given:
        assert min(held) >= max(not_given)
        assert (min(held) == max(not_given)) == bool(a.ties)
    else:
        assert a.ties == []


@given(problems(methods=tuple(DIVISOR)))
def test_house_monotonicity_of_divisor_methods(case):
    pops, seats, method, lo, hi = case
    assume(hi is None or hi * len(pops) > seats)
    small = apportion(pops, seats, method, min_seats=lo, max_seats=hi, tie_rule="alphabetical")
    large = apportion(pops, seats + 1, method, min_seats=lo, max_seats=hi, tie_rule="alphabetical")
    assert all(large.seats[n] >= small.seats[n] for n in small.seats)


@given(problems(methods=("hamilton",)))
def test_hamilton_rounds_the_bounded_quotas(case):
    """The bounded quotas sum to N, respect the bounds, and give every unbounded locality the same
    quota per person; Hamilton's seats are each within one of them."""
    pops, seats, _, lo, hi = case
    p = {n: Fraction(v) for n, v in pops.items()}
    q = convention._bounded_quotas(p, seats, lo, hi)
    assert sum(q.values()) == seats
    assert all(lo <= v and (hi is None or v <= hi) for v in q.values())
    assert len({q[n] / p[n] for n in p if lo < q[n] and (hi is None or q[n] < hi)}) <= 1
    a = apportion(pops, seats, "hamilton", min_seats=lo, max_seats=hi, tie_rule="alphabetical")
    assert all(math.floor(q[n]) <= s <= math.ceil(q[n]) for n, s in a.seats.items())


@given(populations, st.integers(1, 60))
def test_quota_properties(pops, seats):
    def within(a, lower=True, upper=True):
        return all(
            (not lower or s >= math.floor(a.quota[n])) and (not upper or s <= math.ceil(a.quota[n]))
            for n, s in a.seats.items()
        )

    assert within(apportion(pops, seats, "hamilton", tie_rule="alphabetical"))
    assert within(apportion(pops, seats, "jefferson", tie_rule="alphabetical"), upper=False)
    assume(seats >= len(pops))
    assert within(apportion(pops, seats, "adams", tie_rule="alphabetical"), lower=False)


@given(populations, st.integers(1, 10**6), st.integers(2, 60), st.sampled_from(list(METHODS)))
def test_exact_ties_between_twins_are_detected(others, twin, seats, method):
    pops = {f"x{k}": v for k, v in others.items()} | {"twinA": twin, "twinB": twin}
    assume(seats >= len(pops) or not METHODS[method].first_seat_free)
    a = apportion(pops, seats, method, tie_rule="alphabetical")
    if a.seats["twinA"] != a.seats["twinB"]:
        assert a.seats["twinA"] == a.seats["twinB"] + 1
        assert {"twinA", "twinB"} <= set(a.ties)
    try:
        strict = apportion(pops, seats, method)
    except InputError as exc:
        assert exc.codes == ["E-TIE"] and a.ties
    else:
        assert not a.ties and strict.seats == a.seats


@given(populations, st.integers(1, 60), st.sampled_from(list(METHODS)), st.integers(2, 50))
def test_order_and_scale_do_not_matter(pops, seats, method, k):
    assume(seats >= len(pops) or not METHODS[method].first_seat_free)
    a = apportion(pops, seats, method, tie_rule="alphabetical")
    reordered = apportion(
        dict(reversed(list(pops.items()))), seats, method, tie_rule="alphabetical"
    )
    scaled = apportion({n: k * p for n, p in pops.items()}, seats, method, tie_rule="alphabetical")
    assert a.seats == reordered.seats == scaled.seats and a.ties == scaled.ties
