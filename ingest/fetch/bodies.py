"""Response bodies: streamed, decompressed with a bound, capped, and their real type sniffed.

httpx would inflate a whole chunk at once (a 64 KiB chunk of a gzip bomb is ~60 MB), so the
fetcher reads raw bytes and `BodyDecoder` inflates them here with a bound on every call: the
size cap counts decompressed bytes. Until the type is known only enough is inflated to sniff
it, so an HTML bomb stops at the HTML cap instead of the larger PDF one.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable

from samsok.ingest.documents import HTML_TYPE, HTML_TYPES, PDF_TYPE

__all__ = [
    "PAGE_TYPES",
    "PDF_TYPES",
    "SNIFF_BYTES",
    "BodyDecoder",
    "BodyReader",
    "BodyTooLarge",
    "sniff_media_type",
]

PDF_TYPES = frozenset({PDF_TYPE})
PAGE_TYPES = HTML_TYPES | PDF_TYPES
#: Bytes the type is sniffed from.
SNIFF_BYTES = 1024


class BodyTooLarge(Exception):
    """The decompressed body passed the cap."""


class BodyReader:
    """Reads one body from raw (still encoded) chunks into `body`, sniffing `media` early.

    `cap(media)` is the byte cap for a media type (None while it is unknown); `accept` stops
    the read as soon as the sniffed type is outside it (None accepts any type). Raises
    ValueError for a Content-Encoding it cannot decode.
    """

    def __init__(
        self,
        content_encoding: str,
        declared: str,
        *,
        accept: frozenset[str] | None,
        cap: Callable[[str | None], int],
    ) -> None:
        self._decoder = BodyDecoder(content_encoding)
        self._declared = declared
        self._accept = accept
        self._cap = cap
        self.body = bytearray()
        self.media: str | None = None

    @property
    def limit(self) -> int:
        return self._cap(self.media)

    def read(self, chunks: Iterable[bytes], expired: Callable[[], bool]) -> bool:
        """Read to the end, or to an unaccepted type; False if `expired()` came first.

        Raises BodyTooLarge past the cap and ValueError for a corrupt stream; errors of the
        chunk iterator (timeouts, a connection closed early) pass through.
        """
        body = self.body
        for raw in chunks:
            if expired():
                return False
            room = SNIFF_BYTES if self.media is None else self.limit + 1
            body += self._decoder.feed(raw, room - len(body))
            if self.media is None and len(body) >= SNIFF_BYTES:
                self.media = self._sniff()
                if self._accept is not None and self.media not in self._accept:
                    return True
            if len(body) > self.limit:
                raise BodyTooLarge(len(body))
        if self.media is None:
            body += self._decoder.flush(SNIFF_BYTES - len(body))
            self.media = self._sniff()
        body += self._decoder.flush(self.limit + 1 - len(body))
        if len(body) > self.limit:
            raise BodyTooLarge(len(body))
        return True

    def _sniff(self) -> str | None:
        return sniff_media_type(self._declared, bytes(self.body[:SNIFF_BYTES]))


class BodyDecoder:
    """Decompresses a Content-Encoding with a bound on the output of every call.

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
    if stripped.startswith(b"%PDF-") or b"%PDF-" in head[:SNIFF_BYTES]:
        return PDF_TYPE
    lowered = stripped[:SNIFF_BYTES].lower()
    if lowered.startswith(_HTML_STARTS) or b"<html" in lowered:
        return HTML_TYPE if declared not in HTML_TYPES else declared
    if declared in PDF_TYPES:
        return "application/octet-stream"  # says PDF, is not one (an error page, a stub)
    return declared or None
