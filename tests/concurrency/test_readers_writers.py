"""Issue 8, observations 1-3 and the read-only folder, done the way an operator does them:
`samsok serve`, `samsok ingest` and `samsok search` as separate processes on one data folder,
stopped with real signals. The CLI runs with the hashing embedder (tests/concurrency/fakecli.py).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from samsok.api.services import Services
from samsok.api.settings import Settings
from samsok.ingest.crawl import CrawlState
from samsok.search.embedding import EmbedConfig, LazyEmbedder
from samsok.search.index import IndexConfig
from samsok.search.schemas import SearchMode, SearchRequest
from samsok.search.store import WriterLock

from tests.concurrency.conftest import make_pages
from tests.concurrency.helpers import (
    assert_disk_consistent,
    cli,
    cli_env,
    data_hashes,
    documents_in,
    start_server,
    stop,
)

INDEXED = tuple[Path, dict[str, str]]

# Real subprocesses, servers and signals: seconds each. (No model: the hashing embedder.)
slow = pytest.mark.slow


class Hammer:
    """Concurrent HTTP clients: search, then open every hit's document, page and /similar."""

    def __init__(self, base: str, words: list[str], clients: int = 8) -> None:
        self.base = base
        self.words = words
        self.statuses: Counter[int] = Counter()
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(clients)
        ]

    def __enter__(self) -> Hammer:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _get(self, client: httpx.Client, path: str, **kw: object) -> httpx.Response | None:
        try:
            response = client.get(self.base + path, **kw)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            self.errors.append(f"{path}: {exc!r}")
            return None
        self.statuses[response.status_code] += 1
        if response.status_code >= 500:
            self.errors.append(f"{path}: {response.status_code} {response.text[:300]}")
        return response

    def _run(self, seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(timeout=30) as client:
            while not self._stop.is_set():
                mode = rng.choice(["hybrid", "dense", "lexical"])
                response = self._get(
                    client, "/search", params={"q": rng.choice(self.words), "mode": mode}
                )
                if response is None or response.status_code != 200:
                    continue
                for hit in response.json()["results"][:3]:
                    doc = hit["doc_id"]
                    self._get(client, f"/documents/{doc}/similar")
                    self._get(client, f"/documents/{doc}", headers={"Accept": "text/html"})


@pytest.fixture
def server(indexed: INDEXED) -> Iterator[str]:
    data, _ = indexed
    proc, base = start_server(data)
    try:
        yield base
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _find(base: str, word: str, mode: str = "lexical", limit: int = 10) -> list[dict[str, object]]:
    params = {"q": word, "mode": mode, "limit": limit}
    response = httpx.get(f"{base}/search", params=params, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["results"]


def _served_generation(base: str) -> int | None:
    """The generation the server says it serves (None: a server that does not say)."""
    generation = httpx.get(f"{base}/health", timeout=10).json().get("generation")
    return None if generation is None else int(generation)


def _wait_until_served(base: str, generation: int, since: float) -> None:
    served = _served_generation(base)
    if served is None:  # an older server (SAMSOK_TEST_CLI_PYTHONPATH): give it the 5 s
        time.sleep(max(0.0, 5 - (time.monotonic() - since)))
        return
    while served != generation:
        assert time.monotonic() - since < 5, "the server did not pick up the commit in 5 s"
        time.sleep(0.1)
        served = _served_generation(base)
    # One worker has it; another (SAMSOK_SERVE_WORKERS) checks on its next request once its
    # refresh interval is over: wait that long, so whichever worker answers next has it too.
    time.sleep(IndexConfig().refresh_seconds)


def _store_generation(data: Path) -> int:
    return assert_disk_consistent(data)[0]


@slow
def test_server_serves_what_ingest_writes_without_restart(
    indexed: INDEXED, server: str, tmp_path: Path
) -> None:
    """Observation 1: reloads during a write, then never again; 500s on /similar for new
    documents; dense search missing them."""
    data, old_words = indexed
    new_words = make_pages(tmp_path / "second", 12, seed=2)
    vocabulary = [*old_words.values(), *new_words.values(), "velferdsteknologi"]
    with Hammer(server, vocabulary) as hammer:
        # A slow writer, so that many requests (and reload checks) fall inside the write.
        writer = cli(
            data,
            "ingest",
            str(tmp_path / "second"),
            "--region",
            "vaernes",
            env=cli_env(data, SAMSOK_TEST_EMBED_DELAY="0.1"),
        )
        _, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err[-3000:]
        committed = time.monotonic()
        _wait_until_served(server, _store_generation(data), committed)
        time.sleep(1)  # keep hammering the new generation a little
    assert not hammer.errors, hammer.errors[:5]
    assert hammer.statuses[200] > 50

    for word in new_words.values():
        hits = _find(server, word, "lexical")
        assert len(hits) == 1 and word in str(hits[0]["snippet"])
        doc = hits[0]["doc_id"]
        # The stale server's dense run missed new documents. With 27 documents and limit 100,
        # a dense search lists every document FAISS holds.
        for mode in ("dense", "hybrid"):
            hits = _find(server, word, mode, limit=100)
            assert doc in [hit["doc_id"] for hit in hits], (word, mode)
        assert httpx.get(f"{server}/documents/{doc}/similar", timeout=30).status_code == 200
        page = httpx.get(f"{server}/documents/{doc}", headers={"Accept": "text/html"}, timeout=30)
        assert page.status_code == 200
    health = httpx.get(f"{server}/health", timeout=10).json()
    assert health["documents"] == 27 and health["reloads"] >= 1


@slow
@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_stopping_the_server_writes_nothing(
    indexed: INDEXED, tmp_path: Path, sig: int, workers: str
) -> None:
    """Observation 2: Ctrl-C on the server saved its stale FAISS index under the store's
    current generation; SIGTERM skipped close(). A reader writes nothing and exits cleanly,
    with one worker process or several."""
    data, _ = indexed
    proc, base = start_server(data, cli_env(data, SAMSOK_SERVE_WORKERS=workers))
    try:
        make_pages(tmp_path / "second", 5, seed=3)
        writer = cli(data, "ingest", str(tmp_path / "second"), "--region", "orkdal")
        writer.communicate(timeout=120)
        assert writer.returncode == 0
        _wait_until_served(base, _store_generation(data), time.monotonic())
        before = data_hashes(data)
        code, _, err = stop(proc, sig)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert data_hashes(data) == before  # the reader wrote nothing, not even on the way out
    assert_disk_consistent(data)
    assert code == 128 + sig, err[-2000:]
    assert f"stopped by {signal.Signals(sig).name}" in err
    assert "Traceback" not in err


@slow
def test_two_writers_take_turns(indexed: INDEXED, tmp_path: Path) -> None:
    """Observation 3: two `samsok ingest` at once left FAISS and the store at the same
    generation with different chunk counts. The second writer now waits for the lock."""
    data, _ = indexed
    make_pages(tmp_path / "a", 10, seed=4)
    make_pages(tmp_path / "b", 10, seed=5)
    env = cli_env(data, SAMSOK_TEST_EMBED_DELAY="0.1")
    first = cli(data, "ingest", str(tmp_path / "a"), "--region", "orkdal", env=env)
    second = cli(data, "ingest", str(tmp_path / "b"), "--region", "vaernes", env=env)
    results = [p.communicate(timeout=180) for p in (first, second)]
    assert first.returncode == 0 and second.returncode == 0, [r[1][-2000:] for r in results]
    waited = [err for _, err in results if "waiting for the writer lock held by pid" in err]
    assert len(waited) == 1
    assert documents_in(data) == 35
    assert_disk_consistent(data)


def test_no_wait_fails_at_once_with_one_line(indexed: INDEXED, tmp_path: Path) -> None:
    data, _ = indexed
    make_pages(tmp_path / "c", 2, seed=6)
    lock = WriterLock(data)
    lock.acquire(wait=False)
    try:
        for args in (
            ["ingest", str(tmp_path / "c"), "--region", "orkdal", "--no-wait"],
            ["reindex", "--no-wait"],
        ):
            started = time.monotonic()
            proc = cli(data, *args)
            _, err = proc.communicate(timeout=60)
            assert proc.returncode == 1
            assert time.monotonic() - started < 30
            assert "Traceback" not in err
            lines = [line for line in err.splitlines() if line.startswith("Error:")]
            assert lines == [
                f"Error: another writer (pid {os.getpid()}) holds the lock on {data}; "
                "try again when it has finished (or leave out --no-wait to wait)"
            ]
    finally:
        lock.release()
    assert documents_in(data) == 15


def _run_ok(data: Path, *args: str, env: dict[str, str] | None = None) -> str:
    proc = cli(data, *args, env=env)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-3000:]
    assert "Traceback" not in err
    return out


@slow
def test_readers_write_nothing(indexed: INDEXED) -> None:
    data, words = indexed
    word = next(iter(words.values()))
    before = data_hashes(data)
    out = _run_ok(data, "search", word, "--json")
    doc = httpx.Response(200, content=out).json()["results"][0]["doc_id"]
    _run_ok(data, "search", word, "--mode", "lexical")
    _run_ok(data, "similar", doc)
    _run_ok(data, "status")
    assert data_hashes(data) == before


@slow
def test_search_and_status_on_a_read_only_folder(indexed: INDEXED) -> None:
    """`chmod -R a-w` on the data folder: readers still work. As root that changes nothing,
    so the commands then run as `nobody` (uid 65534) in a copy outside root's private temp."""
    source, words = indexed
    word = next(iter(words.values()))
    parent = Path(tempfile.mkdtemp(prefix="samsok-ro-"))
    try:
        os.chmod(parent, 0o755)
        data = parent / "data"
        shutil.copytree(source, data)
        with CrawlState(data / "crawl.db") as state:  # a crawl log for `status` to report
            state.open_run("vaernesregionen")
        for path in [data, *data.rglob("*")]:
            os.chmod(path, 0o555 if path.is_dir() else 0o444)
        env = cli_env(data)
        if os.geteuid() == 0:
            env["SAMSOK_TEST_RUN_AS"] = "65534:65534"
        before = data_hashes(data)
        names = sorted(p.name for p in data.iterdir())
        for mode in ("hybrid", "lexical", "dense"):
            out = _run_ok(data, "search", word, "--mode", mode, "--json", env=env)
            results = httpx.Response(200, content=out).json()["results"]
            assert word in results[0]["snippet"]
        _run_ok(data, "similar", results[0]["doc_id"], env=env)
        status = _run_ok(data, "status", "--json", env=env)
        assert '"documents": 15' in status and '"source": "vaernesregionen"' in status
        assert data_hashes(data) == before
        assert sorted(p.name for p in data.iterdir()) == names  # not even SQLite's -wal/-shm
    finally:
        for path in [parent, *parent.rglob("*")]:
            os.chmod(path, 0o755)
        shutil.rmtree(parent)


def test_commands_that_do_not_embed_never_load_the_model(indexed: INDEXED) -> None:
    data, words = indexed

    def no_model(config: EmbedConfig) -> None:
        raise AssertionError("the embedding model was loaded")

    embedder = LazyEmbedder(EmbedConfig(), no_model)  # type: ignore[arg-type]
    services = Services(Settings(data_dir=data), embedder=embedder)  # type: ignore[arg-type]
    try:
        status = services.status()
        assert status["index"]["documents"] == 15  # type: ignore[index]
        assert status["index"]["model"] == "test:hashing-256"  # type: ignore[index]
        word = next(iter(words.values()))
        hits = services.index.search(SearchRequest(q=word, mode=SearchMode.LEXICAL)).results
        assert hits
        assert services.index.document(hits[0].doc_id).chunk_count >= 1
    finally:
        services.close()
    assert not embedder.loaded


def _wait_for_documents(data: Path, proc: object, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while documents_in(data) < count:
        assert proc.poll() is None, proc.communicate()[1][-3000:]  # type: ignore[attr-defined]
        assert time.monotonic() < deadline
        time.sleep(0.05)


@slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_a_stopped_writer_leaves_a_consistent_index(
    indexed: INDEXED, tmp_path: Path, sig: int
) -> None:
    data, _ = indexed
    words = make_pages(tmp_path / "many", 30, seed=7)
    env = cli_env(data, SAMSOK_TEST_EMBED_DELAY="0.15")
    args = ("ingest", str(tmp_path / "many"), "--region", "orkdal")
    proc = cli(data, *args, env=env)
    _wait_for_documents(data, proc, 15 + 4)
    code, _, err = stop(proc, sig)
    assert code == (128 + sig if sig != signal.SIGKILL else -sig), err[-2000:]
    if sig != signal.SIGKILL:
        assert f"samsok: stopped by {signal.Signals(sig).name}" in err
        assert "Traceback" not in err
        assert_disk_consistent(data)  # committed before exiting
    stopped_at = documents_in(data)
    assert 15 + 4 <= stopped_at < 45
    # A reader straight after (even after kill -9) answers from a consistent pair.
    word = next(iter(words.values()))
    out = _run_ok(data, "search", word, "--mode", "dense", "--json")
    assert word in out
    # The lock was released (by the kernel, for kill -9): the next writer goes straight in,
    # repairs whatever is stale and finishes the job.
    lock = WriterLock(data)
    lock.acquire(wait=False)
    lock.release()
    _run_ok(data, *args, "--no-wait")
    assert documents_in(data) == 45
    assert_disk_consistent(data)


@slow
def test_crawl_every_stops_on_sigterm_while_sleeping(tmp_path: Path) -> None:
    data = tmp_path / "data"
    mirror = tmp_path / "mirror"
    site = "www.varnesregionen.no"
    from tests.paths import PROJECT_ROOT

    shutil.copytree(PROJECT_ROOT / "corpus" / "mirror" / site, mirror / site)
    env = cli_env(data, SAMSOK_MIRROR_DIR=str(mirror), SAMSOK_RECRAWL_INTERVAL="3600")
    proc = cli(data, "crawl", "vaernesregionen", "--mirror", "--every", env=env)
    deadline = time.monotonic() + 120
    while "next crawl in" not in (line := proc.stderr.readline()):  # type: ignore[union-attr]
        assert line and time.monotonic() < deadline, "the first crawl did not finish"
    # Sleeping between rounds, the crawler holds no lock: a staff ingest goes straight in.
    lock = WriterLock(data)
    lock.acquire(wait=False)
    lock.release()
    started = time.monotonic()
    code, _, err = stop(proc, signal.SIGTERM)
    assert code == 143 and time.monotonic() - started < 10
    assert "samsok: stopped by SIGTERM" in err and "Traceback" not in err
    assert_disk_consistent(data)
