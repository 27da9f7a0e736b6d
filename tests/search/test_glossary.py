"""The health-care vocabulary: glossary parsing, variants, suspended compounds, mined pairs,
and abbreviation ↔ full-form queries finding their pages through the lexical run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from samsok.search.errors import GlossaryError
from samsok.search.index import (
    IndexConfig,
    LexicalConfig,
    LexicalIndex,
    RelevanceFloor,
    SearchIndex,
)
from samsok.search.index.lexical import _matches, _overstemmed
from samsok.search.schemas import SearchMode, SearchRequest
from samsok.search.text import (
    NorwegianAnalyzer,
    default_glossary,
    load_glossary,
    mine_abbreviations,
    suspended_compounds,
    variants,
)

from tests.fakes import HashingEmbedder
from tests.search.test_index import make_doc, page_chunker

# -- parsing ---------------------------------------------------------------------------------


def test_builtin_glossary_covers_the_core_abbreviations() -> None:
    glossary = default_glossary()
    forms = {form.casefold() for group in glossary.groups for form in group.forms}
    for abbr in (
        "kad",
        "øhd",
        "ø-hjelp",
        "dms",
        "lms",
        "bup",
        "dps",
        "iplos",
        "kostra",
        "plo",
        "ks",
        "hf",
        "sio",
        "fastlege",
        "allmennlege",
        "helsesøster",
        "helsesykepleier",
    ):
        assert abbr in forms, abbr
    kad = next(g for g in glossary.groups if "KAD" in g.forms)
    assert "kommunale akutte døgnplasser" in kad.forms and "ØHD" in kad.forms
    assert glossary.word_variants["kva"] == "hva"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[group]]\nforms = [\n", "not valid TOML"),
        ('[[group]]\nforms = ["KAD"]\n', "group 1 needs `forms`"),
        ("[variants]\nkva = 3\n", "variants"),
        (None, "cannot read"),  # no file at all
    ],
)
def test_glossary_file_errors_are_clear(tmp_path: Path, text: str | None, message: str) -> None:
    bad = tmp_path / "bad.toml"
    if text is not None:
        bad.write_text(text, "utf-8")
    with pytest.raises(GlossaryError, match=message):
        load_glossary(bad)


def test_custom_glossary_parses_groups_and_notes(tmp_path: Path) -> None:
    path = tmp_path / "g.toml"
    path.write_text(
        '[[group]]\nnote = "x"\nforms = ["ABC", "alfa beta"]\n[variants]\n"heime" = "hjemme"\n',
        "utf-8",
    )
    glossary = load_glossary(path)
    assert glossary.groups[0].forms == ("ABC", "alfa beta") and glossary.groups[0].note == "x"
    assert glossary.word_variants == {"heime": "hjemme"}


# -- variants, suspended compounds, mining -------------------------------------------------


@pytest.mark.parametrize(
    ("word", "other"),
    [
        ("kommunane", "kommunene"),
        ("kommunene", "kommunane"),
        ("tenester", "tjenester"),
        ("tjenester", "tenester"),
        ("sjukeheim", "sykehjem"),
        ("brukarar", "brukere"),
        ("kva", "hva"),
    ],
)
def test_nynorsk_bokmaal_variants(word: str, other: str) -> None:
    assert other in variants(word, default_glossary().word_variants)


def test_suspended_compounds_are_completed() -> None:
    parts = {"omsorgstjenester": ("omsorgs", "tjenester"), "tjenester": ()}

    def split(word: str) -> tuple[str, ...]:
        return parts.get(word, ())

    assert suspended_compounds("helse- og omsorgstjenester", split) == ["helsetjenester"]
    assert suspended_compounds("pleie-, rehabiliterings- og omsorgstjenester", split) == [
        "pleietjenester",
        "rehabiliteringstjenester",
    ]
    assert suspended_compounds("helse- og tjenester", split) == []  # no head to share
    assert suspended_compounds("helse og omsorg", split) == []


def test_abbreviations_are_mined_from_parentheses() -> None:
    pairs = mine_abbreviations(
        [
            "et distriktsmedisinsk senter (DMS) for Tydal",
            "Samhandlingsreformen i Orkdalsregionen (SiO) er et prosjekt",
            "Rapport i Værnesregionen (PDF)",  # no run of words spells PDF
            "Helse Midt-Norge (HMN) betaler",
        ]
    )
    assert ("DMS", "distriktsmedisinsk senter") in pairs
    assert ("SiO", "Samhandlingsreformen i Orkdalsregionen") in pairs
    assert ("HMN", "Helse Midt-Norge") in pairs
    assert not any(abbr == "PDF" for abbr, _ in pairs)


def test_expansion_lists_what_was_added() -> None:
    lexical = LexicalIndex()
    expanded = lexical.expand("KAD i Orkdal")
    assert "kommunale akutte døgnplasser" in expanded.also and "ØHD" in expanded.also
    assert (
        "kommunale akutte døgnplasser"
        not in LexicalIndex(LexicalConfig(expand=False)).expand("KAD i Orkdal").also
    )
    # A glossary form whose stem is only a prefix of the query word is no match.
    assert "kommuneoverlege" not in lexical.expand("kva kostar det for kommunane").also
    assert lexical.expand("felles legevakt for kommunene").also == ()
    assert "kommunale akutte døgnplasser" in lexical.expand("KAD-plassene").also


def test_a_mined_abbreviation_matches_whole_words_only() -> None:
    """A pair mined from the corpus may abbreviate as an ordinary word ("BIL"): "lastebil" is
    no mention of it, though the decompounder splits off "bil"; the word itself and a hyphen
    piece are. A hand-written abbreviation still matches as any compound part."""
    lexical = LexicalIndex()
    lexical._set_glossary([("BIL", "Bilimportørenes Landsforening")])
    assert lexical.glossary.groups[-1].mined and not lexical.glossary.groups[0].mined
    assert lexical.expand("Hvem krasjet med en lastebil?").also == ()
    assert lexical.expand("Hva mener BIL om avgiftene?").also == ("Bilimportørenes Landsforening",)
    assert lexical.expand("BIL-messen i Lillestrøm").also == ("Bilimportørenes Landsforening",)
    assert "kommunale akutte døgnplasser" in lexical.expand("nye KAD-senger").also


def _scan_hits(lexical: LexicalIndex, query: str) -> set[tuple[int, str]]:
    """(group, form) the query uses, by trying every glossary form at every word."""
    terms = lexical.analyzer.query_terms(query)
    keys = [t.keys for t in terms]
    hits = set()
    for g, form, words in lexical._analysed_forms().items:
        for i in range(len(terms) - len(words) + 1):
            if all(_matches(words[k], terms[i + k], keys[i + k]) for k in range(len(words))):
                hits.add((g, form))
    return hits


def test_glossary_lookup_finds_what_a_full_scan_finds() -> None:
    """`expand` looks glossary forms up by their first word instead of trying every form at
    every query word: for every form alone, inflected, as a compound part and two at a time,
    the expansions are exactly the other forms of the groups a full scan finds used."""
    lexical = LexicalIndex()
    forms = [f for g in lexical.glossary.groups for f in g.forms]
    queries = [
        *forms,
        *(f"{f}ene i kommunen" for f in forms),
        *(f"ny {f}-plass" for f in forms),
        *(f"{a} og {b}" for a, b in zip(forms, forms[5:], strict=False)),
    ]
    used_groups = 0
    for query in queries:
        hits = _scan_hits(lexical, query)
        used = {g for g, _ in hits}
        used_groups += bool(used)
        terms = lexical.analyzer.query_terms(query)
        matched = lexical._glossary_matches(lexical._form_hits(terms, [t.keys for t in terms]))
        expected = [
            form
            for g, form, words in lexical._analysed_forms().items
            if g in used and (g, form) not in hits and not any(_overstemmed(w) for w in words)
        ]
        assert [form for form, _ in matched] == expected, query
    assert used_groups > len(forms)  # the queries did use the glossary


# -- queries through the index (fake embedder: lexical mode is the point) ---------------------

PAGES = {
    "https://x.no/kad": "Seks kommunale akutte døgnplasser ved sjukehuset åpner i mars.",
    "https://x.no/dms": "Senteret skal ha 12 senger. DMS-et ligger i Stjørdal.",
    "https://x.no/helsesoster": "Helsesøstrene har felles vikarordning og fagnettverk.",
    "https://x.no/nynorsk": "Tenestene i kommunane blir samla i ei eining.",
    "https://x.no/hmn": "Avtalen med Helse Midt-Norge (HMN) er signert.",
    "https://x.no/hmn2": "HMN dekker utgiftene til spesialistene.",
    "https://x.no/suspended": "Samarbeid om helse- og omsorgstjenester mellom kommunene.",
    "https://x.no/other": "Brøyting av veier og vannforsyning i kommunen.",
    # Words the decompounder learns compound parts from (omsorg|s|tjenester).
    "https://x.no/words": "God omsorg gir gode tjenester. Omsorg og tjenester for eldre.",
}


@pytest.fixture
def index(tmp_path: Path) -> Iterator[SearchIndex]:
    idx = SearchIndex(tmp_path / "data", HashingEmbedder(), page_chunker, IndexConfig())
    idx.upsert_many([make_doc(url, text) for url, text in PAGES.items()])
    idx.reindex()  # fit the decompounder and mine abbreviations, as after a crawl
    yield idx
    idx.close()


def _urls(index: SearchIndex, q: str) -> list[str]:
    response = index.search(SearchRequest(q=q, mode=SearchMode.LEXICAL, limit=10))
    return [hit.url for hit in response.results]


@pytest.mark.parametrize(
    ("query", "url"),
    [
        ("KAD", "https://x.no/kad"),
        ("ØHD-plasser", "https://x.no/kad"),
        ("distriktsmedisinsk senter", "https://x.no/dms"),
        ("helsesykepleier", "https://x.no/helsesoster"),
        ("tjenestene i kommunene", "https://x.no/nynorsk"),
        ("helse midt-norge", "https://x.no/hmn2"),  # mined pair HMN ↔ Helse Midt-Norge
        ("helsetjenester", "https://x.no/suspended"),
    ],
)
def test_other_wordings_find_the_page(index: SearchIndex, query: str, url: str) -> None:
    assert url in _urls(index, query)


def test_expansion_does_not_widen_to_unrelated_pages(index: SearchIndex) -> None:
    assert _urls(index, "KAD") == ["https://x.no/kad"]
    assert "https://x.no/other" not in _urls(index, "helsesykepleier")


def test_response_carries_the_expansions(index: SearchIndex) -> None:
    response = index.search(SearchRequest(q="KAD", mode=SearchMode.HYBRID))
    assert "kommunale akutte døgnplasser" in response.expansions


def test_floor_cuts_off_topic_queries(tmp_path: Path) -> None:
    """With a floor, a query whose words no page has returns (and counts) at most a handful."""
    floor = RelevanceFloor(
        dense=0.9, dense_known=0.9, min_coverage=1.0, dense_lexical=0.2, min_evidence=0.5
    )
    config = IndexConfig(floor=floor)
    with SearchIndex(tmp_path / "f", HashingEmbedder(), page_chunker, config) as idx:
        idx.upsert_many([make_doc(url, text) for url, text in PAGES.items()])
        off = idx.search(SearchRequest(q="fotballresultater Rosenborg"))
        assert off.total <= 3 and len(off.results) <= 3
        on = idx.search(SearchRequest(q="akutte døgnplasser"))
        assert on.results and on.results[0].url == "https://x.no/kad"
        assert on.total < len(PAGES)
    unfloored = IndexConfig(relevance_floor=False)
    with SearchIndex(tmp_path / "f", HashingEmbedder(), page_chunker, unfloored) as idx:
        assert idx.search(SearchRequest(q="fotballresultater Rosenborg")).total == len(PAGES)


def test_analyzer_is_unchanged_for_plain_words() -> None:
    # Expansion adds alternatives; it never drops the query's own words.
    lexical = LexicalIndex()
    match = lexical.expand("sykehjem i Orkdal").match
    for stem in (t.stem for t in NorwegianAnalyzer().query_terms("sykehjem i Orkdal")):
        assert f'"{stem}"' in match
    assert np.isfinite(len(match))
