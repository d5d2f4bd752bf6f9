"""Benchmarks against peer libraries: ``python -m benchmarks [erlang|sim]`` (``make bench``)."""
