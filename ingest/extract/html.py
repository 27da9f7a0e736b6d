"""HTML → `ExtractedPage`: main text without clutter, title, date, language, links.

The main-text cascade (each stage runs only when the previous one gave less than
`ExtractConfig.min_text_length` characters; if none reaches it, the longest result wins;
the winner is recorded in `metadata["extractor"]`):

1. ``trafilatura-<favour>`` — trafilatura with the configured favour (precision by
   default), comments off, tables on, on a copy of the page with layout tables unwrapped
   and CMS chrome pruned (`samsok.ingest.extract.html_prepare`), and its internal fallbacks
   (readability/jusText comparison) on; section headings it drops are put back
   (`samsok.ingest.extract.html_headings`). Unless the favour is recall, the body text it
   dropped comes back from stage 2's run (`samsok.ingest.extract.html_recall`) and from
   text outside any `<p>` (`samsok.ingest.extract.html_orphans`).
2. ``trafilatura-recall`` — trafilatura favouring recall (skipped if stage 1 already did).
3. ``dom-rescue`` — bs4: the first `<article>`, `<main>`, `[role=main]`, `#content` or
   `<body>`, without script/nav/header/footer/aside, as headings, paragraphs, list items.

A body with no markup at all (a text extract) skips the cascade: ``plain-text``.
Every stage's blocks then pass `html_blocks.drop_chrome`. The text format (blank-line
separated blocks, `## ` headings, `- ` list items) is described in
`samsok.ingest.extract.html_blocks`. The page title, when repeated as a heading among the
first blocks, is kept apart (`title`), not in the text.
"""

from __future__ import annotations

import logging
import re

import trafilatura
from bs4 import BeautifulSoup
from lxml import html as lxml_html
from lxml.etree import ParserError, _Element
from samsok.ingest.config import ExtractConfig
from samsok.ingest.documents import HTML_TYPE, TEXT_TYPE, ExtractedPage, Page
from samsok.ingest.errors import EmptyContent
from samsok.ingest.extract.dates import DateFinder
from samsok.ingest.extract.html_blocks import (
    blocks_from_plain_text,
    blocks_from_soup,
    blocks_from_trafilatura,
    drop_chrome,
    heading_level,
    is_date_line,
    join_blocks,
)
from samsok.ingest.extract.html_decode import decode_html
from samsok.ingest.extract.html_headings import restore_headings
from samsok.ingest.extract.html_meta import canonical_url, extract_links, extract_title
from samsok.ingest.extract.html_orphans import rescue_orphans
from samsok.ingest.extract.html_prepare import prepare_for_extraction
from samsok.ingest.extract.html_recall import merge_recall, side_texts
from samsok.ingest.extract.language import detect_language
from samsok.ingest.extract.listing import ListingVerdict, detect_listing

__all__ = ["extract_html", "looks_like_html"]

logger = logging.getLogger(__name__)

_TAG = re.compile(r"<(!doctype|html|head|body|div|p|a|span|br|table|meta|title|script)\b", re.I)
_WORD = re.compile(r"\w+")
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
#: The title is looked for among the first blocks only: by hand, a site-name line and a date
#: may come before it; further down a heading equal to the title is the text's own.
_TITLE_SEARCH = 3
_RESCUE_SELECTORS = ["article", "main", "[role=main]", "#content", "#main", ".content", "body"]
_RESCUE_DROP = ["script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe"]


def looks_like_html(text: str) -> bool:
    """True when the first 2 KiB hold an HTML tag (plain text extracts do not)."""
    return bool(_TAG.search(text[:2048]))


def _parse(text: str) -> _Element | None:
    cleaned = _XML_DECLARATION.sub("", _INVALID_XML.sub("", text))
    if not cleaned.strip():
        return None
    try:
        parser = lxml_html.HTMLParser(recover=True, remove_comments=True, remove_pis=True)
        return lxml_html.document_fromstring(cleaned, parser=parser)
    except (ParserError, ValueError) as exc:
        logger.debug("lxml could not parse the page: %s", exc)
        return None


def _trafilatura(tree: _Element, url: str, favour: str) -> list[str]:
    try:
        document = trafilatura.bare_extraction(
            tree,
            url=url or None,
            favor_precision=favour == "precision",
            favor_recall=favour == "recall",
            include_comments=False,
            include_tables=True,
            include_images=False,
            include_links=False,
            include_formatting=False,
            with_metadata=False,
        )
    except Exception as exc:  # trafilatura/lxml raise many things on odd trees
        logger.warning("trafilatura failed on %s: %s", url, exc)
        return []
    body = getattr(document, "body", None) if document is not None else None
    return restore_headings(blocks_from_trafilatura(body), tree)


def _rescue(text: str) -> list[str]:
    soup = BeautifulSoup(text, "lxml")
    for element in soup.find_all(_RESCUE_DROP):
        element.decompose()
    for selector in _RESCUE_SELECTORS:
        container = soup.select_one(selector)
        if container is not None and container.get_text(strip=True):
            return blocks_from_soup(container)
    return []


def _main_blocks(
    tree: _Element, text: str, url: str, config: ExtractConfig, metadata: dict[str, str]
) -> tuple[list[str], str]:
    pruned = prepare_for_extraction(tree)
    recall_run: list[list[str]] = []

    def recall() -> list[str]:
        if not recall_run:  # run once: the first stage's merge and stage 2 share it
            recall_run.append(_trafilatura(pruned, url, "recall"))
        return recall_run[0]

    def first() -> list[str]:
        blocks = _trafilatura(pruned, url, config.favour)
        if config.favour == "recall":
            return blocks
        side = side_texts(pruned)  # link labels and captions, shared by both rescues
        merged, added = merge_recall(blocks, recall(), pruned, side)
        merged, orphans = rescue_orphans(merged, pruned, side)
        metadata["recall_blocks_added"] = str(added + orphans)
        return merged

    stages = [(f"trafilatura-{config.favour}", first)]
    if config.favour != "recall":
        stages.append(("trafilatura-recall", recall))
    stages.append(("dom-rescue", lambda: _rescue(text)))
    best: tuple[list[str], str] = ([], "none")
    best_len = -1
    for name, stage in stages:
        blocks = drop_chrome(stage())
        length = len(join_blocks(blocks))
        if length > best_len:
            best, best_len = (blocks, name), length
        if length >= config.min_text_length:
            return blocks, name
        logger.debug("%s gave %d chars for %s; trying the next stage", name, length, url)
    if _only_link_labels(best[0], tree):
        return [], best[1]
    return best


def _without_title(blocks: list[str], title: str) -> list[str]:
    """`blocks` without the page title repeated as a heading above the text (trafilatura
    often repeats the `<h1>`; a print page puts the site name above it): the title is kept
    apart, and repeated it breaks the text's first sentence off from its heading."""
    for index, block in enumerate(blocks[:_TITLE_SEARCH]):
        if heading_level(block) and block.lstrip("# ").strip() == title:
            return blocks[:index] + blocks[index + 1 :]
    return blocks


def _only_link_labels(blocks: list[str], tree: _Element) -> bool:
    """True when (short) text is made of link labels: a menu, not content."""
    words = _WORD.findall(join_blocks(blocks).lower())
    if not words:
        return False
    labels = {w for a in tree.iter("a") for w in _WORD.findall(a.text_content().lower())}
    return sum(word in labels for word in words) >= 0.9 * len(words)


def _plain_title(blocks: list[str]) -> str:
    """The first title-like line (short, no sentence punctuation at the end), else the first
    short line; dates and list items are never titles."""
    lines = [
        line.lstrip("# ").strip()
        for block in blocks
        for line in block.split("\n")
        if not line.startswith("- ")
    ]
    candidates = [line for line in lines if 3 <= len(line) <= 150 and not is_date_line(line)]
    for line in candidates[:12]:
        if not line.endswith((".", ":", ",", ";", "?", "!", "…")):
            return line
    return candidates[0] if candidates else ""


def _language(blocks: list[str], title: str, config: ExtractConfig) -> str | None:
    body = "\n".join(block.lstrip("#- ") for block in blocks)
    return detect_language(f"{title}\n{body}", config.language_min_chars)


def _page_text(blocks: list[str]) -> list[Page]:
    text = join_blocks(blocks)
    return [Page(number=None, text=text)] if text else []


def _page(
    tree: _Element | None,
    url: str,
    content_type: str,
    title: str,
    blocks: list[str],
    verdict: ListingVerdict,
    config: ExtractConfig,
    metadata: dict[str, str],
    *,
    extractor: str,
    title_source: str,
) -> ExtractedPage:
    """The page from its final blocks (date, language, links from `tree` if HTML).

    Raises `EmptyContent` (carrying the page) when no text is left.
    """
    published, date_source = DateFinder(config).find(tree, url, blocks, verdict.has_teasers)
    metadata.update(
        extractor=extractor,
        title_source=title_source,
        date_source=date_source,
        listing_signals=verdict.describe(),
    )
    page = ExtractedPage(
        url=url,
        content_type=content_type,
        title=title,
        pages=_page_text(blocks),
        published=published,
        language=_language(blocks, title, config),
        links=extract_links(tree, url) if tree is not None else [],
        canonical_url=canonical_url(tree, url) if tree is not None else None,
        is_listing=verdict.is_listing,
        metadata=metadata,
    )
    if not page.pages:
        raise EmptyContent("no text in the page", url=page.url, page=page)
    return page


def _extract_plain(
    text: str, url: str, config: ExtractConfig, metadata: dict[str, str]
) -> ExtractedPage:
    blocks = drop_chrome(blocks_from_plain_text(text))
    verdict = detect_listing(None, blocks)
    if verdict.own_blocks is not None:  # own prose above a teaser list: the prose only
        blocks = list(verdict.own_blocks)
    title = _plain_title(blocks)
    # The title line is the page's heading: keep it out of the body text.
    if blocks and blocks[0].split("\n")[0].strip() == title:
        rest = blocks[0].split("\n")[1:]
        blocks = (["\n".join(rest)] if rest else []) + blocks[1:]
    return _page(
        None,
        url,
        TEXT_TYPE,
        title,
        blocks,
        verdict,
        config,
        metadata,
        extractor="plain-text",
        title_source="first-line",
    )


def extract_html(
    body: bytes | str,
    url: str,
    config: ExtractConfig,
    declared_encoding: str | None = None,
) -> ExtractedPage:
    """Extract one HTML page. `declared_encoding` is the HTTP Content-Type charset.

    Raises `EmptyContent` (with the partial page, links included, as `.page`) when no
    main text is found.
    """
    decoded = decode_html(body, declared_encoding)
    text = decoded.text[: config.max_html_chars]
    metadata = {"encoding": decoded.encoding, "encoding_source": decoded.source}
    tree = _parse(text) if looks_like_html(text) else None
    if tree is None:
        return _extract_plain(re.sub(r"<[^>]{0,200}>", " ", text), url, config, metadata)
    blocks, stage = _main_blocks(tree, text, url, config, metadata)
    title, title_source = extract_title(tree)
    if not title:
        title = _plain_title(blocks)
        title_source = "first-line" if title else "none"
    blocks = _without_title(blocks, title)
    verdict = detect_listing(tree, blocks)
    if verdict.own_blocks is not None:  # own prose above a teaser list: the prose only
        blocks = list(verdict.own_blocks)
    return _page(
        tree,
        url,
        HTML_TYPE,
        title,
        blocks,
        verdict,
        config,
        metadata,
        extractor=stage,
        title_source=title_source,
    )
