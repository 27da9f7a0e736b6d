"""Local originals: the bytes of locally ingested files, kept so their results can open them.

A document ingested from a local file (`samsok ingest rapporter/ --region orkdal`) has no web
address to link to, so the file itself is kept in the data folder:

- content-addressed: `DATA_DIR/originals/<sha256[:2]>/<sha256>`, so the same file ingested
  twice (or under two names) is stored once;
- size-capped: a file that would take the folder over `max_bytes` is not kept; the document
  is still indexed and the row records why (`skipped`), so nothing is silently lost;
- referenced from the `originals` table in `store.db` (one row per document). Removing the
  document removes its row in the same transaction; the file goes when no row uses it.

Files are written (temp file, then rename) before their row is committed, so a crash leaves
at worst an unreferenced file, never a row without its file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from samsok.search.store.records import now_iso

if TYPE_CHECKING:
    from samsok.search.store.database import Store

__all__ = [
    "DEFAULT_ORIGINALS_MAX_BYTES",
    "ORIGINALS_DIR",
    "ORIGINALS_SCHEMA",
    "OriginalRecord",
    "OriginalsStats",
    "blob_path",
    "delete_blob_if_unused",
    "keep_original",
    "original_for",
    "originals_stats",
    "release_original",
]

log = logging.getLogger(__name__)

ORIGINALS_DIR = "originals"
ORIGINALS_SCHEMA = """
CREATE TABLE IF NOT EXISTS originals (
    doc_id TEXT PRIMARY KEY,
    sha256 TEXT,
    size INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    name TEXT NOT NULL,
    kept_at TEXT NOT NULL,
    skipped TEXT
);
CREATE INDEX IF NOT EXISTS originals_sha ON originals(sha256);
"""
SKIPPED_OVER_CAP = "over_size_cap"
DEFAULT_ORIGINALS_MAX_BYTES = 2 * 1024**3  # all kept local originals together


@dataclass(frozen=True)
class OriginalRecord:
    doc_id: str
    sha256: str | None  # None: not kept, see `skipped`
    size: int
    content_type: str
    name: str  # relative name shown to people, e.g. "rapporter/x.pdf"
    skipped: str | None

    @property
    def kept(self) -> bool:
        return self.sha256 is not None


@dataclass(frozen=True)
class OriginalsStats:
    documents: int  # documents with a kept original
    files: int  # distinct files on disk (deduplicated)
    bytes: int
    skipped: int  # documents whose original was not kept (over the cap)


def blob_path(data_dir: Path, sha256: str) -> Path:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError(f"not a sha256 digest: {sha256!r}")  # never build a path from junk
    return data_dir / ORIGINALS_DIR / sha256[:2] / sha256


def _write_blob(data_dir: Path, sha256: str, data: bytes) -> None:
    target = blob_path(data_dir, sha256)
    if target.exists() and target.stat().st_size == len(data):
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _stored_bytes(store: Store) -> int:
    rows = store.query(
        "SELECT COALESCE(SUM(size), 0) FROM (SELECT DISTINCT sha256, size FROM originals "
        "WHERE sha256 IS NOT NULL)"
    )
    return int(rows[0][0])


def _sha_in_use(store: Store, sha256: str) -> bool:
    return bool(store.query("SELECT 1 FROM originals WHERE sha256 = ? LIMIT 1", (sha256,)))


def keep_original(
    store: Store,
    data_dir: Path,
    doc_id: str,
    *,
    data: bytes,
    name: str,
    content_type: str,
    max_bytes: int,
) -> OriginalRecord:
    """Keep `data` as the original of `doc_id` (or record why not); returns the record."""
    sha = hashlib.sha256(data).hexdigest()
    previous = original_for(store, doc_id)
    skipped: str | None = None
    if not _sha_in_use(store, sha):
        budget = max_bytes - _stored_bytes(store)
        if previous is not None and previous.sha256 and previous.sha256 != sha:
            # The old version's bytes are freed by this write if nothing else uses them.
            others = store.query(
                "SELECT 1 FROM originals WHERE sha256 = ? AND doc_id != ? LIMIT 1",
                (previous.sha256, doc_id),
            )
            if not others:
                budget += previous.size
        if len(data) > budget:
            skipped = SKIPPED_OVER_CAP
            log.warning(
                "original of %s not kept: %d bytes would exceed the originals cap of %d bytes "
                "(SAMSOK_ORIGINALS_MAX_BYTES); the document is indexed without it",
                name,
                len(data),
                max_bytes,
            )
        else:
            _write_blob(data_dir, sha, data)
    record = OriginalRecord(
        doc_id=doc_id,
        sha256=None if skipped else sha,
        size=len(data),
        content_type=content_type,
        name=name,
        skipped=skipped,
    )
    with store.transaction():
        store.execute(
            "INSERT INTO originals(doc_id, sha256, size, content_type, name, kept_at, skipped) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(doc_id) DO UPDATE SET "
            "sha256 = excluded.sha256, size = excluded.size, "
            "content_type = excluded.content_type, name = excluded.name, "
            "kept_at = excluded.kept_at, skipped = excluded.skipped",
            (doc_id, record.sha256, record.size, content_type, name, now_iso(), skipped),
        )
    if previous is not None and previous.sha256 and previous.sha256 != record.sha256:
        delete_blob_if_unused(store, data_dir, previous.sha256)
    return record


def release_original(store: Store, doc_id: str) -> str | None:
    """Drop the document's row (call inside the removal's transaction).

    Returns the digest whose file is now unused, for `delete_blob_if_unused` after commit.
    """
    rows = store.query("SELECT sha256 FROM originals WHERE doc_id = ?", (doc_id,))
    if not rows:
        return None
    store.execute("DELETE FROM originals WHERE doc_id = ?", (doc_id,))
    sha = rows[0][0]
    return sha if sha and not _sha_in_use(store, sha) else None


def delete_blob_if_unused(store: Store, data_dir: Path, sha256: str) -> bool:
    if _sha_in_use(store, sha256):
        return False
    path = blob_path(data_dir, sha256)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def original_for(store: Store, doc_id: str) -> OriginalRecord | None:
    rows = store.query(
        "SELECT doc_id, sha256, size, content_type, name, skipped FROM originals WHERE doc_id = ?",
        (doc_id,),
    )
    if not rows:
        return None
    r = rows[0]
    return OriginalRecord(r[0], r[1], r[2], r[3], r[4], r[5])


def originals_stats(store: Store) -> OriginalsStats:
    row = store.query(
        "SELECT COUNT(*) FILTER (WHERE sha256 IS NOT NULL), "
        "COUNT(DISTINCT sha256), COUNT(*) FILTER (WHERE sha256 IS NULL) FROM originals"
    )[0]
    return OriginalsStats(
        documents=int(row[0]), files=int(row[1]), bytes=_stored_bytes(store), skipped=int(row[2])
    )
