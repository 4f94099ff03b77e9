"""Basemaps: none by default (the command centre is offline), or a configured tile provider.

AMap and Tencent draw in GCJ-02 (the mandated offset of Chinese web maps); when one of them
is chosen the browser shifts every overlay from WGS84 into GCJ-02 (assets/wall.js) so the
layers line up with the streets. Tianditu is CGCS2000, which is WGS84 to within a metre.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Basemap:
    """A tile source and the datum its tiles are drawn in."""

    name: str
    urls: tuple[str, ...]  # drawn bottom first (Tianditu: streets, then their labels)
    attribution: str
    datum: str = "wgs84"  # or "gcj02"
    subdomains: str = "abc"
    needs_key: bool = False

    def tile_urls(self, url: str | None = None, key: str | None = None) -> list[str]:
        """The tile URL templates, with the configured URL or key filled in."""
        if self.name == "xyz":
            return [url] if url else []
        return [u.replace("{key}", key or "") for u in self.urls]

    def origins(self, url: str | None = None, key: str | None = None) -> list[str]:
        """The origins the page must be allowed to load images from (Content-Security-Policy)."""
        found = []
        for template in self.tile_urls(url, key):
            parts = urlsplit(template)
            host = parts.netloc.replace("{s}", "*")
            found.append(f"{parts.scheme}://{host}")
        return found


_TIANDITU = ("https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
             "&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
             "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}")

BASEMAPS = {
    "none": Basemap("none", (), ""),
    "xyz": Basemap("xyz", (), ""),
    "tianditu": Basemap(
        "tianditu",
        (_TIANDITU.replace("{layer}", "vec"), _TIANDITU.replace("{layer}", "cva")),
        "© 天地图 Tianditu", subdomains="01234567", needs_key=True,
    ),
    "amap": Basemap(
        "amap",
        ("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
         "&x={x}&y={y}&z={z}",),
        "© 高德地图 AMap", datum="gcj02", subdomains="1234",
    ),
    "tencent": Basemap(
        "tencent",
        ("https://rt{s}.map.gtimg.com/tile?z={z}&x={x}&y={-y}&styleid=1000&scene=0",),
        "© 腾讯地图 Tencent", datum="gcj02", subdomains="0123",
    ),
}
