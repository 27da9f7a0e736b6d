"""Serve the offline mirror (`corpus/mirror/<host>/`) on loopback, one port per host.

The demo and the tests crawl the mirror through `samsok.ingest.fetch.client.RewritingTransport` with
`MirrorServer.host_map`, so the crawler, the crawl log and the documents keep the real URLs
(https://www.varnesregionen.no/...) while the bytes come from 127.0.0.1.

The layout is by URL path: `/` and `/nyheter/` are `index.html` in their folder, every other
path is the file of that name (`/robots.txt`, `/sitemap.xml`, `/getfile.php/1/x.pdf`). A
folder requested without its slash is redirected, as web servers do. Responses carry
Last-Modified (file mtime) and an ETag and answer conditional requests with 304, so a
recrawl of the mirror behaves like a recrawl of the real site.
"""

from __future__ import annotations

import logging
import mimetypes
import threading
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

__all__ = ["MirrorServer", "send_reply", "serve_mirror"]

logger = logging.getLogger(__name__)

_TYPES = {
    ".html": "text/html",  # no charset: the mirror keeps each page's own <meta charset>
    ".htm": "text/html",
    ".xml": "application/xml",
    ".txt": "text/plain; charset=utf-8",
    ".pdf": "application/pdf",
}

# How often a server thread checks for shutdown: short, so close() returns quickly.
SHUTDOWN_POLL_SECONDS = 0.05


class MirrorServer:
    """Threaded HTTP servers on 127.0.0.1 (one per mirrored host, OS-assigned ports)."""

    def __init__(self, root: Path, hosts: list[str]) -> None:
        self.root = Path(root)
        self._servers: dict[str, ThreadingHTTPServer] = {}
        self._threads: list[threading.Thread] = []
        missing = [h for h in hosts if not (self.root / h).is_dir()]
        if missing:
            raise FileNotFoundError(f"no mirror folder for {', '.join(missing)} in {self.root}")
        try:
            for host in hosts:
                handler = type(
                    "MirrorHandler", (_MirrorHandler,), {"folder": (self.root / host).resolve()}
                )
                server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
                server.daemon_threads = True
                server.handle_error = _quiet_error  # type: ignore[method-assign]
                self._servers[host] = server
                thread = threading.Thread(
                    target=server.serve_forever,
                    args=(SHUTDOWN_POLL_SECONDS,),
                    name=f"mirror-{host}",
                    daemon=True,
                )
                thread.start()
                self._threads.append(thread)
        except BaseException:
            self.close()
            raise

    @property
    def urls(self) -> dict[str, str]:
        """host → the loopback base URL serving it."""
        return {
            host: f"http://127.0.0.1:{server.server_address[1]}"
            for host, server in self._servers.items()
        }

    @property
    def host_map(self) -> dict[str, str]:
        """{"https://<host>": "http://127.0.0.1:<port>"} for `RewritingTransport`."""
        return {f"https://{host}": url for host, url in self.urls.items()}

    def close(self) -> None:
        for server in self._servers.values():
            server.shutdown()
            server.server_close()
        self._servers.clear()

    def __enter__(self) -> MirrorServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def serve_mirror(root: Path, hosts: list[str]) -> MirrorServer:
    """Start serving `root/<host>/` for each host; use as a context manager to stop."""
    return MirrorServer(root, hosts)


class _MirrorHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SamsokMirror/1"
    # Without TCP_NODELAY every small response waits ~40 ms on Nagle + delayed ACK.
    disable_nagle_algorithm = True
    folder: Path

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("mirror %s: " + format, self.folder.name, *args)

    def do_GET(self) -> None:
        self._serve(body=True)

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def _serve(self, *, body: bool) -> None:
        parts = urlsplit(self.path)
        found = self._resolve(unquote(parts.path), parts.query)
        if isinstance(found, str):  # a folder without its trailing slash
            self._reply(301, b"", None, body, {"Location": found})
            return
        if found is None:
            self._reply(
                404,
                b"<!doctype html><title>404</title><p>Ikke funnet</p>",
                "text/html; charset=utf-8",
                body,
            )
            return
        stat = found.stat()
        etag = f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'
        validators = {"ETag": etag, "Last-Modified": formatdate(stat.st_mtime, usegmt=True)}
        if self._not_modified(etag, int(stat.st_mtime)):
            self._reply(304, b"", None, body, validators)
            return
        data = found.read_bytes()
        self._reply(200, data, _content_type(found, data), body, validators)

    def _resolve(self, path: str, query: str) -> Path | str | None:
        relative = path.lstrip("/")
        target = (self.folder / relative).resolve()
        if target != self.folder and self.folder not in target.parents:
            return None  # ../ tricks
        if path.endswith("/") or not relative:
            target = target / "index.html"
        elif target.is_dir():
            return path + "/" + (f"?{query}" if query else "")
        if query:
            with_query = target.with_name(f"{target.name}?{query}")
            if with_query.is_file():
                return with_query
        return target if target.is_file() else None

    def _not_modified(self, etag: str, mtime: int) -> bool:
        match = self.headers.get("If-None-Match")
        if match is not None:
            return match.strip() == "*" or etag in [t.strip() for t in match.split(",")]
        since = self.headers.get("If-Modified-Since")
        if since:
            try:
                return mtime <= int(parsedate_to_datetime(since).timestamp())
            except (TypeError, ValueError):
                return False
        return False

    def _reply(
        self,
        status: int,
        data: bytes,
        content_type: str | None,
        body: bool,
        headers: dict[str, str] | None = None,
    ) -> None:
        send_reply(self, status, data, content_type, headers, body=body)


def send_reply(
    handler: BaseHTTPRequestHandler,
    status: int,
    data: bytes,
    content_type: str | None,
    headers: dict[str, str] | None = None,
    *,
    body: bool = True,
) -> None:
    """One complete response; Content-Length from `data` unless `headers` name their own.

    `body=False` answers a HEAD request: the same headers, no bytes. (Shared with the tests'
    hostile server, which announces lengths it does not keep.)
    """
    handler.send_response(status)
    if content_type:
        handler.send_header("Content-Type", content_type)
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    if "Content-Length" not in (headers or {}):
        handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    if body and data:
        handler.wfile.write(data)


def _quiet_error(request: Any, client_address: Any) -> None:
    # Crawlers hang up on keep-alive connections and after size caps; not worth a traceback.
    logger.debug("mirror: error serving %s", client_address, exc_info=True)


def _content_type(path: Path, data: bytes) -> str:
    known = _TYPES.get(path.suffix.lower())
    if known:
        return known
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"
