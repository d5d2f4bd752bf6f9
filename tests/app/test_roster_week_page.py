"""The Roster page's week mode as AppTest sees it: days from this scenario or the forecast, contract rules in a
table, the week's tours with headcount and FTE, applying them to the days."""

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def plain(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown)


def week_mode(preset: str = "trainer") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=240).run()
    at.selectbox(key="preset").select(preset).run()
    at.switch_page("app_pages/roster.py").run()
    at.radio(key="roster_mode").set_value("A week").run()
    assert not at.exception, at.exception
    return at


def solved(at: AppTest):
    at.button(key="week_run").click().run()
    assert not at.exception, at.exception
    return next(iter(at.session_state["_results"]["roster_week"].values()))


def test_week_mode_rosters_this_scenario_on_weekdays_with_headcount_and_fte_cards():
    at = week_mode()
    assert not at.error, [e.value for e in at.error]
    r = solved(at)
    assert r.ok
    assert any("Optimal week" in s.value for s in at.success) or any("time limit" in w.value for w in at.warning)
    metrics = {m.label: m.value for m in at.metric}
    assert {"Headcount", "FTE", "Paid hours", "Cost", "Tour premium", "team: headcount · FTE"} <= set(metrics)
    assert metrics["Headcount"] == str(r.headcount)
    assert metrics["FTE"] == f"{r.fte:.1f}"
    # Monday to Friday open, the weekend closed, and every agent's tour keeps its contract
    assert [d.open for d in r.days] == [True] * 5 + [False] * 2
    ft = r.agents[r.agents["contract"] == "full_time"]
    assert (ft.groupby("agent")["date"].nunique() == 5).all()


def test_apply_gives_each_day_the_rosters_coverage_and_puts_a_day_in_the_editor():
    at = week_mode()
    r = solved(at)
    at.button(key="week_apply").click().run()
    assert not at.exception
    applied = at.session_state["week_applied"]
    assert set(applied) == {d.date for d in r.days if d.open}
    for date, sc in applied.items():
        assert np.array_equal(np.stack([sc.agents_per_interval(g) for g in sc.agent_groups]), r.scheduled(date))
    assert any("now each day's staffing" in s.value for s in at.success)
    first = min(applied)
    at.selectbox(key="week_open_pick").select(first).run()
    at.button(key="week_open").click().run()
    assert not at.exception
    sc = at.session_state["scenario"]
    assert [sc.agents_per_interval(g).tolist() for g in sc.agent_groups] == r.scheduled(first).tolist()
    at.switch_page("app_pages/simulate.py").run()
    assert not at.exception


def test_a_bad_contract_row_is_named_by_row_contract_and_field():
    at = week_mode()
    at.session_state["week_contract_rows"] = [
        {"name": "full_time", "shifts": "session", "days_min": 6, "days_max": 3, "days_off_together": True,
         "start_band_minutes": 60, "groups": "", "min_agents": 0, "max_agents": None},
        {"name": "part_time", "shifts": "hlf", "days_min": 2, "days_max": 5, "days_off_together": False,
         "start_band_minutes": None, "groups": "", "min_agents": 0, "max_agents": None},
    ]
    at.run()
    errors = " ".join(plain(e.value) for e in at.error)
    assert "row 1 (full_time), days min / days max" in errors and "the minimum 6 is above the maximum 3" in errors
    assert "row 2 (part_time), shifts[0]" in errors and "did you mean 'half'" in errors
    assert not [b for b in at.button if b.key == "week_run"]  # nothing to solve until the rules are fixed


def test_a_week_that_cannot_be_covered_says_which_contract_rule_stops_it():
    at = week_mode()
    at.multiselect(key="week_weekdays").set_value(["Mon", "Tue", "Wed"]).run()
    solved(at)
    errors = " ".join(plain(e.value) for e in at.error)
    assert "contract 'full_time': days_per_week 5 exceeds the 3 open days of the week" in errors


def fake_forecast(dates: list[str], segments: list[str], starts: list[str]) -> dict:
    """What the Forecast page leaves in the session (``fc_result``), for a few dates."""
    rows = []
    for k, d in enumerate(dates):
        for seg in segments:
            for i, t in enumerate(starts):
                calls = (20 + 6 * i) * (0.6 if k >= 5 else 1.0)
                rows.append({"date": d, "interval_start": t, "segment": seg, "forecast": calls, "p10": calls * 0.8,
                             "p50": calls, "p90": calls * 1.2, "q": calls})
    intervals = pd.DataFrame(rows)
    return {"intervals": intervals, "days": intervals.groupby(["date", "segment"], as_index=False)["q"].sum(),
            "interval": 30, "quantile": 0.5, "notes": []}


def test_the_forecasts_days_become_the_weeks_days():
    at = week_mode()
    sc = at.session_state["scenario"]
    dates = [(dt.date(2026, 3, 2) + dt.timedelta(days=k)).isoformat() for k in range(5)]  # Monday to Friday
    at.session_state["fc_result"] = fake_forecast(dates, sc.segment_names, sc.interval_labels())
    at.run()
    assert "The forecast's days" in at.radio(key="week_source").options
    at.radio(key="week_source").set_value("The forecast's days").run()
    assert any("5 open day(s)" in c.value for c in at.caption)
    r = solved(at)
    assert r.ok, r.message
    assert [d.open for d in r.days] == [True] * 5 + [False] * 2
    req = {d: r.coverage.loc[r.coverage["date"] == d, "required"].sum() for d in dates}
    assert all(req[d] > 0 for d in dates)


def test_a_forecast_saturday_full_timers_cannot_work_is_explained():
    at = week_mode()
    sc = at.session_state["scenario"]
    dates = [(dt.date(2026, 3, 2) + dt.timedelta(days=k)).isoformat() for k in range(6)]  # Monday to Saturday
    at.session_state["fc_result"] = fake_forecast(dates, sc.segment_names, sc.interval_labels())
    at.run()
    at.radio(key="week_source").set_value("The forecast's days").run()
    solved(at)
    errors = " ".join(plain(e.value) for e in at.error)
    assert "2026-03-07 (Saturday): the shifts that tours may work that day cannot cover it" in errors
    assert "contract 'full_time' has no tour that works Saturday (days_per_week 5, days_off_together" in errors
    assert "2026-03-08 (Sunday) closed" in errors
