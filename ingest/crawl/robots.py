"""robots.txt rules (RFC 9309), parsed with protego and cached per origin.

What a robots.txt fetch means:
- 2xx: parse it (first 500 KiB).
- 4xx (404, 410, 403, ...): there are no rules; everything is allowed.
- 5xx, 429, a timeout or a network error: the site could not say what it allows, so nothing
  on that origin is crawled in this crawl (RFC 9309 §2.3.1.4). The outcome is kept in
  `RobotsRules.status`/`detail` so the crawler can record it.

The cache does no I/O itself: it asks a loader (the crawler passes one that fetches through
its `Fetcher`, so robots requests are polite and logged like any other).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlsplit

from protego import Protego
from samsok.ingest.fetch import FetchResult, Outcome

__all__ = [
    "ROBOTS_MAX_BYTES",
    "RobotsCache",
    "RobotsRules",
    "RobotsStatus",
    "origin_of",
    "robots_url",
    "rules_from_fetch",
    "rules_from_response",
]

logger = logging.getLogger(__name__)

#: RFC 9309 asks crawlers to parse at least 500 KiB; more than that is ignored.
ROBOTS_MAX_BYTES = 500 * 1024


class RobotsStatus(StrEnum):
    PARSED = "robots_ok"
    MISSING = "robots_missing"  # 4xx: allow all
    UNREACHABLE = "robots_unreachable"  # 5xx/429/network: disallow all


@dataclass(frozen=True)
class RobotsRules:
    origin: str
    status: RobotsStatus
    http_status: int | None = None
    detail: str = ""
    parser: Protego | None = field(default=None, compare=False, repr=False)
    #: Why the fetch was skipped (`private_address`, `cross_host_redirect`, `too_large`), if it was.
    skipped: str = ""

    def allowed(self, url: str, user_agent: str) -> bool:
        if self.status is RobotsStatus.UNREACHABLE:
            return False
        if self.parser is None:
            return True
        return bool(self.parser.can_fetch(url, user_agent))

    def crawl_delay(self, user_agent: str) -> float | None:
        if self.parser is None:
            return None
        delay = self.parser.crawl_delay(user_agent)
        return float(delay) if delay is not None else None

    def sitemaps(self) -> list[str]:
        return list(self.parser.sitemaps) if self.parser is not None else []


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def robots_url(url: str) -> str:
    return origin_of(url) + "/robots.txt"


def rules_from_response(
    origin: str, http_status: int | None, body: bytes | None, detail: str = ""
) -> RobotsRules:
    """Rules from the outcome of fetching `origin`/robots.txt.

    `http_status` is None when no response came back (timeout, connection refused, ...).
    """
    if http_status is not None and 200 <= http_status < 300 and body is not None:
        text = body[:ROBOTS_MAX_BYTES].decode("utf-8", errors="replace")
        try:
            parser = Protego.parse(text)
        except Exception as exc:  # protego is lenient; anything it raises is a parser bug
            logger.warning("robots.txt of %s could not be parsed: %r; allowing all", origin, exc)
            return RobotsRules(origin, RobotsStatus.MISSING, http_status, f"unparseable: {exc!r}")
        return RobotsRules(origin, RobotsStatus.PARSED, http_status, detail, parser)
    if http_status is not None and 400 <= http_status < 500 and http_status != 429:
        return RobotsRules(origin, RobotsStatus.MISSING, http_status, detail)
    reason = detail or (f"HTTP {http_status}" if http_status else "no response")
    return RobotsRules(origin, RobotsStatus.UNREACHABLE, http_status, reason)


def rules_from_fetch(origin: str, result: FetchResult) -> RobotsRules:
    """Rules from the crawler's fetch of `origin`/robots.txt (any outcome)."""
    detail = f"robots.txt: {result.reason} {result.detail}".strip()
    if result.outcome is Outcome.OK:
        return rules_from_response(origin, result.status_code, result.body)
    if result.outcome is Outcome.FAILED:
        return rules_from_response(origin, result.status_code, None, detail)
    # Skipped (too large, a refused address or redirect, ...): we could not read what the site
    # allows.
    return RobotsRules(
        origin, RobotsStatus.UNREACHABLE, result.status_code, detail, skipped=str(result.reason)
    )


class RobotsCache:
    """robots.txt rules per origin, loaded once per crawl through `loader(origin)`."""

    def __init__(self, loader: Callable[[str], RobotsRules], user_agent: str) -> None:
        self._loader = loader
        self._user_agent = user_agent
        self._rules: dict[str, RobotsRules] = {}

    def rules_for(self, url: str) -> RobotsRules:
        origin = origin_of(url)
        rules = self._rules.get(origin)
        if rules is None:
            rules = self._loader(origin)
            self._rules[origin] = rules
            if rules.status is RobotsStatus.UNREACHABLE:
                logger.warning(
                    "robots.txt of %s unreachable (%s): not crawling that host",
                    origin,
                    rules.detail,
                )
        return rules

    def cached(self, url: str) -> RobotsRules | None:
        return self._rules.get(origin_of(url))

    def allowed(self, url: str) -> bool:
        return self.rules_for(url).allowed(url, self._user_agent)

    def crawl_delay(self, url: str) -> float | None:
        """Crawl-delay for the URL's origin, only if its robots.txt is already loaded."""
        rules = self.cached(url)
        return rules.crawl_delay(self._user_agent) if rules is not None else None
