"""The JSON size budget of an answer: within the body cap, a bound on what parsing it costs.

The HTTP client caps an answer's bytes; this caps its objects, so a body of a few
megabytes of ``{},`` cannot become hundreds of megabytes of dicts. Shared by every
aggregator answer, downloaded or read from a file.
"""

from __future__ import annotations

import json
from typing import Any

from flightwatch.collector.aggregators.errors import BadResponse
from flightwatch.collector.plausible import MAX_AIRCRAFT

#: JSON objects one answer may hold (see :class:`_ObjectBudget`).
MAX_JSON_OBJECTS = 10 * MAX_AIRCRAFT


def decode_answer(body: bytes, where: str, hint: str) -> Any:
    """An answer's JSON, or :class:`BadResponse`: not JSON, nested too deeply, or more
    than :data:`MAX_JSON_OBJECTS` objects. ``where`` starts each message, ``hint`` ends
    the one for a body that is not JSON."""
    try:
        return json.loads(body, object_hook=_ObjectBudget(MAX_JSON_OBJECTS))
    except RecursionError as exc:
        raise BadResponse(f"{where}: JSON nested too deeply to be an aggregator "
                          "answer") from exc
    except _TooManyObjects as exc:
        raise BadResponse(f"{where}: more than {MAX_JSON_OBJECTS:,} JSON objects; "
                          "refused unread") from exc
    except ValueError as exc:
        raise BadResponse(f"{where} is not valid JSON ({exc}); {hint}") from exc


class _TooManyObjects(Exception):
    pass


class _ObjectBudget:
    """``json.loads``'s object hook: stops the parse past ``limit`` objects.

    Within the body cap an answer can still hold millions of tiny objects (8 MB of
    ``{},`` is 2.7 million dicts, ~190 MB of memory); past ten times the aircraft an
    answer may list, it is not an answer.
    """

    def __init__(self, limit: int) -> None:
        self.left = limit

    def __call__(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.left -= 1
        if self.left < 0:
            raise _TooManyObjects
        return obj
