"""Orkdal | Værnes: the core function, the JSON route and the page."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from samsok.ingest.documents import DocType, Region
from samsok.search.compare import compare
from samsok.search.index import SearchIndex
from samsok.search.schemas import SearchMode, SearchRequest

from tests.api.conftest import html_of, page_showing


def test_compare_answers_once_per_region(fixture_index: SearchIndex) -> None:
    result = compare(fixture_index, SearchRequest(q="legevakt", limit=3))
    assert [c.region for c in result.columns] == [Region.ORKDAL, Region.VAERNES]
    assert [c.name for c in result.columns] == ["Orkdalsregionen", "Værnesregionen"]
    for column in result.columns:
        assert 0 < len(column.results) <= 3
        assert {hit.region for hit in column.results} == {column.region}
        assert column.total >= len(column.results)
    orkdal, vaernes = result.columns
    assert orkdal.results[0].title == "Legevakt i Orkdalsregionen"
    assert vaernes.results[0].title == "Interkommunal legevakt i Værnesregionen"
    assert orkdal.keyword_matches and vaernes.keyword_matches


def test_region_in_the_request_is_ignored(fixture_index: SearchIndex) -> None:
    request = SearchRequest.model_validate({"q": "legevakt", "region": "orkdal"})
    assert all(c.results for c in compare(fixture_index, request).columns)


def test_filters_apply_to_both_columns(fixture_index: SearchIndex) -> None:
    request = SearchRequest.model_validate({"q": "utskrivning", "type": "report"})
    result = compare(fixture_index, request)
    assert result.type is DocType.REPORT
    for column in result.columns:
        assert column.results and {h.type for h in column.results} == {DocType.REPORT}


def test_keyword_count_tells_when_a_region_does_not_name_the_query(
    fixture_index: SearchIndex,
) -> None:
    # Only Værnes has a jordmor story; dense retrieval still fills the Orkdal column.
    result = compare(fixture_index, SearchRequest(q="jordmortjeneste"))
    orkdal, vaernes = result.columns
    assert orkdal.results and orkdal.keyword_matches == 0
    assert vaernes.keyword_matches == 1
    lexical = compare(fixture_index, SearchRequest(q="jordmortjeneste", mode=SearchMode.LEXICAL))
    assert lexical.columns[0].results == [] and lexical.columns[0].keyword_matches == 0


def test_compare_json(client: TestClient) -> None:
    response = client.get("/compare", params={"q": "legevakt", "limit": "2"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["query"] == "legevakt" and body["limit"] == 2
    assert [c["region"] for c in body["columns"]] == ["orkdal", "vaernes"]
    assert all(len(c["results"]) == 2 for c in body["columns"])
    assert {"keyword_matches", "total", "label", "name"} <= body["columns"][0].keys()


def test_compare_json_rejects_bad_input(client: TestClient) -> None:
    assert client.get("/compare").status_code == 422
    bad_date = client.get("/compare", params={"q": "legevakt", "date_from": "31.02.2020"})
    assert bad_date.status_code == 422 and "date_from" in bad_date.json()["error"]
    assert client.get("/compare", params={"q": "x", "limit": "500"}).status_code == 422


def test_compare_page_shows_both_columns(browser: TestClient) -> None:
    headings = (
        'id="kolonne-orkdal">Orkdalsregionen</h2>',
        'id="kolonne-vaernes">Værnesregionen</h2>',
    )
    html = page_showing(
        browser, "/compare", {"q": "legevakt"}, *headings, "Resultater for «legevakt»"
    )
    assert html.count('class="column__item"') == 10  # five per region
    # Each Orkdal hit offers the same search in Værnes and vice versa.
    orkdal, vaernes = html.split('id="kolonne-vaernes"')
    assert re.search(r'href="/similar/[0-9a-f]+\?region=vaernes&amp;q=legevakt"', orkdal)
    assert "?region=orkdal" not in orkdal.split('class="columns"')[1]
    assert re.search(r'href="/similar/[0-9a-f]+\?region=orkdal&amp;q=legevakt"', vaernes)
    assert "Se tilsvarende erfaring i Værnesregionen" in orkdal
    assert 'name="limit" value="10"' in html  # more results per region


def test_compare_page_notes_a_region_without_match(browser: TestClient) -> None:
    html = browser.get("/compare", params={"q": "jordmortjeneste"}).text
    assert "Ingen dokumenter i Orkdalsregionen nevner søkeordene" in html
    filtered = browser.get(
        "/compare", params={"q": "legevakt", "type": "page", "date_from": "2020-01-01"}
    ).text
    assert "Ingen treff i Orkdalsregionen med disse filtrene" in filtered
    assert "Interkommunal legevakt i Værnesregionen" in filtered


def test_compare_page_explains_bad_dates(browser: TestClient) -> None:
    html = html_of(browser.get("/compare", params={"q": "legevakt", "date_to": "2020-13-01"}), 422)
    assert "«2020-13-01» er ikke en gyldig dato" in html
    assert 'value="legevakt"' in html
    assert 'id="region"' not in html  # no region filter: both are always shown


def test_compare_page_without_query_explains_itself(browser: TestClient) -> None:
    html = browser.get("/compare").text
    assert "Slik sammenligner du" in html


def test_openapi_documents_compare_and_briefing(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert "/compare" in schema["paths"] and "/briefing" in schema["paths"]
    compare_200 = schema["paths"]["/compare"]["get"]["responses"]["200"]["content"]
    assert compare_200["application/json"]["schema"]["$ref"].endswith("/CompareResponse")
    assert "text/html" in compare_200
    briefing_200 = schema["paths"]["/briefing"]["get"]["responses"]["200"]["content"]
    assert "text/markdown" in briefing_200
    components = schema["components"]["schemas"]
    assert components["RegionColumn"]["properties"]["keyword_matches"]["description"]
    assert components["BriefingItem"]["properties"]["page_url"]["description"]
    assert "/" not in schema["paths"] and not any(
        p.startswith("/similar/") for p in schema["paths"]
    )
