"""Erlang calculator: one interval, instant answers, Erlang C and Erlang A side by side.

Three questions: the agents a load needs for the targets, the service N agents give, and the
calls N agents can handle at the targets. The inputs can be filled from an interval of the
scenario being edited.
"""

import math

import streamlit as st

from app_pages import common
from ccplan import charts
from ccplan.scenario import SL_DEFINITIONS, sl_label
from planner.erlang import traffic_erlangs
from planner.staffing import evaluate, max_calls, required_agents, scheduled_agents, staffing_curve

MODES = ("Agents for the targets", "Service with N agents", "Calls N agents can handle")

st.title("Erlang calculator")
st.caption("One interval. Erlang C assumes callers never hang up; Erlang A lets them abandon after an exponential "
           "patience — usually the more realistic and cheaper answer.")

sc = common.scenario()


def _fill(segment: str, interval: int) -> None:
    """Put one interval of the scenario into the inputs (a widget callback: runs before the widgets exist)."""
    seg = sc.segment(segment)
    ss = st.session_state
    ss["erl_calls"] = round(float(sc.calls_per_interval(seg)[interval]), 2)
    ss["erl_int"] = float(sc.interval_minutes)
    ss["erl_aht"] = round(float(sc.aht_per_interval(seg)[interval]), 1)
    pat = sc.patience_per_interval(seg)[interval]
    if math.isfinite(pat):
        ss["erl_pat"] = round(float(pat), 1)
    groups = sc.groups_for(segment)
    ss["erl_shr"] = float(groups[0].shrinkage) if groups else 0.0
    ss["erl_thr"] = float(sc.answer_within_s(seg))
    ss["erl_tgt"] = float(sc.sl_target(seg))
    ss["erl_def"] = sc.sl_definition(seg)
    ss["erl_asa"] = None if seg.max_asa_s is None else float(seg.max_asa_s)
    ss["erl_abn"] = None if seg.max_abandon_rate is None else float(seg.max_abandon_rate)
    ss["erl_filled"] = f"{segment} at {sc.interval_labels()[interval]}"


with st.expander(f"Fill from the scenario ({common.esc(sc.name)})"):
    f = st.columns([2, 2, 1], vertical_alignment="bottom")
    seg_name = f[0].selectbox("Segment", sc.segment_names, key="erl_fill_seg")
    labels = sc.interval_labels()
    t_fill = f[1].selectbox("Interval", range(len(labels)), format_func=lambda i: labels[i], key="erl_fill_int")
    f[2].button("Fill", key="erl_fill", on_click=_fill, args=(seg_name, t_fill), width="stretch")
    if st.session_state.get("erl_filled"):
        st.caption(f"Filled from {common.esc(st.session_state['erl_filled'])}: calls, AHT, patience, shrinkage (the "
                   "first group that takes the segment), threshold, targets and SL definition.")

mode = st.radio("Question", MODES, horizontal=True, key="erl_mode", label_visibility="collapsed")
given = mode != MODES[0]

c = st.columns(4)
calls = c[0].number_input("Calls in the interval", min_value=0.0, value=100.0, step=10.0, key="erl_calls",
                          disabled=mode == MODES[2], help="Not used when the question is the calls N agents handle")
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
c = st.columns(4)
max_asa = c[0].number_input("Max ASA (s)", min_value=0.1, value=None, step=5.0, key="erl_asa", placeholder="none",
                            help="Average speed of answer of answered calls; empty = no target")
max_abn = c[1].number_input("Max abandonment", min_value=0.0, max_value=0.99, value=None, step=0.01, key="erl_abn",
                            placeholder="none", format="%.3f",
                            help="Share of offered callers who hang up (Erlang A); empty = no target")
n_given = c[2].number_input("Agents on the phones", min_value=1, value=14, step=1, key="erl_n", disabled=not given,
                            help="For 'Service with N agents' and 'Calls N agents can handle'")
defs = list(SL_DEFINITIONS)
definition = c[3].selectbox("Service level is", defs, format_func=lambda d: sl_label(d, within), key="erl_def",
                            help="what service level divides by, as your ACD reports it (Erlang C: all the same, "
                                 "since nobody abandons)")
cap = None if occ_cap >= 1 else occ_cap
interval_s = interval_min * 60

if mode == MODES[2]:
    st.subheader(f"Calls {n_given} agents on the phones can handle")
    cols = st.columns(2)
    for col, name, pat, abn in ((cols[0], "Erlang C (no abandonment)", None, None),
                                (cols[1], "Erlang A (abandonment)", patience, max_abn)):
        most = max_calls(int(n_given), aht_s, interval_s, within, target, pat, max_asa, abn, cap, definition)
        with col.container(border=True):
            st.markdown(f"**{name}**")
            k = st.columns(2)
            k[0].metric("Calls in the interval", f"{math.floor(most):,}",
                        help="the most calls for which every target above still holds")
            k[1].metric("Load", f"{traffic_erlangs(most, aht_s, interval_s):.1f} Erl")
            if most <= 0:
                st.warning("No load meets these targets with this many agents.")
    st.caption(f"Targets: service level {target:.0%} ({sl_label(definition, within)})"
               + (f", ASA ≤ {max_asa:g} s" if max_asa else "") + (f", abandonment ≤ {max_abn:.1%}" if max_abn is not None
                                                                  else "") + (f", occupancy ≤ {cap:.0%}" if cap else "")
               + ".")
    st.stop()

a = float(traffic_erlangs(calls, aht_s, interval_s))
st.markdown(f"Offered load: **{a:.2f} Erlangs** ({calls:g} calls × {aht_s:g} s / {interval_s:g} s)")
if calls <= 0:
    # zero load: nothing to staff; service level, ASA and occupancy are undefined, not 0% / inf / 100%
    st.info("No calls in the interval: there is nothing to staff (0 agents). Service level, waiting time and "
            "occupancy are undefined without calls. Enter the calls you expect.", icon=":material/info:")
    st.stop()

if given:
    n_c = n_a = int(n_given)
else:
    n_c = int(required_agents(a, aht_s, within, target, None, max_asa, None, cap))
    n_a = int(required_agents(a, aht_s, within, target, patience, max_asa, max_abn, cap, definition=definition))


def _pts(x: float) -> str:
    return f"{x * 100:+.1f} pts"


cols = st.columns(2)
for col, name, n, pat in ((cols[0], "Erlang C (no abandonment)", n_c, None), (cols[1], "Erlang A (abandonment)", n_a, patience)):
    with col.container(border=True):
        st.markdown(f"**{name}**")
        if n < 0:
            st.error("No staffing meets these targets.")
            continue
        m = evaluate(n, a, aht_s, within, pat, definition=definition)
        sl, asa, occ, abn = float(m.service_level), float(m.asa_s), float(m.occupancy), float(m.abandon_rate)
        k = st.columns(3)
        k[0].metric("Agents", n, help="agents on the phones (available)")
        k[1].metric("Scheduled", int(scheduled_agents(n, shrinkage)),
                    help=f"agents to schedule: with {shrinkage:.0%} shrinkage on top")
        k[2].metric("Service level", f"{sl:.1%}", _pts(sl - target),
                    help=f"{sl_label(definition if pat else 'offered', within)}, against the target {target:.0%}")
        k[2].caption(sl_label(definition if pat else "offered", within))
        k = st.columns(3)
        unstable = pat is None and n <= a
        k[0].metric("ASA", "∞" if math.isinf(asa) else f"{asa:.1f} s",
                    None if max_asa is None or math.isinf(asa) else f"{asa - max_asa:+.1f} s", delta_color="inverse",
                    help="average wait of answered calls" + (f", against the maximum {max_asa:g} s" if max_asa else ""))
        k[1].metric("Occupancy", f"{occ:.1%}")
        k[2].metric("Abandonment", f"{abn:.1%}" if pat else "—",
                    _pts(abn - max_abn) if pat and max_abn is not None else None, delta_color="inverse",
                    help="share of offered callers who hang up" + (f", against the maximum {max_abn:.1%}"
                                                                   if max_abn is not None else ""))
        if unstable:
            st.error(f"{n} agents for {a:.1f} Erlangs: without abandonment the queue grows without bound.")
        elif pat is not None and n < a:
            st.warning(f"**Below the offered load**: {n} agents for {a:.1f} Erlangs. This meets the service level only "
                       f"because {abn:.1%} of callers hang up; without them the queue would grow without bound. "
                       + ("Set a maximum abandonment to limit it." if max_abn is None else ""),
                       icon=":material/warning:")
        elif pat is not None and max_abn is None and abn >= 0.05:
            st.warning(f"{abn:.1%} of callers abandon at this staffing. Set a maximum abandonment if that is too many.",
                       icon=":material/warning:")
if not given and n_c > 0 and n_a >= 0:
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
    st.dataframe(curve, hide_index=True, width="stretch", column_config={
        "agents": st.column_config.NumberColumn("agents"),
        "service_level": st.column_config.NumberColumn("service level", format="percent"),
        "asa_s": st.column_config.NumberColumn("ASA (s)", format="%.1f"),
        "abandon_rate": st.column_config.NumberColumn("abandonment", format="percent"),
        "occupancy": st.column_config.NumberColumn("occupancy", format="percent"),
        "p_wait": st.column_config.NumberColumn("P(wait)", format="percent"),
    })
