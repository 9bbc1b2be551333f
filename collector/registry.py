"""The source types a ``[[sources]]`` table may name, each declared once.

A source type says its keys (parser, default, help), its default port and name, how
a table is checked beyond its keys, and how the running source is built. The
settings read its keys and defaults, ``check-config`` and the daemon build through
it, and the configuration reference lists what it declares: adding a source type is
one module in :mod:`flightwatch.collector.sources` (found there by name) and its tests.

Declarations are cheap to import (the settings read them before any command runs):
a factory imports what it builds when it is called.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from flightwatch.decoder.keys import Key

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

    from flightwatch.collector.aggregators import AggregatorSource
    from flightwatch.collector.source import Source

#: ``receiver``: this station's own feed, read in a thread, its positions teaching the
#: coverage; ``aggregator``: polled on a schedule from a public service.
Role = Literal["receiver", "aggregator"]
#: The configured geofences as one shape (lon/lat), computed only when a source asks.
Fences = Callable[[], "BaseGeometry | None"]


@dataclass(frozen=True)
class SourceType:
    """One type of ``[[sources]]`` table.

    ``keys`` are the keys besides ``type``, ``name`` and ``enabled``, which every type
    takes. ``build(table, fences)`` makes the running source from a parsed table;
    ``check(table)`` raises ValueError naming what is wrong with a table its keys'
    parsers accepted (for an aggregator, by building it against a stand-in area).
    """

    name: str
    role: Role
    summary: str
    keys: Mapping[str, Key]
    build: Callable[[Mapping[str, Any], Fences], Source | AggregatorSource]
    default_port: int | None = None
    check: Callable[[Mapping[str, Any]], None] | None = None
    #: The name stored with its positions when the table gives none.
    default_name: Callable[[Mapping[str, Any]], str] | None = field(default=None)

    def name_for(self, table: Mapping[str, Any]) -> str | None:
        return self.default_name(table) if self.default_name is not None else None


#: The modules of the types that shipped first, in the order the reference lists them;
#: any other module of the package follows, by name.
_FIRST = ("receivers", "aggregators")


@cache
def source_types() -> dict[str, SourceType]:
    """Every declared source type by name: each module of
    :mod:`flightwatch.collector.sources` declares ``SOURCE_TYPES``, a tuple of them."""
    import flightwatch.collector.sources as package

    found = [info.name for info in pkgutil.iter_modules(package.__path__)]
    ordered = [n for n in _FIRST if n in found] + sorted(n for n in found if n not in _FIRST)
    types: dict[str, SourceType] = {}
    for module_name in ordered:
        module = importlib.import_module(f"{package.__name__}.{module_name}")
        for declared in module.SOURCE_TYPES:
            if declared.name in types:
                raise RuntimeError(f"source type {declared.name!r} declared twice "
                                   f"(again in {module.__name__})")
            types[declared.name] = declared
    return types


def names(role: Role | None = None) -> tuple[str, ...]:
    """The type names, of one role or all, in the reference's order."""
    return tuple(n for n, t in source_types().items() if role is None or t.role == role)
