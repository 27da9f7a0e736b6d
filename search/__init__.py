"""Search: embed → store → index → query. May use `ingest`'s data types; never imports `api`."""
