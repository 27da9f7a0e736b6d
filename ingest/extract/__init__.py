"""Extraction: a fetched body (HTML or PDF) to an `ExtractedPage` of main text and metadata."""
