"""db.blocks: positions packed column by column as deltas, deflated; read back exactly.

The layout is checked against a block built by hand here (struct and zlib, following the
module's documented layout), so encoder and decoder cannot agree on a private mistake.
"""

from __future__ import annotations

import random
import struct
import zlib
from itertools import pairwise

import pytest

from flightwatch.db.blocks import (
    COLUMNS,
    VERSION,
    Block,
    CorruptBlock,
    by_period,
    concat,
    decode,
    encode,
    normalised,
    window,
)

# time, lat, lon, altitude, speed, track, rate, ground code, source id
TRACK = ([100, 105, 110], [5390000, 5390125, 5390251], [2750000, 2749990, 2749978],
         [12000, 12025, None], [300, 301, 301], [2712, 2713, 2713], [-640, -640, -576],
         [0, 0, 1], [1, 1, 1])


def hand_built(icao: int, columns: tuple[list[int | None], ...]) -> bytes:
    """The documented layout written out by hand for one aircraft."""
    n = len(columns[0])
    flags = [int(any(v is None for v in c)) for c in columns]
    codes, firsts, nulls, bodies = [], [], b"", b""
    for column, has_nulls in zip(columns, flags, strict=True):
        values = [v for v in column if v is not None]
        if has_nulls:
            nulls += bytes(v is not None for v in column)
        deltas = [b - a for a, b in pairwise(values)]
        code = "h" if deltas and max(map(abs, deltas)) > 127 else "b"
        codes.append(ord(code))
        firsts.append(values[0])
        bodies += struct.pack(f"<{len(deltas)}{code}", *deltas)
    payload = (struct.pack(f"<II{COLUMNS}B{COLUMNS}B", 1, n, *flags, *codes)
               + struct.pack(f"<{COLUMNS}q", *firsts) + struct.pack("<II", icao, n)
               + nulls + bodies)
    return bytes((VERSION,)) + zlib.compress(payload, 6, wbits=-15)


def test_a_block_built_by_hand_decodes_and_the_encoder_writes_the_same() -> None:
    blob = hand_built(0x157710, TRACK)
    assert decode(blob) == [(0x157710, TRACK)]
    assert zlib.decompress(encode([(0x157710, TRACK)])[1:], wbits=-15) == zlib.decompress(
        blob[1:], wbits=-15)


def test_many_aircraft_with_nulls_and_extreme_values_round_trip() -> None:
    rng = random.Random(4)
    aircraft = []
    for icao in (0x000001, 0x4CA2D1, 0xFFFFFF):
        n = rng.randrange(1, 300)
        times = sorted(rng.sample(range(1_700_000_000, 1_700_100_000), n))
        columns = (times, [rng.randrange(-9_000_000, 9_000_000) for _ in range(n)],
                   [rng.randrange(-18_000_000, 18_000_000) for _ in range(n)],
                   *([rng.choice([None, -(2**40), 0, 2**40, rng.randrange(-99, 99)])
                      for _ in range(n)] for _ in range(4)),
                   [rng.randrange(3) for _ in range(n)], [rng.randrange(2**15) for _ in range(n)])
        aircraft.append((icao, tuple(list(c) for c in columns)))
    aircraft.append((0x123456, tuple([v] for v in (5, 1, 2, None, None, None, None, 2, 0))))
    blob = encode(aircraft)
    assert decode(blob) == aircraft
    block = Block(blob)
    assert block.addresses == [a for a, _c in aircraft]
    assert block.columns(0x4CA2D1) == aircraft[1][1] and block.columns(0xABCDEF) is None


def test_positions_take_a_few_bytes_each() -> None:
    n = 720  # an hour of a cruising aircraft, a position every 5 s
    columns = ([1_700_000_000 + 5 * i for i in range(n)],
               [5_300_000 + 31 * i + (i * 7) % 3 for i in range(n)],
               [2_700_000 - 52 * i for i in range(n)], [36000] * n, [450] * n,
               [2700 + i % 2 for i in range(n)], [0] * n, [0] * n, [1] * n)
    assert len(encode([(0x4CA2D1, columns)])) / n < 4  # a table row took 52


@pytest.mark.parametrize("blob", [b"", b"\x02abc", b"\x01not deflate", b"\x01" + zlib.compress(
    b"\x01\x00", wbits=-15)], ids=["empty", "version", "not deflated", "truncated"])
def test_a_damaged_block_is_refused_clearly(blob: bytes) -> None:
    with pytest.raises(CorruptBlock):
        decode(blob)


def test_an_aircraft_without_positions_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one position"):
        encode([(1, tuple([] for _ in range(COLUMNS)))])


def test_normalised_keeps_the_first_of_a_second_and_sorts() -> None:
    later = tuple([v] for v in (110, 1, 1, None, None, None, None, 0, 2))
    first = tuple([v, v + 1] for v in (100, 5, 5, 1, 1, 1, 1, 0, 1))
    second = tuple([v, w] for v, w in zip((100, 7, 7, 2, 2, 2, 2, 1, 9),
                                          (105, 8, 8, 3, 3, 3, 3, 1, 9), strict=True))
    merged = normalised(concat([later, first, second]))
    assert merged[0] == [100, 101, 105, 110]
    assert merged[8] == [1, 2, 9, 2]  # 100 s from `first` (given before `second`)


def test_window_and_periods_cut_by_time() -> None:
    columns = tuple(list(c) for c in TRACK)
    assert window(columns, 101, 110)[0] == [105, 110]
    assert window(columns, None, 104)[0] == [100]
    hours = ([3599, 3600, 7300], *(list(c) for c in TRACK[1:]))
    assert [(p, c[0]) for p, c in by_period(hours, 3600)] == [(0, [3599]), (1, [3600]),
                                                               (2, [7300])]
