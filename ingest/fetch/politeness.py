"""Whose turn it is: per-host request slots, delays, backoff and Retry-After.

Each host has a slot: at most `per_host_concurrency` requests in flight, and no request
before `not_before`, which every finished request pushes to now + `delay_seconds` (or the
robots.txt Crawl-delay, capped) and a retry pushes to now + its backoff or Retry-After.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from samsok.ingest.config import CrawlConfig
from samsok.ingest.urls import url_host

__all__ = ["HostSlot", "HostSlots", "backoff", "parse_retry_after"]


class HostSlot:
    def __init__(self, concurrency: int) -> None:
        self.semaphore = threading.BoundedSemaphore(max(1, concurrency))
        self.lock = threading.Lock()
        self.not_before = 0.0


class HostSlots:
    def __init__(
        self,
        config: CrawlConfig,
        *,
        crawl_delay: Callable[[str], float | None] | None,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        self._config = config
        self._crawl_delay = crawl_delay
        self._clock = clock
        self._sleep = sleep
        self._slots: dict[str, HostSlot] = {}
        self._lock = threading.Lock()

    def slot(self, url: str) -> HostSlot:
        host = url_host(url)
        with self._lock:
            slot = self._slots.get(host)
            if slot is None:
                slot = self._slots[host] = HostSlot(self._config.per_host_concurrency)
            return slot

    def turn(self, url: str) -> HostSlot:
        """Wait until a request to the URL's host may start; pass the slot to `done`."""
        slot = self.slot(url)
        slot.semaphore.acquire()
        with slot.lock:
            wait = slot.not_before - self._clock()
        if wait > 0:
            self._sleep(wait)
        return slot

    def done(self, slot: HostSlot, url: str) -> None:
        delay = self._config.delay_seconds
        robots_delay = self._crawl_delay(url) if self._crawl_delay else None
        if robots_delay is not None:
            delay = max(delay, min(robots_delay, self._config.max_crawl_delay_seconds))
        self.defer(slot, delay)
        slot.semaphore.release()

    def defer(self, slot: HostSlot, seconds: float) -> None:
        with slot.lock:
            slot.not_before = max(slot.not_before, self._clock() + seconds)


def backoff(
    config: CrawlConfig, attempt: int, retry_after: float | None, rng: Callable[[], float]
) -> float:
    """Seconds before retry `attempt + 1`: the server's Retry-After (capped) or exponential."""
    if retry_after is not None:
        return min(retry_after, config.retry_after_cap_seconds)
    base = config.backoff_base_seconds * (2**attempt)
    return base * (0.5 + rng())  # jitter: 0.5x..1.5x so retries do not align


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
