"""MinHash signatures of `samsok.search.store.near_duplicates` (the one near-duplicate step;
moved here from tests/ingest when the crawl stopped computing signatures)."""

from __future__ import annotations

import pytest
from samsok.search.index import IndexConfig
from samsok.search.store import signature, similarity
from samsok.search.store.near_duplicates import from_bytes


def test_near_duplicate_signatures() -> None:
    text = (
        "Værnesregionen etablerer felles legevakt for Tydal, Selbu, Stjørdal og Meråker "
        "fra 1. september. Legevakten holder til ved Stjørdal helsehus og er åpen hele døgnet."
    )
    edited = text.replace("hele døgnet", "hele døgnet, alle dager")
    other = "Avisa melder om nytt fotballstadion i Orkanger og stengt vei over fjellet."
    a, b, c = signature(text), signature(edited), signature(other)
    assert isinstance(a, bytes) and similarity(a, a) == 1.0
    threshold = IndexConfig().near_duplicate_threshold
    assert similarity(a, b) >= threshold > similarity(a, c)
    assert similarity(signature(""), signature("")) == 0.0
    assert from_bytes(a).jaccard(from_bytes(b)) == pytest.approx(similarity(a, b))
    with pytest.raises(ValueError):
        similarity(a, b"junk")
