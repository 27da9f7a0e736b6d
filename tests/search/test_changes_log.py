"""The change log: written with each index write (and rolled back with it), folded into the
net change per document over a period."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from samsok.ingest.documents import DocType, Page, Region
from samsok.search.errors import QueryError
from samsok.search.index import SearchIndex
from samsok.search.store import change_events, list_changes, parse_since

from tests.search.test_index import make_doc

PDF_URL = "https://www.stjordal.kommune.no/rapporter/dms.pdf"


def pdf(title: str, *texts: str):
    doc = make_doc(
        PDF_URL,
        "",
        title=title,
        doc_type=DocType.REPORT,
        pages=[Page(i, t) for i, t in enumerate(texts, start=1)],
    )
    doc.content_type = "application/pdf"
    return doc


def test_what_changed_in_a_pdf(index: SearchIndex) -> None:
    index.upsert(pdf("DMS-rapport", "Side en om senger.", "Side to om legevakt."))
    start = datetime.now(UTC)
    index.upsert(pdf("DMS-rapport", "Side en om senger.", "Side to om legevakt."))  # same
    index.upsert(pdf("DMS: sluttrapport", "Side en om senger.", "Side to, ny tekst.", "Side tre."))
    [item] = list_changes(index.store, since=start).items()
    assert item.kind == "changed" and item.events == 1
    assert item.title_changed and item.old_title == "DMS-rapport"
    assert item.pages_added == [3] and item.pages_changed == [2] and item.pages_removed == []
    later = datetime.now(UTC)
    index.upsert(pdf("DMS: sluttrapport", "Side en om senger."))
    [item] = list_changes(index.store, since=later).items()
    assert item.pages_removed == [2, 3] and not item.title_changed
    # Over both edits: page 3 came and went, page 2 went; the title change remains.
    [item] = list_changes(index.store, since=start).items()
    assert item.pages_added == [] and item.pages_removed == [2] and item.pages_changed == []
    assert item.title_changed and item.old_title == "DMS-rapport" and item.events == 2


def test_new_then_changed_is_new_and_removed_stays_visible(index: SearchIndex) -> None:
    start = datetime.now(UTC)
    a = make_doc("https://a.no/1", "Jordmortjenesten i Tydal og Selbu.")
    index.upsert(a)
    index.upsert(make_doc("https://a.no/1", "Jordmortjenesten i Tydal, Selbu og Meråker."))
    b = make_doc("https://a.no/2", "Legevakt for fire kommuner.", region=Region.ORKDAL)
    index.upsert(b)
    index.remove(b.doc_id, reason="http_404")
    result = list_changes(index.store, since=start)
    kinds = {i.url: i.kind for i in result.items()}
    assert kinds == {"https://a.no/1": "new", "https://a.no/2": "removed"}
    removed = next(i for i in result.items() if i.kind == "removed")
    assert removed.title == "2" and removed.removed_reason == "http_404"
    assert [g.region for g in result.groups] == [Region.ORKDAL, Region.VAERNES]
    only = list_changes(index.store, since=start, region=Region.VAERNES)
    assert [i.url for i in only.items()] == ["https://a.no/1"]


def test_a_failed_write_logs_nothing(index: SearchIndex, monkeypatch) -> None:
    index.upsert(make_doc("https://a.no/1", "Første versjon av teksten."))
    before = len(change_events(index.store))

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(index.store, "add_chunks", boom)
    with pytest.raises(RuntimeError):
        index.upsert(make_doc("https://a.no/1", "Andre versjon av teksten."))
    assert len(change_events(index.store)) == before
    assert (
        index.store.document(make_doc("https://a.no/1", "").doc_id)
        .pages[0]
        .text.startswith("Første")
    )


def test_a_promoted_duplicate_is_not_a_change(index: SearchIndex) -> None:
    text = "Samme sak publisert to steder om felles legevakt i Værnesregionen. " * 8
    first, second = make_doc("https://a.no/sak", text), make_doc("https://b.no/sak", text)
    index.upsert(first)
    index.upsert(second)
    start = datetime.now(UTC)
    index.remove(first.doc_id)
    items = list_changes(index.store, since=start).items()
    assert [(i.url, i.kind) for i in items] == [("https://a.no/sak", "removed")]


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ("2019-06-18", True),
        ("18.06.2019", True),
        ("8.6.2019", True),
        ("2019-06-18T10:00:00Z", True),
        ("2019-06-18T10:00:00+02:00", True),
        ("31.02.2019", False),
        ("18/06/2019", False),
        ("i går", False),
        ("", False),
    ],
)
def test_parse_since(raw: str, ok: bool) -> None:
    if ok:
        parse_since(raw)
    else:
        with pytest.raises(ValueError):
            parse_since(raw)


def test_since_in_the_future_is_refused(index: SearchIndex) -> None:
    with pytest.raises(QueryError):
        list_changes(index.store, since=datetime(2999, 1, 1, tzinfo=UTC))
