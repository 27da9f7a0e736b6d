"""What a source's site says about itself: robots.txt and sitemaps, read on its own hosts.

Both are fetched through the crawler's `Fetcher` (polite, retried, address-checked, logged).
Their redirects must stay on the source's hosts (for robots.txt also its own host, for a
sitemap also the sitemap's own host, which a `sources.toml` sitemap may name): a redirect
elsewhere is not followed and is logged as `cross_host_redirect`.

RFC 9309 §2.3.1.2 lets a crawler follow robots.txt redirects even across hosts; we do not, so
a site cannot point the crawler at another host. A robots.txt left unread that way gives no
rules, so it is treated as unreachable (§2.3.1.4: complete disallow for that origin in this
crawl), which also keeps the run from tombstoning. To follow such a redirect, add the target
host to the source's `allowed`. A sitemap left unread makes the run incomplete, for the same
reason: the pages only it lists would look vanished.
"""

from __future__ import annotations

from collections.abc import Callable

from samsok.ingest.config import CrawlConfig
from samsok.ingest.crawl.frontier import CrawlRun
from samsok.ingest.crawl.robots import RobotsCache, RobotsRules, origin_of, rules_from_fetch
from samsok.ingest.crawl.sitemap import Harvest, harvest_sitemaps
from samsok.ingest.documents import SkipReason
from samsok.ingest.fetch import Fetcher, FetchResult, HopCheck, Outcome
from samsok.ingest.urls import normalize_url, url_host

__all__ = ["LogFn", "SiteFiles", "stay_on"]

#: The crawler's log: (run, url, outcome, reason, detail, fetch result or None).
LogFn = Callable[[CrawlRun, str, str, str, str, "FetchResult | None"], None]


def stay_on(hosts: set[str] | frozenset[str], what: str) -> HopCheck:
    """A redirect check that refuses hops to any host but `hosts`."""

    def check(target: str) -> tuple[str, str] | None:
        if url_host(target) in hosts:
            return None
        return str(SkipReason.CROSS_HOST_REDIRECT), f"{what} redirected to {target}"

    return check


class SiteFiles:
    """robots.txt rules (cached per origin for one crawl) and the sitemap harvest of a run."""

    def __init__(
        self,
        fetcher: Fetcher,
        config: CrawlConfig,
        log: LogFn,
        current_run: Callable[[], CrawlRun | None],
    ) -> None:
        self._fetcher = fetcher
        self._config = config
        self._log = log
        self._run = current_run
        self.robots = RobotsCache(self.load_robots, config.user_agent)

    def load_robots(self, origin: str) -> RobotsRules:
        url = origin + "/robots.txt"
        run = self._run()
        hosts = {url_host(url), *(run.source.hosts if run is not None else ())}
        result = self._fetcher.fetch(
            url,
            accept=None,
            max_bytes=self._config.max_robots_bytes,
            check=stay_on(hosts, "robots.txt"),
        )
        rules = rules_from_fetch(origin, result)
        if run is not None:
            if result.outcome is Outcome.SKIPPED:
                self._log(
                    run,
                    url,
                    "skipped",
                    result.reason,
                    f"{result.detail}; robots.txt unread: nothing on {origin} is crawled",
                    result,
                )
            else:
                self._log(run, url, "robots", rules.status, rules.detail, result)
        delay = rules.crawl_delay(self._config.user_agent)
        if delay:  # the robots.txt request itself counts: wait before the next one
            self._fetcher.pause(url, min(delay, self._config.max_crawl_delay_seconds))
        return rules

    def harvest(self, run: CrawlRun) -> Harvest:
        """The page URLs of the source's sitemaps and those robots.txt lists."""
        source, config = run.source, self._config
        roots = [source.sitemap] if source.sitemap else []
        if config.obey_robots:
            for origin in dict.fromkeys(origin_of(url) for url in source.start_urls):
                roots += self.robots.rules_for(origin + "/").sitemaps()
        configured = normalize_url(source.sitemap) if source.sitemap else None
        return harvest_sitemaps(
            roots,
            lambda url: self._read_sitemap(
                run,
                url,
                configured=url == configured,
                check=stay_on({*source.hosts, url_host(url)}, "sitemap"),
            ),
            follow=lambda url: url == configured or url_host(url) in source.hosts,
            note=lambda url, reason, detail: self._log(run, url, "skipped", reason, detail, None),
            max_files=config.max_sitemaps,
            max_entries=config.max_sitemap_entries,
            max_bytes=config.max_bytes,
        )

    def _read_sitemap(
        self, run: CrawlRun, url: str, *, configured: bool, check: HopCheck
    ) -> bytes | None:
        if self._config.obey_robots and not self.robots.allowed(url):
            self._log(run, url, "skipped", SkipReason.ROBOTS, "sitemap", None)
            return None
        result = self._fetcher.fetch(
            url, accept=None, max_bytes=self._config.max_bytes, check=check
        )
        if result.outcome is Outcome.OK:
            self._log(run, url, "ok", "sitemap", result.detail, result)
            return result.body
        # Skipped too (a redirect to another host, a refused address, too large): logged as such.
        self._log(run, url, str(result.outcome), result.reason, result.detail, result)
        status = result.status_code or 0
        # Pages only listed there would look vanished: no tombstones this run. A 4xx of a
        # sitemap we were only pointed to (robots.txt, an index) lists nothing: that is all.
        if configured or not (400 <= status < 500 and status != 429):
            run.counts["incomplete"] = True
        return None
