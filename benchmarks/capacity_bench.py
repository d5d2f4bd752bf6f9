"""Capacity benchmark: the hiring MILP (HiGHS) on year-long plans.

``python -m benchmarks capacity [--quick]``. The goal case is the issue's: 52 weeks, 3 groups, a class may start
every 2 weeks; it must solve to optimality in under 10 s on 2 cores. The other rows make it harder: classes of
at least 5 (semi-continuous: a binary per class week), a hard 95 % coverage, and a class possible every week.
Every plan is built through the use case (:func:`ccplan.capacity.plan_from_dict`), so it is what the CLI runs;
the requirement is seasonal with growth, different per group, and drawn from a fixed seed. Each row's cost is
checked against no hiring (the optimum must not cost more). Time = best of 3 (1 with --quick), in seconds,
wall clock, time limit 60 s.
"""

from __future__ import annotations

import time

import numpy as np

from ccplan import capacity as cap

GROUPS = (("agents", 220.0, 0.035, 900.0, 2500.0, 6, [0.5, 0.75]),
          ("specialists", 60.0, 0.02, 1300.0, 6000.0, 10, [0.4, 0.7, 0.9]),
          ("chat", 90.0, 0.05, 800.0, 2000.0, 4, [0.6]))


def _requirement(weeks: int, seed: int = 7) -> np.ndarray:
    """(3, weeks) FTE: each group's start level x a yearly season (peak in week 20 or 46) x 0.2 %/week growth,
    with 2 % noise."""
    rng = np.random.default_rng(seed)
    w = np.arange(weeks)
    out = []
    for k, (_, h0, *_rest) in enumerate(GROUPS):
        season = 1 + 0.12 * np.cos(2 * np.pi * (w - (20 if k != 1 else 46)) / 52)
        out.append(h0 * season * 1.002 ** w * rng.normal(1, 0.02, weeks))
    return np.vstack(out)


def _plan(weeks: int, every: int, min_class: int, min_coverage: float | None, first_week: np.ndarray
          ) -> cap.CapacityPlan:
    """Each group starts with 8 % more FTE than its first week needs."""
    data = {
        "start": "2027-01-04", "weeks": weeks, "understaff_penalty_per_fte_week": 3000.0,
        "groups": [{"name": n, "headcount": round(1.08 * float(need), 1), "attrition_per_month": m,
                    "cost_per_fte_week": c} for (n, _, m, c, *_), need in zip(GROUPS, first_week)],
        "hiring": [{"group": n, "earliest_week": 1, "every_weeks": every, "min_class": min_class, "max_class": 30,
                    "training_weeks": t, "ramp": ramp, "cost_per_hire": hire}
                   for n, _, _, _, hire, t, ramp in GROUPS],
    }
    if min_coverage is not None:
        data["min_coverage"] = min_coverage
    return cap.plan_from_dict(data, need_source=False)


def main(quick: bool = False) -> None:
    repeats = 1 if quick else 3
    limit = 60.0
    cases = [("52 weeks, 3 groups, a class every 2 weeks (the goal)", 52, 2, 0, None),
             ("... classes of 0 or 5-30 (semi-continuous)", 52, 2, 5, None),
             ("... and min_coverage 0.95", 52, 2, 5, 0.95),
             ("... a class every week, 0 or 5-30, min_coverage 0.95", 52, 1, 5, 0.95)]
    if not quick:
        cases.append(("104 weeks, 3 groups, every week, 0 or 5-30, coverage 0.95", 104, 1, 5, 0.95))
    print(f"\nCapacity: the optimal hiring plan (MILP, HiGHS; time = best of {repeats}, wall clock; time limit "
          f"{limit:g} s; goal: the first row optimal in < 10 s on 2 cores)")
    head = (f"{'case':<58} {'vars':>6} {'status':>9} {'gap':>6} {'seconds':>8} {'hired':>6} {'cost':>13} "
            f"{'no hiring':>13}")
    print(head)
    print("-" * len(head))
    for label, weeks, every, lo, cov in cases:
        need = _requirement(weeks)
        plan = _plan(weeks, every, lo, cov, need[:, 0])
        req = cap.Requirement(need, "synthetic", cap._requirement_table(plan, need))
        problem = cap.problem_of(plan, req)
        best, sol = np.inf, None
        for _ in range(repeats):
            t0 = time.perf_counter()
            sol = cap.engine.solve(problem, limit)
            best = min(best, time.perf_counter() - t0)
        pr = cap.engine.project(problem, sol.hires) if sol.ok else None
        none = cap.engine.project(problem).total_cost
        cost = f"{pr.total_cost:13,.0f}" if pr is not None else f"{'-':>13}"
        hired = f"{int(sol.hires.sum()):6d}" if sol.ok else f"{'-':>6}"
        gap = f"{sol.gap:6.2%}" if np.isfinite(sol.gap) else f"{'-':>6}"
        flag = "" if pr is None or pr.total_cost <= none + 1e-6 * none else "  COSTS MORE THAN NO HIRING"
        print(f"{label:<58} {sol.variables:6d} {sol.status:>9} {gap} {best:8.3f} {hired} {cost} {none:13,.0f}{flag}")
