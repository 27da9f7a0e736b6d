from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from samsok.ingest.chunk import chunk_document, estimate_tokens, split_sentences
from samsok.ingest.config import ChunkConfig, ExtractConfig
from samsok.ingest.documents import Chunk, DocType, Document, Page, Region
from samsok.ingest.extract import extract_html

from tests.ingest.conftest import VAERNES_URL

TITLE = "Samhandling i Orkdal"
SENTENCES = [
    f"Setning {i} handler om samarbeid mellom kommunene og helseforetaket i regionen."
    for i in range(60)
]


def _doc(pages: list[Page], title: str = TITLE) -> Document:
    return Document(
        url="https://x.no/rapport.pdf",
        source="sio",
        region=Region.ORKDAL,
        doc_type=DocType.REPORT,
        title=title,
        pages=pages,
    )


def _body(chunk: Chunk, config: ChunkConfig) -> str:
    """The chunk text without its context line (which lives in `context`)."""
    return chunk.text


def _chars_over_three(text: str) -> int:
    """A stricter counter than the default, as a real tokenizer may be."""
    return len(text) // 3 + 2


COUNTERS: list[Callable[[str], int]] = [estimate_tokens, _chars_over_three]


@pytest.mark.parametrize("count", COUNTERS)
@pytest.mark.parametrize(("max_tokens", "overlap"), [(200, 32), (64, 16), (24, 0)])
def test_every_chunk_fits_the_counter(
    count: Callable[[str], int], max_tokens: int, overlap: int
) -> None:
    long_paragraph = " ".join(SENTENCES[:30])
    no_punctuation = " ".join(["ordmengde"] * 400)
    giant_word = "x" * 3000
    text = "\n\n".join(
        [
            "## Innledning",
            long_paragraph,
            "## Tabell",
            "a | b | c\n" * 40,
            no_punctuation,
            giant_word,
        ]
    )
    config = ChunkConfig(max_tokens=max_tokens, overlap_tokens=overlap)
    chunks = chunk_document(_doc([Page(1, text)]), config, count)
    assert len(chunks) > 3
    assert all(count(chunk.embed_text) <= max_tokens for chunk in chunks)
    # Nothing is lost: every word of the page is in some chunk.
    joined = " ".join(_body(c, config) for c in chunks)
    assert "x" * 3000 in joined.replace(" ", "").replace("\n", "")
    assert joined.count("ordmengde") >= 400


def test_overlap_is_whole_sentences_of_the_previous_chunk() -> None:
    config = ChunkConfig(max_tokens=80, overlap_tokens=30)
    chunks = chunk_document(_doc([Page(1, " ".join(SENTENCES[:20]))]), config)
    assert len(chunks) > 2
    for previous, current in itertools.pairwise(chunks):
        first_sentence = split_sentences(_body(current, config))[0]
        assert first_sentence in SENTENCES
        assert _body(previous, config).endswith(first_sentence)
        assert estimate_tokens(first_sentence) <= 30


def test_no_overlap_when_disabled() -> None:
    config = ChunkConfig(max_tokens=80, overlap_tokens=0)
    chunks = chunk_document(_doc([Page(1, " ".join(SENTENCES[:20]))]), config)
    bodies = [_body(c, config) for c in chunks]
    assert " ".join(bodies) == " ".join(SENTENCES[:20])


def test_headings_sections_and_context_line() -> None:
    text = "\n\n".join(
        [
            "## Bakgrunn",
            SENTENCES[0],
            SENTENCES[1],
            "### Mål",
            SENTENCES[2],
            "## Organisering",
            SENTENCES[3],
        ]
    )
    config = ChunkConfig()
    chunks = chunk_document(_doc([Page(None, text)]), config)
    assert [c.heading for c in chunks] == ["Bakgrunn", "Mål", "Organisering"]
    assert chunks[0].embed_text == f"{TITLE} — Bakgrunn\n{SENTENCES[0]}\n\n{SENTENCES[1]}"
    assert chunks[0].text == f"{SENTENCES[0]}\n\n{SENTENCES[1]}"
    assert chunks[1].context == f"{TITLE} — Mål"
    assert chunks[1].text == SENTENCES[2]
    assert all("#" not in c.text for c in chunks)
    bare = chunk_document(_doc([Page(None, text)]), ChunkConfig(include_title=False))
    assert bare[0].text == f"{SENTENCES[0]}\n\n{SENTENCES[1]}"
    assert bare[0].heading == "Bakgrunn"


def test_chunks_never_cross_pages_and_keep_numbers() -> None:
    pages = [
        Page(1, "## Kapittel 1\n\n" + " ".join(SENTENCES[:3])),
        Page(2, " ".join(SENTENCES[3:5])),  # continues chapter 1
        Page(3, ""),  # empty page
        Page(4, "   \n\n  "),  # blank page
        Page(5, "## Kapittel 2\n\nKort."),  # tiny page
    ]
    config = ChunkConfig()
    chunks = chunk_document(_doc(pages), config)
    assert [c.page for c in chunks] == [1, 2, 5]
    assert [c.heading for c in chunks] == ["Kapittel 1", "Kapittel 1", "Kapittel 2"]
    for chunk in chunks:
        page_text = next(p.text for p in pages if p.number == chunk.page)
        assert _body(chunk, config) in page_text.replace("## Kapittel 1\n\n", "").replace(
            "## Kapittel 2\n\n", ""
        )
    assert [c.ordinal for c in chunks] == [0, 1, 2]
    assert all(c.text.strip() and _body(c, config).strip() for c in chunks)


def test_chunk_metadata_and_determinism() -> None:
    doc = _doc([Page(1, " ".join(SENTENCES))])
    config = ChunkConfig(max_tokens=100)
    first = chunk_document(doc, config)
    assert first == chunk_document(doc, config)
    assert {c.doc_id for c in first} == {doc.doc_id}
    assert all(c.url == doc.url and c.region is Region.ORKDAL and c.title == TITLE for c in first)


def test_empty_document_gives_no_chunks() -> None:
    assert chunk_document(_doc([]), ChunkConfig()) == []
    assert chunk_document(_doc([Page(1, "## Bare en overskrift")]), ChunkConfig()) == []


def test_long_title_does_not_crowd_out_the_text() -> None:
    title = " ".join(["Veldig lang tittel"] * 60)
    config = ChunkConfig(max_tokens=64, overlap_tokens=8)
    chunks = chunk_document(_doc([Page(1, " ".join(SENTENCES[:6]))], title=title), config)
    assert all(estimate_tokens(c.embed_text) <= 64 for c in chunks)
    assert all(estimate_tokens(c.context) <= 16 for c in chunks)


def test_extracted_article_chunks(vaernes_html: bytes) -> None:
    page = extract_html(vaernes_html, VAERNES_URL, ExtractConfig())
    doc = page.to_document(source="vaernes", region=Region.VAERNES, fetched_at=None)
    chunks = chunk_document(doc, ChunkConfig())
    assert chunks[0].heading is None and chunks[0].context == "Værnes viser seg fram"
    fakta = [c for c in chunks if c.heading and c.heading.startswith("Fakta om")]
    assert fakta and all(c.context.startswith("Værnes viser seg fram — Fakta om") for c in fakta)
    assert any("- Identifisere ulike samhandlingsprosjekt." in c.text for c in fakta)
    assert doc.doc_type is DocType.NEWS  # it has a publication date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Møtet er bl.a. om IKT. Det ble holdt på St. Olavs Hospital. Neste møte er 15. mars.",
            [
                "Møtet er bl.a. om IKT.",
                "Det ble holdt på St. Olavs Hospital.",
                "Neste møte er 15. mars.",
            ],
        ),
        ("Hva nå? «Ja», sa han. Ferdig!", ["Hva nå?", "«Ja», sa han.", "Ferdig!"]),
        (
            "Leder er A. Hansen, f.eks. i 2. etasje. Slutt",
            ["Leder er A. Hansen, f.eks. i 2. etasje.", "Slutt"],
        ),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_estimate_tokens_grows_with_long_words() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("og i") == 2
    assert estimate_tokens("samhandlingsreformen") > estimate_tokens("samhandling")
    assert estimate_tokens("Hei, verden!") == 5  # hei, "," , verden (6 letters: 2), "!"


def test_punctuation_only_pieces_are_not_chunks() -> None:
    chunks = chunk_document(_doc([Page(1, "—\n\n•"), Page(2, SENTENCES[0])]), ChunkConfig())
    assert [c.page for c in chunks] == [2]


@pytest.mark.parametrize(
    "kwargs", [{"max_tokens": 4}, {"overlap_tokens": 100}, {"overlap_tokens": -1}]
)
def test_chunk_config_is_validated(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        ChunkConfig(**kwargs)
