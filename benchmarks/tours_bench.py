"""Week roster benchmark: weekly tours (``ccplan roster --week``) solved by HiGHS.

``python -m benchmarks tours [--quick]``. One table, one row per case:

1. The goal case: 7 days of 28 half-hours, 2 groups (examples/week's volumes and groups); full-time tours of 5
   days of 8.5 h with a 30-minute unpaid lunch, the 2 days off together, starts within 60 minutes; part-time
   tours of 3-5 days of 4, 5 or 6 h (starts within 60 minutes), for either group, without a cap.
2. examples/week as shipped: the full-time shift also has a paid 15-minute break, and part-timers are capped at 24
   (service) and 8 (sales).
3. The goal case with full-time tours only: what 5-day tours cost over the days solved one by one.
4. examples/week with contracts_strict.toml: the same start every day, part-timers' days off together.

For each: status, MIP gap, wall-clock and CPU seconds (the machine is shared: CPU seconds say what the solve
itself took), model variables, headcount, FTE, cost, the day-by-day optimum without tour rules (a lower bound)
and the premium over it; and a check that the coverage recomputed from the listed agents meets every interval.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ccplan import week as wk
from ccplan.scenario import Contract

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "week"


def goal_week() -> wk.Week:
    """The goal case, built from examples/week: lunch only on full-time shifts, uncapped part-timers."""
    base = wk.read_week(EXAMPLE)
    days = {}
    for d, sc in base.scenarios.items():
        shifts = [s.model_dump(mode="json", exclude_none=True) for s in sc.shifts]
        shifts[0]["breaks"] = [b for b in shifts[0]["breaks"] if b["minutes"] == 30]  # the unpaid lunch
        days[d] = sc.with_changes({"shifts": shifts, "contracts": []})
    contracts = (
        Contract(name="full_time", shifts=("full",), days_per_week=(5, 5), days_off_together=True,
                 start_band_minutes=60),
        Contract(name="part_time", shifts=("part4", "part5", "part6"), days_per_week=(3, 5), start_band_minutes=60),
    )
    return wk.assemble(days, contracts, "the benchmark")


def coverage_holds(r, req: dict) -> bool:
    """Coverage recomputed minute by minute from the agents table meets every interval's requirement."""
    for d in r.days:
        if not d.open:
            continue
        sc = d.scenario
        open_m = int(sc.open_time[:2]) * 60 + int(sc.open_time[3:])
        minutes = np.zeros((len(sc.agent_groups), sc.n_intervals * sc.interval_minutes))
        for a in r.agents[r.agents["date"] == d.date.isoformat()].itertuples():
            sh = next(s for s in sc.shifts if s.name == a.shift)
            s = int(a.start[:2]) * 60 + int(a.start[3:]) - open_m
            on = np.zeros(minutes.shape[1])
            on[s:s + sh.minutes] = 1
            for b, length in zip(a.breaks, a.break_minutes):
                bs = int(b[:2]) * 60 + int(b[3:]) - open_m
                on[bs:bs + length] = 0
            minutes[sc.group_names.index(a.group)] += on
        cov = minutes.reshape(len(sc.agent_groups), sc.n_intervals, -1).mean(axis=2)
        if np.any(cov < req[d.date] - 1e-9):
            return False
    return True


def main(quick: bool = False) -> None:
    limit = 30.0 if quick else 60.0
    cases = [("goal: FT 5x8.5 h + lunch, 2 off together, band 60; PT 3-5 x 4-6 h", goal_week())]
    if not quick:
        g = goal_week()
        ft_only = wk.assemble(g.scenarios, g.contracts[:1], "the benchmark")
        cases.append(("goal case, full-time tours only (where the premium comes from)", ft_only))
        ex = wk.read_week(EXAMPLE)
        cases.append(("examples/week (FT lunch + 15-min break; PT capped 24/8)", ex))
        cases.append(("examples/week + contracts_strict.toml (band 0, PT days off together)",
                      wk.read_week(EXAMPLE, EXAMPLE / "contracts_strict.toml")))
    print(f"\nWeek roster: weekly tours, HiGHS via scipy.optimize.milp, time limit {limit:g} s "
          "(wall = elapsed; CPU = this process's CPU time, the machine may be shared)")
    head = (f"{'case':<72} {'status':>10} {'gap':>6} {'wall s':>7} {'CPU s':>6} {'vars':>6} {'heads':>5} "
            f"{'FTE':>6} {'cost':>8} {'day-by-day':>10} {'premium':>8} {'covered':>7}")
    print(head)
    print("-" * len(head))
    for label, w in cases:
        req = wk.requirements(w, "plan")
        size = wk.model_size(w, req)
        t0, c0 = time.perf_counter(), time.process_time()
        r = wk.solve(w, req, time_limit_s=limit)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        if not r.ok:
            print(f"{label:<72} {r.status:>10}  {r.message}")
            continue
        print(f"{label:<72} {r.status:>10} {r.gap_text:>6} {wall:7.1f} {cpu:6.1f} {size.variables:6d} "
              f"{r.headcount:5d} {r.fte:6.1f} {r.cost:8,.0f} {r.lower_bound_cost:10,.0f} {r.premium:8.1%} "
              f"{'yes' if coverage_holds(r, req) else 'NO':>7}")
