"""Receiver sources: framing parsers for Beast, AVR, SBS and capture files, and the
TCP, rtl_adsb and file-replay sources that wrap them.

Parsers are pure (``parse(buf, counter) -> (records, remainder)``); sources are
iterables of :class:`decoder.Frame` or :class:`decoder.Observation`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flightwatch.collector.detect import CaptureFormatError, detect_format
    from flightwatch.collector.framing import FORMATS, Format, RawMessage
    from flightwatch.collector.ports import DEFAULT_PORTS
    from flightwatch.collector.replay import CaptureClock, ReplaySource, open_capture
    from flightwatch.collector.rtlsdr import ExecutableNotFoundError, RtlAdsbSource
    from flightwatch.collector.source import Backoff, CollectorError, Framer, Source
    from flightwatch.collector.tcp import TcpSource

# Each name loads its module on first use: ``flightwatch.settings`` needs only the
# default ports, and every command (``--help`` too) loads the settings.
_HOMES = {
    "Backoff": "flightwatch.collector.source",
    "CaptureClock": "flightwatch.collector.replay",
    "CaptureFormatError": "flightwatch.collector.detect",
    "CollectorError": "flightwatch.collector.source",
    "DEFAULT_PORTS": "flightwatch.collector.ports",
    "ExecutableNotFoundError": "flightwatch.collector.rtlsdr",
    "FORMATS": "flightwatch.collector.framing",
    "Format": "flightwatch.collector.framing",
    "Framer": "flightwatch.collector.source",
    "RawMessage": "flightwatch.collector.framing",
    "ReplaySource": "flightwatch.collector.replay",
    "RtlAdsbSource": "flightwatch.collector.rtlsdr",
    "Source": "flightwatch.collector.source",
    "TcpSource": "flightwatch.collector.tcp",
    "detect_format": "flightwatch.collector.detect",
    "open_capture": "flightwatch.collector.replay",
}

__all__ = [
    "DEFAULT_PORTS",
    "FORMATS",
    "Backoff",
    "CaptureClock",
    "CaptureFormatError",
    "CollectorError",
    "ExecutableNotFoundError",
    "Format",
    "Framer",
    "RawMessage",
    "ReplaySource",
    "RtlAdsbSource",
    "Source",
    "TcpSource",
    "detect_format",
    "open_capture",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
