"""The recent-track memory behind each alert's picture: what it keeps, for how long, and that
an alert raised by the real pipeline carries positions the database does not have yet."""

from __future__ import annotations

import io
import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image
from stored_positions import stored_count

from flightwatch.alerts.recent_track import RecentTracks
from flightwatch.daemon.alerting import build_alerting
from flightwatch.daemon.pipeline import build_pipeline
from flightwatch.db import connect
from flightwatch.db.alert_record import Alert
from flightwatch.db.alerts import alert_picture
from flightwatch.decoder import Frame, Observation
from flightwatch.decoder.tracker import AircraftState, Position, TrackUpdate
from flightwatch.output.picture import Mark, caption_height, view_of
from flightwatch.settings import load_settings
from tools.simulate import Flight, Rates, frames

T0 = datetime(2020, 8, 19, 9, 0, tzinfo=UTC)
S = timedelta(seconds=1)


def _update(icao: str, seconds: float, lat: float = 54.0, lon: float = 28.0,
            altitude: float = 30_000) -> TrackUpdate:
    time = T0 + seconds * S
    state = AircraftState(icao, T0, time)
    position = Position(icao, time, lat, lon, altitude, 450.0, 270.0, 0.0, False, None, "beast")
    return TrackUpdate(state, False, position, True, False)


def _feed(memory: RecentTracks, icao: str, seconds: float, **kwargs: float) -> None:
    update = _update(icao, seconds, **kwargs)
    memory.on_update(update, Observation(icao=icao, time=update.state.last_seen, source="beast"))


def test_keeps_watched_aircraft_only_one_point_every_few_seconds_newest_last() -> None:
    memory = RecentTracks(lambda state: state.icao == "157710", every_s=5)
    for second in range(0, 31):  # a position every second
        _feed(memory, "157710", second, lon=28.0 - second * 0.001)
        _feed(memory, "3C6DD4", second)
    track = memory.track("157710", T0 + 30 * S)
    assert "3C6DD4" not in memory._tracks and len(memory) == 1
    assert track[-1].time == T0 + 30 * S and track[-1].lon == 28.0 - 0.030
    gaps = [(b.time - a.time).total_seconds() for a, b in itertools.pairwise(track)]
    assert all(gap >= 5 for gap in gaps[:-1]) and 6 <= len(track) <= 8
    assert memory.track("157710", T0 + 10 * S)[-1].time <= T0 + 10 * S  # up to a moment


def test_the_window_moves_and_a_late_position_is_ignored() -> None:
    memory = RecentTracks(lambda state: True, window_s=60, every_s=5)
    for second in range(0, 200, 5):
        _feed(memory, "157710", second)
    _feed(memory, "157710", 100)  # an aggregator's late copy
    track = memory.track("157710", T0 + 195 * S)
    assert track[0].time >= T0 + 135 * S and track[-1].time == T0 + 195 * S


def test_a_lost_aircraft_keeps_its_track_for_the_window_then_goes() -> None:
    memory = RecentTracks(lambda state: True, window_s=600)
    _feed(memory, "157710", 0)
    _feed(memory, "157710", 10)
    memory.on_lost(AircraftState("157710", T0, T0 + 10 * S), T0 + 70 * S)
    assert len(memory.track("157710", T0 + 70 * S)) == 2  # a landed alert at the loss
    _feed(memory, "3C6DD4", 700)
    memory.on_lost(AircraftState("3C6DD4", T0, T0 + 700 * S), T0 + 760 * S)
    assert memory.track("157710", T0 + 760 * S) == () and len(memory) == 1


def test_at_most_max_aircraft_tracks_the_longest_silent_goes_first() -> None:
    memory = RecentTracks(lambda state: True, max_aircraft=3)
    for number, icao in enumerate(("000001", "000002", "000003", "000004")):
        _feed(memory, icao, number)
    assert sorted(memory._tracks) == ["000002", "000003", "000004"]


class _Spy:
    """The sink between the rules and the real one: what the database held at each alert."""

    def __init__(self, sink, engine) -> None:
        self.sink, self.engine = sink, engine
        self.raised: list[tuple[Alert, int, int | None]] = []

    def raise_alert(self, alert: Alert) -> int | None:
        stored = stored_count(self.engine)
        alert_id = self.sink.raise_alert(alert)
        self.raised.append((alert, stored, alert_id))
        return alert_id


def test_an_alert_carries_and_draws_positions_not_stored_yet(tmp_path: Path) -> None:
    """Positions wait a minute or more in the store's batch; the enter alert's track (and
    picture) has the last minutes all the same."""
    config = tmp_path / "fw.toml"
    config.write_text('[database]\nurl = "sqlite:///fw.db"\nbatch_seconds = "1h"\n'
                      "batch_rows = 100000\n")
    settings = load_settings(config, env={})
    engine = connect(settings.database_url)
    alerting = build_alerting(settings, engine)
    spy = _Spy(alerting.sink, engine)
    pipeline = build_pipeline(settings, engine)
    from flightwatch.daemon.pipeline import add_alert_rules

    add_alert_rules(pipeline, settings, engine, spy)
    # From Russia west into Belarus (the border near 31.2 E at 54.6 N), level at FL330.
    flight = Flight("157710", "RSD016", [(54.65, 32.0, 33000, 450), (54.62, 30.0, 33000, 450)],
                    T0)
    for t, hex_ in frames([flight], Rates()):
        if t > T0.timestamp() + 600:
            break
        pipeline.feed(Frame(hex_, t, "beast"))
    [(alert, stored, alert_id)] = [r for r in spy.raised if r[0].kind == "enter"]
    assert stored == 0  # nothing was written yet when the alert was raised
    assert alert.track[-1].time == alert.time  # the position that crossed the border
    assert alert.track[0].time <= alert.time - timedelta(minutes=4)
    assert (alert.track[-1].lat, alert.track[-1].lon) == (alert.lat, alert.lon)

    assert alert_id is not None
    png = alert_picture(engine, alert_id)
    assert png is not None
    image = Image.open(io.BytesIO(png)).convert("RGB")
    view = view_of(alert.track, [Mark(alert.lat, alert.lon)], 800, 600 - caption_height(2))
    assert view is not None
    # The track's colour (30,000 ft and above, #5e3c99) under the middle of the track.
    middle = alert.track[len(alert.track) // 3]
    x, y = view.xy(middle.lat, middle.lon)
    assert _near(image.getpixel((round(x), round(y))), (0x5E, 0x3C, 0x99))
    pipeline.close()


def _near(colour: tuple[int, ...], wanted: tuple[int, int, int], tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour, wanted, strict=False))
