"""Chain backtest benchmark: ``ccplan backtest`` on the bank sample, its time, and the quantile trade-off.

``python -m benchmarks backtest [--quick]``. The goal: 4 origins x 28 days (20 open days each) staffed by the
analytic plan and simulated on the actual volumes in under 2 minutes on 2 cores. Then the same chain staffed at
the forecast's p50, p75 and p90: the share of intervals and days meeting the target against the agent-hours and
cost it takes, beside the oracle (staffed from the actual volumes) and the naive forecast.

Wall time depends on what else runs on the machine: the CPU time (this process and its workers) is printed
too; wall time on 2 free cores is about CPU time / 2 for the staffing and simulation phases.
"""

from __future__ import annotations

import resource
import time
from pathlib import Path

from ccplan import backtesting as chain
from ccplan.history import read_history
from ccplan.scenario import load

ROOT = Path(__file__).resolve().parent.parent


def _cpu_s() -> float:
    return sum(getattr(resource.getrusage(who), f) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
               for f in ("ru_utime", "ru_stime"))


def main(quick: bool = False) -> None:
    h = read_history(ROOT / "examples" / "data" / "bank_calls_2003_mar_may.csv")
    base = load(ROOT / "examples" / "bank_backtest.toml")
    origins, days = (1, 7) if quick else (4, 28)
    print(f"\nccplan backtest on the bank sample: {origins} origin(s) x {days} days, analytic plan, "
          "1 replication a day")
    stages: dict[str, float] = {}
    rows = []
    for q in ((0.5, 0.9) if quick else (0.5, 0.75, 0.9)):
        t0, c0 = time.perf_counter(), _cpu_s()
        last = {"stage": None, "t": t0}

        def tick(stage: str, done: int, total: int) -> None:
            if stage != last["stage"]:
                now = time.perf_counter()
                if last["stage"] is not None:
                    stages[last["stage"]] = now - last["t"]
                last.update(stage=stage, t=now)

        job = chain.prepare(h, base, origins=origins, days=days, quantile=q, replications=1)
        res = chain.run(job, progress=tick)
        wall, cpu = time.perf_counter() - t0, _cpu_s() - c0
        stages[last["stage"]] = time.perf_counter() - last["t"]
        if q == 0.5:
            print(f"{len(job.days)} simulated days x 3 staffings: wall {wall:.1f} s, CPU {cpu:.1f} s "
                  f"(goal: under 120 s on 2 cores) — " + ", ".join(f"{k} {v:.1f} s" for k, v in stages.items()))
        s = res.summary()
        for kind in ("forecast", "naive", "oracle"):
            if kind == "oracle" and q != 0.5:
                continue
            r = s[kind]
            rows.append((f"p{round(q * 100)}" if kind != "oracle" else "-", kind, r["intervals_meeting_target"],
                         r["days_meeting_target"], r["service_level"], r["agent_hours"], r["cost"],
                         r["cost"] - s["oracle"]["cost"]))
    print(f"\n{'quantile':<9} {'staffing':<9} {'intervals':>10} {'days':>6} {'SL':>6} {'agent-h':>9} "
          f"{'cost ' + base.currency:>12} {'vs oracle':>11}")
    for q, kind, iv, dy, sl, ah, cost, gap in rows:
        print(f"{q:<9} {kind:<9} {iv:10.1%} {dy:6.1%} {sl:6.1%} {ah:9,.0f} {cost:12,.0f} {gap:+11,.0f}")
    print("intervals / days: share meeting the 80%-in-20-s target on the actual volumes (intervals with 20+ calls);"
          " SL: call-weighted service level over all days")
