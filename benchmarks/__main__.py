"""Run the benchmarks and print their tables: ``python -m benchmarks [erlang] [sim] [verify] [holdout] [roster] [tours] [forecast] [backtest] [scale] [percall] [study] [capacity] [--quick]``."""

import importlib
import sys

BENCHMARKS = ("erlang", "sim", "verify", "holdout", "roster", "tours", "forecast", "backtest", "scale", "percall", "study", "capacity")  # each is benchmarks/<name>_bench.py


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    which = [a for a in argv if not a.startswith("-")] or list(BENCHMARKS)
    for name in which:
        if name not in BENCHMARKS:
            raise SystemExit(f"unknown benchmark {name!r}: choose {', '.join(BENCHMARKS)}")
        importlib.import_module(f"benchmarks.{name}_bench").main(quick=quick)


main(sys.argv[1:])
