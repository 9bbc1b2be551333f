"""Alert pictures read back with Pillow: size, the track's colours where the track is, the
event marked, the caption line, and what is drawn when there is little to draw."""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image, ImageChops, ImageDraw

from flightwatch.alerts.geofence import Geofence
from flightwatch.db.airports import Airport
from flightwatch.db.alert_record import Alert, TrackPoint
from flightwatch.output.alert_picture import (
    AlertPictures,
    alert_caption,
    evidence_words,
    local_zone,
)
from flightwatch.output.picture import (
    CAPTION_LINE,
    HALO,
    MapLayers,
    Mark,
    _Fonts,
    caption_height,
    draw_caption,
    fonts,
    render_png,
    view_of,
)
from flightwatch.output.places import read_places
from flightwatch.settings import bundled

T0 = datetime(2020, 8, 18, 14, 0, tzinfo=UTC)
PURPLE = (0x5E, 0x3C, 0x99)  # 30,000 ft and above
RED = (0xD7, 0x19, 0x1C)  # below 2,000 ft
YELLOW = (255, 255, 51)
UMMS = Airport("UMMS", "UMMS", "Minsk National Airport", "large_airport", 53.882, 28.031, 670)


def _track() -> tuple[TrackPoint, ...]:
    """Twenty minutes from the east at FL350, then five at 1,500 ft into Minsk National."""
    high = [TrackPoint(T0 + timedelta(minutes=i), 54.3 - i * 0.02, 30.0 - i * 0.08, 35_000)
            for i in range(21)]
    end = high[-1]
    low = [TrackPoint(end.time + timedelta(minutes=i), end.lat + (53.882 - end.lat) * i / 5,
                      end.lon + (28.031 - end.lon) * i / 5, 1_500) for i in range(1, 6)]
    return (*high, *low)


def _alert(**changes) -> Alert:
    track = _track()
    values = dict(time=track[-1].time, icao="4B8D28", kind="landed", registration="RA-64523",
                  callsign="RSD523", geofence="belarus", airport="UMMS", lat=track[-1].lat,
                  lon=track[-1].lon, altitude_ft=1_500, evidence="inferred",
                  details={"aircraft_type": "Tupolev Tu-214", "operator": "Rossiya",
                           "uncertainty_s": 360}, track=track)
    values.update(changes)
    return Alert(**values)


def _image(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return image.convert("RGB")


def _near(colour, wanted, tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour, wanted, strict=False))


@pytest.fixture(scope="module")
def layers() -> MapLayers:
    belarus = Geofence.from_file(bundled("geofences/belarus.geojson"), "belarus")
    return MapLayers(fences=[belarus], airports=[UMMS], towns=read_places())


def test_the_track_is_drawn_in_its_altitude_colours_where_it_flew(layers) -> None:
    alert = _alert()
    png = AlertPictures(lambda: layers, {})(alert)
    assert png is not None and len(png) < 60_000
    image = _image(png)
    assert image.size == (800, 600)
    view = view_of(alert.track, [Mark(alert.lat, alert.lon)], 800, 600 - caption_height(2))
    assert view is not None
    high_ok = 0
    for a, b in zip(alert.track[2:17], alert.track[3:18], strict=True):
        x, y = view.xy((a.lat + b.lat) / 2, (a.lon + b.lon) / 2)
        high_ok += _near(image.getpixel((round(x), round(y))), PURPLE)
    assert high_ok >= 13  # a town's label may cover a piece
    low = alert.track[-3]
    x, y = view.xy(low.lat, low.lon)
    assert _near(image.getpixel((round(x), round(y))), RED)
    # Away from the track: background (or a border), not a track colour.
    x, y = view.xy(alert.track[10].lat + 0.5, alert.track[10].lon)
    assert not _near(image.getpixel((round(x), round(y))), PURPLE)
    # The event: a yellow disc where the alert was raised.
    x, y = view.xy(alert.lat, alert.lon)
    assert _near(image.getpixel((round(x), round(y))), YELLOW)


def test_the_caption_line_is_the_one_drawn_under_the_map(layers) -> None:
    alert = _alert()  # its fence names no time zone: Minsk's, the nearest town's
    caption = alert_caption(alert, local_zone(alert, {}, layers.towns))
    assert caption == ("RA-64523 Tupolev Tu-214 (Rossiya) landed at UMMS (Belarus)",
                       "2020-08-18 14:25 UTC (17:25 Minsk) · evidence: inferred (±6 min)")
    image = _image(AlertPictures(lambda: layers, {})(alert) or b"")
    top = 600 - caption_height(2)
    crop = image.crop((0, top + 1, 800, 600))

    def alone(lines) -> Image.Image:
        blank = Image.new("RGB", (800, 600), HALO)
        draw = ImageDraw.Draw(blank)
        for number, line in enumerate(lines):
            draw_caption(draw, fonts(), line, (6, top + 4 + CAPTION_LINE * (number + 0.5)),
                         788)
        return blank.crop((0, top + 1, 800, 600))

    def difference(a: Image.Image, b: Image.Image) -> int:
        """Pixels inked in one and not the other (the picture has 64 colours)."""
        inked = [image.convert("L").point(lambda v: 255 if v < 128 else 0) for image in (a, b)]
        return ImageChops.difference(*inked).histogram()[255]

    assert difference(crop, alone(caption)) < 5
    assert difference(crop, alone((caption[0], caption[1].replace("14:25", "14:26")))) > 10
    assert difference(crop, alone(("",))) > 1000  # the caption is not blank


def test_local_time_of_the_fence_or_else_of_the_nearest_town() -> None:
    from zoneinfo import ZoneInfo

    alert = _alert()
    assert local_zone(alert, {"belarus": ZoneInfo("Europe/Minsk")}, ()) == ZoneInfo("Europe/Minsk")
    assert str(local_zone(alert, {}, read_places())) == "Europe/Minsk"  # GeoNames' Minsk
    assert alert_caption(alert, ZoneInfo("Europe/Minsk"))[1].startswith(
        "2020-08-18 14:25 UTC (17:25 Minsk)")
    far = _alert(lat=-33.9, lon=18.4, geofence=None)
    assert local_zone(far, {}, read_places()) is None  # no town of the shipped region near


def test_evidence_words() -> None:
    assert evidence_words(_alert(evidence=None)) is None
    assert evidence_words(_alert(details={})) == "evidence: inferred"
    assert evidence_words(_alert(evidence="probable", details={"uncertainty_s": 90})) == \
        "evidence: probable (±2 min)"


def test_text_from_the_air_is_shown_as_text_in_the_caption() -> None:
    alert = _alert(registration="RA-6\n4523\x1b[31m", callsign="<b>X</b>")
    line = alert_caption(alert, None)[0]
    assert "\n" not in line and "\x1b" not in line


def test_an_alert_without_position_or_track_has_no_picture(layers) -> None:
    bare = _alert(lat=None, lon=None, track=())
    assert AlertPictures(lambda: layers, {})(bare) is None
    only_position = _alert(track=())
    assert _image(AlertPictures(lambda: layers, {})(only_position) or b"").size == (800, 600)


def test_a_picture_that_cannot_be_drawn_costs_the_alert_nothing(caplog) -> None:
    def broken() -> MapLayers:
        raise OSError("no borders file")

    caplog.set_level(logging.ERROR)
    assert AlertPictures(broken, {})(_alert()) is None
    assert "could not draw the picture of the landed alert for 4B8D28" in caplog.text


def test_pillow_s_own_font_gets_names_folded_to_ascii() -> None:
    own = _Fonts(None, None, None, None, unicode=False)
    assert own.text("Łódź · Smaliavičy \u2013 Homyel\u2019") == "Lodz - Smaliavicy - Homyel'"
    assert own.text("Мінск") == "?????"


def test_one_point_pictures_and_marks_only_keep_a_sensible_scale(layers) -> None:
    png = render_png(layers, [], [Mark(53.882, 28.031, "landed")], ("caption",))
    view = view_of([], [Mark(53.882, 28.031)], 800, 600 - caption_height(1))
    assert png is not None and view is not None
    south, _west, north, _east = view.bounds()
    assert 0.25 < north - south < 1.0  # some 30 to 100 km: the airport's surroundings
    assert render_png(layers, [], [], ("caption",)) is None
