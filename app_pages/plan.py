"""Staffing plan page: required vs scheduled agents per interval, predicted service, hours and cost."""

import streamlit as st

from app_pages import common
from ccplan import charts
from ccplan.economics import price_plan
from ccplan.outputs import csv_text
from ccplan.report import below_load_note, sl_caption, target_text
from planner.staffing import plan

sc = common.scenario()
st.title("Staffing plan")
st.caption(f"{common.esc(sc.name)}: the fewest agents per interval and group that meet every segment's targets under "
           f"'{sc.routing.policy}' routing (Erlang A where callers abandon), with shrinkage on top.")
occ = st.slider("Occupancy cap", 0.5, 1.0, 1.0, 0.01, key="plan_occ", help="1.0 = no cap")
key = common.scenario_key(sc, occ)
pl = common.cached("plan", key, lambda: plan(sc, max_occupancy=None if occ >= 1 else occ))
df = pl.groups
groups, segments = pl.daily_groups(), pl.daily_segments()
reasons = pl.approximate_reasons()
if reasons:
    st.warning("The analytic figures on this page are approximate for this scenario (" + "; ".join(reasons) + "). "
               "Use **Verify by simulation** at the bottom of the page before you rely on them.",
               icon=":material/warning:")

# staffing below the offered load: Erlang A allows it when abandonment absorbs the excess; never silently
below_note = below_load_note(pl)
if below_note:
    st.warning(common.esc(below_note), icon=":material/warning:")
high_abandon = segments[segments["abandon_rate"] >= 0.05]
saving = groups["agent_hours"].sum() - groups["current_agent_hours"].sum()
bought = saving < 0 and (below_note is not None or len(high_abandon) > 0)
k = st.columns(4)
k[0].metric("Planned agent hours", f"{groups['agent_hours'].sum():,.1f}", f"{saving:+,.1f} vs scenario",
            delta_color="off" if bought else "inverse",
            help="planned minus the scenario's own agent hours" + (
                "; not shown as a gain: the plan lets callers abandon (see the abandonment per segment)" if bought
                else ""))
if bought:
    k[0].caption("a saving bought with abandonment: "
                 + ", ".join(f"{common.esc(r.segment)} {r.abandon_rate:.1%}"
                             for r in segments.sort_values("abandon_rate", ascending=False).head(2).itertuples()))
k[1].metric(f"Planned agent cost ({sc.currency})", f"{groups['cost'].sum():,.0f}")
k[2].metric("Peak scheduled agents", f"{int(df.groupby('interval')['scheduled_agents'].sum().max())}")
k[3].metric("Intervals", f"{sc.n_intervals} × {sc.interval_minutes} min")

st.pyplot(charts.plan_figure(df), width="stretch")

st.subheader("Predicted service per segment (whole day)")
st.caption(common.esc(sl_caption(sc)))
show = segments.copy()
show["target"] = [target_text(sc, s) for s in show["segment"]]
common.table(show, sc.currency, column_config={
    "service_level": st.column_config.NumberColumn("SL at plan", format="percent")})
st.subheader("Per group (whole day)")
common.table(groups, sc.currency)
st.subheader("Economics of the plan (analytic)")
st.caption("Agent cost allocated to segments by predicted agent time; margin and lost customer value from predicted "
           "abandonment. Simulate for confidence intervals, retries and escalations in full.")
common.table(price_plan(pl), sc.currency)

st.subheader("Per interval")
cols = ["time", "group", "traffic_erlangs", "required_agents", "scheduled_agents", "current_scheduled",
        "cost_optimal_scheduled", "occupancy", "cost", "marginal_value"]
common.table(df[cols], sc.currency, height=320, column_config={
    "marginal_value": st.column_config.NumberColumn(
        f"value of +1 agent ({sc.currency})", format="%.2f",
        help="profit change in the interval from one more agent on the phones, priced at cost per hour / "
             "(1 - shrinkage)")})
st.download_button("Download plan (CSV)", csv_text(pl.wide()), file_name="staffing_plan.csv", mime="text/csv")

# ---------------------------------------------------------------------------
# verification by simulation, and applying a staffing to the scenario
st.subheader("Verify by simulation")
st.caption("Starts from the analytic plan and lets the simulator decide: agents are added where an interval misses "
           "its target and removed where they are not needed, with the same simulated callers for every candidate "
           "(common random numbers), until every interval with enough calls meets its targets and no group in any "
           "interval can lose an agent on those callers. Then the staffing is confirmed on fresh callers the search "
           "never saw (5× the replications), and agents are added where a target misses there.")
c = st.columns([1, 1, 1, 2])
v_reps = c[0].number_input("Replications", min_value=2, max_value=200, value=int(sc.simulation.replications),
                           key="ver_reps")
v_seed = c[1].number_input("Seed", min_value=0, value=int(sc.simulation.seed), key="ver_seed")
v_days = c[2].number_input("Days meeting the target (%)", min_value=0, max_value=99, value=0, step=5,
                           key="ver_days", help="0: judge the long-run service level only. 90: also at least 90% of "
                                                "simulated days must meet each segment's day target.")
v_key = common.scenario_key(sc, occ, v_reps, v_seed, v_days)
if c[2].button("Verify by simulation", type="primary", key="ver_run") and not common.has_result("verify", v_key):
    from ccplan.verification import VerifyError, verify

    bar = st.progress(0.0, text="Verifying by simulation")

    def _progress(done: int, total: int, msg: str) -> None:
        bar.progress(min(done / total, 1.0), text=f"Verifying by simulation: round {done} of at most {total} — {msg}")

    try:
        common.cached("verify", v_key, lambda: verify(sc, replications=int(v_reps), seed=int(v_seed),
                                                      max_occupancy=None if occ >= 1 else occ, progress=_progress,
                                                      days_meeting=v_days / 100 if v_days else None))
    except VerifyError as exc:
        st.error(common.esc(str(exc)))
    bar.empty()

ver = common.result("verify", v_key) if common.has_result("verify", v_key) else None
if ver is not None:
    k = st.columns(4)
    k[0].metric("Agent hours, analytic plan", f"{ver.agent_hours_planned:,.1f}")
    d = ver.agent_hours_verified - ver.agent_hours_planned
    k[1].metric("Agent hours, verified", f"{ver.agent_hours_verified:,.1f}",
                f"{d:+,.1f} ({d / ver.agent_hours_planned:+.1%}) vs plan" if ver.agent_hours_planned else None,
                delta_color="inverse")
    k[2].metric("Targets", "all met" if ver.all_met else "NOT all met")
    k[3].metric(f"Staffings simulated ({ver.iterations} rounds)", f"{ver.evaluations}")
    (st.success if ver.all_met else st.error)(common.esc(ver.outcome()))
    st.pyplot(charts.verified_staffing_figure(ver.groups), width="stretch")
    st.pyplot(charts.verified_service_figure(ver.intervals), width="stretch")
    seg = ver.segments.copy()
    seg["target"] = [target_text(sc, k) for k in seg["segment"]]
    st.caption(common.esc(sl_caption(sc)))
    common.table(seg, sc.currency, column_config={
        "service_level": st.column_config.NumberColumn("SL (whole day, simulated)", format="percent")})
    with st.expander("Per interval and group: planned and verified agents"):
        common.table(ver.groups, sc.currency, column_config={
            "occupancy": st.column_config.NumberColumn("occupancy (simulated)", format="percent")})


def _apply(kind: str) -> None:
    """Put the verified or the analytic staffing into the scenario being edited."""
    import copy

    data = copy.deepcopy(st.session_state["base"])
    if kind == "verified":
        res = common.result("verify", v_key)
        staffing = {g: list(map(int, d.sort_values("interval")["agents_verified"]))
                    for g, d in res.groups.groupby("group")}
    else:
        staffing = {g: list(map(int, d.sort_values("interval")["scheduled_agents"]))
                    for g, d in pl.groups.groupby("group")}
    for g in data.get("agent_groups", []):
        if g.get("name") in staffing:
            g.pop("agents", None)
            g["agents_per_interval"] = staffing[g["name"]]
    common.set_base(data, f"{st.session_state['source']} + {kind} staffing")
    st.session_state["applied"] = kind


c = st.columns(2)
c[0].button("Apply the verified staffing to the scenario", key="apply_verified", on_click=_apply, args=("verified",),
            disabled=ver is None, help="Every group's agents per interval become the verified scheduled agents; "
                                       "Simulate and Compare then use them.")
c[1].button("Apply the analytic plan to the scenario", key="apply_plan", on_click=_apply, args=("plan",),
            help="Every group's agents per interval become the plan's scheduled agents.")
if st.session_state.get("applied"):
    st.success(f"The {st.session_state.pop('applied')} staffing is now the scenario's; Simulate and Compare use it.")
