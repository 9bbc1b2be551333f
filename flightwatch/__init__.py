"""flightwatch: ADS-B in, watched state aircraft over a geofence out."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("flightwatch")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"
