"""An investigator's map: tracks coloured by altitude, geofences, airports and alerts.

The page is one self-contained HTML file: Leaflet's JS and CSS (from the
``xstatic-leaflet`` package) are inlined, the CSS's images as data URIs, and the
map's content travels as one JSON document that a few lines of script draw. So
tracks, fences and markers show with no network; only the basemap tiles need one.

Why not folium: its pages link Leaflet, jQuery, Bootstrap and Font Awesome from
CDNs, and its popups and layer ordering call jQuery, so an offline folium page
would have to inline jQuery too. Nothing here needs more than Leaflet itself, and
popups built with ``textContent`` cannot be turned into markup by a callsign.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import shapely
import xstatic.pkg.leaflet

from flightwatch.alerts.geofence import Geofence
from flightwatch.db.airports import Airport
from flightwatch.db.alert_record import Alert
from flightwatch.decoder import printable
from flightwatch.output.places import (
    AIRPORTS_CREDIT,
    BORDERS_CREDIT,
    airport_zoom,
    places_json,
)

# A track is cut where two positions are further apart in time than this, so that
# two flights (or a long coverage gap) are not joined by a straight line.
MAX_GAP_S = 600.0
# Fence outlines are simplified to about this many degrees (~100 m): enough for a
# map, and a buffered fence can carry far more vertices than a page needs.
FENCE_TOLERANCE_DEG = 0.001
COORD_DIGITS = 5  # ~1 m: plenty for a map, and keeps long histories small


@dataclass(frozen=True, slots=True)
class Band:
    """An altitude band and the colour its track segments are drawn in."""

    label: str
    colour: str


GROUND = Band("on the ground", "#8c510a")
UNKNOWN_ALTITUDE = Band("altitude unknown", "#878787")
# (lowest altitude in feet, band), highest first.
ALTITUDE_BANDS: tuple[tuple[int, Band], ...] = (
    (30_000, Band("30,000 ft and above", "#5e3c99")),
    (20_000, Band("20,000 to 30,000 ft", "#2b83ba")),
    (10_000, Band("10,000 to 20,000 ft", "#1a9641")),
    (2_000, Band("2,000 to 10,000 ft", "#fdae61")),
    (-2_000, Band("below 2,000 ft", "#d7191c")),
)
LEGEND_ORDER: tuple[Band, ...] = (*(b for _, b in ALTITUDE_BANDS), GROUND, UNKNOWN_ALTITUDE)
STYLES = {
    "fence": {"color": "#e7298a", "weight": 2, "dashArray": "6 4", "fillOpacity": 0.04},
    "track": {"weight": 4, "opacity": 1.0},
    "airport": {"radius": 3, "color": "#08306b", "weight": 2, "fillColor": "#ffffff",
                "fillOpacity": 1.0},
    "alert": {"radius": 8, "color": "#000000", "weight": 2, "fillColor": "#ffff33",
              "fillOpacity": 1.0},
    "border": {"color": "#6b6b6b", "weight": 1, "fill": False},
    "town": {"radius": 2.5, "color": "#3c3c3c", "weight": 1, "fillColor": "#3c3c3c",
             "fillOpacity": 1.0},
    "receiver": {"radius": 6, "color": "#000000", "weight": 2, "fillColor": "#000000",
                 "fillOpacity": 1.0},
    "coverage": {"color": "#3182bd", "weight": 1.5, "dashArray": "4 3", "fillOpacity": 0.03},
}

TILES_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
TILES_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>'


class MapPosition(Protocol):
    """What the map needs of a stored position (``db.queries.HistoryRow`` has it)."""

    @property
    def icao(self) -> str: ...
    @property
    def time(self) -> datetime: ...
    @property
    def lat(self) -> float: ...
    @property
    def lon(self) -> float: ...
    @property
    def altitude_ft(self) -> int | None: ...
    @property
    def on_ground(self) -> bool | None: ...
    @property
    def callsign(self) -> str | None: ...


def altitude_band(altitude_ft: float | None, on_ground: bool | None) -> Band:
    """The band a position is drawn in: on the ground, unknown, or by barometric altitude."""
    if on_ground:
        return GROUND
    if altitude_ft is None:
        return UNKNOWN_ALTITUDE
    for floor, band in ALTITUDE_BANDS:
        if altitude_ft >= floor:
            return band
    return ALTITUDE_BANDS[-1][1]


@dataclass
class TrackRun:
    """Consecutive positions of one aircraft in one altitude band, drawn as one line.

    A run ends with the first point of the next run, so the coloured pieces join up.
    """

    icao: str
    callsign: str | None
    band: Band
    start: datetime
    end: datetime
    points: list[tuple[float, float]] = field(default_factory=list)


def track_runs(positions: Iterable[MapPosition], max_gap_s: float = MAX_GAP_S) -> list[TrackRun]:
    """Cut positions (ordered by aircraft, then time) into single-colour runs."""
    runs: list[TrackRun] = []
    previous: MapPosition | None = None
    for pos in positions:
        point = (round(pos.lat, COORD_DIGITS), round(pos.lon, COORD_DIGITS))
        band = altitude_band(pos.altitude_ft, pos.on_ground)
        joined = (
            previous is not None
            and previous.icao == pos.icao
            and (pos.time - previous.time).total_seconds() <= max_gap_s
        )
        current = runs[-1] if runs else None
        if joined and current is not None and current.band == band:
            current.points.append(point)
            current.end = pos.time
            current.callsign = current.callsign or pos.callsign
        else:
            if joined and current is not None:
                current.points.append(point)
                current.end = pos.time
            runs.append(TrackRun(pos.icao, pos.callsign, band, pos.time, pos.time, [point]))
        previous = pos
    return runs


@cache
def leaflet_assets() -> tuple[str, str]:
    """Leaflet's JS and CSS as text, the CSS's images inlined, ready for <script>/<style>."""
    data = Path(xstatic.pkg.leaflet.BASE_DIR)
    script = (data / "leaflet.js").read_text(encoding="utf-8")
    script = re.sub(r"//# sourceMappingURL=\S+", "", script)
    script = re.sub(r"</(script)", r"<\\/\1", script, flags=re.IGNORECASE)  # in strings only

    def inline(match: re.Match[str]) -> str:
        image = (data / "images" / match.group(1)).read_bytes()
        return f'url("data:image/png;base64,{base64.b64encode(image).decode("ascii")}")'

    style = (data / "leaflet.css").read_text(encoding="utf-8")
    style = re.sub(r"url\(images/([\w.-]+\.png)\)", inline, style)
    return script, style


def _when(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _alert_rows(alert: Alert) -> list[tuple[str, str]]:
    altitude = f"{alert.altitude_ft:,.0f} ft" if alert.altitude_ft is not None else None
    rows = [
        ("alert", alert.kind),
        ("time", _when(alert.time)),
        ("aircraft", alert.registration),
        ("icao", alert.icao),
        ("callsign", alert.callsign),
        ("geofence", alert.geofence),
        ("airport", alert.airport),
        ("altitude", altitude),
        ("position", f"{alert.lat:.4f}, {alert.lon:.4f}"),
        ("matched by", alert.matched_by),
        ("sources", ", ".join(alert.sources)),
    ]
    return [(name, value) for name, value in rows if value]


def _run_label(run: TrackRun) -> str:
    who = f"{printable(run.callsign)} ({run.icao})" if run.callsign else run.icao
    return f"{who}: {run.band.label}, {_when(run.start)} to {_when(run.end)}"


def fence_geometry(fence: Geofence) -> dict[str, Any]:
    """The fence simplified for drawing (~100 m), as a GeoJSON geometry."""
    outline = shapely.simplify(fence.geometry, FENCE_TOLERANCE_DEG, preserve_topology=True)
    return dict(shapely.geometry.mapping(shapely.set_precision(outline, 10**-COORD_DIGITS)))


def _view(
    runs: Sequence[TrackRun], alerts: Sequence[Alert], fences: Sequence[Geofence]
) -> list[list[float]] | None:
    """[[south, west], [north, east]] of the tracks and alerts; else of the fences."""
    points = [p for run in runs for p in run.points]
    points += [(a.lat, a.lon) for a in alerts]  # type: ignore[misc]
    if not points:
        points = [(lat, lon) for f in fences for lat, lon in (f.bounds[1::-1], f.bounds[:1:-1])]
    if not points:
        return None
    lats, lons = zip(*points, strict=True)
    return [[min(lats), min(lons)], [max(lats), max(lons)]]


@dataclass(frozen=True)
class Surroundings:
    """What the map draws under the tracks: tiles (when a URL is set), country borders
    (offline, when there are no tiles or they fail to load), and the places layer
    (``output.places.places_json``: towns and airports by zoom, receiver, coverage)."""

    tiles_url: str = TILES_URL
    tiles_attribution: str = TILES_ATTRIBUTION
    borders: Mapping[str, Any] | None = None
    places: Mapping[str, Any] | None = None
    airports: Sequence[Airport] | None = None  # those of the view, in place of all given


def map_data(
    runs: Sequence[TrackRun],
    fences: Sequence[Geofence],
    airports: Sequence[Airport],
    alerts: Sequence[Alert],
    surroundings: Surroundings | None = None,
) -> dict[str, Any]:
    """Everything the page draws, as JSON-ready data; alerts must have a position. Text
    from the air is shown as the terminal shows it (an invisible character as its escape);
    the page puts it in with textContent."""
    present = {run.band for run in runs}
    around = surroundings or Surroundings()
    alerts = [alert.for_display() for alert in alerts]
    return {
        "tiles": {"url": around.tiles_url, "attribution": around.tiles_attribution},
        "borders": around.borders,
        "borders_credit": BORDERS_CREDIT,
        "airports_credit": AIRPORTS_CREDIT,
        "places": around.places or places_json((), (), None, ()),
        "styles": STYLES,
        "legend": [
            {"label": b.label, "colour": b.colour} for b in LEGEND_ORDER if b in present
        ],
        "fences": [{"name": f.name, "geometry": fence_geometry(f)} for f in fences],
        "airports": [
            {"lat": a.lat, "lon": a.lon, "label": f"{a.code} {a.name}", "code": a.code,
             "zoom": airport_zoom(a)} for a in airports
        ],
        "tracks": [
            {"colour": r.band.colour, "points": r.points, "label": _run_label(r)} for r in runs
        ],
        "alerts": [
            {"lat": a.lat, "lon": a.lon, "label": f"{a.kind} {a.registration or a.icao}",
             "rows": _alert_rows(a)}
            for a in alerts
        ],
        "view": _view(runs, alerts, fences),
    }


# Draws map_data(); content goes in as text nodes, never as markup.
_DRAW = """
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("flightwatch-data").textContent);
  var styles = data.styles;
  var map = L.map("map");
  function text(value) {
    var span = document.createElement("span");
    span.textContent = value;
    return span;
  }
  function layer() { return L.featureGroup().addTo(map); }
  function credit(value) { map.attributionControl.addAttribution(value); }
  var bordersDrawn = false;
  function drawBorders() {
    if (bordersDrawn || !data.borders) { return; }
    bordersDrawn = true;
    L.geoJSON(data.borders, {style: styles.border, interactive: false}).addTo(map)
      .bringToBack();  /* under the fences, which follow the same borders */
    credit(data.borders_credit);
  }
  if (data.tiles.url) {
    /* Credited once a tile is on screen; offline, the borders stand in for the tiles. */
    var tiles = L.tileLayer(data.tiles.url, {maxZoom: 19});
    tiles.once("tileload", function () { credit(data.tiles.attribution); });
    tiles.on("tileerror", drawBorders);
    tiles.addTo(map);
  } else {
    drawBorders();
  }
  L.control.scale().addTo(map);
  var places = layer(), fences = layer(), airports = layer(), tracks = layer(),
    alerts = layer();
  var byZoom = [];  /* [marker, layer, zoom from which it shows] */
  function label(marker, value, bold) {
    return marker.bindTooltip(text(value), {permanent: true, direction: "right",
      offset: [4, 0], className: bold ? "flightwatch-label bold" : "flightwatch-label"});
  }
  function showByZoom() {
    var zoom = map.getZoom();
    byZoom.forEach(function (item) {
      if (zoom >= item[2]) { item[1].addLayer(item[0]); } else { item[1].removeLayer(item[0]); }
    });
  }
  data.places.coverage.forEach(function (o) {
    L.polygon(o.points, styles.coverage)
      .bindTooltip(text("coverage of " + o.receiver + ", " + o.band)).addTo(places);
  });
  data.places.towns.forEach(function (t) {
    byZoom.push([label(L.circleMarker([t.lat, t.lon], styles.town), t.name, false), places,
                 t.zoom]);
  });
  if (data.places.receiver) {
    var r = data.places.receiver;
    label(L.circleMarker([r.lat, r.lon], styles.receiver), "receiver " + r.name, false)
      .addTo(places);
  }
  data.places.credits.forEach(credit);
  data.fences.forEach(function (f) {
    L.geoJSON(f.geometry, {style: styles.fence}).bindTooltip(text(f.name)).addTo(fences);
  });
  data.airports.forEach(function (a) {
    var marker = label(L.circleMarker([a.lat, a.lon], styles.airport), a.code, true)
      .bindPopup(text(a.label));
    byZoom.push([marker, airports, a.zoom]);
  });
  if (data.airports.length) { credit(data.airports_credit); }
  map.on("zoomend", showByZoom);
  data.tracks.forEach(function (t) {
    L.polyline(t.points, L.extend({color: t.colour}, styles.track))
      .bindTooltip(text(t.label), {sticky: true}).addTo(tracks);
  });
  data.alerts.forEach(function (a) {
    var table = document.createElement("table");
    a.rows.forEach(function (row) {
      var line = table.insertRow();
      var name = document.createElement("th");
      name.textContent = row[0];
      name.style.textAlign = "left";
      name.style.paddingRight = "6px";
      line.appendChild(name);
      line.insertCell().textContent = row[1];
    });
    L.circleMarker([a.lat, a.lon], styles.alert).bindPopup(table, {maxWidth: 320})
      .bindTooltip(text(a.label)).addTo(alerts);
  });
  L.control.layers(null, {"tracks": tracks, "alerts": alerts, "airports": airports,
                          "geofences": fences, "places": places},
                   {collapsed: false}).addTo(map);
  if (data.legend.length) {
    var legend = L.control({position: "bottomright"});
    legend.onAdd = function () {
      var box = L.DomUtil.create("div", "flightwatch-legend");
      box.appendChild(document.createElement("b")).textContent = "Altitude";
      data.legend.forEach(function (band) {
        var row = box.appendChild(document.createElement("div"));
        var swatch = row.appendChild(document.createElement("span"));
        swatch.className = "swatch";
        swatch.style.background = band.colour;
        row.appendChild(document.createTextNode(band.label));
      });
      return box;
    };
    legend.addTo(map);
  }
  if (data.view) {
    map.fitBounds(data.view, {padding: [20, 20], maxZoom: 13});
  } else {
    map.setView([30, 20], 2);
  }
  showByZoom();
})();
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>@@title@@</title>
<style>@@leaflet_css@@</style>
<style>
html, body, #map { height: 100%; margin: 0; }
.flightwatch-legend { background: rgba(255, 255, 255, 0.9); padding: 6px 8px;
  border-radius: 4px; font: 12px/1.5 sans-serif; box-shadow: 0 1px 4px rgba(0, 0, 0, 0.3); }
.flightwatch-legend .swatch { display: inline-block; width: 18px; height: 4px;
  margin: 0 6px 3px 0; }
.leaflet-tooltip.flightwatch-label { background: transparent; border: 0; box-shadow: none;
  padding: 0 2px; font: 11px sans-serif; color: #333; text-shadow: 0 0 2px #fff, 0 0 2px #fff; }
.leaflet-tooltip.flightwatch-label.bold { font-weight: 700; color: #08306b; }
.leaflet-tooltip.flightwatch-label::before { display: none; }
</style>
<script>@@leaflet_js@@</script>
</head>
<body>
<div id="map"></div>
<script type="application/json" id="flightwatch-data">@@data@@</script>
<script>@@draw@@</script>
</body>
</html>
"""


def render_map(
    positions: Iterable[MapPosition],
    *,
    fences: Sequence[Geofence] = (),
    airports: Sequence[Airport] = (),
    alerts: Sequence[Alert] = (),
    title: str = "flightwatch map",
    surroundings: Callable[[list[list[float]] | None], Surroundings] | None = None,
) -> str:
    """The whole page as HTML text.

    Alerts without a position (e.g. ``heard_nearby``) have no marker. The view fits
    the tracks and alerts; with none, the fences; with neither, the world.
    ``surroundings`` gives the tiles, borders and places for that view (its
    [[south, west], [north, east]], or None for the world).
    """
    placed = [a for a in alerts if a.lat is not None and a.lon is not None]
    runs = track_runs(positions)
    around = surroundings(_view(runs, placed, fences)) if surroundings else None
    if around is not None and around.airports is not None:
        airports = around.airports
    data = map_data(runs, fences, airports, placed, around)
    script, style = leaflet_assets()
    parts = {
        "title": html.escape(title),
        "leaflet_css": style,
        "leaflet_js": script,
        # Every "<" escaped: no string in the data can close the <script> element, nor
        # open a "<!--" that would make the parser swallow the rest of the page.
        "data": json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace(
            "<", "\\u003c"),
        "draw": _DRAW,
    }
    return re.sub(r"@@(\w+)@@", lambda m: parts[m.group(1)], _PAGE)
