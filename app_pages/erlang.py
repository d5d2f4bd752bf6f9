"""Erlang calculator: one interval, instant answers, Erlang C and Erlang A side by side."""

import math

import streamlit as st

from ccplan import charts
from ccplan.scenario import SL_DEFINITIONS, sl_label
from planner.erlang import traffic_erlangs
from planner.staffing import evaluate, required_agents, scheduled_agents, staffing_curve

st.title("Erlang calculator")
st.caption("One interval. Erlang C assumes callers never hang up; Erlang A lets them abandon after an exponential "
           "patience — usually the more realistic and cheaper answer.")

c = st.columns(4)
calls = c[0].number_input("Calls in the interval", min_value=0.0, value=100.0, step=10.0, key="erl_calls")
interval_min = c[1].number_input("Interval (minutes)", min_value=1.0, value=30.0, step=15.0, key="erl_int")
aht_s = c[2].number_input("AHT (s)", min_value=1.0, value=180.0, step=10.0, key="erl_aht")
shrinkage = c[3].number_input("Shrinkage", min_value=0.0, max_value=0.95, value=0.30, step=0.05, key="erl_shr")
c = st.columns(4)
within = c[0].number_input("Answer within (s)", min_value=0.0, value=20.0, step=5.0, key="erl_thr")
target = c[1].number_input("Service-level target", min_value=0.01, max_value=0.999, value=0.80, step=0.05,
                           key="erl_tgt")
patience = c[2].number_input("Mean patience (s)", min_value=1.0, value=120.0, step=10.0, key="erl_pat",
                             help="Used by Erlang A")
occ_cap = c[3].number_input("Max occupancy", min_value=0.05, max_value=1.0, value=1.0, step=0.05, key="erl_occ",
                            help="1 = no cap")

defs = list(SL_DEFINITIONS)
definition = st.selectbox("Service level is", defs, format_func=lambda d: sl_label(d, within), key="erl_def",
                          help="what service level divides by, as your ACD reports it (Erlang C: all the same, "
                               "since nobody abandons)")
a = float(traffic_erlangs(calls, aht_s, interval_min * 60))
cap = None if occ_cap >= 1 else occ_cap
n_c = int(required_agents(a, aht_s, within, target, None, max_occupancy=cap))
n_a = int(required_agents(a, aht_s, within, target, patience, max_occupancy=cap, definition=definition))

st.markdown(f"Offered load: **{a:.2f} Erlangs** ({calls:g} calls × {aht_s:g} s / {interval_min * 60:g} s)")
if calls <= 0:
    # zero load: nothing to staff; service level, ASA and occupancy are undefined, not 0% / inf / 100%
    st.info("No calls in the interval: there is nothing to staff (0 agents). Service level, waiting time and "
            "occupancy are undefined without calls. Enter the calls you expect.", icon=":material/info:")
    st.stop()
cols = st.columns(2)
for col, name, n, pat in ((cols[0], "Erlang C (no abandonment)", n_c, None), (cols[1], "Erlang A (abandonment)", n_a, patience)):
    with col.container(border=True):
        st.markdown(f"**{name}**")
        if n < 0:
            st.error("No staffing meets these targets.")
            continue
        m = evaluate(n, a, aht_s, within, pat, definition=definition)
        k = st.columns(3)
        k[0].metric("Agents on the phones", n)
        k[1].metric("Scheduled (with shrinkage)", int(scheduled_agents(n, shrinkage)))
        k[2].metric("Service level", f"{float(m.service_level):.1%}",
                    f"{(float(m.service_level) - target) * 100:+.1f} pts vs target {target:.0%}",
                    help=sl_label(definition if pat else "offered", within))
        k[2].caption(sl_label(definition if pat else "offered", within))
        k = st.columns(3)
        asa = float(m.asa_s)
        k[0].metric("ASA", "∞" if math.isinf(asa) else f"{asa:.1f} s")
        k[1].metric("Occupancy", f"{float(m.occupancy):.1%}")
        k[2].metric("Abandonment", f"{float(m.abandon_rate):.2%}" if pat else "—")
if n_c > 0 and n_a >= 0:
    diff = int(scheduled_agents(n_c, shrinkage)) - int(scheduled_agents(n_a, shrinkage))
    if diff > 0:
        st.info(f"Ignoring abandonment (Erlang C) schedules **{diff} more agent(s)** than Erlang A for the same "
                f"target — Erlang A counts callers who hang up as missed, and their leaving shortens everyone's wait.")

lo = max(1, int(a * 0.8))
hi = max(int(max(n_c, n_a, 1) * 1.25) + 3, lo + 5)
rng = st.slider("Agents shown in the charts", 1, max(hi * 2, 20), (lo, hi), key="erl_range")
curve = staffing_curve(a, aht_s, within, patience, rng[0], rng[1])
st.pyplot(charts.erlang_curves_figure(curve, target, within, n_a if n_a > 0 else None), width="stretch")
with st.expander("Table"):
    st.dataframe(curve, hide_index=True, width="stretch")
