"""One cooldown for every rule: an alert per (aircraft, fence, kind family) per period.

On the observation clock, so a replay alerts exactly as the live run would have.
Memory holds the newest alert per key; an alert older than that (an import of
history after later alerts) asks the database, via ``recorded``, whether a stored
one is within its cooldown. Both ways: an import of older history must not repeat
what was raised later.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from flightwatch.alerts.kinds import FAMILY_KINDS, family

_PRUNE_AT = 4096
_SAME_SECOND = timedelta(seconds=1)

Key = tuple[str, str, str, str]  # icao, fence (or ""), kind family, extra (a squawk code)
# (icao, fence or None, kinds, time, cooldown) -> whether such an alert is stored
# within the cooldown of that time (``db.alerts.alert_near`` bound to an engine).
RecordedLookup = Callable[[str, str | None, tuple[str, ...], datetime, timedelta], bool]


def key(icao: str, fence: str | None, kind: str, extra: str = "") -> Key:
    return (icao, fence or "", family(kind), extra)


class Cooldown:
    """Whether an alert may be raised now, and the memory that decides it."""

    def __init__(self, seconds: float, recorded: RecordedLookup | None = None) -> None:
        self.period = timedelta(seconds=seconds)
        self.recorded = recorded
        self._last: dict[Key, datetime] = {}
        self._newest: dict[Key, datetime] = {}  # stored or raised
        self._forgotten: datetime | None = None  # the newest alert pruned from _newest

    def remember(self, raised: Iterable[tuple[str, str | None, str, datetime]]) -> None:
        """Alerts raised before this process started, as (icao, fence, kind, time): their
        cooldowns still run, so a restart does not repeat them."""
        for icao, fence, kind, time in raised:
            k = key(icao, fence, kind)
            if k not in self._last or self._last[k] < time:
                self._last[k] = time
            if k not in self._newest or self._newest[k] < time:
                self._newest[k] = time

    def allows(self, k: Key, time: datetime) -> bool:
        """No alert of ``k`` within the cooldown of ``time``, remembered or stored."""
        last = self._last.get(k)
        if last is not None and abs(time - last) < self.period:
            return False
        return not self._stored_near(k, time)

    def raised(self, k: Key, time: datetime) -> None:
        if len(self._newest) >= _PRUNE_AT:
            self._forget_before(time - self.period)
        newest = self._newest.get(k)
        if newest is None or newest < time:
            self._newest[k] = time
        if len(self._last) >= _PRUNE_AT:
            self._last = {x: t for x, t in self._last.items() if abs(time - t) < self.period}
        self._last[k] = time

    def lift(self, k: Key, time: datetime) -> None:
        """Forget the alert of ``k`` raised at ``time`` (to the second: the flights keep whole
        seconds): it was wrong, the next may come."""
        for memory in (self._last, self._newest):
            told = memory.get(k)
            if told is not None and abs(told - time) < _SAME_SECOND:
                del memory[k]

    def _stored_near(self, k: Key, time: datetime) -> bool:
        """Whether a stored or raised alert of ``k`` is within the cooldown of ``time``
        though not the last one remembered: only an alert older than the newest (history
        imported after later alerts) costs a database lookup; a live one never does."""
        newest = self._newest.get(k)
        if newest is not None:
            if time >= newest + self.period:
                return False
            if time > newest - self.period:
                return True
        elif self._forgotten is None or time >= self._forgotten + self.period:
            return False
        icao, fence, fam, extra = k
        if self.recorded is None or extra:  # a squawk code is not a stored column
            return False
        return self.recorded(icao, fence or None, FAMILY_KINDS[fam], time, self.period)

    def _forget_before(self, cutoff: datetime) -> None:
        """Drop newest times not after ``cutoff``, keeping the latest of them: an alert of a
        forgotten key that could be near one of them still asks the database."""
        dropped = [t for t in self._newest.values() if t <= cutoff]
        if not dropped:
            return
        latest = max(dropped)
        self._forgotten = latest if self._forgotten is None else max(self._forgotten, latest)
        self._newest = {k: t for k, t in self._newest.items() if t > cutoff}
