"""`ccplan roster` as a user runs it: the JSON contract, the files it writes, the scenario it hands on."""

import json

import numpy as np
import pandas as pd
import pytest

from ccplan.scenario import load, presets
from planner.staffing import plan
from tests.conftest import ccplan

TELECOM = str(presets()["telecom"])


@pytest.fixture(scope="module")
def telecom_json():
    r = ccplan("roster", TELECOM, "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_json_has_the_contracted_shape(telecom_json):
    out = telecom_json
    assert {"status", "cost", "gap", "groups", "shifts"} <= set(out)
    assert out["status"] == "optimal" and out["gap"] == 0.0
    s = load(TELECOM)
    assert set(out["groups"]) == set(s.group_names)
    for g in out["groups"].values():
        assert {"headcount", "paid_hours", "required", "coverage"} <= set(g)
        assert len(g["required"]) == len(g["coverage"]) == s.n_intervals
        assert all(c >= r for c, r in zip(g["coverage"], g["required"]))
    for row in out["shifts"]:
        assert set(row) >= {"group", "shift", "start", "breaks", "agents"}
        assert len(row["start"]) == 5 and all(len(b) == 5 for b in row["breaks"])
        assert row["agents"] > 0


def test_json_requirement_is_the_analytic_plan_by_default(telecom_json):
    s = load(TELECOM)
    req = plan(s).scheduled
    assert [telecom_json["groups"][g]["required"] for g in s.group_names] == req.tolist()
    assert telecom_json["cover"] == "plan"


def test_headcount_and_paid_hours_add_up_from_the_shifts(telecom_json):
    s = load(TELECOM)
    paid = {sh.name: sh.paid_minutes / 60 for sh in s.shifts}
    for g, body in telecom_json["groups"].items():
        rows = [r for r in telecom_json["shifts"] if r["group"] == g]
        assert body["headcount"] == sum(r["agents"] for r in rows)
        assert body["paid_hours"] == pytest.approx(sum(r["agents"] * paid[r["shift"]] for r in rows))
    rates = {g.name: g.cost_per_hour for g in s.agent_groups}
    assert telecom_json["cost"] == pytest.approx(sum(b["paid_hours"] * rates[g]
                                                     for g, b in telecom_json["groups"].items()))


def test_cover_current_rosters_the_scenarios_own_staffing(tmp_path):
    s = load(presets()["retail_bank"])
    r = ccplan("roster", str(presets()["retail_bank"]), "--cover", "current", "--json")
    out = json.loads(r.stdout)
    assert [out["groups"][g]["required"] for g in s.group_names] == \
        [list(s.agents_per_interval(g)) for g in s.agent_groups]


def test_to_writes_a_scenario_simulate_runs_and_out_writes_tables_and_charts(tmp_path):
    to, out = tmp_path / "rostered.toml", tmp_path / "roster"
    r = ccplan("roster", str(presets()["trainer"]), "--to", str(to), "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "optimal" in r.stdout and "efficiency" in r.stdout
    rostered = load(to)
    cov = pd.read_csv(out / "coverage.csv")
    assert list(rostered.agents_per_interval("team")) == list(np.floor(cov["coverage"] + 1e-9).astype(int))
    for name in ("shifts.csv", "groups.csv", "coverage.png", "shifts.png"):
        assert (out / name).stat().st_size > 0
    sim = ccplan("simulate", str(to), "-r", "3", "--json")
    assert sim.returncode == 0, sim.stderr
    assert set(json.loads(sim.stdout)["segments"]) == {"gold", "silver"}


def test_an_uncoverable_requirement_is_explained_with_exit_code_1(tmp_path):
    text = presets()["retail_bank"].read_text().replace('earliest_start = "08:00"\nlatest_start = "11:30"',
                                                        'earliest_start = "09:00"\nlatest_start = "11:30"')
    text = text.replace('name = "part"\nminutes = 240\nearliest_start = "08:00"',
                        'name = "part"\nminutes = 240\nearliest_start = "09:00"')
    p = tmp_path / "late.toml"
    p.write_text(text)
    r = ccplan("roster", str(p))
    assert r.returncode == 1
    assert "interval 08:00 needs" in r.stderr and "no shift may start before 09:00" in r.stderr
    assert "Traceback" not in r.stderr
    j = ccplan("roster", str(p), "--json")
    assert j.returncode == 1 and json.loads(j.stdout)["status"] == "infeasible"


@pytest.mark.parametrize("args,words", [
    (["--cover", "plans"], "--cover must be plan, verified or current"),
    (["--time-limit", "0"], "--time-limit must be > 0"),
    (["--seed", "3"], "--seed only goes with --cover verified"),
])
def test_bad_options_get_one_clear_message(args, words):
    r = ccplan("roster", TELECOM, *args)
    assert r.returncode == 1 and words in r.stderr and "Traceback" not in r.stderr


def test_a_scenario_without_shift_rules_is_refused(tmp_path):
    p = tmp_path / "noshift.toml"
    text = presets()["trainer"].read_text()
    p.write_text(text[:text.index("# Shift rules for")])
    r = ccplan("roster", str(p))
    assert r.returncode == 1 and "no shift rules" in r.stderr


def test_cover_verified_rosters_the_simulation_verified_staffing(tmp_path):
    to = tmp_path / "verified.toml"
    v = ccplan("staff", str(presets()["trainer"]), "--verify", "-r", "4", "--seed", "7", "--to", str(to))
    assert v.returncode == 0, v.stderr
    r = ccplan("roster", str(presets()["trainer"]), "--cover", "verified", "-r", "4", "--seed", "7", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["groups"]["team"]["required"] == list(load(to).agents_per_interval("team"))
