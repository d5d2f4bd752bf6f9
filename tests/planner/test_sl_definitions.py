"""Service-level definitions: the ratios, the planner's closed forms for M/M/c+M, and sizing by them."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccplan.scenario import SL_DEFINITIONS, from_dict, service_level_ratio, service_level_value
from planner.erlang import erlang_a
from planner.staffing import evaluate, plan, required_agents

DEFS = list(SL_DEFINITIONS)


def test_each_definition_divides_what_it_says():
    # 70 answered in time, 90 answered, 10 abandoned of which 4 within the threshold, 100 offered
    got = {d: service_level_value(d, 70, 100, 90, 4) for d in DEFS}
    assert got == pytest.approx({"offered": 0.70, "answered": 70 / 90, "offered_less_short_abandons": 70 / 96,
                                 "short_abandons_met": 0.74})


def test_a_definition_without_calls_gives_the_empty_value():
    assert np.isnan(service_level_value("answered", 0, 5, 0, 5))
    assert service_level_value("offered_less_short_abandons", 0, 5, 0, 5, empty=1.0) == 1.0


def test_unknown_definition_is_refused():
    with pytest.raises(ValueError, match="unknown service-level definition"):
        service_level_ratio("served", 1, 2, 2, 0)


@pytest.mark.parametrize("n,a,aht,pat,t", [(10, 9.5, 300, 200, 20), (50, 55.0, 300, 600, 20), (3, 1.0, 100, 50, 10)])
def test_planner_definitions_follow_from_erlang_a(n, a, aht, pat, t):
    r = erlang_a(n, a, aht, pat, t)
    sl, ab, still = float(r.service_level), float(r.p_abandon), float(r.still_waiting)
    short = 1.0 - sl - still
    want = {"offered": sl, "answered": sl / (1 - ab), "offered_less_short_abandons": sl / (1 - short),
            "short_abandons_met": 1.0 - still}
    for d in DEFS:
        assert float(evaluate(n, a, aht, t, pat, definition=d).service_level) == pytest.approx(want[d], rel=1e-12)
    # every definition but "offered" forgives something, so it is at least as high
    assert all(want[d] >= sl for d in DEFS)


def test_without_abandonment_every_definition_is_erlang_c():
    vals = {float(evaluate(14, 10.0, 180, 20, None, definition=d).service_level) for d in DEFS}
    assert len(vals) == 1


@given(a=st.floats(1, 200), pat=st.floats(20, 600), t=st.floats(1, 60), d=st.sampled_from(DEFS))
def test_sizing_by_a_definition_meets_it_and_one_less_does_not(a, pat, t, d):
    n = int(required_agents(a, 300.0, t, 0.8, patience_s=pat, definition=d))
    assert float(evaluate(n, a, 300.0, t, pat, definition=d).service_level) >= 0.8 - 1e-9
    if n > 0:
        assert float(evaluate(n - 1, a, 300.0, t, pat, definition=d).service_level) < 0.8


def _one_pool(definition: str | None, seg_definition: str | None = None) -> dict:
    seg = {"name": "a", "calls_per_interval": [200.0] * 4, "aht_s": 300, "patience_s": 120}
    if seg_definition:
        seg["definition"] = seg_definition
    data = {"name": "d", "segments": [seg], "agent_groups": [{"name": "g", "skills": ["a"], "agents": 30}]}
    if definition:
        data["service_level"] = {"definition": definition}
    return data


def test_plan_sizes_to_the_scenario_definition_and_a_segment_overrides_it():
    req = {d: int(plan(from_dict(_one_pool(d))).groups["required_agents"].iloc[0]) for d in DEFS}
    # forgiving definitions need fewer agents than "offered" for the same 80/20 target
    assert req["short_abandons_met"] < req["offered"]
    assert req["answered"] <= req["offered"]
    over = plan(from_dict(_one_pool("offered", seg_definition="short_abandons_met")))
    assert int(over.groups["required_agents"].iloc[0]) == req["short_abandons_met"]


def test_plan_of_one_pool_with_lines_is_m_m_c_n_and_sizes_against_blocking():
    from planner.erlang import finite_lines

    data = _one_pool(None)
    data["capacity"] = {"lines": 40}
    sc = from_dict(data)
    pl = plan(sc)
    assert pl.approximate_reasons() == []
    row = pl.group_segments.iloc[0]
    n = int(pl.groups["required_agents"].iloc[0])
    f = finite_lines(n, 200 * 300 / 1800, 300, 120, 40, 20)
    assert row["block_rate"] == pytest.approx(float(f.p_block), rel=1e-12)
    assert row["service_level"] == pytest.approx(float(f.service_level), rel=1e-12)
    assert row["service_level"] >= 0.8 and float(finite_lines(n - 1, 200 * 300 / 1800, 300, 120, 40, 20)
                                                 .service_level) < 0.8
    # lines are a loss: the plan with them needs at least the agents of the plan without
    assert n >= int(plan(from_dict(_one_pool(None))).groups["required_agents"].iloc[0])


def test_lines_shared_by_several_groups_are_named_as_an_approximation():
    data = _one_pool(None)
    data["capacity"] = {"lines": 40}
    data["agent_groups"].append({"name": "h", "skills": ["a"], "agents": 5})
    reasons = plan(from_dict(data)).approximate_reasons()
    assert any("phone lines are shared by several groups" in r for r in reasons)
