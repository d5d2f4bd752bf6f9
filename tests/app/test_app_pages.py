"""The app as AppTest sees it: every page on every preset, edits, errors, simulation."""

import copy
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ccplan.scenario import presets

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGES = ["app_pages/scenario.py", "app_pages/forecast.py", "app_pages/erlang.py", "app_pages/plan.py", "app_pages/roster.py",
         "app_pages/capacity.py", "app_pages/simulate.py",
         "app_pages/compare.py", "app_pages/trainer.py", "app_pages/glossary.py"]


def plain(markdown: str) -> str:
    """Markdown source as the browser shows it (user text is escaped before it reaches Markdown)."""
    return re.sub(r"\\(.)", r"\1", markdown)


def start() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    return at.run()


def edit_base(at: AppTest, edited: dict) -> None:
    """Put an edited scenario dict in the session and validate it the way the editors do, then rerun."""
    from ccplan.scenario import ScenarioError, from_dict

    at.session_state["base"] = edited
    at.session_state["problems"] = []
    try:
        from_dict(copy.deepcopy(edited))
    except ScenarioError as exc:
        at.session_state["problems"] = exc.problems
    at.run()


@pytest.mark.parametrize("preset", sorted(presets()))
def test_every_page_renders_on_every_preset(preset):
    at = start()
    at.selectbox(key="preset").select(preset).run()
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        assert not at.error, (page, [e.value for e in at.error])


def test_scenario_page_shows_the_preset_as_valid():
    at = start()
    assert any("is valid" in s.value for s in at.success)


def test_an_invalid_toml_edit_shows_errors_and_keeps_the_text():
    at = start()
    text = at.text_area(key="toml_text").value
    broken = text.replace("aht_s = 420", "aht_s = -5", 1).replace('name = "Retail bank, weekday"', 'name = "Mine"')
    at.text_area(key="toml_text").set_value(broken)
    at.button(key="toml_apply").click().run()
    assert not at.exception
    errors = " ".join(plain(e.value) for e in at.error)
    assert "segments[0].aht_s" in errors and "must be > 0" in errors
    assert at.text_area(key="toml_text").value == broken  # the user's text is kept
    assert any("Retail bank, weekday" in s.value for s in at.success)  # the last valid scenario is untouched


def test_the_toml_editor_follows_table_edits_and_warns_before_undoing_them():
    at = start()
    ver = at.session_state["version"]
    at.text_input(key=f"set_name_{ver}").set_value("Renamed in the form").run()
    assert 'name = "Renamed in the form"' in at.text_area(key="toml_text").value  # not the stale text
    typed = at.text_area(key="toml_text").value + "\n# my note\n"
    at.text_area(key="toml_text").set_value(typed).run()
    at.text_input(key=f"set_name_{ver}").set_value("Renamed again").run()
    assert at.text_area(key="toml_text").value == typed  # the user's typing is not thrown away...
    assert any("would undo those changes" in w.value for w in at.warning)  # ...but applying it is flagged
    at.button(key="toml_reload").click().run()
    assert 'name = "Renamed again"' in at.text_area(key="toml_text").value
    assert not any("would undo those changes" in w.value for w in at.warning)


def test_a_toml_syntax_error_shows_the_numbered_line_and_clears_after_a_good_edit():
    at = start()
    lines = at.text_area(key="toml_text").value.splitlines()
    lines[4] = lines[4] + ' "unclosed'
    at.text_area(key="toml_text").set_value("\n".join(lines))
    at.button(key="toml_apply").click().run()
    assert any("line 5" in plain(e.value) for e in at.error)
    snippet = at.code[-1].value
    assert ">>    5 | " in snippet and "    4 | " in snippet
    ver = at.session_state["version"]
    at.text_input(key=f"set_name_{ver}").set_value("Fixed elsewhere").run()
    assert not any("was not applied" in e.value for e in at.error)  # the stale error is gone


def test_a_valid_toml_edit_becomes_the_scenario():
    at = start()
    text = at.text_area(key="toml_text").value.replace('name = "Retail bank, weekday"', 'name = "Edited bank"')
    at.text_area(key="toml_text").set_value(text)
    at.button(key="toml_apply").click().run()
    assert any("Edited bank" in s.value for s in at.success)
    at.switch_page("app_pages/plan.py").run()
    assert not at.exception and "Edited bank" in at.caption[0].value


def test_a_settings_edit_is_validated_and_kept_across_pages():
    at = start()
    key = next(w.key for w in at.number_input if w.key and w.key.startswith("set_thr_"))
    at.number_input(key=key).set_value(45.0).run()
    assert at.session_state["base"]["service_level"]["answer_within_s"] == 45.0
    at.switch_page("app_pages/erlang.py").run()
    at.switch_page("app_pages/scenario.py").run()
    assert at.session_state["scenario"].service_level.answer_within_s == 45.0


def test_an_invalid_cell_keeps_the_other_edits():
    """An edit that breaks a cross-field rule is reported by name; the user's other edits stay."""
    at = start()
    base = at.session_state["base"]

    from app_pages import common  # noqa: F401  (same module the app uses)

    edited = copy.deepcopy(base)
    edited["name"] = "Keep me"
    edited["agent_groups"][0]["skills"] = ["premium", "standrd", "basic"]  # a typo in a skill
    edit_base(at, edited)  # re-validated through the same path the editors use
    errors = " ".join(plain(e.value) for e in at.error)
    assert "standrd" in errors and "generalists" in errors
    assert at.session_state["base"]["name"] == "Keep me"


def test_erlang_calculator_answers_the_textbook_case():
    at = start()
    at.switch_page("app_pages/erlang.py").run()
    at.number_input(key="erl_calls").set_value(100.0)
    at.number_input(key="erl_aht").set_value(180.0)
    at.number_input(key="erl_shr").set_value(0.0).run()
    values = [m.value for m in at.metric]
    assert values[0] == "14" and values[2] == "88.8%"


def test_erlang_calculator_says_when_abandonment_lets_it_staff_below_the_load():
    """5,000 calls of 180 s in 30 minutes are 500 Erlangs; Erlang A met the SL with fewer agents, silently."""
    at = start()
    at.switch_page("app_pages/erlang.py").run()
    at.number_input(key="erl_calls").set_value(5000.0)
    at.number_input(key="erl_aht").set_value(180.0).run()
    agents_a = int(at.metric[6].value)
    assert agents_a < 500
    assert any("Below the offered load" in w.value and "hang up" in w.value for w in at.warning)
    at.number_input(key="erl_abn").set_value(0.02).run()
    assert not at.exception
    assert int(at.metric[6].value) > agents_a
    abandon = next(m for m in at.metric[6:] if m.label == "Abandonment")
    assert float(abandon.value.rstrip("%")) <= 2.0 and "pts" in abandon.delta


def test_erlang_calculator_answers_for_given_agents_and_the_calls_they_can_handle():
    at = start()
    at.switch_page("app_pages/erlang.py").run()
    at.radio(key="erl_mode").set_value("Service with N agents").run()
    at.number_input(key="erl_n").set_value(14).run()
    assert not at.exception
    values = {m.label: m.value for m in at.metric[:6]}
    assert values["Agents"] == "14" and values["Service level"] == "88.8%"  # the textbook case, read backwards
    at.radio(key="erl_mode").set_value("Calls N agents can handle").run()
    calls_c = int(at.metric[0].value.replace(",", ""))
    assert 100 <= calls_c < 115  # 14 agents meet 80/20 at 100 calls and not far beyond
    at.number_input(key="erl_asa").set_value(5.0).run()
    assert int(at.metric[0].value.replace(",", "")) < calls_c


def test_erlang_calculator_fills_from_an_interval_of_the_scenario():
    at = start()
    at.selectbox(key="preset").select("telecom").run()
    at.switch_page("app_pages/erlang.py").run()
    sc = at.session_state["scenario"]
    seg = sc.segments[1]
    at.selectbox(key="erl_fill_seg").select(seg.name)
    at.selectbox(key="erl_fill_int").select(20).run()
    at.button(key="erl_fill").click().run()
    assert not at.exception
    assert at.number_input(key="erl_calls").value == pytest.approx(sc.calls_per_interval(seg)[20], abs=0.01)
    assert at.number_input(key="erl_tgt").value == pytest.approx(sc.sl_target(seg))
    assert at.number_input(key="erl_aht").value == pytest.approx(sc.aht_per_interval(seg)[20], abs=0.1)
    assert any("Filled from" in c.value for c in at.caption)


def test_plan_says_when_it_staffs_below_the_load_and_does_not_show_that_saving_in_green():
    at = start()
    at.selectbox(key="preset").select("telecom").run()
    at.switch_page("app_pages/plan.py").run()
    assert not at.exception
    assert any("Below the offered load" in w.value and "abandon" in w.value for w in at.warning)
    hours = next(m for m in at.metric if m.label == "Planned agent hours")
    from streamlit.proto.Metric_pb2 import Metric as MetricProto

    assert hours.delta.startswith("-") and hours.color == MetricProto.MetricColor.GRAY  # not the green of a gain
    assert any("bought with abandonment" in c.value for c in at.caption)


def _calls_total(sc) -> float:
    return float(sum(sc.calls_per_interval(s).sum() for s in sc.segments))


def test_changing_the_interval_length_offers_to_rebucket_and_keeps_the_day_and_the_totals():
    """30 -> 15 minutes kept the calls per interval: the load doubled and the day shrank, and the page said valid."""
    at = start()  # retail_bank, 24 half-hours from 08:00
    before = at.session_state["scenario"]
    ver = at.session_state["version"]
    at.selectbox(key=f"set_int_{ver}").select(15).run()
    assert at.session_state["scenario"].interval_minutes == 30  # nothing applied yet: an offer
    assert any("Interval length 30 → 15 minutes" in w.value for w in at.warning)
    at.button(key="int_rebucket").click().run()
    assert not at.exception
    after = at.session_state["scenario"]
    assert after.interval_minutes == 15 and after.n_intervals == 2 * before.n_intervals
    assert after.interval_labels()[0] == before.interval_labels()[0]
    assert _calls_total(after) == pytest.approx(_calls_total(before))
    hours = [sum(sc.agents_per_interval(g).sum() * sc.interval_minutes / 60 for g in sc.agent_groups)
             for sc in (before, after)]
    assert hours[0] == pytest.approx(hours[1])
    assert any("Re-bucketed" in i.value for i in at.info)


def test_keeping_the_numbers_or_cancelling_an_interval_change_does_what_it_says():
    at = start()
    before = at.session_state["scenario"]
    ver = at.session_state["version"]
    at.selectbox(key=f"set_int_{ver}").select(60).run()
    at.button(key="int_cancel").click().run()
    assert at.session_state["scenario"].interval_minutes == 30
    assert at.selectbox(key=f"set_int_{at.session_state['version']}").value == 30
    ver = at.session_state["version"]
    at.selectbox(key=f"set_int_{ver}").select(60).run()
    at.button(key="int_keep").click().run()
    after = at.session_state["scenario"]
    assert after.interval_minutes == 60 and after.n_intervals == before.n_intervals
    assert any("day and the load per hour changed" in i.value for i in at.info)


def test_switching_preset_with_unsaved_edits_asks_first():
    at = start()
    ver = at.session_state["version"]
    at.text_input(key=f"set_name_{ver}").set_value("My bank").run()
    at.selectbox(key="preset").select("telecom").run()
    assert not at.exception
    assert at.session_state["scenario"].name == "My bank"  # nothing lost yet
    assert any("not downloaded" in w.value for w in at.sidebar.warning)
    assert at.selectbox(key="preset").value == "retail_bank"
    at.button(key="preset_keep").click().run()
    assert at.session_state["scenario"].name == "My bank" and not at.sidebar.warning
    at.selectbox(key="preset").select("telecom").run()
    at.button(key="preset_switch").click().run()
    assert at.session_state["scenario"].name != "My bank"
    assert at.selectbox(key="preset").value == "telecom"
    at.selectbox(key="preset").select("trainer").run()  # no edits since: no question
    assert at.selectbox(key="preset").value == "trainer" and not at.sidebar.warning


def test_sweep_always_includes_the_current_staffing_and_labels_points_readably():
    at = start()
    at.selectbox(key="preset").select("trainer").run()
    at.switch_page("app_pages/compare.py").run()
    at.number_input(key="sw_lo").set_value(-3)
    at.number_input(key="sw_hi").set_value(3)
    at.number_input(key="sw_step").set_value(2)
    at.number_input(key="sw_reps").set_value(2).run()
    at.button(key="sw_run").click().run()
    assert not at.exception
    table = at.dataframe[-1].value
    assert list(dict.fromkeys(table["label"])) == ["team -2", "team current", "team +2"]
    assert not [c for c in table.columns if c in ("variant", "value", "profit_ci_low")]  # no internal columns


def test_bulk_staffing_edit_changes_a_group_across_a_range_in_one_step():
    at = start()  # retail_bank
    sc = at.session_state["scenario"]
    g = sc.agent_groups[0]
    before = list(sc.agents_per_interval(g))
    labels = sc.interval_labels()
    at.selectbox(key="bulk_group").select(0)
    at.selectbox(key="bulk_op").select("add").run()
    at.number_input(key="bulk_amount").set_value(2.0)
    at.select_slider(key="bulk_range").set_value((labels[2], labels[5])).run()
    at.button(key="bulk_apply").click().run()
    assert not at.exception
    after = list(at.session_state["scenario"].agents_per_interval(g.name))
    assert after == [b + (2 if 2 <= i <= 5 else 0) for i, b in enumerate(before)]
    assert any("4 interval(s) changed" in i.value for i in at.info)
    at.selectbox(key="bulk_op").select("scale by %").run()
    at.number_input(key="bulk_amount").set_value(-50.0)
    at.select_slider(key="bulk_range").set_value((labels[0], labels[-1])).run()
    at.button(key="bulk_apply").click().run()
    assert list(at.session_state["scenario"].agents_per_interval(g.name)) == [round(x / 2) for x in after]


def test_simulate_keeps_the_previous_run_beside_the_new_one():
    at = simulated_trainer(2)
    assert not any("Before and after" in h.value for h in at.subheader)  # nothing to compare yet
    at.switch_page("app_pages/scenario.py").run()
    at.selectbox(key="bulk_op").select("add").run()
    at.number_input(key="bulk_amount").set_value(5.0).run()
    at.button(key="bulk_apply").click().run()
    at.switch_page("app_pages/simulate.py").run()
    at.button(key="sim_run").click().run()
    assert not at.exception
    assert any("Before and after" in h.value for h in at.subheader)
    table = next(d.value for d in at.dataframe if "→" in str(d.value.iloc[0].get("service level", "")))
    assert list(table["segment"]) == ["gold", "silver", "total"]
    assert all("→" in v and "pts)" in v for v in table["service level"])
    assert any("Agent hours 200 → 220" in c.value for c in at.caption)


def test_the_glossary_page_shows_the_readmes_glossary():
    from ccplan.report import glossary

    terms = glossary()
    assert {"ASA", "Shrinkage", "Occupancy", "Erlang B / C / A", "Common random numbers (CRN)",
            "Confidence interval (CI)"} <= {t for t, _ in terms}
    at = start()
    at.switch_page("app_pages/glossary.py").run()
    shown = " ".join(m.value for m in at.main.markdown)
    assert all(f"**{t}**" in shown for t, _ in terms)
    at.text_input(key="gl_find").set_value("abandon").run()
    shown = [m.value for m in at.main.markdown]
    assert shown and all("abandon" in v.lower() for v in shown)


def simulated_trainer(replications: int) -> AppTest:
    """The app after simulating the trainer preset on the Simulate page."""
    at = start()
    at.selectbox(key="preset").select("trainer").run()
    at.switch_page("app_pages/simulate.py").run()
    at.number_input(key="sim_reps").set_value(replications).run()
    at.button(key="sim_run").click().run()
    return at


def test_running_a_simulation_produces_the_kpi_table():
    at = simulated_trainer(3)
    assert not at.exception
    kpi = next(d.value for d in at.dataframe if "service level" in d.value.columns)
    assert list(kpi["segment"]) == ["gold", "silver", "total"]
    assert kpi["service level"].str.contains("%").all()
    assert kpi["days meeting target"].iloc[:2].str.contains("%").all() and kpi["days meeting target"].iloc[2] == ""
    # changing the chart does not re-simulate: the cached result is reused
    results_before = at.session_state["_results"]["sim"]
    at.radio(key="sim_chart").set_value("Profit per segment").run()
    assert not at.exception and at.session_state["_results"]["sim"] is results_before


def test_compare_page_runs_two_variants():
    at = start()
    at.selectbox(key="preset").select("trainer").run()
    at.switch_page("app_pages/compare.py").run()
    at.number_input(key="cmp_reps").set_value(3)
    at.selectbox(key="cmp_pol_1").set_value("fifo").run()
    at.button(key="cmp_run").click().run()
    assert not at.exception
    diff = next(d.value for d in at.dataframe if "paired 95% CI" in d.value.columns)
    assert set(diff["segment"]) >= {"gold", "silver"} and "paired 95% CI" in diff.columns
    days = next(d.value for d in at.dataframe if "days meeting target [95% CI]" in d.value.columns)
    assert set(days["segment"]) == {"gold", "silver"} and days["days meeting target [95% CI]"].str.contains("%").all()


def test_duplicate_or_missing_names_while_editing_do_not_break_the_page():
    at = start()
    import copy

    from ccplan.scenario import ScenarioError, from_dict

    edited = copy.deepcopy(at.session_state["base"])
    edited["segments"][1]["name"] = "premium"  # duplicate
    del edited["segments"][2]["name"]  # cleared cell
    at.session_state["base"] = edited
    try:
        from_dict(edited)
    except ScenarioError as exc:
        at.session_state["problems"] = exc.problems
    at.run()
    assert not at.exception
    errors = " ".join(plain(e.value) for e in at.error)
    assert "duplicate name" in errors and "required field is missing" in errors


def test_staffing_plan_verifies_by_simulation_and_applies_the_result():
    at = start()
    at.selectbox(key="preset").select("trainer").run()
    at.switch_page("app_pages/plan.py").run()
    assert not at.exception
    at.number_input(key="ver_reps").set_value(3).run()
    at.button(key="ver_run").click().run()
    assert not at.exception, at.exception
    assert any("fresh callers that the search never used" in plain(s.value) for s in at.success)
    labels = [m.label for m in at.metric]
    assert "Agent hours, verified" in labels
    res = next(iter(at.session_state["_results"]["verify"].values()))
    verified = [int(x) for x in res.groups.sort_values("interval")["agents_verified"]]
    at.button(key="apply_verified").click().run()
    assert not at.exception
    team = at.session_state["base"]["agent_groups"][0]
    assert team["agents_per_interval"] == verified and "agents" not in team
    assert at.session_state["scenario"].agents_per_interval("team").tolist() == verified
    assert any("verified staffing is now the scenario's" in s.value for s in at.success)


def test_staffing_plan_warns_where_the_analytic_figures_are_approximate():
    at = start()
    at.selectbox(key="preset").select("telecom").run()
    at.switch_page("app_pages/plan.py").run()
    assert any("approximate" in w.value for w in at.warning)
    at.selectbox(key="preset").select("trainer").run()
    at.switch_page("app_pages/plan.py").run()
    assert not any("approximate" in w.value for w in at.warning)


def test_roster_page_solves_shows_coverage_and_applies_the_roster():
    at = start()
    at.selectbox(key="preset").select("telecom").run()
    at.switch_page("app_pages/roster.py").run()
    assert not at.exception
    at.button(key="roster_run").click().run()
    assert not at.exception, at.exception
    assert any("Optimal roster" in s.value for s in at.success)
    metrics = {m.label: m.value for m in at.metric}
    assert {"Headcount", "Paid hours", "Cost", "Efficiency"} <= set(metrics)
    r = next(iter(at.session_state["_results"]["roster"].values()))
    assert metrics["Headcount"] == str(int(r.groups["headcount"].sum()))
    assert metrics["Cost"] == f"{r.cost:,.0f} EUR"
    expected = r.scheduled()
    at.button(key="roster_apply").click().run()
    assert not at.exception
    sc = at.session_state["scenario"]
    assert [sc.agents_per_interval(g).tolist() for g in sc.agent_groups] == expected.tolist()
    assert any("roster's coverage is now the scenario's staffing" in s.value for s in at.success)
    at.switch_page("app_pages/simulate.py").run()
    assert not at.exception


def test_roster_page_names_a_bad_shift_rule_and_keeps_the_other_edits():
    at = start()
    at.switch_page("app_pages/roster.py").run()
    edited = copy.deepcopy(at.session_state["base"])
    edited["name"] = "Keep me"
    edited["shifts"][0]["latest_start"] = "07:30"  # before earliest_start and the opening
    edit_base(at, edited)
    errors = " ".join(plain(e.value) for e in at.error)
    assert "shift 'full' (row 1), latest_start" in errors and "07:30 is outside the day" in errors
    assert at.session_state["base"]["name"] == "Keep me"
    # the last valid scenario still rosters
    at.button(key="roster_run").click().run()
    assert any("Optimal roster" in s.value for s in at.success)


def test_roster_page_explains_an_uncoverable_requirement():
    at = start()
    at.switch_page("app_pages/roster.py").run()
    text = at.session_state["base"]
    import copy

    from app_pages import common  # noqa: F401

    edited = copy.deepcopy(text)
    for sh in edited["shifts"]:
        sh["max_agents"] = 10
    at.session_state["base"] = edited
    from ccplan.scenario import from_dict

    at.session_state["scenario"] = from_dict(edited)
    at.run()
    at.button(key="roster_run").click().run()
    assert not at.exception
    assert any("No roster" in plain(e.value) and "max_agents" in plain(e.value) for e in at.error)


def test_forecast_page_backtests_forecasts_and_puts_a_day_into_the_scenario():
    at = start()
    at.selectbox(key="preset").select("trainer").run()
    at.switch_page("app_pages/forecast.py").run()
    assert not at.exception
    at.button(key="fc_sample").click().run()
    assert not at.exception
    assert {m.label for m in at.metric} >= {"Rows", "Bucket", "Days with data"}
    at.button(key="fc_run").click().run()
    assert not at.exception, at.exception
    res = at.session_state["fc_result"]
    assert set(res["intervals"]["date"]) == {"2003-05-26", "2003-05-27", "2003-05-28", "2003-05-29", "2003-05-30"}
    # the trainer preset has two segments and the sample none: refused, the scenario unchanged
    at.button(key="fc_use").click().run()
    assert any("not applied" in e.value and "no segment column" in e.value for e in at.error)
    at.selectbox(key="preset").select("retail_bank").run()
    at.session_state["scenario"] = at.session_state["scenario"].with_changes(
        {"segments": [{"name": "all", "calls_per_interval": [1.0] * 24, "aht_s": 300}],
         "agent_groups": [{"name": "team", "skills": ["all"], "agents": 10}], "shifts": []})
    at.run()
    at.selectbox(key="fc_use_q").select("p90").run()
    at.button(key="fc_use").click().run()
    assert not at.exception
    sc = at.session_state["scenario"]
    day = res["intervals"][res["intervals"]["date"] == "2003-05-26"]
    assert sum(sc.calls_per_interval("all")) == pytest.approx(day["p90"].sum())
    assert "p90" in sc.name
    assert sc.open_time == "07:00"
    assert any("now the scenario's volumes" in s.value for s in at.success)


def test_forecast_page_names_the_problem_of_a_bad_history_and_keeps_the_loaded_one():
    at = start()
    at.switch_page("app_pages/forecast.py").run()
    at.button(key="fc_sample").click().run()
    from ccplan.history import HistoryError, read_history

    try:
        read_history(b"timestamp,offered\n2026-03-02T09:00,x\n", "bad.csv")
    except HistoryError as exc:
        at.session_state["fc_error"] = exc
    at.run()
    assert any("row 2, column 'offered'" in e.value and "previous one is kept" in e.value for e in at.error)
    assert at.session_state["fc_history"].source.endswith("bank_calls_2003_mar_may.csv")


def test_routing_lines_busyness_and_closing_settings_reach_the_scenario():
    at = start()
    ver = at.session_state["version"]
    at.selectbox(key=f"set_choice_{ver}").select("random").run()
    at.selectbox(key=f"set_close_{ver}").select("disconnect").run()
    at.number_input(key=f"set_lines_{ver}").set_value(40).run()
    at.number_input(key=f"set_busy_{ver}").set_value(0.15).run()
    assert not at.exception
    sc = at.session_state["scenario"]
    assert sc.routing.agent_choice == "random" and sc.simulation.at_close == "disconnect"
    assert sc.capacity.lines == 40 and sc.simulation.busyness_cv == 0.15
    at.number_input(key=f"set_lines_{ver}").set_value(0).run()
    assert at.session_state["scenario"].capacity.lines is None
    at.switch_page("app_pages/simulate.py").run()
    assert not at.exception


def test_group_handle_time_factors_typed_as_text_become_a_table_and_bad_text_is_named():
    from app_pages.common import parse_factors
    from ccplan.scenario import ScenarioError, from_dict

    assert parse_factors("premium=1.25, basic = 0.9") == {"premium": 1.25, "basic": 0.9}
    assert parse_factors("") is None
    typed = parse_factors("premium:1.25")
    assert typed == "premium:1.25"  # kept as typed, so the user's input is not lost
    at = start()
    base = at.session_state["base"]
    base["agent_groups"][0]["handle_time_factor"] = typed
    with pytest.raises(ScenarioError) as exc:
        from_dict(base)
    assert any(p == "agent_groups[0].handle_time_factor" for p, _ in exc.value.problems)


def test_forecast_band_sets_the_simulated_busyness():
    at = start()
    at.switch_page("app_pages/forecast.py").run()
    at.button(key="fc_sample").click().run()
    at.button(key="fc_run").click().run()
    days = at.session_state["fc_result"]["days"]
    expected = round(float(((days["p90"] - days["p10"]) / days["forecast"]).mean() / (2 * 1.2816)), 3)
    at.button(key="fc_busy").click().run()
    assert not at.exception
    assert at.session_state["scenario"].simulation.busyness_cv == pytest.approx(expected)
    assert 0.01 < expected < 0.2
    assert any("busyness_cv is now" in s.value for s in at.success)


def test_erlang_calculator_with_no_calls_says_there_is_nothing_to_staff():
    at = start()
    at.switch_page("app_pages/erlang.py").run()
    at.number_input(key="erl_calls").set_value(0.0).run()
    assert not at.exception
    assert any("nothing to staff" in i.value for i in at.info)
    labels = [m.label for m in at.metric]
    assert "Service level" not in labels and "Occupancy" not in labels  # no 0% / 100% for an empty interval


def test_sl_definition_setting_reaches_the_scenario_and_every_sl_card_names_it():
    at = start()
    at.selectbox(key="preset").select("trainer").run()
    ver = at.session_state["version"]
    at.selectbox(key=f"set_def_{ver}").select("short_abandons_met").run()
    assert not at.exception
    assert at.session_state["scenario"].sl_definition("gold") == "short_abandons_met"
    at.switch_page("app_pages/simulate.py").run()
    at.number_input(key="sim_reps").set_value(2).run()
    at.button(key="sim_run").click().run()
    assert not at.exception
    captions = [c.value for c in at.caption]
    assert sum("(answered in 20 s + short abandons) / offered" in c for c in captions) == 2  # one per segment card
    at.switch_page("app_pages/erlang.py").run()
    at.selectbox(key="erl_def").select("answered").run()
    assert any(c.value == "answered in 20 s / answered" for c in at.caption)
    assert not at.exception


def test_a_large_simulation_is_sized_and_waits_for_a_tick():
    at = start()
    at.selectbox(key="preset").select("telecom").run()
    big = copy.deepcopy(at.session_state["base"])
    for seg in big["segments"]:
        seg["daily_calls"] = seg["daily_calls"] * 10
    from ccplan.scenario import from_dict

    at.session_state["base"] = big
    at.session_state["scenario"] = from_dict(copy.deepcopy(big))
    at.switch_page("app_pages/simulate.py").run()
    at.number_input(key="sim_reps").set_value(200).run()
    assert any("A large job" in w.value for w in at.warning)
    at.button(key="sim_run").click().run()
    assert not any("service level" in d.value.columns for d in at.dataframe)  # nothing ran without the tick
    assert any("Press **Run simulation**" in i.value for i in at.info)
    assert not at.exception


def test_names_reach_the_page_as_plain_text_never_as_markdown_images_or_latex():
    from ccplan.scenario import from_dict

    at = start()
    at.selectbox(key="preset").select("trainer").run()
    evil = copy.deepcopy(at.session_state["base"])
    bad = "![x](http://127.0.0.1:9/px.png)$x^2$"
    evil["name"] = bad
    evil["segments"][0]["name"] = bad
    evil["agent_groups"][0]["skills"] = [bad, "silver"]
    at.session_state["base"] = evil
    at.session_state["scenario"] = from_dict(copy.deepcopy(evil))
    for page in ["app_pages/scenario.py", "app_pages/plan.py", "app_pages/simulate.py", "app_pages/compare.py"]:
        at.switch_page(page).run()
        assert not at.exception, page
        shown = [e.value for kind in (at.markdown, at.caption, at.success, at.error, at.warning, at.info)
                 for e in kind] + [e.label for e in at.number_input]
        assert not [t for t in shown if "![x](" in t or "$x^2$" in t], page
        assert any("\\!\\[x\\](http://127.0.0.1:9/px.png)" in t for t in shown), page  # the name is there, escaped


def test_the_call_log_downloads_as_csv_as_well_as_parquet():
    at = simulated_trainer(2)
    labels = [e.proto.label for e in at.get("download_button")]
    assert "Call log (CSV)" in labels and "Call log (Parquet)" in labels


def capacity_page() -> AppTest:
    at = start()
    at.switch_page("app_pages/capacity.py").run()
    assert not at.exception, at.exception
    return at


def test_capacity_page_shows_the_fixed_hires_then_optimizes_beside_them():
    at = capacity_page()
    assert not at.error
    assert any("fixed hires" in i.value for i in at.info)
    assert {m.label for m in at.metric} >= {"Total cost (USD)", "Persons hired", "Shortfall FTE-weeks"}
    at.button(key="cap_optimize").click().run()
    assert not at.exception, at.exception
    assert any("Optimal hiring plan" in s.value for s in at.success)
    rep = next(iter(at.session_state["_results"]["capacity"].values()))
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Total cost (USD)"] == f"{rep.main.cost:,.0f}" and metrics["Persons hired"] == str(
        rep.main.persons_hired)
    cmp = next(d.value for d in at.dataframe if "plan" in d.value.columns and "status" in d.value.columns)
    assert list(cmp["plan"]) == ["no hiring", "fixed hires", "optimal"]
    assert cmp["cost"].iloc[2] <= cmp["cost"].iloc[1] <= cmp["cost"].iloc[0]


def test_capacity_page_sweeps_attrition_into_one_table():
    at = capacity_page()
    at.button(key="cap_sweep").click().run()
    assert not at.exception, at.exception
    sw = next(iter(at.session_state["_results"]["capacity_sweep"].values()))
    assert sw.path == "attrition_per_month" and list(sw.table["value"]) == [0.02, 0.03, 0.04, 0.05, 0.06]
    assert (sw.table["status"] == "optimal").all()
    assert any("value" in d.value.columns and len(d.value) == 5 for d in at.dataframe)


def test_capacity_page_growth_slider_compounds_the_requirement():
    at = capacity_page()
    before = at.session_state["cap_req"]["required_fte"].tolist()
    at.slider(key=f"cap_wi_growth_{at.session_state['cap_ver']}").set_value(0.01).run()
    assert not at.exception
    weeks = next(d.value for d in at.dataframe if "over_under" in d.value.columns)
    assert weeks["required_fte"].tolist() == pytest.approx([v * 1.01 ** w for w, v in enumerate(before)])


@pytest.mark.parametrize("table,column,value,expected", [
    ("groups", "attrition_per_month", 1.0, "Groups, row 1 ('agents'): attrition_per_month**: must be < 1"),
    ("hires", "count", 25, "Fixed hires, row 1 ('agents'): count**: 25 is above max_class 20"),
    ("hiring", "training_weeks", 40, "Hiring classes, row 1 ('agents'): training_weeks**: 40 weeks of training"),
    ("groups", "headcount", None, "Groups, row 1 ('agents'): headcount**: required field is missing"),
])
def test_capacity_page_names_a_bad_cell_and_never_raises(table, column, value, expected):
    at = capacity_page()
    data = copy.deepcopy(at.session_state["cap_data"])
    if value is None:
        data[table][0].pop(column)
    else:
        data[table][0][column] = value
    at.session_state["cap_data"] = data
    at.session_state["cap_ver"] = at.session_state["cap_ver"] + 1
    at.run()
    assert not at.exception, at.exception
    errors = " ".join(plain(e.value) for e in at.error)
    assert plain(expected) in errors, errors


def test_capacity_page_names_missing_weeks_of_the_requirement():
    at = capacity_page()
    req = at.session_state["cap_req"]
    at.session_state["cap_req"] = req[req["week"] <= 10]
    at.session_state["cap_ver"] = at.session_state["cap_ver"] + 1
    at.run()
    assert not at.exception
    errors = " ".join(plain(e.value) for e in at.error)
    assert "no requirement for week(s) 11" in errors and "'agents'" in errors


def test_capacity_page_fills_the_requirement_from_the_scenario_or_names_the_missing_group():
    at = start()
    at.selectbox(key="preset").select("trainer").run()
    at.switch_page("app_pages/capacity.py").run()
    at.button(key="cap_from_scenario").click().run()
    assert not at.exception
    assert any("has no agent group 'agents'" in plain(e.value) for e in at.error)
    data = copy.deepcopy(at.session_state["cap_data"])
    for table in ("hiring", "hires"):
        for row in data[table]:
            row["group"] = "team"
    data["groups"][0]["name"] = "team"
    at.session_state["cap_data"] = data
    at.session_state["cap_ver"] = at.session_state["cap_ver"] + 1
    at.run()
    at.button(key="cap_from_scenario").click().run()
    assert not at.exception, at.exception
    from ccplan.capacity import scenario_agent_hours

    req = at.session_state["cap_req"]
    expected = scenario_agent_hours(at.session_state["scenario"])[0] * 5 / 40
    assert set(req["group"]) == {"team"} and req["required_fte"].tolist() == pytest.approx([expected] * 26)
    assert not at.error


def test_a_scenario_whose_every_segment_and_group_row_was_deleted_says_what_to_add_and_keeps_working():
    """Issue 30: deleting every segment row broke the Scenario page ('column type text ... not compatible ...
    float') and it stayed broken. An empty table is a state with a message."""
    at = start()
    edited = copy.deepcopy(at.session_state["base"])
    edited["segments"] = []
    edit_base(at, edited)
    assert not at.exception
    assert any("no customer segment" in w.value for w in at.warning)
    edited["agent_groups"] = []
    edit_base(at, edited)
    assert not at.exception
    assert any("no agent group" in w.value for w in at.warning)
    assert at.session_state["problems"]  # and validation names what is missing
