"""Making report files safe to open (docs/design.md#safe-reports); they are written atomically
by :mod:`revshare.atomic`."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
FSI, PDI = "\u2068", "\u2069"  # first-strong isolate, pop directional isolate


def neutralise(text: str) -> str:
    """Prefix ``'`` to text a spreadsheet would run as a formula (OWASP CSV injection)."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """RFC 4180 CSV in UTF-8 with a byte-order mark (so Excel reads Arabic); text cells
    neutralised and quoted, numbers written plain."""
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow([neutralise(c) if isinstance(c, str) else c for c in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


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
