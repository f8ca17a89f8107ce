"""Structures: named sets of sharing rules (docs/concepts.md#the-deal), the presets, and TOML loading.

A :class:`Structure` is a frozen bag of parameters. :mod:`revshare.model.lp` turns each parameter into
named linear constraints. Built-in presets live in :data:`PRESETS`; a dataset adds its own in
``structures.toml``; a user can write one in a TOML file of the same form.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError, Problem, wrong_type
from .deals import Deal, parse_deal
from .schema import CellError, clean_cell, parse_name

OBJECTIVES = ("proportional", "needs", "formula", "maxmin", "leximin", "centre-residual", "nash")
FORMULA_INDICATORS = ("equality", "population", "area", "need")
OVERRIDDEN = "overrides"
"""Where a parameter set by an override came from (:meth:`Structure.origin`): the ``overrides``
parameter, which the command line shows as the option that passed it."""


@dataclass(frozen=True)
class DefaultTable(Mapping[str, float]):
    """A table of name = fraction whose unnamed entries are ``default``.

    It is what a dotted override (``bloc_retention.Kurdistan Region=0.9``) makes of a parameter
    given as one number for every bloc (``bloc_retention = 0.8``): the named entry changes and every
    other bloc keeps the old number. Iterating yields the named entries only.
    """

    entries: Mapping[str, float]
    default: float = 0.0

    def __getitem__(self, key: str) -> float:
        return self.entries[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)


@dataclass(frozen=True)
class Structure:
    """A way of governing the country, as rules on who gets the oil money.

    Every fraction is of total annual revenue ``V`` (``central_share``, ``derivation``,
    ``bloc_retention``), of distributable revenue ``D = V - g`` (``bloc_share``, ``faction_share``,
    the per-head floor and cap), or of the sharing pool after derivation (``damage_allotment``).
    See docs/concepts.md#the-deal for the constraint each parameter adds.

    Ranges (every number finite; ``true``/``false`` is not a number; anything else is an
    :class:`~revshare.errors.InputError` naming the parameter):

    - ``central_share``: a fraction in [0, 1], or a pair ``[lo, hi]`` of them with ``lo <= hi``;
    - ``derivation``, ``damage_allotment``, ``secession_cost``: fractions in [0, 1];
    - ``secession_fixed_cost_usd``: USD a year that any new state pays to exist, 0 to 1e15;
    - ``coalition_proof``: no coalition of blocs would rather leave together (the core), for
      datasets of at most :data:`MAX_COALITION_BLOCS` blocs;
    - ``bloc_retention``: a fraction in [0, 1] for every bloc, or a table ``{bloc = fraction}``
      (unnamed blocs keep 0, or the :class:`DefaultTable` default);
    - ``bloc_share``, ``faction_share``: tables of fractions in [0, 1] summing to at most 1;
    - ``per_capita_floor``: in [0, 1] times the mean per head, at most ``per_capita_cap``;
    - ``per_capita_cap``: in [1, 1e6] times the mean per head;
    - ``formula_weights``: a non-empty table over :data:`FORMULA_INDICATORS` of weights in
      [0, 1e6] with a positive sum (they are renormalised, so 40/30/10/20 and 0.4/0.3/0.1/0.2 agree);
    - ``damage_allotment`` > 0 needs a region with ``damage`` > 0
      (:func:`revshare.model.lp.check_applicable`).

    Names (the structure's and every table key) and texts (``description``, ``citation``)
    follow the rules of names in the CSV files: no control, bidi or invisible characters.
    """

    name: str
    description: str = ""
    citation: str = ""
    central_share: tuple[float, float] = (0.0, 0.0)
    derivation: float = 0.0
    bloc_retention: float | Mapping[str, float] = 0.0
    bloc_share: Mapping[str, float] = field(default_factory=dict)
    faction_share: Mapping[str, float] = field(default_factory=dict)
    per_capita_floor: float | None = None
    per_capita_cap: float | None = None
    damage_allotment: float = 0.0
    within_region: str = "equal"
    secession_proof: bool = False
    secession_cost: float = 0.0
    secession_fixed_cost_usd: float = 0.0
    coalition_proof: bool = False
    objective: str = "proportional"
    formula_weights: Mapping[str, float] = field(
        default_factory=lambda: {"equality": 0.4, "population": 0.3, "area": 0.1, "need": 0.2}
    )
    centre: str = "centre"
    entrenched: tuple[str, ...] | None = None
    entrenched_because: str = ""
    deal: Deal = field(default_factory=Deal)
    source: str = "built-in"
    origins: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def origin(self, parameter: str) -> str:
        """Where ``parameter`` was set: a TOML path, :data:`OVERRIDDEN`, or ``preset NAME``."""
        return self.origins.get(
            parameter, f"preset {self.name}" if self.source == "built-in" else self.source
        )

    def is_entrenched(self, rule: str) -> bool:
        """Whether a parameter or a deal rule binds any government, a captured centre included
        (``entrenched``; None: every rule the structure writes), or only describes a fair
        centre's policy. The objective is always policy."""
        return self.entrenched is None or rule in self.entrenched

    def bloc_retention_for(self, bloc: str) -> float:
        """The share of its own revenue that ``bloc`` keeps."""
        retention = self.bloc_retention
        if isinstance(retention, DefaultTable):
            return float(retention.entries.get(bloc, retention.default))
        if isinstance(retention, Mapping):
            return float(retention.get(bloc, 0.0))
        return float(retention)

    def with_overrides(self, overrides: Mapping[str, Any], source: str = OVERRIDDEN) -> Structure:
        """A copy with parameters replaced, validated as a TOML table would be."""
        merged = {**_as_table(self), **overrides}
        return structure_from_table(self.name, merged, source=source)


RESERVED = ("name", "source", "origins", "deal")
"""Fields that revshare sets itself: a table or an override naming one is an error."""
TABLE_PARAMETERS = ("bloc_share", "faction_share", "bloc_retention", "formula_weights")
"""Parameters that are tables, whose entries a dotted override changes one at a time."""
DEAL_KEYS = ("accounts", "pools", "rules")
"""The parts of a deal written as data (:mod:`revshare.data.deals`)."""
PARAMETERS = (
    *(f.name for f in dataclasses.fields(Structure) if f.name not in RESERVED),
    *DEAL_KEYS,
)


def _as_table(s: Structure) -> dict[str, Any]:
    table = {name: getattr(s, name) for name in PARAMETERS if name not in DEAL_KEYS}
    table["central_share"] = list(s.central_share)
    if s.entrenched is None:
        del table["entrenched"]
    if s.deal:
        table.update(accounts=s.deal.accounts, pools=s.deal.pools, rules=s.deal.rules)
    return table


PRESETS: dict[str, Structure] = {
    "unified": Structure(
        name="unified",
        description="The centre collects everything, keeps half and spends the rest by population.",
        citation="Illustrative unitary petro-state; the 50% central slice is a default to override "
        "(central_share=...)",
        central_share=(0.5, 0.5),
        objective="proportional",
        entrenched=(),
        entrenched_because="A unitary state's law guarantees no region or group any share: whoever "
        "holds the centre decides where all of the money goes.",
    ),
    "federation": Structure(
        name="federation",
        description="A quarter to the centre; producing regions keep 5% of their fields' revenue; "
        "the rest shared in proportion to population.",
        citation="Constitution of Iraq (2005), art. 112(1): 'distribute its revenues in a fair "
        "manner in proportion to the population distribution'; the 5% derivation approximates "
        "the USD 5 a barrel 'petrodollar' of Iraq's budget laws at 75-100 USD oil. The damaged-"
        "regions allotment is left to dataset structures (data/iraq: iraq-2005).",
        central_share=(0.25, 0.25),
        derivation=0.05,
        objective="proportional",
        entrenched=("central_share", "derivation"),
        entrenched_because="A federal constitution fixes the centre's slice and the producing "
        "regions' derivation (Iraq 2005, art. 112; Nigeria 1999, s. 162); sharing the rest by "
        "population is the policy of a fair centre.",
    ),
    "confederation": Structure(
        name="confederation",
        description="Blocs keep 80% of what their territory earns; a 5% common pool and a per-head "
        "floor at half the national mean tie them together.",
        citation="Loose-confederation model (cf. the 2007 Iraqi draft revenue law debate and the "
        "Kurdistan Region's claims to its own fields); parameters illustrative.",
        central_share=(0.05, 0.05),
        bloc_retention=0.8,
        per_capita_floor=0.5,
        objective="proportional",
        entrenched=("central_share", "bloc_retention", "per_capita_floor"),
        entrenched_because="A confederal treaty binds the common centre: the blocs' retention, "
        "the small common pool and the floor are its terms.",
    ),
    "partition": Structure(
        name="partition",
        description="Each bloc becomes a state and keeps its own fields' revenue, net of transit "
        "fees paid to neighbours for export.",
        citation="The outside option (docs/concepts.md#leaving); transit fees as in the 2012 Sudan-South "
        "Sudan oil agreement (9.10-11.00 USD a barrel).",
        central_share=(0.0, 0.0),
        secession_proof=True,
        secession_cost=0.0,
        objective="proportional",
        entrenched=("central_share", "secession_proof"),
        entrenched_because="Each bloc is a sovereign state over its own fields: no common "
        "government can take them.",
    ),
    "sudan-cpa-2005": Structure(
        name="sudan-cpa-2005",
        description="2% to producing states by output, then 50/50 of the net southern revenue "
        "between the national government and the south.",
        citation="Comprehensive Peace Agreement (2005), Wealth Sharing Agreement (7 Jan 2004), "
        "arts. 5.5-5.6: 'at least two percent (2%) of oil revenue to the oil producing states "
        "... fifty percent (50%) of net oil revenue ... to the Government of Southern Sudan'.",
        central_share=(0.0, 1.0),
        derivation=0.02,
        bloc_retention={"south": 0.02 + 0.5 * 0.98},
        objective="centre-residual",
        entrenched=("central_share", "derivation", "bloc_retention"),
        entrenched_because="The wealth-sharing arrangements are written into the Interim "
        "National Constitution of Sudan (2005), Part Thirteen, and guarded by the south's own "
        "government and army.",
    ),
    "nigeria-derivation": Structure(
        name="nigeria-derivation",
        description="13% derivation to producing states, 52.68% of the rest to the centre, the "
        "remainder shared by the horizontal formula.",
        citation="Constitution of Nigeria (1999), s. 162(2) ('not less than thirteen per cent'); "
        "RMAFC vertical formula (FG 52.68%); horizontal formula (equality 40, population 30, "
        "landmass 10, social development 10; internal revenue effort 10 has no indicator here "
        "and is dropped, the rest renormalised).",
        central_share=(0.5268 * 0.87, 0.5268 * 0.87),
        derivation=0.13,
        objective="formula",
        formula_weights={"equality": 0.4, "population": 0.3, "area": 0.1, "need": 0.1},
        entrenched=("central_share", "derivation"),
        entrenched_because="Derivation is in the Constitution of Nigeria (1999), s. 162(2); the "
        "vertical split is set by law on RMAFC's advice; the horizontal formula is policy.",
    ),
}


_FRACTION_KEYS = ("derivation", "damage_allotment", "secession_cost")
MAX_FIXED_COST_USD = 1e15
"""Largest ``secession_fixed_cost_usd``: the dataset's revenue limit."""
MAX_COALITION_BLOCS = 12
"""``coalition_proof`` writes a row for each of the 2^B - 2 proper coalitions (4,094 at 12)."""
_TEXT_KEYS = ("description", "citation", "entrenched_because")
ENTRENCHABLE = (
    "central_share",
    "derivation",
    "bloc_retention",
    "bloc_share",
    "faction_share",
    "per_capita_floor",
    "per_capita_cap",
    "damage_allotment",
    "secession_proof",
    "coalition_proof",
)
"""The parameters that a structure may entrench (bind any government); its deal rules too."""
MAX_WEIGHT = 1e6
"""Largest formula weight; weights are renormalised, so only their ratios matter."""

Bad = Callable[..., None]


def printable(text: str) -> str:
    """``text`` with every non-printable character escaped, for the place part of a problem."""
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)


_UNSAFE = ("E-CONTROL-CHAR", "E-BIDI-CONTROL", "E-INVISIBLE-CHAR")


def _check_name(text: Any, *, key: bool = False) -> tuple[str | None, CellError | None]:
    """A name (of a structure, or a table ``key``) checked as names in the CSV files are: the
    cleaned, normalised name, or the error that stops it.

    A table key names a bloc or faction of the dataset, and :func:`check_names` says when it
    names none; here only characters that are unsafe to print stop it.
    """
    if not isinstance(text, str):
        return None, CellError("E-STRUCTURE", f"a name must be text, got {text!r}", "quote it")
    cleaned = text
    try:
        cleaned = clean_cell(text, [])
        name = parse_name(cleaned, [])
    except CellError as exc:
        if not key or exc.code in _UNSAFE:
            return None, exc
        name = cleaned
    if not name:
        return None, CellError("E-STRUCTURE", "a name is empty", "write a name")
    return name, None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return float(value)
    except OverflowError:
        return math.inf


def structure_from_table(name: str, table: Mapping[str, Any], *, source: str) -> Structure:
    """Build and validate a structure from a TOML-like table; every problem is reported at once."""
    problems: list[Problem] = []
    clean, name_error = _check_name(name)
    place = printable(name)

    def bad(key: str, message: str, remedy: str, code: str = "E-STRUCTURE") -> None:
        problems.append(Problem(source, None, f"{place}.{printable(key)}", code, message, remedy))

    if name_error is not None:
        problems.append(
            Problem(source, None, place, name_error.code, name_error.message, name_error.remedy)
        )
    base: dict[str, Any] = {}
    origins = {k: source for k in table if k != "extends"}
    if "extends" in table:
        parent = PRESETS.get(table["extends"]) if isinstance(table["extends"], str) else None
        if parent is None:
            bad(
                "extends",
                f"unknown preset {table['extends']!r}",
                f"use one of {', '.join(PRESETS)}",
            )
        else:
            # what the parent entrenches is its own choice: a structure that extends it and
            # adds rules says what it entrenches, or entrenches every rule it writes
            base = {
                k: v
                for k, v in _as_table(parent).items()
                if k not in ("entrenched", "entrenched_because")
            }
            origins = {**{k: f"preset {parent.name}" for k in base}, **origins}
    values = {**base, **{k: v for k, v in table.items() if k != "extends"}}
    for key in values:
        if key in RESERVED:
            bad(
                key,
                f"{key!r} is set by revshare, not by a structure",
                "remove it (a structure's name is its table's name)",
                "E-RESERVED",
            )
        elif key not in PARAMETERS:
            import difflib  # only an unknown parameter needs a suggestion

            close = difflib.get_close_matches(key, sorted(PARAMETERS), n=1)
            hint = f"did you mean {close[0]!r}?" if close else "remove it"
            bad(key, f"unknown parameter {key!r}", hint, "E-UNKNOWN-PARAMETER")
    kwargs: dict[str, Any] = {
        k: v for k, v in values.items() if k in PARAMETERS and k not in DEAL_KEYS
    }
    if any(k in values for k in DEAL_KEYS):
        kwargs["deal"] = parse_deal(values, bad)
    if "centre" in kwargs:
        kwargs["centre"] = _text("centre", kwargs["centre"], bad) or "centre"

    def fraction(key: str, value: Any, lo: float = 0.0, hi: float = 1.0) -> float | None:
        number = _number(value)
        if number is None:
            bad(
                key, f"must be a number, got {value!r}", f"write a number between {lo:g} and {hi:g}"
            )
            return None
        if not lo <= number <= hi:
            bad(key, f"must be between {lo:g} and {hi:g}, got {value!r}", "change it", "E-RANGE")
            return None
        return number

    if "central_share" in kwargs:
        cs = kwargs["central_share"]
        pair = list(cs) if isinstance(cs, list | tuple) else [cs, cs]
        if len(pair) != 2:
            bad("central_share", f"must be a number or [lo, hi], got {cs!r}", "write e.g. 0.25")
        else:
            lo, hi = (fraction("central_share", v) for v in pair)
            if lo is not None and hi is not None:
                if lo > hi:
                    bad(
                        "central_share",
                        f"lower bound {lo:g} is above upper bound {hi:g}",
                        "swap them",
                        "E-RANGE",
                    )
                kwargs["central_share"] = (lo, hi)
    for key in _FRACTION_KEYS:
        if key in kwargs:
            kwargs[key] = fraction(key, kwargs[key])
    for key in ("bloc_share", "faction_share"):
        if key in kwargs:
            kwargs[key] = _table(key, kwargs[key], bad, fraction)
    if "formula_weights" in kwargs:
        kwargs["formula_weights"] = _weights(kwargs["formula_weights"], bad, fraction)
    if "bloc_retention" in kwargs:
        kwargs["bloc_retention"] = _retention(kwargs["bloc_retention"], bad, fraction)
    for key, total_label in (("bloc_share", "blocs"), ("faction_share", "factions")):
        shares = kwargs.get(key)
        if isinstance(shares, Mapping) and sum(shares.values()) > 1 + 1e-12:
            bad(
                key,
                f"guaranteed shares of the {total_label} sum to {sum(shares.values()):.4g} > 1",
                "lower them so that they sum to at most 1",
                "E-SHARE-SUM",
            )
    for key, hi in (("per_capita_floor", 1.0), ("per_capita_cap", 1e6)):
        if kwargs.get(key) is not None:
            kwargs[key] = fraction(key, kwargs[key], 0.0, hi)
    floor, cap = kwargs.get("per_capita_floor"), kwargs.get("per_capita_cap")
    if floor is not None and cap is not None and floor > cap:
        bad(
            "per_capita_floor",
            f"floor {floor:g} is above cap {cap:g} (times the mean per head)",
            "lower the floor or raise the cap",
            "E-FLOOR-ABOVE-CAP",
        )
    if cap is not None and cap < 1:
        bad(
            "per_capita_cap",
            f"a cap of {cap:g} times the mean per head cannot all hold",
            "use a cap of at least 1",
            "E-RANGE",
        )
    if kwargs.get("within_region", "equal") not in ("equal", "free"):
        bad(
            "within_region", f"must be 'equal' or 'free', got {kwargs['within_region']!r}", "fix it"
        )
    if kwargs.get("objective", "proportional") not in OBJECTIVES:
        bad(
            "objective",
            f"unknown objective {kwargs['objective']!r}",
            f"use one of {', '.join(OBJECTIVES)}",
            "E-UNKNOWN-OBJECTIVE",
        )
    if "secession_fixed_cost_usd" in kwargs:
        kwargs["secession_fixed_cost_usd"] = fraction(
            "secession_fixed_cost_usd", kwargs["secession_fixed_cost_usd"], 0.0, MAX_FIXED_COST_USD
        )
    if not isinstance(kwargs.get("coalition_proof", False), bool):
        bad(
            "coalition_proof", f"must be true or false, got {kwargs['coalition_proof']!r}", "fix it"
        )
    if not isinstance(kwargs.get("secession_proof", False), bool):
        bad(
            "secession_proof", f"must be true or false, got {kwargs['secession_proof']!r}", "fix it"
        )
    for key in _TEXT_KEYS:
        if key in kwargs:
            kwargs[key] = _text(key, kwargs[key], bad)
    if kwargs.get("entrenched") is not None:
        kwargs["entrenched"] = _entrenched(kwargs["entrenched"], kwargs.get("deal"), bad)
    if problems:
        raise InputError(problems)
    return Structure(name=clean or name, source=source, origins=origins, **kwargs)


def _text(key: str, value: Any, bad: Bad) -> str:
    if not isinstance(value, str):
        bad(key, "must be text", "quote it")
        return ""
    try:
        return clean_cell(value, [])
    except CellError as exc:
        bad(key, exc.message, exc.remedy, exc.code)
        return ""


def _entrenched(value: Any, deal: Deal | None, bad: Bad) -> tuple[str, ...] | None:
    """``entrenched``: a list of parameters and deal rules that bind any government."""
    rules = {r.name for r in deal.rules} if deal else set()
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        bad("entrenched", f"must be a list of rule names, got {value!r}", 'write ["derivation"]')
        return None
    unknown = [v for v in value if v not in ENTRENCHABLE and v not in rules]
    if unknown:
        bad(
            "entrenched",
            f"{', '.join(map(repr, unknown))} is neither a parameter nor a rule of this structure",
            f"name parameters ({', '.join(ENTRENCHABLE)}) or the structure's rules",
            "E-UNKNOWN-NAME",
        )
    return tuple(value)


def _table(key: str, value: Any, bad: Bad, fraction: Any) -> dict[str, float]:
    """A table of name = fraction; names checked as in the CSV files."""
    if not isinstance(value, Mapping):
        bad(
            key,
            f"must be a table of name = fraction, got {value!r}",
            f"write e.g. {key} = {{ A = 0.1 }}",
        )
        return {}
    out: dict[str, float] = {}
    for k, v in value.items():
        name, error = _check_name(k, key=True)
        if error is not None:
            bad(f"{key}.{k}", error.message, error.remedy, error.code)
            continue
        assert name is not None
        if name in out:
            bad(f"{key}.{k}", f"{name!r} is named twice", "keep one entry", "E-DUPLICATE")
        f = fraction(f"{key}.{k}", v)
        if f is not None:
            out[name] = f
    return out


def _retention(value: Any, bad: Bad, fraction: Any) -> float | Mapping[str, float] | None:
    """``bloc_retention``: one fraction for every bloc, a table, or a table with a default."""
    if isinstance(value, DefaultTable):
        entries = _table("bloc_retention", value.entries, bad, fraction)
        default = fraction("bloc_retention", value.default)
        return entries if not default else DefaultTable(entries, default)
    if isinstance(value, Mapping):
        return _table("bloc_retention", value, bad, fraction)
    return fraction("bloc_retention", value)


def _weights(value: Any, bad: Bad, fraction: Any) -> dict[str, float]:
    """``formula_weights``: weights of known indicators, each in [0, MAX_WEIGHT], sum > 0."""
    key = "formula_weights"
    if not isinstance(value, Mapping):
        bad(
            key,
            f"must be a table of indicator = weight, got {value!r}",
            "write e.g. formula_weights = { equality = 0.5, population = 0.5 }",
        )
        return {}
    out: dict[str, float] = {}
    for k, v in value.items():
        if k not in FORMULA_INDICATORS:
            bad(f"{key}.{k}", f"unknown indicator {k!r}", f"use {', '.join(FORMULA_INDICATORS)}")
            continue
        w = fraction(f"{key}.{k}", v, 0.0, MAX_WEIGHT)
        if w is not None:
            out[k] = w
    if len(out) == len(value) and not sum(out.values()) > 0:
        bad(
            key,
            f"the weights sum to 0 ({dict(value)!r}): the formula would share nothing",
            f"give at least one of {', '.join(FORMULA_INDICATORS)} a weight above 0",
            "E-RANGE",
        )
    return out


def _key_path(line: str) -> tuple[str, ...]:
    """The key path that one TOML line opens or sets: ``[structures."a b"]`` gives
    ``("structures", "a b")``, ``bloc_share.A = 0.1`` gives ``("bloc_share", "A")``."""
    import tomllib

    doc: Any = None
    for candidate in (line, line.split("=")[0] + "= 0"):  # the first line of a multi-line value
        try:
            doc = tomllib.loads(candidate)
            break
        except tomllib.TOMLDecodeError:
            continue
    path: list[str] = []
    while isinstance(doc, dict) and len(doc) == 1:
        key, doc = next(iter(doc.items()))
        path.append(key)
    return tuple(path)


def locate(text: str, table: str | None, key: str) -> int | None:
    """The line of ``key`` in the ``[structures.TABLE]`` table of a TOML text (``table=None``:
    the top level; ``key=""``: the table's header), if it is there."""
    prefix: tuple[str, ...] = () if table is None else ("structures", table)
    inside, current = table is None, tuple[str, ...]()
    head = key.split(".")[0]
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        path = _key_path(stripped)
        if stripped.startswith("["):
            inside = path[: len(prefix)] == prefix and bool(path)
            current = path[len(prefix) :] if inside else ()
            if inside and (current[:1] == (head,) or (not head and not current)):
                return number
        elif inside and path and (current + path)[0] == head:
            return number
    return None


def rule_lines(text: str, table: str | None) -> list[int]:
    """The line of each ``[[structures.TABLE.rules]]`` header (``[[rules]]`` at the top level
    when ``table`` is None), in order: rule i of the structure is written at the i-th."""
    want = ("rules",) if table is None else ("structures", table, "rules")
    return [
        number
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip().startswith("[[") and _key_path(line.strip()) == want
    ]


def place_rules(
    structures: dict[str, Structure], text: str, source: str, top_level: bool = False
) -> dict[str, Structure]:
    """The structures with each deal rule's origin set to ``FILE:LINE`` (its explanation and
    its rows cite it)."""
    out = {}
    for name, s in structures.items():
        if s.deal.rules:
            lines = rule_lines(text, None if top_level else name)
            rules = tuple(
                r._replace(origin=f"{source}:{lines[i]}" if i < len(lines) else source)
                for i, r in enumerate(s.deal.rules)
            )
            s = dataclasses.replace(s, deal=s.deal._replace(rules=rules))
        out[name] = s
    return out


def with_lines(
    error: InputError, text: str, top_level: bool = False, name: str | None = None
) -> InputError:
    """The same problems, each placed on its TOML line where it can be found; ``name`` is the
    structure of a ``top_level`` file."""
    import tomllib

    try:
        tables = tomllib.loads(text).get("structures", {})
    except tomllib.TOMLDecodeError:
        tables = {}
    if not isinstance(tables, Mapping):
        tables = {}
    names = [name] if top_level and name is not None else list(map(str, tables))
    names.sort(key=len, reverse=True)  # "a.b" before "a", for a column "a.b.derivation"
    placed = []
    for p in error.problems:
        column = p.column or ""
        table = next(
            (n for n in names if column == printable(n) or column.startswith(printable(n) + ".")),
            None,
        )
        if table is None:
            table, _, key = column.partition(".")
        else:
            key = column[len(printable(table)) + 1 :]
        rule = re.match(r"rules\[(\d+)\]", key)
        if rule and not p.line:
            lines = rule_lines(text, None if top_level else table)
            index = int(rule.group(1)) - 1
            line: int | None = lines[index] if index < len(lines) else None
        else:
            line = p.line or (locate(text, None if top_level else table, key) if p.column else None)
        placed.append(p._replace(line=line, column=key or p.column) if line else p)
    return InputError(placed)


def structures_from_toml(data: Mapping[str, Any], source: str) -> dict[str, Structure]:
    """Structures declared under ``[structures.NAME]`` in a parsed TOML document."""
    tables = data.get("structures", {})
    problems: list[Problem] = []
    out: dict[str, Structure] = {}
    if not isinstance(tables, Mapping):
        raise InputError(
            Problem(
                source,
                None,
                "structures",
                "E-STRUCTURE",
                "'structures' must be a table of tables",
                "write [structures.NAME]",
            )
        )
    for name, table in tables.items():
        if not isinstance(table, Mapping):
            problems.append(
                Problem(
                    source,
                    None,
                    printable(name),
                    "E-STRUCTURE",
                    "must be a table",
                    f"write [structures.{printable(name)}]",
                )
            )
            continue
        try:
            structure = structure_from_table(name, table, source=source)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        if structure.name in out:
            problems.append(
                Problem(
                    source,
                    None,
                    printable(name),
                    "E-DUPLICATE",
                    f"structure {structure.name!r} is defined twice (names are compared "
                    "after normalisation)",
                    "rename one of them",
                )
            )
        out[structure.name] = structure
    if problems:
        raise InputError(problems)
    return out


def load_structure_file(path: str | Path) -> dict[str, Structure]:
    """Structures from a user's TOML file: ``[structures.NAME]`` tables, or one top-level table."""
    import tomllib

    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(
            Problem(
                str(path),
                None,
                None,
                "E-NOT-A-FILE",
                f"cannot read: {exc.strerror}",
                "check the path",
            )
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        found = re.search(r"at line (\d+)", str(exc))
        line = int(found.group(1)) if found else None
        raise InputError(
            Problem(str(path), line, None, "E-TOML", f"not valid TOML: {exc}", "fix the syntax")
        ) from None
    text = p.read_text(encoding="utf-8")
    if "structures" in data:
        try:
            return place_rules(structures_from_toml(data, str(path)), text, str(path))
        except InputError as exc:
            raise with_lines(exc, text) from None
    table = {k: v for k, v in data.items() if k != "name"}
    name = data.get("name", p.stem)
    if not isinstance(name, str):
        raise InputError(
            Problem(
                str(path),
                locate(text, None, "name"),
                "name",
                "E-STRUCTURE",
                f"name must be text, got {name!r}",
                "quote it",
            )
        )
    try:
        one = {name: structure_from_table(name, table, source=str(path))}
        return place_rules(one, text, str(path), top_level=True)
    except InputError as exc:
        raise with_lines(exc, text, top_level=True, name=name) from None


def require_structures(value: object) -> list[str | Structure]:
    """``structures`` as a list (one name or Structure is a list of one); anything else is an
    InputError naming the parameter (``E-TYPE``)."""
    items = [value] if isinstance(value, str | Structure) else value
    if not isinstance(items, Sequence) or not all(isinstance(s, str | Structure) for s in items):
        raise wrong_type(
            "structures",
            "'all', a structure's name, a Structure or a list of them",
            value,
            "pass e.g. ['federation', 'unified']",
        )
    return list(items)


def resolve(
    name_or_path: str, dataset_structures: Mapping[str, Structure] | None = None
) -> Structure:
    """A structure by preset or dataset name, or from a ``.toml`` file path."""
    available = {**PRESETS, **(dataset_structures or {})}
    if name_or_path in available:
        return available[name_or_path]
    if name_or_path.endswith(".toml"):
        loaded = load_structure_file(name_or_path)
        return next(iter(loaded.values()))
    import difflib  # only an unknown name needs a suggestion

    close = difflib.get_close_matches(name_or_path, list(available), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise InputError(
        Problem(
            "structure",
            None,
            None,
            "E-UNKNOWN-STRUCTURE",
            f"unknown structure {name_or_path!r}",
            f"{hint}use one of {', '.join(available)} or a .toml file",
        )
    )


_BLANKS = " \t"  # only these are trimmed: str.strip() would also drop NEL and U+2028 unseen


def parse_override(text: str) -> tuple[str, Any]:
    """An override ``PARAM=VALUE``: VALUE is read as a TOML value (``0.2``, ``[0, 0.3]``,
    ``true``, ``"free"``); a dotted PARAM (``bloc_share.south=0.3``) sets one table entry, whose
    name may be quoted (``bloc_share."A=B"=0.3``). A bare word that is not TOML (``free``) is
    taken as text."""
    import tomllib

    key, raw = split_override(text)
    if key is None:
        raise InputError(
            Problem(
                "overrides",
                None,
                None,
                "E-USAGE",
                f"expected PARAM=VALUE, got {text!r}",
                "write e.g. central_share=0.2",
            )
        )
    try:
        value = tomllib.loads(f"v = {raw.strip(_BLANKS)}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip(_BLANKS)
    return key, value


def split_override(text: str) -> tuple[str | None, str]:
    """The parameter of ``PARAM=VALUE`` (``head`` or ``head.entry``, the entry unquoted) and
    the raw VALUE; ``(None, "")`` when there is no ``=`` or no parameter."""
    import tomllib

    head, sep, rest = text.partition("=")
    head, dot, sub = head.strip(_BLANKS).partition(".")
    if not sep or not head:
        return None, ""
    if not dot:
        return head, rest
    whole = text.partition(".")[2]
    if whole.lstrip(_BLANKS)[:1] in ('"', "'"):  # a quoted entry may hold "=" and "."
        for i, ch in enumerate(whole):
            if ch == "=":
                try:
                    entry = tomllib.loads(f"v = {whole[:i].strip(_BLANKS)}")["v"]
                except tomllib.TOMLDecodeError:
                    continue
                if isinstance(entry, str):
                    return f"{head}.{entry}", whole[i + 1 :]
    return f"{head}.{sub.strip(_BLANKS)}", rest


def quote_entry(entry: str) -> str:
    """``entry`` as :func:`parse_override` reads it back after a dot: bare when it can be."""
    if "=" in entry or entry.strip(_BLANKS) != entry or entry[:1] in ('"', "'"):
        return '"' + entry.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return entry


def apply_overrides(structure: Structure, pairs: list[str]) -> Structure:
    """Apply ``PARAM=VALUE`` overrides in order.

    A dotted override changes one entry of a table parameter and keeps every other entry; on
    ``bloc_retention`` given as one number for every bloc it makes a :class:`DefaultTable` whose
    other blocs keep that number.
    """
    if not pairs:
        return structure
    table = _as_table(structure)
    problems: list[Problem] = []
    changed: set[str] = set()
    for text in pairs:
        key, value = parse_override(text)
        head, dot, entry = key.partition(".")
        changed.add(head)
        if head == "extends" or head in RESERVED:
            problems.append(
                Problem(
                    "overrides",
                    None,
                    printable(key),
                    "E-RESERVED",
                    f"{head!r} cannot be overridden",
                    "set the parameters themselves (extends works in a structures.toml table)"
                    if head == "extends"
                    else "remove it (it is set by revshare)",
                )
            )
        elif dot and head in PARAMETERS and head not in TABLE_PARAMETERS:
            problems.append(
                Problem(
                    "overrides",
                    None,
                    printable(key),
                    "E-STRUCTURE",
                    f"{head!r} is not a table, so {printable(key)!r} names nothing",
                    f"set it whole, e.g. {head}=..., or use a table parameter: "
                    f"{', '.join(TABLE_PARAMETERS)}",
                )
            )
        elif dot:
            table[head] = _with_entry(table.get(head), entry, value)
        else:
            table[head] = value
    if problems:
        raise InputError(problems)
    out = structure_from_table(structure.name, table, source=OVERRIDDEN)
    origins = {k: structure.origin(k) for k in table}
    return dataclasses.replace(
        out, source=structure.source, origins={**origins, **dict.fromkeys(changed, OVERRIDDEN)}
    )


def _with_entry(current: Any, entry: str, value: Any) -> Any:
    """``current`` (a table, or one number for every name) with ``entry`` set to ``value``."""
    if isinstance(current, DefaultTable):
        return DefaultTable({**current.entries, entry: value}, current.default)
    if isinstance(current, Mapping):
        return {**current, entry: value}
    if _number(current):  # one number for every bloc: the others keep it
        return DefaultTable({entry: value}, current)
    return {entry: value}
