"""The README screenshots, taken in Chromium on the mirror corpus with the real model.

    python -m tests.browser.readme_screenshots [--model-cache DIR] [--out docs/screenshots]

Crawls a copy of the bundled mirror, photographs search, compare and a document page, then
edits the Værnes copy the way `tests.mirror_edits` does, crawls again and photographs
"Nytt og endret" (reached from the compare page's link) and a briefing made from it.
"""

from __future__ import annotations

import argparse
import re
import shutil
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright
from samsok.api.app import create_app
from samsok.api.services import Services
from samsok.api.settings import Settings
from samsok.ingest.documents import doc_id_for_url

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.mirror_edits import edit_mirror
from tests.paths import PROJECT_ROOT
from tests.servers import serve_app

VIEWPORT = {"width": 1280, "height": 1100}
TALL = {"width": 1280, "height": 1320}
SCENARIO_PDF = (
    "https://arkiv.snillfjord.kommune.no/getfile.php/2011316.1591.mbrwxkqets/"
    "SiO_Fase2_Scenario2030.pdf"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model-cache", type=Path, help="converted models (as SAMSOK_MODEL_CACHE_DIR)"
    )
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="samsok-shots-") as tmp:
        root = Path(tmp)
        shutil.copytree(PROJECT_ROOT / "corpus" / "mirror", root / "mirror")
        settings = Settings(
            data_dir=root / "data", mirror_dir=root / "mirror", model_cache_dir=args.model_cache
        )
        services = Services(settings)
        try:
            services.crawl([], mirror=True)
            with serve_app(create_app(settings, services.index)) as url, sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
                )
                page = browser.new_page(base_url=url, viewport=VIEWPORT, locale="nb-NO")
                page.goto("/?q=felles+jordmor+for+små+kommuner")
                page.screenshot(path=args.out / "search.png")
                page.goto("/compare?q=legevakt+og+akutte+døgnplasser")
                page.screenshot(path=args.out / "compare.png")
                page.goto(f"/documents/{doc_id_for_url(SCENARIO_PDF)}")
                page.screenshot(path=args.out / "document.png")

                edit_mirror(root / "mirror")
                services.crawl([], mirror=True)
                page.set_viewport_size(TALL)
                page.goto("/compare?q=legevakt")
                page.get_by_role("link", name=re.compile(r"^Nytt i Værnes siden")).click()
                page.wait_for_url(re.compile(r"/changes\?"))
                page.screenshot(path=args.out / "changes.png")
                for box in page.get_by_role("checkbox").all()[:2]:
                    box.check()
                page.get_by_role("button", name="Lag briefing av valgte dokumenter").click()
                page.wait_for_url(re.compile(r"/briefing\?"))
                page.screenshot(path=args.out / "changes-briefing.png")
                browser.close()
        finally:
            services.close()


if __name__ == "__main__":
    main()
