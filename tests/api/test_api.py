"""The JSON API: shapes, OpenAPI, and a clear 422 (never a 500) for every bad parameter."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from samsok.api.routes import search_json
from samsok.search.index import SearchIndex
from samsok.search.schemas import SearchRequest, SearchResponse

from tests.api.conftest import HIT_KEYS


def test_search_returns_the_shared_response_model(client: TestClient) -> None:
    response = client.get("/search", params={"q": "jordmor", "limit": 3})
    assert response.status_code == 200
    body = SearchResponse.model_validate(response.json())
    assert 0 < len(body.results) <= 3
    first = response.json()["results"][0]
    assert first.keys() >= HIT_KEYS


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": ""}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "x" * 2000}, "q"),
        ({"q": "legevakt", "region": "trondheim"}, "region"),
        ({"q": "legevakt", "type": "blog"}, "type"),
        ({"q": "legevakt", "date_from": "15.02.2011"}, "date_from"),
        ({"q": "legevakt", "date_to": "2011-13-01"}, "date_to"),
        ({"q": "legevakt", "date_from": "2012-01-01", "date_to": "2011-01-01"}, "date_from"),
        ({"q": "legevakt", "limit": 0}, "limit"),
        ({"q": "legevakt", "limit": 10000}, "limit"),
        ({"q": "legevakt", "limit": "ti"}, "limit"),
        ({"q": "legevakt", "offset": -1}, "offset"),
        ({"q": "legevakt", "mode": "magic"}, "mode"),
        ({}, "q"),
    ],
)
def test_bad_search_parameters_get_a_clear_422(
    client: TestClient, params: dict, field: str
) -> None:
    response = client.get("/search", params=params, headers={"Accept": "application/json"})
    assert response.status_code == 422, response.text
    body = response.json()
    assert field in body["error"]
    assert body["detail"]


def test_stopword_only_lexical_query_is_a_422(client: TestClient) -> None:
    response = client.get("/search", params={"q": "og i på", "mode": "lexical"})
    assert response.status_code == 422
    assert "stop" in response.json()["error"]


def test_documents_and_similar(client: TestClient) -> None:
    hit = client.get("/search", params={"q": "legevakt"}).json()["results"][0]
    doc = client.get(f"/documents/{hit['doc_id']}", headers={"Accept": "application/json"})
    assert doc.status_code == 200
    assert doc.json()["url"] == hit["url"] and doc.json()["pages"]
    similar = client.get(
        f"/documents/{hit['doc_id']}/similar", params={"region": "orkdal", "limit": 2}
    )
    assert similar.status_code == 200
    results = similar.json()["results"]
    assert results and all(r["region"] == "orkdal" for r in results)
    assert hit["doc_id"] not in {r["doc_id"] for r in results}


def test_unknown_and_malformed_document_ids(client: TestClient) -> None:
    missing = client.get("/documents/0123456789abcdef", headers={"Accept": "application/json"})
    assert missing.status_code == 404
    assert "0123456789abcdef" in missing.json()["error"]
    malformed = client.get("/documents/../../etc", headers={"Accept": "application/json"})
    assert malformed.status_code in (404, 422)


def test_health_stats_and_openapi(client: TestClient) -> None:
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["documents"] > 0
    stats = client.get("/stats").json()
    assert stats["documents"] == health["documents"]
    assert set(stats["by_region"]) == {"orkdal", "vaernes"}
    spec = client.get("/openapi.json").json()
    for path in (
        "/search",
        "/documents/{doc_id}",
        "/documents/{doc_id}/similar",
        "/health",
        "/stats",
    ):
        assert path in spec["paths"]


SAME_BYTES_CASES = [
    {"q": "jordmor", "limit": 3},
    {"q": "legevakt om natten", "mode": "lexical"},
    {"q": "rehabilitering", "mode": "dense", "region": "orkdal"},
    {"q": "samhandling kommune", "offset": 2, "limit": 2},
    {"q": 'æøå «sitat» "quoted" </script>'},
]


@pytest.mark.parametrize("params", SAME_BYTES_CASES)
def test_search_json_is_what_fastapi_renders_for_the_model(
    client: TestClient, fixture_index: SearchIndex, params: dict
) -> None:
    """/search serialises the core's model itself (no second validation hop): the same
    answer, and the same bytes FastAPI's `response_model` rendering gives for it."""
    response = client.get("/search", params=params)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    expected = fixture_index.search(SearchRequest.model_validate(params))
    body = response.json()
    assert body.pop("took_ms") >= 0
    assert body == expected.model_dump(mode="json", exclude={"took_ms"})

    reference = FastAPI()

    @reference.get("/r", response_model=SearchResponse)
    def rendered() -> SearchResponse:
        return expected

    with TestClient(reference) as ref:
        assert search_json(expected).body == ref.get("/r").content


def test_search_keeps_its_response_model_in_openapi(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in ("/search", "/documents/{doc_id}/similar"):
        ok = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        assert ok["schema"] == {"$ref": "#/components/schemas/SearchResponse"}
