"""Ingest: fetch → extract → chunk. Yields `Document`s and `Chunk`s; never imports `search`."""
