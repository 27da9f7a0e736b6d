"""Publication dates of HTML pages.

The order says which evidence we trust most; the first stage that yields a plausible date
(between `ExtractConfig.earliest_date` and today) wins, and its name is recorded:

1. ``meta`` — htmldate on the page head and JSON-LD only (`article:published_time`,
   `DC.date`, `datePublished`, …), asking for the original date, not the last edit.
2. ``time`` — the first `<time datetime>` outside the page chrome.
3. ``byline`` — a date written next to the article: in a short (or date-classed) element
   around the `<h1>`, or on a byline line ("Publisert 2012-08-27", a bare date) among the
   first/last blocks of the extracted text — not a date inside a sentence, which is an
   event. Parsed with dateparser in Norwegian (`18.06.2019`, `18/06/2019`, `2012-08-27`,
   `15. februar 2011`, `15. feb. 2011`).
4. ``htmldate`` — htmldate's fast search over the page with the chrome pruned.
5. ``url`` — a full year/month/day in the URL path.

Why this order: htmldate on its own looks at the URL first and then at any element with
"date" in its class, which on our CMS pages is the header's weather-and-today bar
("18 °C Stjørdal, NO 18/06/2019"). So the chrome (page header, nav, asides, weather and
today widgets, teasers) is pruned before any text search, and the URL comes last.
Listing pages only use stages 1–2: their other dates belong to the items they list.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Callable
from datetime import date, datetime

from dateparser.date import DateDataParser
from htmldate import find_date
from lxml import html as lxml_html
from lxml.etree import ParserError, _Element
from samsok.ingest.config import ExtractConfig

__all__ = ["TEMPERATURE", "WRITTEN_DATE", "DateFinder", "find_date_strings", "prune_chrome"]

logger = logging.getLogger(__name__)

_MONTHS = (
    r"jan(uar|uary)?|feb(ruar|ruary)?|mar(s|ch)?|apr(il)?|mai|may|jun(i|e)?|jul(i|y)?|"
    r"aug(ust)?|sep(t|tember)?|okt(ober)?|oct(ober)?|nov(ember)?|des(ember)?|dec(ember)?"
)
#: A date as pages write it: ISO, numeric day.month.year, or with the month's name (Norwegian
#: or English) on either side of the day. Unanchored: each use bounds it its own way.
WRITTEN_DATE = (
    r"\d{4}-\d{1,2}-\d{1,2}"
    r"|\d{1,2}[./]\d{1,2}[./]\d{4}"
    rf"|\d{{1,2}}\.?\s+({_MONTHS})\.?,?\s+\d{{4}}"
    rf"|({_MONTHS})\.?\s+\d{{1,2}},?\s+\d{{4}}"
)
_DATE_STRING = re.compile(rf"(?<![\d.\-/])({WRITTEN_DATE})(?![\d\-/]|\.\d)", re.IGNORECASE)
#: A weather widget's reading ("-3,5 °C"); `match` it for a line, `search` it in a text.
TEMPERATURE = re.compile(r"-?\d{1,2}([.,]\d)?\s*°\s*[CF]?\b")
_URL_DATE = re.compile(r"/((?:19|20)\d{2})[/-](\d{1,2})[/-](\d{1,2})(?:/|$|[^\d])")
#: Class and id fragments of page chrome, whose dates are not the article's, by kind.
_CHROME_KINDS = (
    r"weather|vaer|værmelding",  # weather widgets (with today's date)
    r"today|current-date|dagens-dato",  # the date of the visit
    r"top-?bar|top-?menu|header-top|toolbar|menu|navbar|breadcrumb|sidebar|footer",  # frame
    r"related|widget_recent|recent-posts|newsticker|ticker",  # teasers of other articles
    r"next-prev|prev-next|post-navigation|nav-previous|nav-next",  # links to neighbours
    r"cookie|consent|share|sharing|social|comment|advert|adrotate",  # notices, add-ons
)
_CHROME_ATTR = re.compile("|".join(_CHROME_KINDS), re.IGNORECASE)
_BYLINE_ATTR = re.compile(r"date|dato|byline|meta|publi|posted|time|tid", re.IGNORECASE)
_BYLINE = re.compile(
    r"^((publisert|oppdatert|sist endret|endret|dato|skrevet|published|posted|updated|date)"
    r"\b[^\n]{0,60}|[^\w]{0,3}\d[\d./ -]*\d[^\w]{0,3}|\d{1,2}\.\s*\w+\.?\s+\d{4}.{0,20})$",
    re.IGNORECASE,
)
_STRUCTURAL_CHROME = ("nav", "aside", "form", "noscript", "script", "style", "iframe", "template")
#: A byline is a short element (or one whose class/id says so): by hand, a line of text ...
_BYLINE_MAX_CHARS = 100
#: ... of which this much is read (a class-marked byline may wrap more than the date).
_BYLINE_READ_CHARS = 200
#: A weather bar's ancestors are pruned with it up to this much text (by hand: the bar and
#: its date, not the header it sits in).
_WEATHER_BAR_MAX_CHARS = 150
#: Levels searched around the `<h1>` for a byline (itself, its parent, its grandparent) ...
_HEADING_LEVELS = 3
#: ... and siblings looked at before and after it on each level (by hand, from the bylines
#: of the mirror's CMSs: the date sits right above or just below the heading).
_SIBLINGS_BEFORE = 2
_SIBLINGS_AFTER = 3
#: Blocks at each end of the text searched for a "Publisert …" line (by hand).
_EDGE_BLOCKS = 3


def _byline_text(element: _Element) -> str:
    if not isinstance(element.tag, str):
        return ""
    text = element.text_content().strip()
    attrs = f"{element.get('class', '')} {element.get('id', '')}"
    if len(text) <= _BYLINE_MAX_CHARS or _BYLINE_ATTR.search(attrs):
        return text[:_BYLINE_READ_CHARS]
    return ""


def find_date_strings(text: str) -> list[str]:
    """Substrings of `text` that look like a complete date (day, month and year)."""
    return [match.group(1) for match in _DATE_STRING.finditer(text)]


def _in_article(element: _Element) -> bool:
    return any(
        a.tag in ("article", "main") or a.get("role") == "main" for a in element.iterancestors()
    )


def prune_chrome(tree: _Element) -> _Element:
    """A copy of `tree` without navigation, asides, widgets, the page header and footer.

    `<header>`/`<footer>` inside an `<article>` stay: that is where bylines live. The
    smallest element around a weather reading ("18 °C") that is still short goes too,
    taking a "today" date printed beside it.
    """
    pruned = copy.deepcopy(tree)
    doomed: list[_Element] = []
    for element in pruned.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag in _STRUCTURAL_CHROME:
            doomed.append(element)
        elif element.tag in ("header", "footer") and not _in_article(element):
            if element.find(".//h1") is None:
                doomed.append(element)
        elif element.tag not in ("html", "body", "article", "main"):
            attrs = f"{element.get('class', '')} {element.get('id', '')}"
            if _CHROME_ATTR.search(attrs) and element.find(".//h1") is None:
                doomed.append(element)
    for element in pruned.iter():
        if isinstance(element.tag, str) and element.text and TEMPERATURE.search(element.text):
            bar = element
            for parent in element.iterancestors():
                if (
                    parent.tag in ("body", "html")
                    or len(parent.text_content()) > _WEATHER_BAR_MAX_CHARS
                ):
                    break
                bar = parent
            doomed.append(bar)
    for element in doomed:
        parent = element.getparent()
        if parent is not None:
            parent.remove(element)
    return pruned


class DateFinder:
    """Finds a page's publication date; one instance per extraction run is enough."""

    def __init__(self, config: ExtractConfig, today: date | None = None) -> None:
        self._config = config
        self._today = today or date.today()
        self._parser = DateDataParser(
            languages=[*config.date_languages, "en"],
            settings={
                "DATE_ORDER": "DMY",
                "REQUIRE_PARTS": ["day", "month", "year"],
                "PREFER_DATES_FROM": "past",
            },
        )

    def plausible(self, value: date | None) -> date | None:
        if value is None or not self._config.earliest_date <= value <= self._today:
            return None
        return value

    def parse(self, text: str) -> date | None:
        """The first plausible complete date written in `text`."""
        for candidate in find_date_strings(text):
            try:
                parsed = self._parser.get_date_data(candidate).date_obj
            except (ValueError, OverflowError, TypeError) as exc:
                logger.debug("dateparser failed on %r: %s", candidate, exc)
                continue
            found = self.plausible(parsed.date() if parsed else None)
            if found:
                return found
        return None

    def _htmldate(self, tree: _Element) -> date | None:
        try:
            found = find_date(
                tree,
                extensive_search=False,
                original_date=True,
                url="",  # no URL guessing here: the URL is our last resort
                min_date=datetime.combine(self._config.earliest_date, datetime.min.time()),
                max_date=datetime.combine(self._today, datetime.max.time()),
            )
        except (ValueError, TypeError, OverflowError) as exc:
            logger.debug("htmldate failed: %s", exc)
            return None
        return self.plausible(date.fromisoformat(found)) if found else None

    def _structured(self, tree: _Element) -> date | None:
        parts = ["<html>"]
        head = tree.find("head")
        if head is not None:
            head = copy.deepcopy(head)
            for element in head.findall("title") + head.findall('link[@rel="canonical"]'):
                head.remove(element)
            parts.append(lxml_html.tostring(head, encoding="unicode"))
        parts.append("<body>")
        for script in tree.iterfind('.//script[@type="application/ld+json"]'):
            parts.append(lxml_html.tostring(script, encoding="unicode"))
        parts.append("</body></html>")
        try:
            minimal = lxml_html.document_fromstring("".join(parts))
        except (ParserError, ValueError):
            return None
        return self._htmldate(minimal)

    def _time_element(self, pruned: _Element) -> date | None:
        for element in pruned.iter("time"):
            value = (element.get("datetime") or "").strip()
            try:
                found = self.plausible(date.fromisoformat(value[:10])) if value else None
            except ValueError:
                found = None
            found = found or self.parse(element.text_content())
            if found:
                return found
        return None

    def _near_heading(self, pruned: _Element) -> date | None:
        """A byline beside the `<h1>`: a short sibling element, or one whose class says
        date/byline, among the h1's, its parent's and its grandparent's siblings."""
        heading = next(pruned.iter("h1"), None)
        if heading is None:
            return None
        texts: list[str] = []
        node: _Element | None = heading
        for _ in range(_HEADING_LEVELS):
            if node is None:
                break
            before = list(node.itersiblings(preceding=True))[:_SIBLINGS_BEFORE]
            siblings = before + list(node.itersiblings())[:_SIBLINGS_AFTER]
            texts += [text for sibling in siblings if (text := _byline_text(sibling))]
            node = node.getparent()
        return self.parse(" \n ".join(texts))

    def _edges(self, blocks: list[str]) -> date | None:
        """A byline among the first or last three blocks of the text: a date on its own or
        after "Publisert", "Oppdatert", "Dato", … (a date inside a sentence is an event)."""
        edges = blocks[:_EDGE_BLOCKS] + blocks[-_EDGE_BLOCKS:]
        lines = [line for block in edges for line in block.split("\n")]
        return self.parse("\n".join(line for line in lines if _BYLINE.match(line.strip())))

    def from_url(self, url: str) -> date | None:
        match = _URL_DATE.search(url)
        if not match:
            return None
        try:
            return self.plausible(date(*(int(part) for part in match.groups())))
        except ValueError:
            return None

    def find(
        self, tree: _Element | None, url: str, blocks: list[str], is_listing: bool
    ) -> tuple[date | None, str]:
        """The publication date and the stage that found it ("none" if none did)."""
        if tree is None:
            found = None if is_listing else self._edges(blocks)
            return found, ("byline" if found else "none")
        pruned: list[_Element] = []  # built on first use: most pages stop at "meta"

        def chrome_free() -> _Element:
            if not pruned:
                pruned.append(prune_chrome(tree))
            return pruned[0]

        stages: list[tuple[str, Callable[[], date | None]]] = [
            ("meta", lambda: self._structured(tree)),
            ("time", lambda: self._time_element(chrome_free())),
        ]
        if not is_listing:
            stages += [
                ("byline", lambda: self._near_heading(chrome_free()) or self._edges(blocks)),
                ("htmldate", lambda: self._htmldate(chrome_free())),
                ("url", lambda: self.from_url(url)),
            ]
        for name, stage in stages:
            found = stage()
            if found is not None:
                return found, name
        return None, "none"
