"""The schema. Alembic migrations in db/migrations/ create it; keep the two in step."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from db.types import EpochSeconds, UTCDateTime


class Base(DeclarativeBase):
    pass


class Source(Base):
    """A named feed (a receiver port, an aggregator); positions refer to it by number."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)


class Aircraft(Base):
    __tablename__ = "aircraft"

    icao: Mapped[str] = mapped_column(String(6), primary_key=True)
    registration: Mapped[str | None] = mapped_column(String(16))
    aircraft_type: Mapped[str | None] = mapped_column(String(40))
    operator: Mapped[str | None] = mapped_column(String(120))
    callsign: Mapped[str | None] = mapped_column(String(8))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Position(Base):
    """One kept position. (icao, time) is unique: the same moment from two sources is one row."""

    __tablename__ = "positions"

    icao: Mapped[str] = mapped_column(String(6), primary_key=True)
    time: Mapped[datetime] = mapped_column(EpochSeconds, primary_key=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    altitude_ft: Mapped[int | None] = mapped_column(Integer)
    ground_speed_kt: Mapped[int | None] = mapped_column(SmallInteger)
    track_deg: Mapped[float | None] = mapped_column(Float)
    vertical_rate_fpm: Mapped[int | None] = mapped_column(Integer)
    on_ground: Mapped[bool | None] = mapped_column(Boolean)
    source_id: Mapped[int | None] = mapped_column(SmallInteger, ForeignKey("sources.id"))

    __table_args__ = (Index("ix_positions_time", "time"),)


class CallsignPeriod(Base):
    """The callsign an aircraft used from ``first_seen`` to ``last_seen``.

    Kept apart from positions so each position row stays small.
    """

    __tablename__ = "callsigns"

    icao: Mapped[str] = mapped_column(String(6), primary_key=True)
    first_seen: Mapped[datetime] = mapped_column(EpochSeconds, primary_key=True)
    last_seen: Mapped[datetime] = mapped_column(EpochSeconds)
    callsign: Mapped[str] = mapped_column(String(8), index=True)


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
