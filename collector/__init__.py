"""Receiver sources: framing parsers for Beast, AVR, SBS and capture files, and the
TCP, rtl_adsb and file-replay sources that wrap them.

Parsers are pure (``parse(buf, counter) -> (records, remainder)``); sources are
iterables of :class:`decoder.Frame` or :class:`decoder.Observation`.
"""

from flightwatch.collector.detect import CaptureFormatError, detect_format
from flightwatch.collector.framing import FORMATS, Format, RawMessage
from flightwatch.collector.replay import CaptureClock, ReplaySource, open_capture
from flightwatch.collector.rtlsdr import ExecutableNotFoundError, RtlAdsbSource
from flightwatch.collector.source import Backoff, CollectorError, Framer, Source
from flightwatch.collector.tcp import DEFAULT_PORTS, TcpSource

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
