"""Fetching one URL politely and defensively; every outcome is a `FetchResult`.

The steps for one URL (each step may end it with a result instead of an exception):
1. wait for the host's turn (`samsok.ingest.fetch.politeness`): `per_host_concurrency` requests in
   flight, and at least `delay_seconds` (or the robots Crawl-delay, or a Retry-After) since
   the last one;
2. GET with conditional headers from the stored validators (304 → not_modified), under a
   hard `total_timeout` that covers the response headers too (`samsok.ingest.fetch.exchange`);
3. redirects are followed here, not by httpx, so each hop is checked (`check`: scope, robots,
   already fetched) and recorded; loops and more than `max_redirects` hops fail;
4. connect errors, timeouts, truncated bodies, 5xx and 429 are retried with exponential
   backoff and jitter, or after the server's Retry-After (seconds or an HTTP date, capped);
   a `total_timeout` is not retried;
5. the body is streamed and decompressed by `samsok.ingest.fetch.bodies`, so the size cap counts
   decompressed bytes (a gzip bomb stops at the cap);
6. the type is sniffed from the first bytes (a PDF served as text/html is a PDF) and checked
   against the allow list; the HTTP charset is passed on in `content_type`.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import replace
from urllib.parse import urljoin

import httpx
from samsok.ingest.config import CrawlConfig
from samsok.ingest.fetch.bodies import PAGE_TYPES
from samsok.ingest.fetch.exchange import Ask, Exchanger
from samsok.ingest.fetch.politeness import HostSlots, backoff
from samsok.ingest.fetch.results import (
    FetchResult,
    HopCheck,
    Outcome,
    Redirect,
    Transient,
    Validators,
)
from samsok.ingest.urls import is_http_url, normalize_url

__all__ = ["Fetcher"]

logger = logging.getLogger(__name__)


class Fetcher:
    """Fetches URLs through the given httpx client (which must not follow redirects itself)."""

    def __init__(
        self,
        client: httpx.Client,
        config: CrawlConfig,
        *,
        crawl_delay: Callable[[str], float | None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self._config = config
        self._clock = clock
        self._rng = rng
        self._slots = HostSlots(config, crawl_delay=crawl_delay, clock=clock, sleep=sleep)
        self._exchanger = Exchanger(client, config, clock)

    @property
    def requests(self) -> int:
        """HTTP requests sent (every attempt and redirect hop, robots.txt and sitemaps too)."""
        return self._exchanger.requests

    def fetch(
        self,
        url: str,
        *,
        validators: Callable[[str], Validators | None] | None = None,
        check: HopCheck | None = None,
        accept: frozenset[str] | None = PAGE_TYPES,
        max_bytes: int | None = None,
    ) -> FetchResult:
        """Fetch `url` (normalised). `accept=None` takes any type (robots.txt, sitemaps)."""
        started = self._clock()
        hops: list[Redirect] = []
        seen = {url: None}  # ordered, for the loop message
        current = url
        attempts = 0
        while True:
            stored = validators(current) if validators else None
            result, location = self._with_retries(current, Ask(stored, accept, max_bytes))
            attempts += result.attempts
            if location is None:
                break
            hops.append(Redirect(current, result.status_code or 0, location))
            target, failure = self._redirect_target(current, location, seen, len(hops))
            if failure is not None:
                result = replace(
                    result, outcome=Outcome.FAILED, reason=failure[0], detail=failure[1]
                )
                break
            verdict = check(target) if check else None
            if verdict is not None:
                result = FetchResult(
                    Outcome.SKIPPED,
                    url,
                    target,
                    result.status_code,
                    reason=verdict[0],
                    detail=verdict[1],
                )
                current = target
                break
            seen[target] = None
            current = target
        return replace(
            result,
            url=url,
            final_url=current,
            redirects=tuple(hops),
            attempts=attempts,
            elapsed=self._clock() - started,
        )

    def pause(self, url: str, seconds: float) -> None:
        """No request to the URL's host before `seconds` from now."""
        self._slots.defer(self._slots.slot(url), seconds)

    def _redirect_target(
        self, current: str, location: str, seen: dict[str, None], hops: int
    ) -> tuple[str, tuple[str, str] | None]:
        if not location:
            return "", ("redirect_without_location", current)
        try:
            target = normalize_url(urljoin(current, location))
        except ValueError:
            return "", ("bad_redirect", location)
        if not is_http_url(target):
            return target, ("bad_redirect", location)
        if target in seen:
            return target, ("redirect_loop", " -> ".join([*seen, target]))
        if hops > self._config.max_redirects:
            return target, ("too_many_redirects", f"more than {self._config.max_redirects}")
        return target, None

    def _with_retries(
        self,
        url: str,
        ask: Ask,
    ) -> tuple[FetchResult, str | None]:
        last: Transient | None = None
        tries = 1 + max(0, self._config.retries)
        for attempt in range(tries):
            slot = self._slots.turn(url)
            try:
                result, location = self._exchanger.get(url, ask)
                return replace(result, attempts=attempt + 1), location
            except Transient as exc:
                last = exc
                if attempt + 1 < tries:
                    wait = backoff(self._config, attempt, exc.retry_after, self._rng)
                    logger.info("retrying %s in %.2fs: %s %s", url, wait, exc.reason, exc.detail)
                    self._slots.defer(slot, wait)
            finally:
                self._slots.done(slot, url)
        assert last is not None
        detail = f"{last.detail} (after {tries} attempts)".strip()
        return FetchResult(
            Outcome.FAILED, url, url, last.status, last.reason, detail, attempts=tries
        ), None
