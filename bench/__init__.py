"""Benchmarks for `make bench`: each prints as a row with a ratio against a baseline measured in the same run."""
