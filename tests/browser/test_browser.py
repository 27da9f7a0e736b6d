"""The pages in a real browser: search, compare, document, briefing export, keyboard, phone.

Screenshots of the main pages go to test-artifacts/screenshots/ (git-ignored); copies of
search.png, compare.png and document.png are kept in docs/screenshots/.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from samsok.ingest.documents import doc_id_for_url

from tests.api.conftest import PDF_URL

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP_TALL = {"width": 1280, "height": 1320}


def test_search_with_a_filter_and_open_a_result(page, screenshots: Path) -> None:
    page.goto("/")
    page.get_by_label("Hva leter du etter?").fill("legevakt")
    page.get_by_role("button", name="Søk", exact=True).click()
    page.wait_for_url(re.compile(r"q=legevakt"))
    assert page.locator(".hit").count() >= 4
    # The first results only: the hostile fixture document further down is not for the docs.
    page.set_viewport_size(DESKTOP_TALL)
    page.screenshot(path=screenshots / "search.png")

    page.get_by_label("Region", exact=True).select_option("vaernes")
    page.get_by_role("button", name="Søk", exact=True).click()
    page.wait_for_url(re.compile(r"region=vaernes"))
    badges = page.locator(".hit .badge").all_inner_texts()
    assert badges and set(badges) == {"Værnes"}

    first = page.locator(".hit__title a").first
    title = first.inner_text()
    first.click()
    assert page.locator("h1").inner_text() == title
    assert page.get_by_role("heading", name="Lignende dokumenter").is_visible()


def test_compare_shows_both_regions_side_by_side(page, screenshots: Path) -> None:
    page.goto("/compare")
    page.get_by_label("Hva vil du sammenligne?").fill("legevakt")
    page.get_by_role("button", name="Sammenlign", exact=True).click()
    orkdal = page.locator(".column--orkdal")
    vaernes = page.locator(".column--vaernes")
    assert orkdal.get_by_role("heading", name="Orkdalsregionen", exact=True).is_visible()
    assert vaernes.get_by_role("heading", name="Værnesregionen", exact=True).is_visible()
    left, right = orkdal.bounding_box(), vaernes.bounding_box()
    assert left["x"] < right["x"] and abs(left["y"] - right["y"]) < 2
    # Rank 1 of each region starts at the same height (rows aligned across columns).
    first_left = orkdal.locator(".column__item").first.bounding_box()
    first_right = vaernes.locator(".column__item").first.bounding_box()
    assert abs(first_left["y"] - first_right["y"]) < 2
    page.set_viewport_size(DESKTOP_TALL)
    page.screenshot(path=screenshots / "compare.png")

    orkdal.get_by_role(
        "link", name=re.compile("Se tilsvarende erfaring i Værnesregionen")
    ).first.click()
    assert page.locator("h1").inner_text() == "Tilsvarende erfaring i Værnesregionen"
    assert set(page.locator(".hit .badge").all_inner_texts()) == {"Værnes"}


def test_document_page_has_pages_and_similar_lists(page, screenshots: Path) -> None:
    page.goto(f"/documents/{doc_id_for_url(PDF_URL)}")
    assert page.locator("h1").inner_text().startswith("Sluttrapport")
    assert page.locator("#side-2").is_visible()
    assert page.locator("#side-2 a").get_attribute("href") == f"{PDF_URL}#page=2"
    assert page.locator(".similar__group").count() == 2
    page.screenshot(path=screenshots / "document.png", full_page=True)


def test_build_and_export_a_briefing(page, screenshots: Path) -> None:
    page.goto("/?q=velferdsteknologi")
    boxes = page.get_by_role("checkbox")
    boxes.nth(0).check()
    boxes.nth(1).check()
    picked_titles = page.locator(".hit__title").all_inner_texts()[:2]
    page.get_by_role("button", name="Lag briefing av valgte treff").click()
    page.wait_for_url(re.compile(r"/briefing\?.*pick="))
    assert page.locator(".briefing-item").count() == 2
    assert page.get_by_role("button", name="Skriv ut").is_visible()  # shown by script
    page.screenshot(path=screenshots / "briefing.png", full_page=True)

    with page.expect_download() as info:
        page.get_by_role("link", name="Last ned som Markdown").click()
    download = info.value
    assert download.suggested_filename == f"samsok-briefing-{date.today().isoformat()}.md"
    markdown = Path(download.path()).read_text("utf-8")
    assert markdown.startswith("# Briefing: velferdsteknologi")
    for title in picked_titles:
        assert title.replace("<", "\\<").replace(">", "\\>") in markdown
    assert "<mark>" not in markdown

    # Reload keeps the picks (they live in the URL); print media hides the controls.
    page.reload()
    assert page.locator(".briefing-item").count() == 2
    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible()
    assert not page.get_by_role("link", name="Last ned som Markdown").is_visible()


def test_keyboard_only_search(page) -> None:
    page.goto("/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Hopp til hovedinnholdet"
    assert page.locator(".skip-link").is_visible()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "q"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # visible focus
    page.keyboard.type("legevakt")
    page.keyboard.press("Tab")  # Søk button
    page.keyboard.press("Tab")  # region select
    assert page.evaluate("document.activeElement.id") == "region"
    page.keyboard.press("ArrowDown")  # first region in the list: Orkdal
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")  # submit with the focused Søk button
    page.wait_for_url(re.compile(r"q=legevakt"))
    assert "region=orkdal" in page.url
    assert set(page.locator(".hit .badge").all_inner_texts()) == {"Orkdal"}
    # The result checkboxes are reachable and operable with the keyboard too.
    page.locator(".hit__title a").first.focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    active = page.evaluate("document.activeElement.type")
    if active != "checkbox":  # a hit with an also-published link has one more stop
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.type") == "checkbox"
    page.keyboard.press("Space")
    assert page.evaluate("document.activeElement.checked")


def test_phone_width_stacks_the_columns(chromium, live_server: str, screenshots: Path) -> None:
    context = chromium.new_context(
        base_url=live_server, viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    try:
        page.goto("/compare?q=legevakt")
        orkdal = page.locator(".column--orkdal").bounding_box()
        vaernes = page.locator(".column--vaernes").bounding_box()
        assert vaernes["y"] >= orkdal["y"] + orkdal["height"] - 1  # stacked, Orkdal first
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=screenshots / "compare-phone.png", full_page=True)
        page.goto("/?q=velferdsteknologi")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=screenshots / "search-phone.png", full_page=True)
    finally:
        context.close()


def test_works_without_javascript(chromium, live_server: str) -> None:
    context = chromium.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/")
        page.get_by_label("Hva leter du etter?").fill("utskrivning")
        page.get_by_label("Type", exact=True).select_option("report")
        page.get_by_role("button", name="Søk", exact=True).click()
        page.wait_for_url(re.compile(r"type=report"))
        assert page.locator(".hit").count() >= 1
        page.get_by_role("checkbox").first.check()
        page.get_by_role("button", name="Lag briefing av valgte treff").click()
        assert page.locator(".briefing-item").count() == 1
        assert not page.get_by_role("button", name="Skriv ut").is_visible()  # needs script
    finally:
        context.close()
