"""Output formats for query commands: table, csv, json (JSON Lines), geojson, kml.

Rows are dataclasses or mappings; values are rendered the same way in every
format (ISO 8601 UTC times, numbers as numbers). Received text is shown safely for each
medium (:mod:`decoder.safe_text`): escapes neutralised in the table, formulas in CSV,
XML in KML; JSON escapes by itself.
"""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import fields as dataclass_fields
from dataclasses import is_dataclass
from datetime import datetime
from typing import Any, TextIO

from flightwatch.decoder import csv_text, printable, xml_text
from flightwatch.output.columns import FULL, NARROWEST_TEXT, TableStyle, clip

TABULAR_FORMATS = ("table", "csv", "json")
TRACK_FORMATS = ("geojson", "kml")
_FEET_TO_METRES = 0.3048


def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, tuple | list):
        return ",".join(str(v) for v in value)
    return value


def as_mapping(row: Any) -> Mapping[str, Any]:
    """A row's fields by name. Shallow: rows are flat records, and ``asdict``'s deep copy
    took most of the time of printing a long history."""
    if is_dataclass(row) and not isinstance(row, type):
        return {f.name: getattr(row, f.name) for f in dataclass_fields(row)}
    if isinstance(row, Mapping):
        return row
    raise TypeError(f"cannot format {type(row).__name__}")


def json_record(row: Any, fields: Sequence[str]) -> dict[str, Any]:
    """One row as the JSON object of the output contract (the CLI's and the web API's)."""
    data = as_mapping(row)
    record = {f: data.get(f) for f in fields}
    for key, value in record.items():
        if isinstance(value, datetime):
            record[key] = iso(value)
        elif isinstance(value, tuple):
            record[key] = list(value)
    return record


def write_json_lines(rows: Iterable[Any], out: TextIO, fields: Sequence[str]) -> int:
    count = 0
    for row in rows:
        out.write(json.dumps(json_record(row, fields), ensure_ascii=False) + "\n")
        count += 1
    return count


def write_csv(rows: Iterable[Any], out: TextIO, fields: Sequence[str]) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(fields)
    count = 0
    for row in rows:
        data = as_mapping(row)
        writer.writerow(["" if data.get(f) is None else _csv_cell(_plain(data.get(f)))
                         for f in fields])
        count += 1
    return count


def _csv_cell(value: Any) -> Any:
    return csv_text(value) if isinstance(value, str) else value


def _cell(value: Any, style: TableStyle) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        short = style.time(value)
        if short is not None:
            return short
    return printable(str(_plain(value)))


def write_table(
    rows: Iterable[Any], out: TextIO, fields: Sequence[str], style: TableStyle = FULL
) -> int:
    """Aligned columns; widths come from the first 500 rows so output still streams.

    In the compact style, columns of free text are narrowed (values cut with an
    ellipsis) where the table would otherwise be wider than the terminal budget.
    """
    iterator = iter(rows)
    first = [as_mapping(r) for r in itertools.islice(iterator, 500)]
    head = [[_cell(data.get(f), style) for f in fields] for data in first]
    headings = [style.heading(f) for f in fields]
    widths = style.fit(
        [max([len(h)] + [len(cells[i]) for cells in head]) for i, h in enumerate(headings)],
        floors=[max(NARROWEST_TEXT, len(h)) for h in headings],
        text=[not any(isinstance(data.get(f), int | float | datetime) for data in first)
              for f in fields],
    )

    def line(cells: Sequence[str]) -> str:
        return "  ".join(clip(c, w).ljust(w) if style.compact else c.ljust(w)
                         for c, w in zip(cells, widths, strict=True)).rstrip() + "\n"

    out.write(line(headings))
    count = 0
    rest = ([_cell(as_mapping(r).get(f), style) for f in fields] for r in iterator)
    for cells in itertools.chain(head, rest):
        out.write(line(cells))
        count += 1
    if count == 0:
        out.write("(no rows)\n")
    return count


def _tracks(rows: Iterable[Any], key: str) -> Iterator[tuple[str, list[Mapping[str, Any]]]]:
    for value, group in itertools.groupby((as_mapping(r) for r in rows), lambda d: d[key]):
        yield value, list(group)


def _track_properties(icao: str, points: list[Mapping[str, Any]]) -> dict[str, Any]:
    callsigns = sorted({p["callsign"] for p in points if p.get("callsign")})
    altitudes = [p["altitude_ft"] for p in points if p.get("altitude_ft") is not None]
    return {
        "icao": icao,
        "callsigns": callsigns,
        "first_time": iso(points[0]["time"]),
        "last_time": iso(points[-1]["time"]),
        "points": len(points),
        "max_altitude_ft": max(altitudes) if altitudes else None,
        "sources": sorted({p["source"] for p in points if p.get("source")}),
    }


TrackExtras = Mapping[Any, Mapping[str, Any]]


def write_geojson(
    rows: Iterable[Any], out: TextIO, key: str = "icao", extra: TrackExtras | None = None
) -> int:
    """A FeatureCollection: one LineString per aircraft track, times in properties.

    Rows are grouped into tracks by ``key`` (``icao``, or a per-flight key);
    ``extra[key value]`` adds properties to that track (a flight's airports).
    """
    out.write('{"type": "FeatureCollection", "features": [\n')
    count = 0
    for icao, points in _tracks(rows, key):
        coords = [
            [p["lon"], p["lat"]] if p.get("altitude_ft") is None
            else [p["lon"], p["lat"], round(p["altitude_ft"] * _FEET_TO_METRES, 1)]
            for p in points
        ]
        geometry: dict[str, Any] = (
            {"type": "LineString", "coordinates": coords} if len(coords) > 1
            else {"type": "Point", "coordinates": coords[0]}
        )
        properties = _track_properties(icao, points)
        properties.update(
            (name, iso(value) if isinstance(value, datetime) else value)
            for name, value in (extra or {}).get(icao, {}).items()
        )
        properties["times"] = [iso(p["time"]) for p in points]
        feature = {"type": "Feature", "geometry": geometry, "properties": properties}
        out.write((",\n" if count else "") + json.dumps(feature, ensure_ascii=False))
        count += 1
    out.write("\n]}\n")
    return count


def write_kml(
    rows: Iterable[Any], out: TextIO, key: str = "icao", extra: TrackExtras | None = None
) -> int:
    """KML with a ``gx:Track`` per aircraft, so Google Earth can play it back in time.

    ``key`` and ``extra`` as for :func:`write_geojson`; extra properties go into the
    placemark's ``ExtendedData``.
    """
    out.write(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2">\n'
        "<Document><name>flightwatch</name>\n"
    )
    count = 0
    for icao, points in _tracks(rows, key):
        props = _track_properties(icao, points)
        added = (extra or {}).get(icao, {})
        props.update(added)
        title = xml_text(f"{props['icao']} {' '.join(props['callsigns'])}".strip())
        out.write(f"<Placemark><name>{title}</name>\n")
        out.write(
            f"<description>{xml_text(props['first_time'])} to {xml_text(props['last_time'])}, "
            f"{props['points']} positions</description>\n"
        )
        if added:
            out.write("<ExtendedData>")
            for name, value in added.items():
                text = "" if value is None else xml_text(str(_plain(value)))
                out.write(f'<Data name="{xml_text(name)}"><value>{text}</value></Data>')
            out.write("</ExtendedData>\n")
        out.write("<gx:Track><altitudeMode>absolute</altitudeMode>\n")
        for p in points:
            out.write(f"<when>{iso(p['time'])}</when>\n")
        for p in points:
            metres = (p.get("altitude_ft") or 0) * _FEET_TO_METRES
            out.write(f"<gx:coord>{p['lon']} {p['lat']} {metres:.0f}</gx:coord>\n")
        out.write("</gx:Track></Placemark>\n")
        count += 1
    out.write("</Document></kml>\n")
    return count


def write(
    rows: Iterable[Any], out: TextIO, fmt: str, fields: Sequence[str], style: TableStyle = FULL
) -> int:
    """Write ``rows`` in ``fmt``; returns the number of rows (or tracks) written.
    ``style`` is the table's (:mod:`output.columns`); the other formats have one form."""
    if fmt == "geojson":
        return write_geojson(rows, out)
    if fmt == "kml":
        return write_kml(rows, out)
    if fmt == "csv":
        return write_csv(rows, out, fields)
    if fmt == "json":
        return write_json_lines(rows, out, fields)
    if fmt == "table":
        return write_table(rows, out, fields, style)
    raise ValueError(f"unknown output format {fmt!r}")


def format_size(value: int | None) -> str:
    """``412.3 MB``: bytes in the largest unit that keeps the number small."""
    if value is None:
        return "?"
    size = float(value)
    unit = "B"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            break
        size /= 1024
    return f"{size:,.0f} B" if unit == "B" else f"{size:,.1f} {unit}"
