"""Settings come from PARKWACHT_* variables with working defaults."""
from __future__ import annotations

import pytest

from service.config import load_settings


def test_defaults_use_an_embedded_sqlite_file() -> None:
    s = load_settings({})
    assert s.database_url.startswith("sqlite:///") and s.database_url.endswith("instance/parkwacht.db")
    assert s.nearby_distance_m == 250.0 and s.basemap == "pdok"


def test_environment_overrides_and_types() -> None:
    s = load_settings({"PARKWACHT_DATABASE_URL": "postgresql+psycopg://u@h/db", "PARKWACHT_NEARBY_DISTANCE_M": "100",
                       "PARKWACHT_BASEMAP": "none", "PARKWACHT_IMPORT_CHUNK_ROWS": "5000"})
    assert s.database_url == "postgresql+psycopg://u@h/db"
    assert s.nearby_distance_m == 100.0 and s.basemap == "none" and s.import_chunk_rows == 5000


@pytest.mark.parametrize("env, message", [
    ({"PARKWACHT_BASEMAP": "google"}, "pdok, osm or none"),
    ({"PARKWACHT_NEARBY_DISTANCE_M": "far"}, "not a valid float"),
    ({"PARKWACHT_NEARBY_DISTANCE_M": "-1"}, "must not be negative"),
])
def test_bad_values_are_refused_clearly(env, message) -> None:
    with pytest.raises(ValueError, match=message):
        load_settings(env)
