"""Structures: named sets of sharing rules (DESIGN.md section 4), the presets, and TOML loading.

A :class:`Structure` is a frozen bag of parameters. :mod:`revshare.model` turns each parameter into
named linear constraints. Built-in presets live in :data:`PRESETS`; a dataset adds its own in
``structures.toml``; a user can write one in a TOML file of the same form.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError, Problem

OBJECTIVES = ("proportional", "needs", "formula", "maxmin", "leximin", "centre-residual", "nash")
FORMULA_INDICATORS = ("equality", "population", "area", "need")


@dataclass(frozen=True)
class Structure:
    """A way of governing the country, as rules on who gets the oil money.

    Every fraction is of total annual revenue ``V`` (``central_share``, ``derivation``,
    ``bloc_retention``), of distributable revenue ``D = V - g`` (``bloc_share``, ``faction_share``,
    the per-head floor and cap), or of the sharing pool after derivation (``damage_allotment``).
    See DESIGN.md section 4 for the constraint each parameter adds.
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
    objective: str = "proportional"
    formula_weights: Mapping[str, float] = field(
        default_factory=lambda: {"equality": 0.4, "population": 0.3, "area": 0.1, "need": 0.2}
    )
    source: str = "built-in"
    origins: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def origin(self, parameter: str) -> str:
        """Where ``parameter`` was set: a TOML path, ``--set``, or ``preset NAME``."""
        return self.origins.get(
            parameter, f"preset {self.name}" if self.source == "built-in" else self.source
        )

    def bloc_retention_for(self, bloc: str) -> float:
        """The share of its own revenue that ``bloc`` keeps."""
        if isinstance(self.bloc_retention, Mapping):
            return float(self.bloc_retention.get(bloc, 0.0))
        return float(self.bloc_retention)

    def with_overrides(self, overrides: Mapping[str, Any], source: str = "--set") -> Structure:
        """A copy with parameters replaced, validated as a TOML table would be."""
        merged = {**_as_table(self), **overrides}
        return structure_from_table(self.name, merged, source=source)


def _as_table(s: Structure) -> dict[str, Any]:
    table = {
        f.name: getattr(s, f.name)
        for f in dataclasses.fields(s)
        if f.name not in ("name", "source", "origins")
    }
    table["central_share"] = list(s.central_share)
    return table


PRESETS: dict[str, Structure] = {
    "unified": Structure(
        name="unified",
        description="The centre collects everything, keeps half and spends the rest by population.",
        citation="Illustrative unitary petro-state; the 50% central slice is a default to override "
        "with --set central_share=...",
        central_share=(0.5, 0.5),
        objective="proportional",
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
    ),
    "partition": Structure(
        name="partition",
        description="Each bloc becomes a state and keeps its own fields' revenue, net of transit "
        "fees paid to neighbours for export.",
        citation="Outside option of DESIGN.md section 4; transit fees as in the 2012 Sudan-South "
        "Sudan oil agreement (9.10-11.00 USD a barrel).",
        central_share=(0.0, 0.0),
        secession_proof=True,
        secession_cost=0.0,
        objective="proportional",
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
    ),
}


_FRACTION_KEYS = ("derivation", "damage_allotment", "secession_cost")
_KNOWN_KEYS = {f.name for f in dataclasses.fields(Structure)} | {"extends"}


def structure_from_table(name: str, table: Mapping[str, Any], *, source: str) -> Structure:
    """Build and validate a structure from a TOML-like table; every problem is reported at once."""
    problems: list[Problem] = []

    def bad(key: str, message: str, remedy: str, code: str = "E-STRUCTURE") -> None:
        problems.append(Problem(source, None, f"{name}.{key}", code, message, remedy))

    base: dict[str, Any] = {}
    origins = {k: source for k in table if k != "extends"}
    if "extends" in table:
        parent = PRESETS.get(str(table["extends"]))
        if parent is None:
            bad(
                "extends",
                f"unknown preset {table['extends']!r}",
                f"use one of {', '.join(PRESETS)}",
            )
        else:
            base = _as_table(parent)
            origins = {**{k: f"preset {parent.name}" for k in base}, **origins}
    values = {**base, **{k: v for k, v in table.items() if k != "extends"}}
    for key in values:
        if key not in _KNOWN_KEYS:
            close = difflib.get_close_matches(key, sorted(_KNOWN_KEYS), n=1)
            hint = f"did you mean {close[0]!r}?" if close else "remove it"
            bad(key, f"unknown parameter {key!r}", hint, "E-UNKNOWN-PARAMETER")
    kwargs: dict[str, Any] = {k: values[k] for k in values if k in _KNOWN_KEYS and k != "extends"}

    def fraction(key: str, value: Any, lo: float = 0.0, hi: float = 1.0) -> float | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            bad(
                key, f"must be a number, got {value!r}", f"write a number between {lo:g} and {hi:g}"
            )
            return None
        if not lo <= float(value) <= hi:
            bad(key, f"must be between {lo:g} and {hi:g}, got {value!r}", "change it", "E-RANGE")
            return None
        return float(value)

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
    for key in ("bloc_share", "faction_share", "formula_weights"):
        if key in kwargs:
            kwargs[key] = _fraction_table(key, kwargs[key], bad, fraction)
    if "bloc_retention" in kwargs:
        br = kwargs["bloc_retention"]
        kwargs["bloc_retention"] = (
            _fraction_table("bloc_retention", br, bad, fraction)
            if isinstance(br, Mapping)
            else fraction("bloc_retention", br)
        )
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
    if not isinstance(kwargs.get("secession_proof", False), bool):
        bad(
            "secession_proof", f"must be true or false, got {kwargs['secession_proof']!r}", "fix it"
        )
    for key in ("description", "citation"):
        if key in kwargs and not isinstance(kwargs[key], str):
            bad(key, "must be text", "quote it")
    if problems:
        raise InputError(problems)
    return Structure(name=name, source=source, origins=origins, **kwargs)


def _fraction_table(key: str, value: Any, bad: Any, fraction: Any) -> dict[str, float]:
    if not isinstance(value, Mapping):
        bad(
            key,
            f"must be a table of name = fraction, got {value!r}",
            f"write e.g. {key} = {{ A = 0.1 }}",
        )
        return {}
    out: dict[str, float] = {}
    for k, v in value.items():
        if key == "formula_weights" and k not in FORMULA_INDICATORS:
            bad(f"{key}.{k}", f"unknown indicator {k!r}", f"use {', '.join(FORMULA_INDICATORS)}")
            continue
        f = fraction(f"{key}.{k}", v)
        if f is not None:
            out[str(k)] = f
    return out


def locate(text: str, table: str | None, key: str) -> int | None:
    """The line of ``key`` in the ``[structures.TABLE]`` table of a TOML text (``table=None``:
    the top level), if it is there."""
    inside = table is None
    head = key.split(".")[0]
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            inside = stripped.strip("[] ").replace('"', "") == f"structures.{table}"
            if inside and not head:
                return number
        elif inside and stripped.split("=")[0].strip().strip('"') == head:
            return number
    return None


def with_lines(error: InputError, text: str, top_level: bool = False) -> InputError:
    """The same problems, each placed on its TOML line where it can be found."""
    placed = []
    for p in error.problems:
        name, _, key = (p.column or "").partition(".")
        line = p.line or (locate(text, None if top_level else name, key) if p.column else None)
        placed.append(dataclasses.replace(p, line=line, column=key or p.column) if line else p)
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
                    name,
                    "E-STRUCTURE",
                    "must be a table",
                    f"write [structures.{name}]",
                )
            )
            continue
        try:
            out[name] = structure_from_table(name, table, source=source)
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return out


def load_structure_file(path: str | Path) -> dict[str, Structure]:
    """Structures from a user's TOML file: ``[structures.NAME]`` tables, or one top-level table."""
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
            return structures_from_toml(data, str(path))
        except InputError as exc:
            raise with_lines(exc, text) from None
    table = {k: v for k, v in data.items() if k != "name"}
    name = str(data.get("name", p.stem))
    try:
        return {name: structure_from_table(name, table, source=str(path))}
    except InputError as exc:
        raise with_lines(exc, text, top_level=True) from None


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
    close = difflib.get_close_matches(name_or_path, list(available), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise InputError(
        Problem(
            "--structure",
            None,
            None,
            "E-UNKNOWN-STRUCTURE",
            f"unknown structure {name_or_path!r}",
            f"{hint}use one of {', '.join(available)} or a .toml file",
        )
    )


def parse_override(text: str) -> tuple[str, Any]:
    """``PARAM=VALUE`` from ``--set``: VALUE is read as a TOML value (``0.2``, ``[0, 0.3]``,
    ``true``, ``"free"``); a dotted PARAM (``bloc_share.south=0.3``) sets one table entry.
    A bare word that is not TOML (``free``) is taken as text."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise InputError(
            Problem(
                "--set",
                None,
                None,
                "E-USAGE",
                f"expected PARAM=VALUE, got {text!r}",
                "write e.g. --set central_share=0.2",
            )
        )
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    head, dot, sub = key.strip().partition(".")
    return head + dot + sub.strip().strip('"').strip("'"), value


def apply_overrides(structure: Structure, pairs: list[str]) -> Structure:
    """Apply ``--set PARAM=VALUE`` overrides in order."""
    if not pairs:
        return structure
    table = _as_table(structure)
    for text in pairs:
        key, value = parse_override(text)
        head, _, sub = key.partition(".")
        if sub:
            current = table.get(head)
            nested = dict(current) if isinstance(current, Mapping) else {}
            nested[sub] = value
            table[head] = nested
        else:
            table[key] = value
    changed = {parse_override(text)[0].partition(".")[0] for text in pairs}
    out = structure_from_table(structure.name, table, source="--set")
    origins = {k: structure.origin(k) for k in table}
    return dataclasses.replace(
        out, source=structure.source, origins={**origins, **dict.fromkeys(changed, "--set")}
    )
