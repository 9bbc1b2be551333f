"""Print the configuration reference (every key, its default and help) as Markdown.

The documentation's configuration reference (docs/reference/configuration.md) is this
table, one section at a time: ``python tools/docs_reference.py --write`` writes it, and
tests/docs/test_reference_pages.py fails when it is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from flightwatch.settings import (  # noqa: E402
    GEOFENCE_KEYS,
    SCHEMA,
    SOURCE_KEYS,
    Key,
    parse_duration,
)

_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def _duration(seconds: float) -> str:
    """6h for 21600 s: how the keys are written in a config file."""
    if seconds == 0:
        return "0"
    for unit, size in _UNITS:
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"



def _default(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]" if value else "[]"
    return str(value)


def _is_duration(key: Key) -> bool:
    try:
        return key.parse("90s", REPO) == parse_duration("90s")
    except (ValueError, TypeError):
        return False


def _rows(section: str, keys: dict[str, Key]) -> list[str]:
    rows = []
    for name, key in keys.items():
        default = key.default
        shown = _duration(default) if default is not None and _is_duration(key) else _default(
            default)
        rows.append(f"| `{section}.{name}` | {shown} | {key.help.replace('|', '/')} |")
    return rows


def reference() -> str:
    lines = ["| key | default | meaning |", "|---|---|---|"]
    for section, keys in SCHEMA.items():
        lines += _rows(section, keys)
    lines += _rows("sources[]", SOURCE_KEYS)
    lines += _rows("geofences[]", GEOFENCE_KEYS)
    return "\n".join(lines) + "\n"


def source_types_section() -> str:
    """The source types ``[[sources]]`` may name, as collector/sources/ declares them."""
    from flightwatch.collector.registry import source_types

    lines = ["## Source types", "",
             "| `type` | kind | what it reads | its keys |", "|---|---|---|---|"]
    for declared in source_types().values():
        keys = ", ".join(f"`{name}`" for name in declared.keys)
        port = f" (port {declared.default_port})" if declared.default_port else ""
        lines.append(f"| `{declared.name}` | {declared.role} | "
                     f"{declared.summary.replace('|', '/')}{port} | {keys} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    sys.stdout.write(reference())
    return 0


if __name__ == "__main__":
    sys.exit(main())
