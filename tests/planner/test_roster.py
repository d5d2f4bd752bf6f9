"""Rosters: optimal against an independent formulation, coverage recomputed from the listed shifts,
clear reasons when a requirement cannot be covered."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import LinearConstraint, milp

from ccplan.scenario import ScenarioError, from_dict, load, presets, to_dict
from planner import roster
from planner.staffing import plan

ROOT = Path(__file__).resolve().parents[2]
DAY28 = ROOT / "examples" / "roster_day.toml"


def _minutes(hhmm: str, open_hhmm: str) -> int:
    h, m = map(int, hhmm.split(":"))
    oh, om = map(int, open_hhmm.split(":"))
    return (h * 60 + m - oh * 60 - om) % 1440


def coverage_from_listing(scenario, shifts) -> np.ndarray:
    """Agents on duty and not on break per interval and group, minute by minute from the listed shifts."""
    day = scenario.n_intervals * scenario.interval_minutes
    per_minute = np.zeros((len(scenario.agent_groups), day))
    for r in shifts.itertuples():
        g = scenario.group_names.index(r.group)
        s = _minutes(r.start, scenario.open_time)
        e = s + next(sh.minutes for sh in scenario.shifts if sh.name == r.shift)
        on = np.zeros(day)
        on[s:e] = 1
        for b, length in zip(r.breaks, r.break_minutes):
            bs = _minutes(b, scenario.open_time)
            assert s <= bs and bs + length <= e, "a break outside its shift"
            assert on[bs:bs + length].all(), "overlapping breaks"
            on[bs:bs + length] = 0
        per_minute[g] += r.agents * on
    return per_minute.reshape(len(scenario.agent_groups), scenario.n_intervals, -1).mean(axis=2)


def explicit_optimum(scenario, required: np.ndarray) -> float:
    """Dantzig's set-covering model: one column per group x shift x start x break combination, coverage
    minute by minute. An independent formulation of the same problem (one group, one break at most)."""
    day = scenario.n_intervals * scenario.interval_minutes
    step = scenario.interval_minutes
    cols, costs, shift_of = [], [], []
    for k, sh in enumerate(scenario.shifts):
        first, last = _minutes(sh.earliest_start, scenario.open_time), _minutes(sh.latest_start, scenario.open_time)
        for s in range(first, last + 1, sh.start_every_minutes or step):
            assert len(sh.breaks) <= 1
            offsets = [None] if not sh.breaks else range(sh.breaks[0].earliest_after_minutes,
                                                          sh.breaks[0].latest_after_minutes + 1,
                                                          sh.breaks[0].start_every_minutes or step)
            for w in offsets:
                on = np.zeros(day)
                on[s:s + sh.minutes] = 1
                if w is not None:
                    on[s + w:s + w + sh.breaks[0].minutes] = 0
                cols.append(on.reshape(scenario.n_intervals, -1).mean(axis=1))
                costs.append(sh.paid_minutes / 60 * scenario.agent_groups[0].cost_per_hour)
                shift_of.append(k)
    a = np.array(cols).T
    cons = [LinearConstraint(a, required[0], np.inf)]
    for k, sh in enumerate(scenario.shifts):
        if sh.max_agents is not None:
            cons.append(LinearConstraint((np.array(shift_of) == k).astype(float)[None, :], 0, sh.max_agents))
    res = milp(np.array(costs), constraints=cons, integrality=np.ones(len(costs)),
               options={"mip_rel_gap": 0.0})
    assert res.status == 0
    return float(res.fun)


def test_the_28_interval_day_is_solved_to_proven_optimality_and_matches_an_independent_formulation():
    s = load(DAY28)
    assert s.n_intervals == 28
    req = plan(s).scheduled
    r = roster.solve(s, req)
    assert r.status == "optimal" and r.gap == 0.0
    assert r.cost == pytest.approx(explicit_optimum(s, req), rel=1e-9)


@pytest.mark.parametrize("name", sorted(presets()))
def test_reported_coverage_is_what_the_listed_shifts_give_and_covers_the_requirement(name):
    s = load(presets()[name])
    req = plan(s).scheduled
    r = roster.solve(s, req)
    assert r.status == "optimal", r.message
    listed = coverage_from_listing(s, r.shifts)
    assert np.allclose(listed, r.coverage_matrix, atol=1e-9)
    assert np.all(listed >= req - 1e-9)
    assert np.all(r.scheduled() >= req)


@pytest.mark.parametrize("name", sorted(presets()))
def test_roster_cost_and_hours_add_up(name):
    s = load(presets()[name])
    r = roster.solve(s, plan(s).scheduled)
    rates = {g.name: g.cost_per_hour for g in s.agent_groups}
    assert r.cost == pytest.approx(sum(x.agents * x.paid_hours * rates[x.group] for x in r.shifts.itertuples()))
    for g in r.groups.itertuples():
        mine = r.shifts[r.shifts["group"] == g.group]
        assert g.headcount == mine["agents"].sum()
        assert g.required_hours == pytest.approx(r.required[s.group_names.index(g.group)].sum() * s.interval_minutes / 60)
        assert 0 < g.efficiency <= 1


def test_roster_scenario_keeps_every_key_but_the_staffing():
    s = load(presets()["retail_bank"])
    r = roster.solve(s, plan(s).scheduled)
    out = r.to_scenario()
    for g_in, g_out in zip(s.agent_groups, out.agent_groups):
        assert g_out.shrinkage == g_in.shrinkage and g_out.cost_per_hour == g_in.cost_per_hour
    assert [list(out.agents_per_interval(g)) for g in out.agent_groups] == r.scheduled().tolist()
    a, b = to_dict(s), to_dict(out)
    for d in (a, b):
        for g in d["agent_groups"]:
            g.pop("agents", None), g.pop("agents_per_interval", None)
    assert a == b


def test_a_break_shorter_than_an_interval_counts_as_the_fraction_it_takes():
    s = load(presets()["trainer"])
    req = np.full((1, s.n_intervals), 4)
    only_sessions = s.with_changes({"shifts": [to_dict(s)["shifts"][0]]})
    r = roster.solve(only_sessions, req)
    # 4-hour sessions with a 15-min break in 30-min intervals: the break interval has 3.5 agents per 4
    assert r.status == "optimal"
    on_break = r.coverage_matrix[0] % 1
    assert set(np.round(on_break, 6)) <= {0.0, 0.5}
    assert np.all(r.coverage_matrix[0] >= 4)


def test_uncoverable_early_interval_is_named():
    s = load(DAY28)
    late = s.with_changes({"shifts": [dict(to_dict(s)["shifts"][0], earliest_start="08:00"),
                                      dict(to_dict(s)["shifts"][1], earliest_start="08:00")]})
    r = roster.solve(late, plan(late).scheduled)
    assert r.status == "infeasible" and not r.ok
    assert r.message.startswith("interval 07:00 needs") and "no shift may start before 08:00" in r.message


def test_caps_that_cannot_reach_the_peak_are_named():
    s = load(DAY28)
    d = to_dict(s)
    capped = s.with_changes({"shifts": [dict(d["shifts"][0], max_agents=5), d["shifts"][1]]})
    r = roster.solve(capped, plan(capped).scheduled)
    assert r.status == "infeasible"
    assert "at most 17 agents" in r.message and "max_agents" in r.message


def test_group_without_shift_rules_is_named():
    s = load(presets()["retail_bank"])
    d = to_dict(s)
    only_generalists = s.with_changes({"shifts": [dict(sh, groups=["generalists"]) for sh in d["shifts"]]})
    r = roster.solve(only_generalists, plan(only_generalists).scheduled)
    assert r.status == "infeasible" and "group 'senior'" in r.message and "no shift rule" in r.message


def test_scenario_without_shifts_is_refused():
    s = load(presets()["retail_bank"]).with_changes({"shifts": []})
    with pytest.raises(roster.RosterError, match="no shift rules"):
        roster.solve(s, plan(s).scheduled)


@settings(max_examples=25)
@given(st.lists(st.integers(0, 30), min_size=28, max_size=28), st.integers(0, 27), st.integers(1, 5))
def test_more_required_never_costs_less_and_is_always_covered(curve, where, extra):
    s = load(DAY28)
    req = np.array([curve])
    more = req.copy()
    more[0, where] += extra
    a, b = roster.solve(s, req), roster.solve(s, more)
    assert a.status == b.status == "optimal"
    assert b.cost >= a.cost - 1e-9
    for r, need in ((a, req), (b, more)):
        assert np.all(coverage_from_listing(s, r.shifts) >= need - 1e-9)


BAD = {
    "break window outside the shift": (
        {"name": "x", "minutes": 240, "earliest_start": "08:00", "latest_start": "09:00",
         "breaks": [{"minutes": 30, "earliest_after_minutes": 200, "latest_after_minutes": 230}]},
        "shifts[0].breaks[0].latest_after_minutes", "after the 240-min shift ends"),
    "latest_start before earliest_start": (
        {"name": "x", "minutes": 240, "earliest_start": "12:00", "latest_start": "09:00"},
        "shifts[0].latest_start", "is before earliest_start 12:00"),
    "shift longer than the day": (
        {"name": "x", "minutes": 800, "earliest_start": "08:00", "latest_start": "08:00"},
        "shifts[0].minutes", "longer than the day"),
    "unknown group": (
        {"name": "x", "minutes": 240, "earliest_start": "08:00", "latest_start": "09:00", "groups": ["generalist"]},
        "shifts[0].groups[0]", "did you mean 'generalists'"),
    "start outside the day": (
        {"name": "x", "minutes": 240, "earliest_start": "06:00", "latest_start": "09:00"},
        "shifts[0].earliest_start", "outside the day (08:00-20:00)"),
    "shift running past closing": (
        {"name": "x", "minutes": 240, "earliest_start": "08:00", "latest_start": "17:00"},
        "shifts[0].latest_start", "ends at 21:00, after the day closes at 20:00"),
    "overlapping break windows": (
        {"name": "x", "minutes": 480, "earliest_start": "08:00", "latest_start": "09:00",
         "breaks": [{"minutes": 30, "earliest_after_minutes": 120, "latest_after_minutes": 240},
                    {"minutes": 15, "earliest_after_minutes": 200, "latest_after_minutes": 300}]},
        "shifts[0].breaks[1].earliest_after_minutes", "do not overlap"),
    "min above max": (
        {"name": "x", "minutes": 240, "earliest_start": "08:00", "latest_start": "09:00", "min_agents": 5,
         "max_agents": 2}, "shifts[0].min_agents", "more than max_agents 2"),
    "bad clock": (
        {"name": "x", "minutes": 240, "earliest_start": "8h", "latest_start": "09:00"},
        "shifts[0].earliest_start", "must be a clock time HH:MM"),
    "unknown key": (
        {"name": "x", "minutes": 240, "earliest_start": "08:00", "latest_start": "09:00", "max_agent": 3},
        "shifts[0].max_agent", "did you mean 'max_agents'"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_shift_rules_name_the_field(case):
    shift, path, words = BAD[case]
    d = to_dict(load(presets()["retail_bank"]))
    d["shifts"] = [shift]
    with pytest.raises(ScenarioError) as exc:
        from_dict(d)
    lines = [line for line in str(exc.value).splitlines() if line.startswith(path + ":")]
    assert lines and words in lines[0], str(exc.value)


def test_a_time_limit_returns_the_best_roster_found_with_its_gap():
    s = load(presets()["telecom"])
    req = plan(s).scheduled
    r = roster.solve(s, req, time_limit_s=0.05)  # the proof of optimality takes about a second here
    assert r.status in ("time limit", roster.NO_ROSTER_IN_TIME)
    assert "time limit" in r.message
    if r.ok:  # HiGHS found a roster before the limit: it is valid, its gap is reported
        assert r.gap > 0
        assert np.all(coverage_from_listing(s, r.shifts) >= req - 1e-9)
        assert r.cost >= roster.solve(s, req).cost - 1e-6
    else:
        assert "raise --time-limit" in r.message and r.shifts.empty


def _fine(step: int, groups: int = 3):
    """Telecom with ``groups`` groups, shift and break starts every ``step`` minutes."""
    d = to_dict(load(presets()["telecom"]))
    while len(d["agent_groups"]) < groups:
        d["agent_groups"].append(dict(d["agent_groups"][-1], name=f"team{len(d['agent_groups'])}"))
    for sh in d["shifts"]:
        sh["start_every_minutes"] = step
        for b in sh.get("breaks", []):
            b["start_every_minutes"] = step
    return from_dict(d)


def _built(monkeypatch, s, req, **kwargs):
    """Solve, capturing the model handed to HiGHS."""
    box = {}
    real = roster.milp

    def spy(c, **kw):
        box["a"] = kw["constraints"].A
        return real(c, **kw)

    monkeypatch.setattr(roster, "milp", spy)
    return roster.solve(s, req, **kwargs), box.get("a")


@pytest.mark.parametrize("case", [*sorted(presets()), "day28", "every 5 min"])
def test_the_size_estimated_before_building_is_the_built_models(monkeypatch, case):
    s = load(DAY28) if case == "day28" else _fine(5) if case == "every 5 min" else load(presets()[case])
    size = roster.model_size(s)
    r, a = _built(monkeypatch, s, plan(s).scheduled, time_limit_s=2.0)
    assert r.status in ("optimal", "time limit", roster.NO_ROSTER_IN_TIME)
    assert a.shape == (size.rows, size.variables)
    assert a.nnz <= size.nonzeros <= 1.2 * a.nnz  # an upper bound, and a close one
    assert sum(sh.variables for sh in size.shifts) == size.variables
    assert not size.too_large and size.bytes < roster.MAX_MODEL_BYTES


def test_one_minute_starts_and_breaks_are_refused_before_anything_is_built(monkeypatch):
    s = _fine(1)
    size = roster.model_size(s)
    assert size.variables == 298_413 and size.too_large
    monkeypatch.setattr(roster, "patterns", lambda _s: pytest.fail("the model was built"))
    with pytest.raises(roster.RosterError) as exc:
        roster.solve(s, plan(s).scheduled)
    msg = str(exc.value)
    assert "298,413 integer variables" in msg and f"{roster.MAX_VARIABLES:,} variables" in msg
    assert "shift 'full' alone gives 208,947" in msg  # 241 starts x 3 groups x (1 + 288 break times)
    assert "start_every_minutes (now 1)" in msg and "for its breaks (now 1)" in msg


def test_the_bytes_bound_refuses_a_model_with_few_variables_but_many_nonzeros(monkeypatch):
    s = _fine(5)
    monkeypatch.setattr(roster, "MAX_MODEL_BYTES", roster.model_size(s).bytes - 1)
    with pytest.raises(roster.RosterError, match="GB to build and solve"):
        roster.solve(s, plan(s).scheduled)


def test_building_the_model_counts_against_the_time_limit(monkeypatch):
    s = _fine(2)  # 76k variables: building takes longer than 1 ms
    monkeypatch.setattr(roster, "milp", lambda *a, **k: pytest.fail("HiGHS ran after the time limit"))
    r = roster.solve(s, plan(s).scheduled, time_limit_s=0.001)
    assert r.status == roster.NO_ROSTER_IN_TIME and not r.ok
    assert "no roster found within the time limit of 0.001 s" in r.message and "raise --time-limit" in r.message
    assert r.to_json()["status"] == roster.NO_ROSTER_IN_TIME and r.to_json()["shifts"] == []


def test_highs_is_given_what_is_left_of_the_time_limit(monkeypatch):
    s = load(presets()["telecom"])
    seen = {}
    real = roster.milp

    def spy(c, **kw):
        seen["limit"] = kw["options"]["time_limit"]
        return real(c, **kw)

    monkeypatch.setattr(roster, "milp", spy)
    roster.solve(s, plan(s).scheduled, time_limit_s=10.0)
    assert 0 < seen["limit"] < 10.0


def _highs_says(monkeypatch, status: int, with_x: bool, gap):
    """HiGHS stopped with ``status`` (1: time limit), the optimal roster as its best one or none, and ``gap``."""
    real = roster.milp

    def fake(c, **kw):
        res = real(c, **kw)
        res.status, res.mip_gap = status, gap
        if not with_x:
            res.x = None
        return res

    monkeypatch.setattr(roster, "milp", fake)


def test_no_roster_at_the_time_limit_is_not_a_roster(monkeypatch):
    s = load(DAY28)
    _highs_says(monkeypatch, 1, False, None)
    r = roster.solve(s, plan(s).scheduled, time_limit_s=7.0)
    assert r.status == roster.NO_ROSTER_IN_TIME and not r.ok
    assert r.message == "no roster found within the time limit of 7 s (93 variables); raise --time-limit"
    out = r.to_json()
    assert out["cost"] is None and out["gap"] is None and out["shifts"] == []
    assert out["groups"]["agents"] == {"required": plan(s).scheduled[0].tolist()}


@pytest.mark.parametrize("gap,text", [(0.0421, "4.21%"), (None, "unknown"), (float("nan"), "unknown"),
                                      (float("inf"), "unknown")])
def test_a_roster_found_at_the_time_limit_is_reported_with_its_gap_or_says_it_is_unknown(monkeypatch, gap, text):
    s = load(DAY28)
    _highs_says(monkeypatch, 1, True, gap)
    r = roster.solve(s, plan(s).scheduled, time_limit_s=7.0)
    assert r.status == "time limit" and r.ok and r.gap_text == text
    assert "nan" not in r.message
    assert r.message.endswith("with a gap of 4.21%" if text != "unknown" else "the gap to the optimum is not known")
    assert r.to_json()["gap"] == (gap if text != "unknown" else None)
    assert not r.shifts.empty
