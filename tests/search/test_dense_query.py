"""The dense run's query text: abbreviations the glossary spells out are written out, every
other query embeds exactly as typed (issue 9; `samsok.search.index.dense_query`)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from samsok.api.cli import CliDeps, cli
from samsok.search.embedding.batching import QueryCache, embed_with_cache
from samsok.search.index import (
    IndexConfig,
    LexicalConfig,
    LexicalIndex,
    SearchIndex,
    dense_text_for,
)
from samsok.search.index.dense_query import full_form, is_abbreviation
from samsok.search.schemas import SearchMode, SearchRequest
from samsok.search.text import default_glossary

from tests.fakes import HashingEmbedder, page_chunker
from tests.search.test_glossary import make_doc

KAD_GROUP = next(g.forms for g in default_glossary().groups if "KAD" in g.forms)


@pytest.mark.parametrize(
    ("form", "forms", "full"),
    [
        ("KAD", KAD_GROUP, "kommunale akutte døgnplasser"),
        ("ØHD", KAD_GROUP, "øyeblikkelig hjelp døgn"),  # its own expansion, not the first form
        ("ø-hjelp", ("ø-hjelp", "øyeblikkelig hjelp", "øhj"), "øyeblikkelig hjelp"),
        ("øhj", ("ø-hjelp", "øyeblikkelig hjelp", "øhj"), "øyeblikkelig hjelp"),
        ("HMN", ("HMN", "Helse Midt-Norge"), "Helse Midt-Norge"),
        ("NAV", ("NAV", "arbeids- og velferdsforvaltningen"), None),  # does not spell it out
        ("jordmor", ("jordmor", "jordmødre", "jordmortjeneste"), None),  # not an abbreviation
        ("fastlege", ("fastlege", "allmennlege"), None),
    ],
)
def test_full_form_spells_the_abbreviation_out(
    form: str, forms: Sequence[str], full: str | None
) -> None:
    assert full_form(form, forms) == full


def test_what_counts_as_an_abbreviation() -> None:
    assert all(map(is_abbreviation, ["KAD", "SiO", "KoRus", "ø-hjelp", "øhj"]))
    assert not any(map(is_abbreviation, ["jordmor", "pleie og omsorg", "sykehjem", ""]))


@pytest.fixture
def lexical() -> LexicalIndex:
    lex = LexicalIndex()
    # As after a refit that mined "Bilimportørenes Landsforening (BIL)" and "(HMN)".
    lex._set_glossary([("BIL", "Bilimportørenes Landsforening"), ("HMN", "Helse Midt-Norge")])
    return lex


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("KAD i Værnes", "kommunale akutte døgnplasser i Værnes"),
        ("kad i værnes", "kommunale akutte døgnplasser i værnes"),
        (
            "ØHD-senger ved DMS i Stjørdal",
            "øyeblikkelig hjelp døgn-senger ved distriktsmedisinsk senter i Stjørdal",
        ),
        ("avtalen med HMN", "avtalen med Helse Midt-Norge"),  # a mined pair
        ("BIL-messen", "Bilimportørenes Landsforening-messen"),
        ("Hvor mange PLO-meldinger?", "Hvor mange pleie og omsorg-meldinger?"),
    ],
)
def test_abbreviations_are_written_out(lexical: LexicalIndex, query: str, text: str) -> None:
    dense = dense_text_for(query, lexical)
    assert dense.text == text
    assert dense.written_out


@pytest.mark.parametrize(
    "query",
    [
        "hvordan søke om plass på sykehjem",  # no glossary form
        "helsesøster på skolen",  # a glossary synonym, not an abbreviation
        "kommunale akutte døgnplasser i Værnes",  # already the full form
        "KAD (kommunale akutte døgnplasser)",  # both: nothing to add
        "Hvem krasjet med en lastebil?",  # "bil" is a compound part, not the word BIL
        "bil til hjemmesykepleien",  # a mined abbreviation counts only in capitals
        "kva tilbod har kommunane",  # Nynorsk stays as written
        "NAV-kontoret",  # no form spells NAV out
    ],
)
def test_other_queries_embed_exactly_as_typed(lexical: LexicalIndex, query: str) -> None:
    dense = dense_text_for(query, lexical)
    assert dense.text == query
    assert dense.written_out == ()


def test_nothing_is_written_out_without_query_expansion() -> None:
    assert dense_text_for("KAD i Værnes", LexicalIndex(LexicalConfig(expand=False))).text == (
        "KAD i Værnes"
    )


# -- through the index: what reaches the embedder, and what it finds -----------------------------

PAGES = {
    "https://x.no/kad": "Seks kommunale akutte døgnplasser åpner i mars ved sjukehuset.",
    "https://x.no/legevakt": "Legevakt i Værnes: legevakten i Værnes har åpent hele døgnet.",
    "https://x.no/broyting": "Brøyting av veier og vannforsyning i kommunen.",
}


class CachingEmbedder(HashingEmbedder):
    """The hashing embedder behind the product's query cache, recording what it embeds."""

    def __init__(self) -> None:
        super().__init__()
        self.query_cache = QueryCache(16)
        self.embedded: list[str] = []

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        def model(missing: list[str]) -> np.ndarray:
            self.embedded.extend(missing)
            return super(CachingEmbedder, self).embed_queries(missing)

        return embed_with_cache(texts, self.query_cache, model)


def _index(path: Path, config: IndexConfig) -> SearchIndex:
    idx = SearchIndex(path, CachingEmbedder(), page_chunker, config)
    idx.upsert_many([make_doc(url, text) for url, text in PAGES.items()])
    idx.commit()
    return idx


@pytest.fixture
def index(tmp_path: Path) -> Iterator[SearchIndex]:
    with _index(tmp_path / "on", IndexConfig(dense_glossary=True)) as idx:
        yield idx


def _dense_urls(index: SearchIndex, q: str) -> list[str]:
    response = index.search(SearchRequest(q=q, mode=SearchMode.DENSE, limit=3))
    return [hit.url for hit in response.results]


def test_an_abbreviation_query_embeds_its_full_form_and_finds_the_page(
    index: SearchIndex,
) -> None:
    assert _dense_urls(index, "KAD i Værnes")[0] == "https://x.no/kad"
    embedder = index.embedder
    assert isinstance(embedder, CachingEmbedder)
    assert embedder.embedded == ["kommunale akutte døgnplasser i Værnes"]


def test_without_dense_glossary_the_raw_query_is_embedded(tmp_path: Path) -> None:
    """The same search with the setting off: the raw text, and the page sharing the query's
    other words wins (the test above can fail)."""
    with _index(tmp_path / "off", IndexConfig(dense_glossary=False)) as idx:
        assert _dense_urls(idx, "KAD i Værnes")[0] == "https://x.no/legevakt"
        assert isinstance(idx.embedder, CachingEmbedder)
        assert idx.embedder.embedded == ["KAD i Værnes"]


def test_an_untouched_query_embeds_the_raw_text(index: SearchIndex) -> None:
    index.search(SearchRequest(q="legevakt om natta", mode=SearchMode.HYBRID))
    assert isinstance(index.embedder, CachingEmbedder)
    assert index.embedder.embedded == ["legevakt om natta"]


def test_the_query_cache_keys_on_the_embedded_text(index: SearchIndex) -> None:
    """ "KAD i Værnes" and its written-out form embed the same text: one model call."""
    index.search(SearchRequest(q="KAD i Værnes", mode=SearchMode.HYBRID))
    index.search(SearchRequest(q="kommunale akutte døgnplasser i Værnes"))
    embedder = index.embedder
    assert isinstance(embedder, CachingEmbedder)
    assert embedder.embedded == ["kommunale akutte døgnplasser i Værnes"]
    assert embedder.query_cache.hits == 1
    assert "KAD i Værnes" not in embedder.query_cache._items


# -- `samsok search` ----------------------------------------------------------------------------


@pytest.mark.parametrize(("setting", "first"), [("true", "kad.html"), ("false", "legevakt.html")])
def test_samsok_search_finds_the_full_form_page_by_its_abbreviation(
    tmp_path: Path, setting: str, first: str
) -> None:
    files = tmp_path / "files"
    files.mkdir()
    for url, text in PAGES.items():
        name = url.rsplit("/", 1)[1]
        (files / f"{name}.html").write_text(
            f"<html><head><title>{name}</title></head><body><p>{text}</p></body></html>",
            "utf-8",
        )
    runner = CliRunner(
        env={
            "SAMSOK_DATA_DIR": str(tmp_path / "data"),
            "SAMSOK_MODEL_CACHE_DIR": str(tmp_path / "no-models"),
            "SAMSOK_LOG_LEVEL": "WARNING",
            "SAMSOK_DENSE_GLOSSARY": setting,
        }
    )
    deps = CliDeps(embedder_factory=lambda settings: HashingEmbedder())
    ingested = runner.invoke(cli, ["ingest", str(files), "--region", "vaernes"], obj=deps)
    assert ingested.exit_code == 0, ingested.output
    args = ["search", "KAD i Værnes", "--mode", "dense", "--json"]
    result = runner.invoke(cli, args, obj=deps)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["results"][0]["url"].endswith(first)
