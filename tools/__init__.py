"""Tooling outside the product: the ADS-B encoder and flight simulator behind the tests,
the benchmarks and the demo capture, and the scripts that derive config/ from shared/."""
