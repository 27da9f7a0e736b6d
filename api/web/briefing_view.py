"""`/briefing`: the picks assembled into one `Briefing` by one function, then rendered as
JSON (the model), a Markdown download, or the printable page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from samsok.api.deps import get_index, today
from samsok.api.web.briefing import (
    Briefing,
    BriefingRequest,
    Pick,
    build_briefing,
    markdown_filename,
    render_markdown,
    resolve_picks,
)
from samsok.api.web.forms import SearchForm, link, read_form
from samsok.api.web.pages import PAGE_SIZE  # the form the picks came from
from samsok.api.web.render import render_view
from samsok.search.index import SearchIndex
from samsok.search.schemas import MAX_QUERY_CHARS

__all__ = [
    "BriefingPage",
    "assemble_briefing",
    "briefing_page",
    "briefing_page_view",
    "markdown_response",
]


def assemble_briefing(index: SearchIndex, wanted: BriefingRequest, created: date) -> Briefing:
    """The one place a briefing's data is computed, whatever it is rendered as."""
    hits, missing = resolve_picks(index, wanted.picks, wanted.q)
    return build_briefing(wanted.q, created, hits, missing)


def markdown_response(briefing: Briefing) -> Response:
    return Response(
        render_markdown(briefing),
        media_type="text/markdown; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{markdown_filename(briefing)}"'},
    )


@dataclass
class BriefingPage:
    briefing: Briefing
    form: SearchForm
    markdown_url: str
    back_url: str
    back_label: str
    remove_urls: dict[str, str]


def briefing_page_view(
    index: SearchIndex, form: SearchForm, came_from_compare: bool, created: date
) -> BriefingPage:
    # read_form has dropped malformed picks (with a note); an over-long query is cut, not fatal.
    wanted = BriefingRequest(
        q=form.values["q"][:MAX_QUERY_CHARS], picks=[Pick.parse(p) for p in form.picks]
    )
    briefing = assemble_briefing(index, wanted, created)
    base = [("q", form.values["q"]), *[("pick", p) for p in form.picks]]
    back_path = "/compare" if came_from_compare else "/"
    return BriefingPage(
        briefing=briefing,
        form=form,
        markdown_url=link("/briefing", [*base, ("format", "md")]),
        back_url=link(back_path, form.params(page=form.page)),
        back_label="Tilbake til sammenligningen" if came_from_compare else "Tilbake til søket",
        remove_urls={
            f"{item.doc_id}:{item.chunk_id}": link(
                "/briefing",
                [
                    *[(k, v) for k, v in form.params(picks=False)],
                    *[("pick", p) for p in form.picks if p != f"{item.doc_id}:{item.chunk_id}"],
                    ("from", "compare" if came_from_compare else ""),
                ],
            )
            for item in briefing.items
        },
    )


def briefing_page(request: Request) -> HTMLResponse:
    """The printable page: the picks are read leniently (a bad one is noted, not fatal)."""
    params = request.query_params
    came_from_compare = params.get("from") == "compare"
    form = read_form(params, params.getlist("pick"), limit=PAGE_SIZE, regions=not came_from_compare)
    view = briefing_page_view(get_index(request), form, came_from_compare, today(request))
    return render_view(request, "briefing.html", view)
