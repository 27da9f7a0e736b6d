"""Issue 12 in a real browser: local PDFs open at the cited page, Norwegian date entry, and
"Nytt og endret" on the mirror with a briefing made from it (the README screenshots)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from samsok.api.app import create_app
from samsok.api.services import Services
from samsok.api.settings import Settings
from samsok.ingest.documents import Region
from samsok.search.schemas import SearchMode, SearchRequest

from tests.fakes import HashingEmbedder
from tests.mirror_edits import ADDED, CHANGED, PDF, REMOVED, edit_mirror
from tests.paths import PROJECT_ROOT
from tests.servers import serve_app

pytestmark = pytest.mark.browser

MIRROR = PROJECT_ROOT / "corpus" / "mirror"
REPORT = MIRROR / "www.varnesregionen.no/dokumenter/2011/Forprosjekt_DMS_Vaernesregionen.pdf"
DESKTOP_TALL = {"width": 1280, "height": 1320}
# Chromium's PDF viewer: the page number box in its toolbar (inside shadow roots).
VIEWER_PAGE = """() => {
  const viewer = document.querySelector('pdf-viewer');
  const toolbar = viewer && viewer.shadowRoot.querySelector('viewer-toolbar');
  const selector = toolbar && toolbar.shadowRoot.querySelector('viewer-page-selector');
  const input = selector && selector.shadowRoot.querySelector('input');
  return input ? input.value : null;
}"""


# -- local originals ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def local_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Services]]:
    root = tmp_path_factory.mktemp("local")
    reports = root / "rapporter"
    reports.mkdir()
    shutil.copy(REPORT, reports / "dms-forprosjekt.pdf")
    services = Services(Settings(data_dir=root / "data"), embedder=HashingEmbedder())
    services.ingest_paths([reports], Region.VAERNES, "rapporter", None)
    with serve_app(create_app(services.settings, services.index)) as url:
        yield url, services
    services.close()


def _viewer_page(page) -> str | None:
    for frame in page.frames:
        if frame.url.startswith("chrome-extension://"):
            try:
                return frame.evaluate(VIEWER_PAGE)
            except Exception:  # the viewer is still loading
                return None
    return None


@pytest.mark.parametrize("cited", [2, 3])
def test_local_pdf_opens_from_its_result_at_the_cited_page(
    chromium, local_site, cited: int
) -> None:
    url, services = local_site
    doc = next(d for d in services.index.store.documents_all() if d.url.startswith("local:"))
    words = " ".join(next(p.text for p in doc.pages if p.number == cited).split()[:12])
    hit = services.index.search(SearchRequest(q=words, mode=SearchMode.LEXICAL)).results[0]
    assert hit.page == cited
    context = chromium.new_context(base_url=url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"/?q={quote(words)}&mode=lexical")
        link = page.locator(".hit").first.locator("a.ext")
        assert link.inner_text().startswith(f"Åpne kilden, side {cited}")
        assert "file:" not in page.content()
        with page.expect_response(re.compile(r"/original$")) as response:
            link.click()
        assert response.value.status == 200
        assert response.value.headers["content-type"] == "application/pdf"
        assert page.url.endswith(f"/documents/{hit.doc_id}/original#page={cited}")
        shown = None
        for _ in range(100):  # the viewer loads, shows page 1, then jumps to #page=N
            shown = _viewer_page(page)
            if shown == str(cited):
                break
            page.wait_for_timeout(100)
        assert shown == str(cited), "Chromium's PDF viewer did not open at the cited page"
    finally:
        context.close()


# -- Norwegian dates ---------------------------------------------------------------------------


def _dates(page) -> list[str]:
    return [t.get_attribute("datetime") for t in page.locator(".hit time").all()]


@pytest.mark.parametrize("locale", ["nb-NO", "en-US"])
def test_dates_typed_in_norwegian_filter_the_results(chromium, live_server, locale) -> None:
    context = chromium.new_context(base_url=live_server, locale=locale)
    page = context.new_page()
    try:
        page.goto("/")
        field = page.get_by_label("Publisert fra")
        # A text field whatever the browser's locale: never mm/dd/yyyy.
        assert field.get_attribute("type") == "text"
        assert field.get_attribute("placeholder") == "dd.mm.åååå"
        page.get_by_label("Hva leter du etter?").fill("legevakt")
        field.fill("01.01.2019")
        page.get_by_label("Publisert til").fill("2020-12-31")  # ISO is accepted too
        page.get_by_role("button", name="Søk", exact=True).click()
        page.wait_for_url(re.compile(r"date_from=01.01.2019"))
        dates = _dates(page)
        assert dates and all("2019-01-01" <= d <= "2020-12-31" for d in dates)
        assert page.get_by_label("Publisert fra").input_value() == "01.01.2019"
        assert page.get_by_label("Publisert til").input_value() == "31.12.2020"

        page.get_by_label("Publisert fra").fill("18.06.2019")
        page.get_by_label("Publisert til").fill("")
        page.get_by_role("button", name="Søk", exact=True).click()
        page.wait_for_url(re.compile(r"date_from=18.06.2019"))
        dates = _dates(page)
        assert dates and all(d >= "2019-06-18" for d in dates)
        assert "2019-06-01" not in dates  # the PDF report of 1 June 2019 is excluded
    finally:
        context.close()


def test_a_wrong_date_is_explained_and_it_works_without_javascript(chromium, live_server) -> None:
    context = chromium.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/")
        page.get_by_label("Hva leter du etter?").fill("legevakt")
        page.get_by_label("Publisert fra").fill("31.02.2019")
        page.get_by_role("button", name="Søk", exact=True).click()
        page.wait_for_url(re.compile(r"date_from="))
        assert "«31.02.2019» er ikke en gyldig dato" in page.locator(".error-summary").inner_text()
        page.get_by_label("Publisert fra").fill("01.06.2019")
        page.get_by_role("button", name="Søk", exact=True).click()
        page.wait_for_url(re.compile(r"date_from=01.06.2019"))
        dates = _dates(page)
        assert dates and all(d >= "2019-06-01" for d in dates)
    finally:
        context.close()


# -- Nytt og endret on the mirror --------------------------------------------------------------


@pytest.fixture(scope="module")
def mirror_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Both mirrored sites crawled, then the Værnes site edited and crawled again."""
    root = tmp_path_factory.mktemp("mirror-site")
    shutil.copytree(MIRROR, root / "mirror")
    settings = Settings(data_dir=root / "data", mirror_dir=root / "mirror")
    services = Services(settings, embedder=HashingEmbedder())
    services.crawl([], mirror=True)  # the first crawl: a baseline, not news
    edit_mirror(root / "mirror")
    services.crawl([], mirror=True)
    with serve_app(create_app(settings, services.index)) as url:
        yield url
    services.close()


def test_changes_since_the_last_meeting_and_a_briefing(
    chromium, mirror_site: str, screenshots: Path
) -> None:
    context = chromium.new_context(base_url=mirror_site, viewport=DESKTOP_TALL, locale="nb-NO")
    page = context.new_page()
    try:
        page.goto("/compare?q=legevakt")
        since_link = re.compile(r"^Nytt i Værnes siden \d\d\.\d\d\.\d{4}$")
        page.get_by_role("link", name=since_link).click()
        page.wait_for_url(re.compile(r"/changes\?since=.*region=vaernes"))
        items = page.locator(".change")
        assert items.count() == 4
        kinds = {
            item.locator(".change__title").inner_text(): item.locator(".change__kind").inner_text()
            for item in items.all()
        }
        assert sorted(kinds.values()) == ["Endret", "Endret", "Fjernet", "Ny"]
        assert kinds["Bassengtrening for seniorer i Stjørdal"] == "Ny"
        removed = page.locator(".change--removed")
        assert removed.locator("a").count() == 0 and removed.locator(".change__title").is_visible()
        changed = " ".join(page.locator(".change--changed .change__what").all_inner_texts())
        assert "Side 4 fjernet." in changed and "Teksten er endret." in changed
        page.screenshot(path=screenshots / "changes.png")

        # The date field takes a Norwegian date; a date to come is explained, not run.
        later = datetime.now(UTC) + timedelta(days=3)
        page.get_by_label("Siden").fill(f"{later:%d.%m.%Y}")
        page.get_by_role("button", name="Vis endringer").click()
        assert "fram i tid" in page.locator(".error-summary").inner_text()
        page.go_back()

        for box in page.get_by_role("checkbox").all()[:2]:
            box.check()
        page.get_by_role("button", name="Lag briefing av valgte dokumenter").click()
        page.wait_for_url(re.compile(r"/briefing\?.*pick="))
        assert page.locator(".briefing-item").count() == 2
        page.screenshot(path=screenshots / "changes-briefing.png")

        page.goto("/changes/vaernes.atom")
        assert "Bassengtrening for seniorer i Stjørdal" in page.content()
    finally:
        context.close()


@pytest.fixture(autouse=True, scope="module")
def _unused() -> None:
    # Keeps the imported names meaningful for readers: which mirror URLs the edits touch.
    assert {ADDED, CHANGED, PDF, REMOVED}
