"""Benchmarks at a million users: scripts, not tests. Run ``bench/run --help``.

Every figure is measured side by side in the same run against the floor (an exact lookup, or
one SQL statement) and against the naive retrofit (``username__iexact``, see :mod:`bench.naive`).
"""
