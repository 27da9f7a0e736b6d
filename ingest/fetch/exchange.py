"""One GET under a hard wall-clock deadline, response headers included.

httpx's timeouts apply per operation: the read timeout restarts with every byte, so a server
that drips its headers one byte at a time (or accepts the connection and answers only just
before each read timeout) never trips it. So every exchange runs on a worker thread and the
caller waits for it at most `total_timeout` seconds:

1. the request carries conditional headers from the stored validators;
2. the worker sends it and reads the answer: a redirect is handed back with its Location,
   304 → not_modified, 429/5xx raise `Transient` (the fetcher retries), other non-2xx fail;
3. the body goes through `BodyReader` (caps, bounded decompression, sniffing), the deadline
   checked between chunks;
4. every new connection goes through `samsok.ingest.fetch.netguard.ConnectGuard` (the same `trace`
   hook): a host that is or resolves to a non-global address the configuration does not allow
   ends the exchange as skipped (`private_address`) before a byte is sent, and is not retried;
5. when the deadline passes first the caller gets `total_timeout` at once. The worker is told
   to stop and the connection's socket is shut down if it is known, so a read blocked in it
   returns now. It is known when the exchange opened the connection (httpcore's `trace`
   extension reports it) or once the headers are in (`network_stream`); a reused keep-alive
   connection stuck in its header phase ends at the read timeout or httpcore's 100 KB header
   limit. The worker is a daemon thread and closes the response whenever it ends.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import httpx
from samsok.ingest.config import CrawlConfig
from samsok.ingest.documents import HTML_TYPES, SkipReason
from samsok.ingest.errors import AddressRefused
from samsok.ingest.fetch.bodies import BodyReader, BodyTooLarge
from samsok.ingest.fetch.netguard import AddressPolicy, ConnectGuard
from samsok.ingest.fetch.politeness import parse_retry_after
from samsok.ingest.fetch.results import FetchResult, Outcome, Transient, Validators

__all__ = ["Ask", "Deadline", "DeadlineExceeded", "Exchanger"]

T = TypeVar("T")
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/pdf;q=0.9,*/*;q=0.5",
    "Accept-Language": "nb,nn;q=0.9,no;q=0.8,en;q=0.5",
    # Only encodings BodyDecoder can decompress with a bound on the output.
    "Accept-Encoding": "gzip, deflate",
}


class DeadlineExceeded(Exception):
    """The exchange was still running when its deadline passed."""


class Deadline:
    """The deadline of one exchange: runs it on a worker, abandons it when time is up."""

    def __init__(self, seconds: float, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.at = clock() + seconds
        self.status: int | None = None  # set once the response headers are in
        self.body = bytearray()  # the body read so far
        self._abandoned = threading.Event()
        self._finished = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def expired(self) -> bool:
        return self._abandoned.is_set() or self._clock() > self.at

    def run(self, work: Callable[[], T]) -> T:
        """`work()` on a worker thread; DeadlineExceeded if it is not done in time."""
        outcome: list[tuple[bool, Any]] = []

        def target() -> None:
            try:
                outcome.append((True, work()))
            except BaseException as exc:  # handed to the caller
                outcome.append((False, exc))
            finally:
                self._finished.set()

        threading.Thread(target=target, name="samsok-fetch", daemon=True).start()
        if not self._finished.wait(max(0.0, self.at - self._clock())):
            self._abandon()
            raise DeadlineExceeded
        ok, value = outcome[0]
        if not ok:
            raise value
        return value  # type: ignore[no-any-return]

    def trace(self, name: str, info: dict[str, Any]) -> None:
        """httpcore's `trace` extension: remember the socket of a connection opened here."""
        if name in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            self.watch(info.get("return_value"))

    def watch(self, stream: Any) -> None:
        """Shut this network stream's socket down if the exchange is abandoned."""
        get = getattr(stream, "get_extra_info", None)
        sock = get("socket") if callable(get) else None
        if not isinstance(sock, socket.socket):
            return
        with self._lock:
            self._sockets.append(sock)
            if not self._abandoned.is_set():
                return
        _shutdown(sock)

    def _abandon(self) -> None:
        with self._lock:
            self._abandoned.set()
            sockets = [] if self._finished.is_set() else list(self._sockets)
        for sock in sockets:
            _shutdown(sock)


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


@dataclass(frozen=True)
class Ask:
    """What one request asks for, the same on every retry of it.

    `stored`: validators to revalidate; `accept`: media types taken (None: any);
    `max_bytes`: the body cap (None: the configured one, tighter for HTML).
    """

    stored: Validators | None
    accept: frozenset[str] | None
    max_bytes: int | None


class Exchanger:
    """Sends single GETs through `client` (redirects are not followed here)."""

    def __init__(
        self, client: httpx.Client, config: CrawlConfig, clock: Callable[[], float]
    ) -> None:
        self._client = client
        self._config = config
        self._clock = clock
        self._guard = ConnectGuard(
            AddressPolicy(
                allow_private=config.allow_private, allowed_networks=config.allowed_networks
            )
        )
        self._timeout = httpx.Timeout(
            connect=config.connect_timeout,
            read=min(config.read_timeout, config.total_timeout),
            write=config.read_timeout,
            pool=config.connect_timeout,
        )
        #: HTTP requests sent.
        self.requests = 0

    def get(
        self,
        url: str,
        ask: Ask,
    ) -> tuple[FetchResult, str | None]:
        """(result, Location of a redirect or None); raises Transient for a retryable failure."""
        headers = {"User-Agent": self._config.user_agent, **_HEADERS}
        if ask.stored and ask.stored.etag:
            headers["If-None-Match"] = ask.stored.etag
        if ask.stored and ask.stored.last_modified:
            headers["If-Modified-Since"] = ask.stored.last_modified
        deadline = Deadline(self._config.total_timeout, self._clock)

        def trace(name: str, info: dict[str, Any]) -> None:
            self._guard.trace(name, info)  # first: a refused connection is closed, not watched
            deadline.trace(name, info)

        try:
            request = self._client.build_request(
                "GET", url, headers=headers, timeout=self._timeout, extensions={"trace": trace}
            )
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            return FetchResult(
                Outcome.FAILED, url, url, reason="invalid_url", detail=str(exc)
            ), None
        self.requests += 1
        try:
            return deadline.run(lambda: self._send(request, url, ask, deadline))
        except DeadlineExceeded:
            return self._too_slow(url, deadline), None

    def _too_slow(self, url: str, deadline: Deadline) -> FetchResult:
        part = "response headers" if deadline.status is None else "body"
        return FetchResult(
            Outcome.FAILED,
            url,
            url,
            deadline.status,
            "total_timeout",
            f"{part} not complete after {self._config.total_timeout}s",
            bytes_read=len(deadline.body),
        )

    def _send(
        self,
        request: httpx.Request,
        url: str,
        ask: Ask,
        deadline: Deadline,
    ) -> tuple[FetchResult, str | None]:
        try:
            response = self._client.send(request, stream=True, follow_redirects=False)
        except AddressRefused as exc:
            self.requests -= 1  # refused before a byte was sent: no request was made
            return FetchResult(
                Outcome.SKIPPED, url, url, reason=exc.reason, detail=exc.detail
            ), None
        except httpx.ConnectTimeout as exc:
            raise Transient(url, "connect_timeout", str(exc)) from exc
        except httpx.ConnectError as exc:
            raise Transient(url, "connect_error", str(exc)) from exc
        except httpx.TimeoutException as exc:
            if deadline.expired():
                return self._too_slow(url, deadline), None
            raise Transient(url, "read_timeout", "no response headers") from exc
        except (httpx.UnsupportedProtocol, httpx.LocalProtocolError) as exc:
            return FetchResult(
                Outcome.FAILED, url, url, reason="invalid_url", detail=str(exc)
            ), None
        except httpx.TransportError as exc:
            if deadline.expired():
                return self._too_slow(url, deadline), None
            raise Transient(url, "network_error", f"{type(exc).__name__}: {exc}") from exc
        try:
            deadline.status = response.status_code
            deadline.watch(response.extensions.get("network_stream"))
            return self._response(url, response, ask, deadline)
        finally:
            response.close()

    def _response(
        self,
        url: str,
        response: httpx.Response,
        ask: Ask,
        deadline: Deadline,
    ) -> tuple[FetchResult, str | None]:
        status = response.status_code
        validators = Validators(response.headers.get("etag"), response.headers.get("last-modified"))
        if status in _REDIRECTS:
            location = response.headers.get("location", "")
            return FetchResult(Outcome.FAILED, url, url, status, "redirect"), location
        if status == 304 and ask.stored:
            return FetchResult(
                Outcome.NOT_MODIFIED,
                url,
                url,
                status,
                validators=replace(ask.stored, **validators.present()),
            ), None
        if status == 429 or (500 <= status < 600 and status != 501):
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            raise Transient(
                url,
                f"http_{status}",
                response.reason_phrase,
                status=status,
                retry_after=retry_after,
            )
        if not 200 <= status < 300:
            return FetchResult(
                Outcome.FAILED, url, url, status, f"http_{status}", response.reason_phrase
            ), None
        declared = response.headers.get("content-type", "").split(";")[0].strip().lower()
        cap = ask.max_bytes or self._config.max_bytes
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > cap:
            return _too_large(url, status, f"Content-Length {length} > {cap}"), None

        def cap_for(media: str | None) -> int:
            if ask.max_bytes is None and media in HTML_TYPES:
                return min(self._config.max_html_bytes, cap)
            return cap

        try:
            reader = BodyReader(
                response.headers.get("content-encoding", ""),
                declared,
                accept=ask.accept,
                cap=cap_for,
            )
        except ValueError as exc:
            return FetchResult(
                Outcome.FAILED, url, url, status, "unsupported_content_encoding", str(exc)
            ), None
        deadline.body = body = reader.body
        try:
            # iter_raw without chunk_size: a chunk size would buffer a slow drip.
            if not reader.read(response.iter_raw(), deadline.expired):
                return self._too_slow(url, deadline), None
        except BodyTooLarge:
            detail = f"more than {reader.limit} bytes (decompressed)"
            return _too_large(url, status, detail, bytes_read=len(body)), None
        except httpx.TimeoutException as exc:
            if deadline.expired():
                return self._too_slow(url, deadline), None
            raise Transient(
                url, "read_timeout", f"body stalled after {len(body)} bytes", status=status
            ) from exc
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            if deadline.expired():
                return self._too_slow(url, deadline), None
            raise Transient(
                url, "truncated", f"after {len(body)} bytes: {exc}", status=status
            ) from exc
        except ValueError as exc:  # zlib.error is not a ValueError; BodyDecoder converts it
            return FetchResult(
                Outcome.FAILED, url, url, status, "bad_content_encoding", str(exc)
            ), None
        media = reader.media
        if ask.accept is not None and media not in ask.accept:
            return FetchResult(
                Outcome.SKIPPED,
                url,
                url,
                status,
                SkipReason.CONTENT_TYPE,
                f"{declared or 'no content type'} (sniffed {media})",
                bytes_read=len(body),
            ), None
        return FetchResult(
            Outcome.OK,
            url,
            url,
            status,
            body=bytes(body),
            media_type=media,
            charset=response.charset_encoding,
            validators=validators,
            bytes_read=len(body),
        ), None


def _too_large(url: str, status: int, detail: str, bytes_read: int = 0) -> FetchResult:
    """A body over its cap, whether announced (Content-Length) or found while reading."""
    return FetchResult(
        Outcome.SKIPPED, url, url, status, SkipReason.TOO_LARGE, detail, bytes_read=bytes_read
    )
