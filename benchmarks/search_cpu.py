"""CPU per `SearchIndex.search`, in-process, by kind of search, beside another install's.

    .venv/bin/python benchmarks/search_cpu.py [--data DIR …] [--before PYTHON]
        [--queries 100] [--rounds 3] [--cache MODELS]

What the server spends on a search besides the query embedding and HTTP (issue 10, "the
server path"): each `--data` folder (an index built with the default model, e.g. by
`serve.py --keep DIR`; none: the bundled mirror, crawled into a temporary folder with
`samsok crawl --mirror`) is opened read-only, and every kind of
search — hybrid, lexical, dense, hybrid with a region filter, hybrid page 2 — is timed as
process CPU (all threads: a hybrid search's dense half runs on a worker thread) and wall time.

The query vectors are embedded once, by the real model in this process, and handed to the
workers, so only the search is measured (`query_embedding.py` measures the embedding) and
both installs get the same bytes. `--before PYTHON` (e.g. `/work/main/.venv/bin/python`)
runs the same worker in another interpreter's install of Samsøk: the two workers answer the
same batches in turn, the order swapped each round, so a change in the shared machine's load
hits both alike; read the ratios. Every round asks new queries (as the HTTP benchmark does),
after one warm-up round that is not counted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# Kinds of search: (label, request fields besides the query).
KINDS: tuple[tuple[str, dict[str, object]], ...] = (
    ("hybrid", {"mode": "hybrid"}),
    ("lexical", {"mode": "lexical"}),
    ("dense", {"mode": "dense"}),
    ("hybrid, region filter", {"mode": "hybrid", "region": "vaernes"}),
    ("hybrid, page 2", {"mode": "hybrid", "offset": 10}),
)


class FixedEmbedder:
    """Query vectors embedded beforehand (`TextEmbedder`'s members a reader uses)."""

    def __init__(self, model_id: str, vectors: dict[str, object]) -> None:
        self.model_id = model_id
        self._vectors = vectors
        self.dim = len(next(iter(vectors.values())))  # type: ignore[arg-type]
        self.max_tokens = 512

    def embed_queries(self, texts: Sequence[str]) -> object:
        import numpy as np

        return np.vstack([self._vectors[t] for t in texts])

    def embed_documents(self, texts: Sequence[str], *, show_progress: bool = False) -> object:
        raise RuntimeError("the benchmark's readers embed no documents")

    def count_tokens(self, text: str) -> int:
        return len(text.split())


def worker(vectors_file: str, model_id: str, data_dirs: list[str]) -> None:
    """Answer batches from stdin (one JSON line each) with per-search CPU and wall seconds."""
    import numpy as np
    from samsok.api.settings import Settings
    from samsok.api.wiring import open_index
    from samsok.search.schemas import SearchRequest

    saved = np.load(vectors_file, allow_pickle=True)
    texts = saved["texts"].tolist()
    embedder: Any = FixedEmbedder(model_id, dict(zip(texts, saved["vectors"], strict=True)))
    indexes = {
        d: open_index(Settings(data_dir=Path(d)), embedder=embedder, read_only=True)
        for d in data_dirs
    }
    for line in sys.stdin:
        batch = json.loads(line)
        index = indexes[batch["data"]]
        cpu, wall = [], []
        for q in batch["queries"]:
            request = SearchRequest(q=q, **batch["fields"])
            c, t = time.process_time(), time.perf_counter()
            index.search(request)
            cpu.append(time.process_time() - c)
            wall.append(time.perf_counter() - t)
        print(json.dumps({"cpu": cpu, "wall": wall}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", action="append", help="an index folder (default: the mirror)")
    parser.add_argument("--before", help="another install's Python: the code before")
    parser.add_argument("--queries", type=int, default=100, help="queries per kind and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cache", type=Path, help="model cache (SAMSOK_MODEL_CACHE_DIR)")
    args = parser.parse_args()
    if args.cache:
        os.environ["SAMSOK_MODEL_CACHE_DIR"] = str(args.cache)

    import numpy as np
    from _table import percentiles, print_header
    from samsok.api.settings import Settings
    from samsok.api.wiring import make_embedder
    from serve import queries

    # Seed 0 warms up; rounds 1… ask new queries each.
    asked = {r: queries(9000 + r, args.queries) for r in range(args.rounds + 1)}
    texts = sorted({q for qs in asked.values() for q in qs})
    embedder = make_embedder(Settings())
    vectors = embedder.embed_queries(texts)
    with tempfile.TemporaryDirectory() as tmp:
        if not args.data:
            args.data = [str(Path(tmp) / "mirror")]
            env = {**os.environ, "SAMSOK_DATA_DIR": args.data[0]}
            crawl = [sys.executable, "-m", "samsok.api.cli", "crawl", "--mirror"]
            subprocess.run(crawl, env=env, check=True, capture_output=True)
        saved = Path(tmp) / "vectors.npz"
        np.savez(saved, texts=np.array(texts, dtype=object), vectors=vectors)
        pythons = {"after": sys.executable}
        if args.before:
            pythons = {"before": args.before, **pythons}
        command = [__file__, "--worker", str(saved), embedder.model_id, *args.data]
        workers = {
            label: subprocess.Popen(
                [python, *command], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
            )
            for label, python in pythons.items()
        }
        cpu: dict[tuple[str, str, str], list[float]] = {}
        wall: dict[tuple[str, str, str], list[float]] = {}
        for r in range(args.rounds + 1):
            order = list(workers) if r % 2 else list(reversed(workers))
            for data in args.data:
                for kind, fields in KINDS:
                    for label in order:
                        proc = workers[label]
                        assert proc.stdin is not None and proc.stdout is not None
                        batch = {"data": data, "fields": fields, "queries": asked[r]}
                        proc.stdin.write(json.dumps(batch) + "\n")
                        proc.stdin.flush()
                        answer = json.loads(proc.stdout.readline())
                        if r:  # round 0 warms up
                            cpu.setdefault((data, kind, label), []).extend(answer["cpu"])
                            wall.setdefault((data, kind, label), []).extend(answer["wall"])
        for proc in workers.values():
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait()

    print(f"\n{args.rounds} rounds × {args.queries} new queries per kind; ms per search")
    print_header("index:<24|search:<22|install:<7|cpu p50:>8|cpu mean:>9|wall p50:>9|ratio:>6")
    for data in args.data:
        for kind, _ in KINDS:
            means = {}
            for label in workers:
                c, w = cpu[(data, kind, label)], wall[(data, kind, label)]
                means[label] = sum(c) / len(c)
                ratio = means["before"] / means[label] if "before" in means else 1.0
                print(
                    f"{'/'.join(Path(data).parts[-2:])[-24:]:<24} {kind:<22} {label:<7} "
                    f"{percentiles(c, 1000)[0]:8.2f} {means[label] * 1000:9.2f} "
                    f"{percentiles(w, 1000)[0]:9.2f} {ratio:5.2f}×"
                )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        main()
