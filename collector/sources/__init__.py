"""One module per family of ``[[sources]]`` types, each declaring ``SOURCE_TYPES``.

:func:`flightwatch.collector.registry.source_types` finds every module here by name:
a new source type is a new module (its declaration, and its reader when it has no
other home) plus its tests. Modules here import only what a declaration needs; their
factories import the reader they build.
"""
