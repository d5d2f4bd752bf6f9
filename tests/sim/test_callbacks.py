"""Issue 29: callbacks ([segments.callback]), a segment's own agent choice, queue caps (max_queue_s with outcome
abandon, callback or overflow:SEGMENT) and retrials that come back after closing (served in overtime or
disconnected, never dropped)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccplan.scenario import ScenarioError, from_dict
from sim.metrics import replication_metrics
from sim.model import CAP_ABANDON, CAP_CALLBACK, CAP_OVERFLOW, CallCenterModel
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
    from ccplan.scenario import Callback

    sc = draw(small_scenarios())
    names = sc.segment_names
    segs = []
    for s in sc.segments:
        upd = {}
        if draw(st.booleans()):
            upd["callback"] = Callback(
                offer_after_s=draw(st.sampled_from([0.0, 30.0, 120.0])),
                mode=draw(st.sampled_from(["waited", "expected_wait"])),
                accept_probability=draw(st.sampled_from([0.0, 0.5, 1.0])),
                window_s=draw(st.sampled_from([600.0, 3600.0])),
                aht_factor=draw(st.sampled_from([0.5, 1.0, 1.5])),
                answer_probability=draw(st.sampled_from([0.3, 1.0])), attempts=draw(st.integers(1, 3)))
        if draw(st.booleans()):
            upd["max_queue_s"] = draw(st.floats(1, 300))
            others = [n for n in names if n != s.name]
            outcomes = ["abandon"] + [f"overflow:{n}" for n in others] + (["callback"] if "callback" in upd else [])
            upd["max_queue_outcome"] = draw(st.sampled_from(outcomes))
        if draw(st.booleans()):
            upd["agent_choice"] = draw(st.sampled_from(["preference", "longest_idle", "random"]))
        segs.append(s.model_copy(update=upd))
    return sc.model_copy(update={"segments": tuple(segs)})


@settings(max_examples=40, deadline=None)
@given(sc=capped_scenarios(), seed=st.integers(0, 1000))
def test_with_caps_callbacks_and_agent_choices_every_call_and_callback_is_conserved(sc, seed):
    model, log = run(sc, seed)
    assert model.violations == []
    states = np.column_stack([log[k] for k in ("answered", "abandoned", "blocked", "disconnected", "callback")])
    assert np.all(states.sum(axis=1) <= 1)
    m = replication_metrics(log, sc, model.overtime_s(), 0, model.finishing_s())["segments"]
    # offered = answered + abandoned + callbacks accepted + waiting at end (+ blocked, disconnected)
    assert (m["offered"] == m["answered"] + m["abandoned"] + m["blocked"] + m["disconnected"]
            + m["callbacks_accepted"] + m["waiting_at_end"]).all()
    # each accepted callback is made, expired or pending; made = within the window + late
    assert (m["callbacks_accepted"] == m["callbacks_made"] + m["callbacks_expired"] + m["callbacks_pending"]).all()
    assert (m["callbacks_made"] == m["callbacks_within_window"] + m["callbacks_late"]).all()
    assert (m["callbacks_accepted"] <= m["callbacks_offered"]).all()
    assert (m["capped_abandon"] <= m["abandoned"]).all()
    legs = pd.concat([
        pd.DataFrame({"g": log["group"], "a": log["agent"], "s": log["answer_s"], "e": log["end_s"]}),
        pd.DataFrame({"g": log["escalation_group"], "a": log["escalation_agent"], "s": log["escalation_answer_s"],
                      "e": log["escalation_end_s"]}),
        pd.DataFrame({"g": log["callback_group"], "a": log["callback_agent"], "s": log["callback_answer_s"],
                      "e": log["callback_end_s"]}),
    ])
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


# ------------------------------------------------------------------ callbacks
def _callback_day(callback: dict, at_close: str = "serve", agents: int = 5, **seg):
    return from_dict(scenario(
        [{"name": "a", "calls_per_interval": [70.0] * 6, "aht_s": 240, "patience_s": 300,
          "value_per_call": 10.0, "clv": 100.0, "churn_per_abandon": 0.1, "callback": callback, **seg}],
        [{"name": "g", "skills": ["a"], "agents": agents, "cost_per_hour": 20.0}], simulation={"at_close": at_close}))


def test_with_every_waiting_caller_taking_a_callback_at_once_no_inbound_call_waits():
    # accept_probability 1, offer_after_s 0 (waited mode), callbacks made only by otherwise idle agents:
    # every inbound call is answered on arrival (wait exactly 0 s) or its caller accepts a callback at the
    # instant it would have queued (it leaves at once); no inbound call abandons or waits at the end
    sc = _callback_day({"offer_after_s": 0, "mode": "waited", "accept_probability": 1.0, "window_s": 7200})
    model, log = run(sc)
    assert model.violations == []
    assert np.all(log["wait_s"][log["answered"]] == 0.0)
    assert not log["abandoned"].any()
    cb = log["callback"]
    assert cb.sum() > 20
    np.testing.assert_array_equal(log["callback_accept_s"][cb], log["arrival_s"][cb])
    assert np.all(log["answered"] | cb)
    m = replication_metrics(log, sc, model.overtime_s(), 0, model.finishing_s())["segments"].iloc[0]
    assert m["callbacks_made"] == m["callbacks_accepted"] == cb.sum() and m["callbacks_pending"] == 0


def test_a_callback_is_made_only_when_no_inbound_call_of_the_groups_segments_waits():
    sc = _callback_day({"offer_after_s": 60, "mode": "waited", "accept_probability": 0.5, "window_s": 1800},
                       agents=4)
    _, log = run(sc)
    arrival = log["arrival_s"]
    leave = np.where(log["answered"], log["answer_s"], np.where(log["abandoned"], log["abandon_s"],
                     np.where(log["callback"], log["callback_accept_s"], np.inf)))
    starts = log["callback_answer_s"][np.isfinite(log["callback_answer_s"])]
    assert len(starts) > 5
    for t in starts:
        assert not np.any((arrival < t - 1e-9) & (leave > t + 1e-9))


def test_expected_wait_mode_offers_on_arrival_and_waited_mode_after_the_wait():
    exp = _callback_day({"offer_after_s": 120, "mode": "expected_wait", "accept_probability": 0.5})
    _, log = run(exp)
    off = np.isfinite(log["callback_offer_s"])
    assert off.sum() > 5 and np.all(log["callback_offer_s"][off] == log["arrival_s"][off])
    wai = _callback_day({"offer_after_s": 90, "mode": "waited", "accept_probability": 0.5})
    _, log = run(wai)
    off = np.isfinite(log["callback_offer_s"])
    assert off.sum() > 5 and np.allclose(log["callback_offer_s"][off] - log["arrival_s"][off], 90.0)


def test_unanswered_callbacks_are_tried_attempts_times_then_expire():
    sc = _callback_day({"offer_after_s": 30, "accept_probability": 1.0, "answer_probability": 0.0, "attempts": 3,
                        "window_s": 900})
    model, log = run(sc)
    m = replication_metrics(log, sc, model.overtime_s(), 0, model.finishing_s())["segments"].iloc[0]
    assert m["callbacks_accepted"] > 0 and m["callbacks_made"] == 0
    assert m["callbacks_expired"] == m["callbacks_accepted"] and m["callback_service_level"] == 0.0
    assert all(model.c_cb_tries[i] == 3 for i in np.nonzero(log["callback"])[0])


def test_at_close_disconnect_expires_the_callbacks_not_yet_made_and_serve_makes_them_in_overtime():
    cb = {"offer_after_s": 0, "accept_probability": 1.0, "window_s": 7200}
    for at_close in ("serve", "disconnect"):
        sc = _callback_day(cb, at_close=at_close, agents=4)
        model, log = run(sc)
        m = replication_metrics(log, sc, model.overtime_s(), 0, model.finishing_s())["segments"].iloc[0]
        assert m["callbacks_pending"] == 0
        if at_close == "serve":
            assert m["callbacks_expired"] == 0 and m["callbacks_made"] == m["callbacks_accepted"]
            assert np.nanmax(log["callback_end_s"]) > sc.n_intervals * sc.interval_s
        else:
            assert m["callbacks_expired"] > 0


def test_a_queue_cap_with_outcome_callback_offers_one_at_the_cap():
    sc = _callback_day({"offer_after_s": 10_000, "accept_probability": 1.0}, max_queue_s=45,
                       max_queue_outcome="callback")
    _, log = run(sc)
    capped = log["queue_cap"] == CAP_CALLBACK
    assert capped.sum() > 5 and np.all(log["callback"][capped])
    assert np.allclose(log["callback_accept_s"][capped] - log["arrival_s"][capped], 45.0)


def test_a_made_callback_earns_the_value_of_a_call_and_an_expired_one_costs_like_an_abandonment():
    from ccplan.economics import price_simulation
    from sim.runner import InlineExecutor, simulate

    sc = _callback_day({"offer_after_s": 30, "accept_probability": 1.0, "answer_probability": 0.5, "attempts": 1})
    res = simulate(sc, replications=2, seed=3, executor=InlineExecutor())
    eco = price_simulation(res).per_replication
    seg = res.per_replication["segments"]
    row, e = seg.iloc[0], eco[eco["segment"] == "a"].iloc[0]
    assert row["callbacks_made"] > 0 and row["callbacks_expired"] > 0
    assert e["margin"] == (row["answered"] + row["callbacks_made"]) * 10.0
    assert e["lost_value"] == (row["lost_callers"] + row["callbacks_expired"]) * 100.0 * 0.1


# ------------------------------------------------------------------ wait counted per caller
def test_wait_counted_by_caller_adds_the_queue_time_of_earlier_attempts():
    from sim.metrics import _caller_wait

    base = scenario([{"name": "a", "calls_per_interval": [90.0] * 4, "aht_s": 300, "patience_s": 60,
                      "retrial_probability": 0.8, "retrial_delay_s": 120}],
                    [{"name": "g", "skills": ["a"], "agents": 7}])
    by_attempt = from_dict(base)
    by_caller = from_dict({**base, "service_level": {"answer_within_s": 20, "wait_counted": "caller"}})
    model, log = run(by_attempt)
    total = _caller_wait(log)
    for c in np.unique(log["caller"][log["retry"]])[:20]:  # by hand for some callers who retried
        rows = np.nonzero(log["caller"] == c)[0]
        assert np.allclose(total[rows], np.cumsum(np.nan_to_num(log["wait_s"][rows])))
    a = replication_metrics(log, by_attempt, model.overtime_s(), 0, model.finishing_s())["segments"].iloc[0]
    b = replication_metrics(log, by_caller, model.overtime_s(), 0, model.finishing_s())["segments"].iloc[0]
    thr = 20 + 1e-9
    assert b["answered_within"] == int((log["answered"] & (total <= thr)).sum()) < a["answered_within"]
