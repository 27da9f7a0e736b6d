"""Wiring: build the core objects from `Settings` and run the jobs the CLI and compose call.

The only module that knows how ingest, search and the HTTP app fit together.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import httpx
from samsok.api.settings import Settings
from samsok.ingest.chunk import chunk_document
from samsok.ingest.crawl import Crawler, CrawlEvent, CrawlSummary
from samsok.ingest.crawlstate import CrawlState
from samsok.ingest.errors import ExtractionError, SourceConfigError
from samsok.ingest.fetch import RewritingTransport
from samsok.ingest.local import read_paths
from samsok.ingest.models import DocType, Region
from samsok.ingest.sources import Source, load_sources
from samsok.search.embed import Embedder
from samsok.search.index import SearchIndex
from samsok.search.lexical import LexicalIndex
from samsok.search.pipeline import IndexingSummary, apply_events
from tqdm import tqdm

__all__ = ["CrawlReport", "ServiceError", "Services", "extract_file"]

log = logging.getLogger(__name__)


class ServiceError(Exception):
    """A job cannot run as asked (unknown source, no mirror, …); the message says why."""


@dataclass
class CrawlReport:
    crawl: CrawlSummary
    indexing: IndexingSummary

    def render(self) -> str:
        c, i = self.crawl, self.indexing.as_dict()
        lines = [
            f"Crawl: {c.requests} requests in {c.seconds:.1f} s",
            f"  fetched {c.fetched}, not modified {c.not_modified}, new {c.new}, "
            f"changed {c.changed}, removed {c.removed}",
        ]
        if c.skipped:
            lines.append(
                "  skipped: " + ", ".join(f"{k} {v}" for k, v in sorted(c.skipped.items()))
            )
        if c.failed:
            lines.append("  failed: " + ", ".join(f"{k} {v}" for k, v in sorted(c.failed.items())))
        lines.append(
            f"Index: new {i['new']}, changed {i['changed']}, unchanged {i['unchanged']}, "
            f"near-duplicates {i['duplicates']}, removed {i['removed']}"
        )
        return "\n".join(lines)


class Services:
    """Opens what a command needs, once, and closes it."""

    def __init__(self, settings: Settings, *, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self._embedder = embedder
        self._index: SearchIndex | None = None

    @property
    def index(self) -> SearchIndex:
        if self._index is None:
            self._index = open_index(self.settings, embedder=self._embedder)
        return self._index

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None

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
        with ExitStack() as stack:
            transport: httpx.BaseTransport = httpx.HTTPTransport()
            if mirror:
                from samsok.api.mirror import serve_mirror

                hosts = sorted({s.mirror for s in sources if s.mirror})
                server = stack.enter_context(serve_mirror(self.settings.mirror_dir, hosts))
                transport = RewritingTransport(transport, server.host_map)
                # The mirror is on loopback: a politeness delay would only slow the demo.
                config = replace(config, delay_seconds=0.0)
            client = stack.enter_context(httpx.Client(transport=transport))
            state = CrawlState(self.settings.data_dir / "crawl.db")
            stack.callback(state.close)
            crawler = Crawler(config, client, state, extract_config=self.settings.extract_config())
            bar = stack.enter_context(
                tqdm(
                    desc="crawl", unit="url", disable=not progress, leave=False, dynamic_ncols=True
                )
            )

            def tick(event: CrawlEvent) -> None:
                bar.update(1)

            indexing = apply_events(self.index, crawler.crawl(sources), on_event=tick)
            return CrawlReport(crawler.summary, indexing)

    def ingest_paths(
        self, paths: list[Path], region: Region, source: str, doc_type: DocType | None
    ) -> dict[str, object]:
        events = read_paths(
            paths,
            region=region,
            source=source,
            doc_type=doc_type,
            config=self.settings.extract_config(),
        )
        return apply_events(self.index, events).as_dict()

    # -- other jobs -----------------------------------------------------------------------

    def status(self) -> dict[str, object]:
        state = CrawlState(self.settings.data_dir / "crawl.db")
        try:
            crawls = state.last_crawls()
        finally:
            state.close()
        return {"index": self.index.stats().model_dump(), "last_crawl_per_source": crawls}

    def reindex(self) -> int:
        self.close()
        self._index = open_index(self.settings, embedder=self._embedder, allow_model_change=True)
        return self._index.reindex(show_progress=True)

    def serve(self, host: str, port: int) -> None:
        import uvicorn
        from samsok.api.app import create_app

        app = create_app(self.settings, self.index)
        uvicorn.run(app, host=host, port=port, log_level=self.settings.log_level.lower())


def open_index(
    settings: Settings, *, embedder: Embedder | None = None, allow_model_change: bool = False
) -> SearchIndex:
    """Open the index in the data folder with the configured (or a given) embedder."""
    if embedder is None:
        from transformers.utils import logging as transformers_logging

        # Its per-load "Loading weights" bar is noise on every CLI command.
        transformers_logging.disable_progress_bar()
        embedder = Embedder(settings.embed_config())
    chunker = partial(
        chunk_document, config=settings.chunk_config(), count_tokens=embedder.count_tokens
    )
    return SearchIndex(
        settings.data_dir,
        embedder,
        chunker,
        settings.index_config(),
        LexicalIndex(settings.lexical_config()),
        allow_model_change=allow_model_change,
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
