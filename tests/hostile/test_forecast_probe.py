"""A probe of careless or unlucky users of ``ccplan forecast``, history reading and ``import-volumes``: each case ends
with exit 1 and one message naming the problem, or with the right answer and a note. Every run is the real CLI in a
subprocess (3 GB address space, timeout), on short synthetic histories written to tmp_path."""

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ccplan.history import synthetic_history
from ccplan.scenario import dump, from_dict, load, presets
from tests.cli_runner import run_cli
from tests.conftest import ROOT

LIMIT_BYTES = 3 * 2**30


def _limited() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_BYTES, LIMIT_BYTES))


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return run_cli(*map(str, args), timeout=timeout, cwd=ROOT, limit_as=LIMIT_BYTES)


def clean(r: subprocess.CompletedProcess) -> None:
    """No traceback, no internal error, no numerical warning reaches the user."""
    for bad in ("Traceback", "internal error", "RuntimeWarning"):
        assert bad not in r.stderr and bad not in r.stdout, r.stderr[-500:]


def history(weeks: int = 4, bucket_minutes: int = 60, segments: dict | None = None, **kw) -> pd.DataFrame:
    """A synthetic history 08:00-18:00 (Mon-Sat open, Sunday closed) from Monday 2026-01-05: 4 weeks end on
    Saturday 2026-01-31."""
    return synthetic_history(weeks=weeks, segments=segments or {"a": 600.0}, bucket_minutes=bucket_minutes,
                             open_time="08:00", close_time="18:00", **kw)


def write(tmp_path: Path, df: pd.DataFrame, name: str = "h.csv") -> Path:
    p = tmp_path / name
    df.to_csv(p, index=False)
    return p


def fc_json(*args) -> tuple[subprocess.CompletedProcess, dict | None]:
    r = run("forecast", *args, "--interval-minutes", "60", "--json")
    clean(r)
    return r, (json.loads(r.stdout) if r.returncode == 0 else None)


def stamp(df: pd.DataFrame) -> pd.Series:
    return pd.to_datetime(df["timestamp"])


# ---- 1. backtest windows holding only days without data

@pytest.mark.parametrize("case", ["closed week", "holiday", "gap of weeks"])
def test_days_without_data_in_a_backtest_window_still_forecast(tmp_path, case):
    if case == "holiday":  # --days 1: each backtest window is one Saturday; one of them is the holiday
        df, days = history(holidays=("2026-01-24",)), ["1", "--start", "2026-02-02"]
    else:
        df = history(weeks=6)
        t = stamp(df)
        cut = (t >= "2026-01-26") & (t < ("2026-02-02" if case == "closed week" else "2026-02-09"))
        df, days = df[~cut], ["7"]
    r, out = fc_json(write(tmp_path, df), "--days", *days)
    assert r.returncode == 0, r.stderr
    assert out["days"] and all(d["forecast"] > 100 for d in out["days"])
    assert out["history"]["missing_days"]["a"]


# ---- 2. an all-zero history

def test_an_all_zero_history_is_refused_naming_the_column(tmp_path):
    df = history().assign(offered=0)
    r = run("forecast", write(tmp_path, df))
    clean(r)
    assert r.returncode == 1 and "column 'offered'" in r.stderr and "0 calls" in r.stderr, r.stderr


# ---- 3. the calls column given as the segment column

def test_the_calls_column_as_segment_column_is_refused(tmp_path):
    r = run("forecast", write(tmp_path, history()), "--segment-column", "offered")
    clean(r)
    assert r.returncode == 1 and "segment column 'offered'" in r.stderr and "calls (offered) column" in r.stderr


# ---- 4 and 9. starts far beyond the history; a forecast never explodes

@pytest.mark.parametrize("start,method", [("9999-12-31", "auto"), ("2100-01-04", "top_down"), ("2027-03-01", "auto")])
def test_a_start_more_than_a_year_after_the_history_is_refused_up_front(tmp_path, start, method):
    r = run("forecast", write(tmp_path, history()), "--start", start, "--method", method, "--interval-minutes", "60")
    clean(r)
    assert r.returncode == 1 and f"(--start) {start}" in r.stderr and "at most 365 days" in r.stderr, r.stderr
    assert "by 2027-01-31" in r.stderr  # the last start allowed: a year after 2026-01-31


def test_a_steep_trend_far_ahead_is_capped_with_a_note(tmp_path):
    df = history(trend_per_week=0.3, day_cv=0.0)
    busiest = df.groupby(df["timestamp"].str[:10])["offered"].sum().max()
    r, out = fc_json(write(tmp_path, df), "--start", "2026-10-05", "--days", "2", "--method", "top_down")
    assert r.returncode == 0, r.stderr
    assert max(d["forecast"] for d in out["days"]) <= 2 * busiest + 1
    assert max(d["p50"] for d in out["days"]) <= 2.5 * busiest
    assert any("capped" in n and "busiest day" in n for n in out["notes"]), out["notes"]


# ---- 5. an export that changes from 15- to 30-minute rows

def _changed_granularity(tmp_path) -> Path:
    df = history(weeks=4, bucket_minutes=15)
    t = stamp(df)
    late = df[t >= "2026-01-19"].assign(timestamp=t[t >= "2026-01-19"].dt.floor("30min").dt.strftime("%Y-%m-%dT%H:%M"))
    late = late.groupby(["timestamp", "segment"], as_index=False).agg(offered=("offered", "sum"),
                                                                       aht_s=("aht_s", "mean"))
    return write(tmp_path, pd.concat([df[t < "2026-01-19"], late[df.columns]]))


def test_a_changed_bucket_size_is_read_in_the_coarser_one_with_a_note(tmp_path):
    p = _changed_granularity(tmp_path)
    r = run("forecast", p, "--interval-minutes", "30", "--days", "1", "--start", "2026-02-02", "--json")
    clean(r)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert any("changes from 15- to 30-minute rows on 2026-01-19" in n for n in out["notes"]), out["notes"]
    f = pd.DataFrame(out["forecast"])["forecast"].to_numpy()
    assert (f > 5).all()  # no interval forecast as 0 ...
    inner = f[1:-1] / ((f[:-2] + f[2:]) / 2)
    assert (inner > 0.6).all() and (inner < 1.6).all()  # ... and none doubled: no sawtooth


def test_a_changed_bucket_size_refuses_the_finer_interval_naming_the_day(tmp_path):
    r = run("forecast", _changed_granularity(tmp_path), "--interval-minutes", "15")
    clean(r)
    assert r.returncode == 1 and "30-minute buckets" in r.stderr and "2026-01-19" in r.stderr, r.stderr


# ---- 6. a corrupt cell, a one-off spike

def test_an_absurd_cell_is_refused_naming_row_and_column(tmp_path):
    df = history()
    df.loc[50, "offered"] = 10**15
    r = run("forecast", write(tmp_path, df))
    clean(r)
    assert r.returncode == 1 and "row 52, column 'offered'" in r.stderr and "not a plausible count" in r.stderr


def test_a_spike_is_replaced_with_a_note_and_the_band_stays_sane(tmp_path):
    df = history(bucket_minutes=30)
    i = df.index[df["timestamp"] == "2026-01-28T10:30"][0]  # the last Wednesday but one
    usual = df.loc[i, "offered"]
    df.loc[i, "offered"] = 3000
    r, out = fc_json(write(tmp_path, df), "--days", "4", "--method", "mean_4_weeks")  # Sunday closed, Mon-Wed
    assert r.returncode == 0, r.stderr
    assert any(f"row {i + 2}" in n and "3,000 calls" in n for n in out["notes"]), out["notes"]
    for d in out["days"]:
        assert d["p10"] < d["forecast"] < d["p90"]
        assert d["p50"] == pytest.approx(d["forecast"], rel=0.05)
    wed = pd.DataFrame(out["forecast"]).query("date == '2026-02-04' and interval_start == '10:00'")["forecast"]
    assert float(wed.iloc[0]) < 3 * (usual + 30)  # the spike does not reach the forecast


# ---- 7 and 8. a stopped queue; trailing zero weeks and the default start

def test_a_stopped_segment_is_forecast_near_zero_with_a_note(tmp_path):
    df = history(weeks=6, segments={"a": 600.0, "b": 500.0})
    df.loc[(df["segment"] == "b") & (stamp(df) >= "2026-01-19"), "offered"] = 0
    r, out = fc_json(write(tmp_path, df), "--days", "2")
    assert r.returncode == 0, r.stderr
    days = pd.DataFrame(out["days"])
    assert (days.loc[days["segment"] == "b", "forecast"] == 0).all()
    assert (days.loc[days["segment"] == "a", "forecast"] > 300).all()
    assert any("segment 'b' has had no calls since" in n for n in out["notes"]), out["notes"]


def test_the_default_start_is_the_day_after_the_last_row_even_when_its_weeks_are_zero(tmp_path):
    df = synthetic_history(start="2026-01-05", weeks=8, segments={"a": 600.0}, bucket_minutes=60)
    t = stamp(df)
    df = df[t < "2026-03-01"]
    df.loc[stamp(df) >= "2026-02-16", "offered"] = 0  # the last two weeks (to Saturday 2026-02-28) are zero
    r, out = fc_json(write(tmp_path, df), "--days", "2")
    assert r.returncode == 0, r.stderr
    assert min(d["date"] for d in out["days"]) >= "2026-03-01"
    assert all(d["forecast"] == 0 for d in out["days"])
    assert any("no calls since 2026-02-1" in n for n in out["notes"])


# ---- 10. a daylight-saving fall-back

def test_a_repeated_hour_names_the_rows_that_repeat_it(tmp_path):
    df = history()
    lines = df.to_csv(index=False).splitlines()
    k = next(i for i, line in enumerate(lines) if line.startswith("2026-01-20T11:00"))
    lines[k + 1:k + 1] = [lines[k - 2], lines[k - 1]]  # 09:00 and 10:00 again after 11:00, as a clock going back
    p = tmp_path / "dst.csv"
    p.write_text("\n".join(lines) + "\n")
    r = run("forecast", p)
    clean(r)
    assert r.returncode == 1
    first, second = k - 1, k + 2  # line numbers (1-based) of the two 09:00 rows
    assert f"rows {first} and {second}" in r.stderr and "2026-01-20 09:00" in r.stderr, r.stderr
    assert lines[first - 1].split(",")[0] == lines[second - 1].split(",")[0]
    assert "clocks go back" in r.stderr


def test_a_fall_back_with_utc_offsets_is_summed_with_a_note(tmp_path):
    df = history()
    text = ["timestamp,segment,offered,aht_s"]
    for row in df.itertuples():
        text.append(f"{row.timestamp}{'+01:00' if row.timestamp >= '2026-01-20T10' else '+02:00'},{row.segment},"
                    f"{row.offered},{row.aht_s}")
        if row.timestamp == "2026-01-20T10:00":
            text.insert(-1, f"2026-01-20T10:00+02:00,{row.segment},7,{row.aht_s}")
    p = tmp_path / "off.csv"
    p.write_text("\n".join(text) + "\n")
    r, out = fc_json(p, "--days", "2")
    assert r.returncode == 0, r.stderr
    assert any("occurs twice on 2026-01-20" in n for n in out["notes"]), out["notes"]


# ---- 11, 12, 13. Excel's sep= line, ISO offsets, nan and Infinity

def test_excel_sep_line_is_read_in_forecast_and_import_volumes(tmp_path):
    df = history()
    p = tmp_path / "excel.csv"
    p.write_text("sep=;\n" + df.to_csv(index=False, sep=";"))
    r = run("forecast", p, "--days", "1", "--start", "2026-02-02", "--method", "mean_4_weeks", "--interval-minutes",
            "60")
    clean(r)
    assert r.returncode == 0, r.stderr
    assert "2026-02-02" in r.stdout
    v = tmp_path / "v.csv"
    v.write_text("sep=;\ntime;gold;silver\n" + "".join(f"{9 + i // 2:02d}:{30 * (i % 2):02d};5;6\n" for i in range(8)))
    r = run("import-volumes", presets()["trainer"], v, "--out", tmp_path / "o.toml")
    clean(r)
    assert r.returncode == 0, r.stderr
    assert list(load(tmp_path / "o.toml").calls_per_interval("gold")) == [5.0] * 8


@pytest.mark.parametrize("suffix", ["+01:00", "Z"])
def test_iso_offsets_are_read_as_written_with_a_note(tmp_path, suffix):
    df = history()
    p = write(tmp_path, df.assign(timestamp=df["timestamp"] + suffix))
    r, out = fc_json(p, "--days", "2", "--method", "mean_4_weeks")
    assert r.returncode == 0, r.stderr
    assert out["forecast"][0]["interval_start"] == "08:00"
    assert any("UTC offset" in n and "dropped" in n for n in out["notes"]), out["notes"]


@pytest.mark.parametrize("cell,words", [("nan", "'nan' is not a number"), ("Infinity", "'Infinity' is not finite")])
def test_nan_and_infinity_are_named_by_row_and_column(tmp_path, cell, words):
    df = history().astype({"offered": object})
    df.loc[3, "offered"] = cell
    r = run("forecast", write(tmp_path, df))
    clean(r)
    assert r.returncode == 1 and "row 5, column 'offered'" in r.stderr and words in r.stderr, r.stderr
    v = tmp_path / "v.csv"
    v.write_text("time,gold,silver\n" + "".join(f"{9 + i // 2:02d}:{30 * (i % 2):02d},{cell if i == 1 else 5},6\n"
                                                for i in range(8)))
    r = run("import-volumes", presets()["trainer"], v, "--out", tmp_path / "o.toml")
    clean(r)
    assert r.returncode == 1 and "row 3, column 'gold'" in r.stderr and words in r.stderr, r.stderr


# ---- 14. no backtest origin

def test_a_history_too_short_for_a_backtest_says_n_a_and_names_the_fallback(tmp_path):
    df = history(weeks=2, weekday_factors=(1.2, 1, 1, 1, 1, 0.6, 0.5))  # 14 open days
    p = write(tmp_path, df)
    r = run("forecast", p, "--days", "1", "--interval-minutes", "60")
    clean(r)
    assert r.returncode == 0, r.stderr
    assert "nan" not in r.stdout and "n/a" in r.stdout and "fallback" in r.stdout
    assert "note:" in r.stdout and "no backtest origin" in r.stdout
    r, out = fc_json(p, "--days", "1")
    assert out["chosen"] == {"a": "mean_4_weeks"} and all(b["wape"] is None for b in out["backtest"])
    assert any("mean_4_weeks is used without a backtest" in n for n in out["notes"])


# ---- 15. every input is checked before the backtest

_TRAPPED = """
import sys
import planner.forecast as fc
def _no(*a, **k):
    sys.stderr.write("BACKTEST STARTED\\n")
    raise SystemExit(9)
fc.backtest = _no
from ccplan.cli import main
sys.argv = ["ccplan"] + sys.argv[1:]
main()
"""


@pytest.mark.parametrize("case", ["segments", "overnight", "closed days", "far start", "interval"])
def test_input_problems_are_found_before_the_backtest(tmp_path, case):
    p = write(tmp_path, history())
    seg = "a" if case != "segments" else "other"
    base = {"name": "base", "interval_minutes": 60 if case != "interval" else 30, "open_time": "08:00",
            "segments": [{"name": seg, "calls_per_interval": [10] * 10, "aht_s": 300}],
            "agent_groups": [{"name": "team", "skills": [seg], "agents": 5}]}
    if case == "overnight":
        base.update(open_time="20:00", segments=[{"name": "a", "calls_per_interval": [10] * 8, "aht_s": 300}])
    dump(from_dict(base), tmp_path / "base.toml")
    args = ["forecast", str(p), "--interval-minutes", "60", "--scenario", str(tmp_path / "base.toml"),
            "--to-dir", str(tmp_path / "days")]
    args += {"closed days": ["--start", "2026-02-01", "--days", "1"],
             "far start": ["--start", "2028-01-03"]}.get(case, [])
    r = subprocess.run([sys.executable, "-c", _TRAPPED, *args], capture_output=True, text=True, timeout=60, cwd=ROOT,
                       preexec_fn=_limited)
    clean(r)
    assert "BACKTEST STARTED" not in r.stderr and r.returncode == 1, r.stderr
    assert {"segments": "segment 'a': is in the history but not in the scenario", "overnight": "runs past midnight",
            "closed days": "Sunday never had calls", "far start": "at most 365 days",
            "interval": "uses 30-minute intervals"}[case] in r.stderr, r.stderr


# ---- 16. an overnight base scenario; a base day longer than the forecast's

def test_an_overnight_scenario_is_refused_and_a_longer_day_is_kept(tmp_path):
    p = write(tmp_path, history())
    night = from_dict({"name": "night", "interval_minutes": 60, "open_time": "22:00",
                       "segments": [{"name": "a", "calls_per_interval": [10] * 4, "aht_s": 300}],
                       "agent_groups": [{"name": "team", "skills": ["a"], "agents": 5}]})
    dump(night, tmp_path / "night.toml")
    r = run("forecast", p, "--interval-minutes", "60", "--scenario", tmp_path / "night.toml", "--to-dir",
            tmp_path / "n")
    clean(r)
    assert r.returncode == 1 and "22:00–02:00 runs past midnight" in r.stderr, r.stderr
    long_day = from_dict({"name": "long", "interval_minutes": 60, "open_time": "06:00",
                          "segments": [{"name": "a", "calls_per_interval": [10] * 18, "aht_s": 300}],
                          "agent_groups": [{"name": "team", "skills": ["a"], "agents": 5}]})
    dump(long_day, tmp_path / "long.toml")
    r = run("forecast", p, "--interval-minutes", "60", "--start", "2026-02-02", "--days", "1", "--method",
            "mean_4_weeks", "--scenario", tmp_path / "long.toml", "--to-dir", tmp_path / "d")
    clean(r)
    assert r.returncode == 0, r.stderr
    s = load(tmp_path / "d" / "2026-02-02.toml")
    assert s.open_time == "06:00" and s.n_intervals == 18  # kept: 06:00-24:00, not widened
    calls = list(s.calls_per_interval("a"))
    assert calls[:2] == [0.0, 0.0] and calls[-6:] == [0.0] * 6 and sum(calls) > 100


# ---- the same inputs through the app's Forecast page

def test_the_forecast_page_gives_messages_not_exceptions(tmp_path):
    from streamlit.testing.v1 import AppTest

    from ccplan.history import read_history

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("app_pages/forecast.py").run()
    df = history(weeks=5)
    df.loc[(stamp(df) >= "2026-01-26") & (stamp(df) < "2026-02-02"), "offered"] = 0  # a week of zeros
    at.session_state["fc_history"] = read_history(df.to_csv(index=False).encode(), "week.csv")
    at.run()
    assert not at.exception
    at.date_input(key="fc_start").set_value(dt.date(2031, 1, 6)).run()
    at.button(key="fc_run").click().run()
    assert not at.exception and any("at most 365 days" in e.value for e in at.error)
    at.date_input(key="fc_start").set_value(dt.date(2026, 2, 9)).run()
    at.number_input(key="fc_days").set_value(1).run()
    at.button(key="fc_run").click().run()
    assert not at.exception, at.exception
    assert len(at.session_state["fc_result"]["days"]) == 1
    stopped = history()
    stopped.loc[stamp(stopped) >= "2026-01-19", "offered"] = 0  # the last two weeks without a call
    at.session_state["fc_history"] = read_history(stopped.to_csv(index=False).encode(), "stopped.csv")
    at.run()
    at.button(key="fc_run").click().run()
    assert not at.exception, at.exception
    assert any("has had no calls since" in i.value for i in at.info)
    assert (at.session_state["fc_result"]["days"]["forecast"] == 0).all()
