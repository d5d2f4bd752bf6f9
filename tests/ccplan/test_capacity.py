"""`ccplan capacity` and its use case: the JSON contract, the requirement sources, sweeps, outputs, bad input, and the
chain forecast -> day scenarios -> required FTE -> hiring plan."""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ccplan import capacity as cap
from ccplan.scenario import ScenarioError, dump, from_dict, load
from planner.staffing import plan as staffing_plan
from tests.conftest import ROOT, ccplan
from tests.planner.test_capacity import REQUIRED_26, hand_calculation

EXAMPLE = ROOT / "examples" / "capacity" / "plan.toml"
EXAMPLE_TEXT = EXAMPLE.read_text()
BANK = ROOT / "examples" / "data" / "bank_calls_2003_mar_may.csv"


@pytest.fixture(scope="module")
def optimal_json():
    r = ccplan("capacity", str(EXAMPLE), "--optimize", "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def write_plan(folder: Path, text: str = EXAMPLE_TEXT, csv: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "required.csv").write_text(csv if csv is not None else (EXAMPLE.parent / "required.csv").read_text())
    path = folder / "plan.toml"
    path.write_text(text)
    return path


def problems_of(tmp_path: Path, text: str = EXAMPLE_TEXT, csv: str | None = None) -> str:
    path = write_plan(tmp_path, text, csv)
    with pytest.raises(ScenarioError) as exc:
        p = cap.load_plan(path)
        cap.read_requirement(p)
    return str(exc.value)


# ------------------------------------------------------------------------------------------ the contract


def test_json_has_the_contracted_keys_and_one_row_per_week_and_group(optimal_json):
    out = optimal_json
    assert {"status", "cost", "weeks", "hires"} <= set(out)
    assert out["status"] == "optimal" and out["gap"] == 0.0
    assert len(out["weeks"]) == 26
    for row in out["weeks"]:
        assert {"week", "group", "required_fte", "planned_fte", "in_training", "over_under", "cost"} <= set(row)
        assert row["over_under"] == pytest.approx(row["planned_fte"] - row["required_fte"], abs=1e-12)
    assert [r["required_fte"] for r in out["weeks"]] == REQUIRED_26
    assert out["cost"] == pytest.approx(sum(r["cost"] for r in out["weeks"]), rel=1e-12)
    assert out["cost"] == pytest.approx(sum(out["costs"].values()), rel=1e-12)
    assert out["hires"] and all(set(h) >= {"group", "week", "count"} and h["count"] > 0 for h in out["hires"])
    assert sum(h["count"] for h in out["hires"]) == sum(r["hires"] for r in out["weeks"])


def test_the_optimum_is_shown_beside_no_hiring_and_the_fixed_hires_and_costs_least(optimal_json):
    rows = {r["plan"]: r for r in optimal_json["comparison"]}
    assert set(rows) == {"no hiring", "fixed hires", "optimal"}
    assert rows["optimal"]["cost"] == pytest.approx(optimal_json["cost"])
    assert rows["optimal"]["cost"] <= rows["fixed hires"]["cost"] <= rows["no hiring"]["cost"]
    assert rows["no hiring"]["hires"] == 0 and rows["fixed hires"]["hires"] == 12


def test_the_weeks_equal_a_hand_calculation_through_the_cli():
    r = ccplan("capacity", str(EXAMPLE), "--json")  # the fixed hires: 12 in week 3
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["status"] == "evaluated" and out["plan"] == "fixed hires"
    hand = hand_calculation(100, 0.03, 6, [0.5, 0.75], [(3, 12)], 26, 900, 2500, 3000, REQUIRED_26)
    for row, h in zip(out["weeks"], hand):
        assert abs(row["planned_fte"] - float(h["planned"])) < 1e-9
        assert abs(row["in_training"] - float(h["training"])) < 1e-9
        assert abs(row["cost"] - float(h["cost"])) < 1e-9
    assert abs(out["cost"] - float(sum(h["cost"] for h in hand))) < 1e-8


def test_out_writes_the_tables_and_the_chart_and_keeps_an_existing_folder_without_force(tmp_path):
    out = tmp_path / "out"
    r = ccplan("capacity", str(EXAMPLE), "--optimize", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert {p.name for p in out.iterdir()} == {"weeks.csv", "hiring.csv", "comparison.csv", "requirement.csv",
                                               "capacity.png"}
    weeks = pd.read_csv(out / "weeks.csv")
    assert list(weeks.columns) == list(cap.WEEK_COLUMNS) and len(weeks) == 26
    assert set(pd.read_csv(out / "hiring.csv").columns) >= {"group", "week", "count"}
    assert (out / "capacity.png").stat().st_size > 10_000
    again = ccplan("capacity", str(EXAMPLE), "--out", str(out))
    assert again.returncode == 1 and "--force" in again.stderr and "Traceback" not in again.stderr


def test_the_terminal_report_names_the_plans_classes_and_totals():
    r = ccplan("capacity", str(EXAMPLE), "--optimize")
    assert r.returncode == 0, r.stderr
    for text in ("Hiring plans side by side", "no hiring", "fixed hires", "optimal", "Hiring classes",
                 "over/under", "Total cost"):
        assert text in r.stdout


# ------------------------------------------------------------------------------------------ sweeps


def test_vary_attrition_gives_one_optimal_plan_per_value_in_a_table_and_a_chart(tmp_path):
    out = tmp_path / "sweep"
    r = ccplan("capacity", str(EXAMPLE), "--vary", "attrition_per_month=0.02:0.06:0.01", "--json", "--out", str(out))
    assert r.returncode == 0, r.stderr
    sw = json.loads(r.stdout)["sweep"]
    assert sw["path"] == "attrition_per_month"
    assert [row["value"] for row in sw["table"]] == [0.02, 0.03, 0.04, 0.05, 0.06]
    for row in sw["table"]:
        assert row["status"] == "optimal"
        assert row["cost"] <= row["cost_no_hiring"] and row["cost"] <= row["cost_fixed_hires"]
    hired = [row["hires"] for row in sw["table"]]
    assert hired == sorted(hired) and hired[-1] > hired[0]  # more leavers, more hires
    assert {h["value"] for h in sw["hires"]} == {0.02, 0.03, 0.04, 0.05, 0.06}
    assert {"sweep.csv", "sweep_hires.csv", "sweep.png"} <= {p.name for p in out.iterdir()}


def test_volume_growth_compounds_the_requirement_weekly():
    p = cap.load_plan(EXAMPLE)
    req = cap.read_requirement(p)
    grown = cap.run(cap.varied_plan(p, "volume_growth", 0.01), req).main.weeks
    assert grown["required_fte"].tolist() == pytest.approx([v * 1.01 ** w for w, v in enumerate(REQUIRED_26)],
                                                           rel=1e-14)


def test_a_sweep_of_growth_costs_more_as_volumes_grow():
    p = cap.load_plan(EXAMPLE)
    sw = cap.sweep(p, cap.read_requirement(p), "volume_growth", [0.0, 0.005, 0.01])
    assert sw.table["cost"].is_monotonic_increasing and (sw.table["status"] == "optimal").all()


@pytest.mark.parametrize("spec,expected", [
    ("attrition_per_month=0.5:1.5:0.5", "groups[0].attrition_per_month: must be < 1"),
    ("seed=1,2", "cannot be varied"),
    ("groups.nobody.headcount=1,2", "'nobody' is not in groups"),
    ("attrition_per_month=0.03", "at least two values"),
])
def test_a_bad_vary_is_named_before_any_work(spec, expected):
    p = cap.load_plan(EXAMPLE)
    with pytest.raises(ScenarioError) as exc:
        cap.parse_vary(spec, p)
    assert expected in str(exc.value)


# ------------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize("old,new,expected", [
    ("attrition_per_month = 0.03", "attrition_per_month = 1", "groups[0].attrition_per_month: must be < 1"),
    ('start = "2027-01-04"', 'start = "2027-01-06"', "start: 2027-01-06 is a Wednesday; the horizon starts on a "
                                                     "Monday (e.g. 2027-01-04"),
    ('start = "2027-01-04"', 'start = "next monday"', "start: must be a date YYYY-MM-DD"),
    ("count = 12", "count = 25", "hires[0].count: 25 is above max_class 20 of 'agents'"),
    ("week = 3\n", "week = 4\n", "hires[0].week: week 4 is not a class week of 'agents'"),
    ("training_weeks = 6", "training_weeks = 26", "hiring[0].training_weeks: 26 weeks of training do not fit in the "
                                                  "26-week horizon"),
    ("headcount = 100 ", "", "groups[0].headcount: required field is missing"),
    ("min_class = 0", "min_class = 30", "hiring[0].min_class: 30 is above max_class 20"),
    ("cost_per_fte_week = 900", "cost_per_fte_week = -1", "groups[0].cost_per_fte_week: must be >= 0"),
    ("ramp = [0.5, 0.75]", "ramp = [0.5, 1.5]", "hiring[0].ramp: productivities are shares between 0 and 1"),
    ('requirement = "required.csv"', 'requirement = "required.csv"\nbase_scenario = "x.toml"',
     "requirement: give exactly one requirement source"),
    ('requirement = "required.csv"', 'requirement = "nothere.csv"', "nothere.csv: no such file"),
    ("weeks = 26", "weeks = 26\n[[weeks]]\nweek = 1\nvolume_factor = 1.1",
     "not valid TOML"),
    ("attrition_per_month = 0.03", "atrition_per_month = 0.03", "groups[0].atrition_per_month: unknown key (did you mean "
                                                  "'attrition_per_month'?)"),
])
def test_bad_plans_name_the_field(tmp_path, old, new, expected):
    assert old in EXAMPLE_TEXT
    msg = problems_of(tmp_path, EXAMPLE_TEXT.replace(old, new, 1))
    assert expected in msg


@pytest.mark.parametrize("rows,expected", [
    ("1,agents,98\n2,agnets,99\n", "line 3, group: 'agnets' is not a group of the plan (agents) (did you mean "
                                   "'agents'?)"),
    ("27,agents,98\n", "line 2, week: week 27 is outside the horizon (weeks 1-26)"),
    ("2027-01-05,agents,98\n", "line 2, week: 2027-01-05 is a Tuesday"),
    ("1,agents,-3\n", "line 2, required_fte: must be >= 0"),
    ("1,agents,lots\n", "line 2, required_fte: must be a number"),
    ("1,agents,98\n1,agents,99\n", "line 3, week: week 1 of 'agents' is given twice (also line 2)"),
    ("1,agents,98\n3,agents,98\n", "no requirement for week(s) 2, 4, 5, 6"),
])
def test_a_bad_requirement_csv_is_named_by_line_and_column(tmp_path, rows, expected):
    assert expected in problems_of(tmp_path, csv="week,group,required_fte\n" + rows)


def test_the_requirement_may_name_weeks_by_their_monday_and_repeat_the_last_week(tmp_path):
    path = write_plan(tmp_path, EXAMPLE_TEXT.replace("weeks = 26", "weeks = 26\nrepeat_last_week = true"),
                      "week,group,required_fte\n2027-01-04,agents,90\n2027-01-11,agents,95\n")
    p = cap.load_plan(path)
    req = cap.read_requirement(p)
    assert req.required_fte[0, :3].tolist() == [90, 95, 95] and req.required_fte[0, -1] == 95
    assert any("repeat week 2" in n for n in req.notes)


def test_a_missing_column_a_folder_and_a_fifo_are_refused_by_name(tmp_path):
    assert "missing column(s) required_fte" in problems_of(tmp_path / "a", csv="week,group,fte\n1,agents,3\n")
    folder = tmp_path / "b"
    write_plan(folder)
    (folder / "required.csv").unlink()
    (folder / "required.csv").mkdir()
    with pytest.raises(ScenarioError, match="is a folder"):
        cap.read_requirement(cap.load_plan(folder / "plan.toml"))
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "c"
        write_plan(fifo)
        (fifo / "required.csv").unlink()
        os.mkfifo(fifo / "required.csv")
        with pytest.raises(ScenarioError, match="FIFO"):
            cap.read_requirement(cap.load_plan(fifo / "plan.toml"))


@pytest.mark.parametrize("old,new,expected", [
    ("attrition_per_month = 0.03", "attrition_per_month = 1", "groups[0].attrition_per_month: must be < 1"),
    ("count = 12", "count = 25", "hires[0].count: 25 is above max_class 20"),
])
def test_the_cli_prints_one_message_and_exits_1_without_a_traceback(tmp_path, old, new, expected):
    path = write_plan(tmp_path, EXAMPLE_TEXT.replace(old, new))
    r = ccplan("capacity", str(path), "--optimize")
    assert r.returncode == 1 and expected in r.stderr and "Traceback" not in r.stderr


def test_a_coverage_no_plan_can_reach_exits_1_and_says_which_week(tmp_path):
    path = write_plan(tmp_path, EXAMPLE_TEXT.replace("understaff_penalty_per_fte_week = 3000",
                                                     "understaff_penalty_per_fte_week = 3000\nmin_coverage = 1.0"))
    r = ccplan("capacity", str(path), "--optimize", "--json")
    assert r.returncode == 1
    out = json.loads(r.stdout)
    assert out["status"] == "infeasible" and "week 3" in out["message"] and "'agents'" in out["message"]
    assert out["weeks"] == [] and out["hires"] == []
    text = ccplan("capacity", str(path), "--optimize")
    assert text.returncode == 1 and "no hiring plan: min_coverage" in text.stderr


def test_min_coverage_holds_every_week_in_the_optimum(tmp_path):
    p = cap.plan_from_dict({**cap.load_plan(EXAMPLE).model_dump(mode="python"), "min_coverage": 0.93},
                           need_source=False)
    rep = cap.run(p, cap.read_requirement(p), True)
    w = rep.main.weeks
    assert rep.main.status == "optimal"
    assert (w["planned_fte"] >= 0.93 * w["required_fte"] - 1e-9).all()


# ------------------------------------------------------------------------------------------ other sources


def tiny_day(date: str, calls: float, groups=("agents",)) -> dict:
    return {"name": f"day {date}", "interval_minutes": 60, "open_time": "09:00",
            "segments": [{"name": "all", "calls_per_interval": [calls, calls * 1.5, calls], "aht_s": 300}],
            "agent_groups": [{"name": g, "skills": ["all"], "agents": 5, "shrinkage": 0.2} for g in groups]}


DAYS_PLAN = """start = "2027-01-04"
weeks = 3
requirement_days = "days"
fte_hours = 37.5
[[groups]]
name = "agents"
headcount = 4
attrition_per_month = 0.02
cost_per_fte_week = 700
"""


def test_day_scenarios_give_the_plans_agent_hours_per_iso_week_over_fte_hours(tmp_path):
    days = tmp_path / "days"
    days.mkdir()
    expected = np.zeros(3)
    for k, date in enumerate(["2027-01-04", "2027-01-05", "2027-01-08", "2027-01-11", "2027-01-18", "2027-01-25"]):
        sc = from_dict(tiny_day(date, 40 + 10 * k))
        dump(sc, days / f"{date}.toml")
        week = (np.datetime64(date) - np.datetime64("2027-01-04")).astype(int) // 7
        if week < 3:
            expected[week] += staffing_plan(sc).scheduled.sum() * 1.0  # 60-minute intervals: one hour each
    (tmp_path / "plan.toml").write_text(DAYS_PLAN)
    p = cap.load_plan(tmp_path / "plan.toml")
    seen = []
    req = cap.read_requirement(p, progress=lambda d, t: seen.append((d, t)))
    assert req.required_fte[0].tolist() == pytest.approx((expected / 37.5).tolist(), rel=1e-12)
    assert seen[-1] == (5, 5)
    assert req.table["days"].tolist() == [3, 1, 1]
    assert any("2027-01-25" in n and "left out" in n for n in req.notes)  # after the horizon
    assert any("fewer day scenarios" in n for n in req.notes)


def test_day_scenarios_must_be_named_by_date_and_hold_the_plans_groups(tmp_path):
    days = tmp_path / "days"
    days.mkdir()
    dump(from_dict(tiny_day("x", 40)), days / "monday.toml")
    (tmp_path / "plan.toml").write_text(DAYS_PLAN)
    with pytest.raises(ScenarioError, match="monday.toml is not named YYYY-MM-DD.toml"):
        cap.read_requirement(cap.load_plan(tmp_path / "plan.toml"))
    (days / "monday.toml").unlink()
    dump(from_dict(tiny_day("x", 40, ("agents", "experts"))), days / "2027-01-04.toml")
    with pytest.raises(ScenarioError, match="agent group 'experts' is not a group of the capacity plan"):
        cap.read_requirement(cap.load_plan(tmp_path / "plan.toml"))


ROSTERS_PLAN = DAYS_PLAN.replace('requirement_days = "days"', 'requirement_rosters = "weeks"')


def test_weekly_roster_json_gives_its_fte_by_monday_number_or_week_start(tmp_path):
    weeks = tmp_path / "weeks"
    weeks.mkdir()
    (weeks / "2027-01-04.json").write_text(json.dumps({"headcount": {"agents": 5}, "fte": {"agents": 4.5}}))
    (weeks / "week02.json").write_text(json.dumps({"headcount": {"agents": 6}, "fte": {"agents": 5.25}}))
    (weeks / "third.json").write_text(json.dumps({"week_start": "2027-01-18", "headcount": {"agents": 6},
                                                  "fte": {"agents": 5.5}, "shifts": []}))
    (weeks / "roster.json").write_text(json.dumps({  # as roster --week --json prints it: the week's days listed
        "status": "optimal", "week": [{"date": "2027-01-25", "weekday": "Mon", "open": True},
                                      {"date": "2027-01-26", "weekday": "Tue", "open": True}],
        "headcount": {"agents": 7}, "fte": {"agents": 6.125}}))
    (tmp_path / "plan.toml").write_text(ROSTERS_PLAN.replace("weeks = 3", "weeks = 4"))
    req = cap.read_requirement(cap.load_plan(tmp_path / "plan.toml"))
    assert req.required_fte[0].tolist() == [4.5, 5.25, 5.5, 6.125]
    assert req.table["roster_headcount"].tolist() == [5, 6, 6, 7]


@pytest.mark.parametrize("body,expected", [
    ({"headcount": {"agents": 5}}, "fte: missing"),
    ({"fte": {"agnets": 3}}, "fte.agnets: 'agnets' is not a group of the plan"),
    ({"fte": {"agents": -1}}, "fte.agents: must be a number >= 0"),
    ({"status": "infeasible", "message": "no shift covers 07:00", "fte": {}}, "holds no roster (status "
                                                                           "'infeasible': no shift covers 07:00)"),
])
def test_a_bad_weekly_roster_is_named(tmp_path, body, expected):
    weeks = tmp_path / "weeks"
    weeks.mkdir()
    (weeks / "2027-01-04.json").write_text(json.dumps(body))
    (tmp_path / "plan.toml").write_text(ROSTERS_PLAN)
    with pytest.raises(ScenarioError) as exc:
        cap.read_requirement(cap.load_plan(tmp_path / "plan.toml"))
    assert expected in str(exc.value)


def test_a_base_scenario_times_weekly_volume_factors_is_the_plan_of_the_scaled_day(tmp_path):
    base = from_dict(tiny_day("base", 60))
    dump(base, tmp_path / "day.toml")
    (tmp_path / "plan.toml").write_text(DAYS_PLAN.replace('requirement_days = "days"', 'base_scenario = "day.toml"')
                                        .replace("fte_hours = 37.5", "fte_hours = 40\nopen_days_per_week = 6")
                                        + "[[volume_factors]]\nweek = 2\nvolume_factor = 1.5\n")
    req = cap.read_requirement(cap.load_plan(tmp_path / "plan.toml"))
    one = staffing_plan(base).scheduled.sum() * 6 / 40
    scaled = staffing_plan(base.with_changes({"segments.all.calls_per_interval": [90.0, 135.0, 90.0]}))
    assert req.required_fte[0].tolist() == pytest.approx([one, scaled.scheduled.sum() * 6 / 40, one])
    assert req.required_fte[0, 1] > req.required_fte[0, 0]


def test_volume_factors_need_a_base_scenario(tmp_path):
    text = EXAMPLE_TEXT + "\n[[volume_factors]]\nweek = 2\nvolume_factor = 1.5\n"
    assert "volume_factors: goes with base_scenario" in problems_of(tmp_path, text)


def test_the_growth_example_meets_its_coverage_with_classes_of_three_or_more():
    rep = cap.run(p := cap.load_plan(ROOT / "examples" / "capacity" / "growth.toml"), cap.read_requirement(p), True)
    assert rep.main.status == "optimal" and rep.main.coverage_misses == 0
    assert (rep.main.hires["count"] >= 3).all() and (rep.main.hires["count"] <= 8).all()
    assert rep.main.cost <= rep.outcomes["no hiring"].cost


# ------------------------------------------------------------------------------------------ the chain


def test_chain_forecast_to_day_scenarios_to_required_fte_to_a_hiring_plan(tmp_path):
    """docs/capacity.md, "From a forecast": 8 weeks of forecast from the bank sample, one scenario per open day,
    the required FTE per week from their analytic plans, the optimal hiring plan (about 30 s on 2 cores)."""
    shutil.copy(ROOT / "examples" / "capacity" / "forecast_plan.toml", tmp_path / "plan.toml")
    fc = ccplan("forecast", str(BANK), "--start", "2003-05-26", "--days", "56", "--scenario",
                str(ROOT / "examples" / "roster_day.toml"), "--to-dir", str(tmp_path / "days"))
    assert fc.returncode == 0, fc.stderr
    assert len(list((tmp_path / "days").glob("*.toml"))) == 40  # weekdays only: the bank is closed at weekends
    r = ccplan("capacity", str(tmp_path / "plan.toml"), "--optimize", "--json", "--out", str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["status"] == "optimal" and len(out["weeks"]) == 26 and out["hires"]
    # week 1 by hand: the five days' scheduled agent-hours / 40
    first = sum(staffing_plan(load(tmp_path / "days" / f"2003-05-{d}.toml")).scheduled.sum() * 0.5
                for d in (26, 27, 28, 29, 30))
    assert out["weeks"][0]["required_fte"] == pytest.approx(first / 40, rel=1e-12)
    assert out["weeks"][-1]["required_fte"] == out["weeks"][7]["required_fte"]  # repeat_last_week
    rows = {c["plan"]: c for c in out["comparison"]}
    assert rows["optimal"]["cost"] <= rows["no hiring"]["cost"]
    assert (tmp_path / "out" / "capacity.png").exists()
