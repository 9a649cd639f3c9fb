"""How the maps look: risk and signal colours and the raster basemaps (whose hosts the CSP must allow)."""
from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["BASEMAPS", "RISK_COLOURS", "SIGNAL_COLOURS", "TileSpec", "basemap_order", "tile_hosts"]

#: Traffic-light colours officers read at a glance; grey for parks without a score.
RISK_COLOURS: dict[str | None, str] = {"laag": "#1a9641", "verhoogd": "#f39c12", "hoog": "#d7191c", None: "#8c8c8c"}
#: One colour per signal type (ColorBrewer Set1/Dark2, distinguishable on the grey PDOK map).
SIGNAL_COLOURS: dict[str, str] = {
    "permit": "#377eb8", "ownership_change": "#984ea3", "inspection": "#4daf4a", "registration": "#a65628",
    "complaint": "#ff7f00", "incident": "#e41a1c", "bibob": "#000000", "energy_anomaly": "#f781bf",
    "other": "#999999",
}

_ORIGIN = re.compile(r"^(https?://[^/]+)")


@dataclass(frozen=True)
class TileSpec:
    """A raster basemap: Leaflet URL template, attribution, the zoom it is drawn to."""

    key: str
    url: str
    attribution: str
    max_zoom: int = 19
    max_native_zoom: int = 19

    @property
    def host(self) -> str:
        """The origin (scheme and host) the tiles come from."""
        match = _ORIGIN.match(self.url)
        if match is None:
            raise ValueError(f"tile URL without an http(s) origin: {self.url!r}")
        return match.group(1)


BASEMAPS: dict[str, TileSpec] = {
    "pdok": TileSpec("pdok", "https://service.pdok.nl/brt/achtergrondkaart/wmts/v2_0/grijs/EPSG:3857/{z}/{x}/{y}.png",
                     "Kadaster / PDOK", max_zoom=19, max_native_zoom=19),
    "osm": TileSpec("osm", "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                    "&copy; OpenStreetMap contributors", max_zoom=19, max_native_zoom=19),
}


def basemap_order(basemap: str) -> list[TileSpec]:
    """The chosen basemap first (shown), the other as the alternative a user can switch to; none when offline."""
    if basemap == "none":
        return []
    first = BASEMAPS[basemap]
    return [first] + [spec for key, spec in BASEMAPS.items() if key != basemap]


def tile_hosts(basemap: str) -> list[str]:
    """The origins a page with ``basemap`` loads tiles from (for the CSP ``img-src``); none when offline."""
    return [spec.host for spec in basemap_order(basemap)]
