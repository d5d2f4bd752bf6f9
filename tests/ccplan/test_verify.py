"""Staffing verified by simulation (`ccplan staff --verify`, ccplan.verification)."""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from ccplan.scenario import from_dict, load, presets, to_dict
from ccplan.verification import VerifyError, ratio_ci, verify
from sim.metrics import interval_counts
from sim.model import CallCenterModel
from sim.runner import InlineExecutor, run_counts_removals, simulate
from tests.conftest import ccplan

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
REPS = 8


def _pooled_ok(scenario, result) -> bool:
    """Every target met, judged independently from ``simulate``'s per-replication tables: per interval
    (pooled over replications, cells with >= 20 calls per replication) and per segment over the day."""
    iv = result.per_replication["intervals"].copy()
    iv["within"] = iv["service_level"] * iv["offered"]
    g = iv.groupby(["segment", "interval"])[["within", "offered"]].sum()
    for seg in scenario.segments:
        sub = g.loc[seg.name]
        judged = sub["offered"] / result.replications >= 20
        sl = sub["within"] / sub["offered"]
        if (sl[judged] < scenario.sl_target(seg) - 1e-12).any():
            return False
    day = result.per_replication["segments"].groupby("segment")[["answered_within", "offered"]].sum()
    return all(day.loc[s.name, "answered_within"] / day.loc[s.name, "offered"] >= scenario.sl_target(s) - 1e-12
               for s in scenario.segments)


@pytest.fixture(scope="module")
def multigroup():
    sc = load(EXAMPLES / "multigroup_overflow.toml")
    with ProcessPoolExecutor(2) as ex:  # the search alone: its in-sample properties
        res = verify(sc, replications=REPS, seed=11, executor=ex, confirm_replications=0)
    return sc, res


def test_multigroup_verified_staffing_meets_every_target(multigroup):
    sc, res = multigroup
    assert res.all_met
    assert res.intervals["meets"].dropna().all()
    # an independent path (a new scenario file, the ordinary simulate and metrics) agrees
    checked = simulate(res.verified_scenario, replications=REPS, seed=11, executor=InlineExecutor())
    assert _pooled_ok(res.verified_scenario, checked)


def test_multigroup_verified_staffing_is_minimal(multigroup):
    """Removing any one agent in any interval breaks a target, with the same callers (CRN)."""
    sc, res = multigroup
    assert res.minimal
    v = res.verified_scenario
    variants = []
    for g in v.agent_groups:
        for i, n in enumerate(v.agents_per_interval(g)):
            if n > 0:
                less = list(v.agents_per_interval(g))
                less[i] -= 1
                variants.append(v.with_changes({f"agent_groups.{g.name}.agents_per_interval": less}))
    assert len(variants) >= 40
    with ProcessPoolExecutor(2) as ex:
        results = [simulate(x, replications=REPS, seed=11, executor=ex) for x in variants]
    still_ok = [x for x, r in zip(variants, results) if _pooled_ok(x, r)]
    assert still_ok == []


def test_multigroup_verification_needs_fewer_agents_than_the_analytic_plan(multigroup):
    sc, res = multigroup
    assert res.agent_hours_verified < res.agent_hours_planned


def test_verification_is_deterministic_for_a_seed_whatever_the_executor():
    sc = load(presets()["trainer"])
    a = verify(sc, replications=4, seed=5, executor=InlineExecutor(), confirm_replications=8)
    with ProcessPoolExecutor(2) as ex:
        b = verify(sc, replications=4, seed=5, executor=ex, confirm_replications=8)
    assert a.groups.equals(b.groups)
    assert a.to_json() == b.to_json()


def test_sharing_the_simulated_prefix_gives_the_numbers_of_separate_runs():
    sc = load(presets()["retail_bank"])
    base = np.vstack([sc.available_per_interval(g) for g in sc.agent_groups])
    removals = [(0, 0), (1, 5), (0, 11), (1, 23)]
    got_base, got = run_counts_removals(sc, base, removals, replication=2, seed=9)
    ref = interval_counts(CallCenterModel(sc, replication=2, seed=9).run().log_arrays(), sc)
    assert all(np.array_equal(got_base[k], ref[k]) for k in ref)
    for (g, t), counts in zip(removals, got):
        av = base.copy()
        av[g, t] -= 1
        ref = interval_counts(CallCenterModel(sc, replication=2, seed=9, available=av).run().log_arrays(), sc)
        assert all(np.array_equal(counts[k], ref[k]) for k in ref), (g, t)


def _no_retrials(path):
    data = to_dict(load(path))
    for seg in data["segments"]:
        seg["retrial_probability"] = 0.0
    return from_dict(data)


@pytest.mark.parametrize("scenario", [
    pytest.param(lambda: load(EXAMPLES / "multigroup_overflow.toml"), id="overflow-teams"),
    pytest.param(lambda: _no_retrials(presets()["retail_bank"]), id="escalation-reserve"),
    pytest.param(lambda: load(presets()["trainer"]), id="priorities"),
])
def test_removal_copies_that_couple_with_the_base_run_give_the_numbers_of_separate_runs(scenario):
    sc = scenario()
    base = np.vstack([sc.available_per_interval(g) for g in sc.agent_groups])
    removals = [(g, t) for g in range(base.shape[0]) for t in range(base.shape[1]) if base[g, t] > 0][::3]
    got_base, got = run_counts_removals(sc, base, removals, replication=1, seed=4)
    ref = interval_counts(CallCenterModel(sc, replication=1, seed=4).run().log_arrays(), sc)
    assert all(np.array_equal(got_base[k], ref[k]) for k in ref)
    coupled = 0
    for (g, t), counts in zip(removals, got):
        av = base.copy()
        av[g, t] -= 1
        ref = interval_counts(CallCenterModel(sc, replication=1, seed=4, available=av).run().log_arrays(), sc)
        assert all(np.array_equal(counts[k], ref[k]) for k in ref), (g, t)
        # did this copy take the shortcut? (the test must exercise it, not only the full runs)
        a = CallCenterModel(sc, replication=1, seed=4, available=base)
        b = CallCenterModel(sc, replication=1, seed=4, available=av)
        a.start()
        b.start()
        for i in range(t + 1, sc.n_intervals):
            a.run_until_interval(i)
            b.run_until_interval(i)
            if a.state_key(i) == b.state_key(i):
                coupled += 1
                break
    assert CallCenterModel(sc).can_couple()
    assert coupled >= len(removals) // 3, (coupled, len(removals))


def test_retrials_turn_the_coupling_shortcut_off():
    assert not CallCenterModel(load(presets()["telecom"])).can_couple()


def test_ratio_confidence_interval_stays_in_range_and_covers_the_estimate():
    rng = np.random.default_rng(1)
    den = rng.integers(5, 40, size=(10, 6)).astype(float)
    num = np.minimum(den, rng.binomial(den.astype(int), 0.97))
    est, lo, hi = ratio_ci(num, den)
    assert ((0 <= lo) & (lo <= est) & (est <= hi) & (hi <= 1)).all()
    assert np.allclose(est, num.sum(0) / den.sum(0))


def test_intervals_with_too_few_calls_are_reported_not_chased():
    data = to_dict(load(presets()["trainer"]))
    data["segments"][0]["calls_per_interval"] = [5.0] * 8  # gold: 5 calls per half-hour
    data["segments"][0].pop("daily_calls", None)
    data["segments"][0].pop("profile", None)
    res = verify(from_dict(data), replications=3, seed=1, executor=InlineExecutor(), polish=False)
    gold = res.intervals[res.intervals["segment"] == "gold"]
    assert not gold["judged"].any() and gold["meets"].isna().all()
    assert res.intervals[res.intervals["segment"] == "silver"]["judged"].all()


def test_a_scenario_with_nothing_to_judge_is_refused():
    data = to_dict(load(presets()["trainer"]))
    for s in data["segments"]:
        s.pop("daily_calls", None)
        s.pop("profile", None)
        s["calls_per_interval"] = [3.0] * 8
    with pytest.raises(VerifyError, match="nothing to verify"):
        verify(from_dict(data), replications=2, executor=InlineExecutor())


def test_cli_verify_writes_a_scenario_that_simulates_to_its_targets(tmp_path):
    out = tmp_path / "verified.toml"
    src = EXAMPLES / "peaky_day.toml"
    r = ccplan("staff", str(src), "--verify", "--replications", "6", "--seed", "3", "--to", str(out), "--json",
               "--confirm-replications", "0")
    assert r.returncode == 0, r.stderr
    obj = json.loads(r.stdout)
    v = obj["verified"]
    assert set(v) >= {"intervals", "segments", "agent_hours", "iterations", "confirmation", "days_meeting"}
    assert set(v["intervals"][0]) == {"interval", "time", "group", "agents_planned", "agents_verified"}
    assert set(v["segments"]["gold"]) >= {"service_level", "service_level_ci", "worst_interval",
                                          "worst_interval_service_level", "target", "service_level_search",
                                          "optimism_gap", "days_meeting", "daily_sl_p10"}
    assert set(v["agent_hours"]) >= {"planned", "verified", "search"}
    assert v["confirmation"]["replications"] == 0
    assert {"intervals", "groups", "segments"} <= set(obj)  # the plan's shape stays
    # the written scenario: valid, only agents_per_interval changed
    before, after = to_dict(load(src)), to_dict(load(out))
    for g in after["agent_groups"]:
        g.pop("agents_per_interval")
    for g in before["agent_groups"]:
        g.pop("agents", None)
        g.pop("agents_per_interval", None)
    assert before == after
    team = load(out).agents_per_interval("team")
    assert list(team) == [i["agents_verified"] for i in v["intervals"]]
    sim = json.loads(ccplan("simulate", str(out), "-r", "6", "--seed", "3", "--json").stdout)
    sc = load(out)
    for seg in sc.segments:
        assert sim["segments"][seg.name]["service_level"] >= sc.sl_target(seg)
        assert sim["segments"][seg.name]["service_level"] == pytest.approx(v["segments"][seg.name]["service_level"])


@pytest.mark.parametrize("args, message", [
    (["--verify", "--replications", "0"], "--replications must be at least 2"),
    (["--verify", "--group", "nobody"], "--group 'nobody': no such agent group"),
    (["--to", "x.toml"], "--to only goes with --verify"),
    (["--verify", "--max-iterations", "0"], "--max-iterations must be at least 1"),
])
def test_bad_verify_options_are_one_clear_line(args, message):
    r = ccplan("staff", str(presets()["trainer"]), *args)
    assert r.returncode == 1
    assert message in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_staff_says_when_the_analytic_figures_are_approximate():
    r = ccplan("staff", str(presets()["telecom"]))
    assert "approximate" in r.stdout and "--verify" in r.stdout
    r = ccplan("staff", str(presets()["trainer"]))
    assert "approximate" not in r.stdout


def test_the_early_window_screen_never_rules_out_a_removal_that_keeps_every_target():
    """Removals ruled out from a short simulated window are infeasible when simulated to the end of the day."""
    from ccplan.verification import _Search
    from planner.staffing import plan

    sc = load(EXAMPLES / "peaky_day.toml")
    s = _Search(sc, 4, 7, InlineExecutor(), 20.0, None, np.ones(1, bool))
    req = plan(sc).required_available
    base = req + 2
    for _ in range(10):  # a feasible, tight day: add agents only where a target fails
        e = s.evaluate(base)
        if s.feasible(e):
            break
        short = s.interval_shortfall(e) > 0
        base[0] += short if short.any() else 1
    assert s.feasible(s.evaluate(base))
    singles = [(0, t) for t in range(sc.n_intervals)]
    screened = s.evaluate_removals(base, singles)
    ruled_out = [gt for gt, ev in zip(singles, screened) if ev is None]
    assert ruled_out, "the screen should rule some removals out here"
    kept = [gt for gt, ev in zip(singles, screened) if ev is not None and s.feasible(ev)]
    assert kept, "some removals should keep every target here"
    for g, t in ruled_out:
        v = base.copy()
        v[g, t] -= 1
        assert not s.feasible(s.evaluate(v)), (g, t)


class _Recording(InlineExecutor):
    """Runs tasks inline and records which replication numbers each simulated staffing was given."""

    def __init__(self) -> None:
        self.replications: list[int] = []

    def submit(self, fn, /, *args, **kwargs):
        if args and getattr(args[0], "__name__", "") == "run_counts_many":
            self.replications += list(args[3])
        return super().submit(fn, *args, **kwargs)


def test_confirmation_runs_on_replications_the_search_never_used_and_is_deterministic():
    from ccplan.verification import CONFIRM_OFFSET

    sc = load(presets()["trainer"])
    ex = _Recording()
    a = verify(sc, replications=4, seed=5, executor=ex, confirm_replications=12)
    search = {r for r in ex.replications if r < CONFIRM_OFFSET}
    fresh = {r for r in ex.replications if r >= CONFIRM_OFFSET}
    assert search == set(range(4))
    assert len(fresh) == 12 * a.confirm_samples and min(fresh) == CONFIRM_OFFSET
    b = verify(sc, replications=4, seed=5, executor=InlineExecutor(), confirm_replications=12)
    assert a.to_json() == b.to_json()
    assert a.groups.equals(b.groups) and a.intervals.equals(b.intervals)


def test_the_confirmed_staffing_meets_every_target_on_fresh_callers_and_shows_the_search_beside_it():
    sc = load(EXAMPLES / "peaky_day.toml")
    res = verify(sc, replications=4, seed=3, executor=InlineExecutor(), confirm_replications=20)
    assert res.all_met and res.confirmed and res.confirm_replications == 20
    assert res.intervals["meets"].dropna().all() and res.segments["meets"].all()
    assert res.agent_hours_verified >= res.agent_hours_search
    iv = res.intervals
    assert np.allclose(iv["optimism_gap"], iv["service_level_search"] - iv["service_level"], equal_nan=True)
    # the confirmation's own tables: the day SL is the long-run ratio over its replications
    assert res.segments["service_level"].between(res.segments["service_level_ci_low"],
                                                 res.segments["service_level_ci_high"]).all()
    assert "fresh callers" in res.outcome() and "the search's minimum on its own random numbers" in res.outcome()


def test_days_meeting_staffs_so_that_the_share_of_good_days_reaches_it():
    sc = load(presets()["trainer"]).with_changes({"simulation.busyness_cv": 0.2})
    plain = verify(sc, replications=20, seed=2, executor=InlineExecutor(), confirm_replications=0)
    res = verify(sc, replications=20, seed=2, executor=InlineExecutor(), confirm_replications=40, days_meeting=0.8)
    assert res.all_met and (res.segments["days_meeting"] >= 0.8).all()
    assert res.agent_hours_verified > plain.agent_hours_verified  # good days cost more than a good average
    assert res.to_json()["days_meeting"] == dict(zip(res.segments["segment"], res.segments["days_meeting"]))
    share = res.segments.set_index("segment")["days_meeting"]
    low, high = res.segments.set_index("segment")[["days_meeting_ci_low", "days_meeting_ci_high"]].T.to_numpy()
    assert ((low <= share.to_numpy()) & (share.to_numpy() <= high)).all()


@pytest.mark.parametrize("args, message", [
    (["--verify", "--days-meeting", "1.5"], "--days-meeting must be a share between 0 and 1"),
    (["--days-meeting", "0.9"], "--days-meeting only goes with --verify"),
    (["--verify", "--confirm-replications", "1"], "--confirm-replications must be 0"),
])
def test_bad_confirmation_options_are_one_clear_line(args, message):
    r = ccplan("staff", str(presets()["trainer"]), *args)
    assert r.returncode == 1 and message in r.stderr and "Traceback" not in r.stderr
