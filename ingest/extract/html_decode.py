"""Bytes → text for HTML bodies.

Order (as browsers do, WHATWG "encoding sniffing"): byte-order mark, then the HTTP
charset, then `<meta charset>` / `<meta http-equiv=Content-Type>` in the first 4 KiB,
then detection with charset-normalizer. Two pragmatic departures, both for old Norwegian
municipal sites:

* `iso-8859-1`/`ascii` labels mean windows-1252 (WHATWG does the same), and a body that
  claims latin-1 but is valid UTF-8 with multi-byte sequences is UTF-8 (a server default
  header over a UTF-8 CMS is the usual cause); so is an undeclared body that is UTF-8 but
  for a few stray bytes, which detection would otherwise misread as a legacy code page.
* a body that claims UTF-8 but holds not one valid multi-byte sequence and bytes that are
  invalid UTF-8 is windows-1252 (a latin-1 page with a copied template header).

Decoding never fails: undecodable bytes become U+FFFD.
"""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass

import charset_normalizer

__all__ = ["Decoded", "decode_html"]

logger = logging.getLogger(__name__)

_META_CHARSET = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.IGNORECASE
)
_LATIN1_LABELS = {"iso8859-1", "ascii"}
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
# Single-byte code pages charset-normalizer sometimes prefers for short Nordic latin-1 text.
_NON_NORDIC_SINGLE_BYTE = {
    "cp1250",
    "iso8859_2",
    "cp1257",
    "iso8859_4",
    "iso8859_13",
    "mac_latin2",
    "cp852",
    "mac_roman",
    "cp850",
    "cp437",
    "iso8859_16",
    "cp1254",
    "iso8859_9",
}
_NORDIC_LETTERS = re.compile("[æøåÆØÅ]")
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    #: where the encoding came from: bom, http, meta, detected, fallback or str
    source: str


#: Bytes charset_normalizer looks at: by hand, enough text for its statistics at a bounded
#: cost on a 5 MB page.
_DETECT_BYTES = 200_000
#: Bytes searched for `<meta charset>`: WHATWG's prescan reads 1024; by hand, 4 KiB for
#: pages with long scripts or comments before the meta tag.
_META_PRESCAN_BYTES = 4096


def _codec(label: str | None) -> str | None:
    """Python codec name for a charset label, windows-1252 for latin-1 labels."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'").lower()).name
    except LookupError:
        return None
    return "cp1252" if name in _LATIN1_LABELS else name


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _apply(body: bytes, codec: str, source: str) -> Decoded:
    if codec == "cp1252" and _mostly_utf8(body):
        logger.debug("body labelled %s (%s) is valid UTF-8; decoding as UTF-8", codec, source)
        return Decoded(body.decode("utf-8"), "utf-8", f"{source}-utf8")
    if codec == "utf-8" and not _is_utf8(body) and not _UTF8_MULTIBYTE.search(body):
        logger.debug("body labelled UTF-8 (%s) has no UTF-8 sequences; decoding as cp1252", source)
        return Decoded(body.decode("cp1252", errors="replace"), "cp1252", f"{source}-cp1252")
    return Decoded(body.decode(codec, errors="replace"), codec, source)


def _mostly_utf8(body: bytes) -> bool:
    """Valid UTF-8 apart from a few stray bytes (more good multi-byte
    sequences than bad bytes): decode as UTF-8 and let the strays become U+FFFD."""
    good = len(_UTF8_MULTIBYTE.findall(body))
    if not good:
        return False
    bad = body.decode("utf-8", errors="replace").count("\ufffd")
    return good > bad


def _detect(body: bytes) -> Decoded:
    if _is_utf8(body):
        return Decoded(body.decode("utf-8"), "utf-8", "detected")
    if _mostly_utf8(body):
        return Decoded(body.decode("utf-8", errors="replace"), "utf-8", "detected")
    best = charset_normalizer.from_bytes(body[:_DETECT_BYTES]).best()
    codec = _codec(best.encoding) if best is not None else None
    if codec is None:
        return Decoded(body.decode("cp1252", errors="replace"), "cp1252", "fallback")
    if codec in _NON_NORDIC_SINGLE_BYTE:
        as_1252 = body.decode("cp1252", errors="replace")
        if _NORDIC_LETTERS.search(as_1252):
            return Decoded(as_1252, "cp1252", "detected-nordic")
    return Decoded(body.decode(codec, errors="replace"), codec, "detected")


def decode_html(body: bytes | str, declared_encoding: str | None = None) -> Decoded:
    """Decode an HTML body; `declared_encoding` is the charset of the HTTP Content-Type."""
    if isinstance(body, str):
        return Decoded(body, "utf-8", "str")
    for bom, bom_codec in _BOMS:
        if body.startswith(bom):
            return Decoded(body[len(bom) :].decode(bom_codec, errors="replace"), bom_codec, "bom")
    http_codec = _codec(declared_encoding)
    if http_codec is not None:
        return _apply(body, http_codec, "http")
    if declared_encoding:
        logger.debug("unknown HTTP charset %r ignored", declared_encoding)
    match = _META_CHARSET.search(body[:_META_PRESCAN_BYTES])
    meta_codec = _codec(match.group(1).decode("ascii", errors="ignore")) if match else None
    # A UTF-16 meta label inside an 8-bit readable document is a lie (WHATWG: use UTF-8).
    if meta_codec is not None and meta_codec.startswith("utf-16"):
        meta_codec = "utf-8"
    if meta_codec is not None:
        return _apply(body, meta_codec, "meta")
    return _detect(body)
