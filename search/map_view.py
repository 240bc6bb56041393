"""The results map's options: bundled open data by default, an operator's street-tile source when set.

The map itself is drawn in the browser (static/js/results-map.js) and loaded only when asked. By default it
needs nothing but this site. When `MAP_TILE_URL` is set, the page names the tile host before anything is
fetched from it, and the results page's Content-Security-Policy allows images from that one origin.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse

from core.security import CONTENT_SECURITY_POLICY
from core.settings import Settings

# The map's own files (pinned in package.json, copied into static/vendor/ by `make vendor`).
MAP_ASSETS = {
    "css": "vendor/leaflet-1.9.4.css",
    "leaflet": "vendor/leaflet-1.9.4.js",
    "topojson": "vendor/topojson-client-3.1.0.min.js",
    "states": "vendor/us-atlas-3.0.1-states-10m.json",
    "map": "js/results-map.js",
}


@dataclass(frozen=True)
class TileSource:
    url: str
    host: str
    origin: str
    attribution: str


def tile_source(settings: Settings) -> TileSource | None:
    if not settings.map_tile_url:
        return None
    parts = urlsplit(settings.map_tile_url)
    return TileSource(
        url=settings.map_tile_url,
        host=parts.hostname or parts.netloc,
        origin=f"{parts.scheme}://{parts.netloc}",
        attribution=settings.map_tile_attribution or parts.hostname or "",
    )


def map_tiles(request: Request) -> TileSource | None:
    """For templates: the configured tile source, if any."""
    settings: Settings = request.app.state.settings
    return tile_source(settings)


def allow_tiles(response: HTMLResponse, request: Request) -> HTMLResponse:
    """Let the page show the configured tiles (images from that origin only); unchanged without tiles."""
    tiles = map_tiles(request)
    if tiles is not None:
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
            "img-src 'self' data:", f"img-src 'self' data: {tiles.origin}"
        )
    return response
