"""Apportioning a constitutional convention's seats to localities, in exact arithmetic.

Every method works on integers and :class:`fractions.Fraction`; no priority, quota or remainder
is ever a float, so two localities tie exactly when the arithmetic says so. A tie that decides a
seat is never broken silently: by default it is an error naming the tied localities, and the
documented tie rules record the tie in the result.

References: M. L. Balinski and H. P. Young, *Fair Representation*, 2nd ed., Brookings, 2001 (the
methods, house monotonicity, the quota property); M. Gallagher, *Electoral Studies* 10(1), 1991,
33-51 (least squares index); J. Loosemore and V. J. Hanby, *Br. J. Pol. Sci.* 1(4), 1971, 467-477.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from numbers import Rational
from typing import TYPE_CHECKING

import pandas as pd

from ..data.dataset import require_territory
from ..errors import InputError, Problem, wrong_type

if TYPE_CHECKING:
    from ..data.dataset import Territory


MAX_SEATS = 100_000
"""The largest house apportioned: far above any convention or parliament (China's National
People's Congress has about 3,000 seats); a larger number would only take long to refuse later."""


@dataclass(frozen=True)
class Method:
    """An apportionment method: a largest-remainder rule, or a divisor method given by a priority.

    ``priority(p, s)`` is an increasing function of ``p / d(s)`` (the divisor method's rank index
    for a locality of population ``p`` holding ``s`` seats), computed exactly. Methods with
    ``d(0) = 0`` (``first_seat_free``) give every locality a seat before any gets a second.
    """

    name: str
    description: str
    citation: str
    priority: Callable[[Fraction, int], Fraction] | None = None
    first_seat_free: bool = False


BY_ = "Balinski and Young (2001)"
METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method(
            "hamilton",
            "largest remainder: lower quotas, then the largest remainders",
            f"A. Hamilton, the vetoed bill of 5 April 1792; Hare-Niemeyer; {BY_}",
        ),
        Method(
            "jefferson",
            "divisor method rounding down, d(s) = s + 1 (D'Hondt)",
            f"T. Jefferson, Apportionment Act of 1792 (1 Stat. 253); V. D'Hondt, 1878; {BY_}",
            lambda p, s: p / (s + 1),
        ),
        Method(
            "webster",
            "divisor method rounding at one half, d(s) = s + 1/2 (Sainte-Lague)",
            "D. Webster, 1832 (US House after the 1840, 1910 and 1930 censuses); A. Sainte-Lague, "
            f"1910; {BY_}",
            lambda p, s: 2 * p / (2 * s + 1),
        ),
        Method(
            "huntington-hill",
            "divisor method at the geometric mean, d(s) = sqrt(s(s + 1)); "
            "priorities compared squared, p^2 / (s(s + 1)), so exactly",
            "E. V. Huntington, Trans. AMS 30 (1928) 85-110; the US House's 'method of equal "
            "proportions' since 1941 (2 U.S.C. 2a)",
            lambda p, s: p * p / (s * (s + 1)),
            first_seat_free=True,
        ),
        Method(
            "adams",
            "divisor method rounding up, d(s) = s",
            f"J. Q. Adams, 1832; {BY_}",
            lambda p, s: p / s,
            first_seat_free=True,
        ),
        Method(
            "dean",
            "divisor method at the harmonic mean, d(s) = 2s(s + 1) / (2s + 1)",
            f"J. Dean, 1832; {BY_}",
            lambda p, s: p * (2 * s + 1) / (2 * s * (s + 1)),
            first_seat_free=True,
        ),
    )
}
ALIASES = {
    "dhondt": "jefferson",
    "d'hondt": "jefferson",
    "sainte-lague": "webster",
    "largest-remainder": "hamilton",
    "hare-niemeyer": "hamilton",
    "hill": "huntington-hill",
}

TIE_RULES: dict[str, str] = {
    "error": "an exact tie for the last seat(s) is an error (E-TIE) naming the tied localities",
    "larger-population": "tied seats go to the larger populations; equal populations then go in "
    "alphabetical (Unicode code point) order",
    "alphabetical": "tied seats go in alphabetical (Unicode code point) order of the names: "
    "arbitrary but reproducible, like a published lot",
}
BY = ("region", "bloc", "faction")


@dataclass(frozen=True)
class Apportionment:
    """Seats for each locality, with the exact quotas and two disproportionality indices.

    Attributes
    ----------
    seats : seats per locality, keys sorted.
    quota : the exact standard quota ``N * p / P`` of each locality.
    populations : the exact populations used.
    ties : the localities that tied exactly for the last ``tied_seats`` seat(s), sorted; empty when
        no tie decided a seat. Only a ``tie_rule`` other than ``"error"`` lets a tie through.
    loosemore_hanby : half the L1 distance between seat and population shares (0 to 1).
    gallagher : the least-squares index ``sqrt(sum((s - v)^2) / 2)`` on shares (0 to 1; multiply by
        100 for percentage points), both computed from exact fractions.
    """

    method: str
    house_size: int
    seats: Mapping[str, int]
    quota: Mapping[str, Fraction]
    populations: Mapping[str, Fraction]
    min_seats: int
    max_seats: int | None
    tie_rule: str
    ties: list[str]
    tied_seats: int
    loosemore_hanby: float
    gallagher: float
    unit: str = "locality"

    @property
    def citation(self) -> str:
        return METHODS[self.method].citation

    @property
    def quota_violations(self) -> list[str]:
        """Localities whose seats fall outside ``[floor(quota), ceil(quota)]``."""
        return [
            n
            for n, s in self.seats.items()
            if not math.floor(self.quota[n]) <= s <= math.ceil(self.quota[n])
        ]

    def table(self) -> pd.DataFrame:
        """One row per locality: population, quota (float), lower and upper quota, seats, shares."""
        total = sum(self.populations.values())
        rows = [
            {
                self.unit: n,
                "population": float(p),
                "quota": float(self.quota[n]),
                "lower_quota": math.floor(self.quota[n]),
                "upper_quota": math.ceil(self.quota[n]),
                "seats": self.seats[n],
                "seat_share": self.seats[n] / self.house_size,
                "population_share": float(p / total),
            }
            for n, p in self.populations.items()
        ]
        return pd.DataFrame(rows)


def exact(value: object) -> Fraction:
    """An exact population: integers and fractions as they are, a ``Decimal`` exactly, a float as
    the shortest decimal that prints as it (``0.1`` is ``1/10``, not the binary double)."""
    if isinstance(value, bool):
        raise TypeError("a population cannot be a bool")
    if isinstance(value, Rational | Decimal):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} is not finite")
        return Fraction(repr(float(value)))
    if hasattr(value, "item"):
        return exact(value.item())
    raise TypeError(f"{value!r} is not a number")


def _problem(option: str, code: str, message: str, remedy: str) -> Problem:
    return Problem(option, None, None, code, message, remedy)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check(
    populations: Mapping[str, object],
    seats: int,
    method: str,
    min_seats: int,
    max_seats: int | None,
    tie_rule: str,
) -> tuple[str, dict[str, Fraction]]:
    """The canonical method name and exact populations, or every problem at once."""
    problems: list[Problem] = []
    name = ALIASES.get(str(method).lower(), str(method).lower())
    if name not in METHODS:
        problems.append(
            _problem(
                "method",
                "E-UNKNOWN-METHOD",
                f"unknown method {method!r}",
                f"use one of {', '.join(METHODS)}",
            )
        )
    if not _is_int(seats) or not 1 <= seats <= MAX_SEATS:
        problems.append(
            _problem(
                "seats",
                "E-RANGE",
                f"seats must be a whole number from 1 to {MAX_SEATS:,}, got {seats!r}",
                "pass the size of the convention",
            )
        )
    if not _is_int(min_seats) or not 0 <= min_seats <= MAX_SEATS:
        problems.append(
            _problem(
                "min_seats",
                "E-RANGE",
                f"min_seats must be a whole number from 0 to {MAX_SEATS:,}, got {min_seats!r}",
                "pass 0 or more",
            )
        )
    if max_seats is not None and (
        not _is_int(max_seats) or max_seats < 1 or (_is_int(min_seats) and max_seats < min_seats)
    ):
        problems.append(
            _problem(
                "max_seats",
                "E-RANGE",
                f"max_seats must be a whole number >= 1 "
                f"and >= min_seats ({min_seats!r}), got {max_seats!r}",
                "raise `max_seats` or lower `min_seats`",
            )
        )
    if tie_rule not in TIE_RULES:
        problems.append(
            _problem(
                "tie_rule",
                "E-UNKNOWN-TIE-RULE",
                f"unknown tie rule {tie_rule!r}",
                f"use one of {', '.join(TIE_RULES)}",
            )
        )
    if not populations:
        problems.append(
            Problem(
                "population",
                None,
                None,
                "E-EMPTY",
                "no localities to apportion",
                "give at least one locality with a population",
            )
        )
    pops: dict[str, Fraction] = {}
    for key, value in populations.items():
        try:
            p = exact(value)
        except (TypeError, ValueError) as exc:
            problems.append(
                Problem(
                    "population",
                    None,
                    str(key),
                    "E-NOT-A-NUMBER",
                    f"population of {key!r} is not a finite number: {exc}",
                    "give a whole number of people",
                )
            )
            continue
        if p <= 0:
            problems.append(
                Problem(
                    "population",
                    None,
                    str(key),
                    "E-ZERO-POPULATION",
                    f"population of {key!r} must be > 0, got {value!r}",
                    "drop the locality or correct its population",
                )
            )
        if str(key) in pops:
            problems.append(
                Problem(
                    "population",
                    None,
                    str(key),
                    "E-DUPLICATE",
                    f"{key!r} is named twice",
                    "give each locality one name",
                )
            )
        pops[str(key)] = p
    if problems:
        raise InputError(problems)
    n = len(pops)
    if min_seats * n > seats:
        problems.append(
            _problem(
                "seats",
                "E-SEATS",
                f"{seats} seats cannot give each of {n} localities {min_seats}",
                f"pass `seats={min_seats * n}` or more or lower `min_seats`",
            )
        )
    if max_seats is not None and max_seats * n < seats:
        problems.append(
            _problem(
                "max_seats",
                "E-SEATS",
                f"{n} localities of at most {max_seats} seats cannot fill {seats}",
                f"raise `max_seats` to {-(-seats // n)} or lower `seats`",
            )
        )
    if METHODS[name].first_seat_free and seats < n:
        problems.append(
            _problem(
                "seats",
                "E-SEATS",
                f"{name} gives every locality a first seat "
                f"before any gets a second (d(0) = 0), so {seats} seats cannot "
                f"serve {n} localities",
                f"pass `seats={n}` or more or choose hamilton, jefferson or webster",
            )
        )
    if problems:
        raise InputError(problems)
    return name, dict(sorted(pops.items()))


def _settle(
    tied: list[str], free: int, tie_rule: str, pops: Mapping[str, Fraction], what: str
) -> list[str]:
    """The ``free`` winners among ``tied`` under ``tie_rule``; raise E-TIE under ``"error"``."""
    if tie_rule == "error":
        raise InputError(
            _problem(
                "tie_rule",
                "E-TIE",
                f"{free} seat(s) tied exactly between {', '.join(repr(t) for t in sorted(tied))} "
                f"({what})",
                "pass `tie_rule='larger-population'` or `tie_rule='alphabetical'`, or change `seats`",
            )
        )
    if tie_rule == "larger-population":
        return sorted(tied, key=lambda n: (-pops[n], n))[:free]
    return sorted(tied)[:free]


def _bounded_quotas(
    pops: Mapping[str, Fraction], seats: int, lo: int, hi: int | None
) -> dict[str, Fraction]:
    """``clamp(p * t, lo, hi)`` with ``t`` chosen so that they sum to ``seats``, exactly.

    Without binding bounds ``t = seats / P`` and these are the standard quotas; otherwise the
    bounded localities keep their bound and the rest share the remaining seats in proportion
    (water-filling). The sum ``f(t)`` is piecewise linear and non-decreasing, with breakpoints at
    ``lo / p`` and ``hi / p``; ``t`` is solved for on the first segment where ``f`` reaches
    ``seats``.
    """

    def clamp(p: Fraction, t: Fraction) -> Fraction:
        q = max(Fraction(lo), p * t)
        return q if hi is None else min(Fraction(hi), q)

    def f(t: Fraction) -> Fraction:
        return sum((clamp(p, t) for p in pops.values()), Fraction(0))

    bounds = [lo] if hi is None else [lo, hi]
    breaks = sorted({Fraction(b) / p for b in bounds for p in pops.values()} - {Fraction(0)})
    a = Fraction(0)
    for b in [*breaks, None]:
        if b is None or f(b) >= seats:
            if f(a) >= seats:
                return {n: clamp(p, a) for n, p in pops.items()}
            probe = a + 1 if b is None else (a + b) / 2
            slope = sum(
                p for p in pops.values() if lo < p * probe and (hi is None or p * probe < hi)
            )
            t = a + (seats - f(a)) / slope
            return {n: clamp(p, t) for n, p in pops.items()}
        a = b
    raise AssertionError("unreachable: the bounds were checked to admit the house size")


def _hamilton(
    pops: Mapping[str, Fraction], seats: int, lo: int, hi: int | None, tie_rule: str
) -> tuple[dict[str, int], list[str], int]:
    """Lower (bounded) quotas, then one seat each to the largest remainders."""
    q = _bounded_quotas(pops, seats, lo, hi)
    out = {n: math.floor(v) for n, v in q.items()}
    free = seats - sum(out.values())
    if free == 0:
        return out, [], 0
    rem = {n: v - out[n] for n, v in q.items()}
    cutoff = sorted(rem.values(), reverse=True)[free - 1]
    for n in (n for n, r in rem.items() if r > cutoff):
        out[n] += 1
    free = seats - sum(out.values())
    tied = [n for n, r in rem.items() if r == cutoff]
    if len(tied) <= free:
        for n in tied:
            out[n] += 1
        return out, [], 0
    for n in _settle(tied, free, tie_rule, pops, f"equal remainders {cutoff}"):
        out[n] += 1
    return out, sorted(tied), free


def _divisor(
    pops: Mapping[str, Fraction], seats: int, method: Method, lo: int, hi: int | None, tie_rule: str
) -> tuple[dict[str, int], list[str], int]:
    """Highest averages: start from the minimum, then give each seat to the highest priority.

    This sequential form is the divisor method with bounds (Balinski and Young 2001).
    When the highest priority is shared by no more localities than there are seats left, each gets
    one and the order does not matter; otherwise the tie decides the last seats. A heap keeps each
    seat at O(log n) exact comparisons.
    """
    assert method.priority is not None
    rank = method.priority
    out = {n: max(lo, 1) if method.first_seat_free else lo for n in pops}
    heap = [(-rank(p, out[n]), n) for n, p in pops.items() if hi is None or out[n] < hi]
    heapq.heapify(heap)
    free = seats - sum(out.values())
    while free > 0:
        best, first = heapq.heappop(heap)
        tied = [first]
        while heap and heap[0][0] == best:
            tied.append(heapq.heappop(heap)[1])
        if len(tied) > free:
            for n in _settle(tied, free, tie_rule, pops, f"equal {method.name} priorities"):
                out[n] += 1
            return out, sorted(tied), free
        for n in tied:
            out[n] += 1
            if hi is None or out[n] < hi:
                heapq.heappush(heap, (-rank(pops[n], out[n]), n))
        free -= len(tied)
    return out, [], 0


def apportion(
    populations: Mapping[str, int | Fraction],
    seats: int,
    method: str,
    *,
    min_seats: int = 0,
    max_seats: int | None = None,
    tie_rule: str = "error",
    unit: str = "locality",
) -> Apportionment:
    """Apportion ``seats`` among localities in proportion to ``populations``, exactly.

    Parameters
    ----------
    populations : locality name to population (int or Fraction; a float is read as its shortest
        decimal, see :func:`exact`). Every population must be > 0.
    seats : the house size N >= 1.
    method : ``hamilton``, ``jefferson``, ``webster``, ``huntington-hill``, ``adams`` or ``dean``
        (aliases ``dhondt``, ``sainte-lague``, ``largest-remainder``); see :data:`METHODS`, each
        with its source.
    min_seats, max_seats : bounds for every locality. Divisor methods apply them in the sequential
        (highest averages) form; Hamilton rounds the bounded quotas of :func:`_bounded_quotas`.
    tie_rule : ``error`` (default), ``larger-population`` or ``alphabetical`` (:data:`TIE_RULES`).

    Raises
    ------
    InputError
        E-UNKNOWN-METHOD, E-RANGE, E-UNKNOWN-TIE-RULE, E-EMPTY, E-NOT-A-NUMBER,
        E-ZERO-POPULATION, E-SEATS (impossible bounds), or E-TIE when a tie decides a seat under
        ``tie_rule="error"``.

    Examples
    --------
    The Alabama paradox (Hamilton): a larger house costs C a seat.

    >>> pops = {"A": 6, "B": 6, "C": 2}
    >>> apportion(pops, 10, "hamilton").seats["C"], apportion(pops, 11, "hamilton").seats["C"]
    (2, 1)
    """
    if not isinstance(populations, Mapping):
        raise wrong_type(
            "populations", "a mapping of names to populations", populations, "pass e.g. {'A': 120}"
        )
    name, pops = _check(populations, seats, method, min_seats, max_seats, tie_rule)
    m = METHODS[name]
    if m.priority is None:
        out, ties, tied_seats = _hamilton(pops, seats, min_seats, max_seats, tie_rule)
    else:
        out, ties, tied_seats = _divisor(pops, seats, m, min_seats, max_seats, tie_rule)
    total = sum(pops.values())
    quota = {n: seats * p / total for n, p in pops.items()}
    gaps = [Fraction(out[n], seats) - p / total for n, p in pops.items()]
    return Apportionment(
        method=name,
        house_size=seats,
        seats=out,
        quota=quota,
        populations=pops,
        min_seats=min_seats,
        max_seats=max_seats,
        tie_rule=tie_rule,
        ties=ties,
        tied_seats=tied_seats,
        loosemore_hanby=float(sum(abs(g) for g in gaps) / 2),
        gallagher=math.sqrt(sum(g * g for g in gaps) / 2),
        unit=unit,
    )


def territory_populations(territory: Territory, by: str = "region") -> dict[str, Fraction]:
    """Exact populations of a territory's regions, blocs or factions, summed from its cells."""
    if by not in BY:
        raise InputError(
            _problem("by", "E-OPTION", f"cannot apportion by {by!r}", f"use one of {', '.join(BY)}")
        )
    cells = territory.cells
    keys = cells["region"].map(territory.regions["bloc"]) if by == "bloc" else cells[by]
    out: dict[str, Fraction] = {}
    for key, p in zip(keys, cells["population"], strict=True):
        out[str(key)] = out.get(str(key), Fraction(0)) + exact(float(p))
    return out


def apportion_territory(
    territory: Territory,
    seats: int,
    method: str,
    *,
    by: str = "region",
    min_seats: int = 0,
    max_seats: int | None = None,
    tie_rule: str = "error",
) -> Apportionment:
    """Apportion a convention over a territory's regions, blocs or factions (``by``).

    Populations are the sums of the territory's cells, exactly (see :func:`territory_populations`);
    the other parameters are those of :func:`apportion`.

    Examples
    --------
    >>> import revshare
    >>> t = revshare.load_dataset("data/iraq")
    >>> a = apportion_territory(t, 100, "huntington-hill", by="bloc")
    >>> sum(a.seats.values())
    100
    """
    require_territory(territory)
    return apportion(
        territory_populations(territory, by),
        seats,
        method,
        min_seats=min_seats,
        max_seats=max_seats,
        tie_rule=tie_rule,
        unit=by,
    )
