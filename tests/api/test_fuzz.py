"""Fuzzing every route: the OpenAPI ones with schemathesis, the HTML pages with hypothesis.

Both run in-process over the fake-embedder fixture index, with a bounded number of examples
(the whole module stays well under a minute). Asserts: no 5xx, well-formed responses, and — on a
real uvicorn server over one keep-alive connection — that a bad value never closes the
connection (a 500 did: uvicorn answers it with `Connection: close`).
"""

from __future__ import annotations

import http.client
import json
import string
from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import BROWSER_ACCEPT, PDF_URL, doc_id
from tests.servers import serve_app

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same examples on every run: a failure reproduces
    database=None,
)

# -- the OpenAPI routes -----------------------------------------------------------------------


def test_openapi_routes_never_answer_5xx(app: FastAPI) -> None:
    # Each operation is driven by its own hypothesis run (schemathesis' pytest plugin does not
    # work with pytest 9's fixtures; the strategies are the same).
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert {op.path for op in operations} >= {"/search", "/compare", "/briefing"}
    for operation in operations:

        @settings(
            max_examples=30,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        @given(case=operation.as_strategy())
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(
                checks=[
                    not_a_server_error,
                    status_code_conformance,
                    content_type_conformance,
                    response_schema_conformance,
                ]
            )

        run()


# -- the HTML routes --------------------------------------------------------------------------

PDF_ID = doc_id(PDF_URL)
HTML_ROUTES = ["/", "/compare", f"/documents/{PDF_ID}", f"/similar/{PDF_ID}", "/briefing"]
PARAMS = ["q", "page", "limit", "from_page", "region", "type", "date_from", "date_to", "mode"]
PARAMS += ["pick", "from", "format"]

# The odd values that broke or might break parsing: Unicode digits (`²` passes str.isdigit()
# and fails int()), huge numbers, NUL and other controls, over-long values, dates.
ODD = st.sampled_from(
    [
        "²",
        "٣",
        "１２",
        "1" * 5000,
        "-1",
        "0",
        "1e3",
        "1.5",
        " 2 ",
        "\x00",
        "a\x00b",
        "\ud800",
        "\ufffe",
        "x" * 3000,
        "31.02.2020",
        "2020-13-01",
        "99999-01-01",
        "orkdal",
        "dense",
        "lexical",
        "news",
        f"{PDF_ID}:1",
        f"{PDF_ID}:{'9' * 30}",
        "md",
        "html",
        "compare",
    ]
)
VALUE = st.one_of(ODD, st.text(max_size=40), st.integers(-(10**30), 10**30).map(str))
PAIRS = st.lists(st.tuples(st.sampled_from(PARAMS), VALUE), max_size=6)
RAW_ESCAPES = st.lists(
    st.sampled_from(["%", "%Z", "%ZZ", "%C3", "%ED%A0%80", "%FF%FE", "%00", "%2", "&", "=", ";"]),
    max_size=4,
)


def encode(value: str) -> str:
    # A lone surrogate cannot be sent as UTF-8: send the bytes a broken client would.
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def query_string(pairs: list[tuple[str, str]], raw: list[str]) -> str:
    parts = [f"{name}={encode(value)}" for name, value in pairs]
    return "&".join(parts + raw)


class WellFormed(HTMLParser):
    """Collects the start tags, so a page can be checked for its main structure."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


def assert_well_formed(response: http.client.HTTPResponse | object, body: bytes) -> None:
    content_type = response.headers["content-type"]  # type: ignore[union-attr]
    text = body.decode("utf-8")  # raises on a broken encoding
    if content_type.startswith("text/html"):
        assert "\x00" not in text
        assert text.startswith("<!doctype html>") and text.rstrip().endswith("</html>")
        parser = WellFormed()
        parser.feed(text)
        parser.close()
        assert "main" in parser.tags and "h1" in parser.tags
    elif content_type.startswith("application/json"):
        json.loads(text)
    else:
        assert content_type.startswith("text/markdown"), content_type


@pytest.fixture(scope="module")
def browser_client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, headers={"Accept": BROWSER_ACCEPT}, raise_server_exceptions=False) as c:
        yield c


@FUZZ
@given(route=st.sampled_from(HTML_ROUTES), pairs=PAIRS, raw=RAW_ESCAPES)
def test_html_routes_never_answer_5xx(
    browser_client: TestClient, route: str, pairs: list[tuple[str, str]], raw: list[str]
) -> None:
    url = f"{route}?{query_string(pairs, raw)}"
    response = browser_client.get(url)
    assert response.status_code < 500, url
    assert response.status_code in (200, 404, 422), url
    assert_well_formed(response, response.content)


PATH_SEGMENT = st.one_of(
    st.text(alphabet=string.hexdigits.lower(), min_size=1, max_size=80),
    st.text(max_size=70).map(encode),
    st.sampled_from(["%ED%A0%80", "%00", "%2F", "..", "%ZZ", "%"]),
)


@FUZZ
@given(segment=PATH_SEGMENT, route=st.sampled_from(["/documents/", "/similar/"]))
def test_html_document_paths_never_answer_5xx(
    browser_client: TestClient, segment: str, route: str
) -> None:
    response = browser_client.get(route + segment)
    assert response.status_code in (200, 404, 422), route + segment
    assert_well_formed(response, response.content)


# -- the connection stays usable --------------------------------------------------------------


@pytest.fixture(scope="module")
def live_server(app: FastAPI) -> Iterator[tuple[str, int]]:
    with serve_app(app, log_level="critical") as url:
        host, port = url.removeprefix("http://").split(":")
        yield host, int(port)


@pytest.fixture(scope="module")
def connection(live_server: tuple[str, int]) -> Iterator[http.client.HTTPConnection]:
    conn = http.client.HTTPConnection(*live_server, timeout=30)
    yield conn
    conn.close()


def get_on(conn: http.client.HTTPConnection, url: str, accept: str) -> tuple[object, bytes]:
    """GET on the one kept-alive connection; fails if the server closed it."""
    if conn.sock is None:
        conn.connect()
    before = conn.sock
    conn.request("GET", url, headers={"Accept": accept})
    response = conn.getresponse()
    body = response.read()
    assert conn.sock is before, f"{url}: the server closed the connection"
    assert not response.will_close, f"{url}: answered with Connection: close"
    return response, body


@pytest.mark.parametrize(
    "url",
    [
        "/?q=legevakt&page=%C2%B2",  # ² in page, limit, from_page: observation 6
        "/compare?q=legevakt&limit=%C2%B2",
        f"/documents/{PDF_ID}?from_page=%C2%B2",
        "/?q=legevakt&page=" + "9" * 5000,
        "/search?q=legevakt&limit=%C2%B2",
    ],
)
def test_a_bad_value_keeps_the_connection_open(
    connection: http.client.HTTPConnection, url: str
) -> None:
    response, body = get_on(connection, url, BROWSER_ACCEPT)
    assert response.status == 422  # type: ignore[attr-defined]
    assert_well_formed(response, body)
    again, _ = get_on(connection, "/health", "application/json")
    assert again.status == 200  # type: ignore[attr-defined]


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(route=st.sampled_from([*HTML_ROUTES, "/search"]), pairs=PAIRS, raw=RAW_ESCAPES)
def test_fuzzed_requests_on_one_keep_alive_connection(
    live_server: tuple[str, int], route: str, pairs: list[tuple[str, str]], raw: list[str]
) -> None:
    # One connection per example: hypothesis cannot share the module fixture's state safely.
    conn = http.client.HTTPConnection(*live_server, timeout=30)
    try:
        url = f"{route}?{query_string(pairs, raw)}"
        for accept in (BROWSER_ACCEPT, "application/json"):
            response, body = get_on(conn, url, accept)
            assert response.status < 500, url  # type: ignore[attr-defined]
            assert_well_formed(response, body)
    finally:
        conn.close()
