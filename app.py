"""ccplan's Streamlit front door: composes pages, holds no queueing logic.

Run with ``streamlit run app.py`` (the README's ``make app`` does it). Pages live in
``app_pages/``; the engines in ``planner/`` and ``sim/``; economics and charts in ``ccplan/``.
"""

import streamlit as st

from app_pages import common

st.set_page_config(page_title="ccplan — call-center planner", page_icon=":material/support_agent:", layout="wide")
common.sidebar()

PAGES = [
    st.Page("app_pages/scenario.py", title="Scenario", icon=":material/tune:", default=True),
    st.Page("app_pages/forecast.py", title="Forecast", icon=":material/trending_up:"),
    st.Page("app_pages/erlang.py", title="Erlang calculator", icon=":material/calculate:"),
    st.Page("app_pages/plan.py", title="Staffing plan", icon=":material/calendar_month:"),
    st.Page("app_pages/roster.py", title="Roster", icon=":material/groups:"),
    st.Page("app_pages/capacity.py", title="Capacity", icon=":material/group_add:"),
    st.Page("app_pages/simulate.py", title="Simulate", icon=":material/play_circle:"),
    st.Page("app_pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
    st.Page("app_pages/trainer.py", title="Trainer: priorities", icon=":material/school:"),
    st.Page("app_pages/glossary.py", title="Glossary", icon=":material/menu_book:"),
]
st.navigation(PAGES).run()
