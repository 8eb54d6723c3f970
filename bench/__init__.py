"""Benchmarks that are scripts, not tests: they take minutes and record figures in docs/BENCHMARKS.md."""
