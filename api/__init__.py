"""Interfaces over the search core: HTTP API, web page and the `samsok` CLI."""
