"""Benchmarks against a running casehall stack (``make run`` in one terminal, ``make bench`` in another)."""
