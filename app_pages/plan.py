"""Staffing plan page: required vs scheduled agents per interval, predicted service, hours and cost."""

import streamlit as st

from app_pages import common
from ccplan import charts
from ccplan.economics import price_plan
from planner.staffing import daily_summary, plan

sc = common.scenario()
st.title("Staffing plan")
st.caption(f"{sc.name}: the fewest agents per interval and group that meet every segment's targets under "
           f"'{sc.routing.policy}' routing (Erlang A where callers abandon), with shrinkage on top.")
occ = st.slider("Occupancy cap", 0.5, 1.0, 1.0, 0.01, key="plan_occ", help="1.0 = no cap")
key = common.scenario_key(sc, occ)
df = common.cached("plan", key, lambda: plan(sc, max_occupancy=None if occ >= 1 else occ))
groups, segments = daily_summary(df)

k = st.columns(4)
k[0].metric("Planned agent hours", f"{groups['agent_hours'].sum():,.1f}",
            f"{groups['agent_hours'].sum() - groups['current_agent_hours'].sum():+,.1f} vs scenario", delta_color="inverse")
k[1].metric("Planned agent cost", f"{groups['cost'].sum():,.0f} {sc.currency}")
k[2].metric("Peak scheduled agents", f"{int(df.groupby('interval')['scheduled_agents'].sum().max())}")
k[3].metric("Intervals", f"{sc.n_intervals} × {sc.interval_minutes} min")

st.pyplot(charts.plan_figure(df), width="stretch")

st.subheader("Predicted service per segment (whole day)")
show = segments.copy()
show["target"] = [f"{sc.sl_target(s):.0%} in {sc.answer_within_s(s):g} s" if s in sc.segment_names else "escalation"
                  for s in show["segment"]]
st.dataframe(show, hide_index=True, width="stretch", column_config={
    "service_level": st.column_config.NumberColumn("SL at plan", format="percent"),
    "service_level_current": st.column_config.NumberColumn("SL at scenario staffing", format="percent"),
    "abandon_rate": st.column_config.NumberColumn("abandonment", format="percent"),
    "asa_s": st.column_config.NumberColumn("ASA (s)", format="%.1f"),
    "calls": st.column_config.NumberColumn("calls", format="%.0f"),
})
st.subheader("Per group (whole day)")
st.dataframe(groups.round(1), hide_index=True, width="stretch", column_config={
    "cost": st.column_config.NumberColumn(f"cost ({sc.currency})", format="%.0f")})
st.subheader("Economics of the plan (analytic)")
st.caption("Agent cost allocated to segments by predicted agent time; margin and lost customer value from predicted "
           "abandonment. Simulate for confidence intervals, retries and escalations in full.")
eco = price_plan(df, sc)
money = {c: st.column_config.NumberColumn(c.replace("_", " "), format="%.0f")
         for c in ("calls", "answered", "abandoned", "agent_cost", "telephony_cost", "margin", "lost_value", "profit")}
st.dataframe(eco, hide_index=True, width="stretch", column_config={
    **money, "service_level": st.column_config.NumberColumn("service level", format="percent"),
    "cost_per_answered": st.column_config.NumberColumn("cost per answered", format="%.2f"),
    "cost_per_sl_point": st.column_config.NumberColumn("cost per SL point", format="%.1f")})

st.subheader("Per interval")
cols = ["time", "group", "traffic_erlangs", "required_agents", "scheduled_agents", "current_scheduled",
        "cost_optimal_scheduled", "occupancy", "cost", "marginal_value"]
st.dataframe(df[cols].round(2), hide_index=True, width="stretch", height=320, column_config={
    "traffic_erlangs": st.column_config.NumberColumn("load (Erl)", format="%.1f"),
    "occupancy": st.column_config.NumberColumn("occupancy", format="percent"),
    "marginal_value": st.column_config.NumberColumn("value of +1 agent", format="%.2f",
                                                    help="profit change in the interval from one more agent")})
st.download_button("Download plan (CSV)", df.to_csv(index=False), file_name="staffing_plan.csv", mime="text/csv")
