"""The map legend and the model card say how hot spots are tested: FDR-corrected, only where the level is of note."""
from __future__ import annotations


def test_the_map_legend_states_the_runs_hotspot_rule(demo_client):
    page = demo_client.get("/").get_data(as_text=True)
    assert "FDR 5 %" in page and "minstens verhoogd" in page
    en = demo_client.get("/?lang=en").get_data(as_text=True)
    assert "FDR 5 %" in en and "at least" in en


def test_the_model_card_explains_the_correction_and_the_level(demo_client):
    page = demo_client.get("/model").get_data(as_text=True)
    assert "false discovery rate van 5 %" in page and "Benjamini-Hochberg" in page
    assert "het gemiddelde van het park en zijn buren is minstens" in page
    assert "9999 permutaties" in page
