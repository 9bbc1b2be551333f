"""One-line reasons a journalist can quote: the figures behind each judgement, in words.

Every number here is one the detector used, rounded as a reader would say it
("13,975 ft", "67 km E of UMMS", "4 h 34 min later").
"""

from __future__ import annotations

from collections.abc import Sequence

from flightwatch.alerts.detect.coverage import Verdict
from flightwatch.alerts.detect.geometry import compass
from flightwatch.alerts.detect.near_field import Moving, NearField
from flightwatch.alerts.detect.trajectory import Candidate


def feet(value: float | None) -> str:
    return "an unknown height" if value is None else f"{round(value):,} ft"


def duration(seconds: float) -> str:
    """``4 h 34 min``, ``12 min``, ``40 s``."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


def where(candidate: Candidate) -> str:
    """``67 km E of UMMS``: the aircraft as seen from the airport."""
    side = compass((candidate.bearing_deg + 180.0) % 360.0)
    return f"{candidate.distance_km:,.0f} km {side} of {candidate.airport.code}"


def _rate(rate_fpm: float) -> str:
    return f"{abs(round(rate_fpm, -1)):,.0f} fpm"


def probable_arrival(position: Moving, rate_fpm: float, best: Sequence[Candidate]) -> str:
    """``lost at 13,975 ft 67 km E of UMMS descending 1,800 fpm towards it``."""
    lost = f"lost at {feet(position.altitude_ft)}"
    moving = "descending " + _rate(rate_fpm) if rate_fpm <= -300 else "level"
    if len(best) == 1:
        return f"{lost} {where(best[0])} {moving} towards it"
    places = " and ".join(f"{c.airport.code} ({c.distance_km:,.0f} km)" for c in best)
    return f"{lost} {moving} towards {places}, which fit alike"


def probable_departure(position: Moving, rate_fpm: float, best: Sequence[Candidate]) -> str:
    """``first heard climbing through 7,600 ft 25 km NW of UMMS``."""
    heard = f"first heard climbing {_rate(rate_fpm)} through {feet(position.altitude_ft)}"
    if len(best) == 1:
        return f"{heard} {where(best[0])}"
    places = " and ".join(f"{c.airport.code} ({c.distance_km:,.0f} km)" for c in best)
    return f"{heard}, climbing away from {places}, which fit alike"


def near_field_arrival(found: NearField, speed_kt: float | None) -> str:
    """``lost 300 ft above the field 1.9 km before runway 31L of UMMS at 140 kt``."""
    speed = f" at {round(speed_kt)} kt" if speed_kt is not None else ""
    height = f"{max(round(found.height_ft), 0):,} ft above the field"
    if found.runway:
        place = f"{found.distance_km:.1f} km before runway {found.runway} of {found.airport.code}"
    else:
        place = f"{found.distance_km:.1f} km from {found.airport.code}"
    return f"lost {height} {place}{speed}"


def near_field_departure(found: NearField) -> str:
    height = f"{max(round(found.height_ft), 0):,} ft above the field"
    runway = f" on the climb-out of runway {found.runway}" if found.runway else ""
    return (f"first heard climbing {height} {found.distance_km:.1f} km from "
            f"{found.airport.code}{runway}")


def observed(code: str | None, on_ground: bool | None, height: float | None,
             speed_kt: float | None) -> str:
    place = f"at {code}" if code else "away from any known airport"
    if on_ground:
        return f"heard on the ground {place}"
    figures = ", ".join(x for x in (f"{round(height):,} ft above the field" if height is not None
                                    else "", f"{round(speed_kt)} kt" if speed_kt else "") if x)
    return f"heard low and slow {place}" + (f" ({figures})" if figures else "")


def took_off(code: str | None) -> str:
    return f"heard taking off from {code}" if code else "heard taking off"


def turnaround(lost: str, heard_again: str, silent_s: float) -> str:
    """``<loss>; heard again 4 h 34 min later <first heard>``."""
    again = heard_again.removeprefix("first heard ")
    return f"{lost}; heard again {duration(silent_s)} later {again}"


def coverage_edge(verdict: Verdict | None, edge: float) -> str:
    """``261 km from the receiver, at the edge of its coverage at that height (heard to
    281 km there)``: the loss is what the receiver's reach explains (``edge``: the
    fraction of the learned range from which a loss counts as at the edge)."""
    if verdict is None or verdict.edge_km is None or verdict.fraction is None:
        return ""
    where = "at the edge of" if verdict.fraction >= edge else "near the edge of"
    return (f"{verdict.distance_km:,.0f} km from the receiver, {where} its coverage "
            f"at that height (heard to {verdict.edge_km:,.0f} km there)")


def silence(position: Moving | None, verdict: Verdict | None, left: bool | None) -> str:
    lost = f"lost at {feet(position.altitude_ft)}" if position is not None else "lost"
    if verdict is None:
        return f"{lost}; no coverage of a receiver of ours to compare with"
    side = compass(verdict.bearing_deg)
    where_from = f"{verdict.distance_km:,.0f} km {side} of the receiver"
    if left:
        return f"{lost} {where_from}, at the edge of its coverage at that height" + (
            f" (heard to {verdict.edge_km:,.0f} km there)" if verdict.edge_km else "")
    if verdict.edge_km is None:
        return f"{lost} {where_from}; its coverage at that height is not learned yet"
    return f"{lost} {where_from}, inside its coverage (heard to {verdict.edge_km:,.0f} km there)"


def dark(position: Moving, verdict: Verdict, silent_s: float) -> str:
    side = compass(verdict.bearing_deg)
    return (f"lost at {feet(position.altitude_ft)} in level flight {verdict.distance_km:,.0f} km "
            f"{side} of the receiver, which hears aircraft at that height to "
            f"{verdict.edge_km or 0:,.0f} km in that direction, away from any airport; "
            f"still silent {duration(silent_s)} later")


def retraction(again: Moving, silent_s: float, why: str) -> str:
    return (f"heard again {duration(silent_s)} later at {feet(again.altitude_ft)}, {why}")
