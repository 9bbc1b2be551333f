"""Received text shown safely: callsigns, registrations and types are stored as received,
and neutralised here on their way to a person.

An aggregator (or anything answering on its port) can put any character in a callsign:
an ANSI escape that rewrites the terminal, a CR/LF that forges a mail header or a log
line, a bidirectional override that reverses what is read, a ``=`` that a spreadsheet
runs as a formula. Each output applies the one function for its medium; HTML and JSON
have their own escaping (the map builds its popups with ``textContent``).
"""

from __future__ import annotations

# C0 and C1 controls and DEL, shown as escapes; the invisible characters that reorder or
# hide text (bidi embeddings, overrides, isolates and marks, line and paragraph
# separators, the BOM) too.
_SHOWN = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, *range(0x80, 0xA0))}
_SHOWN.update({0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"})
_SHOWN.update({code: f"\\u{code:04x}" for code in (
    0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x2028, 0x2029,
    0xFEFF)})
_XML = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord('"'): "&quot;"}
#: What a spreadsheet takes for the start of a formula (OWASP's list; tab and CR are
#: already escapes after :func:`printable`).
_FORMULA_START = ("=", "+", "-", "@")


def printable(text: str) -> str:
    """``text`` with every control or reordering character shown as an escape (``\\x1b``):
    for the terminal, log lines, mail headers and bodies."""
    return text.translate(_SHOWN)


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
