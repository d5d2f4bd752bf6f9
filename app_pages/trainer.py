"""Trainer: one classroom screen showing how routing priorities move waiting time between segments."""

import pandas as pd
import streamlit as st
import streamlit.components.v1 as components

from app_pages import common
from ccplan import charts
from ccplan.compare import compare
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
key = common.scenario_key(sc, reps)


def run():
    variants = [(p, sc.with_changes({"routing.policy": p})) for p in ("fifo", "priority", "aging")]
    return compare(variants, replications=reps, seed=7, executor=InlineExecutor(), keep_log=True)


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
with c2:
    st.markdown("#### What you see")
    st.markdown("\n".join(f"- {line}" for line in trainer_story(
        {(v, s_): float(w.loc[(v, s_), "mean_wait_s"]) for v in ("fifo", "priority", "aging") for s_ in ("gold", "silver")},
        {v: pooled(v) for v in ("fifo", "priority", "aging")}, abandon, occupancy, sc.routing.aging_s)))
