"""MinHash signatures of `samsok.search.index.near_duplicates` (the one near-duplicate step;
moved here from tests/ingest when the crawl stopped computing signatures)."""

from __future__ import annotations

import pytest
from samsok.search.index.near_duplicates import NEAR_DUPLICATE, from_bytes, signature, similarity


def test_near_duplicate_signatures() -> None:
    text = (
        "Værnesregionen etablerer felles legevakt for Tydal, Selbu, Stjørdal og Meråker "
        "fra 1. september. Legevakten holder til ved Stjørdal helsehus og er åpen hele døgnet."
    )
    edited = text.replace("hele døgnet", "hele døgnet, alle dager")
    other = "Avisa melder om nytt fotballstadion i Orkanger og stengt vei over fjellet."
    a, b, c = signature(text), signature(edited), signature(other)
    assert isinstance(a, bytes) and similarity(a, a) == 1.0
    assert similarity(a, b) >= NEAR_DUPLICATE > similarity(a, c)
    assert similarity(signature(""), signature("")) == 0.0
    assert from_bytes(a).jaccard(from_bytes(b)) == pytest.approx(similarity(a, b))
    with pytest.raises(ValueError):
        similarity(a, b"junk")
