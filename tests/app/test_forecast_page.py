"""The Forecast page's "How would this plan have done?": the chain backtest run from the app, as AppTest sees it."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from ccplan.scenario import load

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")


def _page_with_a_forecast() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300).run()
    at.session_state["scenario"] = load(ROOT / "examples" / "bank_backtest.toml")
    at.switch_page("app_pages/forecast.py").run()
    at.button(key="fc_sample").click().run()
    at.button(key="fc_run").click().run()
    assert not at.exception, at.exception
    return at


def test_how_would_this_plan_have_done_draws_service_per_day_and_cost_beside_the_oracle():
    at = _page_with_a_forecast()
    at.number_input(key="fc_chain_origins").set_value(1).run()
    at.number_input(key="fc_chain_days").set_value(3).run()
    assert any("1 origin(s) (2003-05-22)" in c.value for c in at.caption)
    at.button(key="fc_chain_run").click().run()
    assert not at.exception, at.exception
    res = at.session_state["fc_chain"]
    assert set(res.days["kind"]) == {"forecast", "oracle", "naive"} and res.days["date"].nunique() == 2
    labels = {m.label for m in at.metric}
    assert {"Intervals meeting the target", "Days meeting the target", "Agent cost", "Agent-hours"} <= labels
    cost = next(m for m in at.metric if m.label == "Agent cost")
    assert "vs the oracle" in cost.delta


def test_a_scenario_the_history_cannot_fill_says_why_instead_of_running():
    at = _page_with_a_forecast()
    at.session_state["scenario"] = load(ROOT / "scenarios" / "retail_bank.toml")  # three segments, no column
    at.run()
    assert not at.exception, at.exception
    assert any("backtest cannot run" in e.value and "no segment column" in e.value for e in at.error)
    assert isinstance(at.session_state["fc_chain_job"], Exception)
    assert "fc_chain_run" not in [b.key for b in at.button]
