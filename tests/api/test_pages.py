"""The HTML pages, in-process: results, filters, paging, empty and error states, safety, size."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from samsok.ingest.documents import doc_id_for_url

from tests.api.conftest import PDF_URL, XSS_TITLE, html_of, page_showing

STATIC = Path(__file__).resolve().parents[2] / "api" / "web" / "static"
BUDGET = 100_000


class Tags(HTMLParser):
    """Every start tag with its attributes, for structural assertions."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def all(self, tag: str) -> list[dict[str, str]]:
        return [attrs for name, attrs in self.tags if name == tag]


def hrefs(html: str) -> list[str]:
    return [a["href"] for a in Tags(html).all("a") if "href" in a]


def assert_links_safe(html: str) -> None:
    for href in hrefs(html):
        assert href.startswith(("/", "#", "http://", "https://")), href


def assert_inert(html: str) -> None:
    """No markup from documents or queries survives as markup."""
    assert "<script>" not in html  # our only script tag has a src attribute
    assert "<img" not in html and "onerror" not in re.sub(r"&lt;img[^&]*&gt;", "", html)
    assert "<i>kilde</i>" not in html and "<b>teksten</b>" not in html
    assert "javascript:" not in " ".join(hrefs(html))


PAGES = [
    "/",
    "/?q=velferdsteknologi",
    "/compare?q=legevakt",
    f"/documents/{doc_id_for_url(PDF_URL)}",
    f"/similar/{doc_id_for_url(PDF_URL)}",
    "/briefing",
]


# -- search -----------------------------------------------------------------------------------

# What the results page for "velferdsteknologi" shows: language, a hit, both regions' badges,
# the hit's link and its date in Norwegian.
SEARCH_PAGE_SHOWS = (
    '<html lang="nb">',
    "Velferdsteknologi gir trygghet hjemme",
    'class="badge badge--orkdal">Orkdal<',
    'class="badge badge--vaernes">Værnes<',
    'href="https://www.orkdal.kommune.no/nyheter/velferdsteknologi-trygghet"',
    "15. mars 2021",
)


def test_search_page_shows_results(browser: TestClient) -> None:
    html = page_showing(browser, "/", {"q": "velferdsteknologi"}, *SEARCH_PAGE_SHOWS)
    assert "<mark>velferdsteknologi</mark>" in html.lower()


def test_pdf_hits_link_straight_to_the_page(browser: TestClient) -> None:
    html = browser.get("/", params={"q": "utskrivningsklare pasienter tavlemøter"}).text
    assert f'href="{PDF_URL}#page=2"' in html
    assert "Åpne kilden, side 2" in html


def test_duplicate_shows_also_published_at(browser: TestClient) -> None:
    html = browser.get("/", params={"q": "jordmor Tydal Selbu"}).text
    assert html.count("Felles jordmortjeneste for Tydal og Selbu</a>") == 1  # one hit, not two
    assert "Også publisert på" in html
    assert 'href="https://www.selbu.kommune.no/nyheter/jordmor"' in html


def test_region_type_and_date_filters(browser: TestClient) -> None:
    html = browser.get("/", params={"q": "legevakt", "region": "vaernes"}).text
    assert "badge--vaernes" in html and "badge--orkdal" not in html
    assert '<option value="vaernes" selected>' in html

    html = browser.get("/", params={"q": "legevakt", "type": "report"}).text
    assert set(re.findall(r'class="hit__type">(\w+)<', html)) == {"Rapport"}

    html = browser.get(
        "/", params={"q": "legevakt", "date_from": "2020-01-01", "date_to": "2021-12-31"}
    ).text
    dates = re.findall(r'<time[^>]* datetime="(\d{4}-\d\d-\d\d)"', html)
    assert dates and all("2020-01-01" <= d <= "2021-12-31" for d in dates)
    assert 'value="01.01.2020"' in html  # shown back as staff write dates


def test_norwegian_date_format_is_accepted(browser: TestClient) -> None:
    html = html_of(browser.get("/", params={"q": "legevakt", "date_from": "01.01.2020"}))
    assert 'value="01.01.2020"' in html  # one form, whatever was typed


def test_paging(browser: TestClient) -> None:
    first = browser.get("/", params={"q": "kommune"}).text
    assert "Viser 1–10 av 12 dokumenter" in first
    assert 'name="page" value="2"' in first  # pager buttons submit the form (keeps ticks)
    second = browser.get("/", params={"q": "kommune", "page": "2"}).text
    assert "Viser 11–12 av 12 dokumenter" in second
    assert '<ol class="hit-list" start="11">' in second
    titles = lambda html: set(re.findall(r'class="hit__title"[^>]*><a[^>]*>([^<]+)<', html))  # noqa: E731
    assert not titles(first) & titles(second)


def test_page_beyond_the_last(browser: TestClient) -> None:
    html = browser.get("/", params={"q": "kommune", "page": "5"}).text
    assert "Ingen treff på side 5" in html


def test_empty_state(browser: TestClient) -> None:
    html = html_of(browser.get("/", params={"q": "velferdsteknologi", "date_from": "2031-01-01"}))
    assert "Ingen treff for «velferdsteknologi»" in html
    assert "Fjern filtrene" in html
    lexical = browser.get("/", params={"q": "qwxzyv", "mode": "lexical"}).text
    assert "Ingen treff for «qwxzyv»" in lexical


def test_landing_page_explains_and_counts(browser: TestClient) -> None:
    html = browser.get("/").text
    assert "Slik bruker du Samsøk" in html
    assert "6 fra Orkdalsregionen og 6 fra Værnesregionen" in html


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"date_from": "31.02.2020"}, "date_from", "«31.02.2020» er ikke en gyldig dato"),
        ({"date_to": "i fjor"}, "date_to", "«i fjor» er ikke en gyldig dato"),
        (
            {"date_from": "2022-01-01", "date_to": "2020-01-01"},
            "date_from",
            "Fra-datoen (1. januar 2022) er etter til-datoen",
        ),
        ({"region": "trondheim"}, "region", "Ukjent region «trondheim»"),
        ({"type": "video"}, "type", "Ukjent dokumenttype «video»"),
        ({"page": "-1"}, "page", "ikke et gyldig sidetall"),
        ({"q": "x" * 501}, "q", "Søket er for langt"),
    ],
)
def test_bad_input_is_explained_in_norwegian(
    browser: TestClient, params: dict[str, str], field: str, message: str
) -> None:
    query = {"q": "legevakt", **params}
    # 422: what the JSON API answers for the same mistake
    html = html_of(browser.get("/", params=query), 422)
    assert message in html
    assert "Søket kunne ikke utføres" in html
    assert 'class="hit"' not in html  # no results under a rejected form
    # The form comes back with what the user typed, the field marked and described.
    assert f'id="{field}-feil"' in html or field == "page"
    assert f'value="{query["q"]}"' in html
    if field.startswith("date"):
        assert f'value="{params[field]}"' in html
        assert re.search(rf'id="{field}" name="{field}" type="text"', html)  # shown as typed


def test_bad_picks_are_dropped_with_a_note(browser: TestClient) -> None:
    html = html_of(browser.get("/", params={"q": "legevakt", "pick": ["nonsense", "<b>"]}))
    assert "ugyldige og er fjernet" in html
    assert "Treff" in html


# -- compare, document, similar ---------------------------------------------------------------


def test_document_page_negotiated(browser: TestClient, client: TestClient) -> None:
    doc_id = doc_id_for_url(PDF_URL)
    page = browser.get(f"/documents/{doc_id}")
    html = html_of(page)
    assert "Accept" in page.headers["vary"]
    for n in (1, 2, 3):
        assert f'id="side-{n}"' in html
        assert f'href="{PDF_URL}#page={n}"' in html
    assert "Orkdalsregionen</h3>" in html and "Værnesregionen</h3>" in html
    assert "<h1" in html and html.count("<h1") == 1

    api = client.get(f"/documents/{doc_id}")
    assert api.headers["content-type"] == "application/json"
    assert api.json()["doc_id"] == doc_id and len(api.json()["pages"]) == 3
    assert "Accept" in api.headers["vary"]
    explicit = client.get(f"/documents/{doc_id}", headers={"Accept": "application/json"})
    assert explicit.json()["title"].startswith("Sluttrapport")
    prefers_json = client.get(
        f"/documents/{doc_id}", headers={"Accept": "application/json, text/html;q=0.5"}
    )
    assert prefers_json.headers["content-type"] == "application/json"


def test_document_not_found(browser: TestClient, client: TestClient) -> None:
    assert "Fant ikke dokumentet" in html_of(browser.get("/documents/0123456789abcdef"), 404)
    assert client.get("/documents/0123456789abcdef").status_code == 404
    malformed = browser.get("/similar/nothex")  # the JSON API's doc id rule: a 422
    assert malformed.status_code == 422 and "doc_id" in malformed.text


def test_duplicate_document_page_lists_the_other_address(browser: TestClient) -> None:
    html = browser.get(
        f"/documents/{doc_id_for_url('https://www.selbu.kommune.no/nyheter/jordmor')}"
    ).text
    assert "Også publisert på" in html
    assert 'href="https://www.stjordal.kommune.no/nyheter/jordmor"' in html


def test_similar_page_is_restricted_to_the_region(browser: TestClient) -> None:
    doc_id = doc_id_for_url(PDF_URL)
    html = browser.get(f"/similar/{doc_id}", params={"region": "vaernes", "q": "legevakt"}).text
    assert "Tilsvarende erfaring i Værnesregionen" in html
    assert "badge--vaernes" in html
    assert html.count('class="hit hit--orkdal"') == 0
    assert 'href="/compare?q=legevakt"' in html
    default = browser.get(f"/similar/{doc_id}").text  # the other region by default
    assert "Tilsvarende erfaring i Værnesregionen" in default
    bad = browser.get(f"/similar/{doc_id}", params={"region": "oslo"})
    assert bad.status_code == 422 and "Ukjent region «oslo»" in bad.text


# -- safety, accessibility, no-JS, size -------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_inert_and_link_only_to_http(browser: TestClient, path: str) -> None:
    html = browser.get(path).text
    assert_inert(html)
    assert_links_safe(html)


def test_hostile_document_and_query_are_escaped(browser: TestClient) -> None:
    html = browser.get("/", params={"q": "<script>alert(1)</script> velferdsteknologi"}).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the title, and the query, as text
    assert_inert(html)
    assert_links_safe(html)
    xss_id = doc_id_for_url("javascript:alert(1)")
    for path in (
        f"/documents/{xss_id}",
        f"/similar/{xss_id}",
        f"/compare?q={XSS_TITLE}",
        f"/briefing?q=%3Cscript%3E&pick={xss_id}:1",
    ):
        page = browser.get(path).text
        assert_inert(page)
        assert_links_safe(page)
    # The hostile document's own address is shown as text, never as a link.
    doc_page = browser.get(f"/documents/{xss_id}").text
    assert "javascript:alert(1)" in doc_page
    assert 'href="javascript' not in doc_page


def test_security_headers(browser: TestClient) -> None:
    response = browser.get("/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", PAGES)
def test_accessible_structure(browser: TestClient, path: str) -> None:
    html = browser.get(path).text
    tags = Tags(html)
    assert '<html lang="nb">' in html
    assert tags.all("a")[0].get("href") == "#innhold"  # skip link first
    assert any(attrs.get("id") == "innhold" for _, attrs in tags.tags)
    assert len(tags.all("h1")) == 1
    labelled = {label["for"] for label in tags.all("label") if "for" in label}
    controls = [a for a in tags.all("input") if a.get("type") != "hidden"] + tags.all("select")
    for control in controls:
        assert control.get("id") in labelled or "aria-label" in control, control
    for button in tags.all("button"):
        assert button.get("type") in ("submit", "button")
    ids = [attrs["id"] for _, attrs in tags.tags if "id" in attrs]
    assert len(ids) == len(set(ids)), "duplicate ids"


@pytest.mark.parametrize("path", ["/", "/?q=legevakt", "/compare?q=legevakt"])
def test_forms_work_without_javascript(browser: TestClient, path: str) -> None:
    tags = Tags(browser.get(path).text)
    forms = tags.all("form")
    assert forms and all(f.get("method") == "get" for f in forms)
    form_ids = {f["id"] for f in forms}
    for box in (a for a in tags.all("input") if a.get("type") == "checkbox"):
        assert box.get("form") in form_ids  # ticks are submitted without script


def test_static_files_are_served(client: TestClient) -> None:
    assert client.get("/static/samsok.css").headers["content-type"].startswith("text/css")
    assert "javascript" in client.get("/static/samsok.js").headers["content-type"]


@pytest.mark.parametrize(
    "path",
    [
        "/?q=kommune",
        "/compare?q=legevakt&limit=20",
        f"/documents/{doc_id_for_url(PDF_URL)}",
        "/briefing",
    ],
)
def test_page_weight_under_budget(browser: TestClient, path: str) -> None:
    html = browser.get(path).content
    assets = sum(len(p.read_bytes()) for p in STATIC.glob("*") if p.suffix in (".css", ".js"))
    assert len(html) + assets < BUDGET, (len(html), assets)
    assert "//" not in "".join(re.findall(r'(?:src|href)="(//[^"]*)"', html.decode()))  # no CDN


def test_search_page_shows_what_else_was_searched_for(browser: TestClient) -> None:
    html = browser.get("/", params={"q": "KAD"}).text
    assert "Søkte også etter:" in html
    assert "kommunale akutte døgnplasser" in html
    api = browser.get("/search", params={"q": "KAD"})  # the JSON response carries the list
    assert "kommunale akutte døgnplasser" in api.json()["expansions"]
