"""Staffing verified by simulation: how far the analytic plan is from the truth, and what fixing it costs.

For each preset and the two examples (``examples/``), with default settings (the scenario's
replications and seed, 2 worker processes):

- the analytic plan (Erlang C/A per interval and pool, what an Erlang calculator gives) is
  simulated: whole-day service level per segment, planner against simulator, and the worst
  judged interval's service level against its target;
- ``ccplan staff --verify`` corrects it and confirms the result on fresh callers: agent hours planned,
  found by the search (its in-sample minimum) and verified (after the confirmation), staffings simulated,
  the confirmation's sample, wall time (goal: under 2 minutes per preset), and whether every target is met.

Then a brute-force check on the multi-group example, of the search alone (minimality holds on the
search's own random numbers): every constant staffing with each group within +-2 of the search's median
level is simulated (same callers), from the smallest total up, until the first that meets every target;
the search's per-interval totals are compared with it.

Run: ``python -m benchmarks verify`` (``--quick`` skips the two large presets).
"""

from __future__ import annotations

import itertools
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def _cases(quick: bool) -> list[tuple[str, Path]]:
    from ccplan.scenario import presets

    cases = [("trainer", presets()["trainer"])]
    if not quick:
        cases += [("retail_bank", presets()["retail_bank"]), ("telecom", presets()["telecom"])]
    cases += [("multigroup_overflow", ROOT / "examples" / "multigroup_overflow.toml"),
              ("peaky_day", ROOT / "examples" / "peaky_day.toml")]
    return cases


def main(quick: bool = False) -> None:
    from ccplan.scenario import load
    from ccplan.verification import verify

    rows = []
    agreement = []
    results = {}
    with ProcessPoolExecutor(2) as ex:
        for name, path in _cases(quick):
            sc = load(path)
            t0 = time.perf_counter()
            res = verify(sc, executor=ex)
            secs = time.perf_counter() - t0
            results[name] = (sc, res)
            iv = res.intervals
            judged = iv[iv["judged"]]
            worst_plan = (judged["service_level_planned"] - judged["target"]).min()
            worst_ver = (judged["service_level"] - judged["target"]).min()
            rows.append((name, f"{sc.n_intervals}x{len(sc.agent_groups)}", res.agent_hours_planned,
                         res.agent_hours_search, res.agent_hours_verified, worst_plan * 100, worst_ver * 100,
                         res.evaluations, res.confirm_replications, res.confirm_samples, secs, res.all_met))
            day_planner = res.plan.daily_segments().set_index("segment")["service_level"]
            sim_plan = _day_sl_at_plan(iv)
            for seg in sc.segment_names:
                agreement.append((name, seg, day_planner[seg] * 100, sim_plan[seg] * 100,
                                  (day_planner[seg] - sim_plan[seg]) * 100,
                                  _worst(iv, seg, "service_level_planned") * 100))

    print("\nStaffing verified by simulation and confirmed on fresh callers (default settings: the scenario's "
          "replications and seed, 2 workers)")
    print(f"{'scenario':<20} {'TxG':>6} {'plan h':>8} {'search h':>9} {'verified h':>10} {'vs plan':>7} "
          f"{'worst plan':>11} {'worst ver.':>10} {'sims':>5} {'confirm':>10} {'time s':>7} {'all met':>7}")
    for r in rows:
        print(f"{r[0]:<20} {r[1]:>6} {r[2]:>8.1f} {r[3]:>9.1f} {r[4]:>10.1f} {(r[4] / r[2] - 1) * 100:>+6.1f}% "
              f"{r[5]:>+10.1f}p {r[6]:>+9.1f}p {r[7]:>5} {f'{r[8]} x{r[9]}':>10} {r[10]:>7.1f} {str(r[11]):>7}")
    print("search h: the search's minimum on its own random numbers; verified h: after the confirmation on fresh "
          "callers. worst plan: the lowest judged interval's simulated SL minus its target at the analytic plan "
          "(search sample); worst ver.: the same at the verified staffing on the last confirming sample, in points. "
          "confirm: replications per fresh sample x samples")

    print("\nPlanner against simulator at the analytic plan's staffing (whole day, and the worst interval)")
    print(f"{'scenario':<20} {'segment':<10} {'planner SL':>10} {'simulated':>10} {'gap pts':>8} {'worst interval':>14}")
    for a in agreement:
        print(f"{a[0]:<20} {a[1]:<10} {a[2]:>9.1f}% {a[3]:>9.1f}% {a[4]:>+8.1f} {a[5]:>13.1f}%")

    if "multigroup_overflow" in results:  # minimality is an in-sample property: the search alone is checked
        sc = results["multigroup_overflow"][0]
        with ProcessPoolExecutor(2) as ex:
            search = verify(sc, executor=ex, confirm_replications=0)
        _brute_force(sc, search)
        _local_brute_force(sc, search)


def _day_sl_at_plan(iv) -> dict[str, float]:
    w = iv.assign(_w=iv["service_level_planned"] * iv["offered"])
    g = w.groupby("segment", sort=False)[["_w", "offered"]].sum()
    return (g["_w"] / g["offered"]).to_dict()


def _worst(iv, seg: str, col: str) -> float:
    d = iv[(iv["segment"] == seg) & iv["judged"]]
    return float(d[col].min()) if len(d) else float("nan")


def _brute_force(sc, res) -> None:
    """Smallest constant staffing (each group within +-2 of the verified median) meeting every target."""
    from ccplan.verification import _Search

    names = sc.group_names
    med = {g: int(np.median(res.groups[res.groups["group"] == g]["available_verified"])) for g in names}
    ranges = [range(max(0, med[g] - 2), med[g] + 3) for g in names]
    combos = sorted(itertools.product(*ranges), key=lambda c: (sum(c), c))
    t_n = sc.n_intervals
    t0 = time.perf_counter()
    with ProcessPoolExecutor(2) as ex:
        s = _Search(sc, res.replications, res.seed, ex, 20.0, None, np.ones(len(names), bool))
        best, tried, level = None, 0, None
        for c in combos:
            if best is not None and sum(c) > level:
                break
            avail = np.repeat(np.array(c)[:, None], t_n, axis=1)
            tried += 1
            if s.feasible(s.evaluate(avail)):
                if best is None:
                    best, level = c, sum(c)
    secs = time.perf_counter() - t0
    totals = res.groups.groupby("interval")["available_verified"].sum()
    print(f"\nBrute force on multigroup_overflow: {tried} constant staffings simulated in {secs:.0f} s "
          f"(each group {', '.join(f'{g} {r.start}-{r.stop - 1}' for g, r in zip(names, ranges))})")
    if best is None:
        print("  no constant staffing in the range meets every target")
        return
    print(f"  smallest meeting every target: {dict(zip(names, best))}, total {sum(best)} agents per interval")
    print(f"  verified per-interval totals: {totals.min()}-{totals.max()} (mean {totals.mean():.1f}); "
          f"largest difference from the brute-force total: {int((totals - sum(best)).abs().max())} agents")


def _local_brute_force(sc, res) -> None:
    """Per interval, every staffing with each group within +-2 of the verified one (the rest of the day as
    verified), from one agent fewer in total downwards, until a total where none meets every target:
    the smallest total per interval that a search around the result finds."""
    from ccplan.verification import _Search

    names = sc.group_names
    cur = np.vstack([res.groups[res.groups["group"] == g].sort_values("interval")["available_verified"].to_numpy()
                     for g in names]).astype(np.int64)
    t0 = time.perf_counter()
    tried = 0
    gaps = []
    with ProcessPoolExecutor(2) as ex:
        s = _Search(sc, res.replications, res.seed, ex, 20.0, None, np.ones(len(names), bool))
        for t in range(sc.n_intervals):
            deltas = [d for d in itertools.product(range(-2, 3), repeat=len(names))
                      if all(cur[g, t] + d[g] >= 0 for g in range(len(names)))]
            best = int(cur[:, t].sum())
            for drop in range(1, 2 * len(names) + 1):
                level = [d for d in deltas if sum(d) == -drop]
                if not level:
                    break
                variants = []
                for d in level:
                    v = cur.copy()
                    v[:, t] += np.array(d)
                    variants.append(v)
                tried += len(variants)
                if not any(s.feasible(ev) for ev in s.evaluate_many(variants)):
                    break
                best = int(cur[:, t].sum()) - drop
            gaps.append(int(cur[:, t].sum()) - best)
    secs = time.perf_counter() - t0
    print(f"\nLocal brute force on multigroup_overflow: per interval, every group within +-2 of the verified "
          f"staffing, the rest of the day as verified ({tried} staffings simulated in {secs:.0f} s)")
    print(f"  verified total minus the smallest total meeting every target, per interval: {gaps}")
    print(f"  largest difference: {max(gaps)} agents")


if __name__ == "__main__":
    main()
