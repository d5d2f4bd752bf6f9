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
- telephony_cost: (waiting + talking minutes) x telephony_per_minute;
- margin: answered calls x value_per_call;
- lost_value: callers whose last attempt abandoned (no later success on a retry)
  x clv x churn_per_abandon;
- profit = margin - lost_value - agent_cost - telephony_cost;
- cost_per_answered = (agent_cost + telephony_cost) / answered;
- cost_per_sl_point = (agent_cost + telephony_cost) / (service level in percentage points).
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
    """Price a :class:`sim.runner.SimulationResult` per segment and in total, with CIs over replications."""
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
        "service_level": df["service_level"], "asa_s": df["asa_s"], "abandon_rate": df["abandon_rate"],
        "wait_p90_s": df["wait_p90_s"],
        "agent_cost": df["paid_cost"], "busy_cost": df["busy_cost"], "idle_cost": df["idle_cost"],
        "shrinkage_cost": df["shrinkage_cost"],
        "telephony_cost": (df["wait_s_total"] + df["escalation_wait_s_total"] + df["handle_s_total"]
                           + df["escalation_handle_s_total"]) * tel,
        "margin": df["answered"] * df["value_per_call"],
        "lost_value": df["lost_callers"] * df["loss_per_lost_caller"],
    })
    # total per replication: money summed, service pooled
    day = result.per_replication["day"].set_index("replication")
    tot = out.groupby("replication", sort=True)[["offered", "answered", "abandoned", "lost_callers",
                                                 "answered_within"] + MONEY[:-1]].sum().reset_index()
    tot["segment"] = TOTAL
    tot["service_level"] = tot["answered_within"] / tot["offered"].where(tot["offered"] > 0)
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


def price_plan(plan_df: pd.DataFrame, scenario: Scenario, staffing: str = "scheduled_agents") -> pd.DataFrame:
    """Price a planner plan per segment from its predictions (no confidence intervals: analytic).

    ``staffing`` is ``scheduled_agents`` (the plan) or ``current_scheduled`` (the scenario's own).
    Agent cost per group = staffing x interval hours x cost_per_hour, allocated by predicted
    agent time (answered calls x AHT); margin and lost value from predicted abandonment
    (retries not modelled); telephony from predicted ASA and handle time.
    Predictions are those of the plan's required staffing; for ``current_scheduled`` the
    service level is the ``service_level_current`` prediction.
    """
    hours = scenario.interval_s / 3600.0
    tel = scenario.costs.telephony_per_minute / 60.0
    rows: dict[str, dict[str, float]] = {}
    esc_cost = 0.0
    for g in scenario.agent_groups:
        sub = plan_df[plan_df["group"] == g.name]
        paid = sub[staffing].to_numpy() * hours * g.cost_per_hour
        segs = [c.split(":", 1)[1] for c in sub.columns if c.startswith("calls:") and sub[c].notna().any()]
        work = {}
        for k in segs:
            aht = scenario.segment(k).aht_s if k in scenario.segment_names else 0.0
            calls = sub[f"calls:{k}"].fillna(0).to_numpy()
            ab = sub[f"abandon_rate:{k}"].fillna(0).to_numpy()
            work[k] = calls * (1 - ab) * (aht if aht else sub[f"traffic_erlangs:{k}"].fillna(0).to_numpy()
                                          * scenario.interval_s / np.maximum(calls, 1e-12))
        total_work = sum(work.values()) if work else np.zeros(len(sub))
        for k in segs:
            share = np.divide(work[k], total_work, out=np.full(len(sub), 1.0 / len(segs)), where=total_work > 0)
            if k not in scenario.segment_names:  # escalations: cost goes to the segments that escalate
                esc_cost += float((paid * share).sum())
                continue
            r = rows.setdefault(k, dict.fromkeys(["calls", "answered", "abandoned", "agent_cost", "telephony_cost",
                                                  "margin", "lost_value", "_sl_w"], 0.0))
            calls = sub[f"calls:{k}"].fillna(0).to_numpy()
            ab = sub[f"abandon_rate:{k}"].fillna(0).to_numpy()
            sl_col = "service_level_current" if staffing == "current_scheduled" else "service_level"
            sl = sub[f"{sl_col}:{k}"].fillna(1).to_numpy()
            asa = np.nan_to_num(sub[f"asa_s:{k}"].to_numpy(), nan=0.0, posinf=0.0)
            r["agent_cost"] += float((paid * share).sum())
            s = scenario.segment(k)
            answered = calls * (1 - ab)
            r["calls"] += float(calls.sum())
            r["answered"] += float(answered.sum())
            r["abandoned"] += float((calls * ab).sum())
            r["margin"] += float(answered.sum() * s.value_per_call)
            r["lost_value"] += float((calls * ab).sum() * s.clv * s.churn_per_abandon)
            r["telephony_cost"] += float((answered * (asa + s.aht_s)).sum() * tel)
            r["_sl_w"] += float((sl * calls).sum())
    if esc_cost:
        esc_work = {k: r["answered"] * scenario.segment(k).escalation_probability
                    * (scenario.segment(k).escalation_aht_s or scenario.segment(k).aht_s) for k, r in rows.items()}
        total = sum(esc_work.values())
        for k, r in rows.items():
            r["agent_cost"] += esc_cost * (esc_work[k] / total if total > 0 else 1.0 / len(rows))
    out = []
    for k, r in rows.items():
        sl = r.pop("_sl_w") / r["calls"] if r["calls"] > 0 else np.nan
        out.append({"segment": k, **r, "service_level": sl})
    df = pd.DataFrame(out)
    df["segment"] = pd.Categorical(df["segment"], categories=scenario.segment_names)
    df = df.sort_values("segment").reset_index(drop=True)
    df["segment"] = df["segment"].astype(str)
    tot = df.drop(columns=["segment"]).sum(numeric_only=True)
    tot["service_level"] = (df["service_level"] * df["calls"]).sum() / df["calls"].sum()
    df = pd.concat([df, pd.DataFrame([{"segment": TOTAL, **tot.to_dict()}])], ignore_index=True)
    _derive(df)
    return df
