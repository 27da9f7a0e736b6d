"""Odd input on every route: the pages validate by the JSON API's rules and answer 422 pages.

Observation 6 of issue 8: `²` passes `str.isdigit()` and fails `int()`, so `page`, `limit` and
`from_page` gave 500s on the HTML routes while the JSON API answered 422.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import PDF_URL, doc_id, html_of

PDF_ID = doc_id(PDF_URL)  # three pages
ODD_NUMBERS = ["²", "٣", "１２", "9" * 5000, "-1", "0", "1e3", "a\x00", "x" * 3000, "0x10"]
NUMBER_PARAMS = [
    ("/", {"q": "legevakt"}, "page"),
    ("/compare", {"q": "legevakt"}, "limit"),
    (f"/documents/{PDF_ID}", {}, "from_page"),
]


@pytest.mark.parametrize(("path", "base", "name"), NUMBER_PARAMS)
@pytest.mark.parametrize("value", ODD_NUMBERS, ids=lambda v: repr(v[:8]))
def test_bad_numbers_get_a_422_page_naming_the_parameter(
    browser: TestClient, path: str, base: dict[str, str], name: str, value: str
) -> None:
    response = browser.get(path, params={**base, name: value})
    html = html_of(response, 422)
    assert f"«{name}»" in html  # the parameter is named …
    assert 'role="alert"' in html  # … in the page's error summary
    assert "\x00" not in html
    assert len(html) < 60_000  # the 5000-digit value is not echoed whole
    assert "9" * 200 not in html and "x" * 200 not in html


@pytest.mark.parametrize(("path", "base", "name"), NUMBER_PARAMS)
def test_good_numbers_still_work(
    browser: TestClient, path: str, base: dict[str, str], name: str
) -> None:
    response = browser.get(path, params={**base, name: "2"})
    assert response.status_code == 200


def test_from_page_beyond_the_document_is_explained(browser: TestClient) -> None:
    response = browser.get(f"/documents/{PDF_ID}", params={"from_page": "4"})
    assert response.status_code == 422
    assert "from_page" in response.text and "3" in response.text


def test_compare_limit_follows_the_json_rule_and_caps_the_grid(
    browser: TestClient, client: TestClient
) -> None:
    # 1-100 like the JSON API; the page shows at most its 20 rows.
    assert browser.get("/compare", params={"q": "legevakt", "limit": "50"}).status_code == 200
    assert client.get("/compare", params={"q": "legevakt", "limit": "50"}).status_code == 200
    for bad in ("101", "0"):
        assert browser.get("/compare", params={"q": "legevakt", "limit": bad}).status_code == 422
        assert client.get("/compare", params={"q": "legevakt", "limit": bad}).status_code == 422


@pytest.mark.parametrize("bad_id", ["nothex", "ABCDEF", "a" * 65, "%ED%A0%80", "%00", "..%2F.."])
def test_malformed_document_ids_get_a_422_page_or_json(
    browser: TestClient, client: TestClient, bad_id: str
) -> None:
    for path in (f"/documents/{bad_id}", f"/similar/{bad_id}"):
        page = browser.get(path)
        assert page.status_code in (404, 422), path
        assert page.headers["content-type"].startswith("text/html"), path
        if page.status_code == 422:
            assert "doc_id" in page.text
    api = client.get(f"/documents/{bad_id}", headers={"Accept": "application/json"})
    assert api.status_code in (404, 422)
    assert api.headers["content-type"] == "application/json"


def test_repeated_parameters_last_one_wins_everywhere(
    browser: TestClient, client: TestClient
) -> None:
    assert browser.get("/?q=legevakt&page=%C2%B2&page=1").status_code == 200
    assert browser.get("/?q=legevakt&page=1&page=%C2%B2").status_code == 422
    assert client.get("/search?q=legevakt&limit=%C2%B2&limit=5").status_code == 200
    assert client.get("/search?q=legevakt&limit=5&limit=%C2%B2").status_code == 422
    assert browser.get("/compare?q=legevakt&limit=5&limit=%C2%B2").status_code == 422


def test_over_long_and_control_characters_are_not_echoed(browser: TestClient) -> None:
    response = browser.get("/", params={"q": "legevakt", "region": "x" * 30_000})
    assert response.status_code == 422
    assert len(response.text) < 60_000
    nul = browser.get("/", params={"q": "lege\x00vakt\x07"})
    assert nul.status_code == 200 and "\x00" not in nul.text and "\x07" not in nul.text


def test_invalid_percent_encoding_and_lone_surrogates(browser: TestClient) -> None:
    for query in ("q=%ED%A0%80", "q=%ZZ&page=%", "q=legevakt&page=%C3", "q=%FF%FE&region=%ED"):
        response = browser.get(f"/?{query}")
        assert response.status_code in (200, 422), query
        response.content.decode("utf-8")


# The same value is accepted or rejected alike by the page and by the JSON API.
NUMBERISH = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.text(alphabet="0123456789²٣１ +-_.e", max_size=8),
    st.text(max_size=6),
)


@settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(value=NUMBERISH)
def test_page_and_json_api_share_the_limit_rule(
    browser: TestClient, client: TestClient, value: str
) -> None:
    if not value.strip():
        return  # an empty limit means "the default" on the page, a 422 for an int query
    page = browser.get("/compare", params={"q": "legevakt", "limit": value})
    api = client.get(f"/documents/{PDF_ID}/similar", params={"limit": value})
    assert page.status_code < 500 and api.status_code < 500
    assert (page.status_code == 422) == (api.status_code == 422), value


def test_json_route_errors_for_browsers_are_pages_without_raw_input(browser: TestClient) -> None:
    # An unknown parameter named NUL on /search: the 422 page names it, printable.
    response = browser.get("/search?q=legevakt&%00=1&limit=%C2%B2")
    html_of(response, 422)
    assert "\x00" not in response.text and "limit" in response.text


def test_briefing_format_is_checked_for_pages_and_json(
    browser: TestClient, client: TestClient
) -> None:
    page = browser.get("/briefing", params={"format": "pdf²"})
    assert page.status_code == 422 and "format" in page.text
    assert page.headers["content-type"].startswith("text/html")
    api = client.get("/briefing", params={"format": "pdf²"})
    assert api.status_code == 422 and "format" in api.json()["error"]
