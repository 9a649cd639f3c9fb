"""In the field: phones and tablets, WCAG 2.1 AA by axe-core, the keyboard, the printed briefing, live scores.

axe-core is an npm dev dependency (``node_modules/axe-core``): the tests load it into the page (with the
page's CSP bypassed for the test only); it is never served to users.
"""
from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from service.app import create_app, runtime
from service.config import PROJECT_ROOT
from service.store import schema
from tests.conftest import copy_store
from tests.signin import add_user

from .test_browser import _ZOOM_TO, CHROMIUM, OFFICER_PASSWORD, Server, _open, _shot, browser, log_in, server  # noqa: F401  (fixtures)

AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 820, "height": 1180}
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not AXE.exists(), reason="axe-core is not installed (npm ci)")]
pytestmark.append(pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"))


def _context(browser, viewport, **kw):  # noqa: F811
    return browser.new_context(locale="nl-NL", viewport=viewport, bypass_csp=True, **kw)


def _page(browser, server, viewport=None, **kw):  # noqa: F811
    context = _context(browser, viewport or {"width": 1400, "height": 900}, **kw)
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(server.url)
                  else route.abort())
    page = context.new_page()
    log_in(page, server)
    return context, page


def _axe(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG)
    return [{"id": v["id"], "impact": v["impact"],
             "nodes": [(n["target"], n["html"][:160], n.get("failureSummary", "")[-160:]) for n in v["nodes"]][:6]}
            for v in result["violations"]]


PAGES = [("/", True), ("/parks/1", True), ("/worklist", False), ("/visits", False), ("/referrals", False),
         ("/model", False)]


@pytest.mark.parametrize(("path", "map_ready"), PAGES)
def test_no_axe_violation(browser, server, path, map_ready):  # noqa: F811
    context, page = _page(browser, server)
    try:
        _open(page, server.url + path, map_ready=map_ready)
        violations = _axe(page)
        assert violations == [], json.dumps(violations, indent=1)
    finally:
        context.close()


@pytest.fixture(scope="module")
def later_server(web_demo_db, tmp_path_factory):
    """The scored demo (a live run as of 2025-12-31) served on a later day: 2026-01-05 is today."""
    settings = copy_store(web_demo_db, tmp_path_factory.mktemp("field")).with_overrides(today=dt.date(2026, 1, 5))
    app = create_app(settings)
    add_user(runtime(app).store, "officer", name="browser-officer", password=OFFICER_PASSWORD)
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield Server(f"http://127.0.0.1:{srv.server_port}", settings.database_url)
    srv.shutdown()
    thread.join(timeout=5)


def _laag_near_the_line(server: Server) -> int:  # noqa: F811
    import sqlalchemy as sa

    from service.store import Store

    store = Store(server.database_url)
    try:
        with store.connect() as conn:
            ps = schema.park_scores
            return int(conn.execute(sa.select(ps.c.park_id).where(ps.c.risk_class == "laag")
                                    .order_by(ps.c.score.desc())).scalars().first())
    finally:
        store.dispose()


def test_a_violation_today_changes_score_and_class_on_the_park_page_and_the_map(browser, later_server):  # noqa: F811
    context, page = _page(browser, later_server)
    try:
        park_id = _laag_near_the_line(later_server)
        _open(page, f"{later_server.url}/parks/{park_id}")
        before = float(page.locator("#score-value").get_attribute("data-score"))
        assert "peildatum 2025-12-31" in page.locator(".pw-model").inner_text()
        assert page.locator("#v-date").input_value() == "2026-01-05"
        page.check("#v-yes")
        for cat in ("permanent_residence", "overcrowding", "drugs", "fire_safety", "illegal_construction"):
            page.check(f"#v-cat-{cat}")
        with page.expect_navigation():
            page.click("#bezoek button[type=submit]")
        page.wait_for_selector("html[data-map-ready='1']")
        assert "opnieuw berekend" in page.locator(".pw-flash").inner_text()
        after = float(page.locator("#score-value").get_attribute("data-score"))
        assert after > before
        badge = page.locator(".pw-scorebox .pw-badge").inner_text().strip()
        assert badge in ("verhoogd", "hoog")
        assert "peildatum 2026-01-05" in page.locator(".pw-model").inner_text()
        _shot(page, "live-park-after-visit.png")
        _open(page, later_server.url + "/")
        cls = page.locator(f'path.pw-park[data-park-id="{park_id}"]').get_attribute("class")
        assert f"pw-park-{badge}" in cls, cls
    finally:
        context.close()


@pytest.mark.parametrize(("name", "viewport"), [("phone", PHONE), ("tablet", TABLET)])
def test_phone_and_tablet_layouts(browser, server, name, viewport):  # noqa: F811
    context, page = _page(browser, server, viewport, has_touch=True, is_mobile=True)
    try:
        for path, ready, shot in (("/parks/1", True, "park"), ("/worklist", False, "worklist"), ("/", True, "map")):
            _open(page, server.url + path, map_ready=ready)
            wide = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
            if path.startswith("/parks"):
                assert wide <= 0, f"the park page scrolls sideways by {wide} px at {viewport['width']} px"
            _shot(page, f"{name}-{shot}.png", full_page=path != "/")
        _open(page, server.url + "/parks/1")
        page.locator("#bezoek").scroll_into_view_if_needed()
        _shot(page, f"{name}-visit-form.png")
        small = page.evaluate("""() => [...document.querySelectorAll('#bezoek button, #bezoek input, #bezoek select')]
            .filter(e => e.type !== 'hidden' && e.offsetParent !== null)
            .map(e => e.getBoundingClientRect()).filter(r => r.height < 24 || r.width < 24)
            .map(r => [Math.round(r.width), Math.round(r.height)])""")
        assert small == [], small
        # the map's popups open with a tap
        _open(page, server.url + "/")
        page.locator(".folium-map").scroll_into_view_if_needed()  # on a phone the filters come first
        page.evaluate(_ZOOM_TO, ["path.pw-park-hoog", 13])
        page.wait_for_timeout(300)
        hit = page.evaluate("""() => { for (const p of document.querySelectorAll('path.pw-park')) {
            const r = p.getBoundingClientRect(); const x = r.x + r.width / 2, y = r.y + r.height / 2;
            if (r.width > 2 && document.elementFromPoint(x, y) === p) return {x, y}; } return null; }""")
        assert hit is not None, "no park could be tapped"
        page.touchscreen.tap(hit["x"], hit["y"])
        page.locator(".leaflet-popup-content .pw-popup").wait_for(timeout=5_000)
        _shot(page, f"{name}-map-popup.png")
    finally:
        context.close()


def test_the_visit_form_works_by_keyboard(browser, server):  # noqa: F811
    context, page = _page(browser, server)
    try:
        _open(page, f"{server.url}/parks/2")
        page.focus("#v-no")
        page.keyboard.press("Space")
        assert page.is_checked("#v-no")
        page.keyboard.press("ArrowLeft")  # the radio group moves with the arrow keys
        assert page.is_checked("#v-yes")
        page.keyboard.press("ArrowRight")
        assert page.is_checked("#v-no")
        page.focus("#v-remark")
        page.keyboard.type("per toetsenbord")
        page.focus("#bezoek button[type=submit]")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        page.wait_for_selector("html[data-map-ready='1']")
        assert "per toetsenbord" in page.locator("table.pw-timeline").inner_text()
        # the controls after the map and the charts are reached with Tab alone, and the timeline scrolls by keys
        reached = set()
        page.focus("body")
        for _ in range(600):
            page.keyboard.press("Tab")
            reached.add(page.evaluate("() => { const e = document.activeElement; "
                                      "return String(e.id || e.getAttribute('class') || e.tagName); }"))
            if {"pw-scroll", "v-remark", "p-date"} <= reached:
                break
        assert {"pw-scroll", "v-remark", "p-date"} <= reached, sorted(map(str, reached))[:40]
        _open(page, f"{server.url}/parks/1")
        assert page.evaluate("() => { const e = document.querySelector('.pw-scroll'); "
                             "return e.scrollHeight > e.clientHeight; }"), "park 1's timeline should scroll"
        page.focus(".pw-scroll")
        page.keyboard.press("PageDown")
        page.wait_for_timeout(600)  # keyboard scrolling is smooth, so it takes a moment
        assert page.evaluate("() => document.querySelector('.pw-scroll').scrollTop") > 0
    finally:
        context.close()


def test_the_park_page_prints_as_a_one_page_briefing(browser, server):  # noqa: F811
    context, page = _page(browser, server)
    try:
        _open(page, f"{server.url}/parks/1")
        page.emulate_media(media="print")
        for hidden in ("#h-map", "#h-history", "#h-fresh", "#bezoek"):
            assert not page.locator(hidden).is_visible(), hidden
        for shown in ("#score-value", ".pw-top-reasons", "table.pw-timeline", "#plannen"):
            assert page.locator(shown).first.is_visible(), shown
        pdf = page.pdf(prefer_css_page_size=True, print_background=False)
        (PROJECT_ROOT / "test-output" / "web").mkdir(parents=True, exist_ok=True)
        (PROJECT_ROOT / "test-output" / "web" / "park-briefing.pdf").write_bytes(pdf)
        _shot(page, "park-print.png", full_page=True)
        tall = page.evaluate("""() => [...document.querySelectorAll('body *')].filter(e => {
            const r = e.getBoundingClientRect(); return r.height > 0 && r.bottom > 690; })
            .map(e => [e.tagName, String(e.className).slice(0, 40), Math.round(e.getBoundingClientRect().bottom)])
            .slice(0, 12)""")
        assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") == 1, tall
    finally:
        context.close()
