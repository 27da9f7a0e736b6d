"""A local HTTP server that behaves like the worst sites we crawl, and a stub extractor.

`HostileServer` listens on 127.0.0.1 (port 0, threaded). Two sections:

- `/site/`: a well-behaved small site (a listing start page, articles with ETag and
  Last-Modified, a PDF under /files/, tracking-parameter and fragment variants of one link,
  a robots-disallowed path, a sitemap). Tests change it through `server.state`.
- `/hostile/`: one link per hostile case (see `HOSTILE_CASES`), then `/hostile/after`, a
  sentinel that proves the crawl went on. `/hostile/silent` (not linked) never answers.
- `state.files`: extra files by path, with their headers (sitemaps, gzipped ones, ...);
  `state.redirects`: paths answered with a 302 to the given Location (robots.txt too).

Every request is recorded in `state.requests` (method, path with query, conditional headers)
so tests can assert what was (not) asked for.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

from samsok.api.mirror import send_reply
from samsok.ingest.documents import ExtractedPage, Page
from samsok.ingest.errors import EmptyContent

__all__ = ["HOSTILE_CASES", "HostileServer", "HostileState", "make_pdf", "stub_extract"]

LAST_MODIFIED = "Mon, 06 May 2024 10:00:00 GMT"
CHANGED = "Tue, 07 May 2024 10:00:00 GMT"


def make_pdf(text: str) -> bytes:
    """A tiny PDF-looking body; the stub extractor reads the text between the markers."""
    return b"%PDF-1.4\n%stub\n(" + text.encode("latin-1") + b") Tj\n%%EOF\n"


def _article(title: str, text: str, links: tuple[str, ...] = (), extra: str = "") -> str:
    anchors = "".join(f'<a href="{href}">{href}</a> ' for href in links)
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title>{extra}</head>"
        f"<body><h1>{title}</h1><p>{text}</p><nav>{anchors}</nav></body></html>"
    )


def _listing(title: str, links: tuple[str, ...]) -> str:
    return _article(title, "Oversikt.", links, '<meta name="samsok-listing" content="1">')


SITE_LINKS = (
    "/site/a",
    "/site/b",
    "/site/c",
    "/site/a?utm_source=nyhetsbrev&utm_medium=epost#kommentarer",
    "/site/a#top",
    "/site/b?fbclid=IwAR0abc",
    "HTTP://127.0.0.1:{port}/site/c",
    "https://127.0.0.1:{port}/site/c",  # the other scheme: aligned to the prefix's, not fetched
    "/files/rapport.pdf",
    "/other/page",
    "/site/privat/hemmelig",
    "http://example.invalid/ute",
    "/site/redirect-to-b",
    "mailto:post@example.no",
    "javascript:void(0)",
)

#: path → what the crawler must record (outcome, reason) for it; see tests/ingest/test_crawl.py.
HOSTILE_CASES: dict[str, tuple[str, str]] = {
    "/hostile/slow": ("failed", "read_timeout"),
    "/hostile/hang": ("failed", "read_timeout"),
    "/hostile/drip": ("failed", "total_timeout"),
    "/hostile/drip-headers": ("failed", "total_timeout"),
    "/hostile/flaky": ("ok", "new"),
    "/hostile/busy": ("ok", "new"),
    "/hostile/ratelimit": ("ok", "new"),
    "/hostile/down": ("failed", "http_503"),
    "/hostile/chain/3": ("ok", "new"),
    "/hostile/loop-a": ("failed", "redirect_loop"),
    "/hostile/many/9": ("failed", "too_many_redirects"),
    "/hostile/redirect-out": ("skipped", "out_of_scope"),
    "/hostile/redirect-private": ("skipped", "robots_disallowed"),
    "/hostile/truncated": ("failed", "truncated"),
    "/hostile/pdf-as-html": ("ok", "new"),
    "/hostile/html-as-pdf": ("ok", "new"),
    "/hostile/octet.pdf": ("ok", "new"),
    "/hostile/image": ("skipped", "unsupported_content_type"),
    "/hostile/cp1252": ("ok", "new"),
    "/hostile/latin1": ("ok", "new"),
    "/hostile/huge": ("skipped", "too_large"),
    "/hostile/huge-chunked": ("skipped", "too_large"),
    "/hostile/bomb": ("skipped", "too_large"),
    "/hostile/bad-gzip": ("failed", "bad_content_encoding"),
    "/hostile/brotli": ("failed", "unsupported_content_encoding"),
    "/hostile/malformed": ("ok", "new"),
    "/hostile/no-type": ("ok", "new"),
    "/hostile/empty": ("skipped", "no_text"),
    "/hostile/crash": ("failed", "extraction_error"),
    "/hostile/gone": ("failed", "http_410"),
    "/hostile/forbidden": ("failed", "http_403"),
    "/hostile/kalender?dato=2024-01-01": ("ok", "new"),
    "/hostile/arkiv?side=1": ("ok", "new"),
    "/hostile/sider/1/": ("ok", "new"),
    "/hostile/after": ("ok", "new"),
}


@dataclass
class Hit:
    method: str
    path: str  # with query
    conditional: bool
    at: float


@dataclass
class HostileState:
    """What the server serves and what it saw; tests read and change it between crawls."""

    robots: str = "User-agent: *\nDisallow: /site/privat/\nDisallow: /hostile/privat/\n"
    robots_status: int = 200
    gone: dict[str, int] = field(default_factory=dict)  # path → 404 or 410
    overrides: dict[str, str] = field(default_factory=dict)  # path → new HTML
    sitemap: dict[str, str] = field(default_factory=dict)  # path → lastmod
    files: dict[str, tuple[bytes, dict[str, str]]] = field(default_factory=dict)  # → body, headers
    redirects: dict[str, str] = field(default_factory=dict)  # path → Location (302), any path
    requests: list[Hit] = field(default_factory=list)
    attempts: Counter[str] = field(default_factory=Counter)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, method: str, path: str, conditional: bool) -> int:
        with self.lock:
            self.requests.append(Hit(method, path, conditional, time.monotonic()))
            self.attempts[path] += 1
            return self.attempts[path]

    def hits(self, prefix: str = "", *, exact: str | None = None) -> list[Hit]:
        with self.lock:
            return [
                h
                for h in self.requests
                if (h.path == exact if exact is not None else h.path.startswith(prefix))
            ]

    def reset_counts(self) -> None:
        with self.lock:
            self.requests.clear()
            self.attempts.clear()


class HostileServer:
    def __init__(self) -> None:
        self.state = HostileState()
        handler: type[_Handler] = type("Handler", (_Handler,), {"state": self.state})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False  # don't wait for handlers still sleeping
        # Clients hang up on purpose (timeouts, caps): no tracebacks on stderr for that.
        self._server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        self.port = self._server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        handler.base = self.base
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        _bomb()  # build it now: compressing 40 MB inside a request could pass the read timeout

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.state.stop.set()
        self._server.shutdown()
        self._server.server_close()

    def url(self, path: str) -> str:
        return self.base + path


_BOMB: bytes | None = None


def _bomb() -> bytes:
    global _BOMB  # built once per test session: 40 MB of zeros, ~40 KB compressed
    if _BOMB is None:
        _BOMB = gzip.compress(b"<html><body>" + b"\0" * (40 * 1024 * 1024), compresslevel=9)
    return _BOMB


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: with Nagle on, each response with a body
    # waits ~40 ms for the client's delayed ACK.
    disable_nagle_algorithm = True
    state: HostileState
    base: str

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        conditional = bool(
            self.headers.get("If-None-Match") or self.headers.get("If-Modified-Since")
        )
        attempt = self.state.record("GET", self.path, conditional)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._route(urlsplit(self.path), attempt)

    def do_HEAD(self) -> None:
        self.state.record("HEAD", self.path, False)
        self._send(405, b"", "text/plain")

    # -- helpers -----------------------------------------------------------------------------

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str | None = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        send_reply(self, status, body, content_type, headers)

    def _static(
        self,
        body: bytes,
        content_type: str = "text/html; charset=utf-8",
        last_modified: str = LAST_MODIFIED,
    ) -> None:
        """A page with validators, answering conditional requests with 304."""
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        match = self.headers.get("If-None-Match")
        since = self.headers.get("If-Modified-Since")
        if (match == etag) if match else (since == last_modified):
            self._send(304, b"", None, {"ETag": etag, "Content-Length": "0"})
            return
        self._send(200, body, content_type, {"ETag": etag, "Last-Modified": last_modified})

    def _redirect(self, location: str, status: int = 302) -> None:
        self._send(status, b"", None, {"Location": location})

    def _route(self, url: Any, attempt: int) -> None:
        path, query = url.path, parse_qs(url.query)
        if path in self.state.redirects:
            self._redirect(self.state.redirects[path])
        elif path in self.state.gone:
            self._send(self.state.gone[path], b"<html><body>Borte</body></html>")
        elif path in self.state.files:
            body, headers = self.state.files[path]
            self._send(200, body, None, headers)
        elif path == "/robots.txt":
            self._send(
                self.state.robots_status, self.state.robots.encode(), "text/plain; charset=utf-8"
            )
        elif path in self.state.overrides:
            self._static(self.state.overrides[path].encode(), last_modified=CHANGED)
        elif path.startswith("/site/") or path in ("/files/rapport.pdf", "/other/page"):
            self._site(path)
        elif path.startswith("/hostile/"):
            self._hostile(path, query, attempt)
        else:
            self._send(404, b"<html><body>Ikke funnet</body></html>")

    def _site(self, path: str) -> None:
        pages = {
            "/site/": _listing(
                "Nyheter",
                tuple(link.format(port=self.base.rsplit(":", 1)[1]) for link in SITE_LINKS),
            ),
            "/site/a": _article(
                "Artikkel A", "Helsehuset i Orkdal åpner nye rom for rehabilitering."
            ),
            "/site/b": _article("Artikkel B", "Værnesregionen samarbeider om legevakt."),
            "/site/c": _article("Artikkel C", "Velferdsteknologi i hjemmetjenesten.", ("/site/d",)),
            "/site/d": _article("Artikkel D", "Dypere side om kommunal helse."),
            "/other/page": _article("Utenfor", "Skal ikke hentes."),
        }
        if path == "/site/redirect-to-b":
            self._redirect("/site/b", 301)
        elif path == "/files/rapport.pdf":
            self._static(make_pdf("Rapport om samhandling"), "application/pdf")
        elif path == "/site/sitemap.xml":
            entries = "".join(
                f"<url><loc>{self.base}{p}</loc><lastmod>{m}</lastmod></url>"
                for p, m in self.state.sitemap.items()
            )
            body = (
                '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns='
                f'"http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'
            )
            self._send(200, body.encode(), "application/xml")
        elif path in pages:
            self._static(pages[path].encode())
        else:
            self._send(404, b"<html><body>Ikke funnet</body></html>")

    def _hostile(self, path: str, query: dict[str, list[str]], attempt: int) -> None:
        stop = self.state.stop
        if path == "/hostile/":
            links = (*HOSTILE_CASES, "/hostile/privat/direkte")
            self._send(200, _listing("Fiendtlig", tuple(links)).encode())
        elif path == "/hostile/slow":
            stop.wait(2.0)
            self._send(200, _article("Treg", "For sent.").encode())
        elif path == "/hostile/hang":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"<html><body>")
            self.wfile.flush()
            stop.wait(3.0)
        elif path == "/hostile/drip":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "200")
            self.end_headers()
            for _ in range(200):
                if stop.wait(0.05):
                    return
                self.wfile.write(b" ")
                self.wfile.flush()
        elif path == "/hostile/drip-headers":
            # The status line, then one header byte per 0.2 s: never a read timeout.
            self.close_connection = True
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            self.wfile.flush()
            for byte in b"X-Drip: " + b"a" * 5000:
                if stop.wait(0.2):
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
        elif path == "/hostile/silent":  # not linked: accepts the request, never answers
            self.close_connection = True
            stop.wait(30.0)
        elif path == "/hostile/flaky" and attempt == 1:
            self._send(500, b"<html><body>Intern feil</body></html>")
        elif path == "/hostile/busy" and attempt == 1:
            self._send(503, b"busy", "text/plain", {"Retry-After": "1"})
        elif path == "/hostile/ratelimit" and attempt == 1:
            when = format_datetime(datetime.now(UTC) + timedelta(seconds=3), usegmt=True)
            self._send(429, b"slow down", "text/plain", {"Retry-After": when})
        elif path == "/hostile/down":
            self._send(503, b"down", "text/plain")
        elif path.startswith("/hostile/chain/"):
            n = int(path.rsplit("/", 1)[1])
            if n > 0:
                self._redirect(f"/hostile/chain/{n - 1}")
            else:
                self._send(200, _article("Kjede", "Etter tre omdirigeringer.").encode())
        elif path == "/hostile/loop-a":
            self._redirect("/hostile/loop-b")
        elif path == "/hostile/loop-b":
            self._redirect(self.base + "/hostile/loop-a")
        elif path.startswith("/hostile/many/"):
            self._redirect(f"/hostile/many/{int(path.rsplit('/', 1)[1]) + 1}")
        elif path == "/hostile/redirect-out":
            self._redirect("http://example.invalid/borte")
        elif path == "/hostile/redirect-private":
            self._redirect("/hostile/privat/x")
        elif path == "/hostile/truncated":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "5000")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"<html><body><p>Halv side")
            self.close_connection = True
        elif path == "/hostile/pdf-as-html":
            self._send(200, make_pdf("PDF forkledd som HTML"), "text/html")
        elif path == "/hostile/html-as-pdf":
            self._send(
                200,
                _article("Forkledd", "HTML som sier at den er PDF.").encode(),
                "application/pdf",
            )
        elif path == "/hostile/octet.pdf":
            self._send(200, make_pdf("Oktettstrom"), "application/octet-stream")
        elif path == "/hostile/image":
            self._send(200, b"\x89PNG\r\n\x1a\n" + b"\0" * 2000, "image/png")
        elif path == "/hostile/cp1252":
            body = _article("Blåbærsyltetøy", "Ærlig talt, «Ørland» – på windows-1252.")
            self._send(200, body.encode("cp1252"), "text/html; charset=windows-1252")
        elif path == "/hostile/latin1":
            body = _article("Fløtemysost", "Smør og brød på latin-1.")
            self._send(200, body.encode("iso-8859-1"), "text/html; charset=iso-8859-1")
        elif path == "/hostile/huge":
            self._send(200, b"<html><body>" + b"x" * (3 * 1024 * 1024))
        elif path == "/hostile/huge-chunked":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"<p>" + b"y" * 65536
            for _ in range(48):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/hostile/bomb":
            self._send(200, _bomb(), "text/html", {"Content-Encoding": "gzip"})
        elif path == "/hostile/bad-gzip":
            self._send(
                200,
                b"\x1f\x8b\x08\x00garbage-not-gzip" * 10,
                "text/html",
                {"Content-Encoding": "gzip"},
            )
        elif path == "/hostile/brotli":
            self._send(200, b"\x0b\x02\x80hei\x03", "text/html", {"Content-Encoding": "br"})
        elif path == "/hostile/malformed":
            body = (
                "<html><head><title>Ødelagt</title></head><body><p>Uten slutt <div><b>fet"
                "<a href='/hostile/after'>videre<p>&nbsp;&bogus; <<>> tekst om helse"
            )
            self._send(200, body.encode())
        elif path == "/hostile/no-type":
            self._send(200, _article("Uten type", "Ingen Content-Type.").encode(), None)
        elif path == "/hostile/empty":
            self._send(
                200, b"<html><body><a href='/hostile/after-empty'><img src=x></a></body></html>"
            )
        elif path == "/hostile/after-empty":
            self._send(200, _article("Etter tom", "Funnet via en tom side.").encode())
        elif path == "/hostile/crash":
            self._send(200, _article("Krasj", "<samsok-crash>").encode())
        elif path == "/hostile/gone":
            self._send(410, b"<html><body>Borte</body></html>")
        elif path == "/hostile/forbidden":
            self._send(403, b"<html><body>Nei</body></html>")
        elif path == "/hostile/kalender":
            day = datetime.fromisoformat(query.get("dato", ["2024-01-01"])[0])
            nxt = (day + timedelta(days=1)).date().isoformat()
            prev = (day - timedelta(days=1)).date().isoformat()
            body = _article(
                f"Kalender {day.date()}",
                "Ingen hendelser.",
                (f"/hostile/kalender?dato={nxt}", f"/hostile/kalender?dato={prev}"),
            )
            self._send(200, body.encode())
        elif path == "/hostile/arkiv":
            side = int(query.get("side", ["1"])[0])
            body = _article(
                f"Arkiv side {side}", "Eldre saker.", (f"/hostile/arkiv?side={side + 1}",)
            )
            self._send(200, body.encode())
        elif path.startswith("/hostile/sider/"):
            n = int(path.strip("/").rsplit("/", 1)[1])
            body = _article(f"Side {n}", "Neste side.", (f"/hostile/sider/{n + 1}/",))
            self._send(200, body.encode())
        elif path == "/hostile/chain-target":
            self._send(200, _article("Mål", "Mål.").encode())
        elif path == "/hostile/after":
            self._send(200, _article("Etter", "Crawlen gikk videre.").encode())
        elif path.startswith("/hostile/privat/"):
            self._send(200, _article("Privat", "Skal aldri hentes.").encode())
        else:
            # Retries of the first-attempt cases above land here with attempt > 1.
            self._send(200, _article(path.rsplit("/", 1)[1].title(), "Andre forsøk.").encode())


# -- the stub extractor ------------------------------------------------------------------------


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.links: list[str] = []
        self.canonical: str | None = None
        self.listing = False
        self.text: list[str] = []
        self._in_title = False
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "title":
            self._in_title = True
        elif tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")
        elif tag == "link" and values.get("rel") == "canonical":
            self.canonical = values.get("href")
        elif tag == "meta" and values.get("name") == "samsok-listing":
            self.listing = True
        elif tag in ("nav", "script", "style"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in ("nav", "script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip and data.strip():
            self.text.append(data.strip())


def stub_extract(body: bytes, url: str, content_type: str | None, config: Any) -> ExtractedPage:
    """Enough of `samsok.ingest.extract.dispatch.extract` for crawler tests: title, text,
    links, canonical.

    Decodes with the charset the crawler passes in `content_type` (utf-8 otherwise), so a
    test can see whether the HTTP charset reached extraction.
    """
    media = (content_type or "").split(";")[0].strip()
    if media == "application/pdf":
        match = re.search(rb"\((.*?)\) Tj", body, re.S)
        text = match.group(1).decode("latin-1") if match else ""
        return ExtractedPage(url, "application/pdf", title=text[:40], pages=[Page(1, text)])
    charset = re.search(r"charset=([\w-]+)", content_type or "")
    html = body.decode(charset.group(1) if charset else "utf-8", errors="replace")
    if "<samsok-crash>" in html:
        raise RuntimeError("stub extractor crashed on purpose")
    parser = _Parser()
    parser.feed(html)
    parser.close()
    links = [urljoin(url, href) for href in parser.links]
    canonical = urljoin(url, parser.canonical) if parser.canonical else None
    text = " ".join(parser.text).strip()
    page = ExtractedPage(
        url,
        "text/html",
        title=parser.title.strip(),
        pages=[Page(None, text)] if text else [],
        links=links,
        canonical_url=canonical,
        is_listing=parser.listing,
    )
    if not text:
        raise EmptyContent("no text", url=url, page=page)
    return page


# -- helpers for the crawler tests -------------------------------------------------------------


def run_crawl(
    client: Any, state: Any, *sources: Any, now: Any = None, **config: Any
) -> tuple[list[Any], Any]:
    """Crawl `sources` with `fast_config(**config)` and the stub extractor (and `now` as the
    crawler's wall clock, if given): the events and the crawler, for its counters."""
    from samsok.ingest.crawl import Crawler

    clock = {"now": now} if now is not None else {}
    crawler = Crawler(fast_config(**config), client, state, extract=stub_extract, **clock)
    return list(crawler.crawl(sources)), crawler


def crawl_events(client: Any, state: Any, *sources: Any, **config: Any) -> list[Any]:
    """`run_crawl`'s events only."""
    return run_crawl(client, state, *sources, **config)[0]


def fetched(events: list[Any]) -> set[str]:
    """The URLs of the documents a crawl fetched."""
    from samsok.ingest.crawl import DocumentFetched

    return {e.document.url for e in events if isinstance(e, DocumentFetched)}


def removed(events: list[Any]) -> set[str]:
    """The URLs a crawl removed (tombstoned)."""
    from samsok.ingest.crawl import DocumentRemoved

    return {e.url for e in events if isinstance(e, DocumentRemoved)}


def fast_config(**overrides: Any) -> Any:
    """CrawlConfig with test-sized delays, timeouts and caps (the defaults are for real sites).

    The test servers listen on 127.0.0.1, so the tests opt in to loopback (and only to it).
    """
    from samsok.ingest.config import LOOPBACK_NETWORKS, CrawlConfig

    values: dict[str, Any] = {
        "delay_seconds": 0.0,
        "connect_timeout": 0.5,
        "read_timeout": 0.5,
        "total_timeout": 1.0,
        "retries": 1,
        "backoff_base_seconds": 0.01,
        "retry_after_cap_seconds": 0.2,
        "max_bytes": 1024 * 1024,
        "max_html_bytes": 512 * 1024,
        "max_query_variants": 5,
        "max_depth": 4,
        "allowed_networks": LOOPBACK_NETWORKS,
    }
    values.update(overrides)
    return CrawlConfig(**values)


def make_source(server: HostileServer, section: str, **overrides: Any) -> Any:
    """A Source for `/site/` or `/hostile/` of the server."""
    from samsok.ingest.crawl import Source, SourceKind
    from samsok.ingest.documents import Region

    values: dict[str, Any] = {
        "name": section.strip("/"),
        "title": section,
        "region": Region.ORKDAL,
        "kind": SourceKind.MUNICIPALITY_NEWS,
        "start_urls": (server.url(section),),
        "allowed": (server.url(section),),
    }
    values.update(overrides)
    return Source(**values)
