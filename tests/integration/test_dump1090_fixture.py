"""What a real dump1090-mutability does with a Beast capture, at the socket level.

These facts are what the collector tests and the end-to-end test build on: all frames
come out on Beast (byte for byte) and AVR (in order), and SBS carries a line for each
frame that has an SBS message type.
"""

from __future__ import annotations

import re
import socket
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from integration.dump1090 import (
    HOST,
    Dump1090Ports,
    connect,
    listening_sockets,
    push_beast,
    read_until,
    run_dump1090,
)

pytestmark = pytest.mark.integration

CAPTURE = "one_aircraft_71be34.beast"
CAPTURE_FRAMES = 1004  # shared/README.md; each of 502 frames is in the file twice
CAPTURE_SBS_LINES = 904  # measured: the 100 DF17 of type codes 28, 29 and 31 have none
AVR_LINE = re.compile(rb"\*(?:[0-9A-F]{14}|[0-9A-F]{28});")


def sbs_type(message: bytes) -> int | None:
    """The SBS ``MSG`` type dump1090 emits for a Mode-S message, None when it emits none."""
    df = message[0] >> 3
    by_df = {0: 7, 16: 7, 4: 5, 20: 5, 5: 6, 21: 6, 11: 8}
    if df in by_df:
        return by_df[df]
    if df not in (17, 18):
        return None
    tc = message[4] >> 3
    if 1 <= tc <= 4:
        return 1
    if 5 <= tc <= 8:
        return 2
    if 9 <= tc <= 18 or 20 <= tc <= 22:
        return 3
    return 4 if tc == 19 else None


def beast_escape(message: bytes) -> bytes:
    return message.replace(b"\x1a", b"\x1a\x1a")


def test_listens_on_free_loopback_ports_only(dump1090: Dump1090Ports) -> None:
    ports = [dump1090.beast_in, dump1090.beast_out, dump1090.avr_out, dump1090.sbs_out]
    listening = listening_sockets()
    assert len(set(ports)) == 4
    assert {port: listening.get(port) for port in ports} == dict.fromkeys(ports, HOST)
    assert 30001 not in ports  # the AVR input port is disabled, not moved


def test_capture_comes_out_on_beast_avr_and_sbs(
    dump1090: Dump1090Ports, capture: Callable[[str], Path]
) -> None:
    data = capture(CAPTURE).read_bytes()
    with (
        connect(dump1090, dump1090.beast_out) as beast,
        connect(dump1090, dump1090.avr_out) as avr,
        connect(dump1090, dump1090.sbs_out) as sbs,
    ):
        push_beast(dump1090, data)
        beast_out = read_until(beast, lambda got: len(got) >= len(data))
        avr_out = read_until(avr, lambda got: got.count(b"\n") >= CAPTURE_FRAMES)
        sbs_out = read_until(sbs, lambda got: got.count(b"\n") >= CAPTURE_SBS_LINES)

    assert beast_out == data

    avr_lines = avr_out.split()
    assert len(avr_lines) == CAPTURE_FRAMES
    assert all(AVR_LINE.fullmatch(line) for line in avr_lines)
    messages = [bytes.fromhex(line[1:-1].decode()) for line in avr_lines]
    position = 0  # every message is in the capture, in the same order
    for message in messages:
        position = data.index(beast_escape(message), position) + 1

    expected = Counter(sbs_type(message) for message in messages)
    del expected[None]
    rows = [line.split(",") for line in sbs_out.decode().splitlines()]
    assert sum(expected.values()) == len(rows) == CAPTURE_SBS_LINES
    assert Counter(int(row[1]) for row in rows) == expected
    assert {(row[0], row[4], len(row)) for row in rows} == {("MSG", "71BE34", 22)}
    assert {row[10].strip() for row in rows if row[1] == "1"} == {"AAR542"}
    positions = {(row[14], row[15]) for row in rows if row[1] == "3" and row[14]}
    assert ("59.73459", "31.99796") in positions


@pytest.mark.parametrize(
    ("output", "heartbeat"),
    [("beast_out", b"\x1a1" + bytes(9)), ("avr_out", b"*0000;\n"), ("sbs_out", b"\r\n")],
    ids=["beast", "avr", "sbs"],
)
@pytest.mark.parametrize("dump1090", [{"heartbeat_s": 0.1}], ids=["heartbeat"], indirect=True)
def test_heartbeats_when_idle(dump1090: Dump1090Ports, output: str, heartbeat: bytes) -> None:
    """What collectors must ignore on an idle receiver (60 s apart by default)."""
    with connect(dump1090, getattr(dump1090, output)) as sock:
        got = read_until(sock, lambda data: len(data) >= 2 * len(heartbeat), quiet=0)
    assert got[: 2 * len(heartbeat)] == 2 * heartbeat


def test_stops_and_frees_its_ports(dump1090_binary: str) -> None:
    with run_dump1090(dump1090_binary) as ports:
        socket.create_connection((ports.host, ports.beast_out), timeout=1).close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((ports.host, ports.beast_out), timeout=1)
