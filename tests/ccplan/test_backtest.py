"""`ccplan backtest`: the whole chain (forecast -> staff -> simulate on the actual volumes) judged on real days."""

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from ccplan import backtesting as chain
from ccplan.history import read_history, synthetic_history
from ccplan.scenario import dump, from_dict, load
from tests.conftest import ccplan

ROOT = Path(__file__).resolve().parents[2]
BANK = str(ROOT / "examples" / "data" / "bank_calls_2003_mar_may.csv")
BASE = str(ROOT / "examples" / "bank_backtest.toml")


@pytest.fixture(scope="module")
def bank_week(tmp_path_factory):
    out = tmp_path_factory.mktemp("chain") / "out"
    r = ccplan("backtest", BANK, "--scenario", BASE, "--origins", "1", "--days", "7", "--out", str(out), "--json")
    return r, out


def test_the_json_is_the_contract(bank_week):
    r, _ = bank_week
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert [o["origin"] for o in out["origins"]] == ["2003-05-19"]  # the latest origin the history allows
    days = out["origins"][0]["days"]
    assert [d["date"] for d in days] == ["2003-05-19", "2003-05-20", "2003-05-21", "2003-05-22", "2003-05-23"]
    for d in days:
        assert {"date", "service_level", "agent_hours", "cost", "oracle_agent_hours", "oracle_service_level",
                "naive_service_level", "naive_agent_hours"} <= set(d)
        assert set(d["service_level"]) == {"calls"} and 0 <= d["service_level"]["calls"] <= 1
        assert d["oracle_calls_planned"] == pytest.approx(d["calls"])  # the oracle is staffed on what came
        assert d["agent_hours"] > 0 and d["cost"] > 0
    s = out["summary"]
    assert {"intervals_meeting_target", "days_meeting_target", "agent_hours", "oracle_agent_hours", "naive",
            "oracle", "cost_of_forecast_error"} <= set(s)
    assert {"intervals_meeting_target", "days_meeting_target", "agent_hours", "cost"} <= set(s["naive"])
    assert s["agent_hours"] == pytest.approx(sum(d["agent_hours"] for d in days))
    assert s["oracle_agent_hours"] == pytest.approx(sum(d["oracle_agent_hours"] for d in days))


def test_out_writes_the_tables_and_the_chart(bank_week):
    _, out = bank_week
    days = pd.read_csv(out / "days.csv")
    assert set(days["kind"]) == {"forecast", "oracle", "naive"} and len(days) == 15
    intervals = pd.read_csv(out / "intervals.csv")
    assert len(intervals) == 15 * 29 and {"service_level", "meets_target", "agents", "calls_actual"} <= set(intervals)
    assert (out / "backtest.png").stat().st_size > 0 and (out / "summary.csv").exists()


def test_the_terminal_says_the_work_before_starting_and_prints_the_days():
    r = ccplan("backtest", BANK, "--scenario", BASE, "--origins", "1", "--days", "3")
    assert r.returncode == 0, r.stderr
    assert "simulated day(s) × 3 staffings (analytic plan)" in r.stderr and "calls" in r.stderr
    assert "oracle (actual volumes)" in r.stdout and "2003-05-22" in r.stdout  # 3 days from Thursday: 2 open


def test_a_higher_quantile_buys_intervals_meeting_the_target_with_agents():
    h = read_history(BANK)
    base = load(BASE)
    summaries = {}
    for q in (0.5, 0.9):
        job = chain.prepare(h, base, origins=1, days=7, quantile=q, replications=1)  # 50% -> 92% of intervals
        summaries[q] = chain.run(job).summary()
    lo, hi = summaries[0.5]["forecast"], summaries[0.9]["forecast"]
    assert hi["intervals_meeting_target"] > lo["intervals_meeting_target"]
    assert hi["agent_hours"] > lo["agent_hours"] and hi["cost"] > lo["cost"]
    assert summaries[0.5]["oracle"]["agent_hours"] == summaries[0.9]["oracle"]["agent_hours"]  # no forecast in it


def _short_history(tmp_path: Path, weeks: int) -> Path:
    p = tmp_path / "h.csv"
    synthetic_history(weeks=weeks, segments={"a": 600.0}, bucket_minutes=60, open_time="08:00",
                      close_time="18:00").to_csv(p, index=False)
    return p


def _small_base(tmp_path: Path, segments: tuple[str, ...] = ("a",)) -> Path:
    base = from_dict({"name": "small", "interval_minutes": 60, "open_time": "08:00",
                      "segments": [{"name": s, "calls_per_interval": [50] * 10, "aht_s": 240, "patience_s": 300}
                                   for s in segments],
                      "agent_groups": [{"name": "team", "skills": list(segments), "agents": 10, "cost_per_hour": 20}],
                      "simulation": {"replications": 2, "seed": 1}})
    dump(base, tmp_path / "base.toml")
    return tmp_path / "base.toml"


def test_a_history_shorter_than_the_first_origin_needs_is_one_clear_error(tmp_path):
    r = ccplan("backtest", str(_short_history(tmp_path, 4)), "--scenario", str(_small_base(tmp_path)))
    assert r.returncode == 1 and "shorter than the first origin needs" in r.stderr, r.stderr
    assert "5 weeks of history before it" in r.stderr and "Traceback" not in r.stderr


def test_more_origins_than_the_history_allows_says_how_many_it_allows():
    r = ccplan("backtest", BANK, "--scenario", BASE, "--origins", "5")
    assert r.returncode == 1 and "the history allows 4 origin(s)" in r.stderr and "--origins 4" in r.stderr, r.stderr


def test_a_scenario_whose_segments_the_history_lacks_is_refused(tmp_path):
    r = ccplan("backtest", str(_short_history(tmp_path, 8)), "--scenario", str(_small_base(tmp_path, ("a", "b"))))
    assert r.returncode == 1 and "segment 'b'" in r.stderr and "has no history" in r.stderr, r.stderr
    r = ccplan("backtest", BANK, "--scenario", "scenarios/retail_bank.toml")
    assert r.returncode == 1 and "no segment column" in r.stderr and "Traceback" not in r.stderr, r.stderr


@pytest.mark.parametrize("args,words", [(["--country", "XX"], "--country 'XX'"), (["--quantile", "1"], "--quantile"),
                                        (["--days", "40"], "--days must be between 1 and 28"),
                                        (["--replications", "0"], "--replications")])
def test_bad_options_get_one_clear_message(args, words):
    r = ccplan("backtest", BANK, "--scenario", BASE, *args)
    assert r.returncode == 1 and words in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_verify_staffs_by_simulation_and_the_oracle_then_meets_its_targets(tmp_path):
    hist = _short_history(tmp_path, 8)
    r = ccplan("backtest", str(hist), "--scenario", str(_small_base(tmp_path)), "--origins", "1", "--days", "2",
               "--verify", "--replications", "2", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["staffing"] == "verify" and len(out["origins"][0]["days"]) == 2
    assert out["summary"]["oracle"]["service_level"] >= 0.75


def test_a_forecast_at_an_origin_is_the_one_ccplan_forecast_makes_from_the_history_before_it():
    h = read_history(BANK)
    job = chain.prepare(h, load(BASE), origins=1, days=7)
    f, naive, _ = chain._forecasts_at(job, job.origins[0])
    cut = chain._truncated(h, job.origins[0])
    assert cut.dates[-1] == dt.date(2003, 5, 16)
    from ccplan import forecasting

    p = forecasting.prepare(cut, 30, job.origins[0], 7, "auto", 0.5)
    alone = forecasting.run(p).intervals
    assert (f["q"].to_numpy() == pytest.approx(alone["q"].to_numpy()))
    assert set(naive["method"]) == {"mean_4_weeks"}
