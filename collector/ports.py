"""The ports dump1090 and readsb serve each format on (``[[sources]]`` defaults)."""

DEFAULT_PORTS: dict[str, int] = {"beast": 30005, "avr": 30002, "sbs": 30003}
