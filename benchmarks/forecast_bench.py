"""Forecast benchmark: accuracy against naive baselines and time on a 6-month, 3-segment, 5-minute history.

``python -m benchmarks forecast [--quick]``. Two tables:

1. Rolling-origin backtest (weekly origins, 4-week horizon, 30-minute intervals) on the bank
   sample and on a synthetic 3-segment history: WAPE and p10-p90 coverage per method, and the
   auto method's gain over the two naive baselines.
2. End to end time (read CSV, roll up, backtest every method, forecast 4 weeks with bands) on
   a synthetic 6-month history of 5-minute rows, about 30,000 rows per segment, 3 segments.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from ccplan.history import read_history, synthetic_history
from planner import forecast as fc

ROOT = Path(__file__).resolve().parent.parent


def _accuracy(label: str, hist, horizon_days: int = 28) -> None:
    bt = fc.backtest(hist, horizon_days)
    for seg in bt.best:
        t = bt.table[bt.table["segment"] == seg].set_index("method")
        best = bt.best[seg]
        for m, r in t.iterrows():
            mark = " <- auto" if m == best else ""
            print(f"{label:<28} {seg:<10} {m + mark:<22} {r['wape']:7.2%} {r['coverage_80']:9.0%} {int(r['origins']):8d} "
                  f"{int(r['horizon_days']):8d}")
        gain4 = 1 - t.loc[best, "wape"] / t.loc["mean_4_weeks", "wape"]
        gain1 = 1 - t.loc[best, "wape"] / t.loc["last_week", "wape"]
        print(f"{'':<28} {seg:<10} auto vs mean of last 4 same weekdays: {gain4:+.1%} better; vs same weekday last "
              f"week: {gain1:+.1%} better")


def main(quick: bool = False) -> None:
    print("\nForecast accuracy: rolling-origin backtest, weekly origins, 4-week horizon, 30-minute intervals")
    head = f"{'history':<28} {'segment':<10} {'method':<22} {'WAPE':>7} {'p10-p90':>9} {'origins':>8} {'open days':>8}"
    print(head)
    print("-" * len(head))
    bank = fc.segment_histories(read_history(ROOT / "examples" / "data" / "bank_calls_2003_mar_may.csv")
                                .rolled_up(30))
    _accuracy("bank sample (58 weekdays)", bank)
    synth = synthetic_history(weeks=16, day_cv=0.07, segments={"retail": 3000.0, "business": 900.0,
                                                               "premium": 400.0}, seed=3)
    _accuracy("synthetic (16 weeks, 3 seg.)", fc.segment_histories(
        read_history(synth.to_csv(index=False).encode(), "synthetic.csv").rolled_up(30)))

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
          "segments), 4-week forecast with backtest, one process:")
    print(f"{'read + check CSV':<28} {t1 - t0:7.2f} s")
    print(f"{'roll up + backtest (4 meth.)':<28} {t2 - t1:7.2f} s")
    print(f"{'forecast 28 days with bands':<28} {t3 - t2:7.2f} s   ({len(intervals):,} interval rows)")
    print(f"{'total':<28} {t3 - t0:7.2f} s")
    print("statsforecast is not measured: it requires pandas < 3, which ccplan's other dependencies have left "
          "behind (statsmodels runs with pandas 3).")
