"""The index: `SearchIndex` over the store, the FAISS dense index and the FTS5 lexical run."""
