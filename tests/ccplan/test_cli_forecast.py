"""`ccplan forecast` as a user runs it: the CSV and JSON it gives, the scenarios it writes, the errors it names."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ccplan.history import synthetic_history
from ccplan.scenario import dump, from_dict, load
from tests.conftest import ccplan

BANK = str(Path(__file__).resolve().parents[2] / "examples" / "data" / "bank_calls_2003_mar_may.csv")


@pytest.fixture(scope="module")
def multi(tmp_path_factory):
    d = tmp_path_factory.mktemp("fc")
    hist = d / "history.csv"
    synthetic_history(weeks=8, segments={"retail": 1500.0, "business": 400.0}).to_csv(hist, index=False, sep=";",
                                                                                       decimal=",")
    base = from_dict({
        "name": "Two queues", "interval_minutes": 30, "open_time": "08:00",
        "segments": [{"name": "retail", "daily_calls": 1000, "profile": [1] * 24, "aht_s": 280, "patience_s": 200},
                     {"name": "business", "daily_calls": 300, "profile": [1] * 24, "aht_s": 330, "priority": 2}],
        "agent_groups": [{"name": "team", "skills": ["retail", "business"], "agents": 60, "cost_per_hour": 20}],
        "simulation": {"replications": 3}})
    base_path = d / "base.toml"
    dump(base, base_path)
    return d, hist, base_path


def test_csv_has_the_contracted_columns_and_one_row_per_open_interval(tmp_path):
    out = tmp_path / "fc.csv"
    r = ccplan("forecast", BANK, "--start", "2003-05-26", "--days", "7", "--out", str(out))
    assert r.returncode == 0, r.stderr
    df = pd.read_csv(out, dtype={"interval_start": str})
    assert list(df.columns[:7]) == ["date", "interval_start", "segment", "forecast", "p10", "p50", "p90"]
    assert df["date"].nunique() == 5  # Saturday and Sunday were never open
    assert len(df) == 5 * 29 and df["interval_start"].iloc[0] == "07:00"
    assert (df["p10"] <= df["p50"]).all() and (df["p50"] <= df["p90"]).all()
    assert out.with_suffix(".png").stat().st_size > 0
    assert "auto uses it" in r.stdout and "week 1" in r.stdout  # WAPE by horizon week


def test_json_reports_the_nested_backtest_by_week_and_the_choice():
    r = ccplan("forecast", BANK, "--start", "2003-05-26", "--days", "3", "--interval-minutes", "60", "--json")
    out = json.loads(r.stdout)
    assert {"history", "method", "chosen", "chosen_because", "backtest", "backtest_by_week", "backtest_choices",
            "forecast", "days", "holidays"} <= set(out)
    methods = {row["method"] for row in out["backtest"]}
    assert methods == {"last_week", "mean_4_weeks", "median_6_weeks", "trimmed_mean_8_weeks", "level_profile",
                       "top_down", "ets", "combination", "auto"}
    assert out["chosen"]["calls"] == "combination" and "no method beat" in out["chosen_because"]["calls"]
    assert {row["week"] for row in out["backtest_by_week"]} == {1}  # a 3-day forecast is judged 3 days ahead
    assert all(c["chosen"] == "combination" for c in out["backtest_choices"])
    assert out["history"]["missing_days"]["calls"] == ["2003-04-04", "2003-04-07"]
    assert {d["holiday"] for d in out["days"]} == {""} and out["holidays"] == {}


def test_country_marks_a_public_holiday_in_the_forecast_and_says_so():
    r = ccplan("forecast", BANK, "--start", "2003-05-26", "--days", "3", "--country", "US", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    days = {d["date"]: d["holiday"] for d in out["days"]}
    assert days == {"2003-05-26": "Memorial Day", "2003-05-27": "", "2003-05-28": ""}
    rows = pd.DataFrame(out["forecast"])
    assert set(rows.loc[rows["date"] == "2003-05-26", "holiday"]) == {"Memorial Day"}
    assert any("2003-05-26 is a public holiday (Memorial Day)" in n for n in out["notes"]), out["notes"]


@pytest.mark.parametrize("code", ["XX", "US-ZZ"])
def test_an_unknown_country_code_is_one_clear_error_before_anything_slow(code):
    r = ccplan("forecast", BANK, "--country", code)
    assert r.returncode == 1 and f"--country {code!r}" in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_exclude_dates_and_a_special_column_keep_days_out_of_the_patterns(tmp_path):
    df = synthetic_history(weeks=8, segments={"a": 800.0}, day_cv=0.0)
    days = df["timestamp"].str[:10]
    df.loc[days == "2026-02-16", "offered"] = (df.loc[days == "2026-02-16", "offered"] * 3).round()  # a promotion
    hist = tmp_path / "h.csv"
    df.to_csv(hist, index=False)
    plain = json.loads(ccplan("forecast", str(hist), "--start", "2026-03-02", "--days", "1", "--method",
                              "mean_4_weeks", "--json").stdout)
    dates = tmp_path / "dates.txt"
    dates.write_text("date,label\n2026-02-16,promotion\n")
    r = ccplan("forecast", str(hist), "--start", "2026-03-02", "--days", "1", "--method", "mean_4_weeks",
               "--exclude-dates", str(dates), "--json")
    assert r.returncode == 0, r.stderr
    excluded = json.loads(r.stdout)
    flagged = df.assign(special=np.where(days == "2026-02-16", "promotion", ""))
    flagged.to_csv(tmp_path / "flagged.csv", index=False)
    by_column = json.loads(ccplan("forecast", str(tmp_path / "flagged.csv"), "--start", "2026-03-02", "--days", "1",
                                  "--method", "mean_4_weeks", "--json").stdout)
    monday = [o["days"][0]["forecast"] for o in (plain, excluded, by_column)]
    assert monday[0] > 1.3 * monday[1] and monday[1] == pytest.approx(monday[2])  # the mean of 4 Mondays without it
    assert any("--exclude-dates are kept out" in n for n in excluded["notes"])
    assert any("special column" in n for n in by_column["notes"])


def test_to_dir_writes_scenarios_that_validate_and_simulate(multi, tmp_path):
    d, hist, base = multi
    to = tmp_path / "days"
    r = ccplan("forecast", str(hist), "--start", "2026-03-02", "--days", "2", "--quantile", "0.9",
               "--scenario", str(base), "--to-dir", str(to), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert [Path(p).name for p in out["scenarios"]] == ["2026-03-02.toml", "2026-03-03.toml"]
    s = load(to / "2026-03-02.toml")
    fc = pd.DataFrame(out["forecast"])
    day = fc[(fc["date"] == "2026-03-02") & (fc["segment"] == "retail")]
    assert sum(s.calls_per_interval("retail")) == pytest.approx(day["p90"].sum(), rel=0.02)
    assert sum(s.calls_per_interval("retail")) > day["forecast"].sum()  # p90 is above the mean forecast
    assert "2026-03-02" in s.name
    v = ccplan("validate", str(to / "2026-03-03.toml"))
    assert v.returncode == 0, v.stderr
    sim = ccplan("simulate", str(to / "2026-03-02.toml"), "-r", "2", "--json")
    assert sim.returncode == 0, sim.stderr
    assert set(json.loads(sim.stdout)["segments"]) == {"retail", "business"}


def test_a_history_without_segments_cannot_fill_a_multi_segment_scenario(tmp_path):
    r = ccplan("forecast", BANK, "--start", "2003-05-26", "--days", "1", "--scenario", "scenarios/retail_bank.toml", "--to-dir", str(tmp_path))
    assert r.returncode == 1 and "no segment column" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("args,words", [
    (["--interval-minutes", "5"], "--interval-minutes must be 15, 30 or 60"),
    (["--quantile", "1.5"], "--quantile must be between 0 and 1"),
    (["--method", "prophet"], "--method must be auto"),
    (["--start", "26/05/2003"], "--start must be a date YYYY-MM-DD"),
    (["--start", "2003-05-01"], "not after the history's last day"),
    (["--start", "2004-06-01"], "at most 365 days"),
    (["--segment-column", "offered"], "segment column 'offered'"),
    (["--to-dir", "x"], "--scenario and --to-dir go together"),
])
def test_bad_options_get_one_clear_message(args, words):
    r = ccplan("forecast", BANK, *args)
    assert r.returncode == 1 and words in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_a_malformed_history_names_the_row(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text("timestamp,offered\n2026-03-02T09:00,5\n2026-03-02T09:05,x\n")
    r = ccplan("forecast", str(p))
    assert r.returncode == 1 and "row 3, column 'offered'" in r.stderr


def test_a_window_of_closed_days_says_which_weekdays_are_closed():
    r = ccplan("forecast", BANK, "--start", "2003-05-24", "--days", "2")
    assert r.returncode == 1 and "Saturday, Sunday never had calls" in r.stderr
