"""Main-content extraction quality: precision/recall/F1 over word 4-gram shingles.

This is the scoring of the article-extraction-benchmark (AEB): both texts are cut into word
tokens (`\\w+`), every run of four consecutive tokens is a shingle, and shingles are compared
as multisets. Markup our extractor adds (`## ` before headings, `- ` before list items) is
not made of word characters, so it does not count. Pages are scored one by one and the
benchmark reports the mean over pages, so a long page weighs no more than a short one.

The visible AEB pages are split in two halves by a hash of the page id (`aeb_half`): cascade
thresholds are chosen on the "tuning" half only, and the "check" half is what the quality
floors in `tests/ingest/test_extract_quality.py` pin (docs/extraction.md).

Used by `benchmarks/extraction.py` and `tests/ingest/test_extract_quality.py`.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "AEB_HALVES",
    "AebPage",
    "Score",
    "aeb_half",
    "iter_aeb",
    "mean_score",
    "shingle_score",
]

AEB_HALVES = ("tuning", "check")

_TOKEN = re.compile(r"\w+")


@dataclass(frozen=True)
class Score:
    """Word 4-gram precision, recall and F1 of one page's extraction; for a set of pages, each
    is the mean of the pages' figures (AEB's macro average: F1 is not recomputed from P and R)."""

    precision: float
    recall: float
    f1: float


@dataclass(frozen=True)
class AebPage:
    page_id: str
    url: str
    html: bytes
    expected: str


def _shingles(text: str, n: int) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text)
    if not tokens:
        return Counter()
    # A text shorter than n words is one (short) shingle, as in AEB.
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)))


def shingle_score(expected: str, predicted: str, n: int = 4) -> Score:
    """Precision/recall/F1 of `predicted` against `expected` over word n-gram multisets."""
    truth = _shingles(expected, n)
    pred = _shingles(predicted, n)
    if not truth and not pred:
        return Score(1.0, 1.0, 1.0)
    tp = sum((truth & pred).values())
    precision = tp / sum(pred.values()) if pred else 0.0
    recall = tp / sum(truth.values()) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Score(precision, recall, f1)


def mean_score(scores: Iterable[Score]) -> Score:
    items = list(scores)
    if not items:
        raise ValueError("no scores to average")
    count = len(items)
    return Score(
        sum(s.precision for s in items) / count,
        sum(s.recall for s in items) / count,
        sum(s.f1 for s in items) / count,
    )


def iter_aeb(root: Path, limit: int | None = None) -> Iterator[AebPage]:
    """Pages of the AEB layout (`html/<id>.html.gz` + `ground-truth.json`), sorted by id."""
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    for index, page_id in enumerate(sorted(truth)):
        if limit is not None and index >= limit:
            return
        path = root / "html" / f"{page_id}.html.gz"
        if not path.exists():
            continue
        entry = truth[page_id]
        yield AebPage(
            page_id=page_id,
            url=entry.get("url") or "",
            html=gzip.decompress(path.read_bytes()),
            expected=entry.get("articleBody") or "",
        )


def aeb_half(page_id: str) -> str:
    """ "tuning" or "check": a deterministic split of the AEB pages by the first byte of the
    SHA-256 of the page id (about half each, stable when pages are added or removed)."""
    return AEB_HALVES[hashlib.sha256(page_id.encode("utf-8")).digest()[0] % 2]
