"""Roster benchmark: ccplan's MILP (HiGHS) against pyworkforce's shift scheduler (CP-SAT).

``python -m benchmarks roster [--quick]``. Two tables:

1. Same requirement, shift rules both can express (no breaks, no caps on a shift type, since
   pyworkforce caps each shift start, not a shift type): paid hours and solve time of both.
   pyworkforce's ``MinRequiredResources`` solves the same covering problem (at least the
   requirement in every interval, least cost); ``MinAbsDifference`` minimises the absolute
   deviation from the requirement instead, so it may leave intervals short (shown).
2. ccplan alone on the issue's goal cases, with breaks and caps: status, gap and time.
"""

from __future__ import annotations

import time

import numpy as np

from ccplan.scenario import Scenario, clock_minutes, load, presets
from planner import roster
from planner.staffing import plan

try:
    from pyworkforce.scheduling import MinAbsDifference, MinRequiredResources
except ImportError:  # pragma: no cover - the bench extra is missing
    MinAbsDifference = MinRequiredResources = None

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _no_breaks(s: Scenario) -> Scenario:
    return s.with_changes({"shifts": [
        {k: v for k, v in sh.model_dump(mode="json", exclude_none=True).items() if k not in ("breaks", "max_agents",
                                                                                             "min_agents")}
        for sh in s.shifts]})


def _day24() -> tuple[Scenario, np.ndarray]:
    """A 24-hour day in 96 quarter-hours, 4-, 6- and 8-hour shifts starting every 15 minutes."""
    t = np.arange(96)
    req = np.round(20 + 60 * np.exp(-((t - 42) / 14) ** 2) + 45 * np.exp(-((t - 76) / 8) ** 2)).astype(int)
    s = load(presets()["trainer"]).with_changes({
        "name": "24-hour day", "interval_minutes": 15, "open_time": "00:00",
        "segments": [{"name": "all", "calls_per_interval": [10.0] * 96, "aht_s": 300}],
        "agent_groups": [{"name": "team", "skills": ["all"], "cost_per_hour": 20, "agents": 10}],
        "shifts": [{"name": f"{h}h", "minutes": h * 60, "earliest_start": "00:00",
                    "latest_start": f"{24 - h:02d}:00", "start_every_minutes": 15} for h in (4, 6, 8)],
    })
    return s, req[None, :]


def _pyworkforce_inputs(s: Scenario, g: int):
    """Coverage arrays per (shift, start) for group g, and integer costs (paid minutes x cost per hour)."""
    open_m, step, n = clock_minutes(s.open_time), s.interval_minutes, s.n_intervals
    coverage, cost = {}, {}
    for p in roster.patterns(s):
        if p.group != g:
            continue
        sh = s.shifts[p.shift]
        assert not sh.breaks
        cov = roster._overlap(p.start_min, sh.minutes, step, n)
        assert np.all((cov == 0) | (cov == 1)), "pyworkforce needs whole intervals"
        name = f"{sh.name}@{(open_m + p.start_min) // 60 % 24:02d}:{(open_m + p.start_min) % 60:02d}"
        coverage[name] = [int(v) for v in cov]
        cost[name] = int(sh.paid_minutes)
    return coverage, cost


def _run_pyworkforce(cls, s: Scenario, req: np.ndarray, time_limit_s: float):
    hours, seconds, short, statuses = 0.0, 0.0, 0.0, []
    for g in range(len(s.agent_groups)):
        coverage, cost = _pyworkforce_inputs(s, g)
        kwargs = dict(num_days=1, periods=s.n_intervals, shifts_coverage=coverage,
                      required_resources=[[int(v) for v in req[g]]], max_period_concurrency=int(req[g].max() * 10 + 10),
                      max_shift_concurrency=int(req[g].max() * 2 + 10), max_search_time=time_limit_s,
                      num_search_workers=2)
        if cls is MinRequiredResources:
            kwargs["cost_dict"] = cost
        t0 = time.perf_counter()
        sol = cls(**kwargs).solve()
        seconds += time.perf_counter() - t0
        statuses.append(sol["status"])
        got = np.zeros(s.n_intervals)
        for row in sol["resources_shifts"]:
            hours += row["resources"] * cost[row["shift"]] / 60.0
            got += row["resources"] * np.array(coverage[row["shift"]])
        short += float(np.clip(req[g] - got, 0, None).sum())
    return hours, seconds, short, "/".join(sorted(set(statuses)))


def _best_time(fn, repeats: int):
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return out, best


def main(quick: bool = False) -> None:
    limit = 10.0 if quick else 30.0
    repeats = 1 if quick else 3
    cases = []
    for label, s in (("28 half-hours, 1 group (examples/roster_day)", load(ROOT / "examples" / "roster_day.toml")),
                     ("telecom: 48 quarter-hours, 2 groups", load(presets()["telecom"])),
                     ("retail_bank: 24 half-hours, 2 groups", load(presets()["retail_bank"]))):
        cases.append((label, _no_breaks(s), plan(s).scheduled))
    if not quick:
        s24, req24 = _day24()
        cases.append(("24 h in 96 quarter-hours, 4/6/8 h shifts every 15 min", s24, req24))

    print("\nRoster: same requirement, shifts without breaks (paid hours; time = best of "
          f"{repeats}, time limit {limit:g} s; CP-SAT with 2 workers, HiGHS with 1 thread)")
    head = (f"{'case':<55} {'ccplan h':>9} {'ccplan s':>9} {'pwf MinReq h':>13} {'pwf s':>8} {'ratio':>7} "
            f"{'pwf MinAbs h':>13} {'short':>6}")
    print(head)
    print("-" * len(head))
    for label, s, req in cases:
        r, t_ours = _best_time(lambda: roster.solve(s, req, time_limit_s=limit), repeats)
        ours = f"{r.paid_hours:9.1f} {t_ours:9.3f}"
        if MinRequiredResources is None:
            print(f"{label:<55} {ours}   (pyworkforce not installed: pip install -e .[bench])")
            continue
        h_req, t_req, _, st_req = _run_pyworkforce(MinRequiredResources, s, req, limit)
        h_abs, _, short, _ = _run_pyworkforce(MinAbsDifference, s, req, limit)
        flag = "" if r.status == "optimal" else f" ({r.status})"
        print(f"{label:<55} {ours} {h_req:13.1f} {t_req:8.3f} {t_req / t_ours:6.1f}x {h_abs:13.1f} {short:6.0f}"
              f"{flag} [{st_req}]")

    print("\nRoster goals: ccplan with breaks and caps (time = best of "
          f"{repeats}, time limit {limit:g} s)")
    head = f"{'case':<55} {'status':>10} {'gap':>7} {'seconds':>8} {'headcount':>10} {'paid h':>8} {'efficiency':>11}"
    print(head)
    print("-" * len(head))
    for label, path in (("28 half-hours, full 8.5 h + lunch, capped part-time", ROOT / "examples" / "roster_day.toml"),
                        ("telecom preset: 48 quarter-hours, 2 groups, 3 breaks", presets()["telecom"]),
                        ("retail_bank preset: 24 half-hours, 2 groups, 3 breaks", presets()["retail_bank"]),
                        ("trainer preset", presets()["trainer"])):
        s = load(path)
        req = plan(s).scheduled
        r, t = _best_time(lambda: roster.solve(s, req, time_limit_s=limit), repeats)
        print(f"{label:<55} {r.status:>10} {r.gap:7.2%} {t:8.3f} {int(r.groups['headcount'].sum()):10d} "
              f"{r.paid_hours:8.1f} {r.efficiency:11.1%}")
    service_table()


def _simulated_day(s: Scenario) -> dict[str, tuple[float, float]]:
    """Whole-day (service level, abandonment) per segment: ``ccplan simulate`` with the scenario's settings."""
    from sim.runner import simulate

    seg = simulate(s).summary["segments"].set_index("segment")
    return {k: (float(seg.loc[k, "service_level"]), float(seg.loc[k, "abandon_rate"])) for k in s.segment_names}


def service_table() -> None:
    """Requirement -> roster -> simulated service: the analytic plan's own staffing against the roster's coverage."""
    from ccplan.scenario import from_dict, to_dict

    print("\nRequirement -> roster -> simulated service (analytic plan as requirement; each scenario's replications "
          "and seed; whole day)")
    for label, path in (("retail_bank", presets()["retail_bank"]), ("telecom", presets()["telecom"]),
                        ("trainer", presets()["trainer"]), ("roster_day example", ROOT / "examples" / "roster_day.toml")):
        s = load(path)
        pl = plan(s)
        data = to_dict(s)
        for g, row in zip(data["agent_groups"], pl.scheduled):
            g.pop("agents", None)
            g["agents_per_interval"] = [int(x) for x in row]
        planned = from_dict(data)
        r = roster.solve(s, pl.scheduled, time_limit_s=30.0)
        a, b = _simulated_day(planned), _simulated_day(r.to_scenario())
        cells = "; ".join(f"{k} {a[k][0]:.1%} -> {b[k][0]:.1%} ({s.sl_target(k):.0%}), {a[k][1]:.1%} -> {b[k][1]:.1%}"
                          for k in s.segment_names)
        print(f"{label:<20} req h {pl.groups['agent_hours'].sum():7.1f}  heads {int(r.groups['headcount'].sum()):4d}  "
              f"paid h {r.paid_hours:8.1f}  eff {r.efficiency:6.1%}  cost {r.cost:,.0f} {s.currency}  | {cells}")
