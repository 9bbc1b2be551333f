"""Data shipped with flightwatch: default watchlist, geofences, airports, samples.

A package only so that an installed flightwatch can find these files
(``flightwatch.settings.bundled``); it holds no code.
"""
