"""Staffing: the minimum meeting all targets, shrinkage, priority classes, plans of scenarios."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccplan.scenario import from_dict, load, presets
from planner.erlang import erlang_c
from planner.priority import predict_classes, priority_waits_s
from planner.staffing import (
    available_agents, approximate_reasons, evaluate, plan, required_agents, scheduled_agents,
)


def test_textbook_case_needs_14_agents():
    assert int(required_agents(10.0, 180, 20, 0.8)) == 14


def test_96_intervals_in_one_call():
    a = np.linspace(1, 400, 96)
    n = required_agents(a, 300, 20, 0.8)
    assert n.shape == (96,) and np.all(n > a)


def test_zero_load_needs_no_agents():
    assert int(required_agents(0.0, 300, 20, 0.8)) == 0


def test_unreachable_target_is_flagged():
    # an occupancy cap of 0.1% would need 10,000 agents for 10 Erlangs: beyond any sane staffing
    assert int(required_agents(10.0, 300, 20, 0.8, max_occupancy=0.001)) == -1


@given(
    a=st.floats(0.1, 3000), aht=st.floats(60, 900), t=st.floats(5, 60), target=st.floats(0.5, 0.95),
    patience=st.one_of(st.none(), st.floats(30, 900)),
    max_asa=st.one_of(st.none(), st.floats(5, 60)),
    max_ab=st.one_of(st.none(), st.floats(0.01, 0.2)),
    max_occ=st.one_of(st.none(), st.floats(0.6, 0.95)),
)
def test_required_agents_is_the_minimum_meeting_every_target(a, aht, t, target, patience, max_asa, max_ab, max_occ):
    n = int(required_agents(a, aht, t, target, patience, max_asa, max_ab, max_occ))
    assert n >= 1

    def ok(k: int) -> bool:
        m = evaluate(k, a, aht, t, patience)
        good = m.service_level >= target - 1e-12
        good &= max_asa is None or m.asa_s <= max_asa + 1e-12
        good &= max_ab is None or m.abandon_rate <= max_ab + 1e-12
        good &= max_occ is None or m.occupancy <= max_occ + 1e-12
        if patience is None:
            good &= k > a
        return bool(good)

    assert ok(n)
    assert not ok(n - 1)


@given(required=st.integers(0, 5000), shrinkage=st.floats(0, 0.6))
def test_shrinkage_schedules_enough_paid_agents(required, shrinkage):
    sched = int(scheduled_agents(required, shrinkage))
    assert available_agents(sched, shrinkage) >= required
    assert sched == 0 or available_agents(sched - 1, shrinkage) < required


def test_shrinkage_example():
    assert int(scheduled_agents(14, 0.3)) == 20  # 14 / 0.7 = 20


def test_cobham_two_classes_equal_rates():
    # M/M/c non-preemptive priority, equal service: W_k = C / (c mu (1 - s_{k-1})(1 - s_k))
    c, a1, a2, aht = 50, 18.0, 27.0, 300.0
    w = priority_waits_s(c, [[a1], [a2]], [aht, aht], [1, 2])[:, 0]
    pc = float(erlang_c(c, a1 + a2))
    assert w[0] == pytest.approx(pc * aht / c / (1 - a1 / c), rel=1e-12)
    assert w[1] == pytest.approx(pc * aht / c / ((1 - a1 / c) * (1 - (a1 + a2) / c)), rel=1e-12)
    # conservation: the load-weighted mean equals the FIFO wait
    fifo = pc * aht / (c - a1 - a2)
    assert (a1 * w[0] + a2 * w[1]) / (a1 + a2) == pytest.approx(fifo, rel=1e-12)


def test_equal_priorities_are_fifo():
    w = priority_waits_s(20, [[6.0], [8.0]], [300, 300], [2, 2])[:, 0]
    assert w[0] == pytest.approx(w[1])


def test_priority_moves_service_from_low_to_high_class():
    args = (50, [[18.0], [27.0]], [300, 300], [600, 600], [20, 20])
    fifo = predict_classes(*args, priorities=[1, 2], strict_priority=False)
    prio = predict_classes(*args, priorities=[1, 2], strict_priority=True)
    assert prio.service_level[0, 0] > fifo.service_level[0, 0] > prio.service_level[1, 0]
    assert prio.abandon_rate[1, 0] > fifo.abandon_rate[1, 0] > prio.abandon_rate[0, 0]


def test_overloaded_priority_pool_sheds_the_lowest_class_first():
    p = predict_classes([10], [[5.0], [10.0]], [300, 300], [300, 300], [20, 20], [1, 2])
    assert p.abandon_rate[1, 0] > 0.3 > p.abandon_rate[0, 0]


@pytest.mark.parametrize("name", sorted(presets()))
def test_plan_of_every_preset(name):
    s = load(presets()[name])
    p = plan(s)
    df = p.groups
    assert len(df) == s.n_intervals * len(s.agent_groups)
    assert (df["required_agents"] >= 0).all()
    assert (df["scheduled_agents"] >= df["required_agents"]).all()
    # every segment's offered calls are distributed over the groups that serve it
    seg = p.segments
    assert set(seg["segment"]) == set(s.segment_names)  # tidy: no escalation pseudo-segment
    assert len(seg) == s.n_intervals * len(s.segments)
    for sg in s.segments:
        got = seg.loc[seg["segment"] == sg.name, "calls"].sum()
        assert got >= s.calls_per_interval(sg).sum() - 1e-6
    groups = p.daily_groups()
    assert groups["cost"].sum() == pytest.approx(df["cost"].sum())
    assert p.required_available.shape == (len(s.agent_groups), s.n_intervals)


def test_wide_output_keeps_the_per_segment_columns_of_the_csv_and_json():
    s = load(presets()["retail_bank"])
    p = plan(s)
    wide = p.wide()
    assert len(wide) == len(p.groups)
    for k in s.segment_names:
        assert f"service_level:{k}" in wide.columns and f"calls:{k}" in wide.columns
    assert "calls:escalation" in wide.columns  # escalation load stays visible in the output
    gs = p.group_segments.set_index(["interval", "group", "segment"])
    row = wide.iloc[5]
    assert row["service_level:premium"] == pytest.approx(gs.loc[(row["interval"], row["group"], "premium"),
                                                                  "service_level"])


def test_the_planner_says_when_it_is_approximate():
    assert approximate_reasons(load(presets()["trainer"])) == []
    reasons = approximate_reasons(load(presets()["telecom"]))
    assert "segments share agent groups" in reasons and any("overflow" in r for r in reasons)


def test_plan_meets_each_segment_target_in_a_single_group():
    s = load(presets()["trainer"])
    seg = plan(s).segments
    for sg in s.segments:
        assert (seg.loc[seg["segment"] == sg.name, "service_level"] >= s.sl_target(sg) - 1e-9).all()


def test_plan_costs_scheduled_agents_at_the_hourly_rate():
    data = {
        "name": "t", "interval_minutes": 60,
        "segments": [{"name": "a", "calls_per_interval": [100, 0], "aht_s": 180}],
        "agent_groups": [{"name": "g", "skills": ["a"], "agents": 10, "cost_per_hour": 25, "shrinkage": 0.2}],
    }
    df = plan(from_dict(data)).groups
    row = df.iloc[0]
    assert row["required_agents"] == int(required_agents(5.0, 180, 20, 0.8))
    assert row["scheduled_agents"] == int(scheduled_agents(row["required_agents"], 0.2))
    assert row["cost"] == pytest.approx(row["scheduled_agents"] * 25.0)
    assert df.iloc[1]["required_agents"] == 0


def test_cost_optimal_staffing_grows_with_the_value_of_a_call():
    base = {
        "name": "t",
        "segments": [{"name": "a", "calls_per_interval": [200], "aht_s": 300, "patience_s": 120,
                      "value_per_call": 1.0}],
        "agent_groups": [{"name": "g", "skills": ["a"], "agents": 30, "cost_per_hour": 20}],
    }
    cheap = plan(from_dict(base)).groups.iloc[0]["cost_optimal_agents"]
    base["segments"][0]["value_per_call"] = 50.0
    rich = plan(from_dict(base)).groups.iloc[0]["cost_optimal_agents"]
    assert rich > cheap


@pytest.mark.parametrize("preset", ["trainer", "retail_bank", "telecom"])
def test_value_of_one_more_agent_is_positive_exactly_below_the_cost_optimum(preset):
    """It flipped sign between neighbouring intervals (+5.16, -4.02, +5.88) because the extra agent was priced
    at the step of the rounded-up schedule, 1 or 2 agents by turns. Profit is concave in agents, so one more
    agent is worth something below the optimum and nothing at or above it."""
    g = plan(load(presets()[preset])).groups
    g = g[g["traffic_erlangs"] > 0]
    below = g["required_agents"] < g["cost_optimal_agents"]
    assert (g.loc[below, "marginal_value"] > 0).all()
    assert (g.loc[~below, "marginal_value"] <= 1e-6).all()


def test_value_of_one_more_agent_is_the_same_in_intervals_with_the_same_load():
    sc = from_dict({
        "name": "flat",
        "segments": [{"name": "a", "calls_per_interval": [180.0] * 6, "aht_s": 300, "patience_s": 120,
                      "value_per_call": 4.0}],
        "agent_groups": [{"name": "g", "skills": ["a"], "agents": 30, "cost_per_hour": 20, "shrinkage": 0.3}],
    })
    v = plan(sc).groups["marginal_value"].to_numpy()
    assert np.allclose(v, v[0]) and v[0] != 0


@given(a=st.floats(0.05, 1999), aht=st.floats(30, 900), t=st.floats(0, 60), target=st.floats(0.3, 0.99),
       max_asa=st.one_of(st.none(), st.floats(1, 60)), max_occ=st.one_of(st.none(), st.floats(0.5, 0.99)))
def test_scalar_fast_path_agrees_with_the_vectorised_search(a, aht, t, target, max_asa, max_occ):
    scalar = int(required_agents(a, aht, t, target, max_asa_s=max_asa, max_occupancy=max_occ))
    vector = int(required_agents(np.array([a]), aht, t, target, max_asa_s=max_asa, max_occupancy=max_occ)[0])
    assert scalar == vector


def test_a_plan_that_depends_on_the_current_schedule_says_so():
    """Shared segments are split by the scenario's own staffing: the plan moves with it, and says so."""
    from pathlib import Path

    from ccplan.scenario import to_dict

    path = Path(__file__).resolve().parents[2] / "examples" / "multigroup_overflow.toml"
    sc = load(path)
    assert any("current staffing" in r for r in approximate_reasons(sc))
    data = to_dict(sc)
    flex = next(g for g in data["agent_groups"] if g["name"] == "flex")
    flex.pop("agents_per_interval", None)
    flex["agents"] = 1
    other = plan(from_dict(data)).groups
    assert not plan(sc).groups["required_agents"].equals(other["required_agents"])
    assert not any("current staffing" in r for r in approximate_reasons(load(presets()["trainer"])))
