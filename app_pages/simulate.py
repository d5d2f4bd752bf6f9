"""Simulate page: run the current scenario, KPI cards per segment with confidence intervals, charts, downloads."""

import io

import pandas as pd
import streamlit as st

from app_pages import common
from ccplan import charts
from ccplan.economics import price_simulation
from ccplan.outputs import csv_text
from ccplan.report import delta_text
from sim.runner import simulate

sc = common.scenario()
st.title("Simulate")
st.caption(f"{common.esc(sc.name)}: a discrete-event simulation of the day — arrivals per interval, routing, abandonment, "
           "retries, escalations, shift changes — repeated to give 95% confidence intervals.")

c = st.columns([1, 1, 2])
reps = c[0].number_input("Replications", min_value=2, max_value=500, value=int(sc.simulation.replications),
                         key="sim_reps")
seed = c[1].number_input("Seed", min_value=0, value=int(sc.simulation.seed), key="sim_seed")
key = common.scenario_key(sc, reps, seed)
run = c[2].button("Run simulation", type="primary", key="sim_run")
ok = common.confirm_work([sc], int(reps), "sim")

if run and ok and not common.has_result("sim", key):
    progress = common.progress_callback("Simulating")
    common.cached("sim", key, lambda: simulate(sc, replications=int(reps), seed=int(seed), keep_log=True,
                                               progress=progress))
    progress(int(reps), int(reps))

if not common.has_result("sim", key):
    st.info("Press **Run simulation** to simulate the current scenario.")
    st.stop()

res = common.result("sim", key)
eco = common.cached("eco", key, lambda: price_simulation(res))
summ = eco.summary.set_index("segment")

# the runs of this session, newest last: the one before this one is shown beside it
history: list = st.session_state.setdefault("sim_history", [])
if not history or history[-1]["key"] != key:
    history[:] = [h for h in history if h["key"] != key][-4:]
    hours = sum(float(sc.agents_per_interval(g).sum()) * sc.interval_s / 3600 for g in sc.agent_groups)
    history.append({"key": key, "label": f"run {len(history) + 1}: {sc.name}, {hours:,.0f} agent hours, "
                                         f"{int(reps)} replications", "summary": eco.summary.copy(), "hours": hours})

st.subheader("Per segment")
for seg in sc.segment_names:
    r = summ.loc[seg]
    target = sc.sl_target(seg)
    with st.container(border=True):
        st.markdown(f"**{common.esc(seg)}** — target {target:.0%} within {sc.answer_within_s(seg):g} s")
        k = st.columns(5)
        k[0].metric("Service level", f"{r['service_level']:.1%}", delta_text(r["service_level"] - target, "service_level"),
                    help=f"{sc.sl_label(seg)}; against the target {target:.0%}; 95% CI {r['service_level_ci_low']:.1%} – "
                         f"{r['service_level_ci_high']:.1%}")
        k[0].caption(f"{sc.sl_label(seg)}; over all simulated days")
        k[1].metric("ASA", f"{r['asa_s']:.1f} s", help=f"95% CI {r['asa_s_ci_low']:.1f} – {r['asa_s_ci_high']:.1f} s")
        k[2].metric("Abandonment", f"{r['abandon_rate']:.2%}",
                    help=f"95% CI {r['abandon_rate_ci_low']:.2%} – {r['abandon_rate_ci_high']:.2%}")
        k[3].metric(f"Cost per answered ({sc.currency})", f"{r['cost_per_answered']:.2f}",
                    help="Cost to serve: (agent cost + telephony) / answered calls")
        k[4].metric(f"Profit ({sc.currency})", f"{r['profit']:,.0f}",
                    help=f"profit contribution of the segment; 95% CI {r['profit_ci_low']:,.0f} – "
                         f"{r['profit_ci_high']:,.0f}")
        if pd.notna(r["days_meeting"]):
            ci = "" if pd.isna(r["days_meeting_ci_low"]) else \
                f" (95% CI {r['days_meeting_ci_low']:.0%} – {r['days_meeting_ci_high']:.0%})"
            p10 = "" if pd.isna(r["daily_sl_p10"]) else f"; one day in ten is below {r['daily_sl_p10']:.1%}"
            st.caption(f"Days meeting the target: **{r['days_meeting']:.0%}** of {res.replications} simulated days"
                       f"{ci}{p10}.")

prev = history[-2] if len(history) > 1 and history[-1]["key"] == key else None
if prev is not None:
    st.subheader("Before and after")
    st.caption(f"This run against the previous one ({common.esc(prev['label'])}). Differences of rates in "
               "percentage points; each run has its own confidence intervals in its KPI table.")
    before = prev["summary"].set_index("segment")
    rows = []
    for seg in summ.index:
        if seg not in before.index:
            continue
        b, a = before.loc[seg], summ.loc[seg]
        rows.append({"segment": seg,
                     "service level": f"{b['service_level']:.1%} → {a['service_level']:.1%} "
                                      f"({delta_text(a['service_level'] - b['service_level'], 'service_level')})",
                     "ASA": f"{b['asa_s']:.1f} → {a['asa_s']:.1f} s ({delta_text(a['asa_s'] - b['asa_s'], 'asa_s')})",
                     "abandonment": f"{b['abandon_rate']:.1%} → {a['abandon_rate']:.1%} "
                                    f"({delta_text(a['abandon_rate'] - b['abandon_rate'], 'abandon_rate')})",
                     f"agent cost ({sc.currency})": f"{b['agent_cost']:,.0f} → {a['agent_cost']:,.0f} "
                                                    f"({delta_text(a['agent_cost'] - b['agent_cost'], 'agent_cost')})",
                     f"profit ({sc.currency})": f"{b['profit']:,.0f} → {a['profit']:,.0f} "
                                                f"({delta_text(a['profit'] - b['profit'], 'profit')})"})
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="sim_before_after")
    st.caption(f"Agent hours {prev['hours']:,.0f} → {history[-1]['hours']:,.0f}.")

st.subheader("KPI table (± half-width of the 95% CI)")
st.caption("Service level, ASA and abandonment over all simulated days (all calls of every replication pooled); "
           "calls, costs and profit per day. Days meeting target: share of simulated days whose own service level "
           "meets the target [95% CI]; day SL p10: one day in ten is worse.")
rows = []
for seg, r in summ.iterrows():
    rows.append({
        "segment": seg,
        "offered": f"{r['offered']:,.0f}",
        "service level": common.fmt_ci(r["service_level"], r["service_level_ci_low"], r["service_level_ci_high"], ".1%"),
        "target": f"{sc.sl_target(seg):.0%}" if seg in sc.segment_names else "",
        "days meeting target": "" if pd.isna(r["days_meeting"]) else
        f"{r['days_meeting']:.0%}" + ("" if pd.isna(r["days_meeting_ci_low"]) else
                                      f" [{r['days_meeting_ci_low']:.0%}–{r['days_meeting_ci_high']:.0%}]"),
        "day SL p10": "" if pd.isna(r["daily_sl_p10"]) else f"{r['daily_sl_p10']:.1%}",
        "ASA (s)": common.fmt_ci(r["asa_s"], r["asa_s_ci_low"], r["asa_s_ci_high"], ".1f"),
        "abandonment": common.fmt_ci(r["abandon_rate"], r["abandon_rate_ci_low"], r["abandon_rate_ci_high"], ".2%"),
        "wait p90 (s)": f"{r['wait_p90_s']:.0f}",
        f"agent cost ({sc.currency})": common.fmt_ci(r["agent_cost"], r["agent_cost_ci_low"], r["agent_cost_ci_high"], ",.0f"),
        f"profit ({sc.currency})": common.fmt_ci(r["profit"], r["profit_ci_low"], r["profit_ci_high"], ",.0f"),
        "cost per answered": f"{r['cost_per_answered']:.2f}",
    })
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="kpi_table")

if any(x.callback is not None or x.max_queue_s is not None for x in sc.segments):
    st.subheader("Callbacks and queue caps")
    st.caption("Per day, per segment (± half-width of the 95% CI). Accepted callers left the queue; made = reached "
               "and served, within the window or late; expired = not reached after every attempt (or not made by "
               "closing); pending = not yet made at the end of the day. Callback service level = made within the "
               "window / accepted; time to resolution = mean time from the caller's arrival to the end of the call "
               "back. Capped: callers who reached the queue cap, by what then happened to them.")
    cbs = res.summary["segments"].set_index("segment")
    cb_rows = []
    for x in sc.segments:
        if x.name not in cbs.index:
            continue
        r = cbs.loc[x.name]

        def _n(col: str, r=r) -> str:
            return common.fmt_ci(r[col], r[f"{col}_ci_low"], r[f"{col}_ci_high"], ",.1f")

        cb_rows.append({
            "segment": x.name,
            "callbacks": (f"{x.callback.mode}, after {x.callback.offer_after_s:g} s" if x.callback else "none"),
            "offered": _n("callbacks_offered"), "accepted": _n("callbacks_accepted"), "made": _n("callbacks_made"),
            "within window": _n("callbacks_within_window"), "late": _n("callbacks_late"),
            "expired": _n("callbacks_expired"), "pending": _n("callbacks_pending"),
            "callback SL": "" if pd.isna(r["callback_service_level"]) else common.fmt_ci(
                r["callback_service_level"], r["callback_service_level_ci_low"], r["callback_service_level_ci_high"],
                ".1%"),
            "time to resolution (s)": "" if pd.isna(r["callback_resolution_s"]) else common.fmt_ci(
                r["callback_resolution_s"], r["callback_resolution_s_ci_low"], r["callback_resolution_s_ci_high"],
                ",.0f"),
            "queue cap": "none" if x.max_queue_s is None else f"{x.max_queue_s:g} s → {x.max_queue_outcome}",
            "capped: abandoned": _n("capped_abandon"), "capped: overflowed": _n("capped_overflow"),
            "capped: callback": _n("capped_callback"),
        })
    st.dataframe(pd.DataFrame(cb_rows), hide_index=True, width="stretch", key="sim_callbacks")

occ = res.summary["groups"]
st.markdown("**Occupancy per group:** " + ", ".join(
    f"{r['group']} {common.fmt_ci(r['occupancy'], r['occupancy_ci_low'], r['occupancy_ci_high'], '.1%')}"
    for _, r in occ.iterrows()))

st.subheader("Charts")
chart = st.radio("Show", ["Waiting times", "Queue and occupancy over the day", "Profit per segment",
                          "Service level per segment"], horizontal=True, key="sim_chart")
if chart == "Waiting times":
    fig = charts.wait_distribution_figure(res.call_log, {s: sc.answer_within_s(s) for s in sc.segment_names})
elif chart == "Queue and occupancy over the day":
    fig = charts.day_figure(res.summary["intervals"], res.summary["group_intervals"])
else:
    table = eco.summary.assign(variant=sc.name)
    metric = "profit" if chart.startswith("Profit") else "service_level"
    fig = charts.comparison_figure(table, metric, sc.currency, targets={s: sc.sl_target(s) for s in sc.segment_names}
                                   if metric == "service_level" else None)
st.pyplot(fig, width="stretch")

st.subheader("Downloads")
c = st.columns(4)
def _parquet(log: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    log.to_parquet(buf, index=False)
    return buf.getvalue()


# encoded once per result, not on every rerun of the page
c[0].download_button("Call log (Parquet)", common.cached("log_parquet", key, lambda: _parquet(res.call_log)),
                     file_name="call_log.parquet", mime="application/octet-stream")
c[3].download_button("Call log (CSV)", common.cached("log_csv", key, lambda: csv_text(res.call_log)),
                     file_name="call_log.csv", mime="text/csv", key="sim_log_csv")
c[1].download_button("Segment metrics (CSV)", csv_text(eco.summary), file_name="segments.csv",
                     mime="text/csv")
c[2].download_button("Interval metrics (CSV)", csv_text(res.summary["intervals"]), file_name="intervals.csv",
                     mime="text/csv")
