"""Map pictures (PNG) drawn offline: a track coloured by altitude over country borders,
fences, towns, airports and the receiver's coverage, the event marked, a caption line.

Every alert gets one (a chat channel shows a picture where a link is one tap too many);
the evidence report draws one per flight. No tile server and no browser: a Pi without
internet draws it alone. Pillow does the drawing and is imported only here, when the
first picture is drawn. The geometry is drawn at twice the size and scaled down, for
smooth lines; the text is drawn afterwards at the final size, so it stays crisp.
"""

from __future__ import annotations

import functools
import io
import json
import math
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flightwatch.db.airports import Airport, AirportIndex
from flightwatch.db.alert_record import TrackPoint
from flightwatch.output.map import LEGEND_ORDER, MAX_GAP_S, altitude_band
from flightwatch.output.places import (
    AIRPORTS_CREDIT,
    BORDERS_CREDIT,
    PLACES_CREDIT,
    Outline,
    Place,
    Receiver,
    airport_coded,
    airports_within,
    towns_within,
)
from flightwatch.settings import bundled

if TYPE_CHECKING:
    from PIL import Image, ImageDraw, ImageFont

    from flightwatch.alerts.geofence import Geofence

WIDTH, HEIGHT = 800, 600
CAPTION_LINE = 18  # pixels per caption line
SUPERSAMPLE = 2
MIN_SPAN_KM = 40.0  # a single point still shows its surroundings
PADDING = 0.12  # of the drawn extent, on each side
MAX_TOWN_LABELS = 24
# A picture is read closer than a web map: it names towns a web map would name only
# this many zoom levels further in (labels that collide are left out anyway).
TOWN_ZOOM_BONUS = 2
CITY_POPULATION = 300_000  # named before any airfield, in bold
EVENT_MARGIN_KM = 15.0  # the event is never at the very edge of its picture
PALETTE_COLOURS = 64

BACKGROUND = (246, 244, 238)
BORDER = (150, 150, 150)
FENCE = (231, 41, 138)
FENCE_TINT = (245, 233, 232)  # FENCE at 5 % over BACKGROUND
COVERAGE = (49, 130, 189)
TOWN = (60, 60, 60)
AIRPORT = (8, 48, 107)
EVENT = (255, 255, 51)
INK = (0, 0, 0)
HALO = (255, 255, 255)

_FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")
# Letters NFKD does not take apart, and punctuation, for Pillow's own (ASCII) font.
_ASCII_FOLD = str.maketrans({"Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "Đ": "D", "đ": "d",
                             "ß": "ss", "\u2019": "'", "\u2018": "'", "\u02b9": "'",
                             "\u2013": "-", "\u2014": "-", "·": "-", "±": "+/-"})


@dataclass(frozen=True, slots=True)
class Mark:
    """A point the picture marks: the event (``event``), or where a track starts
    (``start``)."""

    lat: float
    lon: float
    label: str = ""
    kind: str = "event"


@dataclass
class MapLayers:
    """What every picture draws around its track; built once per process."""

    fences: Sequence[Geofence] = ()
    airports: Sequence[Airport] | AirportIndex = ()
    towns: Sequence[Place] = ()
    receiver: Receiver | None = None
    outlines: Sequence[Outline] = ()
    borders: Sequence[Any] = field(default_factory=lambda: _borders())


def _borders() -> tuple[Any, ...]:
    return border_outlines()


@functools.cache
def border_outlines() -> tuple[Any, ...]:
    """The bundled country outlines (shapely geometries), read once."""
    from shapely.geometry import shape

    data = json.loads(bundled("borders.geojson").read_text(encoding="utf-8"))
    return tuple(shape(f["geometry"]) for f in data["features"])


class Projection:
    """Web Mercator fitted to a box of ``width`` x ``height`` pixels around the points."""

    def __init__(self, points: Iterable[tuple[float, float]], width: int, height: int,
                 min_span_km: float = MIN_SPAN_KM) -> None:
        pts = list(points)
        xs = [math.radians(lon) for _lat, lon in pts]
        ys = [_mercator_y(lat) for lat, _lon in pts]
        mid_lat = (min(p[0] for p in pts) + max(p[0] for p in pts)) / 2
        least = min_span_km / 6371.0 / max(math.cos(math.radians(mid_lat)), 0.05)
        dx = max(max(xs) - min(xs), least) * (1 + 2 * PADDING)
        dy = max(max(ys) - min(ys), least) * (1 + 2 * PADDING)
        self.scale = min(width / dx, height / dy)  # pixels per radian of longitude
        self.cx, self.cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
        self.width, self.height = width, height

    @property
    def zoom(self) -> float:
        """The web-map zoom level of the same scale (256-pixel tiles)."""
        return math.log2(self.scale * 2 * math.pi / 256)

    def xy(self, lat: float, lon: float) -> tuple[float, float]:
        return (self.width / 2 + (math.radians(lon) - self.cx) * self.scale,
                self.height / 2 - (_mercator_y(lat) - self.cy) * self.scale)

    def pixels(self, lonlat: Any, factor: float = 1.0) -> list[tuple[float, float]]:
        """Pixel positions of an (n, 2) array of (lon, lat), times ``factor``, at once."""
        import numpy as np

        lon = np.radians(lonlat[:, 0])
        lat = np.radians(np.clip(lonlat[:, 1], -85.0, 85.0))
        x = (self.width / 2 + (lon - self.cx) * self.scale) * factor
        y = (self.height / 2 - (np.log(np.tan(np.pi / 4 + lat / 2)) - self.cy) * self.scale)
        return list(zip(x.tolist(), (y * factor).tolist(), strict=True))

    def bounds(self) -> tuple[float, float, float, float]:
        """(south, west, north, east) of the picture."""
        half_w, half_h = self.width / 2 / self.scale, self.height / 2 / self.scale
        return (_latitude(self.cy - half_h), math.degrees(self.cx - half_w),
                _latitude(self.cy + half_h), math.degrees(self.cx + half_w))

    def km_per_pixel(self) -> float:
        south, _w, north, _e = self.bounds()
        return 6371.0 * math.cos(math.radians((south + north) / 2)) / self.scale


def _mercator_y(lat: float) -> float:
    lat = max(min(lat, 85.0), -85.0)
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def _latitude(y: float) -> float:
    return math.degrees(2 * math.atan(math.exp(y)) - math.pi / 2)


@dataclass(frozen=True)
class _Fonts:
    regular: Any
    small: Any
    bold: Any
    caption: Any
    unicode: bool  # False: Pillow's own font, ASCII only

    def text(self, value: str) -> str:
        """``value`` as the font can draw it (accents dropped from Pillow's own font)."""
        if self.unicode:
            return value
        folded = unicodedata.normalize("NFKD", value.translate(_ASCII_FOLD))
        return "".join(c if c.isascii() else "?" for c in folded
                       if not unicodedata.combining(c))


@functools.cache
def fonts() -> _Fonts:
    """DejaVu Sans where the system has it (Debian and Raspberry Pi OS do: every script),
    else Pillow's own font (Latin letters only)."""
    from PIL import ImageFont

    try:
        regular, bold = (functools.partial(ImageFont.truetype, name) for name in _FONT_FILES)
        return _Fonts(regular(12), regular(10), bold(12), regular(13), unicode=True)
    except OSError:
        return _Fonts(ImageFont.load_default(12), ImageFont.load_default(10),
                      ImageFont.load_default(12), ImageFont.load_default(13), unicode=False)


@dataclass
class _Label:
    x: float
    y: float
    anchor: str  # Pillow's text anchor: "lm" (text right of the point), "rm", "mb", "mt"
    text: str
    font: Any
    colour: tuple[int, int, int]
    box: tuple[float, float, float, float]


# Where a label may go around its point, tried in this order: right, left, above, below.
_SPOTS = (("lm", 6, 0), ("rm", -6, 0), ("mb", 0, -6), ("mt", 0, 6))


class _Labels:
    """Labels placed greedily, most important first, each in the first spot around its
    point where it overlaps nothing placed before; one that fits nowhere is left out."""

    def __init__(self, fonts: _Fonts, width: int, height: int) -> None:
        self.fonts = fonts
        self.width, self.height = width, height
        self.placed: list[_Label] = []

    def reserve(self, box: tuple[float, float, float, float]) -> None:
        """Keep labels off ``box`` (the legend, the scale bar, the credits)."""
        self.placed.append(_Label(0, 0, "lm", "", None, INK, box))

    def place(self, x: float, y: float, text: str, font: Any,
              colour: tuple[int, int, int] = INK) -> bool:
        shown = self.fonts.text(text)
        for anchor, dx, dy in _SPOTS:
            left, top, right, bottom = font.getbbox(shown, anchor=anchor)
            box = (x + dx + left - 2, y + dy + top - 2, x + dx + right + 2, y + dy + bottom + 2)
            if box[0] < 0 or box[1] < 0 or box[2] > self.width or box[3] > self.height:
                continue
            if any(_overlap(box, other.box) for other in self.placed):
                continue
            self.placed.append(_Label(x + dx, y + dy, anchor, shown, font, colour, box))
            return True
        return False


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def caption_height(lines: int) -> int:
    return 8 + CAPTION_LINE * lines


def render_png(
    layers: MapLayers, track: Sequence[TrackPoint], marks: Sequence[Mark],
    caption: Sequence[str], *, width: int = WIDTH, height: int = HEIGHT,
    highlight: Sequence[str] = (),
) -> bytes | None:
    """The picture as PNG bytes; None when there is nothing to place (no track, no mark).

    ``caption`` is one or two lines under the map; ``highlight`` names airports drawn
    whatever the zoom (the event's airport).
    """
    from PIL import Image

    view = view_of(track, marks, width, height - caption_height(len(caption)))
    if view is None:
        return None
    map_height = view.height
    font = fonts()
    labels = _Labels(font, width, map_height)
    for box in _furniture(font, view, track):
        labels.reserve(box)
    towns, airports = _choose_places(layers, view, labels, font, highlight, marks)
    big = Image.new("RGB", (width * SUPERSAMPLE, map_height * SUPERSAMPLE), BACKGROUND)
    _draw_geometry(big, layers, view, track, marks, towns, airports)
    image = Image.new("RGB", (width, height), HALO)
    image.paste(big.reduce(SUPERSAMPLE), (0, 0))
    del big
    _draw_text(image, labels, view, track, caption, layers, towns, airports)
    # 64 colours look the same here and make the file a quarter of the size (~20 KB).
    out = io.BytesIO()
    image.quantize(PALETTE_COLOURS, method=Image.Quantize.FASTOCTREE).save(out, format="PNG")
    return out.getvalue()


def _choose_places(
    layers: MapLayers, view: Projection, labels: _Labels, font: _Fonts,
    highlight: Sequence[str], marks: Sequence[Mark],
) -> tuple[list[Place], list[Airport]]:
    """The towns and airports drawn, in order of importance, each only where its label
    fits: the marks' labels, the event's airport (whatever the zoom), cities, the other
    airports the zoom shows, then the other towns, larger first."""
    for mark in marks:
        if mark.label:
            labels.place(*view.xy(mark.lat, mark.lon), mark.label, font.bold)
    bounds, zoom = view.bounds(), view.zoom
    wanted = set(highlight)
    airports = [a for a in (airport_coded(layers.airports, code) for code in sorted(wanted))
                if a is not None]
    for airport in airports:
        labels.place(*view.xy(airport.lat, airport.lon), airport.code, font.bold, AIRPORT)
    candidates = towns_within(layers.towns, bounds, zoom + TOWN_ZOOM_BONUS)
    cities = [t for t in candidates if t.population >= CITY_POPULATION]
    towns = [t for t in cities if labels.place(*view.xy(t.lat, t.lon), t.name, font.bold, TOWN)]
    airports += [a for a in airports_within(layers.airports, bounds, zoom)
                 if a.code not in wanted
                 and labels.place(*view.xy(a.lat, a.lon), a.code, font.bold, AIRPORT)]
    for town in candidates:
        if len(towns) >= MAX_TOWN_LABELS:
            break
        if town.population < CITY_POPULATION and labels.place(
                *view.xy(town.lat, town.lon), town.name, font.regular, TOWN):
            towns.append(town)
    return towns, airports


def view_of(track: Sequence[TrackPoint], marks: Sequence[Mark], width: int,
            height: int) -> Projection | None:
    """The map part of a picture (``width`` x ``height`` pixels): the track and the marks,
    each mark at least ``EVENT_MARGIN_KM`` from the edge; None with neither."""
    points = [(p.lat, p.lon) for p in track] + [
        corner for m in marks for corner in _around(m.lat, m.lon, EVENT_MARGIN_KM)]
    return Projection(points, width, height) if points else None


def _around(lat: float, lon: float, km: float) -> list[tuple[float, float]]:
    """Two corners of a box ``km`` around a point."""
    dlat = km / 111.2
    dlon = dlat / max(math.cos(math.radians(lat)), 0.05)
    return [(lat - dlat, lon - dlon), (lat + dlat, lon + dlon)]


def _furniture(font: _Fonts, view: Projection, track: Sequence[TrackPoint]) -> list[
        tuple[float, float, float, float]]:
    """Where the legend, the scale bar and the credits go (no label may cover them)."""
    bands = len({altitude_band(p.altitude_ft, None) for p in track})
    return [(0, 0, 150, 10 + 14 * bands), (0, view.height - 22, 200, view.height),
            (view.width - 400, view.height - 16, view.width, view.height)]


def _scaled(view: Projection, lat: float, lon: float) -> tuple[float, float]:
    x, y = view.xy(lat, lon)
    return x * SUPERSAMPLE, y * SUPERSAMPLE


def _rings(geometry: Any, view: Projection) -> Iterable[list[tuple[float, float]]]:
    """The exterior rings of a (multi)polygon in (supersampled) pixels, cut to the view
    (with a margin, so no edge of the cut shows)."""
    import shapely

    south, west, north, east = view.bounds()
    margin_lat, margin_lon = (north - south) / 4, (east - west) / 4
    shown = shapely.clip_by_rect(geometry, west - margin_lon, south - margin_lat,
                                 east + margin_lon, north + margin_lat)
    for part in getattr(shown, "geoms", [shown]):
        exterior = getattr(part, "exterior", None)
        if exterior is not None and not part.is_empty:
            yield view.pixels(shapely.get_coordinates(exterior), SUPERSAMPLE)


def _draw_geometry(
    image: Image.Image, layers: MapLayers, view: Projection, track: Sequence[TrackPoint],
    marks: Sequence[Mark], towns: Sequence[Place], airports: Sequence[Airport],
) -> None:
    from PIL import ImageDraw

    draw = ImageDraw.Draw(image)
    s = SUPERSAMPLE
    fences = [ring for fence in layers.fences for ring in _rings(fence.geometry, view)]
    for ring in fences:  # a solid tint: blending a large fill costs ten times more
        draw.polygon(ring, fill=FENCE_TINT)
    for outline in layers.borders:
        for ring in _rings(outline, view):
            draw.line(ring, fill=BORDER, width=s)
    for ring in fences:
        draw.line([*ring, ring[0]], fill=FENCE, width=2 * s, joint="curve")
    for coverage in layers.outlines:
        if coverage.points:
            draw.line([_scaled(view, *p) for p in coverage.points], fill=COVERAGE, width=s)
    for town in towns:
        _dot(draw, _scaled(view, town.lat, town.lon), 2.5 * s, TOWN, TOWN)
    for airport in airports:
        _dot(draw, _scaled(view, airport.lat, airport.lon), 4 * s, HALO, AIRPORT, 2 * s)
    if layers.receiver is not None:
        x, y = _scaled(view, layers.receiver.lat, layers.receiver.lon)
        r = 6 * s
        draw.polygon([(x, y - r), (x - r, y + r * 0.8), (x + r, y + r * 0.8)], fill=INK)
    for run in track_segments(track):
        colour = _rgb(altitude_band(run[0].altitude_ft, None).colour)
        draw.line([_scaled(view, p.lat, p.lon) for p in run], fill=colour, width=3 * s,
                  joint="curve")
    for mark in marks:
        radius = 7 if mark.kind == "event" else 4
        fill = EVENT if mark.kind == "event" else HALO
        _dot(draw, _scaled(view, mark.lat, mark.lon), radius * s, fill, INK, 2 * s)


def track_segments(track: Sequence[TrackPoint]) -> list[list[TrackPoint]]:
    """Runs of one altitude band, each ending with the next run's first point (so the
    pieces join), cut where two points are further apart than a map cuts them."""
    runs: list[list[TrackPoint]] = []
    previous: TrackPoint | None = None
    for point in track:
        band = altitude_band(point.altitude_ft, None)
        joined = previous is not None and \
            (point.time - previous.time).total_seconds() <= MAX_GAP_S
        if joined and runs and altitude_band(runs[-1][0].altitude_ft, None) == band:
            runs[-1].append(point)
        else:
            if joined and runs:
                runs[-1].append(point)
            runs.append([point])
        previous = point
    return [run for run in runs if len(run) > 1]


def _dot(draw: ImageDraw.ImageDraw, at: tuple[float, float], radius: float,
         fill: tuple[int, ...], outline: tuple[int, ...], width: int = 1) -> None:
    x, y = at
    draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=fill,
                 outline=outline, width=width)


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _draw_text(
    image: Image.Image, labels: _Labels, view: Projection, track: Sequence[TrackPoint],
    caption: Sequence[str], layers: MapLayers, towns: Sequence[Place],
    airports: Sequence[Airport],
) -> None:
    from PIL import ImageDraw

    draw = ImageDraw.Draw(image)
    font = labels.fonts
    for label in labels.placed:
        if not label.text:
            continue  # a reserved box
        draw.text((label.x, label.y), label.text, font=label.font, fill=label.colour,
                  anchor=label.anchor, stroke_width=2, stroke_fill=HALO)
    map_height = view.height
    _legend(draw, font, track)
    _scale_bar(draw, font, view)
    credits = [BORDERS_CREDIT]
    credits += [PLACES_CREDIT] if towns else []
    credits += [AIRPORTS_CREDIT] if airports else []
    _boxed(draw, (view.width - 4, map_height - 4), font.text(" · ".join(credits)),
           font.small, "rd", (90, 90, 90))
    draw.line([(0, map_height), (view.width, map_height)], fill=BORDER, width=1)
    for number, line in enumerate(caption):
        middle = map_height + 4 + CAPTION_LINE * (number + 0.5)
        draw_caption(draw, font, line, (6, middle), view.width - 12)


def draw_caption(draw: ImageDraw.ImageDraw, font: _Fonts, caption: str,
                 at: tuple[float, float], max_width: float) -> None:
    """A caption line, left-aligned at ``at`` (its middle), cut with "…" to fit."""
    text = font.text(caption)
    face: ImageFont.FreeTypeFont = font.caption
    ellipsis = font.text("…") if font.unicode else "..."
    while text and face.getlength(text) > max_width:
        text = text[:-2].rstrip() + ellipsis if not text.endswith(ellipsis) else \
            text[:-len(ellipsis) - 1].rstrip() + ellipsis
    draw.text(at, text, font=face, fill=INK, anchor="lm")


def _legend(draw: ImageDraw.ImageDraw, font: _Fonts, track: Sequence[TrackPoint]) -> None:
    """The altitude bands the track is drawn in, top left."""
    present = {altitude_band(point.altitude_ft, None) for point in track}
    y = 8
    for band in (b for b in LEGEND_ORDER if b in present):
        _boxed(draw, (31, y + 6), font.text(band.label), font.small, "lm", INK)
        draw.rectangle((6, y, 28, y + 12), fill=HALO)
        draw.line([(8, y + 6), (26, y + 6)], fill=_rgb(band.colour), width=4)
        y += 14


def _boxed(draw: ImageDraw.ImageDraw, at: tuple[float, float], text: str, face: Any,
           anchor: str, colour: tuple[int, int, int]) -> None:
    """Text on a white box (cheaper than a halo, for the legend, scale and credits)."""
    left, top, right, bottom = draw.textbbox(at, text, font=face, anchor=anchor)
    draw.rectangle((left - 2, top - 1, right + 2, bottom + 1), fill=HALO)
    draw.text(at, text, font=face, fill=colour, anchor=anchor)


_SCALE_STEPS_KM = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)


def _scale_bar(draw: ImageDraw.ImageDraw, font: _Fonts, view: Projection) -> None:
    """A bar of a round number of kilometres, about 100 pixels long, bottom left."""
    km_per_px = view.km_per_pixel()
    km = next((k for k in _SCALE_STEPS_KM if k / km_per_px >= 60), _SCALE_STEPS_KM[-1])
    length = km / km_per_px
    y = view.height - 10
    draw.line([(10, y), (10 + length, y)], fill=INK, width=2)
    for x in (10, 10 + length):
        draw.line([(x, y - 4), (x, y)], fill=INK, width=2)
    _boxed(draw, (14 + length, y), f"{km} km", font.small, "lm", INK)

