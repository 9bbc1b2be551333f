"""The schema. Alembic migrations in db/migrations/ create it; keep the two in step."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from flightwatch.db.types import (
    EpochSeconds,
    FittedText,
    UTCDateTime,
)


class Base(DeclarativeBase):
    pass


class Source(Base):
    """A named feed (a receiver port, an aggregator); positions refer to it by number."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(FittedText(80), unique=True)


class Aircraft(Base):
    __tablename__ = "aircraft"

    icao: Mapped[str] = mapped_column(String(6), primary_key=True)
    registration: Mapped[str | None] = mapped_column(FittedText(16))
    aircraft_type: Mapped[str | None] = mapped_column(FittedText(40))
    operator: Mapped[str | None] = mapped_column(FittedText(120))
    callsign: Mapped[str | None] = mapped_column(FittedText(8))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class PositionLog(Base):
    """Positions as the writer commits them: compressed blocks (:mod:`db.blocks`), a
    commit cut into ``parts`` of aircraft (``icao % parts == part``), appended in commit
    order.

    Appending is what a commit writes, a few bytes a position, instead of a page per
    aircraft; every ``database.merge_interval`` the log is folded into
    :class:`PositionChunk` and emptied (:mod:`db.positions`). Queries read both.
    """

    __tablename__ = "position_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    parts: Mapped[int] = mapped_column(SmallInteger)
    part: Mapped[int] = mapped_column(SmallInteger)
    first_time: Mapped[int] = mapped_column(BigInteger)  # Unix seconds
    last_time: Mapped[int] = mapped_column(BigInteger)
    positions: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class PositionChunk(Base):
    """One aircraft's positions within one hour (``span`` 3600, full rate) or one UTC day
    (``span`` 86400, thinned by retention to one per ``thinned`` seconds), as a compressed
    block (:mod:`db.blocks`).

    Keyed time first, ``(span, period, icao, first_time)``: merging the log and thinning
    a day append at the end of the key order instead of touching a page per aircraft,
    and one aircraft's history is one lookup per hour or day. Chunks of one aircraft
    never overlap in time within a span. The bounding box lets a geofence query skip
    chunks without decoding them. Addresses, times and coordinates are the stored
    integers of :mod:`db.encoding`.
    """

    __tablename__ = "position_chunks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    span: Mapped[int] = mapped_column(Integer)
    period: Mapped[int] = mapped_column(Integer)  # first_time // span
    icao: Mapped[int] = mapped_column(Integer)
    first_time: Mapped[int] = mapped_column(BigInteger)
    last_time: Mapped[int] = mapped_column(BigInteger)
    positions: Mapped[int] = mapped_column(Integer)
    thinned: Mapped[int] = mapped_column(Integer)  # seconds between kept positions; 0: all
    min_lat: Mapped[int] = mapped_column(Integer)
    max_lat: Mapped[int] = mapped_column(Integer)
    min_lon: Mapped[int] = mapped_column(Integer)
    max_lon: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (
        Index("ux_position_chunks_key", "span", "period", "icao", "first_time", unique=True),
    )


class CallsignPeriod(Base):
    """The callsign an aircraft used from ``first_seen`` to ``last_seen``.

    Kept apart from positions so each position row stays small.
    """

    __tablename__ = "callsigns"

    icao: Mapped[str] = mapped_column(String(6), primary_key=True)
    first_seen: Mapped[datetime] = mapped_column(EpochSeconds, primary_key=True)
    last_seen: Mapped[datetime] = mapped_column(EpochSeconds)
    callsign: Mapped[str] = mapped_column(FittedText(8), index=True)


class WatchlistEntry(Base):
    __tablename__ = "watchlist"

    icao: Mapped[str] = mapped_column(String(6), primary_key=True)
    registration: Mapped[str | None] = mapped_column(String(16), index=True)
    operator: Mapped[str | None] = mapped_column(String(120))
    aircraft_type: Mapped[str | None] = mapped_column(String(80))
    category: Mapped[str | None] = mapped_column(String(80))
    group: Mapped[str | None] = mapped_column("group_name", String(80))
    origin: Mapped[str | None] = mapped_column(String(200))
    updated: Mapped[datetime] = mapped_column(UTCDateTime)


class AlertRecord(Base):
    """One raised alert. ``dedupe_key`` makes recording the same alert twice a no-op."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    time: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    icao: Mapped[str] = mapped_column(String(6))
    registration: Mapped[str | None] = mapped_column(FittedText(16))
    callsign: Mapped[str | None] = mapped_column(FittedText(8))
    kind: Mapped[str] = mapped_column(String(32))
    geofence: Mapped[str | None] = mapped_column(String(80))
    airport: Mapped[str | None] = mapped_column(String(16))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    altitude_ft: Mapped[float | None] = mapped_column(Float)
    ground_speed_kt: Mapped[float | None] = mapped_column(Float)
    track_deg: Mapped[float | None] = mapped_column(Float)
    matched_by: Mapped[str | None] = mapped_column(String(32))
    confidence: Mapped[str] = mapped_column(String(16))
    sources: Mapped[str] = mapped_column(Text)  # comma-separated source names
    details: Mapped[str] = mapped_column(Text)  # JSON object
    evidence: Mapped[str | None] = mapped_column(String(16))  # landed/took_off: the grade
    # Raised by ``flightwatch import`` from historical data, not seen live.
    retrospective: Mapped[bool] = mapped_column(Boolean, server_default=false())

    # The cooldown lookup (``alert_near``) and the per-aircraft listing.
    __table_args__ = (Index("ix_alerts_icao_time", "icao", "time"),)


class OutboxEntry(Base):
    """One notification of one alert on one channel, kept until it is delivered."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: The alert it carries; None on a row that carries a ready-made mail instead.
    alert_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("alerts.id", ondelete="CASCADE"), nullable=True
    )
    channel: Mapped[str] = mapped_column(String(16))  # email | webhook | mailfile
    status: Mapped[str] = mapped_column(String(8))  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: A ready-made mail (the daily digest): its file name in a mail folder, its bytes.
    mail_name: Mapped[str | None] = mapped_column(String(80), nullable=True)
    mail: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)

    __table_args__ = (
        UniqueConstraint("alert_id", "channel", name="uq_outbox_alert_channel"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
    )


class AlertPicture(Base):
    """The map picture of one alert (PNG), rendered once when the alert is raised and kept
    with its outbox rows, so a retried notification sends the same picture."""

    __tablename__ = "alert_pictures"

    alert_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True
    )
    png: Mapped[bytes] = mapped_column(LargeBinary)


class FlightRecord(Base):
    """One flight: an aircraft's positions from takeoff (or first seen) to landing (or lost).

    Keyed by (icao, first_seen) so writing the same flight again (a replay of the
    same capture, a retried batch) updates it instead of adding a copy.
    """

    __tablename__ = "flights"

    icao: Mapped[str] = mapped_column(String(6), primary_key=True)
    first_seen: Mapped[datetime] = mapped_column(EpochSeconds, primary_key=True)
    last_seen: Mapped[datetime] = mapped_column(EpochSeconds)
    callsign: Mapped[str | None] = mapped_column(FittedText(8))
    registration: Mapped[str | None] = mapped_column(FittedText(16))
    departure_airport: Mapped[str | None] = mapped_column(String(16))
    departure_time: Mapped[datetime | None] = mapped_column(EpochSeconds)
    arrival_airport: Mapped[str | None] = mapped_column(String(16))
    arrival_time: Mapped[datetime | None] = mapped_column(EpochSeconds)
    # How each end is known (db/evidence.py): observed | inferred | probable | confirmed,
    # the estimate's plus-or-minus, one quotable reason, and the airports that fit alike
    # when no single one is named (codes separated by spaces).
    departure_evidence: Mapped[str | None] = mapped_column(String(16))
    arrival_evidence: Mapped[str | None] = mapped_column(String(16))
    departure_uncertainty_s: Mapped[int | None] = mapped_column(Integer)
    arrival_uncertainty_s: Mapped[int | None] = mapped_column(Integer)
    departure_reason: Mapped[str | None] = mapped_column(Text)
    arrival_reason: Mapped[str | None] = mapped_column(Text)
    departure_candidates: Mapped[str | None] = mapped_column(String(200))
    arrival_candidates: Mapped[str | None] = mapped_column(String(200))
    max_altitude_ft: Mapped[int | None] = mapped_column(Integer)
    positions: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_flights_departure", "departure_airport", "departure_time"),
        Index("ix_flights_arrival", "arrival_airport", "arrival_time"),
        Index("ix_flights_first_seen", "first_seen"),
        Index("ix_flights_last_seen", "last_seen"),
        Index("ix_flights_callsign", "callsign"),
    )


class FlightGeofence(Base):
    """Time one flight spent inside one geofence (consecutive positions both inside)."""

    __tablename__ = "flight_geofences"

    icao: Mapped[str] = mapped_column(String(6), primary_key=True)
    first_seen: Mapped[datetime] = mapped_column(EpochSeconds, primary_key=True)
    geofence: Mapped[str] = mapped_column(String(80), primary_key=True)
    seconds: Mapped[int] = mapped_column(Integer)
    first_inside: Mapped[datetime] = mapped_column(EpochSeconds)
    last_inside: Mapped[datetime] = mapped_column(EpochSeconds)

    __table_args__ = (Index("ix_flight_geofences_fence", "geofence", "first_seen"),)


class AirportRecord(Base):
    """An airport for landing detection and ``--airport``: configured files plus imports."""

    __tablename__ = "airports"

    ident: Mapped[str] = mapped_column(String(16), primary_key=True)
    icao: Mapped[str | None] = mapped_column(String(4), index=True)
    iata: Mapped[str | None] = mapped_column(String(3))
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(32))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    elevation_ft: Mapped[float | None] = mapped_column(Float)
    municipality: Mapped[str | None] = mapped_column(String(120))
    longest_runway_ft: Mapped[int | None] = mapped_column(Integer)
    runways: Mapped[str | None] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(300))  # "config" or "import:<path>"


class ImportedMember(Base):
    """One file of an archive ``flightwatch import`` finished: an interrupted import
    skips it when run again. ``time_window`` is the ``--since``/``--until`` it ran with."""

    __tablename__ = "imports"

    source: Mapped[str] = mapped_column(String(200), primary_key=True)
    member: Mapped[str] = mapped_column(String(400), primary_key=True)
    time_window: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    alerts: Mapped[str] = mapped_column(String(8))  # none | store | notify
    positions: Mapped[int] = mapped_column(Integer)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReceiverRecord(Base):
    """A receiver of ours: where it is, for its coverage outline."""

    __tablename__ = "receivers"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    coverage_updated: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CoverageCell(Base):
    """The farthest distance a receiver heard an aircraft in one 10-degree bearing sector
    and one altitude band (db/coverage.py), and from how many positions."""

    __tablename__ = "coverage"

    receiver: Mapped[str] = mapped_column(String(80), primary_key=True)
    sector: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    band: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    range_km: Mapped[float] = mapped_column(Float)
    positions: Mapped[int] = mapped_column(Integer)
