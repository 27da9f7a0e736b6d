"""Row types read from the store, and the metadata filters applied before ranking."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from typing import Any

from samsok.ingest.documents import DocType, Document, DocumentIdentity, Page, Region

__all__ = [
    "ChunkRow",
    "DocumentHeadRow",
    "DocumentRow",
    "Filters",
    "identity_from_row",
    "identity_params",
    "now_iso",
    "row_to_document",
    "row_to_head",
]


@dataclass(frozen=True)
class Filters:
    """Metadata filters, applied before ranking in every mode."""

    region: Region | None = None
    doc_type: DocType | None = None
    date_from: date | None = None
    date_to: date | None = None

    @property
    def active(self) -> bool:
        return any(
            v is not None for v in (self.region, self.doc_type, self.date_from, self.date_to)
        )

    def sql(self, alias: str = "d") -> tuple[str, list[object]]:
        clauses = [f"{alias}.duplicate_of IS NULL"]
        params: list[object] = []
        if self.region is not None:
            clauses.append(f"{alias}.region = ?")
            params.append(self.region.value)
        if self.doc_type is not None:
            clauses.append(f"{alias}.doc_type = ?")
            params.append(self.doc_type.value)
        # An undated document cannot satisfy a date range: excluded when a bound is set.
        if self.date_from is not None:
            clauses.append(f"{alias}.published >= ?")
            params.append(self.date_from.isoformat())
        if self.date_to is not None:
            clauses.append(f"{alias}.published <= ?")
            params.append(self.date_to.isoformat())
        return " AND ".join(clauses), params


@dataclass(frozen=True)
class DocumentRow(DocumentIdentity):
    language: str | None
    content_type: str
    content_hash: str
    fetched_at: datetime | None
    indexed_at: datetime
    metadata: dict[str, str]
    pages: list[Page]
    duplicate_of: str | None

    def to_document(self) -> Document:
        # A row stores every Document field under the same name (and more: ids, hashes).
        return Document(**{f.name: getattr(self, f.name) for f in fields(Document)})


@dataclass(frozen=True)
class DocumentHeadRow(DocumentIdentity):
    """What a search hit shows of a document: its identity and content type (not its pages,
    which a hit never shows and which cost most of reading a whole row)."""

    content_type: str


@dataclass(frozen=True)
class ChunkRow:
    id: int
    doc_id: str
    ordinal: int
    page: int | None
    heading: str | None
    text: str


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def identity_params(doc: Document | DocumentIdentity) -> tuple[str | None, ...]:
    """doc_id, url, source, region, doc_type, title, published: the leading columns of both the
    documents and the changes table, encoded the same way (enums by value, the date as ISO)."""
    return (
        doc.doc_id,
        doc.url,
        doc.source,
        doc.region.value,
        doc.doc_type.value,
        doc.title,
        doc.published.isoformat() if doc.published else None,
    )


def identity_from_row(row: sqlite3.Row) -> dict[str, Any]:
    """The `DocumentIdentity` fields decoded from the columns `identity_params` wrote."""
    return {
        "doc_id": row["doc_id"],
        "url": row["url"],
        "source": row["source"],
        "region": Region(row["region"]),
        "doc_type": DocType(row["doc_type"]),
        "title": row["title"],
        "published": date.fromisoformat(row["published"]) if row["published"] else None,
    }


def row_to_head(row: sqlite3.Row) -> DocumentHeadRow:
    return DocumentHeadRow(**identity_from_row(row), content_type=row["content_type"])


def row_to_document(row: sqlite3.Row) -> DocumentRow:
    return DocumentRow(
        **identity_from_row(row),
        language=row["language"],
        content_type=row["content_type"],
        content_hash=row["content_hash"],
        fetched_at=datetime.fromisoformat(row["fetched_at"]) if row["fetched_at"] else None,
        indexed_at=datetime.fromisoformat(row["indexed_at"]),
        metadata=json.loads(row["metadata"]),
        pages=[Page(number=p[0], text=p[1]) for p in json.loads(row["pages"])],
        duplicate_of=row["duplicate_of"],
    )
