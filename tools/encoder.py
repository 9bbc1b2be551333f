"""Mode-S / ADS-B frame encoder: the inverse of the decoder, for synthetic traffic.

Tests, the benchmark and the demo capture need frames that real decoders accept
and that describe traffic we choose. Everything here is written from the
specifications (DO-260B, ICAO Annex 10 vol. IV; J. Sun, "The 1090 Megahertz
Riddle") and deliberately does not import pyModeS, so that decoding our frames
with pyModeS is an independent check of both sides.

Every encoder returns the whole message as upper-case hex: 28 digits for the
112-bit extended squitters (DF17), 14 for the 56-bit replies (DF4, DF5).
"""

from __future__ import annotations

from bisect import bisect_right
from functools import lru_cache
from math import acos, cos, degrees, floor, pi, radians, sin, sqrt

CRC_GENERATOR = 0x1FFF409
"""The Mode-S CRC-24 generator polynomial (25 bits, x^24 term included)."""

_DF17_CA = 5  # capability: level 2+, airborne or on the ground
_NZ = 15  # CPR latitude zones per hemisphere quadrant
_CPR_SCALE = 1 << 17
_CALLSIGN_CHARS = "#ABCDEFGHIJKLMNOPQRSTUVWXYZ##### ###############0123456789######"
_CHAR_CODE = {c: i for i, c in enumerate(_CALLSIGN_CHARS) if c != "#"}
_MAX_ALTITUDE_FT = 50175  # 25-ft steps of an 11-bit count, offset -1000 ft


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte << 16
        for _ in range(8):
            crc = (crc << 1) ^ (CRC_GENERATOR & 0xFFFFFF) if crc & 0x800000 else crc << 1
        table.append(crc & 0xFFFFFF)
    return tuple(table)


_CRC_TABLE = _crc_table()


def _remainder(data: bytes) -> int:
    """CRC-24 of ``data`` followed by 24 zero bits: the parity a sender appends."""
    crc = 0
    table = _CRC_TABLE
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFF) ^ table[((crc >> 16) ^ byte) & 0xFF]
    return crc


def crc24(message: bytes | str) -> int:
    """Remainder of a whole Mode-S message (parity field included) divided by the generator.

    Zero for an intact DF11/17/18 frame; for DF4/5/20/21 replies, whose parity
    was XOR-ed with the address, it is the 24-bit address itself.
    ``message`` is raw bytes or a hex string of 14 or 28 digits.
    """
    data = bytes.fromhex(message) if isinstance(message, str) else bytes(message)
    if len(data) not in (7, 14):
        raise ValueError(f"a Mode-S message is 7 or 14 bytes, got {len(data)}")
    return _remainder(data[:-3]) ^ int.from_bytes(data[-3:], "big")


def _icao_int(icao: str) -> int:
    value = int(icao, 16)
    if len(icao) != 6 or not 0 <= value <= 0xFFFFFF:
        raise ValueError(f"not a 24-bit ICAO address: {icao!r}")
    return value


@lru_cache(maxsize=65536)
def _df17_header(icao: str) -> tuple[int, int]:
    """DF=17, CA and the address in place as an 88-bit integer, and their share of the parity.

    The CRC is linear (XOR), so a squitter's parity is this share XOR the
    share of its ME field: the encoder only works on the 7 bytes that change.
    """
    header = (17 << 83) | (_DF17_CA << 80) | (_icao_int(icao) << 56)
    return header, _remainder(header.to_bytes(11, "big"))


# _ME_PARITY[i][b]: parity of an 11-byte message that is zero except ME byte i = b.
_ME_PARITY = tuple(
    tuple(_remainder(bytes(4 + i) + bytes((b,)) + bytes(6 - i)) for b in range(256))
    for i in range(7)
)


def _squitter(icao: str, me: int) -> str:
    """DF17 frame: DF=17, CA, address, 56-bit ME field, then CRC parity."""
    header, parity = _df17_header(icao)
    t0, t1, t2, t3, t4, t5, t6 = _ME_PARITY
    parity ^= (
        t0[me >> 48]
        ^ t1[(me >> 40) & 0xFF]
        ^ t2[(me >> 32) & 0xFF]
        ^ t3[(me >> 24) & 0xFF]
        ^ t4[(me >> 16) & 0xFF]
        ^ t5[(me >> 8) & 0xFF]
        ^ t6[me & 0xFF]
    )
    return f"{((header | me) << 24) | parity:028X}"


# Velocity and reply fields repeat while an aircraft holds its course, so their
# frames are worth remembering (bounded); positions never repeat and are not.
_repeating_squitter = lru_cache(maxsize=65536)(_squitter)


@lru_cache(maxsize=65536)
def _reply(df: int, field13: int, icao: str) -> str:
    """DF4/DF5 reply: FS=0 (airborne, no alert), DR=0, UM=0; parity = CRC XOR address."""
    data = (df << 27) | field13
    parity = _remainder(data.to_bytes(4, "big")) ^ _icao_int(icao)
    return f"{(data << 24) | parity:014X}"


# --- identification (TC 1-4) ------------------------------------------------------


def identification(icao: str, callsign: str, category: int = 3, typecode: int = 4) -> str:
    """Aircraft identification squitter; ``category`` 3 with TC 4 is a large aircraft."""
    if not 1 <= typecode <= 4 or not 0 <= category <= 7:
        raise ValueError("identification needs typecode 1-4 and category 0-7")
    text = callsign.upper().ljust(8)
    if len(text) > 8 or any(c not in _CHAR_CODE for c in text):
        raise ValueError(f"callsign must be up to 8 of A-Z, 0-9, space: {callsign!r}")
    chars = 0
    for c in text:
        chars = (chars << 6) | _CHAR_CODE[c]
    return _squitter(icao, (typecode << 51) | (category << 48) | chars)


# --- altitude codes -----------------------------------------------------------------


def _altitude_count(altitude_ft: float) -> int:
    """The 11-bit 25-ft count N with altitude = 25 N - 1000 ft."""
    count = round((altitude_ft + 1000) / 25)
    if not 0 <= count <= (_MAX_ALTITUDE_FT + 1000) // 25:
        raise ValueError(f"altitude {altitude_ft} ft outside -1000..{_MAX_ALTITUDE_FT} ft")
    return count


def _ac12(altitude_ft: float) -> int:
    """12-bit ADS-B altitude field with the Q bit (bit 8 of 12) set."""
    n = _altitude_count(altitude_ft)
    return ((n >> 4) << 5) | 0x10 | (n & 0xF)


def _ac13(altitude_ft: float) -> int:
    """13-bit surveillance altitude field: M=0 at bit 7, Q=1 at bit 9 (from the MSB)."""
    n = _altitude_count(altitude_ft)
    return ((n >> 5) << 7) | (((n >> 4) & 1) << 5) | 0x10 | (n & 0xF)


# --- CPR (DO-260B A.1.7) ----------------------------------------------------------


def _nl_boundaries() -> tuple[float, ...]:
    """Ascending latitudes above which NL drops below n, for n = 59 down to 2.

    From the closed form NL(lat) = floor(2 pi / acos(1 - (1 - cos(pi / 2 NZ)) / cos^2 lat))
    of DO-260B A.1.7.2, solved for the latitude where it reaches n.
    """
    a = 1 - cos(pi / (2 * _NZ))
    return tuple(degrees(acos(sqrt(a / (1 - cos(2 * pi / n))))) for n in range(59, 1, -1))


_NL_BOUNDARIES = _nl_boundaries()


def cpr_nl(lat: float) -> int:
    """Number of CPR longitude zones at ``lat``: 59 at the equator, 2 at 87 deg, 1 beyond."""
    abs_lat = abs(lat)
    if abs_lat == 87:
        return 2
    return 59 - bisect_right(_NL_BOUNDARIES, abs_lat)


def cpr_encode(lat: float, lon: float, odd: bool, surface: bool = False) -> tuple[int, int]:
    """The 17-bit CPR latitude and longitude of a position.

    Airborne zones span 360 degrees, surface zones 90 (so surface positions are
    four times finer and need a reference to resolve the quadrant); DO-260B says
    the same as 19 bits of a 360-degree zone of which the 17 low ones are sent.
    """
    span = 90.0 if surface else 360.0
    scale = _CPR_SCALE
    i = 1 if odd else 0
    dlat = span / (4 * _NZ - i)
    yz = floor(scale * ((lat % dlat) / dlat) + 0.5)
    rlat = dlat * (yz / scale + floor(lat / dlat))
    zones = cpr_nl(rlat) - i
    dlon = span / zones if zones > 0 else span
    xz = floor(scale * ((lon % dlon) / dlon) + 0.5)
    return yz % _CPR_SCALE, xz % _CPR_SCALE


def _position_tail(lat: float, lon: float, odd: bool, surface: bool) -> int:
    """The last 22 bits of a position ME: T=0, F, 17-bit lat, 17-bit lon."""
    yz, xz = cpr_encode(lat, lon, odd, surface)
    return (int(odd) << 34) | (yz << 17) | xz


def airborne_position(
    icao: str, lat: float, lon: float, altitude_ft: float, odd: bool, typecode: int = 11
) -> str:
    """Airborne position squitter with barometric altitude in 25-ft steps (TC 9-18)."""
    if not 9 <= typecode <= 18:
        raise ValueError("barometric airborne position needs typecode 9-18")
    me = (typecode << 51) | (_ac12(altitude_ft) << 36) | _position_tail(lat, lon, odd, False)
    return _squitter(icao, me)


# Movement field bins (DO-260B 2.2.3.2.4.2): first code, speed there, step.
_MOVEMENT_BINS = (
    (2, 0.125, 0.125),
    (9, 1.0, 0.25),
    (13, 2.0, 0.5),
    (39, 15.0, 1.0),
    (94, 70.0, 2.0),
    (109, 100.0, 5.0),
)


def movement_code(ground_speed_kt: float) -> int:
    """The 7-bit surface movement code for a ground speed (1 = stopped, 124 = 175 kt+)."""
    if ground_speed_kt < 0.125:
        return 1
    if ground_speed_kt >= 175:
        return 124
    for first, speed, step in reversed(_MOVEMENT_BINS):
        if ground_speed_kt >= speed:
            return first + int((ground_speed_kt - speed) / step)
    raise AssertionError("unreachable: speeds below the first bin return above")


def surface_position(
    icao: str,
    lat: float,
    lon: float,
    ground_speed_kt: float,
    track_deg: float,
    odd: bool,
    typecode: int = 7,
) -> str:
    """Surface position squitter (TC 5-8): movement, ground track, CPR at 90-degree zones."""
    if not 5 <= typecode <= 8:
        raise ValueError("surface position needs typecode 5-8")
    track = round((track_deg % 360) * 128 / 360) % 128
    me = (
        (typecode << 51)
        | (movement_code(ground_speed_kt) << 44)
        | (1 << 43)
        | (track << 36)
        | _position_tail(lat, lon, odd, True)
    )
    return _squitter(icao, me)


# --- velocity (TC 19 subtype 1) ---------------------------------------------------


def _signed_component(value: float) -> tuple[int, int]:
    """Direction bit and 10-bit magnitude+1 of one velocity component in knots."""
    magnitude = min(round(abs(value)), 1022)
    return int(value < 0), magnitude + 1


def airborne_velocity(
    icao: str, ground_speed_kt: float, track_deg: float, vertical_rate_fpm: float
) -> str:
    """Airborne velocity over ground, subsonic (TC 19 subtype 1), baro vertical rate."""
    track = radians(track_deg)
    v_east = ground_speed_kt * sin(track)
    v_north = ground_speed_kt * cos(track)
    ew_dir, ew = _signed_component(v_east)
    ns_dir, ns = _signed_component(v_north)
    vr_dir = int(vertical_rate_fpm < 0)
    vr = min(round(abs(vertical_rate_fpm) / 64), 510) + 1
    me = (
        (19 << 51)
        | (1 << 48)  # subtype 1
        | (1 << 43)  # NACv 1: < 10 m/s
        | (ew_dir << 42)
        | (ew << 32)
        | (ns_dir << 31)
        | (ns << 21)
        | (1 << 20)  # vertical rate source: barometric
        | (vr_dir << 19)
        | (vr << 10)
    )
    return _repeating_squitter(icao, me)


# --- surveillance replies ---------------------------------------------------------


def df4_altitude(icao: str, altitude_ft: float) -> str:
    """DF4 surveillance altitude reply (25-ft Q-bit coding), address in the parity."""
    return _reply(4, _ac13(altitude_ft), icao)


# The identity field's 13 bits C1 A1 C2 A2 C4 A4 X B1 D1 B2 D2 B4 D4 as
# (squawk digit index A=0..D=3, bit weight); X is always 0.
_IDENTITY_BITS = (
    (2, 1), (0, 1), (2, 2), (0, 2), (2, 4), (0, 4), None,
    (1, 1), (3, 1), (1, 2), (3, 2), (1, 4), (3, 4),
)  # fmt: skip


def _identity_code(squawk: str) -> int:
    """The 13-bit identity field of a four-digit octal squawk."""
    if len(squawk) != 4 or any(c not in "01234567" for c in squawk):
        raise ValueError(f"a squawk is four octal digits: {squawk!r}")
    digits = [int(c) for c in squawk]
    code = 0
    for position in _IDENTITY_BITS:
        bit = 0 if position is None else int(bool(digits[position[0]] & position[1]))
        code = (code << 1) | bit
    return code


def df5_identity(icao: str, squawk: str) -> str:
    """DF5 surveillance identity reply (Mode A code), address in the parity."""
    return _reply(5, _identity_code(squawk), icao)


def corrupt(message: str, bit: int) -> str:
    """``message`` with one bit flipped (bit 0 is the first transmitted bit)."""
    n_bits = len(message) * 4
    if not 0 <= bit < n_bits:
        raise ValueError(f"bit {bit} outside a {n_bits}-bit message")
    value = int(message, 16) ^ (1 << (n_bits - 1 - bit))
    return f"{value:0{len(message)}X}"
