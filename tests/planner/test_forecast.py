"""Forecasts: a known pattern is recovered, the band is honest, the methods beat the naive baselines on real data."""

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ccplan.history import read_history, synthetic_history
from planner import forecast as fc

ROOT = Path(__file__).resolve().parents[2]
BANK = ROOT / "examples" / "data" / "bank_calls_2003_mar_may.csv"


def _split(df: pd.DataFrame, first_future: str):
    past = df[df["timestamp"] < first_future]
    future = df[df["timestamp"] >= first_future]
    return past, future


def _truth_30min(future: pd.DataFrame) -> pd.DataFrame:
    t = pd.to_datetime(future["timestamp"])
    slot = (t.dt.hour * 60 + t.dt.minute) // 30 * 30
    out = future.assign(date=t.dt.date.astype(str), interval_start=[f"{s // 60:02d}:{s % 60:02d}" for s in slot])
    return out.groupby(["date", "interval_start", "segment"], as_index=False)[["expected", "offered"]].sum()


@pytest.fixture(scope="module")
def synthetic():
    df = synthetic_history(weeks=14, day_cv=0.0, trend_per_week=0.0, holidays=("2026-02-16",), with_expected=True,
                           segments={"retail": 6000.0, "business": 2000.0})
    past, future = _split(df, "2026-03-30")
    hist = fc.segment_histories(read_history(past.drop(columns=["expected"]).to_csv(index=False).encode(),
                                             "synthetic.csv").rolled_up(30))
    return hist, _truth_30min(future)


@pytest.mark.parametrize("method", ["top_down", "ets", "mean_4_weeks"])
def test_a_known_weekly_and_intraday_pattern_is_recovered(synthetic, method):
    hist, truth = synthetic
    intervals, days = fc.forecast(hist, dt.date(2026, 3, 30), 14, method=method)
    m = intervals.merge(truth, on=["date", "interval_start", "segment"], how="outer", indicator=True)
    assert (m["_merge"] == "both").all(), "forecast rows and the true open intervals differ"
    wape = (m["forecast"] - m["expected"]).abs().sum() / m["expected"].sum()
    assert wape < 0.04, wape  # Poisson noise only: the pattern itself must come back
    # the weekly pattern: Monday 1.25 against Friday 0.9 of an average day
    per_day = m.groupby("date")["forecast"].sum()
    mon, fri = per_day["2026-03-30"], per_day["2026-04-03"]
    assert mon / fri == pytest.approx(1.25 / 0.9, rel=0.03)


def test_a_closed_weekday_gets_no_rows_and_a_holiday_does_not_pull_its_weekday_down(synthetic):
    hist, truth = synthetic
    intervals, days = fc.forecast(hist, dt.date(2026, 3, 30), 14, method="top_down")
    weekdays = {dt.date.fromisoformat(d).weekday() for d in intervals["date"]}
    assert 6 not in weekdays and weekdays == {0, 1, 2, 3, 4, 5}  # Sundays closed
    assert dt.date(2026, 2, 16) in hist[0].missing  # a Monday with no rows
    monday = days[days["date"] == "2026-03-30"]["forecast"].sum()
    true_monday = truth[truth["date"] == "2026-03-30"]["expected"].sum()
    assert monday == pytest.approx(true_monday, rel=0.03)


def test_day_to_day_variation_widens_the_band_beyond_poisson():
    calm = synthetic_history(weeks=12, day_cv=0.0, segments={"a": 3000.0})
    busy = synthetic_history(weeks=12, day_cv=0.12, segments={"a": 3000.0})
    widths = []
    for df in (calm, busy):
        hist = fc.segment_histories(read_history(df.to_csv(index=False).encode(), "h.csv").rolled_up(30))
        _, days = fc.forecast(hist, dt.date(2026, 3, 30), 7, method="mean_4_weeks")
        widths.append(float(((days["p90"] - days["p10"]) / days["forecast"]).mean()))
    assert widths[1] > 2 * widths[0]


def test_band_coverage_is_honest_on_a_synthetic_history_with_busy_days():
    df = synthetic_history(weeks=20, day_cv=0.08, segments={"a": 2500.0, "b": 700.0}, seed=11)
    hist = fc.segment_histories(read_history(df.to_csv(index=False).encode(), "h.csv").rolled_up(30))
    bt = fc.backtest(hist, 28)
    for r in bt.table.itertuples():
        assert 0.7 <= r.coverage_80 <= 0.92, (r.segment, r.method, r.coverage_80)


def test_on_the_bank_sample_auto_beats_the_naive_baselines_with_an_honest_band():
    """The README's claim: several weekly origins, 4-week horizon, 30-minute intervals."""
    hist = fc.segment_histories(read_history(BANK).rolled_up(30))
    bt = fc.backtest(hist, 28)
    t = bt.table.set_index("method")
    best = bt.best["calls"]
    assert t.loc[best, "origins"] >= 3 and t.loc[best, "horizon_days"] == 20
    assert t.loc[best, "wape"] <= 0.95 * t.loc["mean_4_weeks", "wape"]
    assert t.loc[best, "wape"] <= 0.85 * t.loc["last_week", "wape"]
    assert 0.70 <= t.loc[best, "coverage_80"] <= 0.90


def test_quantile_column_is_the_requested_quantile_between_p10_and_p90():
    hist = fc.segment_histories(read_history(BANK).rolled_up(60))
    intervals, _ = fc.forecast(hist, dt.date(2003, 5, 26), 3, method="top_down", quantile=0.75)
    assert (intervals["q"] >= intervals["p50"]).all() and (intervals["q"] <= intervals["p90"]).all()
    assert (intervals["p10"] <= intervals["p50"]).all()


def test_forecast_start_inside_the_history_is_refused():
    hist = fc.segment_histories(read_history(BANK).rolled_up(30))
    with pytest.raises(fc.ForecastError, match="not after the history's last day"):
        fc.forecast(hist, dt.date(2003, 5, 1), 7, method="top_down")


def test_handle_time_is_forecast_per_interval_when_the_history_has_it(synthetic):
    df = synthetic_history(weeks=6, segments={"a": 800.0})  # 300 s, 10% longer from 18:00
    hist = fc.segment_histories(read_history(df.to_csv(index=False).encode(), "h.csv").rolled_up(30))
    intervals, _ = fc.forecast(hist, dt.date(2026, 2, 16), 2, method="mean_4_weeks")
    late = intervals["interval_start"] >= "18:00"
    assert np.allclose(intervals.loc[~late, "aht_s"], 300.0) and np.allclose(intervals.loc[late, "aht_s"], 330.0)
