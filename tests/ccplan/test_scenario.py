"""The scenario format: presets load, round-trip losslessly, and every problem is reported by path."""

import copy
import tomllib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccplan.scenario import Scenario, ScenarioError, dump, dumps, from_dict, load, loads, presets

MINIMAL = {
    "name": "tiny",
    "segments": [
        {"name": "a", "priority": 1, "calls_per_interval": [10, 20], "aht_s": 200, "patience_s": 100},
        {"name": "b", "priority": 2, "calls_per_interval": [5, 5], "aht_s": 300},
    ],
    "agent_groups": [{"name": "g", "skills": ["a", "b"], "agents": 5, "cost_per_hour": 20}],
}


def problems_of(data: dict) -> list[tuple[str, str]]:
    with pytest.raises(ScenarioError) as info:
        from_dict(data)
    return info.value.problems


def paths_of(data: dict) -> set[str]:
    return {p for p, _ in problems_of(data)}


def test_there_are_three_presets():
    assert {"retail_bank", "telecom", "trainer"} <= set(presets())


@pytest.mark.parametrize("name", sorted(presets()))
def test_every_preset_loads(name):
    s = load(presets()[name])
    assert isinstance(s, Scenario)
    assert s.n_intervals > 0
    assert (s.offered_load()["traffic_erlangs"] >= 0).all()


@pytest.mark.parametrize("name", sorted(presets()))
def test_round_trip_load_dump_load_is_equal(name, tmp_path):
    s = load(presets()[name])
    out = tmp_path / "again.toml"
    dump(s, out)
    assert load(out) == s


def test_scenario_is_frozen():
    s = from_dict(MINIMAL)
    with pytest.raises(Exception):
        s.name = "other"  # type: ignore[misc]


def test_daily_calls_with_profile_are_normalised():
    data = copy.deepcopy(MINIMAL)
    data["segments"][1] = {"name": "b", "daily_calls": 100, "profile": [1, 3], "aht_s": 300}
    s = from_dict(data)
    assert list(s.calls_per_interval("b")) == [25.0, 75.0]


def test_segment_overrides_default_service_level():
    data = copy.deepcopy(MINIMAL)
    data["segments"][0].update(answer_within_s=15, target=0.9)
    s = from_dict(data)
    assert (s.answer_within_s("a"), s.sl_target("a")) == (15, 0.9)
    assert (s.answer_within_s("b"), s.sl_target("b")) == (20, 0.8)


def test_unknown_key_is_reported_with_a_suggestion():
    data = copy.deepcopy(MINIMAL)
    data["segments"][0]["aht"] = 100
    [(path, reason)] = problems_of(data)
    assert path == "segments[0].aht"
    assert "unknown key" in reason and "aht_s" in reason


def test_unknown_top_level_table_is_reported():
    data = copy.deepcopy(MINIMAL)
    data["routng"] = {"policy": "fifo"}
    assert "routng" in paths_of(data)


@pytest.mark.parametrize(
    "field,value",
    [("aht_s", -5), ("aht_s", 0), ("patience_s", 0), ("retrial_delay_s", -1), ("value_per_call", -1)],
)
def test_negative_or_zero_times_and_rates_are_rejected(field, value):
    data = copy.deepcopy(MINIMAL)
    data["segments"][0][field] = value
    problems = problems_of(data)
    assert (f"segments[0].{field}" in {p for p, _ in problems})
    assert any(str(value) in r for _, r in problems)


def test_negative_calls_in_a_list_are_rejected():
    data = copy.deepcopy(MINIMAL)
    data["segments"][0]["calls_per_interval"] = [10, -3]
    assert "segments[0].calls_per_interval" in paths_of(data)


@pytest.mark.parametrize(
    "field", ["retrial_probability", "churn_per_abandon", "escalation_probability", "max_abandon_rate", "target"]
)
@pytest.mark.parametrize("value", [-0.1, 1.5])
def test_probabilities_outside_0_1_are_rejected(field, value):
    data = copy.deepcopy(MINIMAL)
    data["segments"][0][field] = value
    assert f"segments[0].{field}" in paths_of(data)


def test_list_lengths_that_disagree_are_reported():
    data = copy.deepcopy(MINIMAL)
    data["segments"][1]["calls_per_interval"] = [1, 2, 3]
    data["agent_groups"][0] = {"name": "g", "skills": ["a", "b"], "agents_per_interval": [1]}
    problems = dict(problems_of(data))
    assert "has 3 intervals" in problems["segments[1].calls_per_interval"]
    assert "has 1 intervals" in problems["agent_groups[0].agents_per_interval"]


def test_skill_naming_no_segment_is_reported():
    data = copy.deepcopy(MINIMAL)
    data["agent_groups"][0]["skills"] = ["a", "b", "premuim"]
    problems = dict(problems_of(data))
    assert "premuim" in problems["agent_groups[0].skills[2]"]


def test_segment_no_group_can_serve_is_reported():
    data = copy.deepcopy(MINIMAL)
    data["agent_groups"][0]["skills"] = ["a"]
    problems = dict(problems_of(data))
    assert "cannot be served" in problems["segments[1].name"]


def test_escalation_without_an_escalation_group_is_reported():
    data = copy.deepcopy(MINIMAL)
    data["segments"][0]["escalation_probability"] = 0.1
    assert "segments[0].escalation_probability" in paths_of(data)
    data["agent_groups"].append({"name": "senior", "skills": ["escalation"], "agents": 2})
    assert from_dict(data).escalation_groups()[0].name == "senior"


def test_duplicate_names_are_reported():
    data = copy.deepcopy(MINIMAL)
    data["segments"][1]["name"] = "a"
    data["agent_groups"].append({"name": "g", "skills": ["a"], "agents": 1})
    paths = paths_of(data)
    assert {"segments[1].name", "agent_groups[1].name"} <= paths


@pytest.mark.parametrize("field", ["aht_s", "patience_s", "retrial_probability"])
def test_non_numeric_values_are_reported(field):
    data = copy.deepcopy(MINIMAL)
    data["segments"][0][field] = "lots"
    [(path, reason)] = problems_of(data)
    assert path == f"segments[0].{field}" and "number" in reason and "lots" in reason


def test_non_numeric_cell_in_a_list_names_the_entry():
    data = copy.deepcopy(MINIMAL)
    data["segments"][0]["calls_per_interval"] = [10, "x"]
    assert "segments[0].calls_per_interval[1]" in paths_of(data)


def test_missing_required_field_is_reported():
    data = copy.deepcopy(MINIMAL)
    del data["segments"][0]["aht_s"]
    assert dict(problems_of(data))["segments[0].aht_s"] == "required field is missing"


def test_all_problems_are_reported_at_once():
    data = copy.deepcopy(MINIMAL)
    data["segments"][0]["aht_s"] = -1  # field problem
    data["segments"][1]["retrial_probability"] = 3  # field problem
    data["agent_groups"][0]["skills"] = ["a", "b", "nobody"]  # cross-field problem
    data["interval_minutes"] = 20  # literal problem
    paths = paths_of(data)
    assert {"segments[0].aht_s", "segments[1].retrial_probability", "agent_groups[0].skills[2]",
            "interval_minutes"} <= paths


def test_error_message_lists_every_problem_with_its_path():
    data = copy.deepcopy(MINIMAL)
    data["segments"][0]["aht_s"] = -1
    data["segments"][1]["aht_s"] = 0
    with pytest.raises(ScenarioError) as info:
        from_dict(data)
    text = str(info.value)
    assert "segments[0].aht_s: must be > 0" in text and "segments[1].aht_s: must be > 0" in text


def test_exactly_one_staffing_form_is_required():
    data = copy.deepcopy(MINIMAL)
    data["agent_groups"][0]["agents_per_interval"] = [1, 2]
    assert "agent_groups[0]" in paths_of(data)


def test_bad_open_time_is_reported():
    data = copy.deepcopy(MINIMAL)
    data["open_time"] = "25:00"
    assert "open_time" in paths_of(data)


def test_empty_file_is_one_clear_error(tmp_path):
    f = tmp_path / "empty.toml"
    f.write_text("")
    with pytest.raises(ScenarioError, match="empty.toml: the file is empty"):
        load(f)


def test_binary_file_is_one_clear_error(tmp_path):
    f = tmp_path / "blob.toml"
    f.write_bytes(bytes(range(256)))
    with pytest.raises(ScenarioError, match="binary"):
        load(f)


def test_syntax_error_names_the_line(tmp_path):
    f = tmp_path / "broken.toml"
    f.write_text('name = "x"\ninterval_minutes = 30\nsegments = [1,\n')
    with pytest.raises(ScenarioError) as info:
        load(f)
    assert "broken.toml" in str(info.value) and "line" in str(info.value)


def test_missing_file_is_one_clear_error(tmp_path):
    with pytest.raises(ScenarioError, match="no such file"):
        load(tmp_path / "nope.toml")


def test_with_changes_addresses_items_by_name():
    s = from_dict(MINIMAL)
    t = s.with_changes({"routing.policy": "fifo", "segments.b.priority": 1, "agent_groups.g.agents": 9})
    assert t.routing.policy == "fifo" and t.segment("b").priority == 1 and t.group("g").agents == 9
    assert s.group("g").agents == 5  # the original is untouched


def test_with_changes_validates():
    s = from_dict(MINIMAL)
    with pytest.raises(ScenarioError):
        s.with_changes({"segments.a.aht_s": -3})


# ---- properties ----

NUMERIC_SEGMENT_FIELDS = {
    "aht_s": "positive", "patience_s": "positive", "retrial_delay_s": "positive",
    "retrial_probability": "prob", "churn_per_abandon": "prob", "escalation_probability": "prob",
    "value_per_call": "nonneg", "clv": "nonneg",
}


@given(
    field=st.sampled_from(sorted(NUMERIC_SEGMENT_FIELDS)),
    index=st.integers(0, 1),
    data=st.data(),
)
def test_any_bad_numeric_value_is_reported_at_its_path(field, index, data):
    kind = NUMERIC_SEGMENT_FIELDS[field]
    bad = {
        "positive": st.floats(max_value=0, allow_nan=False, allow_infinity=False),
        "nonneg": st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False),
        "prob": st.one_of(st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False),
                          st.floats(min_value=1.0001, allow_nan=False, allow_infinity=False)),
    }[kind]
    value = data.draw(st.one_of(bad, st.text(alphabet="abcxyz", min_size=1, max_size=5)))
    scenario = copy.deepcopy(MINIMAL)
    scenario["segments"][index][field] = value
    assert f"segments[{index}].{field}" in paths_of(scenario)


@given(
    calls=st.lists(st.floats(0, 500, allow_nan=False), min_size=1, max_size=12),
    aht_s=st.floats(1, 3000, allow_nan=False),
    agents=st.integers(0, 500),
    policy=st.sampled_from(["fifo", "priority", "aging"]),
    patience_s=st.one_of(st.none(), st.floats(1, 2000, allow_nan=False)),
)
def test_round_trip_holds_for_random_valid_scenarios(calls, aht_s, agents, policy, patience_s):
    seg = {"name": "x", "calls_per_interval": calls, "aht_s": aht_s}
    if patience_s is not None:
        seg["patience_s"] = patience_s
    s = from_dict({"name": "r", "segments": [seg], "agent_groups": [{"name": "g", "skills": ["x"], "agents": agents}],
                   "routing": {"policy": policy}})
    assert loads(dumps(s)) == s
    assert tomllib.loads(dumps(s))["segments"][0]["aht_s"] == aht_s


def test_service_level_definition_defaults_to_offered_and_a_segment_overrides_it():
    data = copy.deepcopy(MINIMAL)
    data["service_level"] = {"definition": "answered"}
    data["segments"][1]["definition"] = "short_abandons_met"
    s = from_dict(data)
    assert s.sl_definition("a") == "answered" and s.sl_definition("b") == "short_abandons_met"
    assert s.sl_label("a") == "answered in 20 s / answered"
    assert from_dict(MINIMAL).sl_definition("a") == "offered"
    assert loads(dumps(s)) == s


def test_unknown_service_level_definition_names_the_field_and_the_choices():
    data = copy.deepcopy(MINIMAL)
    data["service_level"] = {"definition": "answerd"}
    data["segments"][0]["definition"] = "served"
    probs = dict(problems_of(data))
    assert set(probs) == {"service_level.definition", "segments[0].definition"}
    assert "short_abandons_met" in probs["service_level.definition"]


# ---------------------------------------------------------------- re-bucketing to another interval length

def _bucket_case() -> dict:
    return {
        "name": "b", "interval_minutes": 30, "open_time": "08:00",
        "segments": [{"name": "a", "calls_per_interval": [10.0, 30.0, 20.0, 40.0], "aht_s": [100.0, 200.0, 300.0, 300.0],
                      "patience_s": 60.0},
                     {"name": "b", "daily_calls": 500, "profile": [1, 2, 3, 4], "aht_s": 240}],
        "agent_groups": [{"name": "g", "skills": ["a", "b"], "agents_per_interval": [5, 6, 7, 7]}],
    }


def test_rebucketing_splits_and_merges_keeping_the_day_and_the_totals():
    from ccplan.scenario import rebucket

    data = _bucket_case()
    fine, notes = rebucket(data, 15)
    sc0, sc1 = from_dict(data), from_dict(fine)
    assert sc1.n_intervals == 8 and sc1.interval_labels()[0] == "08:00" and sc1.interval_labels()[-1] == "09:45"
    for s0, s1 in zip(sc0.segments, sc1.segments):
        assert sc1.calls_per_interval(s1).sum() == pytest.approx(sc0.calls_per_interval(s0).sum())
        assert np.allclose(sc1.calls_per_interval(s1).reshape(4, 2).sum(axis=1), sc0.calls_per_interval(s0))
    assert list(sc1.agents_per_interval("g")) == [5, 5, 6, 6, 7, 7, 7, 7]
    assert "calls split evenly" in notes and data["interval_minutes"] == 30  # the input is not changed
    coarse, notes = rebucket(data, 60)
    sc2 = from_dict(coarse)
    assert list(sc2.calls_per_interval("a")) == [40.0, 60.0]
    assert sc2.aht_per_interval("a")[0] == pytest.approx((10 * 100 + 30 * 200) / 40)  # weighted by calls
    assert list(sc2.agents_per_interval("g")) == [6, 7]  # mean 5.5 rounded up: never fewer agents
    assert any("rounded up" in n for n in notes)


def test_rebucketing_refuses_a_day_that_does_not_divide():
    from ccplan.scenario import rebucket

    data = _bucket_case()
    for seg in data["segments"]:
        for k in ("calls_per_interval", "profile", "aht_s"):
            if isinstance(seg.get(k), list):
                seg[k] = seg[k][:3]
    data["agent_groups"][0]["agents_per_interval"] = [5, 6, 7]
    with pytest.raises(ScenarioError, match="does not divide"):
        rebucket(data, 60)


def test_bulk_staffing_edits_set_add_scale_and_copy_a_range_never_below_zero():
    from ccplan.scenario import edit_staffing

    a = [10, 12, 14, 16]
    assert edit_staffing(a, "set to", 20, 0, 3) == [20, 20, 20, 20]
    assert edit_staffing(a, "add", -11, 1, 2) == [10, 1, 3, 16]
    assert edit_staffing(a, "add", -20, 0, 3) == [0, 0, 0, 0]
    assert edit_staffing(a, "scale by %", 10, 0, 3) == [11, 13, 15, 18]
    assert edit_staffing(a, "copy to", 2, 0, 2) == [10, 12, 10, 12]  # cut at the end of the day
    assert a == [10, 12, 14, 16]
    with pytest.raises(ValueError, match="unknown"):
        edit_staffing(a, "double", 0, 0, 3)
    with pytest.raises(ValueError, match="within the day"):
        edit_staffing(a, "add", 1, 2, 9)


def test_renaming_or_removing_a_segment_or_group_follows_everywhere_it_is_named():
    from ccplan.scenario import rename_group, rename_segment, to_dict

    data = to_dict(load(presets()["retail_bank"]))
    seg = data["segments"][0]["name"]
    old_group = data["agent_groups"][0]["name"]
    data["agent_groups"][0]["handle_time_factor"] = {seg: 1.2}
    data["segments"][0]["groups"] = [old_group]
    rename_segment(data, seg, "vip")
    data["segments"][0]["name"] = "vip"
    rename_group(data, old_group, "front")
    data["agent_groups"][0]["name"] = "front"
    sc = from_dict(data)
    assert "vip" in sc.agent_groups[0].skills and sc.agent_groups[0].handle_time_factor == {"vip": 1.2}
    assert sc.segments[0].groups == ("front",)
    rename_group(data, "front", None)
    assert data["segments"][0]["groups"] == []  # not silently "every group"
    rename_segment(data, "vip", None)
    assert all("vip" not in g.get("skills", []) for g in data["agent_groups"])
