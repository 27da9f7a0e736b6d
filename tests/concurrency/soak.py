"""The soak: `samsok serve` under 16 concurrent HTTP clients while a writer crawls the mirror
again and again — pages changed, added and removed between rounds, the writer stopped with
SIGINT and with `kill -9` at random points, two writers started at once.

Used by tests/concurrency/test_soak.py (bounded, in the suite) and benchmarks/soak.py (longer).
Every process is the real CLI (`samsok.api.cli.main`); by default with the hashing embedder
(tests/concurrency/fakecli.py), `real_model=True` runs `python -m samsok.api.cli` itself.

What it checks, and raises `SoakFailure` for: no 5xx and no transport error; every hit's
document and its /similar answer 200 (404 only for a document the writer removed); within
`visible_within` seconds of each completed writer run the server serves the store's generation,
finds every added/changed page by its marker word and none of the removed ones; after every
completed run the store's chunk ids equal the ids in the FAISS file of its generation.
"""

from __future__ import annotations

import random
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import httpx

from tests.concurrency.helpers import (
    FAKE_CLI,
    REAL_CLI,
    assert_disk_consistent,
    cli_env,
    data_hashes,
    start_server,
    stop,
)
from tests.paths import PROJECT_ROOT

__all__ = ["SoakFailure", "SoakReport", "run_soak"]

SITE = "www.varnesregionen.no"
SOURCE = "vaernesregionen"
WORDS = [
    "samhandling",
    "kommune",
    "helse",
    "legevakt",
    "jordmor",
    "rehabilitering",
    "eldre",
    "sykehus",
    "pasient",
    "fastlege",
    "omsorg",
    "folkehelse",
    "psykisk",
    "rus",
    "tjeneste",
    "avtale",
    "region",
    "prosjekt",
    "erfaring",
    "brukerkontor",
    "velferd",
    "trygghet",
    "opplæring",
    "utskrivning",
    "oppfølging",
    "hjemmetjeneste",
]
QUERIES = ["legevakt", "jordmor", "samhandling", "frisklivssentral", "psykisk helse", "ikt"]


class SoakFailure(AssertionError):
    pass


@dataclass
class SoakReport:
    seconds: float = 0.0
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    rounds: Counter[str] = field(default_factory=Counter)
    served_after_s: list[float] = field(default_factory=list)  # commit -> generation served
    visible_after_s: list[float] = field(default_factory=list)  # commit -> all markers right
    server: dict[str, object] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def render(self) -> str:
        lat = sorted(self.latencies_ms) or [0.0]
        p95 = lat[min(len(lat) - 1, int(len(lat) * 0.95))]
        visible = self.visible_after_s or [0.0]
        served = self.served_after_s or [0.0]
        return "\n".join(
            [
                f"soak: {self.seconds:.0f} s, {self.requests} requests "
                f"({self.requests / max(self.seconds, 1e-9):.0f}/s), "
                f"statuses {dict(self.statuses)}",
                f"  latency p50 {statistics.median(lat):.1f} ms, p95 {p95:.1f} ms, "
                f"max {lat[-1]:.0f} ms",
                f"  writer runs {dict(self.rounds)}",
                f"  writer exit -> new generation served: max {max(served):.2f} s, "
                f"mean {statistics.fmean(served):.2f} s; "
                f"all marker searches done: max {max(visible):.2f} s",
                f"  server reloads {self.server.get('reloads')}, "
                f"reload mean {self.server.get('reload_ms_mean')} ms, "
                f"max {self.server.get('reload_ms_max')} ms, "
                "built from the store (no FAISS file) "
                f"{self.server.get('reloads_built_in_memory')}",
                f"  failures {len(self.failures)}",
            ]
        )


class Clients:
    """N threads: search, then every hit's document and /similar; all outcomes recorded."""

    def __init__(self, base: str, report: SoakReport, vocabulary: list[str], n: int) -> None:
        self.base = base
        self.report = report
        self.vocabulary = vocabulary
        self.removed_urls: set[str] = set()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,)) for i in range(n)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _get(self, client: httpx.Client, path: str, **kw: object) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = client.get(self.base + path, **kw)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            self.report.failures.append(f"{path}: {exc!r}")
            return None
        self.report.latencies_ms.append((time.perf_counter() - started) * 1000)
        self.report.requests += 1
        self.report.statuses[response.status_code] += 1
        if response.status_code >= 500:
            self.report.failures.append(f"{path}: {response.status_code} {response.text[:300]}")
        return response

    def _run(self, seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(timeout=60) as client:
            while not self._stop.is_set():
                query = rng.choice(self.vocabulary)
                mode = rng.choice(["hybrid", "hybrid", "dense", "lexical"])
                response = self._get(client, "/search", params={"q": query, "mode": mode})
                if response is None or response.status_code != 200:
                    continue
                for hit in response.json()["results"][:3]:
                    document = f"/documents/{hit['doc_id']}"
                    for path in (document, f"{document}/similar"):
                        answer = self._get(client, path)
                        if answer is None or answer.status_code == 200 or answer.status_code >= 500:
                            continue  # (a 5xx is recorded by _get)
                        if answer.status_code == 404 and hit["url"] in self.removed_urls:
                            continue  # removed by the writer between the search and this
                        self.report.failures.append(
                            f"{path}: {answer.status_code} for {hit['url']}"
                        )


class Mirror:
    """A copy of the Værnesregionen mirror that the soak edits between writer runs."""

    def __init__(self, root: Path, rng: random.Random) -> None:
        self.root = root
        self.site = root / SITE
        shutil.copytree(PROJECT_ROOT / "corpus" / "mirror" / SITE, self.site)
        self.rng = rng
        self.sitemap = self.site / "sitemap.xml"
        self.originals = sorted(
            url
            for url in re.findall(r"<loc>([^<]+\.html)</loc>", self.sitemap.read_text("utf-8"))
            if "/nyheter/" in url or "/samhandling/" in url
        )
        self.added: dict[str, str] = {}  # url -> marker, pages the soak added and still has
        self.present: dict[str, str] = {}  # marker -> url that must be found
        self.absent: dict[str, str] = {}  # marker -> url that must not be found
        self.counter = 0

    def _file(self, url: str) -> Path:
        return self.site / url.split(f"{SITE}/", 1)[1]

    def marker(self) -> str:
        return "".join(self.rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(5)) + "soak"

    def change(self) -> None:
        url = self.rng.choice(self.originals)
        marker = self.marker()
        path = self._file(url)
        html = path.read_text("utf-8")
        # Into the body text (a news page's header paragraphs are not extracted).
        anchor = '<div class="news-article__body">' if "news-article__body" in html else "</h1>"
        paragraph = f"<p>Oppdatert: {marker} gjelder fra i dag for alle kommunene.</p>"
        path.write_text(html.replace(anchor, anchor + paragraph, 1), "utf-8")
        self.present[marker] = url

    def add(self) -> None:
        self.counter += 1
        url = f"https://{SITE}/nyheter/2013/soak-{self.counter}.html"
        marker = self.marker()
        text = " ".join(self.rng.choice(WORDS) for _ in range(120))
        title = f"Soak-nyhet {self.counter} om {self.rng.choice(WORDS)}"
        self._file(url).write_text(
            f"<!doctype html><html lang='nb'><head><title>{title}</title></head><body><main>"
            f"<article class='news-article'><h1>{title}</h1><div class='news-article__body'>"
            f"<p>Kjennetegn {marker}. {text}.</p><p>{' '.join(reversed(text.split()))}.</p>"
            f"</div></article></main></body></html>",
            "utf-8",
        )
        entry = (
            f"  <url>\n    <loc>{url}</loc>\n    <lastmod>{date.today().isoformat()}</lastmod>\n"
            "  </url>\n</urlset>"
        )
        self.sitemap.write_text(self.sitemap.read_text("utf-8").replace("</urlset>", entry))
        self.added[url] = marker
        self.present[marker] = url

    def remove(self) -> str | None:
        if not self.added:
            return None
        url = self.rng.choice(sorted(self.added))
        marker = self.added.pop(url)
        self._file(url).unlink()
        xml = self.sitemap.read_text("utf-8")
        start = xml.rindex("<url>", 0, xml.index(f"<loc>{url}</loc>"))
        end = xml.index("</url>", start) + len("</url>")
        self.sitemap.write_text(xml[:start] + xml[end:].lstrip("\n"), "utf-8")
        self.present.pop(marker, None)
        self.absent[marker] = url
        return url

    def edit(self) -> list[str]:
        """Change two pages, add two, remove one added earlier; returns removed URLs."""
        for _ in range(2):
            self.change()
        for _ in range(2):
            self.add()
        removed = self.remove()
        return [removed] if removed else []


def _store_generation(data: Path) -> int:
    with sqlite3.connect(f"file:{data / 'store.db'}?mode=ro", uri=True, timeout=10) as conn:
        return int(conn.execute("SELECT value FROM meta WHERE key='generation'").fetchone()[0])


def run_soak(
    workdir: Path,
    *,
    duration: float = 60.0,
    clients: int = 16,
    seed: int = 8,
    real_model: bool = False,
    visible_within: float = 5.0,
    log=print,
) -> SoakReport:
    rng = random.Random(seed)
    report = SoakReport()
    data = workdir / "data"
    mirror = Mirror(workdir / "mirror", rng)
    module = REAL_CLI if real_model else FAKE_CLI
    env = cli_env(
        data,
        SAMSOK_MIRROR_DIR=str(mirror.root),
        SAMSOK_CRAWL_REVALIDATE_AFTER_DAYS="0",  # every run revalidates every page
        SAMSOK_LOG_LEVEL="WARNING",
    )
    slow_env = {**env, "SAMSOK_TEST_EMBED_DELAY": "0.3"}  # an interruptible writer

    def writer(extra_env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", module, "crawl", SOURCE, "--mirror"],
            cwd=PROJECT_ROOT,
            env=extra_env or env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def finish(proc: subprocess.Popen[str], what: str) -> str:
        _, err = proc.communicate(timeout=600)
        if proc.returncode != 0:
            raise SoakFailure(f"{what}: writer exited {proc.returncode}: {err[-2000:]}")
        return err

    finish(writer(), "initial crawl")
    try:
        server, base = start_server(
            data,
            {**env, "SAMSOK_LOG_LEVEL": "INFO"},
            workdir / "serve.log",
            module=module,
            seconds=180,
        )
    except AssertionError as exc:
        raise SoakFailure(f"server did not start: {exc}") from exc

    crowd = Clients(base, report, [*QUERIES, *mirror.present], clients)
    crowd.vocabulary = [*QUERIES]
    crowd.start()
    started = time.monotonic()
    kinds = ["normal", "sigint", "kill9", "two_writers"]
    try:
        round_no = 0
        while time.monotonic() - started < duration or round_no < len(kinds):
            kind = kinds[round_no % len(kinds)]
            round_no += 1
            removed = mirror.edit()
            crowd.removed_urls.update(removed)
            crowd.vocabulary = [*QUERIES, *mirror.present, *mirror.absent]
            if kind == "normal":
                finish(writer(), "crawl")
            elif kind == "two_writers":
                first, second = writer(slow_env), writer()
                errs = [finish(first, "first of two"), finish(second, "second of two")]
                waited = sum("waiting for the writer lock" in e for e in errs)
                report.rounds["waited_for_lock"] += waited
            else:
                proc = writer(slow_env)
                time.sleep(rng.uniform(1.0, 7.0))
                sig = signal.SIGINT if kind == "sigint" else signal.SIGKILL
                code, _, err = stop(proc, sig, timeout=120)
                if code == 0:
                    report.rounds[f"{kind}_finished_first"] += 1
                elif code == -signal.SIGINT and "samsok/api/cli.py" in err:
                    # Ctrl-C while Python was still importing: nothing was opened yet.
                    report.rounds["sigint_during_startup"] += 1
                elif code not in (130, -signal.SIGKILL):
                    raise SoakFailure(f"{kind}: writer exited {code}: {err[-2000:]}")
                elif kind == "sigint":
                    assert_disk_consistent(data)  # a stopped writer commits before it exits
                # The next writer resumes the stopped run and repairs what is stale.
                finish(writer(), f"crawl after {kind}")
            report.rounds[kind] += 1
            committed = time.monotonic()
            generation, _ = assert_disk_consistent(data)
            while True:
                served = int(httpx.get(f"{base}/health", timeout=30).json()["generation"])
                if served >= generation:
                    break
                if time.monotonic() - committed > visible_within:
                    raise SoakFailure(
                        f"generation {generation} not served after {visible_within} s"
                    )
                time.sleep(0.05)
            report.served_after_s.append(time.monotonic() - committed)
            _check_markers(base, mirror, committed, visible_within)
            report.visible_after_s.append(time.monotonic() - committed)
            log(f"round {round_no} ({kind}): generation {generation}, {report.requests} requests")
    finally:
        crowd.stop()
        report.seconds = time.monotonic() - started
        try:
            report.server = httpx.get(f"{base}/health", timeout=30).json()
        except httpx.HTTPError as exc:
            report.failures.append(f"/health at the end: {exc!r}")
        before = data_hashes(data)
        code, _, text = stop(server, signal.SIGTERM, timeout=60)
        if code != 143 or "Traceback" in text:
            report.failures.append(f"server stop: exit {code}: {text[-2000:]}")
        if data_hashes(data) != before:
            report.failures.append("stopping the server changed the data folder")
    if report.failures:
        raise SoakFailure(f"{len(report.failures)} failures, first: {report.failures[:5]}")
    return report


def _check_markers(base: str, mirror: Mirror, committed: float, within: float) -> None:
    """Every present marker finds its page, no absent one finds its page (retried until
    `within` seconds after the commit: the server swaps within its refresh interval)."""
    while True:
        problems = []
        for marker, url in [*mirror.present.items(), *mirror.absent.items()]:
            response = httpx.get(
                f"{base}/search", params={"q": marker, "mode": "lexical", "limit": 5}, timeout=30
            )
            urls = {hit["url"] for hit in response.json()["results"]}
            if (url in urls) != (marker in mirror.present):
                wrong = "missing" if marker in mirror.present else "still found"
                problems.append(f"{marker}: {url} {wrong}")
        if not problems:
            return
        if time.monotonic() - committed > within:
            raise SoakFailure(f"{within} s after the commit: {problems[:5]}")
        time.sleep(0.1)
