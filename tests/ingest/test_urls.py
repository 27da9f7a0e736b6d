"""URL normalisation and scope."""

from __future__ import annotations

import re

import pytest
from samsok.ingest.crawl import Source, SourceKind
from samsok.ingest.documents import Region, SkipReason
from samsok.ingest.urls import (
    align_scheme,
    in_scope,
    looks_like_pdf,
    normalize_url,
    path_key,
    scope_check,
    url_host,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTP://WWW.Example.NO:80/A/B?b=2&a=1#frag", "http://www.example.no/A/B?a=1&b=2"),
        ("https://x.no:443/side", "https://x.no/side"),
        ("https://x.no:8443/side", "https://x.no:8443/side"),
        ("https://x.no", "https://x.no/"),
        ("https://x.no/a?utm_source=fb&utm_medium=x&id=3", "https://x.no/a?id=3"),
        ("https://x.no/a?fbclid=IwAR&gclid=1&msclkid=2", "https://x.no/a"),
        ("https://x.no/a?UTM_Campaign=vår", "https://x.no/a"),
        ("https://x.no/Æøå side", "https://x.no/%C3%86%C3%B8%C3%A5%20side"),
        ("https://x.no/a#top", "https://x.no/a"),
        ("  https://x.no/a  ", "https://x.no/a"),
    ],
)
def test_normalize_url(raw: str, expected: str) -> None:
    assert normalize_url(raw) == expected


def test_normalize_is_idempotent_and_keeps_path_case() -> None:
    url = normalize_url("https://X.no/Prosjekt/Side.HTML?B=1&a=2")
    assert url == normalize_url(url)
    assert "/Prosjekt/Side.HTML" in url


def test_helpers() -> None:
    assert url_host("https://WWW.x.no:443/a") == "www.x.no"
    assert url_host("http://127.0.0.1:8101/a") == "127.0.0.1:8101"
    assert path_key("https://x.no/kalender?dato=1") == "https://x.no/kalender"
    assert looks_like_pdf("https://x.no/getfile.php/1/Rapport.PDF")
    assert not looks_like_pdf("https://x.no/rapport.pdf.html")


def _source(**kw: object) -> Source:
    values: dict[str, object] = {
        "name": "s",
        "title": "S",
        "region": Region.VAERNES,
        "kind": SourceKind.PROJECT_SITE,
        "start_urls": ("https://www.x.no/prosjekt/",),
        "allowed": ("https://www.x.no/prosjekt/",),
    }
    values.update(kw)
    return Source(**values)  # type: ignore[arg-type]


def test_scope() -> None:
    source = _source(exclude=(re.compile(r"[?&]print="),), include=(re.compile(r"/prosjekt/\w"),))
    assert in_scope("https://WWW.X.NO/prosjekt/side#a", source)
    assert in_scope("http://www.x.no/prosjekt/side", source)  # http/https mixed on one site
    assert in_scope("https://www.x.no/prosjekt/", source)  # start URL passes include
    assert not in_scope("https://www.x.no/annet/side", source)
    assert not in_scope("https://evil.no/prosjekt/side", source)
    assert not in_scope("mailto:a@b.no", source)
    assert scope_check("https://www.x.no/prosjekt/side?print=1", source) == SkipReason.EXCLUDED
    assert scope_check("https://www.x.no/prosjekt/-", source) == SkipReason.EXCLUDED  # include
    # A PDF elsewhere on the source's host is allowed with the leeway, not on another host.
    assert scope_check("https://www.x.no/files/r.pdf", source) == SkipReason.OUT_OF_SCOPE
    assert scope_check("https://www.x.no/files/r.pdf", source, pdf_leeway=True) is None
    assert scope_check("https://cdn.no/r.pdf", source, pdf_leeway=True) == SkipReason.OUT_OF_SCOPE


def test_align_scheme() -> None:
    source = _source()
    assert align_scheme("http://www.x.no/prosjekt/a", source) == "https://www.x.no/prosjekt/a"
    assert align_scheme("http://www.x.no/annet", source) == "https://www.x.no/annet"
    assert align_scheme("http://other.no/a", source) == "http://other.no/a"
