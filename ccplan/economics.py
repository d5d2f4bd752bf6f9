"""Cost, revenue, lost value and profit per segment; cost to serve.

One cost model for simulation results and planner plans alike. Money is in the
scenario's currency; time in seconds inside, hours and minutes only where the
rate says so (``cost_per_hour``, ``telephony_per_minute``).

Per segment (and in total):
- agent_cost: the paid agent time of every group — scheduled agents x interval
  length x cost_per_hour (shrinkage included, since scheduled agents are paid),
  plus overtime after closing and time spent finishing calls after a shift —
  allocated to segments in proportion to the agent time each consumed in that
  group (handle time and escalation time). It splits into busy_cost, idle_cost
  (available but not on a call) and shrinkage_cost, each allocated the same way;
- telephony_cost: (waiting + talking minutes, callbacks included) x telephony_per_minute;
- margin: (answered calls + callbacks made) x value_per_call (a completed callback earns like an answer);
- lost_value: (callers whose last attempt abandoned (no later success on a retry) + callbacks that expired
  unanswered) x clv x churn_per_abandon (an unanswered callback counts like an abandonment);
- profit = margin - lost_value - agent_cost - telephony_cost;
- cost_per_answered = (agent_cost + telephony_cost) / answered;
- cost_per_sl_point = (agent_cost + telephony_cost) / (service level in percentage points).

Every figure is priced per replication (a simulated day). The summary gives money and counts as the mean per
day; service level, ASA and abandonment as long-run ratios over all days (all good calls over all counted
calls, :func:`sim.metrics.ratio_estimate`), as ``ccplan simulate`` shows them, with ``days_meeting`` (share of
days meeting the segment's target) and ``daily_sl_p10``; cost_per_answered and cost_per_sl_point are the mean
of each day's own value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ccplan.scenario import Scenario
from sim.metrics import summarise

TOTAL = "total"
MONEY = ["agent_cost", "busy_cost", "idle_cost", "shrinkage_cost", "telephony_cost", "margin", "lost_value", "profit"]


@dataclass
class Economics:
    """Priced results: ``per_replication`` (replication x segment, with a ``total`` row per
    replication), ``summary`` (mean and 95% CI per segment and total) and ``groups``
    (paid cost per group and replication, split into busy, idle, shrinkage)."""

    per_replication: pd.DataFrame
    summary: pd.DataFrame
    groups: pd.DataFrame


def group_costs(groups: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Paid cost per group and replication from the simulator's ``groups`` table."""
    rate = {g.name: g.cost_per_hour / 3600.0 for g in scenario.agent_groups}
    r = groups["group"].map(rate)
    paid_s = groups["scheduled_s"] + groups["overtime_s"] + groups["finishing_s"]
    out = groups[["replication", "group"]].copy()
    out["paid_cost"] = paid_s * r
    out["busy_cost"] = groups["busy_s"] * r
    out["shrinkage_cost"] = (groups["scheduled_s"] - groups["available_s"]) * r
    out["idle_cost"] = out["paid_cost"] - out["busy_cost"] - out["shrinkage_cost"]
    out["overtime_cost"] = (groups["overtime_s"] + groups["finishing_s"]) * r
    return out


def _allocate(gc: pd.DataFrame, seg_groups: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Allocate each group's cost components to segments by busy-time share (per replication)."""
    sg = seg_groups.merge(gc, on=["replication", "group"], how="left")
    tot = sg.groupby(["replication", "group"])["busy_s"].transform("sum")
    n_skilled = sg["group"].map({g.name: max(1, sum(s in g.skills for s in scenario.segment_names))
                                 for g in scenario.agent_groups})
    skilled = np.array([s in scenario.group(g).skills for s, g in zip(sg["segment"], sg["group"])])
    # a group that handled nothing: split its cost equally among the segments it serves
    share = np.where(tot > 0, sg["busy_s"] / tot.where(tot > 0, 1.0), np.where(skilled, 1.0 / n_skilled, 0.0))
    for c in ("paid_cost", "busy_cost", "idle_cost", "shrinkage_cost"):
        sg[c] = sg[c] * share
    return sg.groupby(["replication", "segment"], sort=False)[["paid_cost", "busy_cost", "idle_cost",
                                                                "shrinkage_cost"]].sum().reset_index()


def price_simulation(result) -> Economics:
    """Price a :class:`sim.runner.SimulationResult` per segment and in total, with CIs over replications
    (:func:`sim.metrics.summarise`: ratios over calls pooled over replications, money as the mean per day).
    The per-replication table keeps each ratio's counts (``sl_num``/``sl_den``, ``abandoned``/``offered``,
    ``wait_answered_s_total``/``answered``) so that comparisons can pool them too."""
    sc: Scenario = result.scenario
    seg = result.per_replication["segments"]
    gc = group_costs(result.per_replication["groups"], sc)
    alloc = _allocate(gc, result.per_replication["segment_groups"], sc)
    df = seg.merge(alloc, on=["replication", "segment"], how="left")
    params = pd.DataFrame([{
        "segment": s.name, "value_per_call": s.value_per_call, "loss_per_lost_caller": s.clv * s.churn_per_abandon,
        "sl_target": sc.sl_target(s),
    } for s in sc.segments])
    df = df.merge(params, on="segment", how="left")
    tel = sc.costs.telephony_per_minute / 60.0
    out = pd.DataFrame({
        "replication": df["replication"], "segment": df["segment"],
        "offered": df["offered"], "answered": df["answered"], "abandoned": df["abandoned"],
        "lost_callers": df["lost_callers"], "answered_within": df["answered_within"],
        "sl_num": df["sl_num"], "sl_den": df["sl_den"], "wait_answered_s_total": df["wait_answered_s_total"],
        "service_level": df["service_level"], "meets_target": df["meets_target"], "asa_s": df["asa_s"],
        "abandon_rate": df["abandon_rate"],
        "wait_p90_s": df["wait_p90_s"],
        "agent_cost": df["paid_cost"], "busy_cost": df["busy_cost"], "idle_cost": df["idle_cost"],
        "shrinkage_cost": df["shrinkage_cost"],
        "telephony_cost": (df["wait_s_total"] + df["escalation_wait_s_total"] + df["handle_s_total"]
                           + df["escalation_handle_s_total"] + df["callback_handle_s_total"]) * tel,
        "margin": (df["answered"] + df["callbacks_made"]) * df["value_per_call"],
        "lost_value": (df["lost_callers"] + df["callbacks_expired"]) * df["loss_per_lost_caller"],
    })
    # total per replication: money summed, service pooled
    day = result.per_replication["day"].set_index("replication")
    tot = out.groupby("replication", sort=True)[["offered", "answered", "abandoned", "lost_callers",
                                                 "answered_within", "wait_answered_s_total"]
                                                + MONEY[:-1]].sum().reset_index()
    tot["segment"] = TOTAL
    # pooled, each segment by its definition
    tot["sl_num"] = tot["replication"].map(day["sl_num"])
    tot["sl_den"] = tot["replication"].map(day["sl_den"])
    tot["service_level"] = tot["replication"].map(day["service_level"])
    tot["meets_target"] = np.nan  # the segments have targets, the total has none
    tot["asa_s"] = tot["replication"].map(day["asa_s"])
    tot["abandon_rate"] = tot["abandoned"] / tot["offered"].where(tot["offered"] > 0)
    tot["wait_p90_s"] = tot["replication"].map(day["wait_p90_s"])
    out = pd.concat([out, tot[out.columns.drop(["profit"], errors="ignore")]], ignore_index=True)
    _derive(out)
    out["segment"] = pd.Categorical(out["segment"], categories=sc.segment_names + [TOTAL])
    out = out.sort_values(["replication", "segment"]).reset_index(drop=True)
    out["segment"] = out["segment"].astype(str)
    summary = summarise(out, ["segment"])
    return Economics(out, summary, gc)


def _derive(df: pd.DataFrame) -> None:
    cost = df["agent_cost"] + df["telephony_cost"]
    df["profit"] = df["margin"] - df["lost_value"] - cost
    df["cost_per_answered"] = cost / df["answered"].where(df["answered"] > 0)
    df["cost_per_sl_point"] = cost / (100 * df["service_level"]).where(df["service_level"] > 0)


def price_plan(plan, staffing: str = "scheduled_agents") -> pd.DataFrame:
    """Price a planner :class:`planner.staffing.Plan` per segment from its predictions (analytic: no CIs).

    ``staffing`` is ``scheduled_agents`` (the plan) or ``current_scheduled`` (the scenario's own).
    Agent cost per group = staffing x interval hours x cost_per_hour, allocated to the segments
    by predicted agent time (answered calls x AHT); the escalation groups' time spent on
    escalations goes to the segments that escalate, by escalated work. Margin and lost value
    come from predicted abandonment and blocking (retries not modelled), telephony from predicted ASA and
    handle time. Predictions are those of the plan's required staffing; for
    ``current_scheduled`` the service level is the ``service_level_current`` prediction.
    """
    scenario = plan.scenario
    hours = scenario.interval_s / 3600.0
    tel = scenario.costs.telephony_per_minute / 60.0
    seg_par = pd.DataFrame([{"segment": s.name, "mean_aht_s": scenario.mean_aht_s(s),
                             "value_per_call": s.value_per_call, "loss": s.clv * s.churn_per_abandon,
                             "esc_work_per_call": s.escalation_probability
                             * (s.escalation_aht_s or scenario.mean_aht_s(s))}
                            for s in scenario.segments])
    paid = plan.groups[["interval", "group", staffing]].copy()
    paid["paid"] = paid.pop(staffing) * hours * paid["group"].map({g.name: g.cost_per_hour
                                                                    for g in scenario.agent_groups})
    gs = plan.group_segments.merge(seg_par, on="segment")
    # the handle time in that interval and group (per-interval AHT, handle_time_factor), from the plan's load
    gs["aht_s"] = np.where(gs["calls"] > 0, gs["traffic_erlangs"] * scenario.interval_s
                           / gs["calls"].where(gs["calls"] > 0, 1.0), gs["mean_aht_s"])
    gs["answered"] = gs["calls"] * (1 - gs["abandon_rate"].fillna(0.0) - gs["block_rate"].fillna(0.0))
    gs["work"] = gs["answered"] * gs["aht_s"]
    esc = plan.escalations
    esc_work = (esc["calls"] * (1 - esc["abandon_rate"].fillna(0.0)) * esc["traffic_erlangs"]
                * scenario.interval_s / esc["calls"].where(esc["calls"] > 0)).fillna(0.0) if len(esc) else None
    # each group's paid cost split by work share (segments, and escalations when it takes them)
    work = gs.groupby(["interval", "group"])["work"].sum().rename("seg_work").reset_index()
    if esc_work is not None:
        work = work.merge(esc[["interval", "group"]].assign(esc_work=esc_work), on=["interval", "group"], how="outer")
    else:
        work["esc_work"] = 0.0
    work = work.fillna(0.0).merge(paid, on=["interval", "group"])
    total_work = work["seg_work"] + work["esc_work"]
    n_served = gs.groupby(["interval", "group"]).size().rename("n").reset_index()
    work = work.merge(n_served, on=["interval", "group"], how="left").fillna({"n": 1})
    esc_cost = float((work["paid"] * np.divide(work["esc_work"], total_work, out=np.zeros(len(work)),
                                                where=total_work > 0)).sum())
    gs = gs.merge(work[["interval", "group", "paid", "seg_work", "esc_work", "n"]], on=["interval", "group"])
    tw = gs["seg_work"] + gs["esc_work"]
    gs["agent_cost"] = gs["paid"] * np.divide(gs["work"], tw, out=1.0 / gs["n"].to_numpy(float), where=tw > 0)
    asa = np.nan_to_num(gs["asa_s"].to_numpy(float), nan=0.0, posinf=0.0)
    sl_col = "service_level_current" if staffing == "current_scheduled" else "service_level"
    gs["abandoned"] = gs["calls"] * gs["abandon_rate"].fillna(0.0)
    gs["blocked"] = gs["calls"] * gs["block_rate"].fillna(0.0)
    gs["margin"] = gs["answered"] * gs["value_per_call"]
    gs["lost_value"] = (gs["abandoned"] + gs["blocked"]) * gs["loss"]
    gs["telephony_cost"] = gs["answered"] * (asa + gs["aht_s"]) * tel
    gs["_sl_w"] = gs[sl_col].fillna(1.0) * gs["calls"]
    df = gs.groupby("segment", sort=False)[["calls", "answered", "abandoned", "blocked", "agent_cost", "telephony_cost",
                                            "margin", "lost_value", "_sl_w"]].sum()
    df = df.reindex(scenario.segment_names).fillna(0.0).reset_index()
    if esc_cost:
        ew = df["answered"] * df["segment"].map(seg_par.set_index("segment")["esc_work_per_call"])
        df["agent_cost"] += esc_cost * (ew / ew.sum() if ew.sum() > 0 else 1.0 / len(df))
    df["service_level"] = df.pop("_sl_w") / df["calls"].where(df["calls"] > 0)
    tot = df.drop(columns=["segment"]).sum(numeric_only=True)
    tot["service_level"] = (df["service_level"] * df["calls"]).sum() / df["calls"].sum()
    df = pd.concat([df, pd.DataFrame([{"segment": TOTAL, **tot.to_dict()}])], ignore_index=True)
    _derive(df)
    return df
