"""Rank fusion against values worked out by hand."""

from __future__ import annotations

import math

import pytest
from samsok.search.index import fuse, rrf, weighted_minmax, weighted_zscore

LEXICAL = [("a", 12.0), ("b", 8.0), ("c", 4.0)]
DENSE = [("b", 0.9), ("d", 0.7), ("a", 0.5)]


def _close(actual: list[tuple[str, float]], expected: list[tuple[str, float]]) -> None:
    assert [i for i, _ in actual] == [i for i, _ in expected]
    for (_, got), (_, want) in zip(actual, expected, strict=True):
        assert got == pytest.approx(want, abs=1e-12)


def test_rrf_hand_values() -> None:
    # a: 1/(60+1) + 1/(60+3); b: 1/(60+2) + 1/(60+1); c: 1/63; d: 1/62
    _close(
        rrf([LEXICAL, DENSE]),
        [
            ("b", 1 / 62 + 1 / 61),
            ("a", 1 / 61 + 1 / 63),
            ("d", 1 / 62),
            ("c", 1 / 63),
        ],
    )


def test_rrf_k_and_weights() -> None:
    # k=1, weights 2 and 1: a = 2/2 + 1/4 = 1.25; b = 2/3 + 1/2 = 7/6; d = 1/3; c = 2/4
    _close(
        rrf([LEXICAL, DENSE], k=1, weights=[2, 1]),
        [("a", 1.25), ("b", 7 / 6), ("c", 0.5), ("d", 1 / 3)],
    )


def test_rrf_ignores_scores_and_counts_duplicates_once() -> None:
    run = [("x", -5.0), ("y", 100.0), ("x", 99.0)]
    _close(rrf([run], k=10), [("x", 1 / 11), ("y", 1 / 12)])


def test_ties_break_on_best_rank_then_first_seen() -> None:
    # p and q both score 1/61 + 1/62: tie; p was first at rank 1 in run 0, q at rank 1 in run 1
    # → equal best rank, so first seen (p) wins.
    fused = rrf([[("p", 1.0), ("q", 0.5)], [("q", 1.0), ("p", 0.5)]])
    assert [i for i, _ in fused] == ["p", "q"]
    fused = rrf([[("q", 1.0), ("p", 0.5)], [("p", 1.0), ("q", 0.5)]])
    assert [i for i, _ in fused] == ["q", "p"]
    # r and s tie in score (1/62 each: s at rank 2, r at rank 1 with weight 61/62); s is seen
    # first, but r has the better best rank.
    fused = rrf([[("x", 1.0), ("s", 0.5)], [("r", 1.0)]], weights=[1, 61 / 62])
    assert fused[1][1] == pytest.approx(fused[2][1])
    assert [i for i, _ in fused] == ["x", "r", "s"]


def test_weighted_minmax_hand_values() -> None:
    # lexical normalised: a 1, b 0.5, c 0; dense: b 1, d 0.5, a 0 (0.9..0.5 → (x-0.5)/0.4)
    # weights 0.6 lexical, 0.4 dense; a missing id counts 0.
    _close(
        weighted_minmax([LEXICAL, DENSE], weights=[0.6, 0.4]),
        [
            ("b", 0.6 * 0.5 + 0.4 * 1.0),
            ("a", 0.6 * 1.0 + 0.4 * 0.0),
            ("d", 0.4 * 0.5),
            ("c", 0.0),
        ],
    )


def test_weighted_minmax_constant_and_empty_runs() -> None:
    _close(weighted_minmax([[("a", 3.0), ("b", 3.0)], []]), [("a", 1.0), ("b", 1.0)])
    assert weighted_minmax([[], []]) == []
    assert rrf([]) == []


def test_weighted_zscore_hand_values() -> None:
    # lexical 12, 8, 4: mean 8, population sd sqrt(32/3) → z = ±sqrt(3/2), 0.
    # dense 0.9, 0.7, 0.5: mean 0.7, sd sqrt(0.08/3) → z = ±sqrt(3/2), 0.
    # A missing id gets the run's lowest z: c misses dense (−1.2247), d misses lexical.
    z = math.sqrt(1.5)
    _close(
        weighted_zscore([LEXICAL, DENSE]),
        [("b", 0.0 + z), ("a", z - z), ("d", -z + 0.0), ("c", -z - z)],
    )


def test_weighted_zscore_constant_run_gives_zero() -> None:
    _close(weighted_zscore([[("a", 2.0), ("b", 2.0)]]), [("a", 0.0), ("b", 0.0)])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: rrf([LEXICAL], k=0), "k must be positive"),
        (lambda: rrf([LEXICAL, DENSE], weights=[1.0]), "1 weights for 2 runs"),
        (lambda: weighted_minmax([LEXICAL], weights=[-1.0]), "non-negative"),
        (lambda: weighted_zscore([[("a", math.nan)]]), "finite"),
    ],
)
def test_invalid_arguments(call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        call()


def test_ids_need_not_be_comparable() -> None:
    # Mixed id types would make sorting by id fail; ties must not need it.
    runs: list[list[tuple[int | str, float]]] = [[(1, 1.0)], [("1", 1.0)]]
    fused = rrf(runs)
    assert [i for i, _ in fused] == [1, "1"]


def test_fuse_runs_the_configured_method() -> None:
    runs = [[("a", 3.0), ("b", 2.0), ("c", 1.0)], [("c", 9.0), ("a", 1.0)]]
    weights = [0.4, 0.6]
    assert fuse("zscore", runs, weights) == weighted_zscore(runs, weights)
    assert fuse("minmax", runs, weights) == weighted_minmax(runs, weights)
    assert fuse("rrf", runs, weights, k=10) == rrf(runs, k=10, weights=weights)
    assert fuse("rrf", runs, weights, k=10) != rrf(runs, k=60, weights=weights)
    with pytest.raises(ValueError, match="unknown fusion method 'sum'"):
        fuse("sum", runs, weights)
