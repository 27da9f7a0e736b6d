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

`--dev-folder D --mirror-folder M` (with `--keep N`) instead prints every set side by side
through `samsok.search.evaluation.report.side_by_side`, the same table `samsok eval
--baselines` prints: NorQuAD, the paraphrase development set's tuning part, the held-out
off-topic queries and, with `--locked`, the four locked sets in their own columns: the third
fresh one (`FRESH3_LABEL`: written on 2026-12-03 in the evening, after the second had been
read, to be read once, at the end), the second fresh one (`FRESH2_LABEL`: read blind once, at
the end of the session that wrote it), the first fresh one (`FRESH_LABEL`: read blind once, on
2026-12-03) and the locked third (`LOCKED_LABEL`); docs/retrieval.md.

The defaults in `samsok.search.index.core.IndexConfig` and `samsok.ingest.config.ChunkConfig` come
from these runs; the sweeps and their tables are in docs/retrieval.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, replace
from functools import partial
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np
from _table import print_header
from eval_data import (
    DEV_FRESH,
    DEV_FRESH2,
    DEV_FRESH3,
    DEV_LOCKED,
    DEV_TUNING,
    NORQUAD,
    OFF_HELDOUT,
    load_norquad,
)
from samsok.api.settings import Settings
from samsok.ingest.chunk import chunk_document
from samsok.ingest.config import ChunkConfig
from samsok.search.embedding import Embedder
from samsok.search.evaluation import (
    FRESH2_LABEL,
    FRESH3_LABEL,
    FRESH_LABEL,
    LOCKED_LABEL,
    BeirDataset,
    Bm25sTokens,
    EvalSets,
    ModeScores,
    bm25s_scores,
    format_rows,
    ingest_corpus,
    judgements,
    load_devset,
    run_evaluation,
    side_by_side,
)
from samsok.search.index import IndexConfig, SearchIndex
from samsok.search.schemas import SearchMode

# -- bm25s baselines ------------------------------------------------------------------------------


def bm25s_baseline(index: SearchIndex, dataset: BeirDataset, tokens: Bm25sTokens) -> ModeScores:
    """bm25s over the index's chunks (`samsok.search.evaluation.baselines`)."""
    corpus_of, qrels = judgements(index, dataset)
    return bm25s_scores(index, dataset, qrels, tokens, corpus_of)


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
    print_header(
        "system:<14|nDCG@10:>7|R@1:>6|R@5:>6|R@10:>6|MRR@10:>7|ans@5:>6|p50 ms:>7|p95 ms:>7|"
        f"vs {base}:>17"
    )
    for name, s in rows.items():
        versus = "-" if name == base else _versus(s, rows[base])
        print(f"{name:<14} {_cells(s)} {versus:>17}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=NORQUAD)
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
        "--locked",
        action="store_true",
        help="also report the locked sets: FRESH 3 (once, at the end), FRESH 2, FRESH, the third",
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
        devsets = {"dev tuning": load_devset(DEV_TUNING), "held-out": load_devset(OFF_HELDOUT)}
        if args.locked:  # labelled so that the unseen set is not mistaken for the read one
            devsets[FRESH3_LABEL] = load_devset(DEV_FRESH3)
            devsets[FRESH2_LABEL] = load_devset(DEV_FRESH2)
            devsets[FRESH_LABEL] = load_devset(DEV_FRESH)
            devsets[LOCKED_LABEL] = load_devset(DEV_LOCKED)
        sets = EvalSets(
            beir={"NorQuAD": (args.keep, dataset)},
            dev_folder=args.dev_folder,
            devsets=devsets,
            mirror_folder=args.mirror_folder,
        )
        table = side_by_side(sets, QueryCache(embedder), chunker, config)  # type: ignore[arg-type]
        if args.json:
            print(json.dumps({r.system: r.figures for r in table}, indent=2))
        else:
            print("\n".join(format_rows(table)))
        return

    with tempfile.TemporaryDirectory(prefix="samsok-bench-") as tmp:
        folder = args.keep or Path(tmp)
        with SearchIndex(folder, embedder, chunker, config) as index:
            report = ingest_corpus(index, dataset, progress=not args.json)
            rows: dict[str, ModeScores] = dict(
                run_evaluation(dataset, list(SearchMode), index=index, ingest=False)
            )
            plain = bm25s_baseline(index, dataset, Bm25sTokens.PLAIN)
            stemmed = bm25s_baseline(index, dataset, Bm25sTokens.STEMMED)
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
