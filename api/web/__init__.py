"""The web page and the content-negotiated views: one view function per page computes its
data (a model), rendered as JSON, HTML or Markdown.

- `render` — the template environment (`build_templates`, made by `create_app`), content
  negotiation (`wants_html`), security headers and the shared error pages.
- `pages` — search, compare and similar; `document_page`; `briefing_view` (+ `briefing`, the
  briefing model and its Markdown); `feeds` (`/changes` and Atom, with `changes_query`,
  `changes_text` and `atom`); `forms` — the parameter rules the pages and the JSON API share.
"""

from samsok.api.web.atom import atom_feed
from samsok.api.web.briefing import (
    Briefing,
    BriefingItem,
    BriefingRequest,
    Pick,
    build_briefing,
    render_markdown,
)
from samsok.api.web.briefing_view import (
    BriefingPage,
    assemble_briefing,
    briefing_page,
    markdown_response,
)
from samsok.api.web.changes_query import ChangesQuery, changes_link, read_changes_query
from samsok.api.web.changes_text import KIND_LABELS, change_summary
from samsok.api.web.document_page import DocumentPage, document_page, document_view
from samsok.api.web.feeds import ChangesPage, changes_view
from samsok.api.web.feeds import router as feeds_router
from samsok.api.web.forms import (
    DocIdPath,
    LimitQuery,
    SearchForm,
    describe_error,
    link,
    read_form,
    shown,
)
from samsok.api.web.links import source_href
from samsok.api.web.pages import (
    COMPARE_SIZE,
    ComparePage,
    SearchPage,
    SimilarPage,
    compare_page,
    compare_view,
    search_view,
    similar_view,
)
from samsok.api.web.pages import router as pages_router
from samsok.api.web.render import (
    HTML_TOO,
    SECURITY_HEADERS,
    build_templates,
    invalid_page,
    not_found_page,
    render,
    render_view,
    static_files,
    static_version,
    wants_html,
)

__all__ = [
    "COMPARE_SIZE",
    "HTML_TOO",
    "KIND_LABELS",
    "SECURITY_HEADERS",
    "Briefing",
    "BriefingItem",
    "BriefingPage",
    "BriefingRequest",
    "ChangesPage",
    "ChangesQuery",
    "ComparePage",
    "DocIdPath",
    "DocumentPage",
    "LimitQuery",
    "Pick",
    "SearchForm",
    "SearchPage",
    "SimilarPage",
    "assemble_briefing",
    "atom_feed",
    "briefing_page",
    "build_briefing",
    "build_templates",
    "change_summary",
    "changes_link",
    "changes_view",
    "compare_page",
    "compare_view",
    "describe_error",
    "document_page",
    "document_view",
    "feeds_router",
    "invalid_page",
    "link",
    "markdown_response",
    "not_found_page",
    "pages_router",
    "read_changes_query",
    "read_form",
    "render",
    "render_markdown",
    "render_view",
    "search_view",
    "shown",
    "similar_view",
    "source_href",
    "static_files",
    "static_version",
    "wants_html",
]
