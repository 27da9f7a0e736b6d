"""Retrieval on NorQuAD validation: hybrid, dense and lexical side by side with bm25s baselines.

The corpus is ingested into a `SearchIndex` exactly as the product does it (`samsok.ingest.chunk`,
the embedding model, FTS5 with the Norwegian analyzer and its decompounder) and every mode is
run through `SearchIndex.search` by `samsok.search.evaluation.runner.run_evaluation`. In the same
run, two bm25s baselines index the very same chunk texts:

- "bm25s plain": bm25s's own tokenizer, no stemmer, no stop words;
- "bm25s stemmed": `samsok.search.text.analyze.NorwegianAnalyzer` terms (Snowball stemmer +
  Norwegian stop words; no decompounder) for chunks and queries.

Document-level nDCG@10, R@1/5/10, MRR@10 (a document ranks where its best chunk does),
chunk-level answer@5, per-query latency p50/p95 (ms; the modes through `search`, query
embedding included; bm25s through `retrieve`), and, per system, queries whose nDCG@10 went up /
down against stemmed bm25s (one query moves the mean by about 0.002).

    .venv/bin/python benchmarks/retrieval.py [--data DIR] [--keep DIR]
        [--max-tokens 128] [--overlap 16] [--no-title]
        [--fusion zscore|minmax|rrf] [--dense-weight W] [--candidates N] [--rrf-k K]
        [--sweep] [--json]

`--keep DIR` keeps the ingested folder: a later run with the same chunking embeds nothing (use
one folder per chunking). `--sweep` then scores hybrid for every fusion method, dense weight and
candidate depth over that one ingest (query vectors computed once).

The defaults in `samsok.search.index.IndexConfig` and `samsok.ingest.config.ChunkConfig` come
from these runs; the sweeps and their tables are in docs/retrieval.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from functools import partial
from itertools import product
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
from samsok.api.settings import Settings
from samsok.ingest.chunk import chunk_document
from samsok.ingest.config import ChunkConfig
from samsok.search.embedding import Embedder
from samsok.search.evaluation.devset import DevSet, load_devset
from samsok.search.evaluation.metrics import BeirDataset, documents_from_chunks, load_beir
from samsok.search.evaluation.runner import (
    ModeScores,
    devset_judgements,
    ingest_corpus,
    judgements,
    off_topic_rate,
    run_devset,
    run_evaluation,
    score_runs,
)
from samsok.search.index import IndexConfig, LexicalConfig, LexicalIndex, SearchIndex
from samsok.search.schemas import SearchMode
from samsok.search.text.analyze import NorwegianAnalyzer

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "eval" / "norquad"
DEV_TUNING = ROOT / "tests" / "data" / "devset_tuning.json"
DEV_LOCKED = ROOT / "tests" / "data" / "locked" / "devset_locked.json"
TOP_CHUNKS = 100  # chunks a baseline retrieves per query (documents from their best chunk)
ANSWER_K = 5

Tokenize = Callable[[str], list[str]]


def load_norquad(folder: Path) -> BeirDataset:
    return load_beir(
        folder / "corpus.jsonl",
        folder / "queries_validation.jsonl",
        folder / "qrels_validation.tsv",
        folder / "answers_validation.jsonl",
    )


# -- bm25s baselines ------------------------------------------------------------------------------


def bm25s_baseline(
    index: SearchIndex, dataset: BeirDataset, tokenize: Tokenize | None
) -> ModeScores:
    """bm25s over the index's chunks; `tokenize` None = bm25s's own tokenizer."""
    corpus_of, qrels = judgements(index, dataset)
    rows = list(index.chunk_texts())
    texts = [row.text for row in rows]
    docs = [corpus_of.get(row.doc_id, row.doc_id) for row in rows]
    retriever = bm25s.BM25()
    if tokenize is None:
        retriever.index(
            bm25s.tokenize(texts, stopwords=None, show_progress=False), show_progress=False
        )
    else:
        retriever.index([tokenize(t) for t in texts], show_progress=False)

    def query_tokens(text: str) -> list[str]:
        if tokenize is None:
            return bm25s.tokenize(text, stopwords=None, show_progress=False, return_ids=False)[0]
        return tokenize(text)

    judged = [q for q, rel in qrels.items() if any(r > 0 for r in rel.values())]
    doc_run: dict[str, list[str]] = {}
    chunk_run: dict[str, list[str]] = {}
    seconds: list[float] = []
    for query_id in judged:
        started = time.perf_counter()
        known = [t for t in query_tokens(dataset.queries[query_id]) if t in retriever.vocab_dict]
        ranked: list[int] = []
        if known:
            ids, scores = retriever.retrieve(
                [known], k=min(TOP_CHUNKS, len(texts)), show_progress=False, n_threads=1
            )
            ranked = [int(i) for i, s in zip(ids[0], scores[0], strict=True) if s > 0]
        seconds.append(time.perf_counter() - started)
        doc_run[query_id] = documents_from_chunks(ranked, docs.__getitem__)
        chunk_run[query_id] = [texts[i] for i in ranked[:ANSWER_K]]
    return score_runs(dataset, judged, qrels, doc_run, chunk_run, seconds)


def bm25s_devset(index: SearchIndex, devset: DevSet, tokenize: Tokenize) -> ModeScores:
    """The stemmed bm25s baseline over the index's chunks for the development set."""
    qrels = devset_judgements(index, devset)
    queries = {q.id: q.query for q in devset.queries if q.id in qrels}
    dataset = BeirDataset({}, queries, qrels, {})
    rows = list(index.chunk_texts())
    texts = [row.text for row in rows]
    docs = [row.doc_id for row in rows]
    retriever = bm25s.BM25()
    retriever.index([tokenize(t) for t in texts], show_progress=False)
    doc_run: dict[str, list[str]] = {}
    for query_id, text in queries.items():
        known = [t for t in tokenize(text) if t in retriever.vocab_dict]
        ranked: list[int] = []
        if known:
            ids, scores = retriever.retrieve(
                [known], k=min(TOP_CHUNKS, len(texts)), show_progress=False, n_threads=1
            )
            ranked = [int(i) for i, s in zip(ids[0], scores[0], strict=True) if s > 0]
        doc_run[query_id] = documents_from_chunks(ranked, docs.__getitem__)
    return score_runs(dataset, list(queries), qrels, doc_run, {}, [0.0] * len(queries))


# Systems compared side by side: (name, index config, query expansion, mode).
BEFORE = IndexConfig(fusion="zscore", dense_weight=0.5, relevance_floor=False)
SYSTEMS: tuple[tuple[str, IndexConfig | None, bool, SearchMode], ...] = (
    ("hybrid", None, True, SearchMode.HYBRID),
    ("dense", None, True, SearchMode.DENSE),
    ("lexical", None, True, SearchMode.LEXICAL),
    ("before: z 0.5 plain", BEFORE, False, SearchMode.HYBRID),
    ("min-max 0.5 plain", replace(BEFORE, fusion="minmax"), False, SearchMode.HYBRID),
    ("RRF k=60 plain", replace(BEFORE, fusion="rrf"), False, SearchMode.HYBRID),
    ("lexical plain", BEFORE, False, SearchMode.LEXICAL),
)


def side_by_side(
    embedder: Embedder,
    chunker: Any,
    norquad: tuple[Path, BeirDataset],
    dev_folder: Path,
    mirror_folder: Path | None,
    devsets: dict[str, DevSet],
    product: IndexConfig,
) -> dict[str, dict[str, float]]:
    """System → {column: figure}: NorQuAD nDCG@10 / R@10, each dev set's nDCG@10 and R@10
    (plus its abbreviation and Nynorsk subsets), and the off-topic pass rate on the mirror."""
    cached = QueryCache(embedder)
    table: dict[str, dict[str, float]] = {}
    for name, config, expand, mode in SYSTEMS:
        cfg = config or product
        row: dict[str, float] = {}

        def open_index(folder: Path, cfg: IndexConfig = cfg, expand: bool = expand) -> SearchIndex:
            lexical = LexicalIndex(LexicalConfig(expand=expand))
            return SearchIndex(folder, cached, chunker, cfg, lexical)  # type: ignore[arg-type]

        with open_index(norquad[0]) as index:
            s = run_evaluation(norquad[1], [mode], index=index, ingest=False)[mode.value]
        row["norquad nDCG"], row["norquad R@10"] = s.ndcg_at_10, s.recall_at_10
        with open_index(dev_folder) as index:
            for set_name, devset in devsets.items():
                s = run_devset(index, devset, [mode])[mode.value]
                row[f"{set_name} nDCG"], row[f"{set_name} R@10"] = s.ndcg_at_10, s.recall_at_10
                for tag in ("abbr", "nn"):
                    s = run_devset(index, devset, [mode], tag=tag)[mode.value]
                    row[f"{set_name} {tag}"] = s.ndcg_at_10
        if mirror_folder is not None and mode != SearchMode.LEXICAL:
            with open_index(mirror_folder) as index:
                for set_name, devset in devsets.items():
                    row[f"{set_name} off-topic"] = off_topic_rate(index, devset, mode)
        table[name] = row
    analyzer = NorwegianAnalyzer()
    row = {}
    with SearchIndex(norquad[0], cached, chunker, product) as index:  # type: ignore[arg-type]
        s = bm25s_baseline(index, norquad[1], analyzer.index_terms)
        row["norquad nDCG"], row["norquad R@10"] = s.ndcg_at_10, s.recall_at_10
    with SearchIndex(dev_folder, cached, chunker, product) as index:  # type: ignore[arg-type]
        for set_name, devset in devsets.items():
            s = bm25s_devset(index, devset, analyzer.index_terms)
            row[f"{set_name} nDCG"], row[f"{set_name} R@10"] = s.ndcg_at_10, s.recall_at_10
            for tag in ("abbr", "nn"):
                sub = DevSet(devset.tagged(tag), ())
                row[f"{set_name} {tag}"] = bm25s_devset(index, sub, analyzer.index_terms).ndcg_at_10
    table["bm25s stemmed"] = row
    return table


def print_side_by_side(table: dict[str, dict[str, float]]) -> None:
    columns = list(dict.fromkeys(c for row in table.values() for c in row))
    print(f"{'system':<22}" + "".join(f"{c:>18}" for c in columns))
    for name, row in table.items():
        cells = "".join(f"{row[c]:>18.4f}" if c in row else f"{'-':>18}" for c in columns)
        print(f"{name:<22}{cells}")


# -- query vectors once, for sweeps ---------------------------------------------------------------


class QueryCache:
    """An embedder whose query vectors are computed once (sweeps rank the same queries)."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder
        self._vectors: dict[str, np.ndarray] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._embedder, name)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in texts if t not in self._vectors]
        if missing:
            self._vectors.update(zip(missing, self._embedder.embed_queries(missing), strict=True))
        return np.vstack([self._vectors[t] for t in texts])


def sweep(
    folder: Path,
    embedder: Embedder,
    chunker: Any,
    dataset: BeirDataset,
    base: IndexConfig,
    *,
    verbose: bool,
) -> list[tuple[IndexConfig, ModeScores]]:
    """Hybrid over fusion × dense weight × candidates (answers only for the default depth)."""
    cached = QueryCache(embedder)
    grid: list[IndexConfig] = []
    for fusion, weight, depth in product(
        ("zscore", "minmax", "rrf"), (0.3, 0.4, 0.5, 0.6, 0.7), (50, 100, 200, 400)
    ):
        grid.append(replace(base, fusion=fusion, dense_weight=weight, candidates=depth))
    for k in (10, 30, 60, 100):
        grid.append(replace(base, fusion="rrf", dense_weight=0.5, rrf_k=k))
    out = []
    for config in grid:
        with SearchIndex(folder, cached, chunker, config) as index:  # type: ignore[arg-type]
            scores = run_evaluation(dataset, [SearchMode.HYBRID], index=index, ingest=False)
        out.append((config, scores["hybrid"]))
        if verbose:
            print(
                f"  {_describe(config):<34} {_cells(scores['hybrid'], latency=False)}", flush=True
            )
    return out


# -- output ---------------------------------------------------------------------------------------


def _describe(config: IndexConfig) -> str:
    if config.fusion == "rrf":
        return f"rrf k={config.rrf_k} w={config.dense_weight} cand={config.candidates}"
    return f"{config.fusion} w={config.dense_weight} cand={config.candidates}"


def _cells(s: ModeScores, *, latency: bool = True) -> str:
    answer = f"{s.answer_at_5:6.3f}" if s.answer_at_5 is not None else f"{'-':>6}"
    text = (
        f"{s.ndcg_at_10:7.4f} {s.recall_at_1:6.3f} {s.recall_at_5:6.3f} {s.recall_at_10:6.3f} "
        f"{s.mrr_at_10:7.4f} {answer}"
    )
    if latency:
        text += f" {s.latency_ms_p50:7.1f} {s.latency_ms_p95:7.1f}"
    return text


def _versus(row: ModeScores, base: ModeScores) -> str:
    a, b = row.ndcg_per_query, base.ndcg_per_query
    up = sum(a[q] > b[q] + 1e-9 for q in a)
    down = sum(a[q] < b[q] - 1e-9 for q in a)
    return f"+{up}/-{down}"


def print_table(rows: dict[str, ModeScores], base: str) -> None:
    header = (
        f"{'system':<14} {'nDCG@10':>7} {'R@1':>6} {'R@5':>6} {'R@10':>6} {'MRR@10':>7} "
        f"{'ans@5':>6} {'p50 ms':>7} {'p95 ms':>7} {'vs ' + base:>17}"
    )
    print(header)
    print("-" * len(header))
    for name, s in rows.items():
        versus = "-" if name == base else _versus(s, rows[base])
        print(f"{name:<14} {_cells(s)} {versus:>17}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--keep", type=Path, help="data folder to reuse (one per chunking)")
    parser.add_argument("--max-tokens", type=int, default=ChunkConfig.max_tokens)
    parser.add_argument("--overlap", type=int, default=ChunkConfig.overlap_tokens)
    parser.add_argument("--no-title", action="store_true", help="no title line in chunks")
    parser.add_argument("--fusion", choices=("zscore", "minmax", "rrf"), default=IndexConfig.fusion)
    parser.add_argument("--dense-weight", type=float, default=IndexConfig.dense_weight)
    parser.add_argument("--candidates", type=int, default=IndexConfig.candidates)
    parser.add_argument("--rrf-k", type=int, default=IndexConfig.rrf_k)
    parser.add_argument("--sweep", action="store_true", help="also sweep the fusion settings")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument(
        "--dev-folder",
        type=Path,
        help="folder with the NorQuAD passages plus the crawled mirror: also report the "
        "paraphrase development set side by side",
    )
    parser.add_argument("--mirror-folder", type=Path, help="the mirror alone, for off-topic")
    parser.add_argument(
        "--locked", action="store_true", help="also report the LOCKED third (once, at the end)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("bm25s").setLevel(logging.WARNING)

    dataset = load_norquad(args.data)
    settings = Settings()  # type: ignore[call-arg]  # every field has a default
    embedder = Embedder(settings.embed_config())
    chunk_config = ChunkConfig(
        max_tokens=args.max_tokens, overlap_tokens=args.overlap, include_title=not args.no_title
    )
    chunker = partial(chunk_document, config=chunk_config, count_tokens=embedder.count_tokens)
    config = IndexConfig(
        fusion=args.fusion,
        dense_weight=args.dense_weight,
        candidates=args.candidates,
        rrf_k=args.rrf_k,
    )
    if args.dev_folder:
        if not args.keep:
            parser.error("--dev-folder needs --keep (the NorQuAD folder)")
        with SearchIndex(args.keep, embedder, chunker, config) as index:
            ingest_corpus(index, dataset)  # idempotent: embeds nothing when up to date
        devsets = {"dev tuning": load_devset(DEV_TUNING)}
        if args.locked:
            devsets["dev LOCKED"] = load_devset(DEV_LOCKED)
        table = side_by_side(
            embedder,
            chunker,
            (args.keep, dataset),
            args.dev_folder,
            args.mirror_folder,
            devsets,
            config,
        )
        if args.json:
            print(json.dumps(table, indent=2))
        else:
            print_side_by_side(table)
        return

    with tempfile.TemporaryDirectory(prefix="samsok-bench-") as tmp:
        folder = args.keep or Path(tmp)
        with SearchIndex(folder, embedder, chunker, config) as index:
            report = ingest_corpus(index, dataset, progress=not args.json)
            rows: dict[str, ModeScores] = dict(
                run_evaluation(dataset, list(SearchMode), index=index, ingest=False)
            )
            plain = bm25s_baseline(index, dataset, None)
            analyzer = NorwegianAnalyzer()
            stemmed = bm25s_baseline(index, dataset, analyzer.index_terms)
        rows["bm25s plain"] = plain
        rows["bm25s stemmed"] = stemmed
        if args.sweep and not args.json:
            print("sweep (hybrid):", flush=True)
        swept = (
            sweep(folder, embedder, chunker, dataset, config, verbose=not args.json)
            if args.sweep
            else []
        )

    setup = {
        "chunking": asdict(chunk_config),
        "index": asdict(config),
        "model": embedder.model_id,
        "passages": report.documents,
        "chunks": report.chunks,
        "queries": rows["hybrid"].queries,
    }
    if args.json:
        out: dict[str, Any] = {"setup": setup, **{k: v.as_dict() for k, v in rows.items()}}
        if swept:
            out["sweep"] = [{"config": asdict(c), **s.as_dict()} for c, s in swept]
        print(json.dumps(out, indent=2))
        return
    print(
        f"NorQuAD validation: {setup['queries']} queries, {report.documents} passages, "
        f"{report.chunks} chunks (max_tokens {chunk_config.max_tokens}, overlap "
        f"{chunk_config.overlap_tokens}, title {chunk_config.include_title}); "
        f"hybrid = {_describe(config)}"
    )
    print_table(rows, "bm25s stemmed")


if __name__ == "__main__":
    main()
