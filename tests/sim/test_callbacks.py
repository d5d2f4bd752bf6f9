"""Issue 29 routing features: a segment's own agent choice, queue caps (max_queue_s with outcome abandon or
overflow:SEGMENT) and retrials that come back after closing (served in overtime or disconnected, never dropped)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccplan.scenario import ScenarioError, from_dict
from sim.metrics import replication_metrics
from sim.model import CAP_ABANDON, CAP_OVERFLOW, CallCenterModel
from tests.sim.test_invariants import small_scenarios


def scenario(segments, groups, **over) -> dict:
    base = {"name": "t", "interval_minutes": 60, "segments": segments, "agent_groups": groups}
    base.update(over)
    return base


def run(sc, seed=1, replication=0):
    model = CallCenterModel(sc, replication, seed=seed, check_invariants=True).run()
    return model, model.log_arrays()


# ------------------------------------------------------------------ per-segment agent choice
def test_a_segments_agent_choice_overrides_the_routings():
    # both groups always have free agents: only the agent choice decides which group answers
    sc = from_dict(scenario(
        [{"name": "a", "calls_per_interval": [40.0] * 4, "aht_s": 60, "groups": ["g1", "g2"]},
         {"name": "b", "calls_per_interval": [40.0] * 4, "aht_s": 60, "groups": ["g1", "g2"],
          "agent_choice": "random"}],
        [{"name": "g1", "skills": ["a", "b"], "agents": 30}, {"name": "g2", "skills": ["a", "b"], "agents": 30}]))
    _, log = run(sc)
    a, b = log["segment"] == 0, log["segment"] == 1
    assert np.all(log["group"][a] == 0)  # preference (the routing's default): the first listed group
    share_g2 = float(np.mean(log["group"][b] == 1))
    assert 0.35 < share_g2 < 0.65  # random: in proportion to free agents, about half each


def test_a_preference_segment_keeps_its_order_when_the_routing_is_random():
    sc = from_dict(scenario(
        [{"name": "a", "calls_per_interval": [40.0] * 4, "aht_s": 60, "groups": ["g2", "g1"],
          "agent_choice": "preference"}],
        [{"name": "g1", "skills": ["a"], "agents": 30}, {"name": "g2", "skills": ["a"], "agents": 30}],
        routing={"agent_choice": "random"}))
    _, log = run(sc)
    assert np.all(log["group"] == 1)


def test_the_planner_says_its_formulas_ignore_a_segments_agent_choice():
    from planner.staffing import approximate_reasons

    sc = from_dict(scenario([{"name": "a", "calls_per_interval": [40.0], "aht_s": 60, "agent_choice": "random"}],
                            [{"name": "g", "skills": ["a"], "agents": 30}]))
    assert any("agent choice" in r for r in approximate_reasons(sc))


# ------------------------------------------------------------------ queue caps
def _patience_file(tmp_path, name, values) -> str:
    p = tmp_path / name
    p.write_text("patience_s\n" + "\n".join(repr(float(v)) for v in values) + "\n")
    return str(p)


def test_a_queue_cap_with_abandon_is_exactly_a_patience_of_min_patience_and_cap(tmp_path):
    # Exact by construction: with outcome "abandon" the cap replaces the caller's patience timer when it comes
    # first, and the patience is the same draw from the same stream either way (the empirical distribution
    # resamples the same indices), so the two runs see the same callers, retries included (common random numbers).
    rng = np.random.default_rng(7)
    raw = rng.exponential(200.0, 400)
    cap = 90.0
    seg = {"name": "a", "calls_per_interval": [80.0] * 4, "aht_s": 300, "patience": "empirical",
           "retrial_probability": 0.4, "retrial_delay_s": 300}
    groups = [{"name": "g", "skills": ["a"], "agents": 6}]
    capped = from_dict(scenario([{**seg, "patience_file": _patience_file(tmp_path, "p.csv", raw),
                                  "max_queue_s": cap, "max_queue_outcome": "abandon"}], groups))
    short = from_dict(scenario([{**seg, "patience_file": _patience_file(tmp_path, "q.csv", np.minimum(raw, cap))}],
                               groups))
    for rep in range(3):
        m1, a = run(capped, replication=rep)
        m2, b = run(short, replication=rep)
        for k in a:
            if k != "queue_cap":
                np.testing.assert_array_equal(a[k], b[k], err_msg=k)
        s1 = replication_metrics(a, capped, m1.overtime_s(), rep, m1.finishing_s())["segments"]
        s2 = replication_metrics(b, short, m2.overtime_s(), rep, m2.finishing_s())["segments"]
        pd.testing.assert_frame_equal(s1.drop(columns=["capped_abandon"]), s2.drop(columns=["capped_abandon"]))
        # the cap's count: callers still waiting at the cap (their own patience was longer)
        n_cap = int(s1["capped_abandon"].iloc[0])
        assert n_cap == int((a["queue_cap"] == CAP_ABANDON).sum()) > 0
        assert np.allclose(a["wait_s"][a["queue_cap"] == CAP_ABANDON], cap)


def test_an_overflow_cap_moves_the_caller_to_the_other_queue_keeping_its_arrival_time():
    sc = from_dict(scenario(
        [{"name": "a", "calls_per_interval": [30.0] * 4, "aht_s": 240, "max_queue_s": 45,
          "max_queue_outcome": "overflow:b"},
         {"name": "b", "calls_per_interval": [5.0] * 4, "aht_s": 240}],
        [{"name": "ga", "skills": ["a"], "agents": 1}, {"name": "gb", "skills": ["b"], "agents": 6}]))
    model, log = run(sc)
    assert model.violations == []
    a = log["segment"] == 0
    moved = a & (log["queue_cap"] == CAP_OVERFLOW)
    assert moved.sum() > 10
    # a moved caller is served by b's group (or still by a's, never before the cap), its wait from its arrival
    by_gb = moved & log["answered"] & (log["group"] == 1)
    assert by_gb.sum() > 10 and np.all(log["wait_s"][by_gb] >= 45 - 1e-9)
    assert not np.any(a & ~moved & (log["group"] == 1))  # only moved callers reach group gb
    m = replication_metrics(log, sc, model.overtime_s(), 0, model.finishing_s())["segments"]
    row = m[m["segment"] == "a"].iloc[0]
    assert row["capped_overflow"] == moved.sum() and row["capped_abandon"] == 0
    assert row["offered"] == row["answered"] + row["abandoned"] + row["waiting_at_end"]


def test_a_queue_cap_outcome_must_name_another_segment():
    with pytest.raises(ScenarioError, match="max_queue_outcome"):
        from_dict(scenario([{"name": "a", "calls_per_interval": [1.0], "aht_s": 60, "max_queue_s": 30,
                             "max_queue_outcome": "overflow:zz"}], [{"name": "g", "skills": ["a"], "agents": 1}]))
    with pytest.raises(ScenarioError, match="max_queue_outcome"):
        from_dict(scenario([{"name": "a", "calls_per_interval": [1.0], "aht_s": 60, "max_queue_s": 30,
                             "max_queue_outcome": "hang up"}], [{"name": "g", "skills": ["a"], "agents": 1}]))


@st.composite
def capped_scenarios(draw):
    sc = draw(small_scenarios())
    names = sc.segment_names
    segs = []
    for s in sc.segments:
        upd = {}
        if draw(st.booleans()):
            upd["max_queue_s"] = draw(st.floats(1, 300))
            others = [n for n in names if n != s.name]
            outcomes = ["abandon"] + [f"overflow:{n}" for n in others]
            upd["max_queue_outcome"] = draw(st.sampled_from(outcomes))
        if draw(st.booleans()):
            upd["agent_choice"] = draw(st.sampled_from(["preference", "longest_idle", "random"]))
        segs.append(s.model_copy(update=upd))
    return sc.model_copy(update={"segments": tuple(segs)})


@settings(max_examples=40, deadline=None)
@given(sc=capped_scenarios(), seed=st.integers(0, 1000))
def test_with_caps_and_agent_choices_every_call_is_conserved_and_no_agent_serves_two(sc, seed):
    model, log = run(sc, seed)
    assert model.violations == []
    states = np.column_stack([log[k] for k in ("answered", "abandoned", "blocked", "disconnected")])
    assert np.all(states.sum(axis=1) <= 1)
    m = replication_metrics(log, sc, model.overtime_s(), 0, model.finishing_s())["segments"]
    assert (m["offered"] == m["answered"] + m["abandoned"] + m["blocked"] + m["disconnected"]
            + m["waiting_at_end"]).all()
    assert (m["capped_abandon"] <= m["abandoned"]).all()
    legs = pd.DataFrame({"g": log["group"], "a": log["agent"], "s": log["answer_s"], "e": log["end_s"]})
    legs = legs[legs["g"] >= 0].sort_values(["g", "a", "s"])
    for _, sub in legs.groupby(["g", "a"]):
        assert np.all(sub["s"].to_numpy()[1:] >= sub["e"].to_numpy()[:-1] - 1e-9)


# ------------------------------------------------------------------ retrials after closing
def _late_retries(at_close: str):
    # one agent, deterministic patience 60 s: many abandon near closing and retry exactly 600 s later
    sc = from_dict(scenario(
        [{"name": "a", "calls_per_interval": [40.0, 40.0], "aht_s": 300, "patience_s": 60,
          "patience": "deterministic", "retrial_probability": 1.0, "retrial_delay_s": 600, "retrial_delay": "fixed",
          "max_retrials": 1}],
        [{"name": "g", "skills": ["a"], "agents": 2}], simulation={"at_close": at_close}))
    model, log = run(sc)
    close = sc.n_intervals * sc.interval_s
    late = log["retry"] & (log["arrival_s"] >= close)
    # never silently dropped: every abandoned first attempt has its retry
    assert log["retry"].sum() == (log["abandoned"] & ~log["retry"]).sum()
    assert late.sum() > 0
    return model, log, late


def test_a_retry_after_closing_is_served_in_overtime_with_serve():
    model, log, late = _late_retries("serve")
    assert not log["disconnected"].any()
    assert log["answered"][late].sum() > 0
    assert np.all(log["answered"][late] | log["abandoned"][late])  # served, or gave up waiting in overtime
    assert model.overtime_s()["g"] > 0


def test_a_retry_after_closing_reaches_a_closed_center_with_disconnect():
    _, log, late = _late_retries("disconnect")
    assert np.all(log["disconnected"][late])
    assert not log["answered"][late].any()
