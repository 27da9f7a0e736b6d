"""Rank fusion: pure functions over runs, each a list of (id, score) best first.

Every run must be "higher score is better" (negate FTS5's ``bm25()`` before fusing). An id
repeated inside one run counts once, at its first (best) position. Results are sorted by fused
score; ties go to the id with the better best rank in any run, then to the id seen first
(runs in the order given, each top-down), so the output never depends on hash order and ids
need not be comparable.

- `rrf`: reciprocal rank fusion, ``sum_r w_r / (k + rank_r)`` with 1-based ranks (Cormack et
  al. 2009). Ignores score scales entirely; robust default.
- `weighted_minmax`: each run's scores rescaled to [0, 1] by its own min and max, then
  ``sum_r w_r * norm_r``; an id missing from a run gets that run's 0 (its worst).
- `weighted_zscore`: each run standardised to mean 0, standard deviation 1; an id missing from
  a run gets that run's lowest z-score, so missing is never better than retrieved.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

__all__ = ["Run", "fuse", "rrf", "weighted_minmax", "weighted_zscore"]

K = TypeVar("K", bound=Hashable)
Run = Sequence[tuple[K, float]]


def fuse(
    method: str, runs: Sequence[Run[K]], weights: Sequence[float] | None = None, *, k: float = 60.0
) -> list[tuple[K, float]]:
    """`runs` fused by `method` (`IndexConfig.fusion`): "zscore", "minmax", or "rrf" with `k`."""
    if method == "rrf":
        return rrf(runs, k=k, weights=weights)
    if method == "zscore":
        return weighted_zscore(runs, weights)
    if method == "minmax":
        return weighted_minmax(runs, weights)
    raise ValueError(f"unknown fusion method {method!r}: use zscore, minmax or rrf")


def rrf(
    runs: Sequence[Run[K]], k: float = 60.0, weights: Sequence[float] | None = None
) -> list[tuple[K, float]]:
    """Reciprocal rank fusion of `runs`."""
    if k <= 0:
        raise ValueError(f"k must be positive, got {k}")
    ws = _weights(runs, weights)
    deduped = [_dedupe(run) for run in runs]
    scores: dict[K, float] = {}
    for items, w in zip(deduped, ws, strict=True):
        for rank, (item, _) in enumerate(items, start=1):
            scores[item] = scores.get(item, 0.0) + w / (k + rank)
    return _sorted(scores, deduped)


def weighted_minmax(
    runs: Sequence[Run[K]], weights: Sequence[float] | None = None
) -> list[tuple[K, float]]:
    """Weighted sum of min-max normalised scores; a run whose scores are all equal gives 1.0."""

    def normalise(values: list[float]) -> tuple[list[float], float]:
        low, high = min(values), max(values)
        if high == low:
            # Nothing to tell the items apart: all are that run's best.
            return [1.0] * len(values), 0.0
        return [(v - low) / (high - low) for v in values], 0.0

    return _score_fusion(runs, weights, normalise)


def weighted_zscore(
    runs: Sequence[Run[K]], weights: Sequence[float] | None = None
) -> list[tuple[K, float]]:
    """Weighted sum of z-scores (population standard deviation); a constant run gives 0."""

    def normalise(values: list[float]) -> tuple[list[float], float]:
        mean = sum(values) / len(values)
        std = math.sqrt(sum([(v - mean) ** 2 for v in values]) / len(values))
        if std == 0.0:
            return [0.0] * len(values), 0.0
        z = [(v - mean) / std for v in values]
        return z, min(z)

    return _score_fusion(runs, weights, normalise)


# values of one run, best first → (normalised values, the value an id missing from it gets)
Normaliser = Callable[[list[float]], tuple[list[float], float]]


def _score_fusion(
    runs: Sequence[Run[K]], weights: Sequence[float] | None, normalise: Normaliser
) -> list[tuple[K, float]]:
    ws = _weights(runs, weights)
    deduped = [_dedupe(run) for run in runs]
    per_run: list[tuple[dict[K, float], float]] = []
    for items in deduped:
        values = [float(score) for _, score in items]
        if not all(map(math.isfinite, values)):
            raise ValueError("scores must be finite numbers")
        if not items:
            per_run.append(({}, 0.0))
            continue
        normed, missing = normalise(values)
        per_run.append((dict(zip([item for item, _ in items], normed, strict=True)), missing))
    # Every id, in the order first seen (runs in the order given, each top-down).
    order = dict.fromkeys(item for items in deduped for item, _ in items)
    fused: dict[K, float]
    if len(per_run) == 2:
        # The common case (dense + lexical) without a generator per id: `w0 * a + w1 * b`
        # is exactly what sum() gives for two terms (0 + a is a).
        (t0, m0), (t1, m1) = per_run
        w0, w1 = ws
        fused = {item: w0 * t0.get(item, m0) + w1 * t1.get(item, m1) for item in order}
    else:
        fused = {
            item: sum(
                w * table.get(item, missing)
                for (table, missing), w in zip(per_run, ws, strict=True)
            )
            for item in order
        }
    return _sorted(fused, deduped)


def _weights(runs: Sequence[Run[K]], weights: Sequence[float] | None) -> list[float]:
    if weights is None:
        return [1.0] * len(runs)
    if len(weights) != len(runs):
        raise ValueError(f"{len(weights)} weights for {len(runs)} runs")
    if any(w < 0 or not math.isfinite(w) for w in weights):
        raise ValueError(f"weights must be finite and non-negative: {list(weights)}")
    return [float(w) for w in weights]


def _dedupe(run: Run[K]) -> list[tuple[K, float]]:
    ids = [item for item, _ in run]
    if len(set(ids)) == len(ids):  # the usual run: nothing repeats
        return [(item, score) for item, score in run]
    seen: set[K] = set()
    out: list[tuple[K, float]] = []
    for item, score in run:
        if item not in seen:
            seen.add(item)
            out.append((item, score))
    return out


def _sorted(
    scores: dict[K, float], deduped: Sequence[list[tuple[K, float]]]
) -> list[tuple[K, float]]:
    """`scores` best first; ties to the better best rank in any run, then to the id seen
    first (`scores` holds its ids in the order first seen). `deduped`: the runs without
    repeated ids."""
    best_rank: dict[K, int] = {}
    for items in deduped:
        for rank, (item, _) in enumerate(items, start=1):
            if rank < best_rank.get(item, rank + 1):
                best_rank[item] = rank
    # Rounding to 12 decimals makes sums that differ only by float addition order count as
    # ties. Rounding keeps the order, so sorting by score puts each group of equal rounded
    # scores together; only neighbours this close can round alike (far above a rounding
    # step, 1e-12, or a float's spacing), so only they are rounded to find the groups.
    by_score = sorted(scores, key=scores.__getitem__, reverse=True)  # stable: first seen first
    groups: list[list[K]] = []
    last = 0.0
    for item in by_score:
        score = scores[item]
        if (
            groups
            and last - score <= TIE_CLOSE * (1.0 + abs(last))
            and round(last, 12) == round(score, 12)
        ):
            groups[-1].append(item)
        else:
            groups.append([item])
        last = score
    if len(groups) < len(by_score):  # ties: by best rank, then first seen
        seen = {item: i for i, item in enumerate(scores)}
        for group in groups:
            if len(group) > 1:
                group.sort(key=lambda item: (best_rank[item], seen[item]))
    return [(item, scores[item]) for group in groups for item in group]


# Scores further apart than this (relative, above 1) never round to the same 12 decimals.
TIE_CLOSE = 1e-9
