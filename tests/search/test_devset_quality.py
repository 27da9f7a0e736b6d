"""Search quality on the paraphrase development set's tuning part, with the real model.

The whole pipe over the bundled mirror (crawl → extract → chunk → embed → index), then the
staff-style queries of `tests/data/devset_tuning.json` and, for the off-topic floor, every
read set's off-topic queries (never the unseen fresh set). Floors sit below what
docs/retrieval.md measures on this mirror-only index, so they catch regressions without
pinning noise. The figures with NorQuAD passages as distractors are in the benchmark.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from samsok.api.services import Services
from samsok.api.settings import Settings
from samsok.search.embedding import Embedder
from samsok.search.evaluation import load_devset
from samsok.search.evaluation.devset import (
    OFF_TOPIC_MAX,
    DevSet,
    devset_judgements,
    off_topic_rate,
    run_devset,
)
from samsok.search.index import SearchIndex
from samsok.search.schemas import SearchRequest

from tests.paths import PROJECT_ROOT

pytestmark = pytest.mark.slow

TUNING = PROJECT_ROOT / "tests" / "data" / "devset_tuning.json"
HELD_OUT = PROJECT_ROOT / "tests" / "data" / "offtopic_heldout.json"
# The locked sets read by now, tuning data since (docs/retrieval.md); never the unseen one.
READ = [
    PROJECT_ROOT / "tests" / "data" / "locked" / f"devset_{n}.json"
    for n in ("locked", "fresh", "fresh2")
]


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[SearchIndex]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("devset") / "data",
        model_cache_dir=embedder.config.cache_dir,
    )
    services = Services(settings, embedder=embedder)
    services.crawl([], mirror=True)
    yield services.index
    services.close()


@pytest.fixture(scope="module")
def devset() -> DevSet:
    return load_devset(TUNING)


def test_hybrid_holds_on_paraphrase_queries(mirror: SearchIndex, devset: DevSet) -> None:
    scores = run_devset(mirror, devset, ["hybrid", "dense", "lexical"])
    hybrid, dense, lexical = (scores[m].ndcg_at_10 for m in ("hybrid", "dense", "lexical"))
    assert hybrid >= 0.80, scores
    # Fusion must not fall below its better input on paraphrases (the failure).
    assert hybrid >= max(dense, lexical) - 0.01, scores


def test_abbreviation_and_nynorsk_queries_find_their_pages(
    mirror: SearchIndex, devset: DevSet
) -> None:
    qrels = devset_judgements(mirror, devset)
    for tag in ("abbr", "nn"):
        misses = []
        queries = devset.tagged(tag)
        for query in queries:
            top = mirror.search(SearchRequest(q=query.query, limit=5)).results
            wanted = {doc for doc, grade in qrels[query.id].items() if grade == 2}
            if not wanted & {hit.doc_id for hit in top}:
                misses.append(query.query)
        assert len(misses) <= len(queries) // 4, (tag, misses)


def test_off_topic_queries_get_no_or_few_results(mirror: SearchIndex, devset: DevSet) -> None:
    # The target is >= 80 % of off-topic queries with at most 3 results. The floor
    # is calibrated on every read set's off-topic queries (86: 70 pass, 81 %, on this mirror
    # in docs/retrieval.md); the test's floor sits a query or two below that.
    sets = [devset, load_devset(HELD_OUT), *(load_devset(path) for path in READ)]
    passed = sum(off_topic_rate(mirror, s) * len(s.off_topic) for s in sets)
    assert passed / sum(len(s.off_topic) for s in sets) >= 0.78
    assert off_topic_rate(mirror, devset) >= 0.65  # 12 of 17 measured
    response = mirror.search(SearchRequest(q="fotballresultater Rosenborg"))
    assert response.total <= OFF_TOPIC_MAX and len(response.results) <= OFF_TOPIC_MAX


def test_total_counts_plausible_documents_only(mirror: SearchIndex) -> None:
    stats = mirror.stats()
    response = mirror.search(SearchRequest(q="felles legevakt for kommunene i Værnesregionen"))
    assert 1 <= response.total < stats.documents
    assert response.results[0].url.endswith("felles-legevakt-fra-1-september.html")
