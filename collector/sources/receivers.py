"""This station's own feeds: a dump1090/readsb output port over TCP, and rtl_adsb."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flightwatch.collector.ports import DEFAULT_PORTS
from flightwatch.collector.registry import Fences, SourceType
from flightwatch.decoder import keys as parse

if TYPE_CHECKING:
    from flightwatch.collector.source import Source

HOST = parse.key(parse.text, "127.0.0.1", "beast/avr/sbs: receiver host")
PORT = parse.key(parse.port, None, "beast/avr/sbs: port (30005, 30002, 30003)")
COMMAND = parse.key(parse.text_list, ["rtl_adsb"], "rtl_adsb: the command and its arguments")
#: The four first receiver types take each other's keys (a ``command`` on a beast
#: source is ignored, not refused), as they always have: a configuration that loaded
#: keeps loading.
_KEYS = {"host": HOST, "port": PORT, "command": COMMAND}


def host_port_name(table: Mapping[str, Any]) -> str:
    """``beast:127.0.0.1:30005``: the name stored with a network feed's positions."""
    return f"{table['type']}:{table['host']}:{table['port']}"


def _tcp(table: Mapping[str, Any], _fences: Fences) -> Source:
    from flightwatch.collector.tcp import TcpSource

    return TcpSource(table["host"], table["port"], table["type"], name=table["name"])


def _rtl_adsb(table: Mapping[str, Any], _fences: Fences) -> Source:
    from flightwatch.collector.rtlsdr import RtlAdsbSource

    return RtlAdsbSource(table["command"], name=table["name"])


_TCP_FORMATS = {
    "beast": "Beast binary frames over TCP (dump1090, readsb)",
    "avr": "AVR text frames over TCP",
    "sbs": "BaseStation (SBS) lines over TCP",
}

SOURCE_TYPES = (
    *(SourceType(fmt, "receiver", summary, _KEYS, _tcp, DEFAULT_PORTS[fmt],
                 default_name=host_port_name) for fmt, summary in _TCP_FORMATS.items()),
    SourceType("rtl_adsb", "receiver", "an RTL-SDR dongle read through the rtl_adsb program",
               _KEYS, _rtl_adsb, default_name=lambda _table: "rtl_adsb"),
)
