"""Prepare a parsed page for main-content extraction: unwrap layout tables, prune chrome.

Old Norwegian municipal CMSs (KommuneWeb, early Enonic/Joomla themes) lay pages out with
tables: menu, article and sidebar are cells of one big table. Main-content extractors see
one huge data table and return it whole, cells glued together. A table is a layout table
when it holds another table, or block content (headings, paragraphs, lists, divs, forms) in
its cells, or says `role="presentation"`; its table/row/cell elements become `<div>`s
(ids and classes kept) so the extractor sees sections again. Data tables stay tables.

Chrome is then removed: `<nav>` elements, and by class token or id, in English and
Norwegian CMS vocabulary:
cookie/consent banners, accessibility toolbars (`tilgjengelighet`, text size, contrast),
weather bars (`weather`, `vaer`), breadcrumbs (`brodsmuler`), previous/next teasers
(`forrigeneste`, `post-navigation`), ad slots (`annonse`, `advert`, `adrotate`), share
buttons, tool rows (`verktoy`), footers kept in divs or cells (`footer`, `bunn`,
`sidefot`). Matching is per class token (a substring of the whole class attribute is too
loose: WordPress puts "category-native-advertising" on the article itself), and an element
holding the `<h1>`, half of the page's text or three long paragraphs is never chrome.
"""

from __future__ import annotations

import copy
import re

from lxml.etree import _Element

__all__ = ["prepare_for_extraction", "unwrap_layout_tables"]

_CHROME_TOKEN = re.compile(
    r"cookie|consent|gdpr|weather|^vaer$|vaermelding|accessibility|a11y|tilgjengelighet|"
    r"^textsize|^fontsize|^font-size|^contrast|^kontrast|breadcrumb|brodsmule|"
    r"next-prev|prev-next|forrigeneste|forrige-neste|post-navigation|^nav-(previous|next)$|"
    r"article-nav|__prev$|__next$|^pagination$|^paging$|^pager$|"
    r"^adrotate|^advert|^ads?$|^ads?[-_]|^annonse|^td-a-rec|share-buttons|^sharing|"
    r"social-share|sharedaddy|^del-denne|^verktoy|^footer|^bunn$|^bunntekst|^sidefot",
    re.IGNORECASE,
)
_BLOCK_XPATH = (
    ".//h1|.//h2|.//h3|.//h4|.//h5|.//h6|.//p|.//ul|.//ol|.//div|.//form|.//table|.//article"
)
_LONG_PARAGRAPH = 150
#: Long paragraphs that make an element article, not chrome (by hand: more than a teaser).
_ARTICLE_PARAGRAPHS = 3
_TABLE_PARTS = ("table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption")


def _is_layout_table(table: _Element) -> bool:
    if (table.get("role") or "").lower() == "presentation":
        return True
    if table.find(".//table") is not None:
        return True
    cells = table.xpath("./tr/td|./tr/th|./*/tr/td|./*/tr/th")
    return any(cell.xpath(_BLOCK_XPATH) for cell in cells)


def unwrap_layout_tables(tree: _Element) -> None:
    """Turn layout tables (and their own rows and cells) into divs, in place; a data table
    nested in a layout table keeps its structure."""
    layout = {table for table in tree.iter("table") if _is_layout_table(table)}
    if not layout:
        return
    renamed = []
    for part in tree.iter(*_TABLE_PARTS):
        owner = part if part.tag == "table" else next(part.iterancestors("table"), None)
        if owner in layout:
            renamed.append(part)
    for part in renamed:
        part.tag = "div"


def _holds_article(element: _Element, page_chars: int) -> bool:
    """Too much of the page to be chrome: the `<h1>`, half the text, or three long
    paragraphs (a class like "pagination-first" can wrap a whole article)."""
    if element.find(".//h1") is not None or len(element.text_content()) >= page_chars / 2:
        return True
    long_paragraphs = 0
    for paragraph in element.iter("p"):
        if len(paragraph.text_content()) >= _LONG_PARAGRAPH:
            long_paragraphs += 1
            if long_paragraphs >= _ARTICLE_PARAGRAPHS:
                return True
    return False


def _prune_chrome(tree: _Element) -> None:
    total = len(tree.text_content()) or 1
    # <nav> never holds the main text; trafilatura's fallbacks sometimes take it anyway
    # (a "previous/next article" nav on a listing page).
    doomed = [nav for nav in tree.iter("nav") if nav.find(".//h1") is None]
    for element in tree.xpath("//*[@class or @id or @rel]"):
        if element.tag in ("html", "body"):
            continue
        tokens = [*(element.get("class") or "").split(), element.get("id") or ""]
        sponsored = element.tag == "a" and "sponsored" in (element.get("rel") or "")
        chrome = sponsored or any(_CHROME_TOKEN.search(token) for token in tokens if token)
        if chrome and not _holds_article(element, total):
            doomed.append(element)
    for element in doomed:
        # `drop_tree` keeps the text after the element (lxml's `remove` drops that tail, so
        # an ad slot inside a paragraph took the rest of the paragraph). An element can be
        # doomed twice (a nav with a chrome class): the second time it has no parent.
        if element.getparent() is not None:
            element.drop_tree()


def prepare_for_extraction(tree: _Element) -> _Element:
    """A copy of `tree` with layout tables unwrapped and chrome pruned."""
    prepared = copy.deepcopy(tree)
    unwrap_layout_tables(prepared)
    _prune_chrome(prepared)
    return prepared
