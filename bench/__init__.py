"""Benchmarks of the portal against same-run baselines (see bench/README.md)."""
