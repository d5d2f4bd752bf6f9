"""Does a verified staffing hold on days it was not chosen on? (issue 24)

For two hold-out scenarios written for this check and used for nothing else (``benchmarks/holdout/``: a
multi-group overflow day and a peaky day), ``ccplan staff --verify`` is run twice:

- *search only* (``confirm_replications=0``, the old behaviour): the staffing is minimal on the search's own
  random numbers;
- *confirmed* (the default): the same search, then confirmation on fresh callers (5 x the search's
  replications), adding agents where a target misses there and confirming again.

Each staffing is then simulated independently: 10 x the search's replications with a seed the search never
saw. Reported: agent hours, and on the independent run the worst half-hour's service level minus its target
over the half-hours the verification judged (20 or more calls planned or offered), and each segment's day
service level minus its target (ratios of sums: all calls answered in time ÷ all calls, over every simulated
day). The goal: every judged half-hour within 3 points, every segment's day within
1 point, at most 8% more agent hours than the search's in-sample minimum.

Then *days meeting the target*: the trainer preset with ``busyness_cv = 0.2`` is staffed with
``--days-meeting 0.9`` and simulated independently for 400 days; the share of days whose own day SL meets each
segment's target should be 87-97%.

Run: ``python -m benchmarks holdout`` (``--quick``: the overflow day only, no days-meeting case).
"""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent / "holdout"
INDEPENDENT_SEED = 918_273_645  # used by nothing else: not a search's, not a confirmation's


def _independent(scenario, replications: int, executor, judged=None) -> tuple[float, dict[str, float], dict[str, float]]:
    """Simulate ``scenario`` on fresh callers: (worst judged half-hour SL - target, per segment day SL - target,
    per segment share of days meeting the target), each SL a ratio of sums under the segment's definition.
    ``judged``: the (segment, interval) cells the verification judged (its ``intervals`` table); without it,
    cells with at least 20 calls per replication here."""
    from ccplan.scenario import service_level_ratio
    from sim.runner import simulate

    res = simulate(scenario, replications=replications, seed=INDEPENDENT_SEED, executor=executor)
    iv = res.per_replication["intervals"]
    seg = res.per_replication["segments"]
    worst, day_gap, days = np.inf, {}, {}
    for s in scenario.segments:
        d = scenario.sl_definition(s)
        target = scenario.sl_target(s)
        g = iv[iv["segment"] == s.name].groupby("interval")[["answered_within", "offered", "answered",
                                                              "abandoned_within"]].sum()
        num, den = service_level_ratio(d, g["answered_within"], g["offered"], g["answered"], g["abandoned_within"])
        if judged is None:
            cells = g["offered"].to_numpy() / replications >= 20
        else:
            cells = judged[judged["segment"] == s.name].set_index("interval")["judged"].reindex(g.index).to_numpy(bool)
        sl = np.asarray(num, float) / np.where(np.asarray(den) > 0, den, np.nan)
        if cells.any():
            worst = min(worst, float(np.nanmin(sl[cells] - target)))
        r = seg[seg["segment"] == s.name]
        n, dd = service_level_ratio(d, r["answered_within"], r["offered"], r["answered"], r["abandoned_within"])
        day_gap[s.name] = float(np.sum(n) / np.sum(dd)) - target
        daily = np.asarray(n, float) / np.where(np.asarray(dd) > 0, dd, np.nan)
        days[s.name] = float(np.mean(np.nan_to_num(daily, nan=1.0) >= target - 1e-12))
    return worst, day_gap, days


def main(quick: bool = False) -> None:
    from ccplan.scenario import load
    from ccplan.verification import verify

    cases = [("overflow day", HERE / "overflow_day.toml")] + ([] if quick else [("peaky day", HERE / "peaky_day.toml")])
    print("\nHold-out staffing: the search's staffing and the confirmed one, each simulated independently "
          "(10x replications, unseen seed)")
    print(f"{'scenario':<14} {'method':<12} {'agent h':>8} {'vs search':>9} {'time s':>7} "
          f"{'worst half-hour':>15} {'worst day':>10}  days per segment")
    with ProcessPoolExecutor(2) as ex:
        for name, path in cases:
            sc = load(path)
            reps = sc.simulation.replications
            for method, c_reps in (("search only", 0), ("confirmed", None)):
                t0 = time.perf_counter()
                ver = verify(sc, executor=ex, confirm_replications=c_reps)
                secs = time.perf_counter() - t0
                worst, gap, _ = _independent(ver.verified_scenario, 10 * reps, ex, ver.intervals)
                days = ", ".join(f"{k} {100 * v:+.1f}" for k, v in gap.items())
                print(f"{name:<14} {method:<12} {ver.agent_hours_verified:>8.1f} "
                      f"{ver.agent_hours_verified / ver.agent_hours_search - 1:>+9.1%} {secs:>7.1f} "
                      f"{100 * worst:>+12.1f} pt {100 * min(gap.values()):>+7.1f} pt  {days}")
        if quick:
            return
        sc = load(Path(__file__).resolve().parent.parent / "scenarios" / "trainer.toml").with_changes(
            {"simulation.busyness_cv": 0.2})
        t0 = time.perf_counter()
        ver = verify(sc, executor=ex, replications=100, days_meeting=0.9)
        secs = time.perf_counter() - t0
        _, gap, share = _independent(ver.verified_scenario, 400, ex)
        print("\nDays meeting the target: trainer with busyness_cv 0.2, staff --verify --days-meeting 0.9 "
              f"(-r 100; {secs:.0f} s), then 400 independent days")
        for k in share:
            conf = ver.segments.set_index("segment").loc[k, "days_meeting"]
            print(f"  {k:<8} days meeting the day target: {share[k]:.1%} (confirmation sample: {conf:.1%}); "
                  f"long-run day SL {100 * gap[k]:+.1f} pt vs target; agent hours {ver.agent_hours_verified:.1f}")
