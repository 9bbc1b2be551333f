"""Map tiles from the configured tile server (a real HTTP server on loopback), allowed
by the page's policy; when that server fails, the maps fall back to country borders."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import Page
from pytest_httpserver import HTTPServer
from site_helpers import Site, start_serve, stop, write_config

ANY_TILE = re.compile(r"^/tiles/\d+/\d+/\d+\.png$")
BORDER_PATHS = "document.querySelectorAll('path.fw-border').length"
CREDITS = "document.querySelector('.leaflet-control-attribution').textContent"


def png_tile() -> bytes:
    image = pytest.importorskip("PIL.Image", reason="Pillow is needed to make a tile")
    out = io.BytesIO()
    image.new("RGB", (256, 256), (170, 211, 223)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def tiled_site(tmp_path: Path, httpserver: HTTPServer) -> Iterator[tuple[Site, HTTPServer]]:
    tiles = f"http://127.0.0.1:{httpserver.port}/tiles/{{z}}/{{x}}/{{y}}.png"
    served = start_serve(write_config(tmp_path, tiles=tiles))
    try:
        yield served, httpserver
    finally:
        stop(served.process)


def test_tiles_come_from_the_configured_server(
    tiled_site: tuple[Site, HTTPServer], page: Page,
) -> None:
    site, tiles = tiled_site
    tiles.expect_request(ANY_TILE).respond_with_data(png_tile(), content_type="image/png")
    page.open(site.url + "/alerts")  # a page without a map first: no tile asked for
    assert len(tiles.log) == 0
    page.open(site.url + "/")
    page.wait_for("document.querySelectorAll('img.leaflet-tile-loaded').length >= 4")
    assert len(tiles.log) >= 4
    page.idle(1.0)
    assert page.evaluate(BORDER_PATHS) == 0  # tiles worked: no borders needed
    credits = page.wait_for(f"({CREDITS}).includes('GeoNames') && {CREDITS}")
    assert "OpenStreetMap contributors" in credits and "Natural Earth" not in credits
    assert page.errors == []


def test_a_failing_tile_server_falls_back_to_borders(
    tiled_site: tuple[Site, HTTPServer], page: Page,
) -> None:
    site, tiles = tiled_site
    tiles.expect_request(ANY_TILE).respond_with_data("down", status=503)
    page.open(site.url + "/")
    assert page.wait_for(BORDER_PATHS) >= 6  # the six countries
    credits = page.wait_for(f"({CREDITS}).includes('GeoNames') && {CREDITS}")
    # No tile was shown: nobody is credited for tiles.
    assert "OpenStreetMap" not in credits and "Borders: Natural Earth" in credits
    assert all("503" in error for error in page.errors)  # the failed tiles, nothing else

