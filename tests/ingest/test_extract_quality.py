"""Quality floor for HTML main-content extraction (the trafilatura way: CI fails when F1
drops). Scores the first 40 pages (by id) of the article-extraction benchmark with the
AEB shingle scorer; `benchmarks/extraction.py` runs the whole set.

Measured when pinned (trafilatura 2.3.1): F1 0.969, precision 0.973, recall 0.972 on
this subset (plain trafilatura defaults: F1 0.942). The floors sit a little below.
"""

from __future__ import annotations

import logging

import pytest
from samsok.ingest.config import ExtractConfig
from samsok.ingest.errors import EmptyContent
from samsok.ingest.evaluate import iter_aeb, mean_score, shingle_score
from samsok.ingest.extract_html import extract_html

from tests.ingest.conftest import shared_path

SUBSET = 40
F1_FLOOR = 0.95
PRECISION_FLOOR = 0.95
RECALL_FLOOR = 0.94


def test_aeb_subset_meets_the_floor(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    pages = list(iter_aeb(shared_path("eval", "aeb"), limit=SUBSET))
    assert len(pages) == SUBSET
    config = ExtractConfig()
    scores = []
    for page in pages:
        try:
            text = extract_html(page.html, page.url, config).pages[0].text
        except EmptyContent:
            text = ""
        scores.append(shingle_score(page.expected, text))
    mean = mean_score(scores)
    assert mean.f1 >= F1_FLOOR, mean
    assert mean.precision >= PRECISION_FLOOR, mean
    assert mean.recall >= RECALL_FLOOR, mean


def test_shingle_score() -> None:
    truth = "one two three four five six"
    assert shingle_score(truth, truth).f1 == 1.0
    assert shingle_score(truth, "").f1 == 0.0
    half = shingle_score(truth, "one two three four five")  # 2 of 3 shingles, all right
    assert half.precision == 1.0 and half.recall == pytest.approx(2 / 3)
    noisy = shingle_score(truth, "## one two three four five six\n- menu item here now")
    assert noisy.recall == 1.0 and noisy.precision < 1.0
