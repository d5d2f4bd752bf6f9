"""Forecast benchmark: the nested rolling-origin backtest against the baselines, and time on a big history.

``python -m benchmarks forecast [--quick]``. Three tables:

1. The nested backtest (weekly origins, 4-week horizon, 30-minute intervals) on the bank sample: WAPE and p10-p90
   coverage per method and for auto, auto's gain over the mean of the last 4 same weekdays and over the median of
   the last 6. IN-SAMPLE: the project's methods were built while looking at these months (docs/forecast.md).
2. The same by horizon week (1-4).
3. Synthetic histories the methods were not tuned on: busy days, a level shift, a trend, a flat noisy history.
4. End to end time (read CSV, roll up, backtest every method, forecast 4 weeks with bands) on a synthetic
   6-month history of 5-minute rows, about 30,000 rows per segment, 3 segments.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from ccplan.history import read_history, synthetic_history
from planner import forecast as fc

ROOT = Path(__file__).resolve().parent.parent


def _table(label: str, bt: fc.Backtest) -> None:
    for seg in bt.best:
        t = bt.table[bt.table["segment"] == seg].set_index("method")
        for m, r in t.iterrows():
            mark = f" <- auto uses it ({bt.best[seg]})" if m == bt.best[seg] else ""
            print(f"{label:<30} {seg:<9} {m + mark:<40} {r['wape']:7.2%} {r['coverage_80']:8.0%} "
                  f"{int(r['origins']):7d} {int(r['horizon_days']):9d}")
        if "auto" in t.index:
            a = t.loc["auto", "wape"]
            best_rb = min(t.loc[m, "wape"] for m in fc.ROBUST_BASELINES)
            gain4 = 1 - a / t.loc["mean_4_weeks", "wape"]
            print(f"{'':<30} {seg:<9} auto vs mean of last 4 same weekdays: {gain4:+.1%} "
                  f"better; vs median of last 6: {1 - a / t.loc['median_6_weeks', 'wape']:+.1%}; vs the best robust "
                  f"baseline: {1 - a / best_rb:+.1%}")


def _synthetic(**kw) -> list:
    df = synthetic_history(weeks=16, segments={"a": 2000.0}, **kw)
    return fc.segment_histories(read_history(df.to_csv(index=False).encode(), "synthetic.csv").rolled_up(30))


def main(quick: bool = False) -> None:
    head = f"{'history':<30} {'segment':<9} {'method':<40} {'WAPE':>7} {'p10-p90':>8} {'origins':>7} {'open days':>9}"
    print("\nForecast accuracy: NESTED rolling-origin backtest, weekly origins, 4-week horizon, 30-minute intervals")
    print("(bank sample: IN-SAMPLE — the methods were chosen while looking at these months)")
    print(head)
    print("-" * len(head))
    t0 = time.perf_counter()
    bank = fc.backtest(fc.segment_histories(read_history(ROOT / "examples" / "data" / "bank_calls_2003_mar_may.csv")
                                            .rolled_up(30)), 28)
    t_bank = time.perf_counter() - t0
    _table("bank sample (58 weekdays)", bank)
    print(f"(bank backtest: {t_bank:.1f} s)")
    print("\nBy horizon week (bank sample, in-sample): WAPE / p10-p90 coverage")
    wk = bank.by_week
    for m in dict.fromkeys(wk["method"]):
        rows = wk[wk["method"] == m].sort_values("week")
        print(f"{m:<22} " + "  ".join(f"week {int(r.week)}: {r.wape:6.2%} / {r.coverage_80:4.0%}"
                                     for r in rows.itertuples()))
    print("\nSynthetic histories (16 weeks, 2,000 calls a day; not used to build the methods)")
    print(head)
    print("-" * len(head))
    cases = {"busy days (cv 0.10)": {"day_cv": 0.1, "seed": 3},
             "+20% level shift": {"day_cv": 0.06, "seed": 4, "level_shift": ("2026-03-02", 1.2)},
             "-1%/week trend": {"day_cv": 0.05, "seed": 6, "trend_per_week": -0.01},
             "flat, day cv 0.06": {"day_cv": 0.06, "seed": 2, "trend_per_week": 0.0},
             "-20% shift after a rise": {"day_cv": 0.06, "seed": 4, "level_shift": ("2026-03-02", 0.8)}}
    for label, kw in (list(cases.items())[:2] if quick else cases.items()):
        _table(label, fc.backtest(_synthetic(**kw), 28))

    weeks = 8 if quick else 26
    big = synthetic_history(weeks=weeks, close_time="22:00", segments={"retail": 3000.0, "business": 900.0,
                                                                        "premium": 400.0}, seed=5)
    csv_bytes = big.to_csv(index=False).encode()
    t0 = time.perf_counter()
    h = read_history(csv_bytes, "big.csv")
    t1 = time.perf_counter()
    hist = fc.segment_histories(h.rolled_up(30))
    bt = fc.backtest(hist, 28)
    t2 = time.perf_counter()
    start = max(s.dates[-1] for s in hist) + dt.timedelta(days=1)
    intervals, _ = fc.forecast(hist, start, 28, backtest_result=bt, quantile=0.5)
    t3 = time.perf_counter()
    rows = big.groupby("segment").size()
    print(f"\nForecast time, {weeks} weeks of 5-minute rows ({int(rows.mean()):,} rows per segment, {len(rows)} "
          f"segments), 4-week forecast with the nested backtest of {len(fc.METHODS)} methods at every weekly origin, "
          "one process:")
    print(f"{'read + check CSV':<30} {t1 - t0:7.2f} s")
    print(f"{'roll up + nested backtest':<30} {t2 - t1:7.2f} s   ({fc.backtest_units(hist, 28)} origin forecasts)")
    print(f"{'forecast 28 days with bands':<30} {t3 - t2:7.2f} s   ({len(intervals):,} interval rows)")
    print(f"{'total':<30} {t3 - t0:7.2f} s")
