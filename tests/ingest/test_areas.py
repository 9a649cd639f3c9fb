"""Municipality and province boundaries as a source like parks, and the areas parks without one lie in."""
from __future__ import annotations

import pytest
import shapely
import sqlalchemy as sa

from service import geo, reads
from service.ingest import FileRefused, UnknownOption, import_areas, import_parks, rejected_rows
from service.store import schema
from tests.helpers import square, write_geojson

RD_X, RD_Y = 180_000, 470_000
RD = "urn:ogc:def:crs:EPSG::28992"


def _areas(tmp_path, rows, name="gemeenten.geojson"):
    return write_geojson(tmp_path / name, [({"statcode": code, "statnaam": label}, g) for code, label, g in rows],
                         crs=RD)


def _parks(store):
    with store.connect() as conn:
        return {r.source_id: r for r in conn.execute(sa.select(schema.parks))}


def test_boundaries_are_imported_and_parks_without_a_municipality_get_theirs(store, settings, tmp_path) -> None:
    west, east = shapely.box(RD_X - 5000, RD_Y - 5000, RD_X + 5000, RD_Y + 5000), \
        shapely.box(RD_X + 5000, RD_Y - 5000, RD_X + 15000, RD_Y + 5000)
    parks = write_geojson(tmp_path / "p.geojson", [
        ({"source_id": "w"}, square(RD_X, RD_Y)),
        ({"source_id": "given", "municipality_code": "0200", "municipality_name": "Apeldoorn"},
         square(RD_X + 100, RD_Y)),
    ], crs=RD)
    import_parks(store, parks, settings=settings, source="t")  # before any boundaries: nothing to fill from
    result = import_areas(store, _areas(tmp_path, [("GM0273", "Putten", west), ("273x", "Bad", east),
                                                   ("GM0302", "Nunspeet", east)]),
                          settings=settings, level="municipality")
    assert (result.read, result.stored, result.rejected) == (3, 2, 1)
    assert rejected_rows(store, result.batch_id)[0]["field"] == "code"
    assert result.assignment == {"parks_given_municipality": 1}
    stored = _parks(store)
    assert (stored["w"].municipality_code, stored["w"].municipality_name) == ("GM0273", "Putten")
    assert stored["given"].municipality_name == "Apeldoorn"  # a park's own municipality is never overwritten
    # New parks get theirs on import; the outlines come from the table now.
    late = write_geojson(tmp_path / "late.geojson", [({"source_id": "e"}, square(RD_X + 9000, RD_Y))], crs=RD)
    import_parks(store, late, settings=settings, source="t2")
    assert _parks(store)["e"].municipality_code == "GM0302"
    outlines = reads.municipality_outlines(store)
    assert outlines is not None and sorted(n for n, _ in outlines) == ["Nunspeet", "Putten"]
    assert [n for n, _ in reads.municipality_outlines(store, ["gm0302"]) or []] == ["Nunspeet"]
    again = import_areas(store, _areas(tmp_path, [("GM0273", "Putten", west)], "g2.geojson"), settings=settings,
                         level="municipality", snapshot=True)
    assert (again.unchanged, again.retired) == (1, 1)
    assert [n for n, _ in reads.municipality_outlines(store) or []] == ["Putten"]


def test_provinces_fill_the_province(store, settings, tmp_path) -> None:
    path = write_geojson(tmp_path / "prov.geojson", [({"statcode": "PV25", "statnaam": "Gelderland"},
                                                      shapely.box(RD_X - 9000, RD_Y - 9000, RD_X + 9000, RD_Y + 9000))],
                         crs=RD)
    import_areas(store, path, settings=settings, level="province")
    park = write_geojson(tmp_path / "p.geojson", [({"source_id": "p"}, square(RD_X, RD_Y))], crs=RD)
    import_parks(store, park, settings=settings, source="t")
    assert _parks(store)["p"].province == "Gelderland"


def test_without_boundaries_the_outline_layer_is_absent(store) -> None:
    assert reads.municipality_outlines(store) is None


def test_area_options_are_checked(store, settings, tmp_path) -> None:
    path = _areas(tmp_path, [("GM0273", "Putten", square(RD_X, RD_Y))])
    with pytest.raises(UnknownOption, match="unknown area level 'gemeente'; known: municipality, province"):
        import_areas(store, path, settings=settings, level="gemeente")
    with pytest.raises(FileRefused, match="no column 'gm_code' for the code"):
        import_areas(store, path, settings=settings, level="municipality", code_column="gm_code")
    other = write_geojson(tmp_path / "o.geojson", [({"id": 1, "label": "x"}, square(RD_X, RD_Y))], crs=RD)
    with pytest.raises(FileRefused, match="no code column .* --code-column"):
        import_areas(store, other, settings=settings, level="municipality")


@pytest.mark.realdata
def test_the_cbs_2015_boundaries_import_completely(store, settings, sample_data, tmp_path) -> None:
    gm = import_areas(store, sample_data / "cbs_gemeenten_2015.geojson", settings=settings, level="municipality")
    pv = import_areas(store, sample_data / "cbs_provincies_2015.geojson", settings=settings, level="province")
    # 16 municipalities and 6 provinces are invalid (self-touching rings of the quantised source): repaired.
    assert (gm.read, gm.stored, gm.rejected) == (393, 393, 0)
    assert (pv.read, pv.stored, pv.rejected) == (12, 12, 0)
    with store.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.areas)).scalar_one() == 405
    (x,), (y,) = geo.to_rd_xy([5.606], [52.259], geo.WGS84)  # Putten, on the Veluwe
    park = write_geojson(tmp_path / "p.geojson", [({"source_id": "p"}, square(float(x), float(y)))], crs=RD)
    import_parks(store, park, settings=settings, source="t")
    p = _parks(store)["p"]
    assert (p.municipality_code, p.municipality_name, p.province) == ("GM0273", "Putten", "Gelderland")
