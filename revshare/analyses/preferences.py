"""Who prefers which structure: rankings, population-weighted pairwise majorities, and the
Condorcet winner or the top cycle.

Pure functions on a matrix of money per head: one row per group of people (a cell, a faction or
a bloc), one column per structure, and one weight per row (the group's population). A group
prefers the structure that gives it more money per head; differences of at most ``tol`` USD a
head are indifference, so that solver noise never decides a vote.

Structure *a* beats *b* when more people prefer *a* to *b* than *b* to *a* (the indifferent
abstain). The Condorcet winner beats every other structure [1]_. When there is none, the top
cycle, or Smith set, is the smallest set of structures each of which beats every structure
outside it [2]_; a structure is in it exactly when it reaches every other structure through a
chain of "beats or ties" [3]_. Inside it, :func:`find_cycle` names the shortest majority cycle.

References
----------
.. [1] Condorcet, M. de (1785). *Essai sur l'application de l'analyse à la probabilité des
   décisions rendues à la pluralité des voix*. Paris: Imprimerie royale.
.. [2] Smith, J. H. (1973). Aggregation of preferences with variable electorate.
   *Econometrica* 41(6), 1027-1041.
.. [3] Schwartz, T. (1986). *The Logic of Collective Choice*. Columbia University Press, ch. 5
   (GETCHA: the maximal elements of the transitive closure of the weak majority relation).

Examples
--------
Rock, paper, scissors: three equal groups, three structures, and a cycle.

>>> import numpy as np
>>> money = np.array([[3, 2, 1], [1, 3, 2], [2, 1, 3]])
>>> c = condorcet(preference_counts(money, [1, 1, 1]), ["rock", "paper", "scissors"])
>>> c.winner is None, c.smith_set, c.cycle
(True, ('rock', 'paper', 'scissors'), ('rock', 'paper', 'scissors'))
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike


@dataclass(frozen=True)
class Condorcet:
    """The outcome of the pairwise majorities.

    Attributes
    ----------
    winner : the structure that beats every other one, or ``None``.
    smith_set : the top cycle, in the order the structures were given; ``(winner,)`` when there
        is a winner, empty when there are no structures.
    cycle : a shortest majority cycle inside the Smith set, ``(a, b, c)`` meaning *a* beats *b*,
        *b* beats *c* and *c* beats *a*; ``None`` when there is a winner, or when the Smith set
        holds structures that only tie.
    """

    winner: str | None
    smith_set: tuple[str, ...]
    cycle: tuple[str, ...] | None


def _matrix(per_head: ArrayLike, weights: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    m = np.asarray(per_head, dtype=float)
    w = np.asarray(weights, dtype=float)
    if m.ndim != 2:
        raise ValueError(
            f"`per_head` must be a 2-D array (groups x structures), got {m.ndim} dimensions"
        )
    if w.shape != (m.shape[0],):
        raise ValueError(
            f"`weights` must have one entry per group ({m.shape[0]}), got shape {w.shape}"
        )
    if not np.isfinite(m).all():
        raise ValueError("`per_head` must be finite, got NaN or infinity")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("`weights` must be finite and >= 0")
    return m, w


def _names(names: Sequence[str], n: int) -> list[str]:
    out = [str(x) for x in names]
    if len(out) != n:
        raise ValueError(f"`names` must have one entry per structure ({n}), got {len(out)}")
    if len(set(out)) != len(out):
        raise ValueError(f"`names` must be distinct, got {out}")
    return out


def preference_counts(per_head: ArrayLike, weights: ArrayLike, tol: float = 0.0) -> np.ndarray:
    """``W[i, j]``: the weight of the groups that prefer structure ``i`` to structure ``j``.

    A group prefers ``i`` when its money per head under ``i`` exceeds that under ``j`` by more
    than ``tol``. The diagonal is zero.

    >>> preference_counts([[2.0, 1.0], [1.0, 1.0]], [3, 5]).tolist()
    [[0.0, 3.0], [0.0, 0.0]]
    """
    m, w = _matrix(per_head, weights)
    prefers = (m[:, :, None] - m[:, None, :]) > tol
    return np.einsum("g,gij->ij", w, prefers.astype(float))


def beats(counts: ArrayLike) -> np.ndarray:
    """``B[i, j]`` is true when more weight prefers ``i`` to ``j`` than ``j`` to ``i``."""
    c = np.asarray(counts, dtype=float)
    if c.ndim != 2 or c.shape[0] != c.shape[1]:
        raise ValueError(f"`counts` must be a square matrix, got shape {c.shape}")
    return c > c.T


def pairwise_majority(
    per_head: ArrayLike, weights: ArrayLike, names: Sequence[str], tol: float = 0.0
) -> pd.DataFrame:
    """Every pair of structures, with the weight preferring each and the majority's choice.

    Returns
    -------
    DataFrame
        One row per unordered pair ``a``, ``b`` (in the order of ``names``): ``prefer_a``,
        ``prefer_b``, ``indifferent`` (weights) and ``winner`` (``a``, ``b``, or ``None`` for a
        tie).
    """
    m, w = _matrix(per_head, weights)
    labels = _names(names, m.shape[1])
    counts = preference_counts(m, w, tol)
    rows = []
    for i in range(len(labels)):
        for j in range(i + 1, len(labels)):
            indifferent = float(w[np.abs(m[:, i] - m[:, j]) <= tol].sum())
            a, b = counts[i, j], counts[j, i]
            winner = labels[i] if a > b else labels[j] if b > a else None
            rows.append(
                {
                    "a": labels[i],
                    "b": labels[j],
                    "prefer_a": float(a),
                    "prefer_b": float(b),
                    "indifferent": indifferent,
                    "winner": winner,
                }
            )
    return pd.DataFrame(rows, columns=["a", "b", "prefer_a", "prefer_b", "indifferent", "winner"])


def condorcet_winner(counts: ArrayLike, names: Sequence[str]) -> str | None:
    """The structure that beats every other one, or ``None``."""
    b = beats(counts)
    labels = _names(names, b.shape[0])
    for i, name in enumerate(labels):
        if all(b[i, j] for j in range(len(labels)) if j != i):
            return name
    return None


def smith_set(counts: ArrayLike, names: Sequence[str]) -> tuple[str, ...]:
    """The top cycle: the structures that reach every other one through "beats or ties"."""
    b = beats(counts)
    labels = _names(names, b.shape[0])
    reach = ~b.T | np.eye(len(labels), dtype=bool)
    for k in range(len(labels)):
        reach |= reach[:, [k]] & reach[[k], :]
    return tuple(name for i, name in enumerate(labels) if reach[i].all())


def find_cycle(
    counts: ArrayLike, names: Sequence[str], among: Sequence[str] | None = None
) -> tuple[str, ...] | None:
    """A shortest cycle of strict majorities among ``among`` (default: all), or ``None``.

    The cycle starts at the earliest structure of ``names`` that lies on a shortest cycle, so the
    answer does not depend on anything but the order the structures were given in.
    """
    b = beats(counts)
    labels = _names(names, b.shape[0])
    keep = [i for i, name in enumerate(labels) if among is None or name in set(among)]
    best: list[int] | None = None
    for start in keep:
        parent: dict[int, int] = {}
        queue = deque([start])
        found = None
        while queue and found is None:
            node = queue.popleft()
            for nxt in keep:
                if not b[node, nxt]:
                    continue
                if nxt == start:
                    found = node
                    break
                if nxt not in parent:
                    parent[nxt] = node
                    queue.append(nxt)
        if found is None:
            continue
        path = [found]
        while path[-1] != start:
            path.append(parent[path[-1]])
        cycle = path[::-1]
        if best is None or len(cycle) < len(best):
            best = cycle
    return None if best is None else tuple(labels[i] for i in best)


def condorcet(counts: ArrayLike, names: Sequence[str]) -> Condorcet:
    """The Condorcet winner, or the Smith set and a majority cycle inside it."""
    winner = condorcet_winner(counts, names)
    top = smith_set(counts, names)
    cycle = None if winner is not None else find_cycle(counts, names, top)
    return Condorcet(winner=winner, smith_set=top, cycle=cycle)


def rankings(
    per_head: ArrayLike, groups: Sequence[str], names: Sequence[str], tol: float = 0.0
) -> pd.DataFrame:
    """Each group's ranking of the structures, best first.

    A structure's rank is one plus the number of structures that give the group more than
    ``tol`` USD a head more (standard competition ranking: 1, 2, 2, 4).

    Returns
    -------
    DataFrame
        ``group``, ``structure``, ``usd_per_head``, ``rank``; sorted by group (in the order of
        ``groups``), then rank, then the order of ``names``.
    """
    m, _ = _matrix(per_head, np.ones(np.asarray(per_head).shape[0]))
    labels = _names(names, m.shape[1])
    group_labels = [str(g) for g in groups]
    if len(group_labels) != m.shape[0]:
        raise ValueError(
            f"`groups` must have one entry per row ({m.shape[0]}), got {len(group_labels)}"
        )
    rows = []
    for g, name in enumerate(group_labels):
        better = (m[g][None, :] - m[g][:, None]) > tol
        ranks = 1 + better.sum(axis=1)
        order = np.lexsort((np.arange(len(labels)), ranks))
        rows += [
            {
                "group": name,
                "structure": labels[j],
                "usd_per_head": float(m[g, j]),
                "rank": int(ranks[j]),
            }
            for j in order
        ]
    return pd.DataFrame(rows, columns=["group", "structure", "usd_per_head", "rank"])
