"""Making report files safe to open (docs/design.md#safe-reports); they are written atomically
by :mod:`revshare.atomic`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
FSI, PDI = "\u2068", "\u2069"  # first-strong isolate, pop directional isolate


def neutralise(text: str) -> str:
    """Prefix ``'`` to text a spreadsheet would run as a formula (OWASP CSV injection)."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """The one CSV revshare writes, in report files and on stdout alike: RFC 4180 (comma,
    CRLF), UTF-8 without a byte-order mark, text cells neutralised (:func:`neutralise`), and
    minimal quoting.

    Why this format: the byte-order mark was there so that Excel would read Arabic names, but
    Excel users now have ``report.xlsx`` in every report folder, and the mark is noise to every
    other reader (``cut``, ``join``, a shell pipeline reading stdout, a header compared as
    text). Quoting every text cell carried the cell's type (``"2005"`` text, ``2005`` a number)
    at the cost of unreadable files; here a field is quoted only when it must be (it holds a
    comma, a quote or a line break) or when it is text that a reader would take for a number,
    a boolean or a missing value (:func:`reads_as_value`, e.g. a scenario named ``60``), so
    the type still survives the round trip (``report.xlsx`` is built by reading these bytes
    back). Numbers are written as Python writes them (``repr``: the shortest text that reads
    back to the same float), numpy scalars as Python ones, None and empty text as an empty
    field.
    """
    lines = [",".join(_text_field(neutralise(str(h))) for h in header)]
    lines += [",".join(_field(c) for c in row) for row in rows]
    return "".join(line + "\r\n" for line in lines).encode("utf-8")


def _field(value: Any) -> str:
    if isinstance(value, str):
        return _text_field(neutralise(value))
    if value is None:
        return ""
    value = value.item() if hasattr(value, "item") else value  # numpy scalars as Python ones
    return _text_field(neutralise(value)) if isinstance(value, str) else str(value)


def _text_field(text: str) -> str:
    """A text cell, quoted when it must be or when unquoted it would read as another type."""
    if any(c in text for c in ',"\r\n') or reads_as_value(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def reads_as_value(text: str) -> bool:
    """Whether unquoted ``text`` would be read as something other than text: a number (any
    text ``float`` accepts, ``nan`` and ``inf`` included) or a boolean. (Empty text is an
    empty field, like a missing value: no reader tells them apart.)"""
    if text in ("True", "False"):
        return True
    try:
        float(text)
    except ValueError:
        return False
    return True


def frame_csv(frame: Any) -> bytes:
    """A pandas DataFrame as :func:`csv_bytes` (header, then rows; index left out)."""
    return csv_bytes(list(frame.columns), frame.itertuples(index=False, name=None))


class NonFiniteJSONError(ValueError):
    """A document to be written as JSON holds a NaN or an infinity: an internal error (the
    verifier fails every result with one before it reaches a writer), never invalid JSON."""


def json_bytes(document: Mapping[str, Any]) -> bytes:
    """Strict JSON: NaN and infinities raise :class:`NonFiniteJSONError`, never written."""
    try:
        text = json.dumps(document, allow_nan=False, ensure_ascii=False, indent=2)
    except ValueError as exc:
        from ..solve.verify import non_finite

        bad = non_finite(document, "document")
        if not bad:
            raise
        raise NonFiniteJSONError(
            f"refusing to write JSON with a NaN or an infinity at {', '.join(bad[:3])}; nothing "
            "was written"
        ) from exc
    return (text + "\n").encode()


_MD_SPECIAL = str.maketrans({**{c: "\\" + c for c in "\\|`*_[]#"}, "<": "&lt;", ">": "&gt;"})


def price_phrase(price: float, provenance: Mapping[str, Any], *, short: bool = False) -> str:
    """How a report names the oil price: "at 82.49 USD/bbl" (short) or "oil price 82.49 USD a
    barrel", unless the dataset's revenue is all given in USD (``provenance["price_used"]`` is
    false), when no price plays a part."""
    if not provenance.get("price_used", True):
        return "with revenue given in USD" if short else "revenue given in USD (no oil price)"
    return f"at {price:g} USD/bbl" if short else f"oil price {price:g} USD a barrel"


def md_cell(text: str) -> str:
    """Text safe inside a Markdown table cell: specials escaped, HTML escaped, newlines removed,
    and isolated so that right-to-left names do not reorder neighbouring numbers."""
    flat = " ".join(str(text).split())
    escaped = flat.replace("&", "&amp;").translate(_MD_SPECIAL)
    return f"{FSI}{escaped}{PDI}" if escaped else escaped
