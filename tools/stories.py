"""Stories: one airframe's flights with the truth the tests compare against.

A :class:`Story` is what happened (touchdowns, lift-offs, time on the ground, whether
it is a control that must not become a landing), taken from the simulator, never from
the code under test. :func:`hearing` says what a receiver heard of it under a coverage
model (:mod:`tools.coverage_model`): the frames, and each contact's first and last
position (altitude, distance to an airport, vertical rate at the loss).

Builders read like the questions the tests ask::

    vilnius = Receiver.rooftop(54.687, 25.279, antenna_m=30)
    story = turnaround(arrival("UMMS", origin="UUWW"), departure(to="UUWW"),
                       ground=timedelta(hours=4))
    capture = render_capture([story], vilnius, background=background_traffic(vilnius))

Control stories (no landing) and background traffic are in :mod:`tools.control_stories`;
renderers to captures, traces and snapshots in :mod:`tools.render_stories`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from random import Random

from flightwatch.db.watchlist_file import read_watchlist
from flightwatch.decoder.geodesy import bearing_deg, destination, distance_nm
from flightwatch.settings import bundled
from tools.airfields import Airfield, airfield
from tools.coverage_model import Coverage
from tools.profiles import ArrivalPlan, DeparturePlan
from tools.simulate import Flight, Rates, State, TimedFrame, flight_frames

START = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
STORY_RATES = Rates(position_s=1.0, velocity_s=2.0, identification_s=10.0, stationary_s=5.0)
"""Half the DO-260B position rate: a receiver losing 25 % still decodes a position
every ~1.5 s, and captures of hours stay small."""
CONTACT_GAP_S = 60.0
"""Positions further apart than this start a new contact (the aircraft was lost)."""
KM_PER_NM = 1.852


# --- airframes ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Airframe:
    """The aircraft a story is about, as the transponder and the watchlist name it."""

    icao: str
    callsign: str
    registration: str = ""
    aircraft_type: str = ""
    watched: bool = False
    category: int = 3  # ADS-B emitter category A3: large aircraft
    squawk: str = "1000"


@cache
def _watchlist() -> dict[str, tuple[str, str, str]]:
    """Registration -> (icao, registration, type) from the shipped watchlist."""
    entries = read_watchlist(bundled("watchlist.csv")).entries
    return {e.registration.upper(): (e.icao, e.registration, e.aircraft_type) for e in entries}


def watched(registration: str, callsign: str | None = None) -> Airframe:
    """A real watched airframe from the shipped ``config/watchlist.csv``."""
    found = _watchlist().get(registration.upper())
    if found is None:
        raise KeyError(f"{registration} is not in the shipped watchlist")
    icao, reg, kind = found
    digits = "".join(c for c in reg if c.isdigit())
    return Airframe(icao, callsign or f"RSD{digits[-3:]}", reg, kind, watched=True)


def unwatched(icao: str, callsign: str) -> Airframe:
    """An airframe no watchlist names (e.g. a Lufthansa overflight)."""
    return Airframe(icao.upper(), callsign)


TU214 = "RA-64523"  # Tu-214VPU, Russian FSB
IL96 = "RA-96016"  # Il-96-300PU, Special Flight Detachment
BELARUS_BBJ = "EW-001PA"  # Boeing 737 BBJ2, Government of Belarus


# --- the record --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Event:
    """A touchdown or a lift-off: when (Unix seconds) and where (ICAO code)."""

    time: float
    airport: str

    @property
    def at(self) -> datetime:
        return datetime.fromtimestamp(self.time, UTC)


@dataclass(frozen=True)
class Story:
    """One airframe's flights and what really happened.

    ``muted`` are windows (Unix seconds) when the transponder sends nothing although the
    aircraft flies on; ``fits`` names airports its geometry fits alike (the right answer
    is "one of these"); ``control`` stories must not become landings.
    """

    name: str
    airframe: Airframe
    flights: tuple[Flight, ...]
    touchdowns: tuple[Event, ...] = ()
    liftoffs: tuple[Event, ...] = ()
    control: bool = False
    muted: tuple[tuple[float, float], ...] = ()
    fits: tuple[str, ...] = ()
    rates: Rates | None = None  # None: the renderer's (STORY_RATES by default)

    @property
    def start(self) -> float:
        return min(f.start_time for f in self.flights)

    @property
    def end(self) -> float:
        return max(f.end_time for f in self.flights)

    def ground_times(self) -> list[timedelta]:
        """Each touchdown followed by a lift-off from the same airport: the time between."""
        out = []
        for down in self.touchdowns:
            after = [u for u in self.liftoffs if u.time > down.time]
            if after:
                up = min(after, key=lambda u: u.time)
                if up.airport == down.airport:
                    out.append(timedelta(seconds=up.time - down.time))
        return out

    def transmitting(self, t: float) -> bool:
        return not any(a <= t < b for a, b in self.muted)

    def state_at(self, t: float) -> State | None:
        """Where the aircraft is at ``t`` (None outside its flights: parked, unheard)."""
        for flight in self.flights:
            if flight.start_time <= t <= flight.end_time:
                return flight.state_at(t)
        return None

    def renamed(self, name: str) -> Story:
        return replace(self, name=name)


# --- what a receiver hears ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sighting:
    """A heard position: when, the aircraft's state then, and what a reason line quotes
    about it (distance and bearing from an airport, height above it)."""

    time: float
    state: State

    def distance_km(self, code: str) -> float:
        field = airfield(code)
        return distance_nm(self.state.lat, self.state.lon, field.lat, field.lon) * KM_PER_NM

    def bearing_from(self, code: str) -> float:
        """Where the sighting lies seen from the airport (degrees true)."""
        field = airfield(code)
        return bearing_deg(field.lat, field.lon, self.state.lat, self.state.lon)

    def height_ft(self, code: str) -> float:
        return self.state.altitude_ft - airfield(code).elevation_ft


@dataclass(frozen=True, slots=True)
class Contact:
    """A stretch of positions heard with no gap over :data:`CONTACT_GAP_S`."""

    first: Sighting
    last: Sighting
    positions: int


@dataclass
class Hearing:
    """What a coverage heard of one story: the frames and the contacts."""

    story: Story
    frames: list[TimedFrame] = field(default_factory=list)
    sent: int = 0  # frames sent while in view (heard or lost)
    contacts: list[Contact] = field(default_factory=list)

    @property
    def heard(self) -> bool:
        return bool(self.contacts)

    @property
    def loss_rate(self) -> float:
        return 1 - len(self.frames) / self.sent if self.sent else 0.0

    def lost_before(self, t: float) -> Sighting | None:
        """The last position heard before ``t`` (e.g. a touchdown): the loss."""
        ends = [c.last for c in self.contacts if c.last.time < t]
        return max(ends, key=lambda s: s.time) if ends else None

    def found_after(self, t: float) -> Sighting | None:
        """The first position heard after ``t`` (e.g. a touchdown): heard again."""
        starts = [c.first for c in self.contacts if c.first.time > t]
        return min(starts, key=lambda s: s.time) if starts else None


def is_position(frame: str) -> bool:
    """A DF17 airborne (type codes 9-18) or surface (5-8) position squitter."""
    if len(frame) != 28 or int(frame[:2], 16) >> 3 != 17:
        return False
    return 5 <= int(frame[8:10], 16) >> 3 <= 18


def story_frames(story: Story, seed: int, rates: Rates) -> Iterator[tuple[float, str, Flight]]:
    """Every frame the transponder sends, with the flight sending it, in time order per
    flight; seeded like :func:`tools.simulate.frames`."""
    for flight in story.flights:
        rng = Random(f"{seed}:{flight.icao}:{flight.start_time}")
        for t, frame in flight_frames(flight, rates, rng):
            if story.transmitting(t):
                yield t, frame, flight


VIEW_STEP_S = 2.0
"""Coverage is judged once per this many seconds of a story (an aircraft moves ~500 m)."""


def hearing(story: Story, coverage: Coverage, seed: int = 0,
            rates: Rates = STORY_RATES) -> Hearing:
    """The frames ``coverage`` hears of ``story`` and its contacts (deterministic per
    seed); frame loss draws from its own generator, so coverages differ only where
    they must. The story's own ``rates`` win over ``rates``."""
    out = Hearing(story)
    loss = Random(f"loss:{seed}:{story.airframe.icao}:{coverage.name}")
    contact: list[tuple[float, Flight]] = []  # (time, flight) of its first and last position
    count = 0

    def close() -> None:
        (t0, f0), (t1, f1) = contact
        out.contacts.append(Contact(Sighting(t0, f0.state_at(t0)),
                                    Sighting(t1, f1.state_at(t1)), count))

    step, visible = -1, False
    for t, frame, flight in story_frames(story, seed, story.rates or rates):
        if int(t // VIEW_STEP_S) != step:
            step = int(t // VIEW_STEP_S)
            state = flight.state_at(t)
            visible = coverage.in_view(state.lat, state.lon, state.altitude_ft)
        if not visible:
            continue
        out.sent += 1
        if loss.random() < coverage.frame_loss:
            continue
        out.frames.append((t, frame))
        if not is_position(frame):
            continue
        if contact and t - contact[1][0] > CONTACT_GAP_S:
            close()
            contact, count = [], 0
        contact = [contact[0] if contact else (t, flight), (t, flight)]
        count += 1
    if contact:
        close()
    return out


# --- builders ------------------------------------------------------------------------


def _field(code: str | Airfield) -> Airfield:
    return code if isinstance(code, Airfield) else airfield(code)


def _start_point(field: Airfield, from_bearing: float | None, distance: float,
                 origin: str | None) -> tuple[tuple[float, float], float]:
    """Where an arrival starts (``distance`` NM out) and the bearing it comes from."""
    if origin is not None:
        there = airfield(origin)
        from_bearing = bearing_deg(field.lat, field.lon, there.lat, there.lon)
    if from_bearing is None:
        raise ValueError("give from_bearing or origin")
    return destination(field.lat, field.lon, from_bearing, distance), from_bearing


def arrival_plan(code: str | Airfield, *, from_bearing: float | None = None,
                 origin: str | None = None, distance_nm: float = 150.0,
                 cruise_ft: float = 35000.0, runway: str | None = None,
                 final_offset_deg: float = 0.0) -> ArrivalPlan:
    """The trajectory of an arrival at ``code`` coming from ``from_bearing`` (seen from
    the airport) or from the airport ``origin``; the runway faces the approach unless
    given."""
    field = _field(code)
    start, bearing = _start_point(field, from_bearing, distance_nm, origin)
    end = field.end(runway) if runway else field.end_facing(bearing)
    return ArrivalPlan(field, start, end, cruise_ft=cruise_ft, final_offset_deg=final_offset_deg)


def arrival(code: str | Airfield, *, from_bearing: float | None = None,
            origin: str | None = None, distance_nm: float = 150.0,
            cruise_ft: float = 35000.0, runway: str | None = None,
            final_offset_deg: float = 0.0, airframe: Airframe | None = None,
            start: datetime = START, parked_s: float = 120.0, name: str = "") -> Story:
    """An arrival from cruise to the stand, landing at ``code`` (see :func:`arrival_plan`)."""
    plan = arrival_plan(code, from_bearing=from_bearing, origin=origin,
                        distance_nm=distance_nm, cruise_ft=cruise_ft, runway=runway,
                        final_offset_deg=final_offset_deg)
    frame = airframe or watched(TU214)
    flight = plan.flight(frame.icao, frame.callsign, start, squawk=frame.squawk,
                         category=frame.category, parked_s=parked_s)
    assert flight.touchdown_time is not None
    return Story(name or f"arrival {plan.field.code} {plan.end.ident}", frame, (flight,),
                 touchdowns=(Event(flight.touchdown_time, plan.field.code),))


@dataclass(frozen=True)
class Departure:
    """A departure not yet placed: where it goes. :meth:`from_field` flies it."""

    to_bearing: float | None = None
    to: str | None = None
    cruise_ft: float = 35000.0
    runway: str | None = None
    cruise_nm: float = 40.0

    def plan(self, code: str | Airfield) -> DeparturePlan:
        field = _field(code)
        bearing = self.to_bearing
        if self.to is not None:
            there = airfield(self.to)
            bearing = bearing_deg(field.lat, field.lon, there.lat, there.lon)
        if bearing is None:
            raise ValueError("give to_bearing or to")
        end = field.end(self.runway) if self.runway else min(
            field.ends, key=lambda e: abs((e.heading_deg - bearing + 180) % 360 - 180))
        return DeparturePlan(field, end, bearing, cruise_ft=self.cruise_ft,
                             cruise_nm=self.cruise_nm)

    def from_field(self, code: str | Airfield, liftoff: datetime | float,
                   airframe: Airframe | None = None, name: str = "") -> Story:
        """The departure from ``code`` lifting off at ``liftoff``."""
        plan = self.plan(code)
        frame = airframe or watched(TU214)
        when = liftoff.timestamp() if isinstance(liftoff, datetime) else liftoff
        flight = plan.flight(frame.icao, frame.callsign, when, squawk=frame.squawk,
                             category=frame.category)
        assert flight.liftoff_time is not None
        return Story(name or f"departure {plan.field.code} {plan.end.ident}", frame,
                     (flight,), liftoffs=(Event(flight.liftoff_time, plan.field.code),))


def departure(*, to_bearing: float | None = None, to: str | None = None,
              cruise_ft: float = 35000.0, runway: str | None = None,
              cruise_nm: float = 40.0) -> Departure:
    """A departure towards ``to_bearing`` or the airport ``to``; the runway faces that
    way unless given. Placed by :func:`turnaround` or :meth:`Departure.from_field`."""
    return Departure(to_bearing, to, cruise_ft, runway, cruise_nm)


def turnaround(landing: Story, leaving: Departure, ground: timedelta,
               name: str = "") -> Story:
    """One airframe lands (``landing``), stays ``ground`` (touchdown to lift-off, any
    length from minutes to hours) and leaves from the same airport."""
    if len(landing.touchdowns) != 1:
        raise ValueError("a turnaround starts from a story with exactly one touchdown")
    down = landing.touchdowns[0]
    parked = landing.flights[-1].end_time - down.time
    plan = leaving.plan(down.airport)
    before_liftoff = 30.0 + plan.roll_s()
    if ground.total_seconds() < parked + before_liftoff:
        raise ValueError(f"ground time {ground} is shorter than roll-out, taxi and parking "
                         f"({parked + before_liftoff:.0f} s)")
    gone = leaving.from_field(down.airport, down.time + ground.total_seconds(),
                              landing.airframe)
    return Story(name or f"turnaround {down.airport} {ground}", landing.airframe,
                 landing.flights + gone.flights, touchdowns=landing.touchdowns,
                 liftoffs=gone.liftoffs)
