"""Snippets: best passage, stem- and compound-aware marks, escaping, length and cuts."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from samsok.search.index.snippets import Snippets, make_snippet
from samsok.search.text import AnalyzerConfig, Decompounder, NorwegianAnalyzer, needle_pattern

FILLER = "Dette avsnittet handler om noe helt annet enn saken. "


@pytest.fixture(scope="module")
def analyzer() -> NorwegianAnalyzer:
    counts = {"jordmor": 10, "tjeneste": 20, "tjenesten": 10, "legevakt": 10, "samarbeid": 20}
    return NorwegianAnalyzer(AnalyzerConfig(), Decompounder(counts))


def visible(snippet: str) -> str:
    return html.unescape(re.sub(r"</?mark>", "", snippet))


def marked(snippet: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r"<mark>(.*?)</mark>", snippet)]


def test_short_text_whole_with_marks(analyzer: NorwegianAnalyzer) -> None:
    text = "Kommunene  samarbeider\nom legevakt."
    snippet = make_snippet(text, "kommune legevakt", analyzer)
    assert snippet == "<mark>Kommunene</mark> samarbeider om <mark>legevakt</mark>."


def test_compound_and_stem_aware_marks(analyzer: NorwegianAnalyzer) -> None:
    text = "Ny jordmortjenesten for gravide. Tjenestene gjelder alle. KAD-senger i bruk."
    assert marked(make_snippet(text, "jordmor", analyzer)) == ["jordmortjenesten"]
    assert marked(make_snippet(text, "tjeneste", analyzer)) == ["jordmortjenesten", "Tjenestene"]
    assert marked(make_snippet(text, "senger", analyzer)) == ["KAD-senger"]
    # The query compound marks the words its parts match.
    assert marked(make_snippet("Samarbeid om legevakt.", "legevaktsamarbeid", analyzer)) == [
        "Samarbeid",
        "legevakt",
    ]


def test_best_window_has_most_distinct_terms(analyzer: NorwegianAnalyzer) -> None:
    text = (
        FILLER * 3
        + "Legevakt nevnes her alene. "
        + FILLER * 6
        + "Kommunene har et legevaktsamarbeid og en jordmortjeneste sammen. "
        + FILLER * 6
    )
    snippet = make_snippet(text, "legevakt jordmor kommune", analyzer, max_chars=160)
    assert snippet.startswith("…") and snippet.endswith("…")
    assert set(marked(snippet)) == {"Kommunene", "legevaktsamarbeid", "jordmortjeneste"}
    assert len(visible(snippet)) <= 160


@pytest.mark.parametrize("max_chars", [40, 80, 120, 300])
def test_length_limit_and_word_boundaries(analyzer: NorwegianAnalyzer, max_chars: int) -> None:
    text = FILLER * 4 + "Her står det om jordmor og legevakt i kommunen. " + FILLER * 4
    snippet = make_snippet(text, "jordmor legevakt", analyzer, max_chars=max_chars)
    shown = visible(snippet)
    assert len(shown) <= max_chars
    assert "jordmor" in shown
    words = set(text.split())
    for word in shown.strip("…").split():
        assert word in words  # never half a word


def test_no_match_returns_the_beginning(analyzer: NorwegianAnalyzer) -> None:
    text = FILLER * 10
    snippet = make_snippet(text, "jordmor", analyzer, max_chars=60)
    assert snippet.startswith("Dette avsnittet")
    assert snippet.endswith("…")
    assert "<mark>" not in snippet
    assert len(snippet) <= 60


def test_html_is_escaped_and_script_is_inert(analyzer: NorwegianAnalyzer) -> None:
    text = 'Legevakt <script>alert("x")</script> & <b>jordmor</b>'
    snippet = make_snippet(text, "<script>jordmor</script>", analyzer)
    assert "<script" not in snippet
    assert "<b>" not in snippet
    assert "&lt;<mark>script</mark>&gt;" in snippet
    assert "&amp;" in snippet
    assert "&lt;b&gt;<mark>jordmor</mark>&lt;/b&gt;" in snippet
    assert re.sub(r"</?mark>", "", snippet).count("<") == 0


def test_overlong_single_word_is_cut(analyzer: NorwegianAnalyzer) -> None:
    snippet = make_snippet("https://example.org/" + "a" * 400, "jordmor", analyzer, max_chars=50)
    assert len(snippet) == 50
    assert snippet.endswith("…")


def test_accepts_query_terms_and_empty_text(analyzer: NorwegianAnalyzer) -> None:
    terms = analyzer.query_terms("legevakt")
    assert marked(make_snippet("Legevakten i Orkdal.", terms, analyzer)) == ["Legevakten"]
    assert make_snippet("", "legevakt", analyzer) == ""
    with pytest.raises(ValueError):
        make_snippet("tekst", "legevakt", analyzer, max_chars=2)


def _mirror_texts() -> list[str]:
    root = Path(__file__).resolve().parents[2] / "corpus" / "mirror"
    texts = []
    for page in sorted(root.rglob("*.htm*")):
        raw = page.read_text("utf-8", errors="replace")
        raw = re.sub(r"<script.*?</script>|<style.*?</style>|<[^>]+>", " ", raw, flags=re.S)
        texts.append(re.sub(r"\s+", " ", html.unescape(raw)))
    return texts


def test_only_candidate_words_are_analysed_and_none_that_matches_is_skipped() -> None:
    """Snippets analyse only words whose folded form contains a query key; on real Norwegian
    text (corpus-trained compounds, hyphens, Nynorsk) no skipped word has a query key."""
    texts = _mirror_texts()
    analyzer = NorwegianAnalyzer(AnalyzerConfig(), Decompounder.fit(texts))
    vocabulary = sorted({w for t in texts for w in re.findall(r"[^\W\d_]{4,}", t)})
    assert len(vocabulary) > 1000
    queries = [" ".join(vocabulary[i::397][:3]) for i in range(0, 397, 7)]
    queries += ["legevaktsamarbeid", "KAD-senger helsetjenester", "kommunane jordmor"]
    checked = skipped = 0
    for text in texts[::3]:
        tokens = analyzer.analyze_tokens(text)
        layout = analyzer.layout(text)
        for query in queries:
            needles = {k for term in analyzer.query_terms(query) for k in term.keys}
            candidates = analyzer.candidates_in(text, layout, needle_pattern(needles))
            matching = [t for t in tokens if t.keys & needles]
            assert [t for t in candidates if t.keys & needles] == matching, query
            checked += len(matching)
            skipped += len(tokens) - len(candidates)
    assert checked > 100 and skipped > 10 * checked  # real matches, and most words skipped


def test_cached_snippets_and_candidates_are_the_uncached_ones() -> None:
    """`Snippets` (layouts cached per text, a bounded cache) makes exactly `make_snippet`'s
    snippets, and the one-scan candidate words miss no matching word, edge cases included."""
    texts = _mirror_texts()
    analyzer = NorwegianAnalyzer(AnalyzerConfig(), Decompounder.fit(texts))
    snippets = Snippets(analyzer, texts=8)
    vocabulary = sorted({w for t in texts for w in re.findall(r"[^\W\d_]{4,}", t)})
    queries = [" ".join(vocabulary[i::397][:3]) for i in range(0, 397, 11)]
    queries += ["legevaktsamarbeid", "KAD-senger helsetjenester", "<b>kommune</b>", "og i"]
    chunks = [t[i : i + 1200] for t in texts[::4] for i in range(0, min(len(t), 3600), 1200)]
    for text in [*chunks, "", " \n ", "https://e.org/" + "a" * 400 + " legevakt"]:
        layout = analyzer.layout(text)
        for query in queries:
            for max_chars in (40, 300):
                assert snippets.make(text, query, max_chars) == make_snippet(
                    text, query, analyzer, max_chars
                )
            needles = {k for term in analyzer.query_terms(query) for k in term.keys}
            found = analyzer.candidates_in(text, layout, needle_pattern(needles))
            assert [t for t in found if t.keys & needles] == [
                t for t in analyzer.analyze_tokens(text) if t.keys & needles
            ], (text[:40], query)
    assert snippets.cached_texts() == 8  # bounded
    with pytest.raises(ValueError):
        snippets.make("tekst", "legevakt", 2)
