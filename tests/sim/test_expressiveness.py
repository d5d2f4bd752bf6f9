"""Routing preferences, lines, busyness, closing, retrials and distributions: formulas where they are exact,
behaviour by construction elsewhere, and ContactCenters' Bilingual example against its published results."""

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from ccplan.scenario import ScenarioError, from_dict, load
from sim.arrivals import distribution, stream
from sim.model import CallCenterModel
from sim.runner import simulate

ROOT = Path(__file__).resolve().parents[2]


def scenario(**over) -> dict:
    base = {"name": "t", "interval_minutes": 60,
            "segments": [{"name": "a", "calls_per_interval": [60.0] * 8, "aht_s": 300}],
            "agent_groups": [{"name": "g", "skills": ["a"], "agents": 6}]}
    base.update(over)
    return base


def mmck_blocking(a: float, c: int, k: int) -> float:
    """Erlang's loss formula with waiting room: P(K in system) for M/M/c/K with offered load a."""
    terms = [a ** n / math.factorial(n) for n in range(c + 1)]
    terms += [a ** n / (math.factorial(c) * c ** (n - c)) for n in range(c + 1, k + 1)]
    return terms[-1] / sum(terms)


def test_lines_block_as_erlangs_formula_with_waiting_room_predicts():
    c, k, a = 10, 14, 9.0  # 10 agents, 14 lines, 9 Erlangs (108 calls an hour of 300 s)
    sc = from_dict(scenario(segments=[{"name": "a", "calls_per_interval": [108.0] * 24, "aht_s": 300}],
                            agent_groups=[{"name": "g", "skills": ["a"], "agents": c}], capacity={"lines": k}))
    res = simulate(sc, replications=24, seed=5)
    seg = res.per_replication["segments"]
    share = (seg["blocked"] / seg["offered"]).to_numpy()
    mean, half = share.mean(), stats.t.ppf(0.975, len(share) - 1) * share.std(ddof=1) / np.sqrt(len(share))
    assert abs(mean - mmck_blocking(a, c, k)) <= half + 0.002, (mean, half, mmck_blocking(a, c, k))


def test_busyness_makes_the_daily_count_overdispersed_by_c_squared_lambda_squared():
    lam, cv, reps = 1600.0, 0.2, 500
    sc = from_dict(scenario(segments=[{"name": "a", "calls_per_interval": [lam / 8] * 8, "aht_s": 300}],
                            simulation={"busyness_cv": cv}))
    counts = np.array([CallCenterModel(sc, r, seed=3).n_first for r in range(reps)], float)
    var = counts.var(ddof=1)
    lo = (reps - 1) * var / stats.chi2.ppf(0.995, reps - 1)
    hi = (reps - 1) * var / stats.chi2.ppf(0.005, reps - 1)
    assert lo <= lam + cv ** 2 * lam ** 2 <= hi, (lo, hi, lam + cv ** 2 * lam ** 2)
    assert counts.mean() == pytest.approx(lam, rel=0.03)


def test_busyness_is_common_to_two_scenarios_with_the_same_seed():
    a = from_dict(scenario(simulation={"busyness_cv": 0.3}))
    b = from_dict(scenario(simulation={"busyness_cv": 0.3}, agent_groups=[{"name": "g", "skills": ["a"],
                                                                            "agents": 9}]))
    assert [CallCenterModel(a, r).n_first for r in range(5)] == [CallCenterModel(b, r).n_first for r in range(5)]


def test_a_segments_first_group_takes_the_call_when_both_have_free_agents():
    sc = from_dict(scenario(segments=[{"name": "a", "calls_per_interval": [20.0] * 8, "aht_s": 60,
                                       "groups": ["second", "first"]}],
                            agent_groups=[{"name": "first", "skills": ["a"], "agents": 30},
                                          {"name": "second", "skills": ["a"], "agents": 30}]))
    log = CallCenterModel(sc, 0).run().log_arrays()
    assert (log["group"][log["answered"]] == 1).all()  # 'second' is listed first


def test_random_agent_choice_splits_in_proportion_to_free_agents():
    sc = from_dict(scenario(segments=[{"name": "a", "calls_per_interval": [200.0] * 8, "aht_s": 10}],
                            agent_groups=[{"name": "big", "skills": ["a"], "agents": 30},
                                          {"name": "small", "skills": ["a"], "agents": 10}],
                            routing={"agent_choice": "random"}))
    log = CallCenterModel(sc, 0).run().log_arrays()
    share_big = (log["group"][log["answered"]] == 0).mean()
    n = log["answered"].sum()
    assert abs(share_big - 0.75) < 4 * math.sqrt(0.75 * 0.25 / n)


def test_longest_idle_choice_alternates_between_two_idle_groups():
    sc = from_dict(scenario(segments=[{"name": "a", "calls_per_interval": [30.0] * 8, "aht_s": 10,
                                       "handle_time": "deterministic"}],
                            agent_groups=[{"name": "x", "skills": ["a"], "agents": 1},
                                          {"name": "y", "skills": ["a"], "agents": 1}],
                            routing={"agent_choice": "longest_idle"}))
    log = CallCenterModel(sc, 0).run().log_arrays()
    g = log["group"][log["answered"]]
    both_free = np.diff(log["arrival_s"][log["answered"]]) > 20  # the previous call is over: both idle
    prev, cur = g[:-1][both_free], g[1:][both_free]
    assert (prev != cur).mean() > 0.99  # the other group has been idle longer


def test_a_group_with_serves_takes_the_first_non_empty_queue_in_its_order():
    sc = from_dict(scenario(segments=[{"name": "a", "calls_per_interval": [80.0] * 8, "aht_s": 300, "priority": 1},
                                      {"name": "b", "calls_per_interval": [80.0] * 8, "aht_s": 300, "priority": 2}],
                            agent_groups=[{"name": "g", "skills": ["a", "b"], "agents": 10, "serves": ["b", "a"]}]))
    log = CallCenterModel(sc, 0).run().log_arrays()
    ans_a = log["answered"] & (log["segment"] == 0) & (log["wait_s"] > 0)
    b = log["segment"] == 1
    b_end = np.where(log["answered"], log["answer_s"], np.where(log["abandoned"], log["abandon_s"], np.inf))
    for t in log["answer_s"][ans_a]:
        waiting_b = b & (log["arrival_s"] < t - 1e-9) & (b_end > t + 1e-9)
        assert not waiting_b.any(), t
    assert ans_a.sum() > 0 and (log["answered"] & b).sum() > ans_a.sum()  # b goes first despite its priority


def test_disconnect_at_close_cuts_off_the_queue_and_serves_calls_in_hand():
    sc = from_dict(scenario(segments=[{"name": "a", "calls_per_interval": [100.0] * 8, "aht_s": 300}],
                            simulation={"at_close": "disconnect"}))
    log = CallCenterModel(sc, 0).run().log_arrays()
    close = 8 * 3600
    assert log["disconnected"].sum() > 0
    assert np.all(log["answer_s"][log["answered"]] <= close + 1e-9)
    assert np.any(log["end_s"][log["answered"]] > close)  # calls in hand end after closing


def test_fixed_retrials_come_back_after_exactly_the_delay_with_the_same_need():
    sc = from_dict(scenario(segments=[{"name": "a", "calls_per_interval": [100.0] * 8, "aht_s": 300,
                                       "patience_s": 60, "retrial_probability": 1.0, "retrial_delay_s": 600,
                                       "retrial_delay": "fixed", "retrial_same_caller": True}]))
    m = CallCenterModel(sc, 0).run()
    log = m.log_arrays()
    retry = np.flatnonzero(log["retry"])
    assert retry.size > 0
    for cid in retry[:200]:
        caller = log["caller"][cid]
        earlier = np.flatnonzero((log["caller"] == caller) & (log["arrival_s"] < log["arrival_s"][cid]))
        parent = earlier[np.argmax(log["arrival_s"][earlier])]
        assert log["arrival_s"][cid] == pytest.approx(log["abandon_s"][parent] + 600)
        assert log["handle_s"][cid] == log["handle_s"][parent]


def test_uniform_handle_times_have_the_stated_mean_and_range():
    d = distribution("uniform", 300.0, 0.2)
    x = d.sample(stream(1, 0, "a", "handle"), 100_000)
    half = 300 * 0.2 * math.sqrt(3)
    assert x.min() >= 300 - half and x.max() <= 300 + half
    assert x.mean() == pytest.approx(300, rel=0.005) and x.std() / x.mean() == pytest.approx(0.2, rel=0.02)


@pytest.mark.parametrize("change,path,words", [
    ({"segments": [{"name": "a", "calls_per_interval": [1.0], "aht_s": 60, "groups": ["h"]}]},
     "segments[0].groups[0]", "names no agent group"),
    ({"segments": [{"name": "a", "calls_per_interval": [1.0], "aht_s": 60},
                   {"name": "b", "calls_per_interval": [1.0], "aht_s": 60, "groups": ["g"]}],
      "agent_groups": [{"name": "g", "skills": ["a"], "agents": 1}, {"name": "h", "skills": ["b"], "agents": 1}]},
     "segments[1].groups[0]", "does not have the skill 'b'"),
    ({"agent_groups": [{"name": "g", "skills": ["a"], "agents": 1, "serves": ["b"]}]},
     "agent_groups[0].serves[0]", "not among the group's skills"),
    ({"segments": [{"name": "a", "calls_per_interval": [1.0], "aht_s": 60, "handle_time": "uniform",
                    "handle_time_cv": 0.9}]}, "segments[0].handle_time_cv", "would go below 0 s"),
    ({"capacity": {"lines": 0}}, "capacity.lines", "must be >= 1"),
    ({"simulation": {"at_close": "hangup"}}, "simulation.at_close", "must be one of"),
    ({"routing": {"agent_choice": "fastest"}}, "routing.agent_choice", "must be one of"),
])
def test_bad_routing_and_capacity_keys_name_the_field(change, path, words):
    with pytest.raises(ScenarioError) as exc:
        from_dict(scenario(**change))
    assert any(p == path and words in r for p, r in exc.value.problems), exc.value.problems


# ContactCenters' Bilingual.res (1,000 simulated weeks of 5 days): mean and 95% CI half-width per week
BILINGUAL_PUBLISHED = {
    ("english", "offered"): (2555.811, 3.526), ("spanish", "offered"): (2554.350, 3.537),
    ("english", "offered_retry"): (54.073, 0.837), ("spanish", "offered_retry"): (53.095, 0.822),
    ("english", "answered"): (2483.933, 3.017), ("spanish", "answered"): (2483.302, 3.069),
    ("english", "abandoned"): (71.848, 1.033), ("spanish", "abandoned"): (71.020, 1.021),
    ("english", "answered_within"): (2448.662, 2.884), ("spanish", "answered_within"): (2448.223, 2.972),
    ("english_only", "occupancy"): (47.624, 0.061), ("spanish_only", "occupancy"): (47.639, 0.060),
    ("bilingual", "occupancy"): (63.254, 0.057),
}


def bilingual_comparison(replications: int, seed: int) -> list[tuple]:
    """(what, ours per week, our 95% half-width, published, its half-width, z) for each published statistic."""
    s = load(ROOT / "examples" / "bilingual.toml")
    res = simulate(s, replications=replications, seed=seed)
    seg, grp = res.per_replication["segments"], res.per_replication["groups"]
    agents = {g.name: g.agents for g in s.agent_groups}
    rows = []
    for (who, what), (pub, pub_half) in BILINGUAL_PUBLISHED.items():
        if what == "occupancy":
            d = grp[grp["group"] == who]
            x = 100 * d["busy_s"].to_numpy() / (agents[who] * 9 * 3600)  # per day = per week (a ratio)
        else:
            x = 5 * seg[seg["segment"] == who][what].to_numpy()  # 5 days a week
        half = 1.96 * x.std(ddof=1) / np.sqrt(len(x))
        z = (x.mean() - pub) / math.hypot(half / 1.96, pub_half / 1.96)
        rows.append((f"{who} {what}", x.mean(), half, pub, pub_half, z))
    return rows


def test_bilingual_example_agrees_with_contactcenters_published_results():
    rows = bilingual_comparison(400, 2026)
    worst = max(rows, key=lambda r: abs(r[5]))
    # 13 statistics: each within 3.3 combined standard errors (family-wise about 1%)
    assert abs(worst[5]) < 3.3, worst
    assert sum(abs(r[5]) < 1.96 for r in rows) >= 10


def test_a_groups_handle_time_factor_scales_its_calls_of_that_segment():
    sc = from_dict(scenario(segments=[{"name": "a", "calls_per_interval": [30.0] * 8, "aht_s": 200,
                                       "handle_time": "deterministic"},
                                      {"name": "b", "calls_per_interval": [30.0] * 8, "aht_s": 200,
                                       "handle_time": "deterministic"}],
                            agent_groups=[{"name": "g", "skills": ["a", "b"], "agents": 20,
                                           "handle_time_factor": {"a": 1.25}}]))
    log = CallCenterModel(sc, 0).run().log_arrays()
    took = log["end_s"] - log["answer_s"]
    ans = log["answered"]
    assert np.allclose(took[ans & (log["segment"] == 0)], 250.0)
    assert np.allclose(took[ans & (log["segment"] == 1)], 200.0)


def test_the_planner_uses_the_effective_handle_time_where_it_is_exact():
    from planner.staffing import approximate_reasons, plan

    slow = from_dict(scenario(agent_groups=[{"name": "g", "skills": ["a"], "agents": 6,
                                             "handle_time_factor": {"a": 1.25}}]))
    same = from_dict(scenario(segments=[{"name": "a", "calls_per_interval": [60.0] * 8, "aht_s": 375}]))
    assert plan(slow).scheduled.tolist() == plan(same).scheduled.tolist()
    assert approximate_reasons(slow) == []
    shared = from_dict(scenario(agent_groups=[{"name": "g", "skills": ["a"], "agents": 6},
                                              {"name": "h", "skills": ["a"], "agents": 6,
                                               "handle_time_factor": {"a": 1.25}}]))
    assert any("handle_time_factor" in r for r in approximate_reasons(shared))


def test_the_planner_sends_a_segment_only_to_its_listed_groups():
    from planner.staffing import plan

    sc = from_dict(scenario(segments=[{"name": "a", "calls_per_interval": [60.0] * 8, "aht_s": 300,
                                       "groups": ["g"]}],
                            agent_groups=[{"name": "g", "skills": ["a"], "agents": 6},
                                          {"name": "h", "skills": ["a"], "agents": 6}]))
    groups = plan(sc).groups
    assert (groups[groups["group"] == "h"]["calls"] == 0).all()
    assert (groups[groups["group"] == "g"]["calls"] == 60).all()


def test_a_handle_time_factor_for_a_segment_the_group_lacks_is_named():
    with pytest.raises(ScenarioError) as exc:
        from_dict(scenario(agent_groups=[{"name": "g", "skills": ["a"], "agents": 1,
                                          "handle_time_factor": {"b": 1.2, "a": 0}}]))
    paths = dict(exc.value.problems)
    assert "not a segment among the group's skills" in paths["agent_groups[0].handle_time_factor.b"]
    assert any("must be > 0" in r for p, r in exc.value.problems if p.startswith("agent_groups[0].handle_time_factor"))


def test_per_interval_handle_times_and_patience_follow_the_arrival_interval():
    sc = from_dict(scenario(segments=[{"name": "a", "calls_per_interval": [200.0] * 4, "aht_s": [100, 200, 300, 400],
                                       "patience_s": [30, 60, 90, 120], "handle_time": "deterministic"}],
                            agent_groups=[{"name": "g", "skills": ["a"], "agents": 100}]))
    log = CallCenterModel(sc, 0).run().log_arrays()
    where = (log["arrival_s"] // 3600).astype(int)
    for i, (aht, pat) in enumerate(zip((100, 200, 300, 400), (30, 60, 90, 120))):
        assert np.allclose(log["handle_s"][where == i], aht)
    many = sc.with_changes({"segments.a.calls_per_interval": [4000.0] * 4})
    m = CallCenterModel(many, 0)  # the callers as drawn, before the day runs
    pats = np.frombuffer(m.c_patience, dtype=np.float64)[: m.n_first]
    arr = np.frombuffer(m.c_arrival, dtype=np.float64)[: m.n_first]
    for i, pat in enumerate((30, 60, 90, 120)):
        x = pats[(arr // 3600).astype(int) == i]
        assert abs(x.mean() - pat) < 4 * pat / np.sqrt(len(x))  # exponential: sd = mean


def test_the_planner_sizes_each_interval_with_its_own_handle_time():
    from planner.staffing import plan

    ahts = [180.0, 240.0, 300.0, 360.0]
    sc = from_dict(scenario(segments=[{"name": "a", "calls_per_interval": [100.0] * 4, "aht_s": ahts,
                                       "patience_s": [120.0, 120.0, 90.0, 90.0]}]))
    per = plan(sc).scheduled[0]
    for i, (aht, pat) in enumerate(zip(ahts, (120.0, 120.0, 90.0, 90.0))):
        one = from_dict(scenario(segments=[{"name": "a", "calls_per_interval": [100.0] * 4, "aht_s": aht,
                                            "patience_s": pat}]))
        assert per[i] == plan(one).scheduled[0][i]
    assert per[0] < per[3]


def test_a_per_interval_list_of_the_wrong_length_is_named():
    with pytest.raises(ScenarioError) as exc:
        from_dict(scenario(segments=[{"name": "a", "calls_per_interval": [60.0] * 8, "aht_s": [300.0] * 7}]))
    assert any(p == "segments[0].aht_s" and "has 7 intervals" in r for p, r in exc.value.problems)


def _empirical_scenario(tmp_path, values, **seg):
    folder = tmp_path / "center"
    folder.mkdir(exist_ok=True)
    (folder / "handle_times.csv").write_text("seconds\n" + "\n".join(str(v) for v in values) + "\n")
    text = ('name = "e"\ninterval_minutes = 60\n[[segments]]\nname = "a"\ncalls_per_interval = [40.0, 40.0]\n'
            'handle_time = "empirical"\nhandle_time_file = "handle_times.csv"\n'
            + "".join(f"{k} = {v}\n" for k, v in seg.items())
            + '[[agent_groups]]\nname = "g"\nskills = ["a"]\nagents = 10\n')
    (folder / "s.toml").write_text(text)
    return load(folder / "s.toml")


def test_empirical_handle_times_resample_the_file_read_next_to_the_scenario(tmp_path):
    values = [60, 90, 120, 150, 180, 240, 300, 420, 600, 900]
    sc = _empirical_scenario(tmp_path, values)
    assert Path(sc.segments[0].handle_time_file).is_absolute()
    assert sc.mean_aht_s("a") == pytest.approx(np.mean(values))
    log = CallCenterModel(sc, 0).run().log_arrays()
    assert set(np.round(log["handle_s"], 6)) <= set(map(float, values))
    from planner.staffing import plan

    same_mean = from_dict(scenario(segments=[{"name": "a", "calls_per_interval": [40.0, 40.0],
                                              "aht_s": float(np.mean(values))}],
                                   agent_groups=[{"name": "g", "skills": ["a"], "agents": 10}]))
    assert plan(sc).scheduled.tolist() == plan(same_mean).scheduled.tolist()


def test_an_empirical_shape_is_rescaled_to_a_given_aht(tmp_path):
    values = [60, 90, 120, 150, 180, 240, 300, 420, 600, 900]
    sc = _empirical_scenario(tmp_path, values, aht_s=[100.0, 400.0])
    log = CallCenterModel(sc.with_changes({"segments.a.calls_per_interval": [3000.0, 3000.0]}), 0).log_arrays()
    first = log["arrival_s"] < 3600
    assert log["handle_s"][first].mean() == pytest.approx(100, rel=0.03)
    assert log["handle_s"][~first].mean() == pytest.approx(400, rel=0.03)


@pytest.mark.parametrize("content,words", [
    (None, "no such file"),
    ("seconds\n60\nabc\n", "row 3: 'abc' is not a number"),
    ("60\n90\n", "needs at least 10"),
    ("seconds\n" + "60\n" * 9 + "-5\n", "must be > 0 seconds"),
])
def test_a_bad_empirical_file_is_named(tmp_path, content, words):
    folder = tmp_path / "c"
    folder.mkdir()
    if content is not None:
        (folder / "h.csv").write_text(content)
    (folder / "s.toml").write_text('name = "e"\n[[segments]]\nname = "a"\ncalls_per_interval = [4.0]\n'
                                   'handle_time = "empirical"\nhandle_time_file = "h.csv"\n'
                                   '[[agent_groups]]\nname = "g"\nskills = ["a"]\nagents = 1\n')
    with pytest.raises(ScenarioError) as exc:
        load(folder / "s.toml")
    assert any(p == "segments[0].handle_time_file" and words in r for p, r in exc.value.problems), exc.value.problems


def test_empirical_needs_its_file_and_a_file_needs_empirical():
    with pytest.raises(ScenarioError) as exc:
        from_dict(scenario(segments=[{"name": "a", "calls_per_interval": [1.0], "handle_time": "empirical"},
                                     {"name": "b", "calls_per_interval": [1.0], "aht_s": 60,
                                      "handle_time_file": "x.csv"}],
                           agent_groups=[{"name": "g", "skills": ["a", "b"], "agents": 1}]))
    problems = dict(exc.value.problems)
    assert "required with handle_time = 'empirical'" in problems["segments[0].handle_time_file"]
    assert "only goes with handle_time = 'empirical'" in problems["segments[1].handle_time_file"]
    with pytest.raises(ScenarioError) as exc:
        from_dict(scenario(segments=[{"name": "a", "calls_per_interval": [1.0]}]))
    assert ("segments[0].aht_s", "required field is missing") in exc.value.problems


@pytest.mark.parametrize("patience", [None, 200.0])
def test_planner_m_m_c_n_matches_the_simulated_pool_with_lines(patience):
    """One pool of 10 agents, 14 lines, 9.5 Erlangs: the planner's M/M/c/N(+M) blocking, abandonment and
    service level (offered and short-abandons-met) lie inside the simulator's 95% CIs (24-hour steady day,
    first two hours left out)."""
    from planner.erlang import finite_lines
    from planner.staffing import plan

    seg = {"name": "a", "calls_per_interval": [114.0] * 24, "aht_s": 300}
    if patience:
        seg["patience_s"] = patience
    data = scenario(segments=[seg], agent_groups=[{"name": "g", "skills": ["a"], "agents": 10}],
                    capacity={"lines": 14})
    sc = from_dict(data)
    res = simulate(sc, replications=30, seed=8)
    iv = res.per_replication["intervals"]
    g = iv[iv["interval"] >= 2].groupby("replication")[["offered", "blocked", "abandoned", "answered_within",
                                                          "abandoned_within"]].sum()
    pl = plan(sc).group_segments.iloc[0]
    data["service_level"] = {"definition": "short_abandons_met"}
    pl_met = plan(from_dict(data)).group_segments.iloc[0]
    assert plan(sc).approximate_reasons() == []  # one pool: the lines are in the formulas
    f = finite_lines(10, 9.5, 300, patience or np.inf, 14, 20)
    checks = {"blocked": (g["blocked"] / g["offered"], float(f.p_block)),
              "abandoned": (g["abandoned"] / g["offered"], float(f.p_abandon)),
              "service level": (g["answered_within"] / g["offered"], pl["service_level_current"]),
              "short abandons met": ((g["answered_within"] + g["abandoned_within"]) / g["offered"],
                                     pl_met["service_level_current"])}
    for name, (values, formula) in checks.items():
        v = values.to_numpy()
        half = stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))
        assert abs(v.mean() - formula) <= half + 1e-12, (name, v.mean(), half, formula)
