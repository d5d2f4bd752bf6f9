"""Invariants that hold in every run, checked over random small scenarios (hypothesis)."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from ccplan.scenario import SL_DEFINITIONS, from_dict, load, presets
from sim.metrics import replication_metrics
from sim.model import CallCenterModel
from sim.runner import InlineExecutor, simulate


@st.composite
def small_scenarios(draw):
    n_int = draw(st.integers(1, 4))
    n_seg = draw(st.integers(1, 3))
    segs = []
    for i in range(n_seg):
        seg = {
            "name": f"s{i}", "priority": draw(st.integers(1, 3)),
            "calls_per_interval": draw(st.lists(st.floats(0, 60), min_size=n_int, max_size=n_int)),
            "aht_s": draw(st.floats(30, 600)),
            "handle_time": draw(st.sampled_from(["exponential", "lognormal", "gamma", "deterministic", "uniform"])),
        }
        if seg["handle_time"] in ("lognormal", "gamma"):
            seg["handle_time_cv"] = draw(st.floats(0.2, 2.0))
        if seg["handle_time"] == "uniform":
            seg["handle_time_cv"] = draw(st.floats(0.0, 0.57))
        if draw(st.booleans()):
            seg["patience_s"] = draw(st.floats(10, 600))
            seg["retrial_probability"] = draw(st.floats(0, 1))
            seg["retrial_delay_s"] = draw(st.floats(10, 900))
            seg["retrial_delay"] = draw(st.sampled_from(["exponential", "fixed"]))
            seg["retrial_same_caller"] = draw(st.booleans())
        if draw(st.booleans()):
            seg["definition"] = draw(st.sampled_from(list(SL_DEFINITIONS)))
        segs.append(seg)
    names = [s["name"] for s in segs]
    groups = []
    for j in range(draw(st.integers(1, 3))):
        skills = draw(st.lists(st.sampled_from(names), min_size=1, max_size=len(names), unique=True))
        g = {"name": f"g{j}", "skills": skills,
             "agents_per_interval": draw(st.lists(st.integers(0, 8), min_size=n_int, max_size=n_int)),
             "shrinkage": draw(st.sampled_from([0.0, 0.2]))}
        if j > 0 and draw(st.booleans()):
            g["accepts_after_s"] = draw(st.floats(1, 120))
        if draw(st.booleans()):
            g["reserve"] = 1
            g["reserve_for"] = [skills[0]]
        groups.append(g)
    covered = {k for g in groups for k in g["skills"]}
    for n in names:
        if n not in covered:
            groups[0]["skills"].append(n)
    for seg in segs:  # a preference order over some of the skilled groups
        skilled = [g["name"] for g in groups if seg["name"] in g["skills"]]
        if draw(st.booleans()):
            seg["groups"] = draw(st.permutations(skilled))[:draw(st.integers(1, len(skilled)))]
    for g in groups:
        if draw(st.booleans()):
            g["serves"] = draw(st.permutations(g["skills"]))
    if draw(st.booleans()):
        segs[0]["escalation_probability"] = draw(st.floats(0, 0.5))
        groups.append({"name": "senior", "skills": ["escalation"], "agents": draw(st.integers(0, 3))})
    policy = draw(st.sampled_from(["fifo", "priority", "aging"]))
    extra = {}
    if draw(st.booleans()):
        extra["capacity"] = {"lines": draw(st.integers(1, 30))}
    return from_dict({"name": "random", "interval_minutes": draw(st.sampled_from([15, 30])), "segments": segs,
                      "agent_groups": groups,
                      "routing": {"policy": policy, "aging_s": 60,
                                  "agent_choice": draw(st.sampled_from(["preference", "longest_idle", "random"]))},
                      "simulation": {"at_close": draw(st.sampled_from(["serve", "disconnect"])),
                                     "busyness_cv": draw(st.sampled_from([0.0, 0.2]))}, **extra})


def run(scenario, seed=1):
    model = CallCenterModel(scenario, seed=seed, check_invariants=True).run()
    return model, model.log_arrays()


@settings(max_examples=40, deadline=None)
@given(sc=small_scenarios(), seed=st.integers(0, 1000))
def test_every_offered_call_is_answered_abandoned_blocked_disconnected_or_still_waiting(sc, seed):
    _, log = run(sc, seed)
    states = np.column_stack([log[k] for k in ("answered", "abandoned", "blocked", "disconnected")])
    assert np.all(states.sum(axis=1) <= 1)  # one outcome per call at most
    waiting = states.sum(axis=1) == 0
    assert len(log["segment"]) == states.sum() + waiting.sum()
    if sc.capacity.lines is None:
        assert not log["blocked"].any()
    if sc.simulation.at_close == "serve":
        assert not log["disconnected"].any()
    # a call still waiting at the end has no agent able to take it and never gives up
    assert np.all(np.isinf(np.asarray([sc.segments[s].patience_s or np.inf for s in log["segment"][waiting]])))


@settings(max_examples=40, deadline=None)
@given(sc=small_scenarios(), seed=st.integers(0, 1000))
def test_service_level_under_every_definition_is_a_share_of_its_own_counts(sc, seed):
    model, log = run(sc, seed)
    m = replication_metrics(log, sc, model.overtime_s(), 0, model.finishing_s())
    for tab in ("segments", "intervals"):
        df = m[tab]
        sl = df["service_level"].dropna()
        assert ((sl >= 0) & (sl <= 1)).all()
        assert (df["answered_within"] <= df["answered"]).all()
        assert (df["abandoned_within"] <= df["abandoned"]).all()
    day = float(m["day"]["service_level"].iloc[0])
    assert np.isnan(day) or 0 <= day <= 1


@settings(max_examples=40, deadline=None)
@given(sc=small_scenarios(), seed=st.integers(0, 1000))
def test_no_agent_serves_two_calls_at_once(sc, seed):
    _, log = run(sc, seed)
    legs = pd.concat([
        pd.DataFrame({"g": log["group"], "a": log["agent"], "s": log["answer_s"], "e": log["end_s"]}),
        pd.DataFrame({"g": log["escalation_group"], "a": log["escalation_agent"], "s": log["escalation_answer_s"],
                      "e": log["escalation_end_s"]}),
    ])
    legs = legs[legs["g"] >= 0].sort_values(["g", "a", "s"])
    for _, sub in legs.groupby(["g", "a"]):
        assert np.all(sub["s"].to_numpy()[1:] >= sub["e"].to_numpy()[:-1] - 1e-9)


@settings(max_examples=40, deadline=None)
@given(sc=small_scenarios(), seed=st.integers(0, 1000))
def test_calls_are_answered_after_arrival_by_skilled_groups(sc, seed):
    _, log = run(sc, seed)
    ans = log["answered"]
    assert np.all(log["answer_s"][ans] >= log["arrival_s"][ans] - 1e-9)
    for seg_i, grp_i in zip(log["segment"][ans], log["group"][ans]):
        assert sc.segments[seg_i].name in sc.agent_groups[grp_i].skills
        allowed = sc.segments[seg_i].groups
        assert allowed is None or sc.agent_groups[grp_i].name in allowed  # never outside the segment's list
    esc = log["escalated"] & (log["escalation_group"] >= 0)
    for grp_i in log["escalation_group"][esc]:
        assert "escalation" in sc.agent_groups[grp_i].skills
    assert np.all(log["escalation_answer_s"][esc] >= log["end_s"][esc] - 1e-9)


@settings(max_examples=40, deadline=None)
@given(sc=small_scenarios(), seed=st.integers(0, 1000))
def test_on_duty_agents_never_exceed_the_schedule_except_to_finish_a_call(sc, seed):
    model, _ = run(sc, seed)
    assert model.violations == []


@settings(max_examples=40, deadline=None)
@given(sc=small_scenarios(), seed=st.integers(0, 1000))
def test_overflow_groups_only_take_calls_that_waited_long_enough(sc, seed):
    _, log = run(sc, seed)
    close = sc.n_intervals * sc.interval_s
    for i, g in enumerate(sc.agent_groups):
        if g.accepts_after_s > 0:
            m = log["answered"] & (log["group"] == i) & (log["answer_s"] < close)
            assert np.all(log["wait_s"][m] >= g.accepts_after_s - 1e-6)


@settings(max_examples=15, deadline=None)
@given(sc=small_scenarios(), seed=st.integers(0, 1000))
def test_same_seed_same_call_log(sc, seed):
    _, a = run(sc, seed)
    _, b = run(sc, seed)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_same_seed_same_numbers_whatever_the_executor():
    sc = load(presets()["trainer"])
    a = simulate(sc, replications=3, seed=5, executor=InlineExecutor())
    b = simulate(sc, replications=3, seed=5)  # process pool
    pd.testing.assert_frame_equal(a.summary["segments"], b.summary["segments"])
    c = simulate(sc, replications=3, seed=6, executor=InlineExecutor())
    assert not a.summary["segments"].equals(c.summary["segments"])


def test_grouping_replications_into_tasks_changes_no_number_and_progress_counts_replications(monkeypatch):
    import sim.runner as runner

    sc = load(presets()["trainer"])
    assert runner.replications_per_task(sc, 120) == 15  # ~10 ms each: 15 per task (an eighth of 120)
    assert runner.replications_per_task(sc, 120, keep_log=True) == 1  # logs are streamed one by one
    assert runner.replications_per_task(sc, 3) == 1
    ticks: list[tuple[int, int]] = []
    grouped = simulate(sc, replications=20, seed=5, executor=InlineExecutor(),
                       progress=lambda d, t: ticks.append((d, t)))
    done = [d for d, _ in ticks]
    steps = sorted(b - a for a, b in zip([0, *done], done))
    assert done[-1] == 20 and steps == [2, 3, 3, 3, 3, 3, 3] and {t for _, t in ticks} == {20}
    monkeypatch.setattr(runner, "replications_per_task", lambda *a, **k: 1)
    single = simulate(sc, replications=20, seed=5, executor=InlineExecutor())
    for name in runner.TABLES:
        pd.testing.assert_frame_equal(grouped.per_replication[name], single.per_replication[name])


def test_common_random_numbers_keep_callers_when_routing_changes():
    sc = load(presets()["trainer"])
    _, a = run(sc)
    _, b = run(sc.with_changes({"routing.policy": "fifo"}))
    first_a, first_b = ~a["retry"], ~b["retry"]
    np.testing.assert_array_equal(a["arrival_s"][first_a], b["arrival_s"][first_b])
    np.testing.assert_array_equal(a["handle_s"][first_a], b["handle_s"][first_b])


def test_common_random_numbers_survive_adding_a_segment():
    sc = load(presets()["trainer"])
    data = sc.model_dump(mode="json", exclude_none=True)
    data["segments"].append({"name": "bronze", "calls_per_interval": [30] * sc.n_intervals, "aht_s": 200})
    data["agent_groups"][0]["skills"].append("bronze")
    _, a = run(sc)
    _, b = run(from_dict(data))
    gold_a = a["arrival_s"][(a["segment"] == 0) & ~a["retry"]]
    gold_b = b["arrival_s"][(b["segment"] == 0) & ~b["retry"]]
    np.testing.assert_array_equal(gold_a, gold_b)


def test_agents_finish_the_queue_after_closing_and_overtime_is_measured():
    sc = from_dict({"name": "late", "interval_minutes": 15,
                    "segments": [{"name": "a", "calls_per_interval": [200], "aht_s": 300}],
                    "agent_groups": [{"name": "g", "skills": ["a"], "agents": 10}]})
    model, log = run(sc)
    assert log["answered"].all()  # no patience: every call is answered, after closing if need be
    assert np.nanmax(log["end_s"]) > 900
    assert model.overtime_s()["g"] > 0


def test_retries_are_new_attempts_of_the_same_caller():
    sc = from_dict({"name": "retry", "interval_minutes": 60,
                    "segments": [{"name": "a", "calls_per_interval": [300, 300], "aht_s": 300, "patience_s": 30,
                                  "retrial_probability": 1.0, "retrial_delay_s": 60}],
                    "agent_groups": [{"name": "g", "skills": ["a"], "agents": 15}]})
    _, log = run(sc)
    retry = log["retry"]
    assert retry.any()
    first_ids = set(np.nonzero(~retry)[0])
    assert set(log["caller"][retry]) <= first_ids
    # every retry follows an abandoned attempt of the same caller
    callers = pd.DataFrame({"caller": log["caller"], "t": log["arrival_s"], "ab": log["abandoned"]}).sort_values("t")
    for _, sub in callers.groupby("caller"):
        assert sub["ab"].to_numpy()[:-1].all()


def test_reserved_agents_are_kept_for_their_segment():
    sc = from_dict({"name": "reserve", "interval_minutes": 60,
                    "segments": [{"name": "vip", "priority": 1, "calls_per_interval": [5], "aht_s": 300},
                                 {"name": "mass", "priority": 2, "calls_per_interval": [200], "aht_s": 300,
                                  "patience_s": 120}],
                    "agent_groups": [{"name": "g", "skills": ["vip", "mass"], "agents": 10, "reserve": 2,
                                      "reserve_for": ["vip"]}]})
    _, log = run(sc)
    ans = log["answered"] & (log["answer_s"] < 3600)
    # count agents busy with 'mass' calls at each mass answer: never more than 10 - 2
    mass = ans & (log["segment"] == 1)
    starts, ends = log["answer_s"][mass], log["end_s"][mass]
    for t in starts:
        assert np.sum((starts <= t) & (ends > t)) <= 8


def test_segment_names_that_collide_under_crc32_get_their_own_callers():
    import zlib

    assert zlib.crc32(b"plumless") == zlib.crc32(b"buckeroo")  # the known pair
    sc = from_dict({"name": "crc", "interval_minutes": 60,
                    "segments": [{"name": n, "calls_per_interval": [50.0] * 2, "aht_s": 300}
                                 for n in ("plumless", "buckeroo")],
                    "agent_groups": [{"name": "g", "skills": ["plumless", "buckeroo"], "agents": 20}]})
    _, log = run(sc)
    times = [log["arrival_s"][log["segment"] == k] for k in (0, 1)]
    assert len(times[0]) and len(times[1])
    assert not np.intersect1d(times[0], times[1]).size  # not the same arrival stream
