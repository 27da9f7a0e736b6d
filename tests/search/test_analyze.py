"""Norwegian analyzer: folding, stemming, stop words, compounds, and safe FTS5 queries."""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
from samsok.search.errors import SearchError
from samsok.search.text import (
    AnalyzerConfig,
    Decompounder,
    DecompounderConfig,
    EmptyQueryError,
    Normalizer,
    NorwegianAnalyzer,
    QueryTerm,
    fold,
    fts5_query,
)

# A small municipal vocabulary: parts occur on their own, compounds are rarer than their parts.
VOCABULARY = Counter(
    {
        "jordmor": 12,
        "jordmødre": 4,
        "tjeneste": 30,
        "tjenesten": 20,
        "tjenester": 25,
        "legevakt": 15,
        "legevakten": 10,
        "samarbeid": 40,
        "samarbeidet": 10,
        "samhandling": 9,
        "reformen": 6,
        "reform": 5,
        "barn": 20,
        "hage": 5,
        "sykehus": 50,
        "syke": 8,
        "hus": 9,
        "jord": 30,
        "mor": 40,
        "lag": 10,
        "ene": 10,
        "for": 500,
        "sam": 3,
        "arbeid": 60,
    }
)


@pytest.fixture(scope="module")
def decompounder() -> Decompounder:
    return Decompounder(VOCABULARY)


@pytest.fixture(scope="module")
def analyzer(decompounder: Decompounder) -> NorwegianAnalyzer:
    return NorwegianAnalyzer(AnalyzerConfig(), decompounder)


# -- folding and tokens ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("Tromsø", "tromsø"),
        ("ÆRØY Ålesund", "ærøy ålesund"),
        ("café", "cafe"),
        ("cafe\u0301", "cafe"),  # decomposed accent
        ("a\u030a", "å"),  # decomposed å stays å
        ("Müller", "muller"),
        ("Ärzte Höjd", "ærzte højd"),  # Swedish/Danish letters map onto æ/ø
        ("ﬁnans", "finans"),  # NFKC ligature
        ("helse\u00adtjeneste", "helsetjeneste"),  # soft hyphen from a PDF
        ("Straße", "strasse"),
    ],
)
def test_fold(raw: str, folded: str) -> None:
    assert fold(raw) == folded


def test_tokens_keep_spans_and_hyphen_pieces() -> None:
    text = "Nye KAD-senger i Tromsø."
    tokens = Normalizer().tokens(text)
    assert [text[t.start : t.end] for t in tokens] == ["Nye", "KAD-senger", "i", "Tromsø"]
    assert tokens[1].pieces == ("kad", "senger")
    assert tokens[1].joined == "kadsenger"


# -- analyzer -------------------------------------------------------------------------------


def test_case_and_accent_folding_in_terms(analyzer: NorwegianAnalyzer) -> None:
    assert analyzer.index_terms("TROMSØ") == analyzer.index_terms("Tromsø") == ["tromsø"]
    assert analyzer.index_terms("Tromsø") != analyzer.index_terms("Tromso")
    assert analyzer.index_terms("Café") == analyzer.index_terms("cafe")


@pytest.mark.parametrize(
    "forms", [("kommunene", "kommuner", "kommune", "kommunen"), ("tjenestene", "tjenester")]
)
def test_inflections_share_a_stem(analyzer: NorwegianAnalyzer, forms: tuple[str, ...]) -> None:
    stems = {tuple(analyzer.index_terms(form)) for form in forms}
    assert len(stems) == 1


def test_stopwords_dropped_bokmal_and_nynorsk(analyzer: NorwegianAnalyzer) -> None:
    assert analyzer.index_terms("og i det er ikke") == []
    assert analyzer.index_terms("eg ikkje") == []  # Nynorsk forms
    assert analyzer.index_terms("Hva er legevakt?") == ["legevakt"]
    keep = NorwegianAnalyzer(AnalyzerConfig(stopwords=False))
    assert "og" in keep.index_terms("legevakt og jordmor")


def test_nynorsk_forms_of_bokmal_stopwords_are_stopwords(analyzer: NorwegianAnalyzer) -> None:
    """Snowball lists "hvor", "fra", "bare", "uten", "selv" but not their Nynorsk forms, so
    "kor mange … frå" searched its function words as rare terms."""
    bokmal = analyzer.query_terms("hvor lenge fra legevakt bare uten selv disse")
    nynorsk = analyzer.query_terms("kor lenge frå legevakt berre utan sjølv desse")
    assert [t.stem for t in nynorsk] == [t.stem for t in bokmal] == ["leng", "legevakt"]
    # Words that are content words in Bokmål stay: "vert" (a host), "same" (a Sami).
    assert [t.stem for t in analyzer.query_terms("vert same")] == ["vert", "sam"]


def test_stemming_can_be_switched_off() -> None:
    plain = NorwegianAnalyzer(AnalyzerConfig(stem=False))
    assert plain.index_terms("Kommunene") == ["kommunene"]


def test_numbers_are_kept(analyzer: NorwegianAnalyzer) -> None:
    terms = analyzer.index_terms("Plan for 2030, fase 4, covid19")
    assert "2030" in terms
    assert "4" in terms
    assert "covid19" in terms


def test_hyphenated_compound_gives_parts_and_joined(analyzer: NorwegianAnalyzer) -> None:
    assert analyzer.index_terms("KAD-senger") == ["kadseng", "kad", "seng"]
    (term,) = analyzer.query_terms("KAD-senger")
    assert term == QueryTerm("kadsenger", "kadseng", ("kad", "seng"), hyphenated=True)
    # The solid spelling and the spaced one reach the same document.
    assert "kadseng" in analyzer.index_terms("kadsenger")


@pytest.mark.parametrize(
    ("query", "stem"),
    [("DMS-et", "dms"), ("HF-ene", "hf"), ("NAV-s", "nav"), ("KAD-ane", "kad"), ("KAD-en", "kad")],
)
def test_an_inflected_abbreviation_is_the_abbreviation(
    analyzer: NorwegianAnalyzer, query: str, stem: str
) -> None:
    """Norwegian inflects an abbreviation after a hyphen: "DMS-et" is the word "DMS" (and a
    text writing either is indexed under its stem), not "dmset" nor "HF" AND "ene"."""
    (term,) = analyzer.query_terms(query)
    assert (term.stem, term.parts) == (stem, ())
    assert stem in analyzer.index_terms(query) and stem in analyzer.index_terms(query[: len(stem)])


@pytest.mark.parametrize("word", ["i-land", "dms-et", "ØHD-senger", "A-hus", "Vitamin-A"])
def test_other_hyphenated_words_are_not_taken_for_inflected_abbreviations(
    analyzer: NorwegianAnalyzer, word: str
) -> None:
    """Only capitals before a noun ending: a lower-case piece, a compound or a one-letter
    head keeps its joined stem."""
    (term,) = analyzer.query_terms(word)
    assert term.stem == analyzer.query_terms(word.replace("-", ""))[0].stem


def test_terms_are_single_fts5_tokens(analyzer: NorwegianAnalyzer) -> None:
    text = "«Legevakt-samarbeid» (KAD/DMS) – 1½ år; e-post: post@kommune.no! <b>Tromsø</b>"
    for term in analyzer.index_terms(text):
        assert re.fullmatch(r"[^\W_]+", term), term


# -- decompounding ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "parts"),
    [
        ("jordmortjeneste", ("jordmor", "tjeneste")),  # fewest parts, not jord|mor|tjeneste
        ("legevaktsamarbeid", ("legevakt", "samarbeid")),
        ("samhandlingsreformen", ("samhandling", "reformen")),  # linking "s"
        ("barnehage", ("barn", "hage")),  # linking "e"
    ],
)
def test_decompounder_splits(decompounder: Decompounder, word: str, parts: tuple[str, ...]) -> None:
    assert decompounder.split(word) == parts


@pytest.mark.parametrize(
    "word",
    [
        "sykehus",  # the whole is more frequent than "syke" and "hus"
        "samarbeid",  # "sam" is rarer than "samarbeid"
        "fortjeneste",  # "for" is a stop word, never a part
        "lagene",  # "ene" is inflection inside the stem's reach, not a part
        "tjenesten",  # known word, no split into known parts
        "jordmor2030",  # digits: not a word to split
    ],
)
def test_decompounder_leaves_alone(decompounder: Decompounder, word: str) -> None:
    assert decompounder.split(word) == ()


def test_min_part_len_is_respected() -> None:
    counts = {"kad": 20, "senger": 20}
    assert Decompounder(counts).split("kadsenger") == ("kad", "senger")
    strict = Decompounder(counts, DecompounderConfig(min_part_len=4))
    assert strict.split("kadsenger") == ()


def test_decompounder_fits_from_texts() -> None:
    texts = ["Jordmor og tjeneste.", "Jordmor, tjeneste!", "Ny jordmortjeneste i kommunen."]
    assert Decompounder.fit(texts).split("jordmortjeneste") == ("jordmor", "tjeneste")


def test_fit_never_splits_names() -> None:
    texts = [
        "Sveinung Rotevatn ble valgt. Sveinung takket.",
        "svein og ung, svein og ung, svein og ung.",
        "Et legevaktsamarbeid; legevakt, samarbeid, legevakt, samarbeid, legevakt, samarbeid.",
        "Legevaktsamarbeid er nytt.",  # capitalised once of twice: still a word, not a name
    ]
    decompounder = Decompounder.fit(texts)
    assert "sveinung" in decompounder.names
    assert decompounder.split("sveinung") == ()
    assert "legevaktsamarbeid" not in decompounder.names
    assert decompounder.split("legevaktsamarbeid") == ("legevakt", "samarbeid")
    assert Decompounder.from_json(decompounder.to_json()).names == decompounder.names
    # Without the capitalisation evidence the name would be split.
    assert Decompounder(decompounder.counts).split("sveinung") == ("svein", "ung")


def test_decompounder_json_round_trip(decompounder: Decompounder, tmp_path: Path) -> None:
    path = tmp_path / "decompounder.json"
    decompounder.save(path)
    loaded = Decompounder.load(path)
    assert loaded.config == decompounder.config
    assert loaded.counts == decompounder.counts
    for word in ("jordmortjeneste", "samhandlingsreformen", "sykehus"):
        assert loaded.split(word) == decompounder.split(word)
    custom = Decompounder(VOCABULARY, DecompounderConfig(min_part_len=4))
    assert Decompounder.from_json(custom.to_json()).config.min_part_len == 4
    assert not list(tmp_path.glob("*.tmp"))


def test_decompounder_rejects_foreign_json() -> None:
    with pytest.raises(ValueError, match="samsok-decompounder"):
        Decompounder.from_json('{"format": "pickle", "counts": {}}')


def test_index_side_emits_whole_and_part_stems(analyzer: NorwegianAnalyzer) -> None:
    terms = analyzer.index_terms("Interkommunal jordmortjenesten")
    assert terms == ["interkommunal", "jordmortjenest", "jordmor", "tjenest"]
    # …so a document with the compound matches each part as a query.
    assert analyzer.query_terms("jordmor")[0].stem in terms
    assert analyzer.query_terms("tjeneste")[0].stem in terms
    assert analyzer.query_terms("legevakt")[0].stem in analyzer.index_terms("legevaktsamarbeid")


def test_query_side_offers_whole_or_parts(analyzer: NorwegianAnalyzer) -> None:
    (term,) = analyzer.query_terms("jordmortjeneste")
    assert term == QueryTerm("jordmortjeneste", "jordmortjenest", ("jordmor", "tjenest"))
    whole_only = NorwegianAnalyzer(AnalyzerConfig(decompound_query=False), analyzer.decompounder)
    assert whole_only.query_terms("jordmortjeneste")[0].parts == ()
    no_index = NorwegianAnalyzer(AnalyzerConfig(decompound_index=False), analyzer.decompounder)
    assert no_index.index_terms("jordmortjeneste") == ["jordmortjenest"]


def test_query_terms_deduplicated(analyzer: NorwegianAnalyzer) -> None:
    terms = analyzer.query_terms("kommune Kommunene kommuner og legevakt")
    assert [t.stem for t in terms] == ["kommun", "legevakt"]


# -- FTS5 expressions -------------------------------------------------------------------------


def _outside_quotes(expression: str) -> str:
    return re.sub(r'"(?:[^"]|"")*"', "", expression)


def test_fts5_query_shape(analyzer: NorwegianAnalyzer) -> None:
    terms = analyzer.query_terms("interkommunal jordmortjeneste")
    assert fts5_query(terms) == (
        '"interkommunal" OR ("jordmortjenest" OR NEAR("jordmor" "tjenest", 10))'
    )
    assert fts5_query(terms, "AND", near=None) == (
        '"interkommunal" AND ("jordmortjenest" OR ("jordmor" AND "tjenest"))'
    )


def test_fts5_query_escapes_quotes_in_terms() -> None:
    assert fts5_query([QueryTerm('a"b', 'a"b')]) == '"a""b"'


@pytest.mark.parametrize("query", ["", "   ", "og i det", "!!! ??? ---", "<>"])
def test_fts5_query_empty_raises(analyzer: NorwegianAnalyzer, query: str) -> None:
    with pytest.raises(EmptyQueryError):
        fts5_query(analyzer.query_terms(query))
    assert issubclass(EmptyQueryError, SearchError)


def test_fts5_query_rejects_unknown_operator() -> None:
    with pytest.raises(ValueError, match="operator"):
        fts5_query([QueryTerm("a", "a")], "NOT")  # type: ignore[arg-type]


HOSTILE = [
    'legevakt" OR "x',
    '"unbalanced quote',
    "NEAR(legevakt samarbeid, 2)",
    "legevakt* OR tjeneste NOT jordmor",
    "<script>alert('x')</script>",
    "terms:legevakt ^jordmor",
    "AND OR NOT NEAR",
    "(((legevakt",
    "{terms}: - + \\ ; DROP TABLE t; --",
]


@pytest.fixture
def fts(analyzer: NorwegianAnalyzer) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE VIRTUAL TABLE t USING fts5(terms, tokenize='unicode61 remove_diacritics 0')"
    )
    docs = {
        1: "Kommunene etablerer en interkommunal jordmortjeneste for gravide.",
        2: "Legevaktsamarbeidet i Orkdal og Værnes har nye rutiner.",
        3: "Samarbeid om legevakt mellom kommunene i Trøndelag.",
        4: "Nye KAD-senger i Tromsø fra 2030.",
        5: "Ingen treff her: Tromso skrives uten ø.",
        6: "Pasientene på DMS får tilbud om spesialistpoliklinikk.",
    }
    conn.executemany(
        "INSERT INTO t(rowid, terms) VALUES (?, ?)",
        [(i, " ".join(analyzer.index_terms(text))) for i, text in docs.items()],
    )
    return conn


def _search(conn: sqlite3.Connection, analyzer: NorwegianAnalyzer, query: str) -> list[int]:
    match = fts5_query(analyzer.query_terms(query))
    rows = conn.execute("SELECT rowid FROM t WHERE t MATCH ? ORDER BY bm25(t), rowid", (match,))
    return [r[0] for r in rows]


@pytest.mark.parametrize("query", HOSTILE)
def test_fts5_query_is_safe_for_user_syntax(
    analyzer: NorwegianAnalyzer, fts: sqlite3.Connection, query: str
) -> None:
    expression = fts5_query(analyzer.query_terms(query))
    # Outside the quoted terms only our own operators and punctuation remain.
    leftover = _outside_quotes(expression)
    assert re.fullmatch(r"(?:\s|OR|AND|NEAR|\(|\)|,|\d)*", leftover), leftover
    # And FTS5 parses it (a syntax error would raise sqlite3.OperationalError).
    fts.execute("SELECT rowid FROM t WHERE t MATCH ?", (expression,)).fetchall()


def test_fts5_round_trip_finds_the_right_rows(
    analyzer: NorwegianAnalyzer, fts: sqlite3.Connection
) -> None:
    assert _search(fts, analyzer, "jordmor")[0] == 1  # part of a compound in the document
    assert _search(fts, analyzer, "tjenester")[0] == 1
    assert set(_search(fts, analyzer, "legevakt")) == {2, 3}
    # The compound in the query reaches the document that says it in two words.
    assert set(_search(fts, analyzer, "legevaktsamarbeid")) == {2, 3}
    assert _search(fts, analyzer, "KAD senger") == [4]
    assert _search(fts, analyzer, "kadsenger") == [4]
    assert _search(fts, analyzer, "Tromsø") == [4]  # ø is not folded to o
    assert _search(fts, analyzer, "år 2030") == [4]
    assert _search(fts, analyzer, "DMS-et") == [6]  # the abbreviation, inflected
    assert _search(fts, analyzer, '"; DROP TABLE t; --') == []
