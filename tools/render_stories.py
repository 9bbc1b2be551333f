"""Stories rendered as what flightwatch reads: receiver captures, aggregator traces and
polled aircraft.json snapshots, each filtered by a coverage model.

* :func:`render_capture` - the Mode-S frames a receiver hears (tools/encoder.py through
  tools/simulate.py), merged with background traffic, written as TSV or Beast;
* :func:`render_traces` - readsb ``trace_full_<hex>.json`` files, one per airframe, as an
  aggregator's globe history keeps them (gaps flagged stale);
* :func:`render_snapshots` - ``aircraft.json`` every 5-10 s, as a polled aggregator
  answers; :func:`compress_silence` drops the long empty stretches so a daemon test
  polling them (tools/snapshot_feed.py) runs in seconds.

Same stories, same seed: the same frames, so the truth (:class:`tools.stories.Hearing`)
is what the capture holds.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.capture_writer import write_beast, write_tsv
from tools.coverage_model import Coverage
from tools.history_writer import json_bytes, snapshot_documents, trace_document, trace_path
from tools.simulate import Rates, State, TimedFrame
from tools.stories import STORY_RATES, Hearing, Story, hearing


@dataclass
class Capture:
    """A receiver's frames of some stories (and background), with what it heard of each."""

    frames: list[TimedFrame]
    hearings: dict[str, Hearing] = field(default_factory=dict)  # by story name

    def of(self, story: Story) -> Hearing:
        return self.hearings[story.name]

    def write_tsv(self, path: Path) -> Path:
        with path.open("w", encoding="utf-8") as out:
            write_tsv(self.frames, out)
        return path

    def write_beast(self, path: Path) -> Path:
        with path.open("wb") as out:
            write_beast(self.frames, out)
        return path


def _unique(stories: Sequence[Story]) -> None:
    names = [s.name for s in stories]
    twice = {n for n in names if names.count(n) > 1}
    if twice:
        raise ValueError(f"story names must be unique in one capture: {sorted(twice)}; "
                         "use Story.renamed")


def render_capture(stories: Sequence[Story], coverage: Coverage, *,
                   background: Iterable[Story] = (), seed: int = 0,
                   rates: Rates = STORY_RATES) -> Capture:
    """What ``coverage`` hears of ``stories`` and ``background``, merged in time order."""
    _unique(stories)
    heard = {s.name: hearing(s, coverage, seed, rates) for s in stories}
    others = [hearing(s, coverage, seed, rates).frames for s in background]
    merged = list(heapq.merge(*(h.frames for h in heard.values()), *others))
    return Capture(merged, heard)


def _by_airframe(stories: Iterable[Story]) -> dict[str, list[Story]]:
    grouped: dict[str, list[Story]] = {}
    for story in stories:
        grouped.setdefault(story.airframe.icao, []).append(story)
    return grouped


def _heard_by(coverage: Coverage, stories: Sequence[Story]) -> Any:
    def heard(t: float, state: State) -> bool:
        return all(s.transmitting(t) for s in stories) and coverage.in_view(
            state.lat, state.lon, state.altitude_ft)

    return heard


def render_traces(stories: Iterable[Story], coverage: Coverage, *, every_s: float = 4.0,
                  gzipped: bool = True) -> list[tuple[str, bytes]]:
    """One ``traces/<xx>/trace_full_<hex>.json`` per airframe (all its stories' flights),
    with the positions ``coverage`` hears; ready for tools.history_writer.write_files or
    write_tarball."""
    files = []
    for icao, mine in _by_airframe(stories).items():
        flights = [f for s in mine for f in s.flights]
        doc = trace_document(flights, every_s=every_s,
                             registration=mine[0].airframe.registration or None,
                             heard=_heard_by(coverage, mine))
        files.append((trace_path(icao), json_bytes(doc, gzipped=gzipped)))
    return files


def render_snapshots(stories: Iterable[Story], coverage: Coverage, *,
                     every_s: float = 5.0, start: float | None = None,
                     end: float | None = None) -> list[dict[str, Any]]:
    """``aircraft.json`` documents every ``every_s`` listing the aircraft ``coverage``
    hears at that moment; ``now`` is the stories' own time."""
    chosen = list(stories)
    first = start if start is not None else min(s.start for s in chosen)
    last = end if end is not None else max(s.end for s in chosen)
    per_airframe = [
        snapshot_documents([f for s in mine for f in s.flights], every_s=every_s,
                           start=first, end=last, heard=_heard_by(coverage, mine))
        for mine in _by_airframe(chosen).values()
    ]
    return [{**docs[0], "aircraft": [a for d in docs for a in d["aircraft"]]}
            for docs in zip(*per_airframe, strict=True)]


def compress_silence(docs: Sequence[dict[str, Any]], *, keep: int = 3,
                     icaos: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """The snapshots without the long stretches in which none of ``icaos`` (default: no
    aircraft at all) is listed: each such stretch keeps its first ``keep`` snapshots
    (so the poller sees the aircraft gone) and its last one (the clock jumps there)."""
    wanted = None if icaos is None else {i.lower() for i in icaos}

    def quiet(doc: dict[str, Any]) -> bool:
        listed = {a["hex"] for a in doc["aircraft"]}
        return not listed if wanted is None else not listed & wanted

    out: list[dict[str, Any]] = []
    run: list[dict[str, Any]] = []
    for doc in docs:
        if quiet(doc):
            run.append(doc)
            continue
        out.extend(run if len(run) <= keep + 1 else [*run[:keep], run[-1]])
        run = []
        out.append(doc)
    out.extend(run[:keep])
    return out
