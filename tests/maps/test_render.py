"""service.maps.render: the page parts of a map and the CSP hashes of its inline script."""
from __future__ import annotations

import shapely

from service import maps


def test_script_hashes_are_csp_sha256_expressions():
    assert maps.script_hashes("") == ("'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",)


def test_parts_allow_exactly_their_script_and_survive_the_cache():
    park = maps.ParkFeature(id=1, name="P", geom_rd=shapely.box(190000, 470000, 190100, 470100))
    parts = maps.render_parts(maps.build_risk_map([park], basemap="none"), meta={"parks": 1})
    assert parts.script_hashes == maps.script_hashes(parts.script)
    assert "/static/map.js" in parts.head and parts.meta == {"parks": 1}
    assert maps.MapParts.from_dict(parts.as_dict()) == parts
    assert parts.size == len(parts.head.encode()) + len(parts.body.encode()) + len(parts.script.encode())
