"""The officers' pages in a real browser: Debian's Chromium, headless, driven by Playwright (sync API).

The app runs on a real server (werkzeug, 127.0.0.1, a free port) against a copy of the scored demo store,
with the basemap off. Every page load records console errors, uncaught exceptions, dialogs and every request;
a test fails on any of them, and on any request that leaves 127.0.0.1 (such requests are also blocked, so a
broken page can never reach the internet from a test). Screenshots go to ``test-output/web/``.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from service.app import create_app, runtime
from service.config import PROJECT_ROOT
from service.store import Store, schema
from tests.conftest import copy_store
from tests.signin import add_user

from .conftest import HOSTILE_NAMES

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
OUTPUT = PROJECT_ROOT / "test-output" / "web"
OFFICER_PASSWORD = "a long browser password"

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                 reason="Debian's chromium is not installed (apt-get install -y chromium)")]


@dataclass
class Server:
    url: str
    database_url: str
    user: str = "browser-officer"
    password: str = OFFICER_PASSWORD

    def park_ids(self, where) -> list[int]:
        store = Store(self.database_url)
        try:
            with store.connect() as conn:
                query = sa.select(schema.parks.c.id).where(where).order_by(schema.parks.c.id)
                return list(conn.execute(query).scalars())
        finally:
            store.dispose()


@pytest.fixture(scope="module")
def server(web_demo_db, tmp_path_factory):
    settings = copy_store(web_demo_db, tmp_path_factory.mktemp("browser"))
    app = create_app(settings)
    add_user(runtime(app).store, "officer", name="browser-officer", password=OFFICER_PASSWORD)
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield Server(f"http://127.0.0.1:{srv.server_port}", settings.database_url)
    srv.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@dataclass
class Recorder:
    """What a page did besides drawing: console errors, exceptions, dialogs, requests."""

    origin: str
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def foreign(self) -> list[str]:
        return [u for u in self.requests if not (u.startswith(self.origin + "/") or u.startswith(("data:", "blob:")))]

    def check(self) -> None:
        assert self.errors == [], self.errors
        assert self.dialogs == [], f"a dialog fired: {self.dialogs}"
        assert self.foreign() == [], f"requests left 127.0.0.1: {self.foreign()}"
        assert self.requests, "no request was recorded"


@pytest.fixture
def page(browser, server):
    context = browser.new_context(locale="nl-NL", viewport={"width": 1400, "height": 900})
    rec = Recorder(server.url)
    # Anything not for our server is recorded (below) and then blocked.
    context.route(re.compile(r"^(?!" + re.escape(server.url) + r"/).*"), lambda route: route.abort())
    pg = context.new_page()
    pg.on("console", lambda m: rec.errors.append(f"console: {m.text}") if m.type == "error" else None)
    pg.on("pageerror", lambda e: rec.errors.append(f"pageerror: {e}"))
    pg.on("request", lambda r: rec.requests.append(r.url))

    def on_dialog(dialog):
        rec.dialogs.append(dialog.message)
        dialog.dismiss()

    pg.on("dialog", on_dialog)
    pg.recorder = rec  # type: ignore[attr-defined]  # the page carries its recorder into the test
    log_in(pg, server)
    yield pg
    context.close()


def log_in(page, server: Server) -> None:
    """Sign in through the login page, as an officer would."""
    page.goto(server.url + "/login")
    page.fill("#login-name", server.user)
    page.fill("#login-password", server.password)
    with page.expect_navigation():
        page.click(".pw-login button[type=submit]")


def _open(page, url: str, map_ready: bool = True) -> None:
    page.goto(url)
    if map_ready:
        page.wait_for_selector("html[data-map-ready='1']", timeout=20_000)


def _shot(page, name: str, full_page: bool = False) -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / name
    page.screenshot(path=str(path), full_page=full_page)
    print(f"screenshot: {path}")
    return path


_TOPMOST = """(selector) => {
  for (const p of document.querySelectorAll(selector)) {
    const r = p.getBoundingClientRect();
    const x = r.x + r.width / 2, y = r.y + r.height / 2;
    if (r.width > 0 && document.elementFromPoint(x, y) === p) return {id: p.getAttribute('data-park-id'), x, y};
  }
  return null;
}"""

_ZOOM_TO = """([selector, zoom]) => {
  const map = window[document.querySelector('.folium-map').id];
  const r = document.querySelector(selector).getBoundingClientRect();
  const c = map.getContainer().getBoundingClientRect();
  map.setView(map.containerPointToLatLng([r.x + r.width / 2 - c.x, r.y + r.height / 2 - c.y]), zoom, {animate: false});
}"""


def test_map_shows_park_polygons_legend_and_layers(page, server):
    _open(page, server.url + "/")
    assert page.locator("path.pw-park").count() == 244
    assert page.locator("path.pw-park-hoog").count() > 0 and page.locator("path.pw-park-laag").count() > 0
    legend = page.locator(".pw-legend")
    assert legend.is_visible()
    for word in ("Risicoklasse", "laag", "verhoogd", "hoog", "Hot spot"):
        assert word in legend.inner_text()
    control = page.locator(".leaflet-control-layers")
    for name in ("Parken", "Signalen (laatste 12 maanden)", "Regionale hot spots (Gi*)"):
        assert name in control.inner_text()
    assert page.locator("path.pw-hotspot-hot").count() > 0
    _shot(page, "map.png")
    # switching the signals layer on draws the clusters (Leaflet.markercluster, served locally)
    page.get_by_label("Signalen (laatste 12 maanden)").check()
    page.wait_for_selector(".marker-cluster", timeout=10_000)
    assert page.locator(".marker-cluster").count() > 3
    page.recorder.check()


def test_clicking_a_park_opens_a_popup_whose_link_leads_to_its_page(page, server):
    _open(page, server.url + "/")
    page.evaluate(_ZOOM_TO, ["path.pw-park-hoog", 13])
    page.wait_for_timeout(300)
    hit = page.evaluate(_TOPMOST, "path.pw-park-hoog")
    assert hit is not None, "no high-risk park could be clicked"
    page.mouse.click(hit["x"], hit["y"])
    popup = page.locator(".leaflet-popup-content .pw-popup")
    popup.wait_for(timeout=5_000)
    text = popup.inner_text()
    assert "Score" in text and "hoog" in text and "Grootste bijdragen" in text
    assert popup.locator("ol.pw-popup-factors li").count() == 3
    _shot(page, "map-popup.png")
    with page.expect_navigation():
        popup.locator("a.pw-park-link").click()
    assert page.url == f"{server.url}/parks/{hit['id']}"
    page.wait_for_selector("html[data-map-ready='1']")
    assert page.locator("h1.pw-park-name").inner_text().strip()
    page.recorder.check()


def test_park_page_draws_its_charts_map_and_timeline(page, server):
    _open(page, server.url + "/parks/1")
    themes = page.locator("svg.pw-chart").first
    assert themes.is_visible()
    bars = page.locator("svg.pw-chart rect.bar")
    assert bars.count() >= 5
    widths = [float(bars.nth(i).get_attribute("width")) for i in range(bars.count())]
    assert max(widths) > 10
    assert page.locator("svg.pw-chart circle.point").count() >= 1
    assert page.locator("path.pw-park").count() == 1
    assert page.locator("path.pw-signal").count() > 10
    assert page.locator("table.pw-timeline tbody tr").count() > 10
    assert page.locator("table.pw-freshness tbody tr").count() >= 3
    assert "Model 2026.1" in page.locator(".pw-model").inner_text()
    _shot(page, "park.png", full_page=True)
    page.recorder.check()


def test_recording_a_visit_changes_the_shown_score(page, server):
    park_id = server.park_ids(schema.parks.c.source == "demo")[4]
    _open(page, f"{server.url}/parks/{park_id}")
    before = float(page.locator("#score-value").get_attribute("data-score"))
    page.fill("#v-date", "2025-12-30")
    page.check("#v-yes")
    for cat in ("permanent_residence", "overcrowding", "drugs", "fire_safety"):
        page.check(f"#v-cat-{cat}")
    page.fill("#v-remark", "Meerdere chalets permanent bewoond")
    with page.expect_navigation():
        page.click("#bezoek button[type=submit]")
    page.wait_for_selector("html[data-map-ready='1']")
    assert "opnieuw berekend" in page.locator(".pw-flash").inner_text()
    after = float(page.locator("#score-value").get_attribute("data-score"))
    assert after > before
    assert "Meerdere chalets permanent bewoond" in page.locator("table.pw-timeline").inner_text()
    _shot(page, "park-after-visit.png")
    page.recorder.check()


def test_the_worklist_lists_parks_in_score_order(page, server):
    _open(page, server.url + "/worklist", map_ready=False)
    cells = page.locator("td.pw-score")
    assert cells.count() == 100
    scores = [float(cells.nth(i).get_attribute("data-score")) for i in range(cells.count())]
    assert scores == sorted(scores, reverse=True)
    assert page.locator("a", has_text="Download CSV").count() == 1
    _shot(page, "worklist.png")
    page.emulate_media(media="print")
    assert not page.locator("header.pw-header").is_visible()
    page.recorder.check()


def test_hostile_names_show_as_text_and_run_nothing(page, server):
    ids = server.park_ids(schema.parks.c.source == "hostile")
    _open(page, server.url + "/")
    for park_id, name in zip(ids, HOSTILE_NAMES):
        selector = f'path[data-park-id="{park_id}"]'
        page.evaluate(_ZOOM_TO, [selector, 16])
        page.wait_for_timeout(200)
        hit = page.evaluate(_TOPMOST, selector)
        assert hit is not None
        page.mouse.move(hit["x"], hit["y"])
        tip = page.locator(".leaflet-tooltip .pw-tip-name", has_text=name[:8])
        tip.wait_for(timeout=5_000)
        assert tip.inner_text() == name
    # the popup of the last one: built from text nodes too
    page.mouse.click(hit["x"], hit["y"])
    popup = page.locator(".leaflet-popup-content .pw-popup-name")
    popup.wait_for(timeout=5_000)
    assert popup.inner_text() == HOSTILE_NAMES[-1]
    assert page.evaluate("() => document.querySelectorAll("
                         "'.leaflet-popup-content img, .leaflet-tooltip img, .leaflet-popup-content b').length") == 0
    _shot(page, "map-hostile.png")
    _open(page, f"{server.url}/parks/{ids[0]}")
    assert page.locator("h1.pw-park-name").inner_text() == HOSTILE_NAMES[0]
    assert page.title().startswith(HOSTILE_NAMES[0])
    _open(page, f"{server.url}/parks/{ids[1]}")
    assert page.locator("h1.pw-park-name").inner_text() == HOSTILE_NAMES[1]
    page.wait_for_timeout(300)  # give a payload every chance to fire
    page.recorder.check()
