"""Benchmarks, run on demand (`make bench-search`); never part of the test suite."""
