"""Trainer: one classroom screen showing how routing priorities move waiting time between segments."""

import copy

import numpy as np
import pandas as pd
import streamlit as st
import streamlit.components.v1 as components

from app_pages import common
from ccplan import charts
from ccplan.comparison import compare
from ccplan.replay import replay_data, replay_html
from ccplan.report import trainer_story
from ccplan.scenario import from_dict, load, presets, to_dict
from sim.runner import InlineExecutor

st.title("Trainer: who waits when the queue is full?")
with st.sidebar:
    st.info("The Trainer page works on its own classroom scenario (the trainer preset: 50 agents, gold and silver "
            "callers, 5-minute calls), set by the sliders on the page, not on the scenario being edited.",
            icon=":material/school:")
st.caption("The same callers, three routing rules. Gold and silver customers need the same handling; only the "
           "routing decides who waits.")

base = load(presets()["trainer"])
c = st.columns(3)
occupancy = c[0].slider("Load (offered Erlangs per agent)", 0.70, 1.20, 0.90, 0.01, key="tr_load",
                        help="0.90 means 45 Erlangs offered to 50 agents; above 1.0 more work arrives than the agents "
                             "can do, and only callers hanging up (mean patience 10 minutes) keep the queue finite")
gold_share = c[1].slider("Gold share of calls", 0.1, 0.7, 0.4, 0.05, key="tr_share")
reps = c[2].select_slider("Replications", [4, 8, 12], value=8, key="tr_reps")

agents = base.group("team").agents
aht = base.mean_aht_s("gold")
calls = occupancy * agents * base.interval_s / aht
data = to_dict(base)
data["segments"][0]["calls_per_interval"] = [round(calls * gold_share, 3)] * base.n_intervals
data["segments"][1]["calls_per_interval"] = [round(calls * (1 - gold_share), 3)] * base.n_intervals
sc = from_dict(data)
LESSONS = {"routing": "Three routing rules", "callbacks": "Offer callbacks to silver callers"}
lesson = st.radio("Compare", list(LESSONS), format_func=LESSONS.get, horizontal=True, key="tr_lesson",
                  help="the same callers (common random numbers) under each variant")
CB_VARIANTS = ("no callbacks", "callbacks for silver")
if lesson == "callbacks":
    # first come, first served, so that only the callbacks differ: silver callers still waiting after 30 s are
    # offered a call back; those who accept leave the queue, and agents call them back when no inbound call waits
    cb_data = copy.deepcopy(data)
    cb_data["routing"] = {**cb_data.get("routing", {}), "policy": "fifo"}
    without = from_dict(cb_data)
    cb_data["segments"][1]["callback"] = {"offer_after_s": 30.0, "mode": "waited", "accept_probability": 0.6,
                                          "window_s": 3600.0, "aht_factor": 1.0, "answer_probability": 0.9,
                                          "attempts": 3}
    variants = [(CB_VARIANTS[0], without), (CB_VARIANTS[1], from_dict(cb_data))]
    st.caption("Both variants serve first come, first served. With callbacks, silver callers still waiting after "
               "30 s are offered a call back within the hour (60% accept and hang up; agents call back only when no "
               "inbound call waits).")
else:
    variants = [(p, sc.with_changes({"routing.policy": p})) for p in ("fifo", "priority", "aging")]
key = common.scenario_key(sc, reps, lesson)


def run():
    return compare(variants, replications=reps, seed=7, executor=InlineExecutor(), keep_log=True)


def resolution_rows(name: str, res) -> list[dict]:
    """Mean time to resolution per segment (95% CI over replications): arrival to the end of the answered call,
    or to the end of the call back for a caller who accepted one; abandoned and unresolved callers are left out."""
    log = res.call_log
    done_cb = log["callback_end_s"].notna() if "callback_end_s" in log else pd.Series(False, index=log.index)
    end = np.where(done_cb, log.get("callback_end_s", np.nan), np.where(log["answered"], log["end_s"], np.nan))
    t = pd.DataFrame({"replication": log["replication"], "segment": log["segment"].astype(str),
                      "resolution_s": end - log["arrival_s"]}).dropna()
    out = []
    for seg_name in sc.segment_names:
        per_rep = t[t["segment"] == seg_name].groupby("replication")["resolution_s"].mean()
        m = float(per_rep.mean()) if len(per_rep) else float("nan")
        h = 1.96 * float(per_rep.std(ddof=1)) / np.sqrt(len(per_rep)) if len(per_rep) > 1 else 0.0
        out.append({"variant": name, "segment": seg_name, "resolution_s": m, "resolution_s_ci_low": m - h,
                    "resolution_s_ci_high": m + h,
                    "offered": float(res.summary["segments"].set_index("segment").loc[seg_name, "offered"])})
    return out


cmp = common.cached("trainer", key, run)
logs = {name: res.call_log for name, res, _ in cmp.variants}
st.pyplot(charts.trainer_figure(logs, {s: sc.answer_within_s(s) for s in sc.segment_names}), width="stretch")

st.subheader("Replay one hour")
st.caption("The same callers under each rule: dots are callers waiting in their segment's queue (the head at the "
           "top), squares are the 50 agents coloured by the call in hand, a dot flies to the agent that answers it, "
           "and a cross falls out when a caller hangs up. Play, pause, change the speed or drag the time.")
day_h = sc.n_intervals * sc.interval_s / 3600
starts = [h * 0.5 for h in range(int((day_h - 1) * 2) + 1)]
hour = st.select_slider("Hour to replay, starting", starts, value=starts[len(starts) // 2], key="tr_hour",
                        format_func=lambda h: sc.interval_labels()[int(h * 3600 // sc.interval_s)])
t0 = hour * 3600
panels = {name: replay_data(res.call_log, t0, t0 + 3600) for name, res, _ in cmp.variants}
open_min = int(sc.open_time[:2]) * 60 + int(sc.open_time[3:5])
components.html(replay_html(panels, t0, t0 + 3600, open_minutes=open_min, height_px=300), height=360)

rows = []
for name, res, _ in cmp.variants:
    seg = res.summary["segments"]
    for _, r in seg.iterrows():
        rows.append({"variant": name, "segment": r["segment"], "mean_wait_s": r["mean_wait_s"],
                     "mean_wait_s_ci_low": r["mean_wait_s_ci_low"], "mean_wait_s_ci_high": r["mean_wait_s_ci_high"],
                     "service_level": r["service_level"], "offered": r["offered"]})
table = pd.DataFrame(rows)
c1, c2 = st.columns([3, 2])
c1.pyplot(charts.comparison_figure(table, "mean_wait_s", title="Mean wait per segment (95% CI)"), width="stretch")

w = table.set_index(["variant", "segment"])


def pooled(v: str) -> float:
    sub = table[table["variant"] == v]
    return float((sub["mean_wait_s"] * sub["offered"]).sum() / sub["offered"].sum())


abandon = {name: float((res.summary["segments"]["abandon_rate"] * res.summary["segments"]["offered"]).sum()
                       / res.summary["segments"]["offered"].sum()) for name, res, _ in cmp.variants}
if lesson == "callbacks":
    res_table = pd.DataFrame([r for name, res, _ in cmp.variants for r in resolution_rows(name, res)])
    rt = res_table.set_index(["variant", "segment"])
    cbs = cmp.variants[1][1].summary["segments"].set_index("segment")
    with c2:
        st.markdown("#### What you see")
        g0, g1 = (float(w.loc[(v, "gold"), "mean_wait_s"]) for v in CB_VARIANTS)
        s0, s1 = (float(rt.loc[(v, "silver"), "resolution_s"]) for v in CB_VARIANTS)
        st.markdown("\n".join(f"- {line}" for line in (
            f"Gold callers wait {g0:.1f} s on average without callbacks and {g1:.1f} s with them: silver callers "
            "who accept a callback leave the queue, and their calls are made when no one is waiting.",
            f"Silver's time to resolution (arrival to the end of the call, or of the call back) goes from "
            f"{s0:,.0f} s to {s1:,.0f} s: a callback is quiet for the caller but later.",
            f"Silver callers accepted {cbs.loc['silver', 'callbacks_accepted']:,.0f} callbacks per day; "
            f"{cbs.loc['silver', 'callback_service_level']:.0%} were made within the hour, and those callers "
            f"were resolved {cbs.loc['silver', 'callback_resolution_s']:,.0f} s after they called on average.")))
    st.pyplot(charts.comparison_figure(res_table, "resolution_s", title="Time to resolution per segment (95% CI)"),
              width="stretch")
    st.stop()

with c2:
    st.markdown("#### What you see")
    st.markdown("\n".join(f"- {line}" for line in trainer_story(
        {(v, s_): float(w.loc[(v, s_), "mean_wait_s"]) for v in ("fifo", "priority", "aging") for s_ in ("gold", "silver")},
        {v: pooled(v) for v in ("fifo", "priority", "aging")}, abandon, occupancy, sc.routing.aging_s)))
