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


# ---- histories a careless or unlucky user gives (the forecast probe)

def _hist(df: pd.DataFrame, minutes: int = 60) -> list:
    return fc.segment_histories(read_history(df.to_csv(index=False).encode(), "h.csv").rolled_up(minutes))


def _small(**kw) -> pd.DataFrame:
    return synthetic_history(segments=kw.pop("segments", {"a": 600.0}), bucket_minutes=60, open_time="08:00",
                             close_time="18:00", **kw)


def test_a_backtest_window_of_days_without_data_is_skipped():
    # a one-day window per origin: Saturdays 2026-01-24 (the holiday) and 2026-01-31; only the second is scored
    hist = _hist(_small(weeks=4, holidays=("2026-01-24",)))
    bt = fc.backtest(hist, 1, methods=("mean_4_weeks",))
    assert bt.table["origins"].iloc[0] == 1 and np.isfinite(bt.table["wape"].iloc[0])


def test_a_gap_of_weeks_leaves_origins_with_too_little_training_out():
    df = _small(weeks=6)
    t = pd.to_datetime(df["timestamp"])
    hist = _hist(df[(t < "2026-01-12") | (t >= "2026-01-26")])
    bt = fc.backtest(hist, 7)
    assert (bt.table["origins"] >= 1).all() and bt.table["wape"].notna().all()


def test_a_history_too_short_for_a_backtest_falls_back_with_a_note():
    hist = _hist(_small(weeks=2, weekday_factors=(1.0,) * 7))
    bt = fc.backtest(hist, 7)
    assert bt.best == {"a": fc.FALLBACK_METHOD} and bt.fallback == ("a",)
    assert bt.table["wape"].isna().all() and "no backtest origin" in bt.notes[0]


def test_a_stopped_segment_and_one_without_any_call_are_forecast_as_zero_with_notes():
    df = _small(weeks=5, segments={"a": 600.0, "b": 400.0, "c": 100.0})
    t = pd.to_datetime(df["timestamp"])
    df.loc[(df["segment"] == "b") & (t >= "2026-01-26"), "offered"] = 0
    df.loc[df["segment"] == "c", "offered"] = 0
    hist = _hist(df)
    assert [sh.stopped_since for sh in hist] == [None, dt.date(2026, 1, 25), dt.date(2026, 1, 5)]
    bt = fc.backtest(hist, 7)
    assert set(bt.table["segment"]) == {"a"}
    notes: list[str] = []
    intervals, days = fc.forecast(hist, dt.date(2026, 2, 9), 2, backtest_result=bt, notes=notes)
    per = days.groupby("segment")["forecast"].sum()
    assert per["b"] == 0 and per["c"] == 0 and per["a"] > 500
    assert set(intervals["segment"]) == {"a", "b", "c"}  # rows for every segment: a scenario gets its zeros
    assert sum("has had no calls since" in n for n in notes) == 2


def test_a_holiday_exported_as_zeros_is_still_a_day_without_data():
    df = _small(weeks=4)
    df.loc[df["timestamp"].str.startswith("2026-01-19"), "offered"] = 0
    sh = _hist(df)[0]
    assert sh.stopped_since is None and dt.date(2026, 1, 19) in sh.missing


def test_a_start_more_than_a_year_ahead_is_refused_and_a_steep_trend_is_held_and_capped():
    hist = _hist(_small(weeks=4, trend_per_week=0.3, day_cv=0.0))
    with pytest.raises(fc.ForecastError, match="at most 365 days"):
        fc.forecast(hist, dt.date(2027, 2, 1), 1, method="top_down")
    notes: list[str] = []
    _, days = fc.forecast(hist, dt.date(2026, 12, 28), 1, method="top_down", notes=notes)
    busiest = np.nanmax(np.nansum(hist[0].y, axis=1))
    assert days["forecast"].iloc[0] == pytest.approx(fc.MAX_DAY_FACTOR * busiest)
    assert "capped" in notes[0]
    _, near = fc.forecast(hist, dt.date(2026, 2, 2), 1, method="top_down", notes=notes)
    assert near["forecast"].iloc[0] < fc.MAX_DAY_FACTOR * busiest  # near the history the trend runs on
