"""The search hot path's shortcuts give what the plain paths give (issue 10, "less CPU per
search"): batched vector reads, the chunk → document ids passed along, the fusion's loops,
document heads instead of whole rows, and caches that never outlive what they were made of
(a new generation's text, a refitted analyzer)."""

from __future__ import annotations

import gc
import math
import random
import weakref
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from samsok.ingest.documents import identity_fields
from samsok.search.index import (
    IndexConfig,
    LexicalIndex,
    SearchIndex,
    chunk_evidence,
    query_evidence,
    rrf,
    weighted_minmax,
    weighted_zscore,
)
from samsok.search.index.relevance import _best_stored_cosines, _counts, plausible
from samsok.search.schemas import SearchMode, SearchRequest
from samsok.search.store import Filters
from samsok.search.text import Decompounder, NorwegianAnalyzer

from tests.fakes import HashingEmbedder
from tests.search.test_index import make_doc, page_chunker
from tests.search.test_relevance import KNOWN_WORDS, PAGES

QUERIES = ("jordmor i kommunen", "KAD natten", "sykehjem med plasser", "fotball", "rus")


@pytest.fixture
def known(tmp_path: Path) -> Iterator[SearchIndex]:
    index = SearchIndex(
        tmp_path / "d", HashingEmbedder(), page_chunker, IndexConfig(floor=KNOWN_WORDS)
    )
    index.upsert_many([make_doc(url, text) for url, text in PAGES.items()])
    index.upsert(make_doc("https://x.no/to", "Første side om jordmor.", title="to"))
    index.reindex()
    with index:
        yield index


def _chunk_ids(index: SearchIndex) -> dict[str, list[int]]:
    store = index.store
    return {d.doc_id: [c.id for c in store.chunks_of(d.doc_id)] for d in store.documents_all()}


def test_stored_cosines_in_one_batch_are_the_per_document_ones(known: SearchIndex) -> None:
    model = known.embedder.model_id
    qvec = known.embedder.embed_queries(["jordmor i kommunen"])[0]
    own: dict[str, Sequence[int]] = dict(_chunk_ids(known))
    own["no-such-document"] = [10**9]  # a chunk that is gone: no vector, -1.0
    batched = _best_stored_cosines(own, qvec, known.store, model)
    for doc_id, ids in own.items():
        vectors = known.store.vectors_of_chunks(model, ids)
        assert batched[doc_id] == (float((vectors @ qvec).max()) if len(vectors) else -1.0)
    assert batched["no-such-document"] == -1.0
    kept: dict[int, np.ndarray] = {}  # a reader view's: filled, then read from
    assert _best_stored_cosines(own, qvec, known.store, model, kept) == batched
    assert len(kept) == sum(len(ids) for ids in own.values()) - 1  # not the missing chunk
    assert _best_stored_cosines(own, qvec, known.store, model, kept) == batched
    assert set(_best_stored_cosines(own, qvec, known.store, None).values()) == {-1.0}
    assert _best_stored_cosines({}, qvec, known.store, model) == {}


def test_the_floors_vector_cache_is_bounded(
    known: SearchIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = known.embedder.model_id
    qvec = known.embedder.embed_queries(["kommunen"])[0]
    # full after the first batch
    monkeypatch.setattr("samsok.search.index.relevance.VECTOR_CACHE_BYTES", 1)
    kept: dict[int, np.ndarray] = {}
    chunks = _chunk_ids(known)
    for doc_id, ids in chunks.items():
        _best_stored_cosines({doc_id: ids}, qvec, known.store, model, kept)
    assert len(kept) == len(next(iter(chunks.values())))


@pytest.mark.parametrize("dense_found", [True, False])
def test_the_floor_is_the_same_with_the_rankings_doc_ids(
    known: SearchIndex, dense_found: bool
) -> None:
    """`plausible` given the chunk → document ids grouping looked up keeps what it keeps
    looking them up itself; without dense candidates every cosine comes from the store."""
    with known.reading():
        ranker = known._ranker()
        for q in QUERIES:
            runs = ranker._fused_run(q, SearchMode.HYBRID, Filters(), None, 200)
            doc_of = known.store.chunk_doc_ids(c for c, _ in runs.fused)
            grouped = ranker._group(runs.fused, doc_of)
            assert grouped == ranker.group(runs.fused)
            assert runs.qvec is not None
            dense = runs.dense if dense_found else {}
            args = (grouped, dense, runs.lexical, runs.terms, runs.qvec, KNOWN_WORDS)
            view = known._current()
            own = (view.store, view.lexical, view.model_id)
            assert plausible(*args, *own, doc_of) == plausible(*args, *own)


def test_a_readers_kept_matches_give_the_writers_evidence(known: SearchIndex) -> None:
    """A reader keeps the chunks a rare clause matches (its snapshot is pinned); the evidence
    it computes from them is what the writer, which keeps none, computes by lookups."""
    writer = known._current()
    ids = sorted(c for cs in _chunk_ids(known).values() for c in cs)
    with SearchIndex(known.data_dir, HashingEmbedder(), page_chunker, read_only=True) as reader:
        view = reader._current()
        for q in QUERIES:
            terms = view.lexical.analyzer.query_terms(q)
            for some in (ids, ids[::2], ids[:1]):
                shares = chunk_evidence(
                    query_evidence(terms, view.store, view.lexical), view.store, some
                )
                assert shares == chunk_evidence(
                    query_evidence(terms, writer.store, writer.lexical), writer.store, some
                )
        assert _counts(view.store)._matches  # kept
    assert (
        not _counts(writer.store)._matches
        and _counts(writer.store).matches(writer.store, "x", 1) is None
    )


def test_document_heads_are_the_rows_identity(known: SearchIndex) -> None:
    store = known.store
    rows = {d.doc_id: d for d in store.documents_all()}
    heads = store.document_heads([*rows, "missing"])
    assert set(heads) == set(rows)
    for doc_id, head in heads.items():
        assert identity_fields(head) == identity_fields(rows[doc_id])
        assert head.content_type == rows[doc_id].content_type


def test_a_new_generation_never_gets_the_old_texts_snippet(tmp_path: Path) -> None:
    """Snippets come from cached text layouts: the reader's next generation, whose document
    says something else, shows what it says now."""
    data = tmp_path / "data"
    url = "https://x.no/legevakt"
    with SearchIndex(data, HashingEmbedder(), page_chunker) as writer:
        writer.upsert(make_doc(url, "Legevakten holder åpent hele natten i hele regionen."))
        writer.commit()
        with SearchIndex(data, HashingEmbedder(), page_chunker, read_only=True) as reader:
            request = SearchRequest(q="legevakt", mode=SearchMode.LEXICAL)
            assert "natten" in reader.search(request).results[0].snippet
            writer.upsert(make_doc(url, "Legevakten flytter til nytt bygg ved sykehuset."))
            writer.commit()
            reader.refresh()
            snippet = reader.search(request).results[0].snippet
            assert "flytter" in snippet and "natten" not in snippet
            assert "<mark>Legevakten</mark>" in snippet


def test_a_readers_doc_id_cache_belongs_to_its_generation(tmp_path: Path) -> None:
    """Chunk → document ids a reader's view remembered are its snapshot's: a document removed
    and another added in the next generation is grouped by the new view's own lookups."""
    data = tmp_path / "data"
    request = SearchRequest(q="legevakt", mode=SearchMode.HYBRID)
    with SearchIndex(data, HashingEmbedder(), page_chunker) as writer:
        writer.upsert(make_doc("https://x.no/a", "Legevakten i Orkdal holder åpent."))
        writer.commit()
        with SearchIndex(data, HashingEmbedder(), page_chunker, read_only=True) as reader:
            first = reader.search(request)
            old_view = reader._current()
            assert set(old_view.doc_of.values()) == {first.results[0].doc_id}
            writer.remove(first.results[0].doc_id)
            writer.upsert(make_doc("https://x.no/b", "Legevakten i Værnes flytter."))
            writer.commit()
            reader.refresh()
            second = reader.search(request)
            assert [h.url for h in second.results] == ["https://x.no/b"]
            assert reader._current() is not old_view
            assert set(reader._current().doc_of.values()) == {second.results[0].doc_id}
            assert second.results == writer.search(request).results  # the writer: no cache


def test_lexical_caches_follow_the_analyzer() -> None:
    """Expanded queries and snippets are cached per analyzer: a refit (a new decompounder)
    is not answered from what the old analyzer made."""
    lexical = LexicalIndex()
    text = "Samarbeid om legevakt i regionen."
    assert "NEAR" not in lexical.expand("legevaktsamarbeid").match
    assert "<mark>" not in lexical.snippet(text, "legevaktsamarbeid", 300)
    counts = {"legevakt": 10, "samarbeid": 20}
    lexical.analyzer = NorwegianAnalyzer(lexical.config.analyzer, Decompounder(counts))
    assert "NEAR" in lexical.expand("legevaktsamarbeid").match
    snippet = lexical.snippet(text, "legevaktsamarbeid", 300)
    assert snippet == "<mark>Samarbeid</mark> om <mark>legevakt</mark> i regionen."


# -- fusion: the original loops, kept here as the reference ---------------------------------

Runs = list[list[tuple[int, float]]]


def _ref_dedupe(run: list[tuple[int, float]]) -> list[tuple[int, float]]:
    seen: set[int] = set()
    out = []
    for item, score in run:
        if item not in seen:
            seen.add(item)
            out.append((item, score))
    return out


def _ref_sorted(scores: dict[int, float], runs: Runs) -> list[tuple[int, float]]:
    best: dict[int, int] = {}
    first: dict[int, int] = {}
    for run in runs:
        for rank, (item, _) in enumerate(_ref_dedupe(run), start=1):
            best[item] = min(rank, best.get(item, rank))
            first.setdefault(item, len(first))
    order = sorted(scores, key=lambda i: (-round(scores[i], 12), best[i], first[i]))
    return [(i, scores[i]) for i in order]


def _ref_rrf(runs: Runs, weights: list[float]) -> list[tuple[int, float]]:
    scores: dict[int, float] = {}
    for run, w in zip(runs, weights, strict=True):
        for rank, (item, _) in enumerate(_ref_dedupe(run), start=1):
            scores[item] = scores.get(item, 0.0) + w / (60.0 + rank)
    return _ref_sorted(scores, runs)


def _minmax(values: list[float]) -> tuple[list[float], float]:
    low, high = min(values), max(values)
    if high == low:
        return [1.0] * len(values), 0.0
    return [(v - low) / (high - low) for v in values], 0.0


def _zscore(values: list[float]) -> tuple[list[float], float]:
    mean = sum(values) / len(values)
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
    if std == 0.0:
        return [0.0] * len(values), 0.0
    z = [(v - mean) / std for v in values]
    return z, min(z)


def _ref_scores(
    runs: Runs, weights: list[float], normalise: Callable[[list[float]], tuple[list[float], float]]
) -> list[tuple[int, float]]:
    tables = []
    for run in runs:
        items = _ref_dedupe(run)
        if not items:
            tables.append(({}, 0.0))
            continue
        normed, missing = normalise([s for _, s in items])
        tables.append(({i: n for (i, _), n in zip(items, normed, strict=True)}, missing))
    fused: dict[int, float] = {}
    for run in runs:
        for item, _ in run:
            if item not in fused:
                fused[item] = sum(
                    w * t.get(item, m) for (t, m), w in zip(tables, weights, strict=True)
                )
    return _ref_sorted(fused, runs)


def _random_runs(rng: random.Random) -> tuple[Runs, list[float]]:
    ids = range(rng.choice([5, 50, 1000]))
    runs = []
    for _ in range(rng.choice([1, 2, 2, 3])):
        scores = [rng.choice([1.0, 0.5, rng.random(), round(rng.random(), 1)]) for _ in ids]
        run = [(rng.choice(ids), s) for s in scores[: rng.randint(0, 300)]]
        runs.append(sorted(run, key=lambda t: -t[1]))
    return runs, [rng.choice([0.0, 0.4, 0.6, 1.0, rng.random()]) for _ in runs]


def test_fusion_gives_what_the_original_loops_give() -> None:
    """Scores, order and ties (repeated ids, equal scores, constant and empty runs)."""
    rng = random.Random(7)
    for _ in range(400):
        runs, w = _random_runs(rng)
        assert rrf(runs, weights=w) == _ref_rrf(runs, w)
        assert weighted_minmax(runs, weights=w) == _ref_scores(runs, w, _minmax)
        assert weighted_zscore(runs, weights=w) == _ref_scores(runs, w, _zscore)


def test_dedupe_keeps_the_first_of_repeated_ids() -> None:
    runs = [[(1, 3.0), (2, 2.0), (1, 1.0)], [(2, 5.0), (3, 1.0)]]
    assert weighted_zscore(runs) == _ref_scores(runs, [1.0, 1.0], _zscore)
    assert rrf([[(4, 1.0), (4, 0.5)]]) == [(4, 1.0 / 61.0)]


def test_sums_equal_but_for_addition_order_are_ties() -> None:
    """1/61 + 1/62 and 1/62 + 1/61 may differ in the last bit: still a tie, so the better
    best rank, then the id seen first, goes first (with the rounding step's neighbours)."""
    runs = [[(1, 0.0), (2, 0.0), (3, 0.0)], [(2, 0.0), (1, 0.0), (4, 0.0)]]
    assert rrf(runs) == _ref_rrf(runs, [1.0, 1.0])
    assert [i for i, _ in rrf(runs)] == [1, 2, 3, 4]
    close = [[(5, 1.0 + 4e-13), (6, 1.0), (7, 1.0 - 6e-13), (8, 0.5)]]
    assert weighted_minmax(close) == _ref_scores(close, [1.0], _minmax)


def test_a_replaced_lexical_index_goes_with_its_caches() -> None:
    """The caches hold no reference back to their index: a reader's replaced view frees its
    caches at once, not whenever the cycle collector runs."""
    lexical = LexicalIndex()
    lexical.expand("legevakt i kommunen")
    lexical.snippet("Legevakten i kommunen.", "legevakt", 300)
    gone = weakref.ref(lexical)
    gc.disable()
    try:
        del lexical
        assert gone() is None
    finally:
        gc.enable()


def test_a_replaced_views_store_is_freed_after_floor_searches(tmp_path: Path) -> None:
    """The floor's per-store caches keep no store alive: a reader's replaced view closes its
    snapshot (which would hold back WAL checkpoints) once nothing uses it."""
    data = tmp_path / "data"
    config = IndexConfig(floor=KNOWN_WORDS)
    with SearchIndex(data, HashingEmbedder(), page_chunker) as writer:
        writer.upsert(make_doc("https://x.no/0", "Legevakten i kommunen holder åpent."))
        writer.commit()
        with SearchIndex(data, HashingEmbedder(), page_chunker, config, read_only=True) as reader:
            gone = []
            for i in range(1, 4):
                assert reader.search(SearchRequest(q="legevakt kommunen")).results
                assert _counts(reader._current().store)._df  # the floor ran
                gone.append(weakref.ref(reader._current().store))
                writer.upsert(make_doc(f"https://x.no/{i}", f"Legevakten nummer {i}."))
                writer.commit()
                reader.refresh()
            gc.collect()
            assert [ref() for ref in gone] == [None, None, None]
