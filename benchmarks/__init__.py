"""Benchmarks: scripts that print figures and ratios against a reference run in the same run."""
