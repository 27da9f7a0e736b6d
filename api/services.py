"""Wiring: build the core objects from `Settings` and run the jobs the CLI and compose call.

The only module that knows how ingest, search and the HTTP app fit together: `Services` runs
the jobs; `wiring` opens the embedder and the index; `reports` holds what the jobs report.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import asdict, replace
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from samsok.api import console
from samsok.api.reports import CrawlReport, ServiceError, last_crawls
from samsok.api.settings import Settings
from samsok.api.signals import Stop
from samsok.api.wiring import EmbedderFactory, load_model, make_embedder, open_index
from samsok.ingest.config import LOOPBACK_NETWORKS
from samsok.ingest.documents import DocType, Region
from samsok.ingest.errors import SourceConfigError

# A job imports what it runs when it runs: `status` and a lexical search never load the
# crawler (httpx), the extractors (trafilatura, pypdf) or Ray, and nothing loads the model
# before it embeds (every CLI command imports this module).
if TYPE_CHECKING:
    from samsok.ingest.crawl import CrawlEvent, Source
    from samsok.search.embedding import TextEmbedder
    from samsok.search.index import SearchIndex
    from samsok.search.pipeline import IndexingSummary
    from samsok.search.store import ChangesResponse

__all__ = ["Services"]

log = logging.getLogger(__name__)


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
        embedder: TextEmbedder | None = None,
        embedder_factory: EmbedderFactory = make_embedder,
        wait: bool = True,
        stop: Stop | None = None,
        worker_embedder: Callable[[], TextEmbedder] | None = None,
    ) -> None:
        self.settings = settings
        self._embedder = embedder
        self._embedder_given = embedder is not None
        self._embedder_factory = embedder_factory
        # How Ray workers make their embedder (default: load the configured model).
        self._worker_embedder = worker_embedder or partial(load_model, settings.embed_config())
        self.wait = wait
        self.stop = stop or Stop()
        self._index: SearchIndex | None = None

    @property
    def embedder(self) -> TextEmbedder:
        """The given embedder, else the factory's (the model loads on first use only)."""
        if self._embedder is None:
            self._embedder = self._embedder_factory(self.settings)
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
            from samsok.search.distributed import replay_journal

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
        from samsok.ingest.crawl import Source, load_sources

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
        import httpx
        from samsok.ingest.crawl import Crawler, CrawlState
        from samsok.ingest.fetch import RewritingTransport

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
        from samsok.ingest.crawl import DocumentRemoved
        from samsok.ingest.local import iter_files, read_paths

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
        from samsok.search.store import default_since

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
        from samsok.search.pipeline import apply_events

        stop = lambda: self.stop.requested  # noqa: E731
        cap = self.settings.originals_max_bytes
        if not self.settings.ray_address:
            return apply_events(
                index, events, on_event=on_event, should_stop=stop, originals_max_bytes=cap
            )
        from samsok.search.distributed import (
            RayEmbedPool,
            apply_events_distributed,
            document_chunker,
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
        crawls = last_crawls(self.settings.data_dir / "crawl.db")
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
        """Serve from readers: they pick up what writers publish, and write nothing.

        With more than one worker (`SAMSOK_SERVE_WORKERS`, default one per core) each worker
        process opens its own reader and makes its embedder with the factory; this process only
        supervises them. The index is opened
        here first either way, so a data folder that cannot be served fails with its own error
        before any worker starts."""
        import uvicorn
        from samsok.api.app import create_app
        from samsok.api.workers import default_workers, serve_workers

        # An embedder object given to Services cannot cross into spawned workers: serve here.
        workers = 1 if self._embedder_given else self.settings.serve_workers or default_workers()
        if self._index is not None and not self._index.read_only:
            self.close()  # e.g. `demo` after its crawl: let other writers in
        if workers > 1:
            self.index  # noqa: B018  (opens a reader: the model is not loaded for it)
            self.close()
            self._embedder = None  # e.g. `demo`'s crawl model: the workers load their own
            serve_workers(self.settings, self._embedder_factory, host, port, workers)
            return
        if not self._embedder_given:
            # An embedder made for documents (`demo`'s crawl) has `threads`: replaced.
            self.close()  # an index opened before holds the embedder it replaces
            self._embedder = self._embedder_factory(self.settings.serving())
        app = create_app(self.settings, self.index)
        uvicorn.run(app, host=host, port=port, log_level=self.settings.log_level.lower())
