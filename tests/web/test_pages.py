"""The officers' pages through Flask's test client: filters, messages, 404s, CSV, escaping, CSP, caching."""
from __future__ import annotations

import csv
import io
import re

import pytest

from service import scoring
from service.app import create_app, runtime
from service.web import pages
from tests.signin import signed_in

from .conftest import HOSTILE_NAMES
from .helpers import inline_scripts, layer_payload, script_hash


def _park_id(client, name: str) -> int:
    payload = layer_payload(client.get("/").get_data(as_text=True), "parksLayer")
    return next(row[0] for row in payload["parks"] if row[1] == name)


# -- the risk map --------------------------------------------------------------------------------------
def test_map_shows_every_park_with_class_and_top_factors(demo_client):
    resp = demo_client.get("/")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    payload = layer_payload(html, "parksLayer")
    assert len(payload["parks"]) == 244  # 240 demo parks + 4 hostile ones
    assert payload["classes"] == ["laag", "verhoogd", "hoog"]
    classes = {row[3] for row in payload["parks"]}
    assert classes == {0, 1, 2}
    assert all(len(row[4]) <= 3 for row in payload["parks"])
    # the three largest factors, largest first, with labels from the model
    tops = [row[4] for row in payload["parks"] if len(row[4]) == 3]
    assert tops and all(t[0][1] >= t[1][1] >= t[2][1] for t in tops)
    assert "Geen (bekende) exploitant of beheerder" in payload["factors"]
    legend = layer_payload(html, "legend")
    assert [i["label"] for i in legend["items"]][:3] == ["laag", "verhoogd", "hoog"]
    assert "hotspotsLayer" in html and "signalsLayer" in html and "L.control.layers" in html
    assert "Gemeentegrenzen zijn niet geladen" in html and "outlinesLayer" not in html


def test_filters_are_query_parameters(demo_client):
    everything = layer_payload(demo_client.get("/").get_data(as_text=True), "parksLayer")["parks"]
    html = demo_client.get("/?municipality=GM0243&risk_class=laag").get_data(as_text=True)
    rows = layer_payload(html, "parksLayer")["parks"]
    assert 0 < len(rows) < len(everything)
    assert {r[3] for r in rows} == {0}
    assert 'value="GM0243" selected' in html
    # short codes are understood, and the same filter in another spelling is the same map
    assert layer_payload(demo_client.get("/?municipality=243&risk_class=LAAG").get_data(as_text=True),
                         "parksLayer")["parks"] == rows
    kinds = layer_payload(demo_client.get("/?kind=caravanpark").get_data(as_text=True), "parksLayer")["parks"]
    assert 0 < len(kinds) < len(everything)
    fire = layer_payload(demo_client.get("/?theme=fire_safety").get_data(as_text=True), "parksLayer")["parks"]
    assert 0 < len(fire) < len(everything)


def test_map_fits_the_filtered_parks(demo_client):
    def bounds(url):
        html = demo_client.get(url).get_data(as_text=True)
        m = re.search(r"\.fitBounds\(\s*(\[\[.*?\]\])", html, re.S)
        return [[float(v) for v in re.findall(r"-?\d+\.\d+", m.group(1))]]

    assert bounds("/") != bounds("/?municipality=GM0273")


def test_bad_filter_values_give_the_map_with_a_message(demo_client):
    resp = demo_client.get("/?municipality=<script>x</script>&risk_class=extreem&kind=kasteel&theme=weer"
                           "&municipality=GM9999")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "pw-filter-messages" in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>x</script>" not in html
    for word in ("extreem", "kasteel", "weer", "GM9999"):
        assert word in html
    assert len(layer_payload(html, "parksLayer")["parks"]) == 244  # the bad filters were ignored


def test_a_filter_without_parks_says_so(demo_client):
    html = demo_client.get("/?municipality=GM0273&risk_class=hoog&kind=caravanpark").get_data(as_text=True)
    assert "Geen parken voor dit filter" in html
    assert layer_payload(html, "parksLayer")["parks"] == []


def test_pages_work_before_anything_is_scored(client, store, settings):
    from service.ingest import import_park_frame

    from .conftest import _hostile_parks

    import_park_frame(store, _hostile_parks(), settings=settings, source="hostile", crs="EPSG:28992")
    html = client.get("/").get_data(as_text=True)
    assert "Nog geen scores" in html
    rows = layer_payload(html, "parksLayer")["parks"]
    assert len(rows) == 4 and {r[3] for r in rows} == {-1} and {r[2] for r in rows} == {None}
    park = client.get(f"/parks/{rows[0][0]}").get_data(as_text=True)
    assert "Nog geen scores" in park and "Bezoek vastleggen" in park
    assert "Nog geen scores" in client.get("/worklist").get_data(as_text=True)
    assert client.get("/worklist.csv").status_code == 200


# -- 404 -----------------------------------------------------------------------------------------------
def test_unknown_park_is_a_404_page(demo_client):
    resp = demo_client.get("/parks/999999")
    assert resp.status_code == 404
    assert "Niet gevonden" in resp.get_data(as_text=True)
    assert resp.headers["Content-Security-Policy"]
    assert demo_client.get("/parks/abc").status_code == 404
    assert demo_client.post("/parks/999999/visits", data={}).status_code == 404
    api = demo_client.get("/api/v1/nothing-here")
    assert api.status_code == 404 and api.mimetype == "application/problem+json"


# -- worklist and CSV ------------------------------------------------------------------------------------
def test_worklist_is_in_priority_order(demo_client):
    html = demo_client.get("/worklist?limit=500").get_data(as_text=True)
    scores = [float(s) for s in re.findall(r'data-score="([0-9.]+)"', html)]
    assert len(scores) == 244
    assert scores == sorted(scores, reverse=True)
    assert "Belangrijkste redenen" in html
    assert 'media print' not in html  # the print stylesheet is a file, not inline
    only = demo_client.get("/worklist?municipality=GM0302").get_data(as_text=True)
    assert 0 < len(re.findall(r'data-score="', only)) < 100


def test_worklist_csv_export(demo_client):
    resp = demo_client.get("/worklist.csv?municipality=GM0233")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["rang", "park_id", "naam"]
    body = rows[1:]
    assert len(body) == 60  # the demo's parks in Ermelo
    assert {r[3] for r in body} == {"GM0233"}
    scores = [float(r[6]) for r in body]
    assert scores == sorted(scores, reverse=True)
    every = list(csv.reader(io.StringIO(demo_client.get("/worklist.csv").get_data(as_text=True))))
    assert len(every) == 245


def test_csv_cells_are_not_formulas():
    assert pages._cell("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert pages._cell("-1") == "'-1" and pages._cell("Camping") == "Camping"


# -- escaping --------------------------------------------------------------------------------------------
def test_hostile_names_are_text_in_html_and_in_the_map_script(demo_client):
    html = demo_client.get("/").get_data(as_text=True)
    payload = layer_payload(html, "parksLayer")
    names = {row[1] for row in payload["parks"]}
    assert set(HOSTILE_NAMES) <= names  # exactly the names, nothing evaluated ({{ 7*7 }} stays, no 49)
    script = inline_scripts(html)[-1]
    assert "<img" not in script and "</script" not in script and "<b>" not in script
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in script
    for name in HOSTILE_NAMES:
        pid = next(row[0] for row in payload["parks"] if row[1] == name)
        page = demo_client.get(f"/parks/{pid}").get_data(as_text=True)
        assert "<img src=x" not in page and "<script>alert(3)" not in page and "<b>" not in page
        assert "onerror=alert(1)" not in page or "&lt;img src=x onerror=alert(1)&gt;" in page
        assert "{{ 7*7 }}" in page or name != HOSTILE_NAMES[2]
        worklist = demo_client.get("/worklist?limit=1000").get_data(as_text=True)
        assert "<img src=x" not in worklist
        small = layer_payload(page, "parksLayer")
        assert small["parks"][0][1] == name


def test_a_hostile_remark_is_text(demo_client, demo_app):
    pid = _park_id(demo_client, HOSTILE_NAMES[0])
    page = demo_client.get(f"/parks/{pid}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    visit = re.search(r'name="visit_id" value="([^"]+)"', page).group(1)
    resp = demo_client.post(f"/parks/{pid}/visits", data={
        "csrf_token": token, "visit_id": visit, "date": "2025-12-01", "violation": "no",
        "remark": "<script>alert('remark')</script>"})
    assert resp.status_code == 303
    page = demo_client.get(f"/parks/{pid}").get_data(as_text=True)
    assert "&lt;script&gt;alert(&#39;remark&#39;)&lt;/script&gt;" in page
    assert "<script>alert('remark')" not in page


# -- CSP and offline -----------------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["/", "/parks/1", "/worklist", "/imports", "/parks/999999"])
def test_csp_allows_exactly_the_inline_scripts(demo_client, url):
    resp = demo_client.get(url)
    csp = resp.headers["Content-Security-Policy"]
    script_src = next(d for d in csp.split("; ") if d.startswith("script-src "))
    assert "'unsafe-inline'" not in script_src and "unsafe-eval" not in csp
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    html = resp.get_data(as_text=True)
    for script in inline_scripts(html):
        assert script_hash(script) in script_src
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "'unsafe-inline'" not in csp  # not for styles either: no <style> blocks, no style attributes
    assert "<style" not in html and " style=" not in html


@pytest.mark.parametrize("url", ["/", "/parks/1", "/worklist"])
def test_no_external_urls_when_the_basemap_is_off(demo_client, url):
    html = demo_client.get(url).get_data(as_text=True)
    html = html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert re.findall(r"https?://", html) == []
    assert re.findall(r'(?:src|href)="(?!/|#|\?)', html) == []
    assert "/static/vendor/leaflet/leaflet.js" in html or url == "/worklist"
    assert "service.pdok.nl" not in demo_client.get(url).headers["Content-Security-Policy"]


def test_pdok_basemap_with_osm_as_alternative(demo_settings):
    app = signed_in(create_app(demo_settings.with_overrides(basemap="pdok")))
    html = app.test_client().get("/").get_data(as_text=True)
    assert "https://service.pdok.nl/brt/achtergrondkaart/wmts/v2_0/grijs/EPSG:3857/{z}/{x}/{y}.png" in html
    assert "Kadaster / PDOK" in html and "tile.openstreetmap.org" in html
    assert html.index("service.pdok.nl") < html.index("tile.openstreetmap.org")
    csp = app.test_client().get("/").headers["Content-Security-Policy"]
    assert "img-src 'self' data: https://service.pdok.nl https://tile.openstreetmap.org" in csp
    # no script, style or font from anywhere but the app itself
    assert re.findall(r'<(?:script|link)[^>]+(?:src|href)="https?://', html) == []


# -- the cache -----------------------------------------------------------------------------------------
def test_the_map_is_cached_per_run_filter_and_language(demo_client, demo_app, demo_settings):
    def state(url):
        return demo_client.get(url).headers["X-Parkwacht-Map-Cache"]

    assert state("/") == "miss"
    assert state("/") == "hit"
    assert state("/?risk_class=hoog") == "miss"
    assert state("/?risk_class=HOOG") == "hit"  # the same filter, normalised
    assert state("/?lang=en") == "miss"
    assert state("/?lang=nl") == "hit"
    # a fresh process on the same instance folder finds the page on disk
    other = signed_in(create_app(demo_settings))
    other_client = other.test_client()
    other_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "nl"
    assert other_client.get("/").headers["X-Parkwacht-Map-Cache"] == "hit"
    # an incremental re-score and a new published run make the cached page stale
    rt = runtime(demo_app)
    scoring.rescore_parks(rt.store, rt.settings, [1])
    assert state("/") == "miss"
    assert state("/") == "hit"
    scoring.score_run(rt.store, rt.settings)
    assert state("/") == "miss"
    assert demo_app.extensions["parkwacht_web"].cache.hits >= 3


# -- languages -----------------------------------------------------------------------------------------
def test_dutch_by_default_english_on_request(demo_app):
    c = demo_app.test_client()
    assert "Risicokaart vakantieparken" in c.get("/").get_data(as_text=True)
    en = c.get("/?lang=en").get_data(as_text=True)
    assert "Risk map of holiday parks" in en and '<html lang="en">' in en
    assert "Risk map of holiday parks" in c.get("/").get_data(as_text=True)  # remembered in the session
    other = demo_app.test_client()
    page = other.get("/worklist", headers={"Accept-Language": "en-GB,en;q=0.8"}).get_data(as_text=True)
    assert "Worklist" in page
    assert "No known operator or park manager" in other.get("/?lang=en").get_data(as_text=True)
