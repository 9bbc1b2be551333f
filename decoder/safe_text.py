"""Received text shown safely: callsigns, registrations and types are stored as received,
and neutralised here on their way to a person.

An aggregator (or anything answering on its port) can put any character in a callsign:
an ANSI escape that rewrites the terminal, a CR/LF that forges a mail header or a log
line, a bidirectional override that reverses what is read, a ``=`` that a spreadsheet
runs as a formula. Each output applies the one function for its medium; HTML and JSON
have their own escaping (the map builds its popups with ``textContent``).
"""

from __future__ import annotations

#: C0 and C1 controls and DEL.
_CONTROLS = ((0x00, 0x1F), (0x7F, 0x9F))
#: What shows nothing, or reorders what is shown: every Unicode format character
#: (zero-width space, joiners and word joiner, bidi marks, embeddings, overrides and
#: isolates, the BOM, the soft hyphen, tag characters), line and paragraph separators,
#: and the letters and marks that draw nothing (Hangul fillers, the combining grapheme
#: joiner, Mongolian and other variation selectors). ``RSD\u200b016`` passes for RSD016.
HIDDEN = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x0600, 0x0605), (0x061C, 0x061C),
    (0x06DD, 0x06DD), (0x070F, 0x070F), (0x0890, 0x0891), (0x08E2, 0x08E2),
    (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F),
    (0x2028, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD),
    (0x110CD, 0x110CD), (0x13430, 0x1343F), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
    (0xE0000, 0xE007F), (0xE0100, 0xE01EF),
)


def escape(code: int) -> str:
    """How a shown-as-escape character is written: ``\\t \\n \\r``, ``\\x1b`` below 256,
    ``\\u200b``, ``\\U000e0041`` (the web pages' script writes them the same way)."""
    if code in (0x09, 0x0A, 0x0D):
        return {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}[code]
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


_SHOWN = {code: escape(code) for first, last in (*_CONTROLS, *HIDDEN)
          for code in range(first, last + 1)}
_XML = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord('"'): "&quot;"}
#: What a spreadsheet takes for the start of a formula (OWASP's list; tab and CR are
#: already escapes after :func:`printable`).
_FORMULA_START = ("=", "+", "-", "@")


def printable(text: str) -> str:
    """``text`` with every control, invisible or reordering character shown as an escape
    (``\\x1b``, ``\\u200b``): for the terminal, log lines, mail headers and bodies."""
    return text.translate(_SHOWN)


def pattern_source() -> str:
    """A JavaScript regular expression (``u`` flag) of the characters :func:`printable`
    escapes: the web pages show received text through it, so this table stays the one."""
    def char(code: int) -> str:
        return f"\\u{{{code:x}}}"

    return "[" + "".join(char(a) if a == b else f"{char(a)}-{char(b)}"
                         for a, b in (*_CONTROLS, *HIDDEN)) + "]"


def shown(text: str | None) -> str | None:
    """:func:`printable` for an optional field: None stays None."""
    return None if text is None else printable(text)


def xml_text(text: str) -> str:
    """For XML (KML) content and attributes: printable, then ``& < > "`` escaped.

    Most C0 controls are not allowed in XML 1.0 at all, even as references. (Not
    ``xml.sax.saxutils.escape``: importing it loads urllib and ssl into every command.)
    """
    return printable(text).translate(_XML)


def csv_text(text: str) -> str:
    """For a CSV cell: printable, and a leading ``'`` before a formula character so a
    spreadsheet shows ``=HYPERLINK(...)`` instead of running it."""
    shown = printable(text)
    return "'" + shown if shown.startswith(_FORMULA_START) else shown
