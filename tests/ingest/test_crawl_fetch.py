"""Fetcher pieces with mock transports: retries, politeness, redirects, bodies, rewriting."""

from __future__ import annotations

import gzip
import zlib
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from samsok.ingest.fetch import (
    BodyDecoder,
    Fetcher,
    Outcome,
    RewritingTransport,
    Validators,
    parse_retry_after,
    sniff_media_type,
)

from tests.ingest.hostile_server import fast_config, make_pdf


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


def fetcher_for(handler: object, clock: FakeClock | None = None, **config: object) -> Fetcher:
    clock = clock or FakeClock()
    client = httpx.Client(transport=httpx.MockTransport(handler))  # type: ignore[arg-type]
    return Fetcher(client, fast_config(**config), clock=clock, sleep=clock.sleep, rng=lambda: 0.5)


HTML = b"<!doctype html><html><title>x</title><p>hei</p></html>"


def reply(status: int, body: bytes = b"", **headers: str) -> httpx.Response:
    """A streamed response, as real transports give (content= would be read already)."""
    return httpx.Response(
        status,
        stream=httpx.ByteStream(body),
        headers={k.replace("_", "-"): v for k, v in headers.items()},
    )


def test_retry_after_seconds_and_date() -> None:
    now = datetime(2024, 5, 6, 10, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert (
        parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now)
        == 30.0
    )
    assert (
        parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now=now) == 0.0
    )
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_backoff_retry_after_cap_and_politeness_delay() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if len(calls) == 1:
            return httpx.Response(503, headers={"Retry-After": "3600"})
        if len(calls) == 2:
            return httpx.Response(500)
        return reply(200, HTML, Content_Type="text/html")

    clock = FakeClock()
    fetcher = fetcher_for(
        handler,
        clock,
        retries=3,
        retry_after_cap_seconds=5.0,
        backoff_base_seconds=1.0,
        delay_seconds=2.0,
    )
    result = fetcher.fetch("http://x.no/a")
    assert result.outcome is Outcome.OK and result.attempts == 3
    # Retry-After 3600 capped at 5 s; then backoff 1.0 * 2**1 * (0.5 + 0.5) = 2 s.
    assert clock.sleeps == [5.0, 2.0]
    fetcher.fetch("http://x.no/b")
    assert clock.sleeps[-1] == 2.0  # delay_seconds between requests to one host
    assert fetcher.requests == 4


def test_gives_up_after_retries_and_does_not_retry_4xx() -> None:
    fetcher = fetcher_for(lambda r: httpx.Response(503 if r.url.path == "/a" else 404), retries=2)
    failed = fetcher.fetch("http://x.no/a")
    assert (failed.outcome, failed.reason, failed.attempts) == (Outcome.FAILED, "http_503", 3)
    gone = fetcher.fetch("http://x.no/b")
    assert (gone.reason, gone.attempts, gone.status_code) == ("http_404", 1, 404)


def test_connect_errors_are_retried_then_failed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    result = fetcher_for(handler, retries=2).fetch("http://x.no/")
    assert (result.outcome, result.reason, result.attempts) == (Outcome.FAILED, "connect_error", 3)


def test_conditional_get_and_304() -> None:
    seen: list[httpx.Headers] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers)
        return httpx.Response(304, headers={"ETag": '"v2"'})

    stored = Validators('"v1"', "Mon, 06 May 2024 10:00:00 GMT")
    result = fetcher_for(handler).fetch("http://x.no/a", validators=lambda url: stored)
    assert result.outcome is Outcome.NOT_MODIFIED
    assert result.validators == Validators('"v2"', "Mon, 06 May 2024 10:00:00 GMT")
    assert seen[0]["If-None-Match"] == '"v1"'
    assert seen[0]["If-Modified-Since"] == stored.last_modified
    assert "SamsokBot" in seen[0]["User-Agent"]


def test_redirects_are_checked_per_hop() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        targets = {
            "/a": "/b",
            "/b": "/c",
            "/loop1": "/loop2",
            "/loop2": "/loop1",
            "/out": "https://evil.example/x",
            "/nowhere": "",
        }
        if path in targets:
            return httpx.Response(301, headers={"Location": targets[path]} if targets[path] else {})
        return reply(200, HTML, Content_Type="text/html")

    fetcher = fetcher_for(handler)
    ok = fetcher.fetch("http://x.no/a")
    assert ok.final_url == "http://x.no/c" and [r.url for r in ok.redirects] == [
        "http://x.no/a",
        "http://x.no/b",
    ]
    assert fetcher.fetch("http://x.no/loop1").reason == "redirect_loop"
    assert fetcher.fetch("http://x.no/nowhere").reason == "redirect_without_location"
    skipped = fetcher.fetch(
        "http://x.no/out", check=lambda url: ("out_of_scope", url) if "evil" in url else None
    )
    assert (skipped.outcome, skipped.reason) == (Outcome.SKIPPED, "out_of_scope")
    assert skipped.final_url == "https://evil.example/x"


def test_sniffing() -> None:
    pdf = make_pdf("x")
    assert sniff_media_type("text/html", pdf) == "application/pdf"
    assert sniff_media_type("application/octet-stream", pdf) == "application/pdf"
    assert sniff_media_type("application/pdf", HTML) == "text/html"
    assert sniff_media_type("", b"\xef\xbb\xbf  <html><body>") == "text/html"
    assert sniff_media_type("application/xhtml+xml", HTML) == "application/xhtml+xml"
    assert sniff_media_type("application/pdf", b"not a pdf") == "application/octet-stream"
    assert sniff_media_type("image/png", b"\x89PNG") == "image/png"


def test_body_decoder_bounds_its_output() -> None:
    bomb = gzip.compress(b"\0" * (8 * 1024 * 1024))
    decoder = BodyDecoder("gzip")
    out = decoder.feed(bomb, 1000)
    assert len(out) == 1000
    assert len(decoder.flush(5000)) == 5000
    raw_deflate = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    data = raw_deflate.compress(b"hei " * 10) + raw_deflate.flush()
    assert BodyDecoder("deflate").feed(data, 1000) == b"hei " * 10
    assert BodyDecoder("deflate").feed(zlib.compress(b"hallo"), 100) == b"hallo"
    assert BodyDecoder("identity").feed(b"abc", 1) == b"abc"
    with pytest.raises(ValueError):
        BodyDecoder("br")
    with pytest.raises(ValueError):
        BodyDecoder("gzip").feed(b"\x1f\x8b\x08\x00garbage" * 4, 100)


def test_content_type_and_size_checks() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/img":
            return reply(200, b"\x89PNG" + b"\0" * 5000, Content_Type="image/png")
        if path == "/big":
            return reply(200, b"<html>" + b"x" * 600_000, Content_Type="text/html")
        return reply(200, make_pdf("rapport"), Content_Type="text/html; charset=utf-8")

    fetcher = fetcher_for(handler)
    assert fetcher.fetch("http://x.no/img").reason == "unsupported_content_type"
    assert fetcher.fetch("http://x.no/img", accept=None).outcome is Outcome.OK
    big = fetcher.fetch("http://x.no/big")
    assert (big.outcome, big.reason) == (Outcome.SKIPPED, "too_large")
    pdf = fetcher.fetch("http://x.no/pdf")
    assert pdf.media_type == "application/pdf" and pdf.content_type == "application/pdf"


def test_charset_is_passed_on() -> None:
    fetcher = fetcher_for(
        lambda r: reply(
            200, "<html>æøå</html>".encode("cp1252"), Content_Type="text/html; charset=windows-1252"
        )
    )
    result = fetcher.fetch("http://x.no/")
    assert result.content_type == "text/html; charset=windows-1252"


def test_rewriting_transport_keeps_real_urls() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.url} host={request.headers['host']}")
        if request.url.path == "/old":
            return httpx.Response(301, headers={"Location": "http://127.0.0.1:8101/new"})
        return httpx.Response(200, text="ok")

    transport = RewritingTransport(
        httpx.MockTransport(handler),
        {"https://www.varnesregionen.no": "http://127.0.0.1:8101"},
        strict=True,
    )
    with httpx.Client(transport=transport) as client:
        response = client.get("https://www.varnesregionen.no/old?x=1")
        assert response.headers["location"] == "https://www.varnesregionen.no/new"
        client.get("http://www.varnesregionen.no/a")  # the http spelling is mapped too
        with pytest.raises(httpx.ConnectError):
            client.get("https://example.org/")
    assert seen == [
        "http://127.0.0.1:8101/old?x=1 host=www.varnesregionen.no",
        "http://127.0.0.1:8101/a host=www.varnesregionen.no",
    ]
