"""The relevance floor (`search.index.relevance`): coverage and IDF-weighted evidence decide
which documents a query plausibly matches; "Ingen treff" for words the corpus lacks.

The hashing embedder makes cosines meaningless here, so the floors below switch the cosine
branches fully on or off and test the lexical signals; the calibrated floor with the real model
is checked on the mirror in tests/search/test_devset_quality.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from samsok.search.index import (
    CALIBRATED_FLOORS,
    IndexConfig,
    RelevanceFloor,
    SearchIndex,
    chunk_evidence,
    chunk_matches,
    query_evidence,
)
from samsok.search.index.relevance import idf
from samsok.search.schemas import SearchMode, SearchRequest

from tests.fakes import HashingEmbedder
from tests.search.test_index import make_doc, page_chunker

PAGES = {
    "https://x.no/kad": "Seks kommunale akutte døgnplasser ved sjukehuset åpner i mars.",
    "https://x.no/legevakt": "Legevakten i kommunen har åpent hele natten.",
    "https://x.no/jordmor": "Jordmor i kommunen har kontordag hver tirsdag.",
    "https://x.no/rus": "Kommunen gir oppfølging til folk med rusproblemer.",
    "https://x.no/sykehjem": "Kommunen bygger nytt sykehjem med tretti plasser.",
}

# Cosines never decide alone; any cosine counts once the corpus knows the query's words.
KNOWN_WORDS = RelevanceFloor(
    dense=1.01, dense_known=-1.0, min_coverage=0.5, dense_lexical=-1.0, min_evidence=0.99
)
# Only lexical evidence: a document needs a chunk with >= 40 % of the query's IDF mass.
EVIDENCE = RelevanceFloor(
    dense=1.01, dense_known=1.01, min_coverage=1.0, dense_lexical=-1.0, min_evidence=0.4
)


def _index(tmp_path: Path, floor: RelevanceFloor) -> SearchIndex:
    index = SearchIndex(tmp_path / "d", HashingEmbedder(), page_chunker, IndexConfig(floor=floor))
    index.upsert_many([make_doc(url, text) for url, text in PAGES.items()])
    index.reindex()  # fit the decompounder, as after a crawl
    return index


@pytest.fixture
def known(tmp_path: Path) -> Iterator[SearchIndex]:
    with _index(tmp_path, KNOWN_WORDS) as index:
        yield index


def test_words_the_corpus_lacks_get_no_results(known: SearchIndex) -> None:
    response = known.search(SearchRequest(q="fotballresultater Rosenborg"))
    assert response.total == 0 and response.results == []
    # Unfloored modes are unchanged: dense ranks everything.
    assert known.search(SearchRequest(q="fotballresultater", mode=SearchMode.DENSE)).total == 5


def test_known_words_keep_what_the_cosine_branch_allows(known: SearchIndex) -> None:
    response = known.search(SearchRequest(q="legevakt om natten"))
    assert response.total == len(PAGES)  # dense_known = -1: every candidate
    assert response.results[0].url == "https://x.no/legevakt"


def test_coverage_counts_glossary_and_nynorsk_forms(known: SearchIndex) -> None:
    view = known._current()
    # "KAD" is nowhere in the corpus, but its glossary form is: the word is known.
    kad = query_evidence(view.lexical.analyzer.query_terms("KAD"), view.store, view.lexical)
    assert kad.coverage == pytest.approx(1.0)
    absent = query_evidence(
        view.lexical.analyzer.query_terms("eiendomsskatt"), view.store, view.lexical
    )
    assert absent.coverage == 0.0
    # A known common word and an unknown rare word: the unknown one weighs more.
    mixed = query_evidence(
        view.lexical.analyzer.query_terms("kommunen eiendomsskatt"), view.store, view.lexical
    )
    assert mixed.weights[0] < mixed.weights[1]
    assert 0.0 < mixed.coverage < 0.5


def test_a_hyphenated_word_counts_as_the_lexical_run_reads_it(known: SearchIndex) -> None:
    """Each word's coverage comes from the word as written: "ØHD-plasser" is ØHD (with its
    glossary forms) plus "plasser", as the lexical run reads it; its folded text
    "øhdplasser" alone is an unknown word."""
    view = known._current()
    terms = view.lexical.analyzer.query_terms("ØHD-plasser")
    assert [t.written for t in terms] == ["ØHD-plasser"]
    assert query_evidence(terms, view.store, view.lexical).coverage == pytest.approx(1.0)
    folded = view.lexical.analyzer.query_terms(terms[0].text)
    assert query_evidence(folded, view.store, view.lexical).coverage == 0.0


def test_rare_shared_words_count_more_than_common_ones(tmp_path: Path) -> None:
    with _index(tmp_path, EVIDENCE) as index:
        # "kommunen" is on every page, "jordmor" on one: only that page has the evidence.
        response = index.search(SearchRequest(q="jordmor i kommunen"))
        assert [hit.url for hit in response.results] == ["https://x.no/jordmor"]
        assert response.total == 1
        # A common word alone is no evidence for the query's unknown rare word.
        assert index.search(SearchRequest(q="kommunen eiendomsskatt")).total == 0
        view = index._current()
        ev = query_evidence(
            view.lexical.analyzer.query_terms("jordmor kommunen"), view.store, view.lexical
        )
        ids = [c.id for c in view.store.chunks_of(view.store.documents_all()[0].doc_id)]
        shares = chunk_evidence(ev, view.store, ids)
        assert all(0.0 <= s <= 1.0 for s in shares.values())


# Lexical evidence only, and one shared word must carry half of the query's IDF mass.
ONE_WORD = RelevanceFloor(
    dense=1.01,
    dense_known=1.01,
    min_coverage=1.0,
    dense_lexical=-1.0,
    min_evidence=0.1,
    one_word_evidence=0.5,
)


def test_one_shared_word_is_evidence_only_when_it_is_most_of_the_query(tmp_path: Path) -> None:
    """An off-topic query shares one word with a regional corpus (a place, a common word);
    a chunk with two of the query's words, or one word that is most of the query, counts."""
    with _index(tmp_path, ONE_WORD) as index:
        # "jordmor" is on one page, "kinoprogram" nowhere: one word, a third of the mass.
        assert index.search(SearchRequest(q="kinoprogram jordmor")).total == 0
        # Two of the query's words in one chunk: evidence, with the unknown word beside them.
        two = index.search(SearchRequest(q="kinoprogram jordmor tirsdag"))
        assert [hit.url for hit in two.results] == ["https://x.no/jordmor"]
        # One word that is the whole query.
        assert index.search(SearchRequest(q="jordmor")).total == 1
        view = index._current()
        terms = view.lexical.analyzer.query_terms("kinoprogram jordmor tirsdag")
        ev = query_evidence(terms, view.store, view.lexical)
        ids = sorted(
            c.id for d in view.store.documents_all() for c in view.store.chunks_of(d.doc_id)
        )
        matches = chunk_matches(ev, view.store, ids)
        assert sorted(m.words for m in matches.values()) == [0, 0, 0, 0, 2]
        assert {c: m.share for c, m in matches.items()} == chunk_evidence(ev, view.store, ids)
    # Without the one-word rule the same query keeps the page: the test above can fail.
    lenient = RelevanceFloor(
        dense=1.01, dense_known=1.01, min_coverage=1.0, dense_lexical=-1.0, min_evidence=0.1
    )
    with _index(tmp_path / "lenient", lenient) as index:
        assert index.search(SearchRequest(q="kinoprogram jordmor")).total == 1


def test_idf_is_positive_and_falls_with_frequency() -> None:
    assert idf(0, 100) > idf(1, 100) > idf(50, 100) > idf(100, 100) > 0.0


def test_floor_validates_its_thresholds() -> None:
    with pytest.raises(ValueError, match="cosines"):
        RelevanceFloor(
            dense=0.8, dense_known=0.9, min_coverage=0.5, dense_lexical=0.7, min_evidence=0.2
        )
    with pytest.raises(ValueError, match="min_evidence"):
        RelevanceFloor(
            dense=0.9, dense_known=0.8, min_coverage=0.5, dense_lexical=0.7, min_evidence=1.5
        )
    with pytest.raises(ValueError, match="one_word_evidence"):
        RelevanceFloor(
            dense=0.9,
            dense_known=0.8,
            min_coverage=0.5,
            dense_lexical=0.7,
            min_evidence=0.2,
            one_word_evidence=-0.1,
        )
    assert CALIBRATED_FLOORS  # the default model has a calibrated floor


def test_lexical_subset_plans_agree(known: SearchIndex) -> None:
    """Both plans of `lexical_subset` (a `rowid IN` lookup per id; every match read and
    intersected, chosen when the caller's df says it is cheaper) give the same chunks."""
    view = known._current()
    store, lexical = view.store, view.lexical
    all_ids = sorted(c.id for d in store.documents_all() for c in store.chunks_of(d.doc_id))
    some_ids = all_ids[::2]
    for word in ("kommunen", "KAD", "jordmor", "sjukehus", "eiendomsskatt", "natten"):
        clause = lexical.expand(word).match
        df = store.lexical_count(clause)
        for ids in (all_ids, some_ids, all_ids[:1], []):
            by_lookup = store.lexical_subset(clause, ids)
            assert store.lexical_subset(clause, ids, df=df) == by_lookup  # read and intersect
            assert store.lexical_subset(clause, ids, df=10**9) == by_lookup  # lookups
            assert store.lexical_subset(clause, ids, df=0) == by_lookup  # a stale hint
            assert by_lookup <= set(ids)
    # and they find what they should: "jordmor" is on one page only
    jordmor = lexical.expand("jordmor").match
    doc = next(d for d in store.documents_all() if d.url == "https://x.no/jordmor")
    expected = {c.id for c in store.chunks_of(doc.doc_id)}
    assert store.lexical_subset(jordmor, all_ids, df=store.lexical_count(jordmor)) == expected


def test_chunk_evidence_is_the_same_with_and_without_counts(known: SearchIndex) -> None:
    view = known._current()
    ids = sorted(c.id for d in view.store.documents_all() for c in view.store.chunks_of(d.doc_id))
    terms = view.lexical.analyzer.query_terms("jordmor i kommunen KAD natten")
    ev = query_evidence(terms, view.store, view.lexical)
    assert ev.dfs is not None and len(ev.dfs) == len(ev.clauses)
    uncounted = type(ev)(ev.clauses, ev.weights, ev.coverage)  # no df hints: lookups only
    shares = chunk_evidence(ev, view.store, ids)
    assert shares == chunk_evidence(uncounted, view.store, ids)
    assert max(shares.values()) > 0.0
