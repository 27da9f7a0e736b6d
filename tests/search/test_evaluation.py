"""The evaluation runner on a tiny handmade BEIR set, with the hashing test embedder."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator
from datetime import date
from functools import partial
from pathlib import Path

import pytest
from samsok.ingest.chunk import chunk_document
from samsok.ingest.config import ChunkConfig
from samsok.ingest.documents import DocType, Document, Page, Region
from samsok.search.errors import BaselineUnavailable
from samsok.search.evaluation import (
    BeirDataset,
    Bm25sTokens,
    bm25s_scores,
    documents_from_chunks,
    ingest_corpus,
    load_beir,
    parse_modes,
    run_evaluation,
)
from samsok.search.evaluation.runner import corpus_documents
from samsok.search.index import IndexConfig, SearchIndex
from samsok.search.schemas import SearchMode, SearchRequest

from tests.fakes import HashingEmbedder

PASSAGES = {
    "jordmor": (
        "Interkommunal jordmortjeneste",
        "Gravide i Tydal og Selbu får oppfølging av jordmor nær hjemmet.\n"
        "Tjenesten er et samarbeid mellom fire kommuner og helseforetaket.\n"
        "Jordmoren har kontordag i Selbu hver tirsdag.",
    ),
    "legevakt": (
        "Legevaktsamarbeid i Værnesregionen",
        "Legevakta i Stjørdal dekker Meråker, Selbu og Tydal om natta.\n"
        "Telefonnummeret til legevakta er 116 117 hele døgnet.",
    ),
    "kad": (
        "KAD-senger ved distriktsmedisinsk senter",
        "Kommunale akutte døgnplasser (KAD) tar imot pasienter som ellers ville blitt lagt inn "
        "på sykehus.\nSenteret har seks KAD-senger og lege på dagtid.",
    ),
    "folkehelse": (
        "Folkehelse i skolen",
        "Fysisk aktivitet hver dag og sunn skolemat er tiltak i folkehelseplanen.\n"
        "Planen ble vedtatt av kommunestyret i 2019.",
    ),
    "rus": (
        "Rus og psykisk helse",
        "En felles enhet for rus og psykisk helse gir bedre overganger fra sykehuset.\n"
        "Ventetiden for første samtale er to uker.",
    ),
}
# query id → (text, relevant passage, answer)
QUERIES = {
    "q1": ("jordmor Selbu tirsdag", "jordmor", "hver tirsdag"),
    "q2": ("telefonnummer legevakt", "legevakt", "116 117"),
    "q3": ("hvor mange KAD-senger", "kad", "seks KAD-senger"),
    "q4": ("skolemat folkehelseplan", "folkehelse", "sunn skolemat"),
    "q5": ("ventetid rus psykisk helse", "rus", "to uker"),
}
CHUNKS = ChunkConfig(max_tokens=24, overlap_tokens=0)


def write_beir(
    folder: Path,
    passages: dict[str, tuple[str, str]] = PASSAGES,
    queries: dict[str, tuple[str, str, str]] = QUERIES,
) -> dict[str, Path]:
    """The layout of ../shared/eval/norquad: the first line of `text` is the title."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / f"{name}.jsonl" for name in ("corpus", "queries", "answers")}
    paths["qrels"] = folder / "qrels.tsv"
    paths["corpus"].write_text(
        "".join(
            json.dumps({"id": pid, "title": title, "text": f"{title}\n{text}"}) + "\n"
            for pid, (title, text) in passages.items()
        ),
        encoding="utf-8",
    )
    paths["queries"].write_text(
        "".join(json.dumps({"id": q, "text": t}) + "\n" for q, (t, _, _) in queries.items()),
        encoding="utf-8",
    )
    paths["qrels"].write_text(
        "query-id\tcorpus-id\tscore\n"
        + "".join(f"{q}\t{pid}\t1\n" for q, (_, pid, _) in queries.items()),
        encoding="utf-8",
    )
    paths["answers"].write_text(
        "".join(json.dumps({"id": q, "answer": a}) + "\n" for q, (_, _, a) in queries.items()),
        encoding="utf-8",
    )
    return paths


def load(paths: dict[str, Path], *, answers: bool = True) -> BeirDataset:
    return load_beir(
        paths["corpus"], paths["queries"], paths["qrels"], paths["answers"] if answers else None
    )


@pytest.fixture
def dataset(tmp_path: Path) -> BeirDataset:
    return load(write_beir(tmp_path / "beir"))


@pytest.fixture
def embedder() -> HashingEmbedder:  # shadows the real model: these tests need no model
    return HashingEmbedder()


def open_index(folder: Path, embedder: HashingEmbedder, **config: object) -> SearchIndex:
    chunker = partial(chunk_document, config=CHUNKS, count_tokens=embedder.count_tokens)
    return SearchIndex(folder, embedder, chunker, IndexConfig(**config))  # type: ignore[arg-type]


@pytest.fixture
def index(tmp_path: Path, embedder: HashingEmbedder) -> Iterator[SearchIndex]:
    idx = open_index(tmp_path / "data", embedder)
    yield idx
    idx.close()


def test_corpus_documents_take_the_first_line_as_title(dataset: BeirDataset) -> None:
    docs = corpus_documents(dataset.corpus)
    assert list(docs) == list(PASSAGES)
    kad = docs["kad"]
    assert kad.title == "KAD-senger ved distriktsmedisinsk senter"
    assert kad.text.startswith("Kommunale akutte døgnplasser")  # the title line is not body
    assert (kad.region, kad.doc_type, kad.source) == (Region.ORKDAL, DocType.PAGE, "eval")
    assert len({d.doc_id for d in docs.values()}) == len(PASSAGES)


def test_every_mode_finds_the_passage_that_holds_the_answer(
    dataset: BeirDataset, index: SearchIndex
) -> None:
    results = run_evaluation(dataset, ["all"], index=index)
    assert list(results) == ["hybrid", "dense", "lexical"]
    assert index.stats().chunks > len(PASSAGES)  # several chunks per passage
    for mode, scores in results.items():
        assert scores.queries == len(QUERIES)
        # Every query names words only its passage has: first place, answer in the top chunks.
        assert scores.ndcg_at_10 == pytest.approx(1.0), mode
        assert scores.recall_at_1 == scores.mrr_at_10 == pytest.approx(1.0), mode
        assert scores.answer_at_5 == pytest.approx(1.0), mode
        assert 0 < scores.latency_ms_p50 <= scores.latency_ms_p95
        assert set(scores.as_dict()) == {
            "ndcg@10", "recall@1", "recall@5", "recall@10", "mrr@10", "answer@5",
            "latency_ms_p50", "latency_ms_p95",
        }  # fmt: skip


def test_wrong_judgements_score_zero_and_a_partial_run_in_between(tmp_path: Path) -> None:
    """The runner really scores: shift every judgement to another passage and it collapses."""
    embedder = HashingEmbedder()
    names = list(PASSAGES)
    wrong = {q: (t, names[(names.index(p) + 1) % len(names)], "finnes ikke") for q, (t, p, _) in
             QUERIES.items()}  # fmt: skip
    with open_index(tmp_path / "data", embedder) as index:
        results = run_evaluation(
            load(write_beir(tmp_path / "wrong", queries=wrong)), ["lexical"], index=index
        )
    lexical = results["lexical"]
    assert lexical.recall_at_1 == 0.0
    assert lexical.answer_at_5 == 0.0
    assert lexical.ndcg_at_10 < 0.5
    # A judged passage in second place: nDCG 1/log2(3), MRR 1/2 — exactly.
    half = dict(QUERIES)
    half["q2"] = ("telefonnummer legevakt natta Selbu Tydal", "jordmor", "Selbu")
    with open_index(tmp_path / "data2", embedder) as index:
        scores = run_evaluation(
            load(write_beir(tmp_path / "half", queries=half)), ["lexical"], index=index
        )["lexical"]
    assert scores.recall_at_1 == pytest.approx(4 / 5)
    assert scores.recall_at_10 == pytest.approx(1.0)
    assert scores.mrr_at_10 == pytest.approx((4 + 1 / 2) / 5)
    assert scores.ndcg_at_10 == pytest.approx((4 + 1 / math.log2(3)) / 5)


def test_without_answers_there_is_no_answer_score(tmp_path: Path, index: SearchIndex) -> None:
    data = load(write_beir(tmp_path / "beir"), answers=False)
    scores = run_evaluation(data, [SearchMode.HYBRID], index=index)["hybrid"]
    assert scores.answer_at_5 is None
    assert scores.as_dict()["answer@5"] is None


def test_second_run_embeds_nothing_and_drops_passages_gone_from_the_corpus(
    tmp_path: Path, embedder: HashingEmbedder
) -> None:
    paths = write_beir(tmp_path / "beir")
    with open_index(tmp_path / "data", embedder) as index:
        first = ingest_corpus(index, load(paths))
        assert first.outcomes == {"new": len(PASSAGES)}
        embedded = embedder.calls
    smaller = {k: v for k, v in PASSAGES.items() if k != "rus"}
    queries = {k: v for k, v in QUERIES.items() if v[1] != "rus"}
    with open_index(tmp_path / "data", embedder) as index:
        report = ingest_corpus(index, load(write_beir(tmp_path / "small", smaller, queries)))
        assert embedder.calls == embedded
        assert report.outcomes == {"unchanged": len(smaller)}
        assert report.removed == 1
        assert index.stats().documents == len(smaller)


def test_refuses_a_folder_with_real_documents(tmp_path: Path, dataset: BeirDataset) -> None:
    with open_index(tmp_path / "data", HashingEmbedder()) as index:
        index.upsert(
            Document(
                url="https://example.no/a",
                source="kommune",
                region=Region.VAERNES,
                doc_type=DocType.NEWS,
                title="Nyhet",
                pages=[Page(None, "Ny legevakt åpner i Stjørdal.")],
                published=date(2020, 1, 1),
            )
        )
        with pytest.raises(ValueError, match="not from an evaluation corpus"):
            run_evaluation(dataset, ["hybrid"], index=index)


def test_a_near_duplicate_passage_counts_as_its_stored_copy(tmp_path: Path) -> None:
    story = " ".join(
        f"Setning nummer {i} om det nye legevaktsamarbeidet i regionen og vaktordningen."
        for i in range(12)
    )
    passages = {
        "orig": ("Legevakt", story),
        "copy": ("Legevakt (kopi)", story + " Publisert også i lokalavisa."),
        **{k: v for k, v in PASSAGES.items() if k != "legevakt"},
    }
    queries = {"q1": ("legevaktsamarbeidet vaktordningen", "copy", "vaktordningen")}
    with open_index(tmp_path / "data", HashingEmbedder()) as index:
        data = load(write_beir(tmp_path / "dup", passages, queries))
        report = ingest_corpus(index, data)
        assert report.outcomes["duplicate"] == 1
        scores = run_evaluation(data, ["lexical"], index=index, ingest=False)["lexical"]
    assert scores.recall_at_1 == 1.0


def test_ranked_chunks_group_into_the_search_results(
    dataset: BeirDataset, index: SearchIndex
) -> None:
    ingest_corpus(index, dataset)
    for mode in SearchMode:
        request = SearchRequest(q="legevakt Selbu Tydal jordmor", mode=mode, limit=10)
        chunks = index.ranked_chunks(request.model_copy(update={"limit": 100}))
        assert [c.score for c in chunks] == sorted((c.score for c in chunks), reverse=True)
        by_chunk = documents_from_chunks([c.chunk_id for c in chunks], {
            c.chunk_id: c.doc_id for c in chunks})  # fmt: skip
        hits = index.search(request).results
        assert [h.doc_id for h in hits] == by_chunk[: len(hits)], mode
        assert hits[0].chunk_id == chunks[0].chunk_id
        assert chunks[0].text in {c.text for c in index.store.chunks_of(hits[0].doc_id)}
    paged = index.ranked_chunks(SearchRequest(q="legevakt Selbu", limit=2, offset=1))
    full = index.ranked_chunks(SearchRequest(q="legevakt Selbu", limit=3))
    assert [c.chunk_id for c in paged] == [c.chunk_id for c in full[1:3]]


@pytest.mark.parametrize("mode", list(SearchMode))
def test_ranked_chunks_are_filtered_before_ranking(
    dataset: BeirDataset, index: SearchIndex, mode: SearchMode
) -> None:
    ingest_corpus(index, dataset)  # every evaluation passage is an Orkdal page
    wanted = {"q": "legevakt Selbu", "mode": mode, "limit": 100}
    assert index.ranked_chunks(SearchRequest.model_validate({**wanted, "region": "vaernes"})) == []
    assert index.ranked_chunks(SearchRequest.model_validate({**wanted, "type": "news"})) == []
    kept = index.ranked_chunks(SearchRequest.model_validate({**wanted, "region": "orkdal"}))
    assert kept == index.ranked_chunks(SearchRequest.model_validate(wanted))


def test_parse_modes() -> None:
    assert parse_modes([]) == list(SearchMode)
    assert parse_modes(["all"]) == list(SearchMode)
    assert parse_modes(["lexical", "hybrid", "lexical"]) == [
        SearchMode.LEXICAL,
        SearchMode.HYBRID,
    ]
    with pytest.raises(ValueError):
        parse_modes(["bm25"])


def test_the_bm25s_baseline_without_bm25s_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """bm25s comes with the `dev` extra: `samsok eval --baselines` on a plain install gets
    a one-line error (the CLI prints SearchErrors), not a traceback."""
    monkeypatch.setitem(sys.modules, "bm25s", None)  # as if not installed
    empty = BeirDataset({}, {}, {}, {})
    with (
        open_index(tmp_path / "d", HashingEmbedder()) as index,
        pytest.raises(BaselineUnavailable, match=r"pip install 'samsok\[dev\]'"),
    ):
        bm25s_scores(index, empty, {}, Bm25sTokens.STEMMED)
