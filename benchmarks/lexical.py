"""Lexical retrieval on NorQuAD validation: which analyzer settings earn their keep.

Each passage is cut into ~130-word windows (chunks). Every system ranks chunks; a document
ranks where its best chunk does (`documents_from_chunks`). Reported: document-level nDCG@10,
R@1, R@10, MRR@10, chunk-level answer containment @1/@5, and per-query latency.

Systems:
- bm25s with its own tokenizer, no stop words, no stemmer ("plain");
- bm25s with its own tokenizer + Snowball stemmer + Norwegian stop words (reference point);
- bm25s over `NorwegianAnalyzer` terms: stem + stop words, then + decompounding (index side
  only, and index + query), for several ``min_part_len``;
- SQLite FTS5 ``bm25()`` over the same analyzer terms, queried through `fts5_query`, with
  OR and with AND between query words.

The decompounder is fitted on the chunks being indexed, as the product does.

    .venv/bin/python benchmarks/lexical.py [--data /work/shared/eval/norquad]
"""

from __future__ import annotations

import argparse
import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import bm25s
import Stemmer
from _table import print_header
from eval_data import NORQUAD, load_norquad
from samsok.search import evaluation
from samsok.search.text import (
    AnalyzerConfig,
    Decompounder,
    DecompounderConfig,
    EmptyQueryError,
    NorwegianAnalyzer,
    fts5_query,
)

TOP_CHUNKS = 100  # chunks retrieved per query before collapsing to documents

Search = Callable[[str], list[int]]  # query → chunk indices, best first


@dataclass(frozen=True)
class Chunk:
    doc_id: str
    text: str


def chunk_corpus(
    data: evaluation.BeirDataset, window: int, stride: int, title: bool
) -> list[Chunk]:
    """Word windows over each passage (its first line is the title, so chunk 0 has it).

    With `title`, later chunks start with the title too (the text a chunker would prepend).
    """
    chunks: list[Chunk] = []
    for doc_id, doc in data.corpus.items():
        words = doc.text.split()
        for start in range(0, max(len(words) - (window - stride), 1), stride):
            text = " ".join(words[start : start + window])
            if title and start > 0 and doc.title:
                text = f"{doc.title}\n{text}"
            chunks.append(Chunk(doc_id, text))
    return chunks


# -- systems ------------------------------------------------------------------------------------


def bm25s_builtin(chunks: Sequence[Chunk], *, norwegian: bool) -> Search:
    stemmer = Stemmer.Stemmer("norwegian") if norwegian else None
    stopwords = "no" if norwegian else None
    corpus = bm25s.tokenize(
        [c.text for c in chunks], stopwords=stopwords, stemmer=stemmer, show_progress=False
    )
    retriever = bm25s.BM25()
    retriever.index(corpus, show_progress=False)

    def search(query: str) -> list[int]:
        tokens = bm25s.tokenize(
            query, stopwords=stopwords, stemmer=stemmer, show_progress=False, return_ids=False
        )
        return _bm25s_top(retriever, tokens[0], len(chunks))

    return search


def bm25s_analyzer(chunks: Sequence[Chunk], analyzer: NorwegianAnalyzer) -> Search:
    retriever = bm25s.BM25()
    retriever.index([analyzer.index_terms(c.text) for c in chunks], show_progress=False)

    def search(query: str) -> list[int]:
        # BM25 is a bag of words: a compound's alternatives (whole and parts) all count.
        tokens = [key for term in analyzer.query_terms(query) for key in sorted(term.keys)]
        return _bm25s_top(retriever, tokens, len(chunks))

    return search


def _bm25s_top(retriever: bm25s.BM25, tokens: list[str], n_chunks: int) -> list[int]:
    known = [t for t in tokens if t in retriever.vocab_dict]
    if not known:
        return []
    ids, scores = retriever.retrieve(
        [known], k=min(TOP_CHUNKS, n_chunks), show_progress=False, n_threads=1
    )
    return [int(i) for i, s in zip(ids[0], scores[0], strict=True) if s > 0]


def fts5(
    chunks: Sequence[Chunk], analyzer: NorwegianAnalyzer, operator: str, near: int | None = 10
) -> Search:
    conn = sqlite3.connect(":memory:")
    # The same table definition as search/store/database.py.
    conn.execute(
        "CREATE VIRTUAL TABLE chunks_fts USING fts5("
        "terms, tokenize='unicode61 remove_diacritics 0')"
    )
    conn.executemany(
        "INSERT INTO chunks_fts(rowid, terms) VALUES (?, ?)",
        ((i, " ".join(analyzer.index_terms(c.text))) for i, c in enumerate(chunks)),
    )

    def search(query: str) -> list[int]:
        try:
            match = fts5_query(analyzer.query_terms(query), operator, near)  # type: ignore[arg-type]
        except EmptyQueryError:
            return []
        rows = conn.execute(
            "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ? "
            "ORDER BY bm25(chunks_fts), rowid LIMIT ?",
            (match, TOP_CHUNKS),
        )
        return [row[0] for row in rows]

    return search


# -- running ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    name: str
    ndcg10: float
    r1: float
    r10: float
    mrr10: float
    ans1: float
    ans5: float
    p50_ms: float
    p95_ms: float
    per_query: dict[str, float]  # nDCG@10 of each query, for wins/losses against a baseline


def evaluate(
    name: str, search: Search, data: evaluation.BeirDataset, chunks: Sequence[Chunk]
) -> Row:
    doc_run: dict[str, list[str]] = {}
    chunk_run: dict[str, list[str]] = {}
    times: list[float] = []
    for query_id in data.qrels:
        started = time.perf_counter()
        ranked = search(data.queries[query_id])
        times.append(time.perf_counter() - started)
        doc_run[query_id] = evaluation.documents_from_chunks(ranked, lambda i: chunks[i].doc_id)
        chunk_run[query_id] = [chunks[i].text for i in ranked[:10]]
    scores = evaluation.evaluate_run(doc_run, data.qrels)
    answers = {q: data.answers[q] for q in data.qrels if q in data.answers}
    latency = evaluation.latency_summary(times)
    return Row(
        name,
        scores.ndcg_at_10,
        scores.recall_at_1,
        scores.recall_at_10,
        scores.mrr_at_10,
        evaluation.answer_containment(chunk_run, answers, 1),
        evaluation.answer_containment(chunk_run, answers, 5),
        latency.p50_ms,
        latency.p95_ms,
        {q: evaluation.ndcg_at_k(doc_run[q], data.qrels[q], 10) for q in data.qrels},
    )


def wins_losses(row: Row, base: Row) -> str:
    """Queries whose nDCG@10 went up / down against `base`: differences of one or two are
    noise at this size (one query moves the mean nDCG@10 by about 0.002)."""
    up = sum(row.per_query[q] > base.per_query[q] + 1e-9 for q in row.per_query)
    down = sum(row.per_query[q] < base.per_query[q] - 1e-9 for q in row.per_query)
    return f"+{up}/-{down}"


def print_table(rows: Sequence[Row], baselines: Sequence[Row], n_chunks: int) -> None:
    """`baselines[i]` is the row that row i's wins/losses are counted against."""
    queries = len(rows[0].per_query)
    print(f"NorQuAD validation: {queries} queries, {n_chunks} chunks (document-level metrics)")
    print_header(
        "system:<50|nDCG@10:>7|R@1:>6|R@10:>6|MRR@10:>7|ans@1:>6|ans@5:>6|vs base:>8|"
        "p50 ms:>7|p95 ms:>7"
    )
    for r, base in zip(rows, baselines, strict=True):
        versus = "base" if r is base else wins_losses(r, base)
        print(
            f"{r.name:<50} {r.ndcg10:7.3f} {r.r1:6.3f} {r.r10:6.3f} {r.mrr10:7.3f} "
            f"{r.ans1:6.3f} {r.ans5:6.3f} {versus:>8} {r.p50_ms:7.2f} {r.p95_ms:7.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=NORQUAD)
    parser.add_argument("--window", type=int, default=130, help="words per chunk")
    parser.add_argument("--stride", type=int, default=130, help="words between chunk starts")
    parser.add_argument(
        "--title", action="store_true", help="repeat the passage title at the top of each chunk"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    data = load_norquad(args.data)
    chunks = chunk_corpus(data, args.window, args.stride, args.title)
    texts = [c.text for c in chunks]

    def analyzer(min_part: int | None, query: bool = True) -> NorwegianAnalyzer:
        """Stem + stop words; with `min_part`, a decompounder fitted on the chunks."""
        if min_part is None:
            return NorwegianAnalyzer(AnalyzerConfig(decompound_index=False, decompound_query=False))
        decompounder = Decompounder.fit(texts, DecompounderConfig(min_part_len=min_part))
        return NorwegianAnalyzer(AnalyzerConfig(decompound_query=query), decompounder)

    systems: list[tuple[str, Callable[[], Search]]] = [
        ("bm25s plain (own tokenizer)", lambda: bm25s_builtin(chunks, norwegian=False)),
        ("bm25s own tokenizer + stemmer + stop", lambda: bm25s_builtin(chunks, norwegian=True)),
        ("bm25s + analyzer (stem+stop)", lambda: bm25s_analyzer(chunks, analyzer(None))),
    ]

    def bm25s_with(min_part: int, query: bool) -> Callable[[], Search]:
        return lambda: bm25s_analyzer(chunks, analyzer(min_part, query))

    for m in (3, 4, 5):
        systems += [
            (f"bm25s + analyzer + decomp index (part>={m})", bm25s_with(m, query=False)),
            (f"bm25s + analyzer + decomp idx+query (part>={m})", bm25s_with(m, query=True)),
        ]
    systems += [
        ("FTS5 OR + analyzer (stem+stop)", lambda: fts5(chunks, analyzer(None), "OR")),
        ("FTS5 OR + decomp index (part>=3)", lambda: fts5(chunks, analyzer(3, False), "OR")),
        (
            "FTS5 OR + decomp idx+query, parts AND (part>=3)",
            lambda: fts5(chunks, analyzer(3), "OR", None),
        ),
        ("FTS5 OR + decomp idx+query, parts NEAR/3", lambda: fts5(chunks, analyzer(3), "OR", 3)),
        (
            "FTS5 OR + decomp idx+query, NEAR/10 = defaults",
            lambda: fts5(chunks, analyzer(3), "OR", 10),
        ),
        (
            "FTS5 OR + decomp idx+query, NEAR/10 (part>=4)",
            lambda: fts5(chunks, analyzer(4), "OR", 10),
        ),
        ("FTS5 AND + decomp idx+query, NEAR/10", lambda: fts5(chunks, analyzer(3), "AND", 10)),
    ]
    rows = [evaluate(name, build(), data, chunks) for name, build in systems]
    # bm25s rows are compared with bm25s over the analyzer without decompounding, FTS5 rows
    # with FTS5 over the same.
    bm25s_base = next(r for r in rows if r.name.startswith("bm25s + analyzer (stem+stop)"))
    fts5_base = next(r for r in rows if r.name.startswith("FTS5 OR + analyzer (stem+stop)"))
    baselines = [fts5_base if r.name.startswith("FTS5") else bm25s_base for r in rows]
    print_table(rows, baselines, len(chunks))


if __name__ == "__main__":
    main()
