"""The records that became NamedTuples (cheaper to define at every start than frozen dataclasses)
keep what their users read: the repr a structure's hash is taken of, JSON by field, ordering
and copies with other fields."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

import revshare
from revshare.data.deals import Account, Deal, Pool, Rule
from revshare.errors import Problem
from revshare.reports.allocation import summary
from revshare.reports.documents import _plain, json_ready

RECORDS: list[Any] = [
    Account("Heritage Fund", "fund", "all", "PRMA s. 9"),
    Account("x", "body"),
    Pool("oil", "fields", ("Jubilee", "TEN"), ("first",)),
    Pool("revenue"),
    Rule("krg", "share", "after sovereign", "at_least", {"share": 0.1267, "to": "KRG"}, "Law 13"),
    Rule("petrodollar", "per_unit", inline_pool=Pool("petrodollar", "fields", ("Rumaila",))),
    Deal({"x": Account("x", "body")}, {"oil": Pool("oil")}, (Rule("r", "share"),)),
    Deal(),
    Problem("fields.csv", 3, "share", "E-RANGE", "1.5 is above 1", "write at most 1"),
    Problem("structures", None, None, "E-UNKNOWN", "no such structure", "pick one"),
]


def _dataclass_repr(record: Any) -> str:
    """The repr a frozen dataclass of the same fields would have."""
    fields = ", ".join(f"{f}={getattr(record, f)!r}" for f in record._fields)
    return f"{type(record).__qualname__}({fields})"


@pytest.mark.parametrize("record", RECORDS, ids=repr)
def test_a_record_reads_as_its_dataclass_did(record: Any) -> None:
    assert repr(record) == _dataclass_repr(record)
    as_dict = {f: getattr(record, f) for f in record._fields}
    assert json_ready(record) == json_ready(as_dict)
    assert _plain(record) == _plain(as_dict)
    first = record._fields[0]
    copy = record._replace(**{first: "other"})
    assert getattr(copy, first) == "other" and copy[1:] == record[1:]
    with pytest.raises(AttributeError):
        setattr(record, first, "changed")


@pytest.mark.parametrize("changed", range(6))
def test_problems_sort_field_by_field(changed: int) -> None:
    """As the dataclass with order=True did: by file, then line, column, code, message, remedy."""
    low = Problem("a.csv", 1, "c", "E-A", "m", "r")
    fields = list(low)
    fields[changed] = {0: "b.csv", 1: 2, 2: "d", 3: "E-B", 4: "n", 5: "s"}[changed]
    high = Problem(*fields)
    assert low < high and sorted([high, low]) == [low, high]


@pytest.mark.parametrize(("dataset", "name"), [("ghana", "prma"), ("nigeria", "faac")])
def test_a_deal_structure_hash_is_its_repr_hash(dataset: str, name: str) -> None:
    """The provenance's structure hash is the hash of the structure's repr, which names every
    account and pool field by field (as the dataclasses did)."""
    t = revshare.load_dataset(f"data/{dataset}")
    s = t.structures[name]
    text = repr(s)
    assert all(_dataclass_repr(a) in text for a in s.deal.accounts.values())
    a = revshare.optimize(t, s)
    assert a.provenance["structure_hash"] == hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize(("dataset", "name"), [("ghana", "prma"), ("nigeria", "faac")])
def test_a_deal_is_written_field_by_field_in_json(dataset: str, name: str) -> None:
    t = revshare.load_dataset(f"data/{dataset}")
    s = t.structures[name]
    deal = summary(revshare.optimize(t, s))["structure"]["deal"]
    assert set(deal) == {"accounts", "pools", "rules"}
    assert deal["accounts"] == {k: a._asdict() for k, a in s.deal.accounts.items()}
    assert [r["name"] for r in deal["rules"]] == [r.name for r in s.deal.rules]
    assert all(set(r) == set(Rule._fields) for r in deal["rules"])
