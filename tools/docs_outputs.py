"""Comparing what an example printed with what its page shows, and rewriting the page's copy.

Used by tools/docs_examples.py. Lines are compared exactly after removing trailing spaces and
trailing blank lines; a line that is only ``...`` on the page stands for any number of lines;
timings (a number followed by ``s``, ``ms`` or ``/s``) match within a factor of
:data:`TIMING_FACTOR`, since the machine's load decides them.
"""

from __future__ import annotations

import re

TIMING_FACTOR = 10.0
"""Two timings match when the larger is at most this many times the smaller."""
TIMING = re.compile(r"(\d+(?:\.\d+)?)(\s?)(ms|s|/s)\b")
ELISION = "..."


class Mismatch(AssertionError):
    """An example printed something other than its page shows, or cannot be placed on it."""


# ---- comparing ------------------------------------------------------------------------------


def _normal(lines: list[str]) -> list[str]:
    lines = [line.rstrip() for line in lines]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _line_matches(shown: str, printed: str) -> bool:
    if shown == printed:
        return True
    shown_times, printed_times = TIMING.findall(shown), TIMING.findall(printed)
    if not shown_times or len(shown_times) != len(printed_times):
        return False
    if TIMING.sub("T", shown) != TIMING.sub("T", printed):
        return False
    for (a, _, unit_a), (b, _, unit_b) in zip(shown_times, printed_times, strict=True):
        if unit_a != unit_b:
            return False
        low, high = sorted((float(a), float(b)))
        if low == 0 or high / low > TIMING_FACTOR:
            return high == low
    return True


def _segments(shown: list[str]) -> list[list[str]]:
    segments: list[list[str]] = [[]]
    for line in shown:
        if line.strip() == ELISION:
            segments.append([])
        else:
            segments[-1].append(line)
    return segments


def _find(segment: list[str], printed: list[str], start: int) -> int:
    for at in range(start, len(printed) - len(segment) + 1):
        if all(_line_matches(s, p) for s, p in zip(segment, printed[at:], strict=False)):
            return at
    return -1


def matches(shown: list[str], printed: list[str]) -> bool:
    """Whether ``printed`` is what ``shown`` shows (``...`` lines stand for any lines)."""
    shown, printed = _normal(shown), _normal(printed)
    segments = _segments(shown)
    if len(segments) == 1:
        return len(shown) == len(printed) and all(map(_line_matches, shown, printed))
    head, *middle, tail = segments
    if len(head) + len(tail) > len(printed):
        return False
    if not all(map(_line_matches, head, printed[: len(head)])):
        return False
    if tail and not all(map(_line_matches, tail, printed[len(printed) - len(tail) :])):
        return False
    at = len(head)
    for segment in middle:
        found = _find(segment, printed[: len(printed) - len(tail)], at)
        if found < 0:
            return False
        at = found + len(segment)
    return True


def _shape(line: str) -> str:
    return re.sub(r"[-\d.,%]+", "#", line).strip()


def rewrite(shown: list[str], printed: list[str]) -> list[str]:
    """The page's lines for ``printed``, keeping the page's ``...`` elisions where they were."""
    printed = _normal(printed)
    segments = _segments(_normal(shown))
    if len(segments) == 1:
        return printed
    elisions = [line for line in shown if line.strip() == ELISION]
    head, *middle, tail = segments
    new = printed[: len(head)]
    at = len(head)
    end = len(printed) - len(tail)
    if tail:  # the shown end starts where its first line's shape is last found (tables grow);
        # a blank line has every blank line's shape, so the first line with text is looked for
        lead = next((i for i, line in enumerate(tail) if line.strip()), 0)
        end = next(
            (
                i - lead
                for i in range(len(printed) - 1, at + lead - 1, -1)
                if _shape(printed[i]) == _shape(tail[lead])
            ),
            end,
        )
    for segment, elision in zip(middle, elisions, strict=False):
        new.append(elision)
        found = -1
        if segment:
            found = next(
                (i for i in range(at, end) if _shape(printed[i]) == _shape(segment[0])), -1
            )
        if found < 0:
            raise Mismatch(f"cannot place the shown lines starting {segment[:1]} in the output")
        new.extend(printed[found : found + len(segment)])
        at = found + len(segment)
    new.append(elisions[-1])
    new.extend(printed[end:] if tail else [])
    return new
