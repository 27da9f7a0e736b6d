"""Body text the precision cascade used to drop comes back; clutter recall mode finds stays out.

`merge_recall` decides which recall-only blocks are body; `rescue_orphans` finds body prose
outside any `<p>`. Both are also exercised end to end through `extract_html`.
"""

from __future__ import annotations

from lxml import html as lxml_html
from samsok.ingest.config import ExtractConfig
from samsok.ingest.extract import extract_html
from samsok.ingest.extract.html_orphans import rescue_orphans
from samsok.ingest.extract.html_recall import merge_recall

P1 = "Kommunene i regionen har i flere år samarbeidet om legevakt og jordmortjeneste."
P2 = "Nå vil de også se på et felles tilbud for rehabilitering etter sykehusopphold."
P3 = "Styringsgruppen legger fram sin anbefaling for kommunestyrene i løpet av høsten."
NEW = "Prosjektleder Kari Nordmann sier at arbeidet har gått raskere enn ventet i år."


def _tree(body: str = "") -> lxml_html.HtmlElement:
    return lxml_html.document_fromstring(f"<html><body>{body or '<p>x</p>'}</body></html>")


def test_recall_only_body_prose_is_added_in_place() -> None:
    merged, added = merge_recall([P1, P3], [P1, NEW, P3], _tree())
    assert merged == [P1, NEW, P3] and added == 1


def test_recall_only_clutter_stays_out() -> None:
    shouting = "LES OGSÅ: KOMMUNEN VIL BYGGE NYTT SYKEHJEM I SENTRUM NESTE ÅR, SIER ORDFØREREN."
    link = "Se alle sakene om samhandlingsreformen i Orkdalsregionen her på nettsiden vår."
    caption = "Ordfører Ola Nordmann og rådmann Kari Nordmann klipper snoren ved åpningen i dag."
    tree = _tree(
        f"<p>{P1}</p><a href='/x'>{link}</a><figure><img src='a.jpg'>"
        f"<figcaption>{caption}</figcaption></figure>"
    )
    recall = [P1, shouting, link, caption, "# Sidetittel", P3]
    merged, added = merge_recall([P1, P3], recall, tree)
    assert merged == [P1, P3] and added == 0


def test_section_heading_comes_back_but_not_a_standfirst() -> None:
    recall = [P1, "## Veien videre", NEW, "## Kommunene er fornøyd med samarbeidet.", P3]
    merged, _ = merge_recall([P1, P3], recall, _tree())
    assert merged == [P1, "## Veien videre", NEW, P3]


def test_short_line_and_list_between_kept_blocks_come_back() -> None:
    merged, _ = merge_recall([P1, P3], [P1, "Han sier:", P3], _tree())
    assert merged == [P1, "Han sier:", P3]
    items = "- Felles legevakt\n- Felles jordmortjeneste\n- Felles brukerkontor"
    merged, _ = merge_recall([P1, P3], [P1, items, P3], _tree())
    assert merged == [P1, items, P3]


def test_list_announced_by_a_colon_comes_back_unless_it_is_a_menu() -> None:
    intro = "Prosjektet har tre mål:"
    items = "- Bedre pasientforløp\n- Mer forebygging\n- Felles kompetanse"
    merged, _ = merge_recall([P1, intro], [P1, intro, items], _tree())
    assert merged == [P1, intro, items]
    menu = "- Forside\n- Nyheter\n- Kontakt"
    tree = _tree("<a href='/'>Forside</a><a href='/n'>Nyheter</a><a href='/k'>Kontakt</a>")
    merged, _ = merge_recall([P1, intro], [P1, intro, menu], tree)
    assert merged == [P1, intro]


def test_orphan_lead_beside_the_paragraphs_is_rescued_but_not_comments() -> None:
    lead = "Fire kommuner skal nå utrede et felles distriktsmedisinsk senter med sengeplasser."
    comment = "Dette var en god nyhet for oss som bor langt fra sykehuset, synes jeg faktisk."
    tree = _tree(
        f"<div class='article'><div class='summary'>{lead}</div>"
        f"<div class='text'><p>{P1}</p><p>{P2}</p><p>{P3}</p></div></div>"
        f"<div class='comments'><div class='comment'>{comment}</div></div>"
    )
    blocks, added = rescue_orphans([P1, P2, P3], tree)
    assert blocks == [lead, P1, P2, P3] and added == 1


def test_br_separated_paragraphs_are_rescued() -> None:
    tree = _tree(
        f"<div class='content'>{NEW}<br><br><p>{P1}</p>{P2}<br><br>{P3}<br><br>"
        "Les mer: <a href='/x'>https://example.no/sak</a></div>"
    )
    blocks, added = rescue_orphans([P1, P2], tree)
    # NEW comes back in its place; P3 comes after the last extracted block, where comments
    # and notices live, so it is left out (on purpose: see rescue_orphans).
    assert blocks == [NEW, P1, P2] and added == 1
    blocks, _ = rescue_orphans([P1, P3], tree)
    assert blocks == [NEW, P1, P2, P3]


def test_extract_html_keeps_a_lead_outside_any_paragraph() -> None:
    lead = "Fire kommuner skal nå utrede et felles distriktsmedisinsk senter med sengeplasser."
    body = "".join(f"<p>{p} {p}</p>" for p in (P1, P2, P3))
    page = (
        "<html><head><title>Felles senter</title></head><body><nav><a href='/'>Forside</a>"
        f"</nav><div class='article'><h1>Felles senter</h1><div class='summary'>{lead}</div>"
        f"<div class='text'>{body}</div></div><footer>Kontakt oss</footer></body></html>"
    )
    extracted = extract_html(page, "https://x.no/sak", ExtractConfig())
    text = extracted.pages[0].text
    assert lead in text and P1 in text and P3 in text
    assert text.index(lead) < text.index(P1)
    assert "Forside" not in text and "Kontakt oss" not in text
