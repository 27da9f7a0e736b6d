"""Briefings: pure assembly and Markdown, and the /briefing route in its three formats."""

from __future__ import annotations

import re
from datetime import date

import pytest
from fastapi.testclient import TestClient
from markupsafe import Markup
from pydantic import ValidationError
from samsok.api.web import Briefing, BriefingRequest, Pick, build_briefing, render_markdown
from samsok.api.web.briefing import (
    http_url,
    markdown_filename,
    md_escape,
    md_link,
    snippet_markup,
    snippet_text,
)
from samsok.ingest.documents import DocType, Region, doc_id_for_url
from samsok.search.index import SearchIndex
from samsok.search.schemas import Hit, SearchRequest

from tests.api.conftest import PDF_URL, XSS_TITLE, html_of
from tests.api.conftest import TODAY as FIXED_TODAY

TODAY = FIXED_TODAY.isoformat()  # the app fixture's clock


def make_hit(**changes: object) -> Hit:
    values: dict[str, object] = {
        "doc_id": "ab12",
        "url": "https://sio.no/r.pdf",
        "title": "Rapport om legevakt",
        "region": Region.ORKDAL,
        "type": DocType.REPORT,
        "source": "sio.no",
        "published": date(2019, 6, 1),
        "page": 2,
        "page_url": "https://sio.no/r.pdf#page=2",
        "snippet": "Styrk <mark>legevakt</mark> &amp; akutte plasser &lt;nå&gt;",
        "score": 1.0,
        "chunk_id": 7,
        "also_published_at": ["https://kopi.no/r.pdf", "javascript:alert(1)"],
    }
    values.update(changes)
    return Hit.model_validate(values)


def picks_for(index: SearchIndex, query: str, n: int) -> list[str]:
    hits = index.search(SearchRequest(q=query, limit=n)).results
    return [f"{h.doc_id}:{h.chunk_id}" for h in hits]


# -- pure functions ---------------------------------------------------------------------------


def test_snippet_text_and_markup() -> None:
    snippet = "Styrk <mark>legevakt</mark> &amp; &lt;script&gt;"
    assert snippet_text(snippet) == "Styrk legevakt & <script>"
    markup = snippet_markup(snippet)
    assert isinstance(markup, Markup)
    assert str(markup) == "Styrk <mark>legevakt</mark> &amp; &lt;script&gt;"
    # Defence in depth: even an unescaped snippet cannot inject markup.
    assert (
        str(snippet_markup("<mark>a</mark><script>x</script>"))
        == "<mark>a</mark>&lt;script&gt;x&lt;/script&gt;"
    )


def test_http_url_filters_everything_but_http() -> None:
    assert http_url("https://a.no/x#page=2") == "https://a.no/x#page=2"
    assert http_url("HTTP://a.no") == "HTTP://a.no"
    for bad in (
        "javascript:alert(1)",
        " javascript:alert(1)",
        "data:text/html,x",
        "//a.no",
        "/relative",
        "mailto:a@b.no",
        "",
        None,
        "http://",
    ):
        assert http_url(bad) is None, bad


def test_markdown_escaping() -> None:
    assert md_escape("<script>alert(1)</script>") == "\\<script\\>alert(1)\\</script\\>"
    assert md_escape("# ikke overskrift") == "\\# ikke overskrift"
    assert md_escape("*fet* og _kursiv_ [lenke](x)") == "\\*fet\\* og \\_kursiv\\_ \\[lenke\\](x)"
    assert md_escape("1. ikke liste") == "1\\. ikke liste"
    assert (
        md_link("PDF", "https://a.no/r (1).pdf#page=2")
        == "[PDF](https://a.no/r%20%281%29.pdf#page=2)"
    )
    assert md_link("farlig", "javascript:alert(1)") == "farlig"


def test_build_and_render_markdown() -> None:
    briefing = build_briefing("legevakt <natt>", date(2024, 5, 2), [make_hit()], ["dead:1"])
    item = briefing.items[0]
    assert item.region_label == "Orkdal" and item.type_label == "Rapport"
    assert item.snippet == "Styrk legevakt & akutte plasser <nå>"
    markdown = render_markdown(briefing)
    assert markdown.startswith("# Briefing: legevakt \\<natt\\>\n")
    assert "2. mai 2024 (2024-05-02)" in markdown
    assert "## 1. Rapport om legevakt" in markdown
    assert "- **Region:** Orkdal" in markdown
    assert "- **Type:** Rapport" in markdown
    assert "- **Dato:** 2019-06-01" in markdown
    assert "- **Kilde:** [sio.no, side 2](https://sio.no/r.pdf#page=2)" in markdown
    assert "- **Også publisert på:** [https://kopi.no/r.pdf](https://kopi.no/r.pdf)" in markdown
    assert "javascript" not in markdown
    assert "> Styrk legevakt & akutte plasser \\<nå\\>" in markdown
    assert "<mark>" not in markdown and "&amp;" not in markdown
    assert "1 valgte treff finnes ikke lenger" in markdown
    assert markdown_filename(briefing) == "samsok-briefing-2024-05-02.md"


def test_markdown_of_a_hostile_document_is_inert() -> None:
    hit = make_hit(
        title=XSS_TITLE,
        snippet="&lt;img src=x onerror=alert(2)&gt;",
        page_url="javascript:alert(1)",
        source="<i>kilde</i>",
    )
    markdown = render_markdown(build_briefing("<script>", date(2024, 1, 1), [hit], []))
    assert "<script>" not in markdown
    assert not re.search(r"(?<!\\)<", markdown)  # every < is escaped: shown, never parsed
    assert "](javascript" not in markdown


def test_briefing_request_validation() -> None:
    request = BriefingRequest.model_validate({"q": "  a   b ", "picks": ["ab:1", "ab:1", "cd:2"]})
    assert request.q == "a b"
    assert [str(p) for p in request.picks] == ["ab:1", "cd:2"]  # duplicates dropped, order kept
    with pytest.raises(ValidationError):
        BriefingRequest.model_validate({"picks": ["not-a-pick"]})
    with pytest.raises(ValidationError):
        BriefingRequest.model_validate({"picks": [f"a:{i}" for i in range(51)]})
    assert Pick.parse(" ab:12 ") == Pick(doc_id="ab", chunk_id=12)


# -- the route --------------------------------------------------------------------------------


def test_markdown_download(client: TestClient, fixture_index: SearchIndex) -> None:
    picks = picks_for(fixture_index, "utskrivningsklare pasienter tavlemøter", 2)
    response = client.get(
        "/briefing", params={"q": "utskrivningsklare pasienter", "pick": picks, "format": "md"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/markdown; charset=utf-8"
    assert (
        response.headers["content-disposition"]
        == f'attachment; filename="samsok-briefing-{TODAY}.md"'
    )
    markdown = response.text
    assert markdown.startswith("# Briefing: utskrivningsklare pasienter\n")
    assert TODAY in markdown
    assert "## 1. Sluttrapport: samhandling om utskrivning fra sykehus" in markdown
    assert f"({PDF_URL}#page=2)" in markdown and "side 2" in markdown
    assert "- **Region:** Orkdal" in markdown and "- **Region:** Værnes" in markdown
    assert "<mark>" not in markdown
    assert re.search(r"^> .*Utskrivningsklare pasienter skal tas imot", markdown, re.M)


def test_json_briefing(client: TestClient, fixture_index: SearchIndex) -> None:
    picks = picks_for(fixture_index, "legevakt", 2)
    response = client.get("/briefing", params={"q": "legevakt", "pick": [*picks, "ffff:999999"]})
    assert response.headers["content-type"] == "application/json"
    briefing = Briefing.model_validate(response.json())
    assert [f"{i.doc_id}:{i.chunk_id}" for i in briefing.items] == picks  # pick order kept
    assert briefing.missing == ["ffff:999999"]
    assert briefing.created.isoformat() == TODAY
    assert all("<mark>" not in i.snippet for i in briefing.items)
    assert any("<mark>" in i.snippet_html for i in briefing.items)


def test_pick_must_name_its_own_document(client: TestClient, fixture_index: SearchIndex) -> None:
    doc, chunk = picks_for(fixture_index, "legevakt", 1)[0].split(":")
    other = doc_id_for_url(PDF_URL)
    assert other != doc
    body = client.get("/briefing", params={"pick": f"{other}:{chunk}"}).json()
    assert body["items"] == [] and body["missing"] == [f"{other}:{chunk}"]


def test_bad_briefing_requests(client: TestClient) -> None:
    assert client.get("/briefing", params={"pick": "javascript:alert(1)"}).status_code == 422
    assert client.get("/briefing", params={"format": "pdf"}).status_code == 422
    too_many = [f"ab:{i}" for i in range(60)]
    assert client.get("/briefing", params={"pick": too_many}).status_code == 422


def test_briefing_page(browser: TestClient, fixture_index: SearchIndex) -> None:
    picks = picks_for(fixture_index, "velferdsteknologi", 2)
    response = browser.get(
        "/briefing", params={"q": "velferdsteknologi", "pick": picks, "region": "orkdal"}
    )
    html = html_of(response)
    assert html.count('class="briefing-item ') == 2
    assert "«velferdsteknologi»" in html
    md_link_ = re.search(r'href="(/briefing\?[^"]*format=md)"', html)
    assert md_link_ and all(p.replace(":", "%3A") in md_link_[1] for p in picks)
    assert "data-print hidden" in html  # the print button appears only with script
    assert "@media print" in browser.get("/static/samsok.css").text
    back = re.search(r'href="(/\?[^"]*)">Tilbake til søket', html)
    assert back and "region=orkdal" in back[1] and "pick=" in back[1]
    # Removing a pick is a link to the same briefing without it.
    removes = re.findall(r'href="([^"]*)"[^>]*>Fjern fra briefingen', html)
    assert len(removes) == 2 and picks[0].replace(":", "%3A") not in removes[0]


def test_empty_briefing_page_explains(browser: TestClient) -> None:
    html = browser.get("/briefing").text
    assert "Ingen treff valgt ennå" in html
    assert "Last ned som Markdown" not in html


def test_briefing_from_compare_goes_back_to_compare(
    browser: TestClient, fixture_index: SearchIndex
) -> None:
    picks = picks_for(fixture_index, "legevakt", 1)
    html = browser.get("/briefing", params={"q": "legevakt", "pick": picks, "from": "compare"}).text
    assert re.search(
        r'href="/compare\?q=legevakt&amp;pick=[^"]+">Tilbake til sammenligningen', html
    )


def test_briefing_page_survives_bad_input(browser: TestClient) -> None:
    html = html_of(browser.get("/briefing", params={"q": "x" * 600, "pick": ["bad", "ab:1"]}))
    assert "finnes ikke lenger" in html  # ab:1 is not in the index
