"""The evidence report: one aircraft's story over a period, every claim with its source and
the raw figures behind it, so an editor can check it and a reader can trust it.

``build_report`` reads the flights, positions and alerts once into a :class:`Report`;
``report_json``, ``report_markdown`` and ``report_html`` write it. The HTML is one
self-contained file (pictures inline as data: URIs) to mail or archive; the Markdown
names PNG files written beside it. Every text that came from the air or an aggregator
(callsigns, registrations, source names) is escaped where it is written.
"""

from __future__ import annotations

import base64
import html
import itertools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flightwatch.db.alert_record import Alert, TrackPoint
from flightwatch.db.flight_queries import FlightRow
from flightwatch.decoder import shown
from flightwatch.output.picture import MapLayers, Mark, render_png

# Silences inside a flight at least this long are listed as coverage gaps.
GAP_INSIDE_FLIGHT = timedelta(minutes=5)
DETECTION_DOC = "docs/detection.md"

METHODS = (
    ("What a line is",
     "Each line is one thing flightwatch recorded, with the source that heard it and the "
     "figures it rests on (time, position, altitude, speed). Times are UTC. Nothing is "
     "smoothed or guessed in this report: it only lays out what was stored."),
    ("Sources",
     "A receiver source is an antenna and decoder flightwatch runs itself (its name starts "
     "with the receiver's name). An aggregator source is a network such as OpenSky or "
     "ADS-B Exchange, polled over the internet. An imported archive (import/...) is history "
     "loaded afterwards. Only a receiver's silence says something about its own coverage."),
    ("Flights",
     "A flight is the run of positions of one aircraft with no silence longer than the "
     "configured gap (flights.gap, 30 minutes by default). First heard and last heard are "
     "the first and last stored positions of that run."),
    ("Fence entries and exits",
     "An entry is the first position inside a geofence after one outside it (or the first "
     "position of a flight, when it was first heard inside); an exit the last position "
     "inside before one outside."),
    ("Landings and take-offs, and their grades",
     "observed: the aircraft reported itself on the ground, or was heard low and slow at "
     "the airfield. inferred: the signal was lost (or first heard) low near the airfield, "
     "on a runway's approach or climb-out. probable: the signal was lost on a descent "
     "towards an airport at a height the receiver's coverage explains. confirmed: a "
     "probable or inferred arrival followed by a departure from the same airport (the "
     "turnaround). The estimated time carries its uncertainty (±). How each grade is "
     f"decided in detail: {DETECTION_DOC}."),
    ("Time on the ground",
     "The time between an arrival and the next departure of the same aircraft from the "
     "same airport."),
    ("Gaps",
     "A gap is a period in which nothing was stored for the aircraft: between flights, or "
     "a silence of five minutes or more within one. A gap is not evidence of anything by "
     "itself: the aircraft may have been out of coverage, on the ground, or silent."),
)


@dataclass(frozen=True)
class ReportPosition:
    """What the report needs of a stored position (``db.queries.HistoryRow`` has it)."""

    time: datetime
    lat: float
    lon: float
    altitude_ft: float | None
    ground_speed_kt: float | None
    vertical_rate_fpm: float | None
    on_ground: bool | None
    source: str | None


@dataclass
class Line:
    """One line of the timeline: when, what (in words), how sure, from which source, and
    the raw figures behind it."""

    time: datetime
    kind: str  # first_heard | departure | fence_entry | fence_exit | arrival | last_heard |
    #            on_ground | alert | gap
    text: str
    source: str = ""
    grade: str | None = None
    reason: str | None = None
    figures: dict[str, Any] = field(default_factory=dict)
    flight: int | None = None  # number of the flight it belongs to (1-based)


@dataclass
class FlightStory:
    number: int
    flight: FlightRow
    picture: bytes | None = None

    @property
    def picture_name(self) -> str:
        return f"flight-{self.number}-{self.flight.icao}-{self.flight.first_seen:%Y%m%dT%H%MZ}.png"


@dataclass
class Report:
    registration: str | None
    icaos: list[str]
    since: datetime | None
    until: datetime | None
    generated: datetime
    flights: list[FlightStory]
    lines: list[Line]
    alerts: list[Alert]

    @property
    def title(self) -> str:
        who = self.registration or ", ".join(self.icaos) or "no aircraft"
        return f"flightwatch evidence report: {who}{_window(self.since, self.until)}"


def _window(since: datetime | None, until: datetime | None) -> str:
    if since is None and until is None:
        return ""
    return f", {_day(since) if since else 'start'} to {_day(until) if until else 'now'}"


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d") if moment.time() == datetime.min.time() else _utc(moment)


def _utc(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}Z"


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def source_kind(name: str | None) -> str:
    """What kind of source a stored source name is: receiver, aggregator, imported archive,
    replayed capture (see the methods)."""
    if not name:
        return "unknown source"
    if name.startswith("import/"):
        return "imported archive"
    if "replay:" in name:
        return "replayed capture"
    if any(kind in name for kind in ("beast:", "avr:", "sbs:", "rtl_adsb", "rtlsdr")):
        return "receiver"
    return "aggregator"


def _source(name: str | None) -> str:
    return f"{shown(name) or 'unknown'} ({source_kind(name)})"


def _figures(position: ReportPosition) -> dict[str, Any]:
    figures: dict[str, Any] = {"time": _utc(position.time), "lat": round(position.lat, 5),
                               "lon": round(position.lon, 5)}
    if position.on_ground:
        figures["on_ground"] = True
    for name in ("altitude_ft", "ground_speed_kt", "vertical_rate_fpm"):
        value = getattr(position, name)
        if value is not None:
            figures[name] = round(value)
    return figures


def _heard(what: str, position: ReportPosition) -> str:
    """``last heard at 10:14:45Z, 53.8834 N 28.0656 E, 700 ft, 135 kt, -800 fpm``."""
    parts = [f"{what} at {position.time:%H:%M:%S}Z",
             f"{position.lat:.4f} N {position.lon:.4f} E"]
    if position.on_ground:
        parts.append("on the ground")
    elif position.altitude_ft is not None:
        parts.append(f"{position.altitude_ft:,.0f} ft")
    if position.ground_speed_kt is not None:
        parts.append(f"{position.ground_speed_kt:.0f} kt")
    if position.vertical_rate_fpm:
        parts.append(f"{position.vertical_rate_fpm:+,.0f} fpm")
    return ", ".join(parts)


def _event(flight: FlightRow, which: str, heard: ReportPosition, number: int) -> Line | None:
    """The line of a flight's departure (``which``) or arrival, its source that of the
    position ``heard`` nearest to it (the first or the last)."""
    airport = getattr(flight, f"{which}_airport")
    moment = getattr(flight, f"{which}_time")
    if not airport or moment is None:
        return None
    candidates = getattr(flight, f"{which}_candidates")
    uncertainty = getattr(flight, f"{which}_uncertainty_s")
    verb = "took off from" if which == "departure" else "landed at"
    place = " or ".join(candidates) if candidates else airport
    text = f"{verb} {place} at {moment:%H:%M}Z"
    if uncertainty:
        text += f" ± {max(round(uncertainty / 60), 1)} min"
    figures: dict[str, Any] = {"airport": airport, "time": _utc(moment)}
    if candidates:
        figures["candidates"] = list(candidates)
    if uncertainty:  # an observed time (0) is as heard
        figures["uncertainty_s"] = uncertainty
    return Line(moment, "departure" if which == "departure" else "arrival", text,
                _source(heard.source), getattr(flight, f"{which}_evidence"),
                getattr(flight, f"{which}_reason"), figures, number)


def fence_crossings(positions: Sequence[ReportPosition], fences: Sequence[Any]) -> list[
        tuple[str, str, ReportPosition]]:
    """(fence, ``fence_entry``|``fence_exit``, position) along one flight's positions."""
    out: list[tuple[str, str, ReportPosition]] = []
    for fence in fences:
        inside_before: bool | None = None
        previous: ReportPosition | None = None
        for position in positions:
            inside = fence.contains(position.lat, position.lon)
            if inside and not inside_before:
                out.append((fence.name, "fence_entry", position))
            elif inside_before and not inside and previous is not None:
                out.append((fence.name, "fence_exit", previous))
            inside_before, previous = inside, position
    return out


def flight_lines(number: int, flight: FlightRow, positions: Sequence[ReportPosition],
                 fences: Sequence[Any]) -> list[Line]:
    """Every line one flight gives: heard, departed, entered, left, arrived, gaps."""
    lines: list[Line] = []
    if not positions:
        return lines
    first, last = positions[0], positions[-1]
    lines.append(Line(first.time, "first_heard", _heard("first heard", first),
                      _source(first.source), figures=_figures(first), flight=number))
    departure = _event(flight, "departure", first, number)
    if departure is not None:
        lines.append(departure)
    for fence, kind, position in fence_crossings(positions, fences):
        verb = "entered" if kind == "fence_entry" else "left"
        lines.append(Line(position.time, kind, f"{verb} {fence}: {_heard('heard', position)}",
                          _source(position.source), figures=_figures(position), flight=number))
    for before, after in itertools.pairwise(positions):
        silence = after.time - before.time
        if silence >= GAP_INSIDE_FLIGHT:
            text = (f"not heard for {_duration(silence.total_seconds())} "
                    f"(until {after.time:%H:%M:%S}Z)")
            lines.append(Line(before.time, "gap", text, _source(before.source),
                              figures={"from": _utc(before.time), "to": _utc(after.time)},
                              flight=number))
    arrival = _event(flight, "arrival", last, number)
    if arrival is not None:
        lines.append(arrival)
    lines.append(Line(last.time, "last_heard", _heard("last heard", last), _source(last.source),
                      figures=_figures(last), flight=number))
    return lines


def between_flights(flights: Sequence[FlightRow]) -> list[Line]:
    """Time on the ground (a departure after an arrival at the same airport) and the gaps
    between one flight's last position and the next one's first."""
    lines = []
    for before, after in itertools.pairwise(flights):
        if before.icao != after.icao:
            continue
        if after.turnaround_s is not None and before.arrival_time is not None:
            lines.append(Line(before.arrival_time, "on_ground",
                              f"on the ground at {after.departure_airport} for "
                              f"{_duration(after.turnaround_s)}",
                              figures={"airport": after.departure_airport,
                                       "seconds": after.turnaround_s}))
        silence = (after.first_seen - before.last_seen).total_seconds()
        if silence > 0:
            lines.append(Line(before.last_seen, "gap",
                              f"not heard for {_duration(silence)} between flights",
                              figures={"from": _utc(before.last_seen),
                                       "to": _utc(after.first_seen)}))
    return lines


def alert_line(alert: Alert) -> Line:
    shown_alert = alert.for_display()
    what = alert.kind.replace("_", " ")
    place = " ".join(p for p in (shown_alert.geofence, shown_alert.airport) if p)
    text = f"alert: {what}" + (f" ({place})" if place else "")
    figures: dict[str, Any] = {"time": _utc(alert.time)}
    if alert.lat is not None and alert.lon is not None:
        figures.update(lat=round(alert.lat, 5), lon=round(alert.lon, 5))
    if alert.altitude_ft is not None:
        figures["altitude_ft"] = round(alert.altitude_ft)
    if alert.retrospective:
        figures["raised"] = "from imported history"
    reason = alert.details.get("reason")
    return Line(alert.time, "alert", text, ", ".join(
        _source(s) for s in alert.sources) or "unknown", alert.evidence,
        shown(str(reason)) if reason else None, figures)


def build_report(
    *, registration: str | None, icaos: list[str], since: datetime | None,
    until: datetime | None, flights: Sequence[FlightRow],
    positions: Iterable[tuple[FlightRow, Sequence[ReportPosition]]], alerts: Sequence[Alert],
    fences: Sequence[Any], layers: MapLayers | None, generated: datetime,
) -> Report:
    """The report of ``flights`` (oldest first) with each one's stored ``positions``."""
    by_flight = {(f.icao, f.first_seen): p for f, p in positions}
    stories, lines = [], []
    for number, flight in enumerate(flights, start=1):
        track = by_flight.get((flight.icao, flight.first_seen), [])
        story = FlightStory(number, flight)
        if layers is not None and track:
            story.picture = flight_picture(layers, flight, track, number)
        stories.append(story)
        lines += flight_lines(number, flight, track, fences)
    lines += between_flights(flights)
    for alert in alerts:
        line = alert_line(alert)
        line.flight = next((story.number for story in stories
                            if story.flight.icao == alert.icao
                            and story.flight.first_seen <= alert.time
                            <= story.flight.last_seen + timedelta(minutes=1)), None)
        lines.append(line)
    lines.sort(key=lambda line: (line.time, _ORDER.get(line.kind, 5)))
    return Report(registration, icaos, since, until, generated, stories, lines, list(alerts))


# Lines of the same second in the order a reader follows them (a silence after the last
# position heard, not before it).
_ORDER = {"first_heard": 0, "departure": 1, "fence_entry": 2, "alert": 3, "fence_exit": 4,
          "arrival": 5, "last_heard": 6, "gap": 7, "on_ground": 8}


def flight_picture(layers: MapLayers, flight: FlightRow, track: Sequence[ReportPosition],
                   number: int) -> bytes | None:
    points = [TrackPoint(p.time, p.lat, p.lon, p.altitude_ft) for p in track]
    marks = [Mark(track[0].lat, track[0].lon, "first heard", kind="start"),
             Mark(track[-1].lat, track[-1].lon, "last heard")]
    who = shown(flight.registration) or flight.icao
    callsign = f" ({shown(flight.callsign)})" if flight.callsign else ""
    route = " to ".join(filter(None, (flight.departure_airport, flight.arrival_airport)))
    caption = (f"Flight {number}: {who}{callsign}" + (f", {route}" if route else ""),
               f"{_utc(flight.first_seen)} to {_utc(flight.last_seen)}, "
               f"{flight.positions:,} positions")
    airports = [a for a in (flight.departure_airport, flight.arrival_airport) if a]
    return render_png(layers, points, marks, caption, highlight=airports)


# --- writers -----------------------------------------------------------------------------

def _line_json(line: Line) -> dict[str, Any]:
    return {"time": _utc(line.time), "kind": line.kind, "text": line.text,
            "source": line.source, "grade": line.grade, "reason": line.reason,
            "figures": line.figures, "flight": line.flight}


def _flight_json(story: FlightStory, picture: str | None) -> dict[str, Any]:
    f = story.flight
    return {
        "number": story.number, "icao": f.icao, "registration": f.registration,
        "callsign": f.callsign, "first_seen": _utc(f.first_seen), "last_seen": _utc(f.last_seen),
        "departure_airport": f.departure_airport,
        "departure_time": _utc(f.departure_time) if f.departure_time else None,
        "departure_evidence": f.departure_evidence,
        "arrival_airport": f.arrival_airport,
        "arrival_time": _utc(f.arrival_time) if f.arrival_time else None,
        "arrival_evidence": f.arrival_evidence, "turnaround_s": f.turnaround_s,
        "positions": f.positions, "max_altitude_ft": f.max_altitude_ft,
        "geofence_seconds": list(f.geofence_seconds), "picture": picture,
    }


def report_json(report: Report, picture_names: bool = False) -> str:
    """For machines: the timeline, the flights and the methods (pictures by file name when
    ``picture_names``, else left out)."""
    return json.dumps({
        "title": report.title, "registration": report.registration, "icaos": report.icaos,
        "since": _utc(report.since) if report.since else None,
        "until": _utc(report.until) if report.until else None,
        "generated": _utc(report.generated),
        "flights": [_flight_json(s, s.picture_name if picture_names and s.picture else None)
                    for s in report.flights],
        "timeline": [_line_json(line) for line in report.lines],
        "methods": [{"title": title, "text": text} for title, text in METHODS],
    }, ensure_ascii=False, indent=2) + "\n"


def _md(text: str | None) -> str:
    """Text safe in a Markdown table cell: no markup, no pipes, no line breaks."""
    if not text:
        return ""
    escaped = html.escape(text, quote=False)
    for char in "\\`*_[]|#<>!":
        escaped = escaped.replace(char, "\\" + char)
    return " ".join(escaped.split())


def _figure_text(figures: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in figures.items())


def report_markdown(report: Report) -> str:
    """Markdown naming each flight's picture (``picture_name``), written beside it."""
    out = [f"# {_md(report.title)}", "",
           f"Generated {_utc(report.generated)} by flightwatch. Times are UTC.", "",
           "## Timeline", "",
           "| time (UTC) | flight | what | grade | reason | source | figures |",
           "|---|---|---|---|---|---|---|"]
    for line in report.lines:
        out.append(f"| {_utc(line.time)} | {line.flight or ''} | {_md(line.text)} | "
                   f"{_md(line.grade)} | {_md(line.reason)} | {_md(line.source)} | "
                   f"{_md(_figure_text(line.figures))} |")
    out += ["", "## Flights", ""]
    for story in report.flights:
        f = story.flight
        out.append(f"### Flight {story.number}: {_md(shown(f.callsign) or f.icao)}, "
                   f"{_utc(f.first_seen)} to {_utc(f.last_seen)}")
        out.append("")
        if story.picture:
            out += [f"![Map of flight {story.number}]({story.picture_name})", ""]
    out += ["## Methods", ""]
    for title, text in METHODS:
        out += [f"**{title}.** {_md(text)}", ""]
    return "\n".join(out)


_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; color: #222; max-width: 1100px;
  margin: 1.5em auto; padding: 0 1em; }
h1 { font-size: 20px; } h2 { font-size: 17px; margin-top: 1.6em; } h3 { font-size: 15px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid #ddd;
  vertical-align: top; }
th { background: #f3f3f3; }
td.figures { font: 12px/1.35 ui-monospace, monospace; color: #444; }
tr.gap td { color: #777; } tr.alert td { background: #fff4d6; }
.grade { font-weight: 600; }
img { max-width: 100%; border: 1px solid #ccc; }
.muted { color: #777; }
"""


def _h(text: Any) -> str:
    return html.escape("" if text is None else str(text))


def report_html(report: Report) -> str:
    """One self-contained page: pictures inline as data: URIs, no script, nothing fetched."""
    rows = []
    for line in report.lines:
        grade = f'<span class="grade">{_h(line.grade)}</span>' if line.grade else ""
        rows.append(
            f'<tr class="{_h(line.kind)}"><td>{_h(_utc(line.time))}</td>'
            f"<td>{_h(line.flight or '')}</td><td>{_h(line.text)}</td><td>{grade}</td>"
            f"<td>{_h(line.reason)}</td><td>{_h(line.source)}</td>"
            f'<td class="figures">{_h(_figure_text(line.figures))}</td></tr>')
    flights = []
    for story in report.flights:
        f = story.flight
        head = (f"Flight {story.number}: {shown(f.callsign) or f.icao}, {_utc(f.first_seen)} "
                f"to {_utc(f.last_seen)}")
        flights.append(f"<h3>{_h(head)}</h3>")
        if story.picture:
            data = base64.b64encode(story.picture).decode("ascii")
            flights.append(f'<img alt="Map of flight {story.number}" '
                           f'src="data:image/png;base64,{data}" width="800" height="600">')
    methods = "".join(f"<p><b>{_h(title)}.</b> {_h(text)}</p>" for title, text in METHODS)
    empty = "" if report.lines else '<p class="muted">Nothing was stored for this aircraft ' \
        "in this period.</p>"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_h(report.title)}</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>{_h(report.title)}</h1>
<p class="muted">Generated {_h(_utc(report.generated))} by flightwatch. Times are UTC.
Each line names its source and the figures it rests on; the methods are at the end.</p>
<h2>Timeline</h2>
{empty}
<table>
<thead><tr><th>time (UTC)</th><th>flight</th><th>what</th><th>grade</th><th>reason</th>
<th>source</th><th>figures</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
<h2>Flights</h2>
{chr(10).join(flights) or '<p class="muted">No flights.</p>'}
<h2>Methods</h2>
{methods}
</body>
</html>
"""


# --- reading ----------------------------------------------------------------------------

def read_report(
    source: Any, *, registration: str | None, icaos: list[str], since: datetime | None,
    until: datetime | None, fences: Sequence[Any], layers: MapLayers | None,
    generated: datetime,
) -> Report:
    """The report of the aircraft ``icaos`` (resolved from ``registration`` by the caller)
    between ``since`` and ``until``, read from a database reader or engine."""
    from flightwatch.db.alert_queries import query_alerts
    from flightwatch.db.flight_queries import query_flights
    from flightwatch.db.queries import history

    flights = query_flights(source, icaos=icaos, since=since, until=until) if icaos else []
    positions = [
        (flight, [ReportPosition(p.time, p.lat, p.lon, p.altitude_ft, p.ground_speed_kt,
                                 p.vertical_rate_fpm, p.on_ground, p.source)
                  for p in history(source, icaos=[flight.icao], since=flight.first_seen,
                                   until=flight.last_seen)])
        for flight in flights
    ]
    alerts = sorted((a for icao in icaos
                     for a in query_alerts(source, since=since, until=until, icao=icao)),
                    key=lambda a: a.time)
    return build_report(registration=registration, icaos=icaos, since=since, until=until,
                        flights=flights, positions=positions, alerts=alerts, fences=fences,
                        layers=layers, generated=generated)
