"""Run the benchmarks and print their tables: ``python -m benchmarks [erlang] [sim] [verify] [roster] [forecast] [scale] [--quick]``."""

import sys


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    which = [a for a in argv if not a.startswith("-")] or ["erlang", "sim", "verify", "roster", "forecast", "scale"]
    for name in which:
        if name == "erlang":
            from benchmarks import erlang_bench

            erlang_bench.main(quick=quick)
        elif name == "sim":
            from benchmarks import sim_bench

            sim_bench.main(quick=quick)
        elif name == "verify":
            from benchmarks import verify_bench

            verify_bench.main(quick=quick)
        elif name == "roster":
            from benchmarks import roster_bench

            roster_bench.main(quick=quick)
        elif name == "forecast":
            from benchmarks import forecast_bench

            forecast_bench.main(quick=quick)
        elif name == "scale":
            from benchmarks import scale_bench

            scale_bench.main(quick=quick)
        else:
            raise SystemExit(f"unknown benchmark {name!r}: choose erlang, sim, verify, roster, forecast or scale")


main(sys.argv[1:])
