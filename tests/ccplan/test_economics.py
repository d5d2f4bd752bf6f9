"""Cost, margin, lost value and profit per segment: hand-computable cases and accounting identities."""

import numpy as np
import pandas as pd
import pytest

from ccplan.economics import TOTAL, price_plan, price_simulation
from ccplan.scenario import from_dict, load, presets
from planner.staffing import plan
from sim.runner import InlineExecutor, simulate


def no_queue_scenario() -> dict:
    """One hour, deterministic 300 s calls and far more agents than calls: nobody waits."""
    return {
        "name": "hand", "interval_minutes": 60, "costs": {"telephony_per_minute": 0.02},
        "segments": [{"name": "a", "calls_per_interval": [100], "aht_s": 300, "handle_time": "deterministic",
                      "value_per_call": 7.0, "clv": 500.0, "churn_per_abandon": 0.1}],
        "agent_groups": [{"name": "g", "skills": ["a"], "agents": 200, "cost_per_hour": 36.0, "shrinkage": 0.25}],
    }


@pytest.fixture(scope="module")
def hand():
    sc = from_dict(no_queue_scenario())
    res = simulate(sc, replications=3, seed=1, executor=InlineExecutor(), keep_log=True)
    return sc, res, price_simulation(res)


def test_every_cost_figure_of_a_hand_computable_day(hand):
    sc, res, eco = hand
    for r in range(3):
        log = res.call_log[res.call_log["replication"] == r]
        n = len(log)
        assert log["answered"].all() and (log["wait_s"] == 0).all()
        overtime_s = float(np.maximum(log["end_s"] - 3600.0, 0).sum())
        row = eco.per_replication[(eco.per_replication["replication"] == r)
                                  & (eco.per_replication["segment"] == "a")].iloc[0]
        paid = 200 * 1.0 * 36.0 + overtime_s / 3600 * 36.0  # 200 scheduled agents for one hour, plus overtime
        assert row["agent_cost"] == pytest.approx(paid)
        assert row["busy_cost"] == pytest.approx(n * 300 / 3600 * 36.0)
        assert row["shrinkage_cost"] == pytest.approx(50 * 36.0)  # 25% of 200 scheduled agents are off the phones
        assert row["idle_cost"] == pytest.approx(paid - row["busy_cost"] - row["shrinkage_cost"])
        assert row["telephony_cost"] == pytest.approx(n * 5 * 0.02)  # 5 talking minutes per call, no waiting
        assert row["margin"] == pytest.approx(n * 7.0)
        assert row["lost_value"] == 0
        assert row["profit"] == pytest.approx(n * 7.0 - paid - n * 0.1)
        assert row["cost_per_answered"] == pytest.approx((paid + n * 0.1) / n)
        assert row["cost_per_sl_point"] == pytest.approx((paid + n * 0.1) / 100)


def test_lost_value_counts_callers_who_never_got_through():
    data = no_queue_scenario()
    data["segments"][0].update(patience_s=20, retrial_probability=0.5, retrial_delay_s=60, calls_per_interval=[400])
    data["agent_groups"][0]["agents"] = 30
    sc = from_dict(data)
    res = simulate(sc, replications=2, seed=3, executor=InlineExecutor(), keep_log=True)
    eco = price_simulation(res)
    for r in range(2):
        log = res.call_log[res.call_log["replication"] == r].sort_values("arrival_s")
        last = log.groupby("caller").tail(1)
        lost = int(last["abandoned"].sum())
        row = eco.per_replication[(eco.per_replication["replication"] == r)
                                  & (eco.per_replication["segment"] == "a")].iloc[0]
        assert row["lost_callers"] == lost < row["abandoned"]
        assert row["lost_value"] == pytest.approx(lost * 500.0 * 0.1)


@pytest.mark.parametrize("name", ["retail_bank", "telecom"])
def test_allocated_agent_costs_add_up_to_the_paid_cost(name):
    sc = load(presets()[name])
    res = simulate(sc, replications=2, seed=4, executor=InlineExecutor())
    eco = price_simulation(res)
    per = eco.per_replication
    paid = eco.groups.groupby("replication")["paid_cost"].sum()
    segs = per[per["segment"] != TOTAL].groupby("replication")["agent_cost"].sum()
    pd.testing.assert_series_equal(segs, paid, check_names=False)
    tot = per[per["segment"] == TOTAL].set_index("replication")["agent_cost"]
    pd.testing.assert_series_equal(tot, paid, check_names=False)
    # paid time = scheduled (shrinkage included) + overtime; parts add up
    g = eco.groups
    assert np.allclose(g["busy_cost"] + g["idle_cost"] + g["shrinkage_cost"], g["paid_cost"])
    # escalation time is costed to the segment that escalated
    if name == "retail_bank":
        sg = res.per_replication["segment_groups"]
        assert sg[(sg["segment"] == "standard") & (sg["group"] == "senior")]["busy_s"].sum() > 0


def test_every_figure_has_a_confidence_interval():
    sc = load(presets()["trainer"])
    eco = price_simulation(simulate(sc, replications=4, seed=2, executor=InlineExecutor()))
    for col in ("agent_cost", "telephony_cost", "margin", "lost_value", "profit", "cost_per_answered"):
        assert (eco.summary[f"{col}_ci_low"] <= eco.summary[col]).all()
        assert (eco.summary[col] <= eco.summary[f"{col}_ci_high"]).all()


def test_plan_pricing_adds_up():
    sc = load(presets()["retail_bank"])
    p = plan(sc)
    priced = price_plan(p)
    segs = priced[priced["segment"] != TOTAL]
    assert list(segs["segment"]) == sc.segment_names
    assert segs["agent_cost"].sum() == pytest.approx(p.groups["cost"].sum())
    tot = priced[priced["segment"] == TOTAL].iloc[0]
    assert tot["profit"] == pytest.approx(tot["margin"] - tot["lost_value"] - tot["agent_cost"] - tot["telephony_cost"])


def test_the_priced_service_level_is_the_simulators_long_run_ratio():
    """Economics prices per replication, but its service level, ASA and abandonment are the same long-run
    ratios ``simulate`` reports (segments), and the total pools every segment's calls."""
    sc = load(presets()["trainer"])
    res = simulate(sc, replications=4, seed=2, executor=InlineExecutor())
    eco = price_simulation(res)
    summ = eco.summary.set_index("segment")
    sim_summ = res.summary["segments"].set_index("segment")
    for col in ("service_level", "service_level_ci_low", "service_level_ci_high", "asa_s", "abandon_rate",
                "days_meeting", "daily_sl_p10"):
        for seg in sc.segment_names:
            assert summ.loc[seg, col] == sim_summ.loc[seg, col], (seg, col)
    seg = res.per_replication["segments"]
    assert summ.loc[TOTAL, "service_level"] == pytest.approx(seg["sl_num"].sum() / seg["sl_den"].sum(), abs=1e-12)
    assert summ.loc[TOTAL, "asa_s"] == pytest.approx(seg["wait_answered_s_total"].sum() / seg["answered"].sum())
    assert np.isnan(summ.loc[TOTAL, "days_meeting"])  # the total has no target
