"""Scale benchmark: a synthetic index of N chunks, built through the real store/index code.

    python benchmarks/scale.py --chunks 100000 [--data DIR] [--queries 200]

No model runs: each chunk text gets a deterministic unit vector (seeded by the text's hash,
around one of `--clusters` centres, so nearest neighbours and ANN recall mean something).
Texts are Norwegian sentences from the NorQuAD corpus and the mirror pages, mixed into chunks
of 3–6 sentences; 8 chunks per document; regions, types and dates spread like the mirror.

Reported (figures printed; "today" = the exact flat index the product used before, measured
in the same run on the same store):
- build time (upsert + commits), disk per chunk, vector index bytes per chunk, RSS per chunk
- open time of a read-only index (what an API replica does)
- p50/p95 of dense, lexical and hybrid `SearchIndex.search` end to end, with and without
  filters (region / type / date), the query vector precomputed (no embedding in the figure)
- the cost of committing 100 changed documents (a delta) vs rewriting the whole FAISS file
- ANN recall@10 against exact search over the stored vectors
"""

from __future__ import annotations

import gc
import hashlib
import html
import json
import os
import re
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import faiss
import numpy as np
from _table import int_options, percentiles
from eval_data import NORQUAD, ROOT
from samsok.ingest.documents import DocType, Document, Page, Region
from samsok.search.index import DenseConfig, DenseIndex, IndexConfig, SearchIndex
from samsok.search.index.snippets import make_snippet
from samsok.search.schemas import SearchMode, SearchRequest
from samsok.search.store import Filters
from samsok.search.text import AnalyzedToken, NorwegianAnalyzer

sys.path.insert(0, str(ROOT))  # the one-chunk-per-page test chunker lives with the tests

from tests.fakes import page_chunker

DIM = 384
CHUNKS_PER_DOC = 8
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def sentences() -> list[str]:
    """Norwegian sentences from NorQuAD and the mirror (tags stripped)."""
    out: list[str] = []
    corpus = NORQUAD / "corpus.jsonl"
    if corpus.exists():
        for line in corpus.read_text("utf-8").splitlines():
            out.extend(_SENTENCE.split(json.loads(line)["text"].replace("\n", " ")))
    for page in (ROOT / "corpus" / "mirror").rglob("*.htm*"):
        text = re.sub(
            r"<script.*?</script>|<style.*?</style>|<[^>]+>",
            " ",
            page.read_text("utf-8", errors="replace"),
            flags=re.S,
        )
        out.extend(_SENTENCE.split(html.unescape(re.sub(r"\s+", " ", text))))
    return [s.strip() for s in out if 25 <= len(s.strip()) <= 400]


class SyntheticEmbedder:
    """Deterministic vectors: the text's hash picks a cluster and seeds the noise."""

    def __init__(self, clusters: int, queries: dict[str, np.ndarray] | None = None) -> None:
        self.dim = DIM
        self.model_id = "bench:synthetic"
        self.max_tokens = 512
        rng = np.random.default_rng(7)
        self.centres = rng.normal(size=(clusters, DIM)).astype(np.float32)
        self.queries = queries or {}

    def vector(self, text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
        rng = np.random.default_rng(seed)
        vec = self.centres[seed % len(self.centres)] + 0.9 * rng.standard_normal(DIM)
        return (vec / np.linalg.norm(vec)).astype(np.float32)

    def embed_documents(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIM), np.float32)
        return np.vstack([self.vector(t) for t in texts])

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return np.vstack([self.queries.get(t, self.vector(t)) for t in texts])

    def count_tokens(self, text: str) -> int:
        return len(text.split()) + 2


def make_doc(i: int, pool: list[str], rng: np.random.Generator, version: int = 0) -> Document:
    region = Region.ORKDAL if rng.random() < 0.55 else Region.VAERNES
    kind = [DocType.NEWS, DocType.PAGE, DocType.REPORT][int(rng.choice(3, p=[0.5, 0.35, 0.15]))]
    pages = []
    for p in range(CHUNKS_PER_DOC):
        picks = rng.integers(0, len(pool), int(rng.integers(3, 7)))
        text = " ".join(pool[j] for j in picks)
        pages.append(Page(p + 1, f"{text} (sak {i}-{p}{'' if not version else f' v{version}'})"))
    published = date(2005, 1, 1) + timedelta(days=int(rng.integers(0, 21 * 365)))
    return Document(
        url=f"https://{region.value}.example/sak/{i}.html",
        source="bench",
        region=region,
        doc_type=kind,
        title=f"Sak {i}",
        pages=pages,
        published=published,
    )


def rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def disk(data: Path, pattern: str = "*") -> int:
    return sum(p.stat().st_size for p in data.glob(pattern) if p.is_file())


def build(
    data: Path,
    n_chunks: int,
    config: IndexConfig,
    embedder: SyntheticEmbedder,
    budget_s: float | None = None,
) -> tuple[float, int]:
    """Build (or continue building) the index up to `n_chunks`; stop early once `budget_s`
    seconds have passed. Returns (seconds spent, chunks added). Documents are numbered;
    a resumed build goes on from the documents already stored, each document's text seeded
    by its number, so a resumed build makes the same documents a fresh one would."""
    pool = sentences()
    docs = n_chunks // CHUNKS_PER_DOC
    started = time.perf_counter()
    with SearchIndex(data, embedder, page_chunker, config) as index:
        counts = index.store.counts()
        first = int(counts["documents"]) + int(counts["duplicates"])  # type: ignore[call-overload]
        have = index.store.chunk_count()
        last_t, last_n = started, have
        batch = 500
        for start in range(first, docs, batch):
            index.upsert_many(
                [
                    make_doc(i, pool, np.random.default_rng([11, i]))
                    for i in range(start, min(docs, start + batch))
                ]
            )
            if (start // batch) % 4 == 3 or start + batch >= docs:
                index.commit()
                now, count = time.perf_counter(), index.store.chunk_count()
                print(
                    f"  {count:>9} chunks  {now - started:7.1f} s"
                    f"  {(count - last_n) / max(now - last_t, 1e-9):7.0f} chunks/s since last"
                    f"  load {os.getloadavg()[0]:.1f}",
                    file=sys.stderr,
                    flush=True,
                )
                last_t, last_n = now, count
                if budget_s is not None and now - started > budget_s:
                    print(f"  build budget of {budget_s:.0f} s spent", file=sys.stderr)
                    break
        index.commit()
        added = index.store.chunk_count() - have
    return time.perf_counter() - started, added


def timed_searches(
    index: SearchIndex, queries: list[str], mode: SearchMode, filt: dict
) -> list[float]:
    times = []
    for q in queries:
        t = time.perf_counter()
        index.search(SearchRequest(q=q, mode=mode, limit=10, **filt))
        times.append(time.perf_counter() - t)
    return times


def timed_interleaved(
    indexes: Sequence[SearchIndex], queries: list[str], mode: SearchMode, filt: dict
) -> list[tuple[list[float], list[float]]]:
    """Each query on every index in turn: (wall, CPU) times of each under the same load. CPU
    time (the process's, so a hybrid search's worker thread counts too) is what a quiet
    machine's wall time would be for one run after the other, whatever other jobs do."""
    out: list[tuple[list[float], list[float]]] = [([], []) for _ in indexes]
    for q in queries:
        for index, (wall, cpu) in zip(indexes, out, strict=True):
            t, c = time.perf_counter(), time.process_time()
            index.search(SearchRequest(q=q, mode=mode, limit=10, **filt))
            wall.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
    return out


class _WholeTextAnalysis:
    """An analyzer whose candidate words are all words (snippets as at the start)."""

    def __init__(self, analyzer: NorwegianAnalyzer) -> None:
        self._analyzer = analyzer

    def candidates_in(self, text: str, layout: object, pattern: object) -> list[AnalyzedToken]:
        return self._analyzer.analyze_tokens(text)  # what `make_snippet` asks for now

    def __getattr__(self, name: str) -> object:
        return getattr(self._analyzer, name)


def as_at_start(index: SearchIndex) -> None:
    """Give a read-only index the lexical query and snippets of the session's start."""
    store, lexical = index.store, index.lexical

    def snippet(text: str, query: str, max_chars: int) -> str:
        whole = _WholeTextAnalysis(lexical.analyzer)
        return make_snippet(text, query, whole, max_chars=max_chars)  # type: ignore[arg-type]

    # The store's full query (its only one then; today its fallback when a cut is not exact,
    # and the filtered path before filtered searches ranked in FTS5 alone).
    def lexical_search(
        match: str, filters: Filters, limit: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        return store._lexical_search_joined(match, filters, limit)

    store.lexical_search = lexical_search  # type: ignore[method-assign]
    lexical.snippet = snippet  # type: ignore[method-assign]


def as_before_filter_change(index: SearchIndex) -> None:
    """Give a read-only index the filtered lexical query of the scale session's start: every
    match joined with `chunks` and `documents`, then filtered and ranked."""
    store = index.store
    fast = store.lexical_search

    def lexical_search(
        match: str, filters: Filters, limit: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        if filters.active:
            return store._lexical_search_joined(match, filters, limit)
        return fast(match, filters, limit)

    store.lexical_search = lexical_search  # type: ignore[method-assign]


def vectors_only(n: int, n_queries: int, clusters: int, data: Path) -> None:
    """FAISS-level figures for sizes the full build cannot reach on a busy machine: the
    served `DenseIndex` (kind chosen by size) against the flat index of today, same vectors."""
    rng = np.random.default_rng(5)
    centres = rng.normal(size=(clusters, DIM)).astype(np.float32)
    ids = np.arange(1, n + 1, dtype=np.int64)
    vectors = np.empty((n, DIM), np.float32)
    for start in range(0, n, 100_000):
        part = min(100_000, n - start)
        v = centres[rng.integers(0, clusters, part)] + 0.9 * rng.standard_normal(
            (part, DIM), dtype=np.float32
        )
        vectors[start : start + part] = v / np.linalg.norm(v, axis=1, keepdims=True)
    pick = rng.choice(n, n_queries, replace=False)
    queries = vectors[pick] + 0.05 * rng.standard_normal((n_queries, DIM), dtype=np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    masks = {
        "none": None,
        "region": ids[rng.random(n) < 0.45],
        "type": ids[rng.random(n) < 0.15],
        "date": ids[rng.random(n) < 0.10],
    }
    config = IndexConfig().dense
    rows = []

    def row(name: str, today: float | None, now: float, unit: str) -> None:
        ratio = f"{today / now:6.2f}×" if today and now else "    –"
        before = f"{today:12.3f}" if today is not None else "           –"
        rows.append(f"{name:40} {before} {now:12.3f}  {unit:8} {ratio}")

    def timed(index: DenseIndex, allowed: np.ndarray | None) -> tuple[float, float]:
        times = []
        for q in queries:
            t = time.perf_counter()
            index.search(q, 200, allowed)  # the hybrid candidate depth
            times.append(time.perf_counter() - t)
        return percentiles(times, scale=1000)

    t = time.perf_counter()
    flat = DenseIndex.build(DIM, ids, vectors, DenseConfig(ann_threshold=10**12))
    flat_build = time.perf_counter() - t
    t = time.perf_counter()
    served = DenseIndex.build(DIM, ids, vectors, config)
    served_build = time.perf_counter() - t
    print(
        f"built flat in {flat_build:.1f} s, {served.kind} in {served_build:.1f} s", file=sys.stderr
    )
    row("build vector index, s", flat_build, served_build, "s")
    t = time.perf_counter()
    flat_path = data / "flat.index"
    flat.save(flat_path)
    flat_write = time.perf_counter() - t
    served.save_generation(data, 1)
    base = data / "faiss-1.index"
    row("vector index per chunk", flat_path.stat().st_size / n, base.stat().st_size / n, "B")
    t = time.perf_counter()
    DenseIndex.load(flat_path)
    flat_open = time.perf_counter() - t
    t = time.perf_counter()
    served = DenseIndex.load_generation(data, 1, DIM, config)
    assert served is not None
    row("open (read) vector index, s", flat_open, time.perf_counter() - t, "s")
    for name, allowed in masks.items():
        before, now = timed(flat, allowed), timed(served, allowed)
        row(f"dense k=200 p50 ({name}), ms", before[0], now[0], "ms")
        row(f"dense k=200 p95 ({name}), ms", before[1], now[1], "ms")
    for name, allowed in masks.items():
        recalls = []
        for q in queries:
            exact = {i for i, _ in flat.search(q, 10, allowed)}
            got = {i for i, _ in served.search(q, 10, allowed)}
            recalls.append(len(exact & got) / 10)
        row(f"ANN recall@10 ({name})", 1.0, float(np.mean(recalls)), "")
    # 100 changed documents = 800 chunks removed and 800 added, then one commit
    gone = ids[rng.choice(n, 800, replace=False)]
    new_ids = np.arange(n + 1, n + 801, dtype=np.int64)
    t = time.perf_counter()
    served.remove(gone)
    served.add(new_ids, vectors[:800])
    path = served.save_generation(data, 2)
    commit = time.perf_counter() - t
    row("commit 100 changed docs (vectors), s", flat_write, commit, "s")
    row("bytes written by that commit", flat_path.stat().st_size, path.stat().st_size, "B")
    print(f"\nscale benchmark, vectors only: {n} vectors, {served.kind}, {n_queries} queries")
    print(f"{'figure':40} {'today (flat)':>12} {'now':>12}  unit     today/now")
    print("\n".join(rows))
    print(
        f"max RSS of the run: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
    )


def main() -> None:
    parser = int_options(__doc__, chunks=100_000, queries=200, clusters=2000)
    parser.add_argument("--data", type=Path, default=None, help="keep/reuse the index here")
    parser.add_argument("--skip-today", action="store_true", help="skip the flat comparison")
    parser.add_argument(
        "--vectors-only", action="store_true", help="FAISS figures only (no store, no text)"
    )
    parser.add_argument(
        "--resume", action="store_true", help="go on building an index in --data up to --chunks"
    )
    parser.add_argument(
        "--build-budget",
        type=float,
        default=None,
        help="stop building after this many seconds and measure the index as far as it got",
    )
    args = parser.parse_args()
    faiss.omp_set_num_threads(1)  # per query, as the API serves it on 2 shared cores
    data = args.data or Path(tempfile.mkdtemp(prefix="samsok-scale-"))
    if args.vectors_only:
        data.mkdir(parents=True, exist_ok=True)
        vectors_only(args.chunks, args.queries, args.clusters, data)
        if args.data is None:
            shutil.rmtree(data, ignore_errors=True)
        return
    n = args.chunks
    config = IndexConfig()
    embedder = SyntheticEmbedder(args.clusters)
    rows: list[tuple[str, ...]] = []

    def row(
        name: str,
        today: float | None,
        now: float,
        unit: str,
        start: float | None = None,
        before: float | None = None,
    ) -> None:
        cells = [f"{v:10.3f}" if v is not None else "         –" for v in (today, start, before)]
        ratios = [f"{v / now:6.2f}×" if v and now else "    –" for v in (today, start, before)]
        rows.append((name, *cells, f"{now:10.3f}", f"{unit:8} {' '.join(ratios)}"))

    if not (data / "store.db").exists() or args.resume:
        build_s, added = build(data, n, config, embedder, args.build_budget)
        print(f"built {added} chunks in {build_s:.1f} s", file=sys.stderr)
        row("build (upsert+commit), s", None, build_s, "s")
        if added:
            row("build, ms per chunk", None, build_s * 1000 / added, "ms")
    gc.collect()
    manifest = json.loads((data / "manifest.json").read_text())
    chunks = int(manifest["vectors"])
    row("disk per chunk (store+faiss)", None, disk(data) / chunks, "B")
    base = data / str(manifest["faiss_file"])
    row("vector index per chunk", DIM * 4 + 8, base.stat().st_size / chunks, "B")

    rss0 = rss_bytes()
    t = time.perf_counter()
    reader = SearchIndex(data, embedder, page_chunker, config, read_only=True)
    open_s = time.perf_counter() - t
    rss_reader = rss_bytes() - rss0
    print(f"opened ({reader._dense.kind}) in {open_s:.2f} s", file=sys.stderr)

    # Queries: a few words of a stored chunk; the vector is a noisy copy of its vector.
    rng = np.random.default_rng(3)
    ids, texts = [], []
    picks = np.sort(rng.choice(reader.store.chunk_ids(), args.queries, replace=False))
    chunk_rows = reader.store.chunks(picks.tolist())
    qvecs = {}
    for cid in picks.tolist():
        words = [w for w in re.findall(r"\w+", chunk_rows[cid].text) if len(w) > 4]
        start = int(rng.integers(0, max(1, len(words) - 4)))
        q = " ".join(words[start : start + 3])
        if not q or q in qvecs:
            continue
        v = embedder.vector(chunk_rows[cid].text) + 0.05 * rng.standard_normal(DIM)
        qvecs[q] = (v / np.linalg.norm(v)).astype(np.float32)
        ids.append(cid)
        texts.append(q)
    embedder.queries.update(qvecs)
    filters = {
        "none": {},
        "region": {"region": Region.VAERNES},
        "type": {"type": DocType.REPORT},
        "date": {"date_from": date(2015, 1, 1), "date_to": date(2016, 12, 31)},
    }

    # today's path: exact flat index over the same store
    flat_cfg = IndexConfig(dense=DenseConfig(ann_threshold=10**12))
    today_times: dict[tuple[str, str], tuple[float, float]] = {}
    flat_open = flat_rss = None
    if not args.skip_today:
        rss1 = rss_bytes()
        t = time.perf_counter()
        ids_all, vecs_all = reader.store.chunk_vectors(embedder.model_id)
        flat = DenseIndex.build(DIM, ids_all, vecs_all, flat_cfg.dense)
        del ids_all
        flat_build = time.perf_counter() - t
        flat_rss = rss_bytes() - rss1
        flat_open = flat_build
        with tempfile.TemporaryDirectory(dir=data) as tmp:
            t = time.perf_counter()
            flat.save(Path(tmp) / "faiss-1.index")  # what every commit wrote before
            flat_write = time.perf_counter() - t
        today = SearchIndex(data, embedder, page_chunker, flat_cfg, read_only=True)
        today._view.dense = flat
        for mode in (SearchMode.DENSE, SearchMode.LEXICAL, SearchMode.HYBRID):
            for fname, filt in filters.items():
                today_times[(mode.value, fname)] = percentiles(
                    timed_searches(today, texts, mode, filt), scale=1000
                )
    row("open read-only index, s", flat_open, open_s, "s")
    row(
        "RSS of an open index per chunk",
        (flat_rss / chunks) if flat_rss else None,
        rss_reader / chunks,
        "B",
    )
    # The code at the start of the speed session (same served FAISS index): FTS5 joined every
    # match before sorting, and snippets analysed every word of each hit.
    start_index = SearchIndex(
        data, embedder, page_chunker, replace(config, concurrent_runs=False), read_only=True
    )
    as_at_start(start_index)
    # The code before filtered lexical searches ranked in FTS5 alone and before hybrid ran its
    # dense and lexical runs side by side (the start of the scale session).
    before_index = SearchIndex(
        data, embedder, page_chunker, replace(config, concurrent_runs=False), read_only=True
    )
    as_before_filter_change(before_index)
    for mode in (SearchMode.DENSE, SearchMode.LEXICAL, SearchMode.HYBRID):
        for fname, filt in filters.items():
            # interleaved query by query, so the shared machine's load hits all alike
            (now_t, now_cpu), (start_t, start_cpu), (before_t, before_cpu) = timed_interleaved(
                [reader, start_index, before_index], texts, mode, filt
            )
            today = today_times.get((mode.value, fname))
            for label, now_v, start_v, before_v, today_v in (
                ("p50", now_t, start_t, before_t, today),
                ("CPU p50", now_cpu, start_cpu, before_cpu, None),
            ):
                p50, p95 = percentiles(now_v, scale=1000)
                s50, s95 = percentiles(start_v, scale=1000)
                b50, b95 = percentiles(before_v, scale=1000)
                name = f"{mode.value} {label} ({fname}), ms"
                row(name, today_v[0] if today_v else None, p50, "ms", s50, b50)
                row(
                    name.replace("p50", "p95"), today_v[1] if today_v else None, p95, "ms", s95, b95
                )
    before_index.close()
    start_index.close()

    # recall@10 of the served index against exact search over the stored vectors
    if args.skip_today:
        ids_all, vecs_all = reader.store.chunk_vectors(embedder.model_id)
        flat = DenseIndex.build(DIM, ids_all, vecs_all, flat_cfg.dense)
    recalls = []
    for q in texts:
        exact = {i for i, _ in flat.search(qvecs[q], 10)}
        got = {i for i, _ in reader._dense.search(qvecs[q], 10)}
        recalls.append(len(exact & got) / 10)
    row("ANN recall@10 vs exact", 1.0, float(np.mean(recalls)), "")
    del flat
    reader.close()
    gc.collect()

    # committing 100 changed documents
    pool = sentences()
    with SearchIndex(data, embedder, page_chunker, config) as writer:
        docs = [
            make_doc(i, pool, np.random.default_rng(i), version=int(time.time()))
            for i in range(0, chunks // CHUNKS_PER_DOC, max(1, chunks // CHUNKS_PER_DOC // 100))
        ][:100]
        t = time.perf_counter()
        writer.upsert_many(docs)
        upsert_s = time.perf_counter() - t
        t = time.perf_counter()
        writer.commit()
        commit_s = time.perf_counter() - t
        written = max((data.glob("faiss-*")), key=lambda p: p.stat().st_mtime)
    row("upsert 100 changed docs, s", None, upsert_s, "s")
    row("commit 100 changed docs, s", flat_write if not args.skip_today else None, commit_s, "s")
    row("bytes written by that commit", (DIM * 4 + 8) * chunks, written.stat().st_size, "B")

    print(
        f"\nscale benchmark: {chunks} chunks, {manifest.get('faiss_kind')}"
        f" index, {len(texts)} queries, data {data}"
    )
    print(
        "today = the exact flat index (and whole-file commits); start = the code at the start "
        "of the speed session (served index; FTS5 join-then-sort; every word of a hit analysed); "
        "before = the start of the scale session (filtered FTS5 join-then-sort; dense and "
        "lexical runs one after the other)"
    )
    print(
        f"{'figure':40} {'today':>10} {'start':>10} {'before':>10} {'now':>10}  unit     "
        "today/now start/now before/now"
    )
    for name, *cells in rows:
        print(f"{name:40} {' '.join(cells)}")
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.data is None:
        shutil.rmtree(data, ignore_errors=True)
    print(
        f"max RSS of the run: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
    )


if __name__ == "__main__":
    main()
