"""Forecasts: a known pattern is recovered, the band is calibrated, the backtest is nested, special days and level
shifts do not bend the patterns, and auto beats the baselines on real data."""

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


def _hist30(df: pd.DataFrame, special: dict | None = None) -> list:
    return fc.segment_histories(read_history(df.drop(columns=["expected"], errors="ignore").to_csv(index=False)
                                             .encode(), "h.csv").rolled_up(30), special)


@pytest.fixture(scope="module")
def synthetic():
    df = synthetic_history(weeks=14, day_cv=0.0, trend_per_week=0.0, holidays=("2026-02-16",), with_expected=True,
                           segments={"retail": 6000.0, "business": 2000.0})
    past, future = _split(df, "2026-03-30")
    return _hist30(past), _truth_30min(future)


@pytest.fixture(scope="module")
def bank_backtest():
    return fc.backtest(fc.segment_histories(read_history(BANK).rolled_up(30)), 28)


@pytest.mark.parametrize("method", ["top_down", "ets", "mean_4_weeks", "median_6_weeks", "level_profile",
                                    "combination"])
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
        hist = _hist30(df)
        _, days = fc.forecast(hist, dt.date(2026, 3, 30), 7, method="mean_4_weeks")
        widths.append(float(((days["p90"] - days["p10"]) / days["forecast"]).mean()))
    assert widths[1] > 2 * widths[0]


def test_band_coverage_is_calibrated_on_a_synthetic_history_with_busy_days():
    df = synthetic_history(weeks=20, day_cv=0.08, segments={"a": 2500.0, "b": 700.0}, seed=11)
    bt = fc.backtest(_hist30(df), 28)
    for r in bt.table.itertuples():
        assert 0.7 <= r.coverage_80 <= 0.92, (r.segment, r.method, r.coverage_80)
    by_week = bt.by_week[bt.by_week["method"] == "auto"]
    assert sorted(set(by_week["week"])) == [1, 2, 3, 4]  # every horizon week is reported
    assert (by_week["coverage_80"] >= 0.65).all()


def test_on_the_bank_sample_auto_meets_the_goals_in_sample(bank_backtest):
    """docs/forecast.md's in-sample figures: the nested backtest, 4 weekly origins, 20 open days, 30-minute
    intervals. Auto at least 5% better than the mean of the last 4 same weekdays and 2% better than the median of
    the last 6; its band covers 75-85% of the actual intervals."""
    t = bank_backtest.table.set_index("method")
    assert t.loc["auto", "origins"] == 4 and t.loc["auto", "horizon_days"] == 20
    assert t.loc["auto", "wape"] <= 0.95 * t.loc["mean_4_weeks", "wape"]
    assert t.loc["auto", "wape"] <= 0.98 * t.loc["median_6_weeks", "wape"]
    assert 0.75 <= t.loc["auto", "coverage_80"] <= 0.85
    weeks = bank_backtest.by_week[bank_backtest.by_week["method"] == "auto"]
    assert list(weeks["week"]) == [1, 2, 3, 4] and (weeks["origins"] == 4).all()


@pytest.mark.parametrize("case", ["bank", "busy days", "level shift", "trend"])
def test_auto_is_never_worse_than_the_best_robust_baseline(case, bank_backtest):
    """On the bank sample and on synthetic histories with busy days, a level shift and a trend (docs/forecast.md
    names where it does not hold: a flat noisy history, where auto is within 3% of the best robust baseline, and a
    drop right after a rise, where the slow baselines that lagged the rise come out ahead)."""
    if case == "bank":
        bt = bank_backtest
    else:
        kw = {"busy days": {"day_cv": 0.1, "seed": 3},
              "level shift": {"day_cv": 0.06, "seed": 4, "level_shift": ("2026-03-02", 1.2)},
              "trend": {"day_cv": 0.05, "seed": 6, "trend_per_week": -0.01}}[case]
        bt = fc.backtest(_hist30(synthetic_history(weeks=16, segments={"a": 2000.0}, **kw)), 28)
    for seg in bt.best:
        t = bt.table[bt.table["segment"] == seg].set_index("method")
        assert t.loc["auto", "origins"] >= 3
        best_baseline = min(t.loc[m, "wape"] for m in fc.ROBUST_BASELINES)
        assert t.loc["auto", "wape"] <= best_baseline, (seg, t["wape"].to_dict())


def test_the_backtest_is_nested_what_auto_does_at_an_origin_uses_nothing_after_it(bank_backtest):
    sb = bank_backtest.segments["calls"]
    o = sb.judged[1]
    cut = sb.history.dates[o]
    h = read_history(BANK)
    rolled = h.rolled_up(30)
    short = fc.segment_histories(rolled[rolled["date"] < cut])[0]
    assert short.dates == sb.history.dates[:o]
    sb_short = fc.segment_backtest(short, sb.horizon)
    assert sb_short.choose(o) == sb.choose(o)
    m = sb.choose(o)[0]
    at_end, _ = fc.forecasts(short.y, short.weekdays, sb.history.weekdays[o:o + sb.horizon],
                             np.arange(1, sb.horizon + 1), (m,))
    # equal up to ETS's optimiser, which the backtest starts from the previous (earlier) origin's estimate
    assert np.allclose(at_end[m], sb.forecasts[m][o], rtol=2e-3)
    band, band_short = sb.band(m, o), sb_short.band(m, o)
    assert np.allclose(band.sigma_day, band_short.sigma_day) and band.kappa_in == pytest.approx(band_short.kappa_in)
    assert set(bank_backtest.choices["origin"]) == {sb.history.dates[j].isoformat() for j in sb.judged}


def test_auto_prefers_the_combination_unless_one_method_wins_clearly_and_consistently():
    # a steady 4%-a-week growth: the methods with a trend win at every origin and by far
    df = synthetic_history(weeks=16, segments={"a": 2000.0}, trend_per_week=0.04, day_cv=0.02, seed=2)
    bt = fc.backtest(_hist30(df), 28)
    assert bt.best["a"] in ("top_down", "ets") and "beat the combination at each of" in bt.reasons["a"]
    flat = fc.backtest(_hist30(synthetic_history(weeks=16, segments={"a": 2000.0}, trend_per_week=0.0, seed=2)), 28)
    assert flat.best["a"] == "combination" and "no method beat the combination" in flat.reasons["a"]


def _level_shift_wape(seed: int, shift: float | None) -> tuple[float, list[str]]:
    """WAPE against the actual calls of 4 weeks forecast 2 weeks after a shift on Monday 2026-03-16 (or none);
    two Monday holidays at 30% of a usual day."""
    df = synthetic_history(weeks=20, segments={"a": 3000.0}, day_cv=0.06, trend_per_week=0.0, seed=seed,
                           with_expected=True, holidays=("2026-02-16", "2026-03-23"), holiday_share=0.3,
                           level_shift=("2026-03-16", shift) if shift else None)
    past, future = _split(df, "2026-03-30")
    future = future[future["timestamp"] < "2026-04-27"]
    hist = _hist30(past)
    notes: list[str] = []
    intervals, _ = fc.forecast(hist, dt.date(2026, 3, 30), 28, backtest_result=fc.backtest(hist, 28), notes=notes)
    m = intervals.merge(_truth_30min(future), on=["date", "interval_start", "segment"])
    return float((m["forecast"] - m["offered"]).abs().sum() / m["offered"].sum()), notes


def test_two_weeks_after_a_20_percent_level_shift_the_error_is_back_within_a_point():
    seeds = (1, 2, 3, 4)
    shifted = [_level_shift_wape(s, 1.2) for s in seeds]
    steady = [_level_shift_wape(s, None)[0] for s in seeds]
    gap = np.mean([w for w, _ in shifted]) - np.mean(steady)
    assert gap <= 0.01, (gap, [w for w, _ in shifted], steady)
    assert all(any("level shift of +" in n and "2026-03-1" in n for n in notes) for _, notes in shifted)


@pytest.mark.parametrize("known", [True, False], ids=["flagged", "found as outliers"])
def test_holidays_do_not_pull_their_weekdays_down(known):
    holidays = ("2026-02-09", "2026-03-09")  # two Mondays at 30% of a usual Monday
    kw = dict(weeks=12, segments={"a": 3000.0}, day_cv=0.04, trend_per_week=0.0, seed=5)
    with_holidays = synthetic_history(holidays=holidays, holiday_share=0.3, **kw)
    without = synthetic_history(**kw)
    special = {"a": {dt.date.fromisoformat(d): "holiday: test" for d in holidays}} if known else None
    monday = dt.date(2026, 3, 30)
    forecasts = []
    for df, sp in ((with_holidays, special), (without, None)):
        hist = _hist30(df, sp)
        _, days = fc.forecast(hist, monday, 1, method="combination")
        forecasts.append(float(days["forecast"].iloc[0]))
    naive = _hist30(with_holidays, special)
    _, days = fc.forecast(naive, monday, 1, method="mean_4_weeks")
    assert forecasts[0] == pytest.approx(forecasts[1], rel=0.02)
    if not known:  # the naive mean keeps what it is not told: 1 of its 4 Mondays at 30%
        assert float(days["forecast"].iloc[0]) < 0.9 * forecasts[1]


def test_a_holiday_ahead_is_marked_and_scaled_as_past_holidays_were():
    holidays = {"2026-02-09": "Test Day", "2026-03-09": "Test Day", "2026-03-30": "Test Day"}
    df = synthetic_history(weeks=12, segments={"a": 3000.0}, day_cv=0.0, trend_per_week=0.0,
                           holidays=tuple(holidays)[:2], holiday_share=0.3)
    cal = {dt.date.fromisoformat(d): n for d, n in holidays.items()}
    hist = _hist30(df, {"a": {d: f"holiday: {n}" for d, n in cal.items() if d < dt.date(2026, 3, 29)}})
    notes: list[str] = []
    intervals, days = fc.forecast(hist, dt.date(2026, 3, 30), 2, method="combination", holidays=cal, notes=notes)
    assert list(days["holiday"]) == ["Test Day", ""] and set(intervals.loc[intervals["date"] == "2026-03-30",
                                                                           "holiday"]) == {"Test Day"}
    ratio = days["forecast"].iloc[0] / (days["forecast"].iloc[1] * 1.25 / 1.05)  # Monday against Tuesday
    assert ratio == pytest.approx(0.3, abs=0.04)
    assert any("2026-03-30 is a public holiday (Test Day)" in n and "30%" in n for n in notes), notes


def test_a_holiday_the_center_was_closed_on_is_forecast_closed():
    df = synthetic_history(weeks=12, segments={"a": 3000.0}, holidays=("2026-02-09",))  # no rows that Monday
    hist = _hist30(df, {"a": {dt.date(2026, 2, 9): "holiday: Closed Day"}})
    notes: list[str] = []
    _, days = fc.forecast(hist, dt.date(2026, 3, 30), 1, method="combination",
                          holidays={dt.date(2026, 2, 9): "Closed Day", dt.date(2026, 3, 30): "Closed Day"}, notes=notes)
    assert days["forecast"].iloc[0] == 0 and any("no calls on the 1 past holiday" in n for n in notes), notes


def test_quantile_column_is_the_requested_quantile_between_p10_and_p90():
    hist = fc.segment_histories(read_history(BANK).rolled_up(60))
    intervals, _ = fc.forecast(hist, dt.date(2003, 5, 26), 3, method="top_down", quantile=0.75)
    assert (intervals["q"] >= intervals["p50"]).all() and (intervals["q"] <= intervals["p90"]).all()
    assert (intervals["p10"] <= intervals["p50"]).all()


def test_forecast_start_inside_the_history_is_refused():
    hist = fc.segment_histories(read_history(BANK).rolled_up(30))
    with pytest.raises(fc.ForecastError, match="not after the history's last day"):
        fc.forecast(hist, dt.date(2003, 5, 1), 7, method="top_down")


def test_handle_time_is_forecast_per_interval_when_the_history_has_it():
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
    # a one-day window per origin: Saturdays 2026-02-14 (the holiday) and 2026-02-21; only the second is judged
    hist = _hist(_small(weeks=7, holidays=("2026-02-14",)))
    bt = fc.backtest(hist, 1, methods=("mean_4_weeks",))
    row = bt.table.set_index("method").loc["mean_4_weeks"]
    assert row["origins"] == 1 and row["scored_days"] == 1 and np.isfinite(row["wape"])


def test_a_gap_of_weeks_leaves_origins_with_too_little_training_out():
    df = _small(weeks=8)
    t = pd.to_datetime(df["timestamp"])
    hist = _hist(df[(t < "2026-01-12") | (t >= "2026-01-26")])
    bt = fc.backtest(hist, 7)
    assert (bt.table["origins"] >= 1).all() and bt.table["wape"].notna().all()


def test_a_history_too_short_for_a_backtest_falls_back_with_a_note():
    hist = _hist(_small(weeks=2, weekday_factors=(1.0,) * 7))
    bt = fc.backtest(hist, 7)
    assert bt.best == {"a": fc.FALLBACK_METHOD} and bt.fallback == ("a",)
    assert bt.table["wape"].isna().all() and "no backtest origin" in bt.notes[0]


def test_a_history_too_short_to_judge_uses_the_combination_and_says_so():
    bt = fc.backtest(_hist(_small(weeks=4)), 7)
    assert bt.best == {"a": "combination"} and not bt.fallback
    assert "too short to judge the methods" in bt.notes[0]


def test_a_stopped_segment_and_one_without_any_call_are_forecast_as_zero_with_notes():
    df = _small(weeks=5, segments={"a": 600.0, "b": 400.0, "c": 100.0})
    t = pd.to_datetime(df["timestamp"])
    df.loc[(df["segment"] == "b") & (t >= "2026-01-26"), "offered"] = 0
    df.loc[df["segment"] == "c", "offered"] = 0
    hist = _hist(df)
    assert [sh.stopped_since for sh in hist] == [None, dt.date(2026, 1, 25), dt.date(2026, 1, 5)]
    bt = fc.backtest(hist, 7)
    assert set(bt.segments) == {"a"}
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
    assert any("capped" in n for n in notes)
    _, near = fc.forecast(hist, dt.date(2026, 2, 2), 1, method="top_down", notes=notes)
    assert near["forecast"].iloc[0] < fc.MAX_DAY_FACTOR * busiest  # near the history the trend runs on
