"""flightwatch: ADS-B in, watched state aircraft over a geofence out."""


def __getattr__(name: str) -> str:
    """``__version__`` looked up on first use: importlib.metadata costs every command
    (``--help`` included) ~20 ms and ~4 MB, and only ``--version`` and the metrics need it."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("flightwatch")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0.0.0+source"
