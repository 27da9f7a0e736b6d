"""A crawl killed with SIGKILL resumes from its frontier (run as a subprocess).

Run directly, this file is the child: it crawls `/site/` of a HostileServer started by the
test, appends one JSON line per event it has taken to a file, and is killed part-way.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _child(base: str, db: str, events_path: str, mode: str, n: int) -> None:
    sys.path.insert(0, str(ROOT))
    import httpx
    from samsok.ingest.crawl import Crawler, CrawlState, DocumentFetched, Source, SourceKind
    from samsok.ingest.documents import Region

    from tests.ingest.hostile_server import fast_config, stub_extract

    written = 0

    def extract(*args: object) -> object:
        if mode == "die" and written >= n:
            os.kill(os.getpid(), signal.SIGKILL)  # mid-fetch, after n events were committed
        return stub_extract(*args)  # type: ignore[arg-type]

    source = Source.adhoc(f"{base}/site/", Region.ORKDAL, kind=SourceKind.MUNICIPALITY_NEWS)
    with httpx.Client() as client, open(events_path, "a", encoding="utf-8") as out:
        crawler = Crawler(fast_config(), client, CrawlState(db), extract=extract)
        for event in crawler.crawl([source]):
            url = event.document.url if isinstance(event, DocumentFetched) else event.url
            out.write(json.dumps({"type": type(event).__name__, "url": url}) + "\n")
            out.flush()
            written += 1
            if mode == "slow":
                time.sleep(0.05)  # widen the window so the parent's kill lands anywhere


def _run_child(server_base: str, tmp: Path, mode: str, n: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [
            sys.executable,
            __file__,
            server_base,
            str(tmp / "crawl.db"),
            str(tmp / "events.jsonl"),
            mode,
            str(n),
        ],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
    )


def _events(tmp: Path) -> list[dict[str, str]]:
    path = tmp / "events.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _documents(events: list[dict[str, str]]) -> list[str]:
    return [e["url"] for e in events if e["type"] == "DocumentFetched"]


def test_sigkill_mid_fetch_resumes_without_duplicates(server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    child = _run_child(server.base, tmp_path, "die", 3)
    assert child.wait(timeout=60) == -signal.SIGKILL
    first = _events(tmp_path)
    assert len(first) == 3
    hits_before = Counter(h.path for h in server.state.requests)

    resumed = _run_child(server.base, tmp_path, "run", 0)
    assert resumed.wait(timeout=60) == 0, resumed.stderr.read() if resumed.stderr else ""
    everything = _events(tmp_path)
    documents = _documents(everything)
    assert len(documents) == len(set(documents)) == 5  # every document exactly once
    urls = [e["url"] for e in everything]
    assert len(urls) == len(set(urls))  # and no other event twice either
    # Nothing finished before the kill was fetched again; only the URL in flight was.
    hits = Counter(h.path for h in server.state.requests)
    again = {path for path, count in hits.items() if count > 1 and path != "/robots.txt"}
    assert len(again) <= 1 and all(hits_before[p] == 1 for p in again)
    with sqlite3.connect(tmp_path / "crawl.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        runs = db.execute("SELECT COUNT(*), COUNT(finished) FROM runs").fetchone()
    assert runs == (1, 1)  # the killed run was resumed, not restarted


def test_sigkill_at_any_moment_loses_nothing(server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    child = _run_child(server.base, tmp_path, "slow", 0)
    deadline = time.monotonic() + 30
    while len(_events(tmp_path)) < 3 and time.monotonic() < deadline:
        time.sleep(0.005)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    taken = _events(tmp_path)
    resumed = _run_child(server.base, tmp_path, "run", 0)
    assert resumed.wait(timeout=60) == 0
    documents = _documents(_events(tmp_path))
    assert set(documents) == {
        server.url(p) for p in ("/site/a", "/site/b", "/site/c", "/site/d", "/files/rapport.pdf")
    }
    # At-least-once: only the event in flight at the kill may be delivered twice.
    repeated = [
        url for url, count in Counter(e["url"] for e in _events(tmp_path)).items() if count > 1
    ]
    assert len(repeated) <= 1 and all(url == taken[-1]["url"] for url in repeated)
    with sqlite3.connect(tmp_path / "crawl.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
