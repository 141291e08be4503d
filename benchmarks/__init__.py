"""Benchmarks of aioprintora against the local sandbox on 127.0.0.1.

Run them all with ``python -m benchmarks`` (or ``nox -s bench``), or one with
``python -m benchmarks.bench_<name>``. Every figure is printed beside a baseline measured in
the same run, as a ratio, because shared machines are noisy. Nothing here is asserted: timed
checks do not belong in the test suite.
"""
