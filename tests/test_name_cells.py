"""The ASCII fast paths of schema.clean_cell and schema.parse_name give what the character by
character checks give: the same value, the same notes, the same error code."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from revshare.data import schema
from revshare.data.schema import CellError, clean_cell, parse_name

# printable ASCII, the ASCII controls, and characters each slow check looks for
ALPHABET = st.one_of(
    st.characters(min_codepoint=0, max_codepoint=0x7F),
    st.sampled_from(
        ["\u200e", "\u202e", "\u00ad", "\u200d", "\u2028", "\u00a0", "\u0430", "é", "\u0301"]
    ),
)


def _clean_by_character(raw: str, notes: list[str]) -> str:
    """clean_cell as written before its fast path."""
    text = schema._MARKS.sub("", raw)
    if text != raw:
        notes.append("removed left-to-right or right-to-left marks from a value")
    if text.strip(schema._SPACES) != text:
        notes.append("stripped whitespace around a value")
    text = text.strip(schema._SPACES)
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Zl", "Zp"):
            raise CellError("E-CONTROL-CHAR", "", "")
        if ch in schema._BIDI:
            raise CellError("E-BIDI-CONTROL", "", "")
    return text


def _name_by_character(text: str, notes: list[str]) -> str:
    """parse_name as written before its fast path."""
    for ch in text:
        if unicodedata.category(ch) == "Cf" and ch not in schema._JOINERS:
            raise CellError("E-INVISIBLE-CHAR", "", "")
    name = unicodedata.normalize("NFC", text)
    if name != text:
        notes.append("NFC-normalised a name")
    if len(name) > schema.MAX_NAME_LENGTH:
        raise CellError("E-TOO-LONG", "", "")
    for word in schema._WORD.findall(name):
        scripts = {
            s for c in word if (s := unicodedata.name(c, "").split(" ")[0]) in schema._SCRIPTS
        }
        if len(scripts) > 1:
            raise CellError("E-MIXED-SCRIPT", "", "")
    return name


def _outcome(parse, text: str) -> tuple[str, list[str]]:
    notes: list[str] = []
    try:
        return parse(text, notes), notes
    except CellError as exc:
        return f"error {exc.code}", notes


@settings(max_examples=400, deadline=None)
@given(st.text(ALPHABET, max_size=12))
def test_clean_cell_is_the_character_by_character_check(raw: str) -> None:
    assert _outcome(clean_cell, raw) == _outcome(_clean_by_character, raw)


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(st.text(ALPHABET, min_size=1, max_size=12), st.text("ab", min_size=195, max_size=205))
)
def test_parse_name_is_the_character_by_character_check(text: str) -> None:
    assert _outcome(parse_name, text) == _outcome(_name_by_character, text)
