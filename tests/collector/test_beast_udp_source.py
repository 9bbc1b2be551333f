"""The beast_udp source: real Mode-S messages (the Delft recording) sent as Beast frames in
UDP datagrams over loopback, read back as the frames that were sent; declared once, so
the settings, check-config and the daemon know it with no change of theirs."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from beast_bytes import LONG, SHORT, beast_frame
from integration.daemon_helpers import (
    WATCHED,
    daemon,
    free_port,
    over_minsk,
    poll,
    stored_positions,
)
from source_helpers import collect

from flightwatch.collector.registry import source_types
from flightwatch.collector.sources.beast_udp import BeastUdpSource
from flightwatch.decoder import Frame
from flightwatch.settings import ConfigError, load_settings


@pytest.fixture
def messages(capture: Callable[[str], Path]) -> list[str]:
    """The first 40 messages of the Delft recording (hex), as a receiver heard them."""
    lines = capture("delft_2015_mixed_modes.txt").read_text(encoding="utf-8").splitlines()
    return [line.split()[1] for line in lines[:40]]


def frame_bytes(message: str, ticks: int) -> bytes:
    kind = LONG if len(message) == 28 else SHORT
    return beast_frame(kind, ticks, 100, bytes.fromhex(message))


@pytest.fixture
def listening() -> Iterator[BeastUdpSource]:
    source = BeastUdpSource("127.0.0.1", 0, poll_interval=0.1)
    yield source
    source.stop()


def send(port: int, datagrams: list[bytes]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as out:
        for datagram in datagrams:
            out.sendto(datagram, ("127.0.0.1", port))


def read_in_thread(source: BeastUdpSource, count: int) -> tuple[threading.Thread, list[Frame]]:
    got: list[Frame] = []

    def run() -> None:
        got.extend(r for r in collect(source, count) if isinstance(r, Frame))

    thread = threading.Thread(target=run)
    thread.start()
    assert source.wait_bound(5.0)
    return thread, got


def test_datagrams_of_frames_are_the_frames_sent(
        listening: BeastUdpSource, messages: list[str]) -> None:
    thread, got = read_in_thread(listening, len(messages))
    # Several frames a datagram, as a feeder packs them; every length of datagram.
    datagrams, i = [], 0
    for size in (1, 2, 3, 5, 8, 21):
        datagrams.append(b"".join(frame_bytes(m, i + n) for n, m in
                                  enumerate(messages[i:i + size])))
        i += size
    assert i == len(messages)
    send(listening.port, datagrams)
    thread.join(10)

    assert [f.hex for f in got] == [m.upper() for m in messages]
    assert [f.mlat_ticks for f in got] == list(range(len(messages)))
    assert {f.source for f in got} == {listening.name}
    assert listening.stats["frames"] == len(messages)
    assert listening.stats["bad_frames"] == 0


def test_a_frame_cut_at_the_end_of_a_datagram_is_counted_bad_and_the_next_starts_clean(
        listening: BeastUdpSource, messages: list[str]) -> None:
    thread, got = read_in_thread(listening, 2)
    whole, cut = frame_bytes(messages[0], 1), frame_bytes(messages[2], 2)[:9]
    send(listening.port, [whole + cut, frame_bytes(messages[3], 3)])
    thread.join(10)

    assert [f.hex for f in got] == [messages[0].upper(), messages[3].upper()]
    assert listening.stats["bad_frames"] == 1


def test_stop_ends_the_listener_promptly(listening: BeastUdpSource) -> None:
    thread, _got = read_in_thread(listening, 1000)
    started = time.monotonic()
    listening.stop()
    thread.join(5)
    assert not thread.is_alive()
    assert time.monotonic() - started < 2.0


def test_a_taken_port_is_retried_until_it_is_free(messages: list[str]) -> None:
    taken = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    taken.bind(("127.0.0.1", 0))
    port = taken.getsockname()[1]
    source = BeastUdpSource("127.0.0.1", port, poll_interval=0.1, backoff_initial=0.1)
    got: list[Frame] = []
    thread = threading.Thread(
        target=lambda: got.extend(r for r in collect(source, 1) if isinstance(r, Frame)))
    thread.start()
    try:
        assert not source.wait_bound(0.5)
        taken.close()
        assert source.wait_bound(5.0)
        send(port, [frame_bytes(messages[0], 7)])
        thread.join(10)
    finally:
        source.stop()
    assert [f.hex for f in got] == [messages[0].upper()]


def test_the_settings_know_it_from_its_declaration(tmp_path: Path) -> None:
    config = tmp_path / "fw.toml"
    config.write_text('[[sources]]\ntype = "beast_udp"\n\n'
                      '[[sources]]\ntype = "beast_udp"\nhost = "0.0.0.0"\nport = 31005\n',
                      encoding="utf-8")
    settings = load_settings(config, env={})
    assert [(s["name"], s["port"]) for s in settings.enabled_sources()] == [
        ("beast_udp:127.0.0.1:30005", 30005), ("beast_udp:0.0.0.0:31005", 31005)]
    built = source_types()["beast_udp"].build(settings.sources[1], lambda: None)
    assert isinstance(built, BeastUdpSource)
    assert (built.host, built.port, built.name) == ("0.0.0.0", 31005, "beast_udp:0.0.0.0:31005")


def test_a_key_it_does_not_take_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "fw.toml"
    config.write_text('[[sources]]\ntype = "beast_udp"\ncommand = ["rtl_adsb"]\nport = 0\n',
                      encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_settings(config, env={})
    assert raised.value.problems == [
        f"{config}: sources[0].command: unknown key",
        f"{config}: sources[0].port: 0 is not a TCP port (1-65535)",
    ]


@pytest.mark.integration
def test_the_daemon_stores_what_arrives_by_udp(tmp_path: Path) -> None:
    """``flightwatch run`` with a beast_udp source: a flight's frames sent in datagrams
    are decoded and stored, with nothing in the daemon written for this source type."""
    port = free_port()
    config = tmp_path / "flightwatch.toml"
    config.write_text('[database]\nurl = "sqlite:///fw.db"\nbatch_seconds = "0.3s"\n\n'
                      '[tracker]\nstore_interval = "0s"\n\n[status]\ninterval = "1h"\n\n'
                      f'[[sources]]\ntype = "beast_udp"\nport = {port}\n', encoding="utf-8")
    frames = [hex_ for _t, hex_ in over_minsk(time.time(), 20)]
    with daemon(config) as run:
        run.wait_for(f"beast_udp:127.0.0.1:{port}: listening on")
        send(port, [b"".join(frame_bytes(m, 0) for m in frames[i:i + 6])
                    for i in range(0, len(frames), 6)])
        poll(lambda: WATCHED in stored_positions(tmp_path / "fw.db"),
             "positions of the aircraft stored", timeout=20)
        assert "Traceback" not in run.log
