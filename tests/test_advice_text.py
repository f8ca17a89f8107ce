"""Issue 11, class 26: the figures in a concession's sentence are those of its override.

A concession is moved back towards the old value by bisection; its sentence must then say the old
value and the moved one, never a mix (the old value "0.5" once became "0.2492.5" when the first
new value, "0", was replaced everywhere in the sentence).
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from revshare.analyses.concession import Change, _at, _fmt

NUMBER = r"-?[0-9][0-9.,]*(?:e[-+]?[0-9]+)?%?"


def _sentence(parameter: str, old: float, new: float) -> str:
    verb = "lower" if new < old else "raise"
    return (
        f"{verb} the per-head rule from {_fmt(parameter, old)} to {_fmt(parameter, new)} (checked)"
    )


@pytest.mark.parametrize("parameter", ["per_capita_floor", "per_capita_cap", "bloc_share"])
@given(
    old=st.floats(0.0, 1.0, allow_subnormal=False),
    new=st.floats(0.0, 1.0, allow_subnormal=False),
    fraction=st.floats(0.0, 1.0),
)
def test_a_moved_concession_says_its_old_and_its_new_value(parameter, old, new, fraction):
    c = Change(parameter, old, new, _sentence(parameter, old, new))
    moved = _at(c, fraction)
    figures = re.findall(NUMBER, moved.sentence)
    assert figures == [_fmt(parameter, old), _fmt(parameter, moved.new)], moved.sentence


def test_the_reported_nigeria_case():
    c = Change("per_capita_floor", 0.5, 0.0, _sentence("per_capita_floor", 0.5, 0.0))
    moved = _at(c, 0.5016)
    assert "from 0.5 to" in moved.sentence and "0.2492.5" not in moved.sentence
