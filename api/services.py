"""Wiring: build the core objects from `Settings` and run the jobs the CLI and compose call.

The only module that knows how ingest, search and the HTTP app fit together.
"""

from __future__ import annotations

import logging
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime
from functools import partial
from pathlib import Path

import httpx
from samsok.api import console
from samsok.api.console import table
from samsok.api.settings import Settings
from samsok.api.signals import Stop
from samsok.ingest.config import LOOPBACK_NETWORKS
from samsok.ingest.crawl import (
    Crawler,
    CrawlEvent,
    CrawlState,
    CrawlSummary,
    DocumentRemoved,
    Source,
    load_sources,
)
from samsok.ingest.documents import DocType, Region
from samsok.ingest.errors import ExtractionError, SourceConfigError
from samsok.ingest.fetch import RewritingTransport
from samsok.ingest.local import iter_files, read_paths
from samsok.search.distributed import (
    EmbedderLike,
    RayEmbedPool,
    apply_events_distributed,
    document_chunker,
    replay_journal,
)
from samsok.search.embedding.embedder import EmbedConfig, Embedder, LazyEmbedder
from samsok.search.index import SearchIndex
from samsok.search.index.lexical import LexicalIndex
from samsok.search.pipeline import IndexingSummary, apply_events
from samsok.search.store.changes import ChangesResponse, default_since

__all__ = ["CrawlReport", "ServiceError", "Services", "extract_file", "make_embedder", "open_index"]

log = logging.getLogger(__name__)


class ServiceError(Exception):
    """A job cannot run as asked (unknown source, no mirror, …); the message says why."""


@dataclass
class CrawlReport:
    crawl: CrawlSummary
    indexing: IndexingSummary

    def render(self) -> str:
        """The summary table printed at the end of every crawl."""
        c, i = self.crawl, self.indexing.as_dict()
        rate = c.requests / c.seconds if c.seconds > 0 else 0.0
        lines = [
            f"Crawl: {c.requests} requests in {c.seconds:.1f} s ({rate:.1f}/s)",
            table(
                [
                    ("new", c.new, i["new"]),
                    ("changed", c.changed, i["changed"]),
                    ("unchanged", c.unchanged, i["unchanged"]),
                    ("removed", c.removed, i["removed"]),
                    ("near-duplicates", None, i["duplicates"]),
                    ("fetched", c.fetched, None),
                    ("not modified", c.not_modified, None),
                ],
                header=("", "crawl", "index"),
            ),
        ]
        for label, counts in (("skipped", c.skipped), ("failed", c.failed)):
            if counts:
                listed = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
                lines.append(f"{label}: {listed}")
        return "\n".join(lines)


class Services:
    """Opens what a command needs, once, and closes it.

    `index` is a reader unless a writing job already opened the writer; `writer` takes the
    data folder's writer lock (waiting for it, or failing at once with `wait=False`) and
    holds it until `close()`. The embedder is shared and loads its model on first use only.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        wait: bool = True,
        stop: Stop | None = None,
        worker_embedder: Callable[[], EmbedderLike] | None = None,
    ) -> None:
        self.settings = settings
        self._embedder = embedder
        # How Ray workers make their embedder (default: load the configured model).
        self._worker_embedder = worker_embedder or partial(_load_model, settings.embed_config())
        self.wait = wait
        self.stop = stop or Stop()
        self._index: SearchIndex | None = None

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = make_embedder(self.settings)
        return self._embedder

    @property
    def index(self) -> SearchIndex:
        """The open index; a reader (writes nothing) unless the writer is open."""
        if self._index is None:
            self._index = open_index(self.settings, embedder=self.embedder, read_only=True)
        return self._index

    @property
    def writer(self) -> SearchIndex:
        """The index opened for writing: holds the writer lock until `close()`."""
        if self._index is not None and self._index.read_only:
            self.close()
        if self._index is None:
            self._index = open_index(self.settings, embedder=self.embedder, wait=self.wait)
            replay_journal(self._index)
        return self._index

    def close(self) -> None:
        if self._index is not None:
            index, self._index = self._index, None
            index.close()

    # -- crawling -------------------------------------------------------------------------

    def _select_sources(
        self, names: list[str], url: str | None, region: str | None, mirror: bool
    ) -> list[Source]:
        if url:
            return [Source.adhoc(url, region or "")]
        try:
            sources = load_sources(self.settings.sources_file)
        except SourceConfigError as exc:
            raise ServiceError(str(exc)) from exc
        if names:
            known = {s.name: s for s in sources}
            unknown = [n for n in names if n not in known]
            if unknown:
                raise ServiceError(
                    f"unknown source(s) {', '.join(unknown)}; known: {', '.join(known)}"
                )
            sources = [known[n] for n in names]
        if mirror:
            sources = [s for s in sources if s.mirror]
            if not sources:
                raise ServiceError("none of the selected sources has an offline mirror")
        return sources

    def crawl(
        self,
        names: list[str],
        *,
        url: str | None = None,
        region: str | None = None,
        mirror: bool = False,
        progress: bool = False,
    ) -> CrawlReport:
        sources = self._select_sources(names, url, region, mirror)
        config = self.settings.crawl_config()
        index = self.writer  # the lock first: crawl.db belongs to the writer too
        with ExitStack() as stack:
            transport: httpx.BaseTransport = httpx.HTTPTransport()
            if mirror:
                from samsok.api.mirror import serve_mirror

                hosts = sorted({s.mirror for s in sources if s.mirror})
                server = stack.enter_context(serve_mirror(self.settings.mirror_dir, hosts))
                transport = RewritingTransport(transport, server.host_map)
                # The mirror is on loopback: a politeness delay would only slow the demo, and
                # loopback (only loopback) must be reachable whatever SAMSOK_CRAWL_ALLOW_PRIVATE.
                config = replace(
                    config,
                    delay_seconds=0.0,
                    allowed_networks=(*config.allowed_networks, *LOOPBACK_NETWORKS),
                )
            client = stack.enter_context(httpx.Client(transport=transport))
            state = CrawlState(self.settings.data_dir / "crawl.db")
            stack.callback(state.close)
            crawler = Crawler(config, client, state, extract_config=self.settings.extract_config())
            bar = stack.enter_context(console.progress("crawl", unit="url", enabled=progress))
            seen: Counter[str] = Counter()

            def tick(event: CrawlEvent) -> None:
                seen[type(event).__name__] += 1
                bar.set_postfix(
                    new=seen["DocumentFetched"],
                    removed=seen["DocumentRemoved"],
                    skipped=seen["ItemSkipped"] + seen["ItemFailed"],
                    refresh=False,
                )
                bar.update(1)

            with self.stop.cooperative():
                indexing = self._apply(index, crawler.crawl(sources), on_event=tick, stack=stack)
            return CrawlReport(crawler.summary, indexing)

    def ingest_paths(
        self,
        paths: list[Path],
        region: Region,
        source: str,
        doc_type: DocType | None,
        *,
        progress: bool = False,
    ) -> dict[str, object]:
        """Index local files; each keeps its original bytes (within the originals cap)."""
        total = sum(1 for _ in iter_files(paths))
        index = self.writer
        events = read_paths(
            paths,
            region=region,
            source=source,
            doc_type=doc_type,
            config=self.settings.extract_config(),
        )
        with (
            ExitStack() as stack,
            self.stop.cooperative(),
            console.progress("ingest", unit="file", total=total, enabled=progress) as bar,
        ):

            def tick(event: CrawlEvent) -> None:
                if not isinstance(event, DocumentRemoved):  # the legacy-name clean-up step
                    bar.update(1)

            return self._apply(index, events, on_event=tick, stack=stack).as_dict()

    def changes(self, since: date | datetime | None, region: Region | None) -> ChangesResponse:
        """`samsok changes`: the same answer as `GET /changes` (reads only, no model)."""
        start = since if since is not None else default_since(self.settings.changes_days)
        return self.index.changes(since=start, region=region)

    def _apply(
        self,
        index: SearchIndex,
        events: Iterable[CrawlEvent],
        *,
        stack: ExitStack,
        on_event: Callable[[CrawlEvent], None] | None = None,
    ) -> IndexingSummary:
        """Apply events to the writer: here, or with embedding fanned out on Ray."""
        stop = lambda: self.stop.requested  # noqa: E731
        cap = self.settings.originals_max_bytes
        if not self.settings.ray_address:
            return apply_events(
                index, events, on_event=on_event, should_stop=stop, originals_max_bytes=cap
            )
        pool = RayEmbedPool(
            self.settings.ray_address,
            self._worker_embedder,
            partial(document_chunker, self.settings.chunk_config()),
            workers=self.settings.ray_workers,
        )
        stack.callback(pool.close)
        return apply_events_distributed(
            index, events, pool, on_event=on_event, should_stop=stop, originals_max_bytes=cap
        )

    # -- other jobs -----------------------------------------------------------------------

    def status(self) -> dict[str, object]:
        """Reads only: works on a read-only data folder and never loads the model."""
        crawls = _last_crawls(self.settings.data_dir / "crawl.db")
        return {
            "index": self.index.stats().model_dump(),
            "originals": asdict(self.index.originals_stats()),
            "last_crawl_per_source": crawls,
        }

    def reindex(self) -> int:
        self.close()
        self._index = open_index(
            self.settings, embedder=self.embedder, allow_model_change=True, wait=self.wait
        )
        return self._index.reindex(show_progress=True)

    def serve(self, host: str, port: int) -> None:
        """Serve from a reader: it picks up what writers publish, and writes nothing."""
        import uvicorn
        from samsok.api.app import create_app

        if self._index is not None and not self._index.read_only:
            self.close()  # e.g. `demo` after its crawl: let other writers in
        app = create_app(self.settings, self.index)
        uvicorn.run(app, host=host, port=port, log_level=self.settings.log_level.lower())


def _last_crawls(path: Path) -> list[dict[str, object]]:
    """The crawl log's latest runs, read without writing (no crawl.db yet: no crawls)."""
    if not path.is_file():
        return []
    # "immutable" when SQLite cannot make the WAL's -shm file in a read-only folder.
    for mode in ("ro", "immutable"):
        state = CrawlState(path, read_only=mode)
        try:
            return state.last_crawls()
        except sqlite3.OperationalError as exc:
            error = exc
        finally:
            state.close()
    log.warning("cannot read %s: %s", path, error)
    return []


def _load_model(config: EmbedConfig) -> Embedder:
    from transformers.utils import logging as transformers_logging

    # Its per-load "Loading weights" bar is noise on every CLI command.
    transformers_logging.disable_progress_bar()
    return Embedder(config)


def make_embedder(settings: Settings) -> Embedder:
    """The configured embedder; its model is loaded on first use only."""
    return LazyEmbedder(settings.embed_config(), _load_model)  # type: ignore[return-value]


def open_index(
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    allow_model_change: bool = False,
    read_only: bool = False,
    wait: bool = True,
) -> SearchIndex:
    """Open the index in the data folder with the configured (or a given) embedder: a reader,
    or the writer (taking the writer lock; `wait=False` fails at once if it is held)."""
    if embedder is None:
        embedder = make_embedder(settings)
    chunker = document_chunker(settings.chunk_config(), embedder)
    return SearchIndex(
        settings.data_dir,
        embedder,
        chunker,
        settings.index_config(),
        LexicalIndex(settings.lexical_config()),
        allow_model_change=allow_model_change,
        read_only=read_only,
        wait=wait,
    )


def extract_file(path: Path, *, url: str | None, config: object) -> dict[str, object]:
    """`samsok extract`: what extraction gets out of one local file, as plain JSON data."""
    from samsok.ingest.local import extract_local_file

    try:
        page = extract_local_file(path, url=url, config=config)  # type: ignore[arg-type]
    except ExtractionError as exc:
        raise ServiceError(f"{path}: {exc} [{exc.reason}]") from exc
    return {
        "url": page.url,
        "title": page.title,
        "published": page.published.isoformat() if page.published else None,
        "language": page.language,
        "content_type": page.content_type,
        "text": "\n\n".join(p.text for p in page.pages),
        "pages": [{"number": p.number, "text": p.text} for p in page.pages],
    }
