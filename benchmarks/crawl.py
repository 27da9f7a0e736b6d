"""Crawl the offline mirror repeatedly and print requests, seconds and documents per crawl.

    .venv/bin/python benchmarks/crawl.py [--sources corpus/sources.toml] [--mirror corpus/mirror]

The mirror is served on loopback (`samsok.api.mirror.serve_mirror`) and reached through
`RewritingTransport`, so URLs are the real ones. Settings are the CrawlConfig defaults except
the politeness delay (0: loopback). The first crawl starts from an empty crawl.db; the second
is an unchanged recrawl and should be all conditional requests (or none, for pages whose
sitemap lastmod is unchanged) and no new documents. By the fourth crawl the mirror's broken
links have answered 404 three times and are skipped as known_dead. The last crawl trusts no
lastmod (`revalidate_after_days=0`, also retrying the dead links): what a recrawl costs once
every page's last check is older than the limit.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
from dataclasses import replace
from pathlib import Path

import httpx
from samsok.api.mirror import serve_mirror
from samsok.ingest.config import LOOPBACK_NETWORKS, CrawlConfig
from samsok.ingest.crawl import Crawler, CrawlState, DocumentFetched, load_sources
from samsok.ingest.fetch import RewritingTransport

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sources", type=Path, default=ROOT / "corpus" / "sources.toml")
    parser.add_argument("--mirror", type=Path, default=ROOT / "corpus" / "mirror")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    sources = [s for s in load_sources(args.sources) if s.mirror]
    config = replace(CrawlConfig(), delay_seconds=0.0, allowed_networks=LOOPBACK_NETWORKS)
    hosts = sorted({s.mirror for s in sources if s.mirror})
    print(f"sources: {', '.join(s.name for s in sources)}")
    with tempfile.TemporaryDirectory() as tmp, serve_mirror(args.mirror, hosts) as mirror:
        transport = RewritingTransport(httpx.HTTPTransport(), mirror.host_map, strict=True)
        with httpx.Client(transport=transport) as client:
            state = CrawlState(Path(tmp) / "crawl.db")
            runs = [
                ("first crawl", config),
                ("unchanged recrawl", config),
                ("3rd crawl", config),
                ("4th crawl", config),
                ("lastmod untrusted", replace(config, revalidate_after_days=0.0)),
            ]
            for label, run_config in runs:
                crawler = Crawler(run_config, client, state)
                documents = sum(isinstance(e, DocumentFetched) for e in crawler.crawl(sources))
                s = crawler.summary
                print(
                    f"{label:18} requests {s.requests:4}  seconds {s.seconds:6.2f}  "
                    f"documents {documents:3}  (new {s.new}, changed {s.changed}, "
                    f"unchanged {s.unchanged}, 200 {s.fetched}, 304 {s.not_modified})"
                )
                print(f"{'':18} skipped {dict(sorted(s.skipped.items()))}")
                print(f"{'':18} failed  {dict(sorted(s.failed.items()))}")
            state.close()


if __name__ == "__main__":
    main()
