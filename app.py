"""ccplan's Streamlit front door: composes pages, holds no queueing logic.

Run with ``streamlit run app.py`` (the README's ``make app`` does it).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ccplan import charts
from ccplan.scenario import Scenario, ScenarioError, load, loads, presets

st.set_page_config(page_title="ccplan", page_icon="📞", layout="wide")

DEFAULT_PRESET = "retail_bank"


def current_scenario() -> tuple[Scenario | None, ScenarioError | None, str]:
    """The scenario chosen in the sidebar (preset or upload): (scenario, error, label)."""
    names = list(presets())
    with st.sidebar:
        st.header("Scenario")
        choice = st.selectbox(
            "Preset", names, index=names.index(DEFAULT_PRESET) if DEFAULT_PRESET in names else 0, key="preset"
        )
        upload = st.file_uploader("…or upload a scenario (TOML)", type=["toml"], key="upload")
    try:
        if upload is not None:
            text = upload.getvalue().decode("utf-8", errors="replace")
            return loads(text, upload.name), None, upload.name
        return load(presets()[choice]), None, f"{choice}.toml"
    except ScenarioError as exc:
        return None, exc, upload.name if upload is not None else f"{choice}.toml"


def show_errors(err: ScenarioError) -> None:
    st.error(f"**{err.source or 'scenario'}** has {len(err.problems)} problem(s); nothing else was changed.")
    st.dataframe(
        pd.DataFrame(err.problems, columns=["field", "problem"]), hide_index=True, width="stretch"
    )


def scenario_page() -> None:
    scenario, err, label = current_scenario()
    st.title("Scenario")
    if err is not None:
        show_errors(err)
        return
    assert scenario is not None
    st.success(f"**{label}** is valid: {scenario.name}")
    if scenario.description:
        st.caption(scenario.description)
    load_df = scenario.offered_load()
    total = load_df.groupby("interval")["traffic_erlangs"].sum()
    c = st.columns(4)
    c[0].metric("Intervals", f"{scenario.n_intervals} × {scenario.interval_minutes} min", help=f"from {scenario.open_time}")
    c[1].metric("Calls per day", f"{load_df['calls'].sum():,.0f}")
    c[2].metric("Peak offered load", f"{total.max():.1f} Erl")
    c[3].metric("Routing", scenario.routing.policy)

    st.subheader("Offered load per interval")
    st.pyplot(charts.offered_load_figure(load_df), width="stretch")

    st.subheader("Segments")
    seg_rows = [
        {
            "segment": s.name,
            "priority": s.priority,
            "calls/day": round(float(scenario.calls_per_interval(s).sum())),
            "AHT (s)": s.aht_s,
            "handle time": s.handle_time,
            "patience (s)": s.patience_s,
            "SL target": f"{scenario.sl_target(s):.0%} in {scenario.answer_within_s(s):g} s",
            "value/call": s.value_per_call,
            "CLV": s.clv,
            "churn per abandon": s.churn_per_abandon,
            "escalation": s.escalation_probability,
        }
        for s in scenario.segments
    ]
    st.dataframe(pd.DataFrame(seg_rows), hide_index=True, width="stretch")

    st.subheader("Agent groups")
    grp_rows = []
    for g in scenario.agent_groups:
        a = scenario.agents_per_interval(g)
        grp_rows.append(
            {
                "group": g.name,
                "skills": ", ".join(g.skills),
                "agents (min–max)": f"{a.min()}–{a.max()}",
                "agent hours/day": float(a.sum() * scenario.interval_minutes / 60),
                "cost/hour": g.cost_per_hour,
                "shrinkage": f"{g.shrinkage:.0%}",
                "overflow after (s)": g.accepts_after_s or None,
                "reserve": f"{g.reserve} for {', '.join(g.reserve_for)}" if g.reserve else "",
            }
        )
    st.dataframe(pd.DataFrame(grp_rows), hide_index=True, width="stretch")


PAGES = [st.Page(scenario_page, title="Scenario", icon="📋", url_path="scenario", default=True)]

st.navigation(PAGES).run()
