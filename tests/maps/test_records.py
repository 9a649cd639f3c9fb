"""service.maps.records: the labels the browser receives."""
from __future__ import annotations

from service import maps


def test_labels_for_the_browser_are_the_texts_and_the_class_names():
    js = maps.MapLabels(signal_types={"permit": "Vergunning"}).as_js()
    assert js["parks"] == "Parken" and js["locale"] == "nl"
    assert js["classes"] == {c: c for c in maps.RISK_CLASSES}
    assert "signal_types" not in js
    assert all(isinstance(v, str) for k, v in js.items() if k != "classes")
