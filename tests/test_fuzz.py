"""The fuzzer of issue 11: mutate valid datasets, ``structures.toml`` files and ``--set`` values,
run ``revshare optimize`` on them, and accept only two endings.

- **exit 0** with a result that this file re-checks from its own knowledge of what the mutated
  input means (money conserved to the revenue it computed itself, nothing negative, every rule of
  the structure, by the oracle of ``test_properties.rule_violations``), and, where the mutation
  must not change the meaning (rows reordered, columns permuted, CRLF, a byte-order mark, another
  text encoding, names padded with Unicode spaces), the same money as the unmutated input;
- **exit 2** with every line in the located form ``revshare: error: WHERE: what; remedy [E-CODE]``
  and the place naming a file this test wrote (or, for an override, the parameter).

Exit 3 (infeasible) is accepted only where the unmutated structure is infeasible as well. Exit 1
(an internal error), exit 4 (unproven) and a traceback fail the test. Mutations that must be
refused (a look-alike duplicate name, garbage in a number, a control character, a reserved or
unknown key, a value out of range) must end with exit 2.

CI runs :data:`CI_EXAMPLES` examples; ``pytest -m slow`` runs :data:`SLOW_EXAMPLES`. The counts of
every ending are printed at the end of the session (``conftest.pytest_terminal_summary``).
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import random
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from test_properties import Case, cases, rule_violations, structures

import cli
import revshare

CI_EXAMPLES = 200
SLOW_EXAMPLES = 5000
FUZZ_OUTCOMES: Counter[str] = Counter()
"""Every ending of every fuzzed run in the session, printed by conftest's terminal summary."""

LOCATED = re.compile(r"^revshare: error: (?P<where>.+?): .+ \[E-[A-Z0-9-]+\]$")
NUMBER_GARBAGE = [
    "abc",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "-1",
    "1e400",
    "1,000",
    "1e999",
    "--1",
    "0x1F",
]
CONTROL = ["\x1b[31m", "\x07", "\u202e", "\x00", "\x9b", "\u2066"]
LOOK_ALIKE = [
    lambda s: s + "\u200b",  # zero-width space (default-ignorable)
    lambda s: s + "\ufe0f",  # variation selector
    lambda s: "\u00a0" + s,  # no-break space before the name
    lambda s: "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in s),  # full-width
]
UNICODE_SPACES = ["\u00a0", "\u2002", "\u3000", " "]


@dataclass
class Files:
    """A dataset as the test writes it: file name -> text, and the options to pass."""

    texts: dict[str, str]
    encoding: str = "utf-8"
    bom: bool = False
    newline: str = "\n"
    overrides: list[str] = field(default_factory=list)

    def write(self, folder: Path) -> None:
        for name, text in self.texts.items():
            encoding = "utf-8" if name.endswith(".toml") else self.encoding
            data = text.replace("\n", self.newline).encode(encoding)
            if self.bom and name.endswith(".csv"):
                data = b"\xef\xbb\xbf" + data
            (folder / name).write_bytes(data)


@dataclass(frozen=True)
class Expect:
    """What the mutated input means: ``same`` money as before, ``refuse`` (exit 2), or ``either``
    (a valid meaning, given by the case and structure, or a located refusal)."""

    kind: str  # "same", "refuse" or "either"
    why: str
    case: Case | None = None
    structure: revshare.Structure | None = None


def _csv(frame: pd.DataFrame) -> str:
    out = io.StringIO()
    frame.to_csv(out, index=False, lineterminator="\n")
    return out.getvalue()


def _toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a TOML basic string


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{ "
            + ", ".join(f"{_toml_string(k)} = {_toml_value(v)}" for k, v in value.items())
            + " }"
        )
    return repr(float(value))


def structure_toml(s: revshare.Structure, extra: str = "") -> str:
    lines = ["default_price = 1.0", "", "[structures.random]"]
    for f in dataclasses.fields(s):
        value = getattr(s, f.name)
        if f.name in ("name", "source", "origins", "deal") or value is None:
            continue
        if isinstance(value, dict | tuple | list) and not value:
            continue
        if f.name == "formula_weights":
            value = dict(value)
        lines.append(f"{f.name} = {_toml_value(value)}")
    return "\n".join(lines) + "\n" + extra


def dataset_files(case: Case, s: revshare.Structure) -> Files:
    fields, population, regions = case.frames()
    fields = fields.drop(columns=["production_bpd"])
    return Files(
        {
            "fields.csv": _csv(fields),
            "population.csv": _csv(population),
            "regions.csv": _csv(regions),
            "structures.toml": structure_toml(s),
        }
    )


def _rows(text: str) -> tuple[str, list[str]]:
    header, *rows = text.rstrip("\n").split("\n")
    return header, rows


def _join(header: str, rows: list[str]) -> str:
    return "\n".join([header, *rows]) + "\n"


def _frame(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


def _neutral(files: Files, rng: random.Random, case: Case) -> tuple[Files, str]:
    """A mutation that must change nobody's money."""
    kind = rng.choice(["shuffle", "columns", "crlf", "bom", "cp1256", "pad"])
    texts = dict(files.texts)
    if kind == "shuffle":
        for name in ("fields.csv", "population.csv", "regions.csv"):
            header, rows = _rows(texts[name])
            rng.shuffle(rows)
            texts[name] = _join(header, rows)
    elif kind == "columns":
        for name in ("fields.csv", "population.csv", "regions.csv"):
            frame = _frame(texts[name])
            columns = list(frame.columns)
            rng.shuffle(columns)
            texts[name] = _csv(frame[columns])
    elif kind == "crlf":
        return dataclasses.replace(files, newline="\r\n"), kind
    elif kind == "bom":
        return dataclasses.replace(files, bom=True), kind
    elif kind == "cp1256":
        try:
            for name, text in texts.items():
                if name.endswith(".csv"):
                    text.encode("cp1256")
        except UnicodeEncodeError:
            return files, "unchanged (names not in cp1256)"
        return dataclasses.replace(files, encoding="cp1256"), kind
    else:  # pad every name in population.csv with Unicode spaces
        frame = _frame(texts["population.csv"])
        pad = rng.choice(UNICODE_SPACES)
        for column in ("region", "faction"):
            frame[column] = pad + frame[column] + pad
        texts["population.csv"] = _csv(frame)
    return dataclasses.replace(files, texts=texts), kind


def _refused(files: Files, rng: random.Random, case: Case) -> tuple[Files, str]:
    """A mutation that must be refused with a located error."""
    kind = rng.choice(["garbage", "look-alike", "control", "toml-key", "toml-range", "set-bad"])
    texts = dict(files.texts)
    if kind == "garbage":
        name, column = rng.choice(
            [("fields.csv", "annual_revenue_usd"), ("population.csv", "population")]
        )
        frame = _frame(texts[name])
        frame.loc[rng.randrange(len(frame)), column] = rng.choice(NUMBER_GARBAGE)
        texts[name] = _csv(frame)
    elif kind == "look-alike":
        frame = _frame(texts["regions.csv"])
        twin = frame.iloc[[rng.randrange(len(frame))]].copy()
        twin["region"] = twin["region"].map(rng.choice(LOOK_ALIKE))
        texts["regions.csv"] = _csv(pd.concat([frame, twin], ignore_index=True))
    elif kind == "control":
        bad = rng.choice(CONTROL)
        where = rng.choice(["region", "description"])
        if where == "region":
            old = rng.choice(case.regions)
            new = old[:1] + bad + old[1:]
            for name in ("fields.csv", "population.csv", "regions.csv"):
                frame = _frame(texts[name])
                frame["region"] = frame["region"].where(frame["region"] != old, new)
                texts[name] = _csv(frame)
        else:
            texts["structures.toml"] += f"description = {_toml_string('a' + bad + 'b')}\n"
    elif kind == "toml-key":
        key = rng.choice(["name", "source", "origins", "no_such_rule", "derivaton"])
        texts["structures.toml"] += f"{key} = {_toml_value('x' if key != 'origins' else {})}\n"
    elif kind == "toml-range":
        key = rng.choice(["derivation", "secession_cost", "damage_allotment", "per_capita_floor"])
        value = rng.choice(["1.5", "-0.1", "nan", "inf", "-inf", "1e309", '"half"', "true"])
        text = re.sub(rf"(?m)^{key} = .*\n", "", texts["structures.toml"])
        texts["structures.toml"] = text + f"{key} = {value}\n"
    else:
        bad = rng.choice(
            [
                "derivation=2",
                "derivation=nan",
                "central_share=inf",
                "no_such_rule=1",
                "name=x",
                "source=x",
                "bloc_share.NO SUCH BLOC=0.1",
                "objective=bogus",
                "=3",
                "per_capita_floor=-1",
                "formula_weights.equality=-1",
            ]
        )
        return dataclasses.replace(files, texts=texts, overrides=[*files.overrides, bad]), kind
    return dataclasses.replace(files, texts=texts), kind


def _meaningful(
    files: Files, rng: random.Random, case: Case, s: revshare.Structure
) -> tuple[Files, Expect]:
    """A mutation with a new, known meaning: a valid ``--set``, or all money scaled."""
    kind = rng.choice(["set", "scale"])
    if kind == "set":
        blocs = sorted(set(case.blocs))
        choice = rng.choice(
            [
                "central_share=0.1",
                "central_share=[0, 0.3]",
                "derivation=0.05",
                "per_capita_floor=0.3",
                "objective=leximin",
                "within_region=free",
                f"bloc_share.{blocs[0]}=0.1",
                f"bloc_retention.{blocs[-1]}=0.2",
            ]
        )
        try:
            key, value = revshare.data.structures.parse_override(choice)
            changed = revshare.data.structures.apply_overrides(s, [choice])
        except revshare.InputError:
            return files, Expect("either", f"set {choice} (refused by the library)")
        note(f"override {key}={value!r}")
        return dataclasses.replace(files, overrides=[*files.overrides, choice]), Expect(
            "either", f"set {choice}", case, changed
        )
    k = 10.0 ** rng.randint(-4, 5)
    scaled = case.scaled(k)
    fields, _, regions = scaled.frames()
    texts = dict(files.texts)
    texts["fields.csv"] = _csv(fields.drop(columns=["production_bpd"]))
    texts["regions.csv"] = _csv(regions)
    return dataclasses.replace(files, texts=texts), Expect("either", f"scale x{k:g}", scaled, s)


@dataclass(frozen=True)
class _Allocation:
    """The parts of a printed JSON result that the oracle reads."""

    cells: pd.DataFrame
    centre_usd: float
    verification: Any


def _from_json(doc: dict[str, Any]) -> _Allocation:
    cells = pd.DataFrame(doc["cells"])
    tolerance = doc["verification"]["tolerance_usd"]
    return _Allocation(cells, float(doc["centre_usd"]), SimpleNamespace(tolerance_usd=tolerance))


def _baseline(case: Case, s: revshare.Structure) -> revshare.Allocation | str:
    try:
        return revshare.optimize(case.territory(), s, price=1.0)
    except revshare.InfeasibleError:
        return "infeasible"
    except revshare.InputError as exc:
        return "refused: " + ",".join(exc.codes)


def run(folder: Path, files: Files) -> tuple[int, str, str]:
    files.write(folder)
    args = ["optimize", str(folder), "--structure", "random", "--format", "json"]
    args += ["--encoding", files.encoding]
    for o in files.overrides:
        args += ["--set", o]
    result = CliRunner().invoke(cli.main, args)
    return result.exit_code, result.stdout, result.stderr


def check_refusal(stderr: str, folder: Path) -> None:
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.startswith("revshare: error:")]
    assert lines, f"exit 2 without a located error: {stderr!r}"
    for line in lines:
        m = LOCATED.match(line)
        assert m, f"not in the located form: {line!r}"
        where = m.group("where")
        assert (
            str(folder) in where or "--" in where or where.split(":")[0].endswith((".csv", ".toml"))
        ), f"the error names no file or parameter: {line!r}"


def check_result(doc: dict[str, Any], case: Case, s: revshare.Structure) -> None:
    assert doc["status"] == "optimal"
    alloc = _from_json(doc)
    tol = alloc.verification.tolerance_usd
    assert abs(doc["revenue_usd"] - case.revenue) <= max(tol, 1e-9 * case.revenue)
    assert doc["revenue_usd_rounded"] == round(case.revenue)
    assert sum(c["usd_rounded"] for c in doc["cells"]) + doc["centre_usd_rounded"] == round(
        case.revenue
    )
    for value in (*alloc.cells["usd"], alloc.centre_usd):
        assert math.isfinite(value) and value >= -tol
    violations = rule_violations(case, s, alloc)  # type: ignore[arg-type]
    assert not violations, violations


def _script(c: str) -> str:
    return "arabic" if "\u0600" <= c <= "\u06ff" else "latin"


def single_script(case: Case, s: revshare.Structure) -> tuple[Case, revshare.Structure]:
    """The case with every name written in one script (the readers refuse a word that mixes
    Arabic and Latin letters, as a pasted look-alike), and distinct across regions and blocs."""
    names = sorted({*case.regions, *case.blocs, *(f for _, f, _ in case.cells)})
    new: dict[str, str] = {}
    for i, name in enumerate(names):
        kept = "".join(c for c in name if _script(c) == _script(name[0]) and c.isalnum())
        candidate = kept or f"n{i}"
        while candidate in new.values():
            candidate += "x" if _script(candidate[0]) == "latin" else "ب"
        new[name] = candidate
    renamed = Case(
        regions=tuple(new[r] for r in case.regions),
        blocs=tuple(new[b] for b in case.blocs),
        cells=tuple((new[r], new[f], p) for r, f, p in case.cells),
        fields=tuple((k, new[r], v) for k, r, v in case.fields),
        need=case.need,
        area=case.area,
        damage=case.damage,
        baseline=case.baseline,
    )
    structure = dataclasses.replace(
        s,
        bloc_share={new[b]: v for b, v in s.bloc_share.items()},
        faction_share={new[f]: v for f, v in s.faction_share.items()},
    )
    return renamed, structure


def fuzz_once(tmp: Path, scenario: tuple[Case, revshare.Structure], seed: int) -> None:
    case, s = single_script(*scenario)
    rng = random.Random(seed)
    files = dataset_files(case, s)
    before: tuple[int, str, str] | None = None
    if rng.random() < 0.5:
        before = run(Path(tempfile.mkdtemp(dir=tmp)), files)
    group = rng.choice(["neutral", "neutral", "refused", "refused", "meaningful"])
    if group == "neutral":
        if before is None:
            before = run(Path(tempfile.mkdtemp(dir=tmp)), files)
        files, why = _neutral(files, rng, case)
        expect = Expect("same", why, case, s)
    elif group == "refused":
        files, why = _refused(files, rng, case)
        expect = Expect("refuse", why)
    else:
        files, expect = _meaningful(files, rng, case, s)
    note(f"mutation: {group} / {expect.why}")
    folder = Path(tempfile.mkdtemp(dir=tmp))
    code, stdout, stderr = run(folder, files)
    note(f"exit {code}; stderr: {stderr[:2000]}")
    assert "Traceback" not in stderr
    assert code in (0, 2, 3), f"exit {code}: {stderr}"
    FUZZ_OUTCOMES[f"exit {code}"] += 1
    if expect.kind == "refuse":
        assert code == 2, f"{expect.why}: expected exit 2, got {code}"
    if expect.kind == "same":
        assert before is not None
        assert code == before[0], f"{expect.why}: exit {code}, unmutated {before[0]}: {stderr}"
    if code == 2:
        check_refusal(stderr, folder)
        return
    assert expect.case is not None and expect.structure is not None
    if code == 3:
        baseline = _baseline(expect.case, expect.structure)
        assert baseline == "infeasible", f"{expect.why}: exit 3 but the library says {baseline}"
        return
    doc = json.loads(stdout)
    check_result(doc, expect.case, expect.structure)
    if expect.kind == "same" and before is not None:
        FUZZ_OUTCOMES["same money as unmutated"] += 1
        first = {(c["region"], c["faction"]): c["usd"] for c in json.loads(before[1])["cells"]}
        got = {(c["region"].strip(), c["faction"].strip()): c["usd"] for c in doc["cells"]}
        tol = doc["verification"]["tolerance_usd"]
        assert set(first) == set(got)
        for key, x in first.items():
            assert abs(got[key] - x) <= 2 * tol, f"{expect.why}: {key} {got[key]} != {x}"
    elif before is not None and before[0] == 0 and expect.kind == "either":
        FUZZ_OUTCOMES["meaningful change checked"] += 1


scenario_strategy = cases(max_regions=5).flatmap(
    lambda c: st.tuples(st.just(c), structures(c, mild=True))
)
FUZZ_SETTINGS = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
}


@settings(max_examples=CI_EXAMPLES, **FUZZ_SETTINGS)
@given(scenario=scenario_strategy, seed=st.integers(0, 2**32 - 1))
def test_fuzzed_inputs_end_verified_or_refused_with_a_location(tmp_path, scenario, seed):
    fuzz_once(tmp_path, scenario, seed)
    FUZZ_OUTCOMES["examples (CI)"] += 1


@pytest.mark.slow
@settings(max_examples=SLOW_EXAMPLES, derandomize=False, **FUZZ_SETTINGS)
@given(scenario=scenario_strategy, seed=st.integers(0, 2**32 - 1))
def test_fuzzed_inputs_long_run(tmp_path, scenario, seed):
    fuzz_once(tmp_path, scenario, seed)
    FUZZ_OUTCOMES["examples (slow)"] += 1
