"""corpus/sources.toml loading and validation."""

from __future__ import annotations

from pathlib import Path

import pytest
from samsok.ingest.crawl import Source, SourceKind, load_sources, parse_sources
from samsok.ingest.documents import Region
from samsok.ingest.errors import SourceConfigError

GOOD = """
# comment
[[source]]
name = "vaernesregionen"
title = "Værnesregionen"
region = "vaernes"
kind = "project_site"
start_urls = ["https://www.varnesregionen.no/"]
allowed = ["https://WWW.varnesregionen.no/"]
exclude = ['/admin/', '[?&]print=']
sitemap = "https://www.varnesregionen.no/sitemap.xml"
mirror = "www.varnesregionen.no"
max_depth = 3
max_pages = 150

[[source]]
name = "avisa-st"
title = "Avisa Sør-Trøndelag"
region = "orkdal"
kind = "local_newspaper"
start_urls = ["https://www.avisa-st.no/"]
allowed = ["https://www.avisa-st.no/"]
"""


def test_load_good(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(GOOD, encoding="utf-8")
    first, second = load_sources(path)
    assert first.name == "vaernesregionen"
    assert first.region is Region.VAERNES and first.kind is SourceKind.PROJECT_SITE
    assert first.allowed == ("https://www.varnesregionen.no/",)  # normalised
    assert first.exclude[1].search("https://www.varnesregionen.no/a?print=1")
    assert first.max_depth == 3 and first.max_pages == 150 and first.mirror
    assert first.hosts == frozenset({"www.varnesregionen.no"})
    assert second.sitemap is None and second.max_pages is None and second.exclude == ()


def _bad(table_patch: str, old: str) -> str:
    return GOOD.replace(old, table_patch, 1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_bad('region = "trondheim"', 'region = "vaernes"'), "region 'trondheim'"),
        (_bad('kind = "blog"', 'kind = "project_site"'), "kind 'blog'"),
        (_bad('exclude = ["(unclosed"]', "exclude = ['/admin/', '[?&]print=']"), "bad regex"),
        (
            _bad(
                'start_urls = ["https://other.no/"]',
                'start_urls = ["https://www.varnesregionen.no/"]',
            ),
            "not under any allowed",
        ),
        (_bad("max_depth = -1", "max_depth = 3"), "max_depth"),
        (_bad('mirrors = "x"', 'mirror = "www.varnesregionen.no"'), "unknown key(s) mirrors"),
        (_bad('name = "avisa-st"', 'name = "vaernesregionen"'), "duplicate source name"),
        (_bad("", 'allowed = ["https://www.avisa-st.no/"]'), "missing key(s) allowed"),
        (
            _bad('start_urls = ["ftp://x.no/"]', 'start_urls = ["https://www.avisa-st.no/"]'),
            "not an http(s) URL",
        ),
        ("[[source]\nname=", "invalid TOML"),
        ("", "no [[source]] tables"),
    ],
)
def test_invalid_sources_name_the_table(text: str, message: str) -> None:
    with pytest.raises(SourceConfigError) as info:
        parse_sources(text, origin="corpus/sources.toml")
    assert message in str(info.value)
    assert "corpus/sources.toml" in str(info.value)


def test_error_points_at_the_line_of_the_table() -> None:
    text = _bad('kind = "blog"', 'kind = "local_newspaper"')
    where = r"sources.toml:16: \[\[source\]\] #2 \('avisa-st'\)"
    with pytest.raises(SourceConfigError, match=where):
        parse_sources(text, origin="sources.toml")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourceConfigError, match="cannot read"):
        load_sources(tmp_path / "nope.toml")


def test_adhoc() -> None:
    source = Source.adhoc("https://www.X.no/prosjekt/side.html?utm_source=a", "orkdal")
    assert source.start_urls == ("https://www.x.no/prosjekt/side.html",)
    assert source.allowed == ("https://www.x.no/prosjekt/",)
    assert source.region is Region.ORKDAL and source.name == "adhoc:https://www.x.no/prosjekt/"
    assert Source.adhoc("https://x.no", "vaernes").allowed == ("https://x.no/",)
    with pytest.raises(SourceConfigError):
        Source.adhoc("https://x.no/", "oslo")
    with pytest.raises(SourceConfigError):
        Source.adhoc("file:///etc/passwd", "orkdal")


def test_project_sources_file_loads() -> None:
    path = Path(__file__).resolve().parents[2] / "corpus" / "sources.toml"
    if not path.exists():
        pytest.skip("corpus/sources.toml not written yet")
    sources = load_sources(path)
    assert len({s.name for s in sources}) == len(sources) >= 1
