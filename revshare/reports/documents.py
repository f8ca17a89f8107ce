"""The one envelope of every JSON document revshare writes, on stdout and in report folders.

Every document opens with ``schema_version``, ``kind`` and ``dataset``, in that order, and is
described by ``revshare/reports/schemas/<kind>.schema.json`` (package data, listed in
docs/cli.md#json-output-and-its-schemas). A report file that holds the same document as a
command's JSON holds the same bytes: both are made here, and making them twice changes nothing
(:func:`envelope` of an enveloped document of the same kind and dataset is itself).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from importlib import resources
from typing import Any

from .safe import json_bytes

SCHEMA_VERSION = "1.0"
"""Major.minor of every document; a new major breaks readers."""

HEAD = ("schema_version", "kind", "dataset")
"""The envelope's fields, first in every document."""

REPORT_ONLY_KINDS = ("manifest",)
"""Kinds written into report folders but printed by no command (``manifest.json``)."""


def json_ready(value: Any) -> Any:
    """A value as strict JSON takes it: numpy scalars as Python ones, NaN and infinities as
    None, keys as text."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_asdict"):  # a record: by field, as asdict
        return json_ready(value._asdict())
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if hasattr(value, "item"):
        return json_ready(value.item())
    return value


def envelope(kind: str, dataset: str, document: bytes | Mapping[str, Any]) -> bytes:
    """``document`` (a mapping, or JSON bytes of one) as strict JSON with ``schema_version``,
    ``kind`` and ``dataset`` first; the document's own values of these three are replaced.

    Raises :class:`~revshare.reports.safe.NonFiniteJSONError` on an infinity anywhere in it."""
    body = json.loads(document) if isinstance(document, bytes) else dict(document)
    head = {"schema_version": SCHEMA_VERSION, "kind": kind, "dataset": dataset}
    return json_bytes(_plain({**head, **{k: v for k, v in body.items() if k not in head}}))


def _plain(value: Any) -> Any:
    """A document's values as Python ones (numpy scalars, tuples, keys as text), a NaN (a missing
    value in a table) as None; an infinity is kept, so that :func:`~revshare.reports.safe.json_bytes`
    refuses the document (an infinity is an error, never a figure to print as null)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_asdict"):  # a record: by field
        return _plain(value._asdict())
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item"):
        return _plain(value.item())
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def envelope_of(document: bytes) -> dict[str, Any] | None:
    """The envelope (the three fields) of JSON bytes, or None when they are not an enveloped
    document."""
    try:
        loaded = json.loads(document)
    except ValueError:
        return None
    if not isinstance(loaded, dict) or list(loaded)[:3] != list(HEAD):
        return None
    return {k: loaded[k] for k in HEAD}


def schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of ``kind``, as shipped in the package."""
    text = resources.files(__package__).joinpath(f"schemas/{kind}.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded
