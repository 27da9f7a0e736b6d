"""bm25s baselines over an index's own chunks, for side-by-side reports.

Both index the very same chunk texts the product searches (title line included), so a
difference is the ranking, not the data:

- `Bm25sTokens.PLAIN`: bm25s's own tokenizer, no stemmer, no stop words;
- `Bm25sTokens.STEMMED`: the Norwegian analyzer's index terms (Snowball stems, stop words,
  compound parts), for chunks and queries alike.

A document ranks where its best chunk ranks (as in `SearchIndex.search`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

from samsok.search.errors import BaselineUnavailable
from samsok.search.evaluation.metrics import BeirDataset, documents_from_chunks
from samsok.search.evaluation.runner import ModeScores, score_runs
from samsok.search.index import SearchIndex
from samsok.search.text import NorwegianAnalyzer

__all__ = ["TOP_CHUNKS", "Bm25sBaseline", "Bm25sTokens", "bm25s_scores"]

TOP_CHUNKS = 100  # chunks a baseline retrieves per query (documents from their best chunk)
_ANSWER_K = 5


class Bm25sTokens(StrEnum):
    PLAIN = "plain"
    STEMMED = "stemmed"


class Bm25sBaseline:
    """bm25s over `index`'s chunks, indexed once and scored on as many query sets as asked
    (a development set and its tagged subsets share one index)."""

    def __init__(
        self, index: SearchIndex, tokens: Bm25sTokens, corpus_of: Mapping[str, str] | None = None
    ) -> None:
        try:  # the scientific stack's import cost only where a baseline is asked for
            import bm25s
        except ImportError as exc:  # not in a plain `pip install samsok`
            raise BaselineUnavailable(
                "the bm25s baseline needs the bm25s package: pip install 'samsok[dev]'"
            ) from exc
        rows = list(index.chunk_texts())
        self._texts = [row.text for row in rows]
        names = corpus_of or {}
        self._docs = [names.get(row.doc_id, row.doc_id) for row in rows]
        self._tokenize = _tokenizer(tokens)
        self._retriever: Any = bm25s.BM25()
        self._retriever.index([self._tokenize(t) for t in self._texts], show_progress=False)

    def scores(self, dataset: BeirDataset, qrels: Mapping[str, Mapping[str, int]]) -> ModeScores:
        """Score `dataset`'s queries judged in `qrels` (keyed by stored document id, or by
        corpus id when the baseline was given `corpus_of`: stored id → corpus id)."""
        texts, retriever = self._texts, self._retriever
        judged = [q for q, rel in qrels.items() if q in dataset.queries and any(rel.values())]
        doc_run: dict[str, list[str]] = {}
        chunk_run: dict[str, list[str]] = {}
        seconds: list[float] = []
        for query_id in judged:
            started = time.perf_counter()
            terms = self._tokenize(dataset.queries[query_id])
            known = [t for t in terms if t in retriever.vocab_dict]
            ranked: list[int] = []
            if known and texts:
                ids, scores = retriever.retrieve(
                    [known], k=min(TOP_CHUNKS, len(texts)), show_progress=False, n_threads=1
                )
                ranked = [int(i) for i, s in zip(ids[0], scores[0], strict=True) if s > 0]
            seconds.append(time.perf_counter() - started)
            doc_run[query_id] = documents_from_chunks(ranked, self._docs.__getitem__)
            chunk_run[query_id] = [texts[i] for i in ranked[:_ANSWER_K]]
        return score_runs(dataset, judged, qrels, doc_run, chunk_run, seconds)


def bm25s_scores(
    index: SearchIndex,
    dataset: BeirDataset,
    qrels: Mapping[str, Mapping[str, int]],
    tokens: Bm25sTokens,
    corpus_of: Mapping[str, str] | None = None,
) -> ModeScores:
    """Score bm25s over `index`'s chunks on one query set (see `Bm25sBaseline`)."""
    return Bm25sBaseline(index, tokens, corpus_of).scores(dataset, qrels)


def _tokenizer(tokens: Bm25sTokens) -> Callable[[str], list[str]]:
    if tokens == Bm25sTokens.STEMMED:
        return NorwegianAnalyzer().index_terms
    import bm25s

    def plain(text: str) -> list[str]:
        out: list[str] = bm25s.tokenize(
            text, stopwords=None, show_progress=False, return_ids=False
        )[0]
        return out

    return plain
