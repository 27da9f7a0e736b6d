"""Fetching one URL politely and defensively; every outcome is a `FetchResult`.

The steps for one URL (each step may end it with a result instead of an exception):
1. wait for the host's turn: `per_host_concurrency` requests in flight, and at least
   `delay_seconds` (or the robots Crawl-delay, or a Retry-After) since the last one;
2. GET with conditional headers from the stored validators (304 → not_modified);
3. redirects are followed here, not by httpx, so each hop is checked (`check`: scope, robots,
   already fetched) and recorded; loops and more than `max_redirects` hops fail;
4. connect errors, timeouts, truncated bodies, 5xx and 429 are retried with exponential
   backoff and jitter, or after the server's Retry-After (seconds or an HTTP date, capped);
5. the body is streamed and decompressed here, so the size cap counts decompressed bytes
   (a gzip bomb stops at the cap) and a wall-clock cap stops servers that drip bytes;
6. the type is sniffed from the first bytes (a PDF served as text/html is a PDF) and checked
   against the allow list; the HTTP charset is passed on in `content_type`.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from urllib.parse import urljoin

import httpx

from ingest.config import CrawlConfig
from ingest.errors import FetchError
from ingest.models import SkipReason
from ingest.urls import is_http_url, normalize_url, url_host

__all__ = [
    "HTML_TYPES",
    "PAGE_TYPES",
    "PDF_TYPES",
    "BodyDecoder",
    "FetchResult",
    "Fetcher",
    "HopCheck",
    "Outcome",
    "Redirect",
    "RewritingTransport",
    "Validators",
    "parse_retry_after",
    "sniff_media_type",
]

logger = logging.getLogger(__name__)

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
PDF_TYPES = frozenset({"application/pdf"})
PAGE_TYPES = HTML_TYPES | PDF_TYPES
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_SNIFF_BYTES = 1024


class Outcome(StrEnum):
    OK = "ok"
    NOT_MODIFIED = "not_modified"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True)
class Validators:
    etag: str | None = None
    last_modified: str | None = None

    def __bool__(self) -> bool:
        return bool(self.etag or self.last_modified)


@dataclass(frozen=True)
class Redirect:
    url: str
    status: int
    location: str


@dataclass(frozen=True)
class FetchResult:
    """What happened to one URL. `outcome` is ok | not_modified | skipped | failed."""

    outcome: Outcome
    url: str
    final_url: str
    status_code: int | None = None
    reason: str = ""
    detail: str = ""
    body: bytes = b""
    media_type: str | None = None
    charset: str | None = None
    validators: Validators = Validators()
    redirects: tuple[Redirect, ...] = ()
    attempts: int = 0
    bytes_read: int = 0
    elapsed: float = 0.0

    @property
    def content_type(self) -> str | None:
        """The (sniffed) media type with the HTTP charset, as extraction wants it."""
        if self.media_type and self.charset and self.media_type in HTML_TYPES:
            return f"{self.media_type}; charset={self.charset}"
        return self.media_type


#: Called for every redirect target: (reason, detail) to stop there, None to follow.
HopCheck = Callable[[str], tuple[str, str] | None]


class _Transient(FetchError):
    """A failure worth retrying; `retry_after` is the server's wish in seconds, if any."""

    def __init__(self, url: str, reason: str, detail: str = "", *, status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(url, reason, detail)
        self.status = status
        self.retry_after = retry_after


class _HostSlot:
    def __init__(self, concurrency: int) -> None:
        self.semaphore = threading.BoundedSemaphore(max(1, concurrency))
        self.lock = threading.Lock()
        self.not_before = 0.0


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
        self._client = client
        self._config = config
        self._crawl_delay = crawl_delay
        self._clock = clock
        self._sleep = sleep
        self._rng = rng
        self._slots: dict[str, _HostSlot] = {}
        self._slots_lock = threading.Lock()
        self._timeout = httpx.Timeout(
            connect=config.connect_timeout, read=config.read_timeout,
            write=config.read_timeout, pool=config.connect_timeout,
        )
        #: HTTP requests sent (every attempt and redirect hop, robots.txt and sitemaps too).
        self.requests = 0

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
            result, location = self._with_retries(current, stored, accept, max_bytes)
            attempts += result.attempts
            if location is None:
                break
            hops.append(Redirect(current, result.status_code or 0, location))
            target, failure = self._redirect_target(current, location, seen, len(hops))
            if failure is not None:
                result = replace(result, outcome=Outcome.FAILED, reason=failure[0],
                                 detail=failure[1])
                break
            verdict = check(target) if check else None
            if verdict is not None:
                result = FetchResult(Outcome.SKIPPED, url, target, result.status_code,
                                     reason=verdict[0], detail=verdict[1])
                current = target
                break
            seen[target] = None
            current = target
        return replace(result, url=url, final_url=current, redirects=tuple(hops),
                       attempts=attempts, elapsed=self._clock() - started)

    def pause(self, url: str, seconds: float) -> None:
        """No request to the URL's host before `seconds` from now."""
        self._defer(self._slot(url_host(url)), seconds)

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

    # -- retries and politeness ------------------------------------------------------------

    def _with_retries(
        self, url: str, stored: Validators | None, accept: frozenset[str] | None,
        max_bytes: int | None,
    ) -> tuple[FetchResult, str | None]:
        host = url_host(url)
        last: _Transient | None = None
        tries = 1 + max(0, self._config.retries)
        for attempt in range(tries):
            slot = self._turn(host, url)
            try:
                result, location = self._attempt(url, stored, accept, max_bytes)
                return replace(result, attempts=attempt + 1), location
            except _Transient as exc:
                last = exc
                if attempt + 1 < tries:
                    wait = self._backoff(attempt, exc.retry_after)
                    logger.info("retrying %s in %.2fs: %s %s", url, wait, exc.reason, exc.detail)
                    self._defer(slot, wait)
            finally:
                self._done(slot, url)
        assert last is not None
        detail = f"{last.detail} (after {tries} attempts)".strip()
        return FetchResult(Outcome.FAILED, url, url, last.status, last.reason, detail,
                           attempts=tries), None

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self._config.retry_after_cap_seconds)
        base = self._config.backoff_base_seconds * (2**attempt)
        return base * (0.5 + self._rng())  # jitter: 0.5x..1.5x so retries do not align

    def _slot(self, host: str) -> _HostSlot:
        with self._slots_lock:
            slot = self._slots.get(host)
            if slot is None:
                slot = self._slots[host] = _HostSlot(self._config.per_host_concurrency)
            return slot

    def _turn(self, host: str, url: str) -> _HostSlot:
        slot = self._slot(host)
        slot.semaphore.acquire()
        with slot.lock:
            wait = slot.not_before - self._clock()
        if wait > 0:
            self._sleep(wait)
        return slot

    def _done(self, slot: _HostSlot, url: str) -> None:
        delay = self._config.delay_seconds
        robots_delay = self._crawl_delay(url) if self._crawl_delay else None
        if robots_delay is not None:
            delay = max(delay, min(robots_delay, self._config.max_crawl_delay_seconds))
        with slot.lock:
            slot.not_before = max(slot.not_before, self._clock() + delay)
        slot.semaphore.release()

    def _defer(self, slot: _HostSlot, seconds: float) -> None:
        with slot.lock:
            slot.not_before = max(slot.not_before, self._clock() + seconds)

    # -- one request -------------------------------------------------------------------------

    def _attempt(
        self, url: str, stored: Validators | None, accept: frozenset[str] | None,
        max_bytes: int | None,
    ) -> tuple[FetchResult, str | None]:
        headers = {
            "User-Agent": self._config.user_agent,
            "Accept": "text/html,application/xhtml+xml,application/pdf;q=0.9,*/*;q=0.5",
            "Accept-Language": "nb,nn;q=0.9,no;q=0.8,en;q=0.5",
            # Only encodings BodyDecoder can decompress with a bound on the output.
            "Accept-Encoding": "gzip, deflate",
        }
        if stored and stored.etag:
            headers["If-None-Match"] = stored.etag
        if stored and stored.last_modified:
            headers["If-Modified-Since"] = stored.last_modified
        deadline = self._clock() + self._config.total_timeout
        try:
            request = self._client.build_request("GET", url, headers=headers,
                                                 timeout=self._timeout)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            return FetchResult(Outcome.FAILED, url, url, reason="invalid_url",
                               detail=str(exc)), None
        self.requests += 1
        try:
            response = self._client.send(request, stream=True, follow_redirects=False)
        except httpx.ConnectTimeout as exc:
            raise _Transient(url, "connect_timeout", str(exc)) from exc
        except httpx.ConnectError as exc:
            raise _Transient(url, "connect_error", str(exc)) from exc
        except httpx.TimeoutException as exc:
            raise _Transient(url, "read_timeout", "no response headers") from exc
        except (httpx.UnsupportedProtocol, httpx.LocalProtocolError) as exc:
            return FetchResult(Outcome.FAILED, url, url, reason="invalid_url",
                               detail=str(exc)), None
        except httpx.TransportError as exc:
            raise _Transient(url, "network_error", f"{type(exc).__name__}: {exc}") from exc
        try:
            return self._response(url, response, stored, accept, max_bytes, deadline)
        finally:
            response.close()

    def _response(
        self, url: str, response: httpx.Response, stored: Validators | None,
        accept: frozenset[str] | None, max_bytes: int | None, deadline: float,
    ) -> tuple[FetchResult, str | None]:
        status = response.status_code
        validators = Validators(response.headers.get("etag"),
                                response.headers.get("last-modified"))
        if status in _REDIRECTS:
            location = response.headers.get("location", "")
            return FetchResult(Outcome.FAILED, url, url, status, "redirect"), location
        if status == 304 and stored:
            return FetchResult(Outcome.NOT_MODIFIED, url, url, status,
                               validators=replace(stored, **_present(validators))), None
        if status == 429 or (500 <= status < 600 and status != 501):
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            raise _Transient(url, f"http_{status}", response.reason_phrase, status=status,
                             retry_after=retry_after)
        if not 200 <= status < 300:
            return FetchResult(Outcome.FAILED, url, url, status, f"http_{status}",
                               response.reason_phrase), None
        declared = response.headers.get("content-type", "").split(";")[0].strip().lower()
        cap = max_bytes or self._config.max_bytes
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > cap:
            return FetchResult(Outcome.SKIPPED, url, url, status, SkipReason.TOO_LARGE,
                               f"Content-Length {length} > {cap}"), None
        try:
            decoder = BodyDecoder(response.headers.get("content-encoding", ""))
        except ValueError as exc:
            return FetchResult(Outcome.FAILED, url, url, status, "unsupported_content_encoding",
                               str(exc)), None
        body = bytearray()
        media: str | None = None
        try:
            for raw in response.iter_raw():  # no chunk_size: it would buffer a slow drip
                if self._clock() > deadline:
                    return FetchResult(Outcome.FAILED, url, url, status, "total_timeout",
                                       f"body not complete after {self._config.total_timeout}s",
                                       bytes_read=len(body)), None
                # Until the type is known, inflate only enough to sniff it, so an HTML bomb
                # stops at the HTML cap instead of the larger PDF one.
                room = (_SNIFF_BYTES if media is None else self._cap(media, cap, max_bytes) + 1)
                body += decoder.feed(raw, room - len(body))
                if media is None and len(body) >= _SNIFF_BYTES:
                    media = sniff_media_type(declared, bytes(body[:_SNIFF_BYTES]))
                    if accept is not None and media not in accept:
                        break
                if len(body) > self._cap(media, cap, max_bytes):
                    raise BodyTooLarge(len(body))
            if media is None:
                body += decoder.flush(_SNIFF_BYTES - len(body))
                media = sniff_media_type(declared, bytes(body[:_SNIFF_BYTES]))
            body += decoder.flush(self._cap(media, cap, max_bytes) + 1 - len(body))
            if len(body) > self._cap(media, cap, max_bytes):
                raise BodyTooLarge(len(body))
        except BodyTooLarge:
            return FetchResult(Outcome.SKIPPED, url, url, status, SkipReason.TOO_LARGE,
                               f"more than {self._cap(media, cap, max_bytes)} bytes "
                               "(decompressed)", bytes_read=len(body)), None
        except httpx.TimeoutException as exc:
            raise _Transient(url, "read_timeout", f"body stalled after {len(body)} bytes",
                             status=status) from exc
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise _Transient(url, "truncated", f"after {len(body)} bytes: {exc}",
                             status=status) from exc
        except ValueError as exc:  # zlib.error is not a ValueError; BodyDecoder converts it
            return FetchResult(Outcome.FAILED, url, url, status, "bad_content_encoding",
                               str(exc)), None
        if media is None:
            media = sniff_media_type(declared, bytes(body[:_SNIFF_BYTES]))
        if accept is not None and media not in accept:
            return FetchResult(Outcome.SKIPPED, url, url, status, SkipReason.CONTENT_TYPE,
                               f"{declared or 'no content type'} (sniffed {media})",
                               bytes_read=len(body)), None
        if len(body) > self._cap(media, cap, max_bytes):
            return FetchResult(Outcome.SKIPPED, url, url, status, SkipReason.TOO_LARGE,
                               f"{len(body)} bytes", bytes_read=len(body)), None
        return FetchResult(Outcome.OK, url, url, status, body=bytes(body), media_type=media,
                           charset=response.charset_encoding, validators=validators,
                           bytes_read=len(body)), None

    def _cap(self, media: str | None, cap: int, max_bytes: int | None) -> int:
        if max_bytes is None and media in HTML_TYPES:
            return min(self._config.max_html_bytes, cap)
        return cap


def _present(validators: Validators) -> dict[str, str]:
    return {k: v for k, v in vars(validators).items() if v}


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


# -- bodies ------------------------------------------------------------------------------------


class BodyTooLarge(Exception):
    """Raised inside the read loop when the decompressed body passes the cap."""


class BodyDecoder:
    """Decompresses a Content-Encoding with a bound on the output of every call.

    httpx would inflate a whole chunk at once; a 64 KiB chunk of a gzip bomb is ~60 MB.
    Raises ValueError for an encoding it cannot decode or a corrupt stream.
    """

    def __init__(self, content_encoding: str) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            raise ValueError(f"Content-Encoding {content_encoding!r}")
        self._coding = codings[0] if codings else ""
        self._wbits = 16 + zlib.MAX_WBITS if self._coding in ("gzip", "x-gzip") else zlib.MAX_WBITS
        self._zlib = zlib.decompressobj(self._wbits) if self._coding else None
        self._first = True
        self._pending = b""

    def feed(self, data: bytes, limit: int) -> bytes:
        if self._zlib is None:
            return data
        if self._first and self._coding == "deflate" and data and (data[0] & 0x0F) != 8:
            # "deflate" is meant to be zlib-wrapped, but some servers send raw deflate.
            self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
        self._first = False
        return self._inflate(self._pending + data, limit)

    def flush(self, limit: int) -> bytes:
        return b"" if self._zlib is None else self._inflate(self._pending, limit)

    def _inflate(self, data: bytes, limit: int) -> bytes:
        assert self._zlib is not None
        limit = max(1, limit)
        try:
            out = self._zlib.decompress(data, limit)
            self._pending = self._zlib.unconsumed_tail
            if self._zlib.eof and self._zlib.unused_data.strip(b"\0"):
                # Concatenated gzip members: start over on the rest.
                rest = self._zlib.unused_data
                self._zlib = zlib.decompressobj(self._wbits)
                out += self._inflate(rest, limit - len(out))
        except zlib.error as exc:
            raise ValueError(f"corrupt {self._coding} stream: {exc}") from exc
        if self._pending and len(out) < limit:
            out += self._inflate(b"", limit - len(out))
        return out


_HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<meta", b"<title", b"<!--")


def sniff_media_type(declared: str, head: bytes) -> str | None:
    """The real media type from the first bytes, trusting the header only when they agree.

    A PDF is a PDF whatever the header says; HTML served as application/pdf or
    application/octet-stream is HTML; otherwise the declared type stands.
    """
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"%PDF-") or b"%PDF-" in head[:_SNIFF_BYTES]:
        return "application/pdf"
    lowered = stripped[:_SNIFF_BYTES].lower()
    if lowered.startswith(_HTML_STARTS) or b"<html" in lowered:
        return "text/html" if declared not in HTML_TYPES else declared
    if declared in PDF_TYPES:
        return "application/octet-stream"  # says PDF, is not one (an error page, a stub)
    return declared or None


# -- offline mirrors ---------------------------------------------------------------------------


class RewritingTransport(httpx.BaseTransport):
    """Sends requests for mapped origins to another address; everything else sees real URLs.

    `host_map` maps "https://www.varnesregionen.no" to "http://127.0.0.1:8101". The http
    spelling of a mapped https origin is mapped too (sites mix them in links). Absolute
    Location headers pointing at the target are mapped back. With `strict`, a request to an
    unmapped origin fails with ConnectError instead of reaching the network.
    """

    def __init__(
        self, inner: httpx.BaseTransport, host_map: dict[str, str], *, strict: bool = False
    ) -> None:
        self._inner = inner
        self._strict = strict
        self._forward: dict[str, httpx.URL] = {}
        self._back: dict[str, str] = {}
        for real, target in host_map.items():
            real_url, target_url = httpx.URL(real), httpx.URL(target)
            origin = _origin(real_url)
            self._forward[origin] = target_url
            self._back[_origin(target_url)] = origin
            plain = "http://" + origin.split("://", 1)[1]
            self._forward.setdefault(plain, target_url)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        target = self._forward.get(_origin(request.url))
        if target is not None:
            request.url = request.url.copy_with(
                scheme=target.scheme, host=target.host, port=target.port
            )
        elif self._strict:
            raise httpx.ConnectError(f"{_origin(request.url)} is not mapped", request=request)
        response = self._inner.handle_request(request)
        location = response.headers.get("location")
        if location:
            for target_origin, real in self._back.items():
                if location.startswith(target_origin):
                    response.headers["location"] = real + location[len(target_origin):]
                    break
        return response

    def close(self) -> None:
        self._inner.close()


def _origin(url: httpx.URL) -> str:
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}"
