"""`ccplan roster --week` as a user runs it: the JSON contract, the files it writes, the day scenarios it hands
on, and one clear message for every week or contract it cannot roster."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ccplan.scenario import dumps, from_dict, load
from tests.conftest import ccplan

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "week"

SHIFTS = [
    {"name": "long", "minutes": 240, "earliest_start": "08:00", "latest_start": "09:00",
     "breaks": [{"minutes": 30, "earliest_after_minutes": 90, "latest_after_minutes": 150}]},
    {"name": "short", "minutes": 120, "earliest_start": "08:00", "latest_start": "11:00"},
]
CONTRACTS = [
    {"name": "ft", "shifts": ["long"], "days_per_week": [2, 3], "start_band_minutes": 30},
    {"name": "pt", "shifts": ["short"], "days_per_week": [1, 2], "start_band_minutes": 60, "max_agents": 3},
]


def day(calls: float, contracts=CONTRACTS, **extra) -> dict:
    """A small day, 08:00-13:00 in half-hours, one team; its volumes scale with ``calls``."""
    data = {"name": "small", "interval_minutes": 30, "open_time": "08:00",
            "segments": [{"name": "all", "calls_per_interval": [calls] * 10, "aht_s": 300}],
            "agent_groups": [{"name": "team", "skills": ["all"], "cost_per_hour": 20, "agents": 3}],
            "shifts": SHIFTS, **extra}
    if contracts:
        data["contracts"] = contracts
    return data


def write_week(folder: Path, calls: dict[str, float], **kw) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for date, c in calls.items():
        (folder / f"{date}.toml").write_text(dumps(from_dict(day(c, **kw))))
    return folder


@pytest.fixture
def small(tmp_path) -> Path:
    """Monday to Thursday open, Friday to Sunday closed."""
    return write_week(tmp_path / "week", {"2026-03-02": 30, "2026-03-03": 24, "2026-03-04": 20, "2026-03-05": 12})


@pytest.fixture
def small_json(small):
    r = ccplan("roster", "--week", str(small), "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_json_has_the_contracted_shape(small_json):
    out = small_json
    assert {"status", "gap", "cost", "paid_hours", "headcount", "fte", "daily_lower_bound_cost", "agents",
            "coverage"} <= set(out)
    assert out["status"] == "optimal" and out["gap"] == 0.0
    assert set(out["headcount"]) == set(out["fte"]) == {"team"}
    assert out["headcount"]["team"] == len(out["agents"])
    assert out["fte"]["team"] == pytest.approx(out["paid_hours"] / 40)
    for a in out["agents"]:
        assert {"agent", "contract", "group", "days"} <= set(a)
        assert a["contract"] in ("ft", "pt") and a["group"] == "team"
        for d in a["days"]:
            assert {"date", "start", "end", "breaks"} <= set(d)
            assert all({"start", "minutes", "paid"} <= set(b) for b in d["breaks"])
    assert [a["agent"] for a in out["agents"]] == list(range(1, len(out["agents"]) + 1))
    dates = {c["date"] for c in out["coverage"]}
    assert dates == {"2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05"}
    for c in out["coverage"]:
        assert {"date", "interval", "group", "required", "covered"} <= set(c)
        assert c["covered"] >= c["required"] - 1e-9
    assert [d["open"] for d in out["week"]] == [True] * 4 + [False] * 3


def test_the_requirement_is_each_days_analytic_plan_and_the_lower_bound_is_below_the_cost(small, small_json):
    from planner.staffing import plan

    for date in ("2026-03-02", "2026-03-05"):
        req = plan(load(small / f"{date}.toml")).scheduled[0]
        got = [c["required"] for c in small_json["coverage"] if c["date"] == date]
        assert got == list(req)
    assert small_json["daily_lower_bound_cost"] <= small_json["cost"] + 1e-6
    assert small_json["premium"] == pytest.approx(small_json["cost"] / small_json["daily_lower_bound_cost"] - 1)


def test_out_and_to_dir_write_the_tables_the_charts_and_each_days_scenario(small, tmp_path):
    out, days = tmp_path / "roster", tmp_path / "days"
    r = ccplan("roster", "--week", str(small), "--out", str(out), "--to-dir", str(days))
    assert r.returncode == 0, r.stderr
    assert "optimal" in r.stdout and "FTE" in r.stdout and "Day-by-day optimum" in r.stdout
    for name in ("agents.csv", "tours.csv", "coverage.csv", "groups.csv", "contracts.csv", "days.csv", "gantt.png",
                 "coverage.png"):
        assert (out / name).stat().st_size > 0, name
    agents = pd.read_csv(out / "agents.csv")
    assert not agents.duplicated(["agent", "date"]).any()  # one row per agent-day
    assert set(agents.columns) >= {"agent", "contract", "group", "date", "start", "end", "breaks", "paid_hours"}
    cov = pd.read_csv(out / "coverage.csv")
    assert sorted(p.name for p in days.iterdir()) == [f"2026-03-0{k}.toml" for k in (2, 3, 4, 5)]
    for p in days.iterdir():
        mine = cov[cov["date"] == p.stem].sort_values("interval")
        assert list(load(p).agents_per_interval("team")) == list(np.floor(mine["covered"] + 1e-9).astype(int))
    sim = ccplan("simulate", str(days / "2026-03-02.toml"), "-r", "2", "--json")
    assert sim.returncode == 0, sim.stderr


def test_contracts_from_a_file_replace_the_day_scenarios_own(small, tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('[[contracts]]\nname = "only"\nshifts = ["long", "short"]\ndays_per_week = [1, 4]\n')
    r = ccplan("roster", "--week", str(small), "--contracts", str(f), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert {a["contract"] for a in out["agents"]} == {"only"}
    assert out["contracts_from"] == str(f) and any("replaced" in n for n in out["notes"])


def test_a_week_of_day_scenarios_without_contracts_takes_them_from_a_file(tmp_path):
    week = write_week(tmp_path / "w", {"2026-03-02": 20, "2026-03-03": 20}, contracts=None)
    f = tmp_path / "c.toml"
    f.write_text('[[contracts]]\nname = "two"\nshifts = ["long"]\ndays_per_week = 2\nstart_band_minutes = 0\n')
    r = ccplan("roster", "--week", str(week), "--contracts", str(f), "--fte-hours", "37.5", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["fte_hours"] == 37.5 and out["fte"]["team"] == pytest.approx(out["paid_hours"] / 37.5)
    for a in out["agents"]:
        assert len({d["start"] for d in a["days"]}) == 1  # band 0: the same start both days


def test_an_uncoverable_week_names_the_day_the_interval_and_the_rule(tmp_path):
    early = day(20)
    early["open_time"] = "07:00"
    early["segments"][0]["calls_per_interval"] = [20.0] * 12
    week = write_week(tmp_path / "w", {"2026-03-02": 20})
    (week / "2026-03-03.toml").write_text(dumps(from_dict(early)))
    r = ccplan("roster", "--week", str(week))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "2026-03-03 (Tuesday), interval 07:00 needs" in r.stderr and "no contract's shift may start" in r.stderr
    j = ccplan("roster", "--week", str(week), "--json")
    assert j.returncode == 1 and json.loads(j.stdout)["status"] == "infeasible"


def test_days_per_week_above_the_open_days_is_refused_naming_the_contract(tmp_path):
    week = write_week(tmp_path / "w", {"2026-03-02": 20, "2026-03-03": 20},
                      contracts=[{"name": "five", "shifts": ["long"], "days_per_week": 5}])
    r = ccplan("roster", "--week", str(week))
    assert r.returncode == 1
    assert "contract 'five': days_per_week 5 exceeds the 2 open days of the week" in r.stderr


def test_no_roster_in_time_writes_nothing(small, tmp_path):
    out, days = tmp_path / "o", tmp_path / "d"
    r = ccplan("roster", "--week", str(small), "--time-limit", "0.001", "--out", str(out), "--to-dir", str(days))
    assert r.returncode == 1
    assert "no roster found within the time limit" in r.stderr and "raise --time-limit" in r.stderr
    assert not out.exists() and not days.exists()


@pytest.mark.parametrize("args,words", [
    ([], "give a scenario file (ccplan roster SCENARIO) or a folder of day scenarios"),
    (["{scenario}", "--week", "{week}"], "not both"),
    (["--week", "{week}", "--to", "x.toml"], "--to writes one day's scenario; with --week use --to-dir"),
    (["{scenario}", "--contracts", "c.toml"], "--contracts only goes with --week DIR"),
    (["{scenario}", "--to-dir", "d"], "--to-dir only goes with --week DIR"),
    (["{scenario}", "--fte-hours", "38"], "--fte-hours only goes with --week DIR"),
    (["--week", "{week}", "--fte-hours", "0"], "--fte-hours must be > 0"),
    (["--week", "{week}", "--time-limit", "0"], "--time-limit must be > 0"),
    (["--week", "{week}", "--cover", "plans"], "--cover must be plan, verified or current"),
    (["--week", "{week}", "--seed", "3"], "--seed only goes with --cover verified"),
    (["--week", "{week}", "--to-dir", "{week}"], "the folder is not empty"),
    (["--week", "{week}", "--to-dir", "{week}", "--force"], "that is an input"),
    (["--week", "{missing}"], "no such folder"),
    (["--week", "{empty}"], "no day scenarios (YYYY-MM-DD.toml"),
])
def test_bad_invocations_get_one_clear_message(small, tmp_path, args, words):
    (tmp_path / "empty").mkdir()
    fill = {"scenario": str(small / "2026-03-02.toml"), "week": str(small), "missing": str(tmp_path / "nope"),
            "empty": str(tmp_path / "empty")}
    r = ccplan("roster", *[a.format(**fill) for a in args])
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert words in r.stderr and "Traceback" not in r.stderr


def test_dates_beyond_one_week_are_refused(tmp_path):
    week = write_week(tmp_path / "w", {"2026-03-02": 20, "2026-03-10": 20})
    r = ccplan("roster", "--week", str(week))
    assert r.returncode == 1 and "a week is at most 7 consecutive dates" in r.stderr


def test_day_scenarios_whose_contracts_differ_are_refused(tmp_path):
    week = write_week(tmp_path / "w", {"2026-03-02": 20})
    other = [dict(CONTRACTS[0], days_per_week=[1, 3]), CONTRACTS[1]]
    (week / "2026-03-03.toml").write_text(dumps(from_dict(day(20, contracts=other))))
    r = ccplan("roster", "--week", str(week))
    assert r.returncode == 1 and "[[contracts]] differ" in r.stderr and "--contracts" in r.stderr


def test_day_scenarios_without_contracts_are_refused(tmp_path):
    week = write_week(tmp_path / "w", {"2026-03-02": 20}, contracts=None)
    r = ccplan("roster", "--week", str(week))
    assert r.returncode == 1 and "no contracts: add [[contracts]]" in r.stderr


CONTRACT_FILE_BAD = [
    ('days_per_week = 9', "contracts[0].days_per_week: must be between 1 and 7 days"),
    ('days_per_week = [4, 2]', "contracts[0].days_per_week: the minimum 4 is above the maximum 2"),
    ('days_per_week = 2\nshifts = ["lung"]',
     "contracts[0].shifts[0]: names no shift rule: 'lung' (did you mean 'long'?)"),
    ('days_per_week = 2\ngroups = ["teem"]', "contracts[0].groups[0]: names no agent group: 'teem'"),
    ('days_per_week = 2\nmin_agents = 4\nmax_agents = 1', "contracts[0].min_agents: is 4, more than max_agents 1"),
    ('days_per_week = 2\nstart_band_minutes = -1', "contracts[0].start_band_minutes: must be >= 0"),
    ('days_per_week = 2\ndays_off = true', "contracts[0].days_off: unknown key"),
]


@pytest.mark.parametrize("body,words", CONTRACT_FILE_BAD)
def test_a_bad_contract_in_a_file_gets_one_message_naming_the_contract_and_the_field(small, tmp_path, body, words):
    f = tmp_path / "c.toml"
    text = '[[contracts]]\nname = "steady"\n' + body + "\n"
    if "shifts" not in body:
        text += 'shifts = ["long"]\n'
    f.write_text(text)
    r = ccplan("roster", "--week", str(small), "--contracts", str(f))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    problems = [line for line in r.stderr.splitlines() if line.startswith(("error", "contracts["))]
    assert len(problems) == 1, r.stderr
    assert words in r.stderr and "(contract 'steady')" in r.stderr


def test_the_day_roster_keeps_working_with_a_scenario_argument():
    r = ccplan("roster", str(ROOT / "examples" / "roster_day.toml"), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["status"] == "optimal" and "shifts" in out and "agents" not in out


def test_the_example_week_rosters_with_a_premium_under_ten_percent():
    r = ccplan("roster", "--week", str(EXAMPLE), "--time-limit", "15", "--json")  # 10 s: premium 5.7%
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["status"] in ("optimal", "time limit")
    assert 0 <= out["premium"] < 0.10
    assert set(out["headcount"]) == {"service", "sales"}
    assert {a["contract"] for a in out["agents"]} == {"full_time", "part_time_service", "part_time_sales"}
    assert any("contracts_strict.toml" in n for n in out["notes"])
