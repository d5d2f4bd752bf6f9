"""The simulator agrees with the formulas where they are exact, within its own 95% confidence interval.

Each case is a long steady day (24 one-hour intervals at a constant rate); the
first two hours are left out as warm-up. Seeds are fixed, so these tests are
deterministic.
"""

import numpy as np
import pytest

from ccplan.scenario import from_dict
from planner.erlang import asa_s, erlang_a, service_level
from planner.priority import priority_waits_s
from sim.metrics import confidence_interval
from sim.runner import InlineExecutor, simulate

HOURS, WARMUP = 24, 2


def steady(segments: list[dict], agents: int, policy: str = "fifo") -> dict:
    for s in segments:
        s.setdefault("priority", 1)
    return {
        "name": "steady", "interval_minutes": 60,
        "segments": segments,
        "agent_groups": [{"name": "pool", "skills": [s["name"] for s in segments], "agents": agents}],
        "routing": {"policy": policy},
    }


def per_rep(result, segment: str, col: str) -> np.ndarray:
    """Per-replication value of an interval metric after warm-up, weighted by offered calls."""
    iv = result.per_replication["intervals"]
    iv = iv[(iv["segment"] == segment) & (iv["interval"] >= WARMUP)]
    iv = iv.assign(w=iv["offered"] if col != "asa_s" else iv["answered"])
    iv = iv.assign(x=iv[col] * iv["w"])
    g = iv.groupby("replication")[["x", "w"]].sum()
    return (g["x"] / g["w"]).to_numpy()


def assert_in_ci(values: np.ndarray, expected: float) -> None:
    mean, lo, hi = confidence_interval(values)
    assert lo <= expected <= hi, f"formula {expected:.5f} outside simulated CI [{lo:.5f}, {hi:.5f}] (mean {mean:.5f})"


@pytest.fixture(scope="module")
def mmc():
    calls_per_hour, aht = 96.0, 300.0  # 8 Erlangs on 10 agents
    sc = from_dict(steady([{"name": "a", "calls_per_interval": [calls_per_hour] * HOURS, "aht_s": aht}], 10))
    return sc, simulate(sc, replications=30, seed=11, executor=InlineExecutor())


def test_mmc_fifo_service_level_matches_erlang_c(mmc):
    _, res = mmc
    assert_in_ci(per_rep(res, "a", "service_level"), float(service_level(10, 8.0, 300, 20)))


def test_mmc_fifo_asa_matches_erlang_c(mmc):
    _, res = mmc
    assert_in_ci(per_rep(res, "a", "asa_s"), float(asa_s(10, 8.0, 300)))


@pytest.fixture(scope="module")
def mmcm():
    calls_per_hour, aht, patience = 114.0, 300.0, 200.0  # 9.5 Erlangs on 10 agents, impatient callers
    sc = from_dict(steady([{"name": "a", "calls_per_interval": [calls_per_hour] * HOURS, "aht_s": aht,
                            "patience_s": patience}], 10))
    return sc, simulate(sc, replications=30, seed=12, executor=InlineExecutor())


def test_mmcm_abandonment_matches_erlang_a(mmcm):
    _, res = mmcm
    assert_in_ci(per_rep(res, "a", "abandon_rate"), float(erlang_a(10, 9.5, 300, 200, 20).p_abandon))


def test_mmcm_service_level_matches_erlang_a(mmcm):
    _, res = mmcm
    assert_in_ci(per_rep(res, "a", "service_level"), float(erlang_a(10, 9.5, 300, 200, 20).service_level))


def test_mmcm_asa_matches_erlang_a(mmcm):
    _, res = mmcm
    assert_in_ci(per_rep(res, "a", "asa_s"), float(erlang_a(10, 9.5, 300, 200, 20).asa_s))


@pytest.fixture(scope="module")
def two_classes():
    # 3 + 5 Erlangs on 10 agents, same handle time: Cobham's formula is exact
    segs = [{"name": "high", "priority": 1, "calls_per_interval": [36.0] * HOURS, "aht_s": 300},
            {"name": "low", "priority": 2, "calls_per_interval": [60.0] * HOURS, "aht_s": 300}]
    sc = from_dict(steady(segs, 10, policy="priority"))
    return sc, simulate(sc, replications=30, seed=13, executor=InlineExecutor())


@pytest.mark.parametrize("k,name", [(0, "high"), (1, "low")])
def test_priority_class_mean_wait_matches_cobham(two_classes, k, name):
    _, res = two_classes
    expected = float(priority_waits_s(10, [[3.0], [5.0]], [300, 300], [1, 2])[k, 0])
    assert_in_ci(per_rep(res, name, "asa_s"), expected)


@pytest.fixture(scope="module")
def impatient_priority():
    # two priorities with different patience: the planner's approximation, checked by simulation
    segs = [{"name": "high", "priority": 1, "calls_per_interval": [250.0] * HOURS, "aht_s": 300, "patience_s": 180},
            {"name": "low", "priority": 2, "calls_per_interval": [350.0] * HOURS, "aht_s": 300, "patience_s": 120}]
    sc = from_dict(steady(segs, 50, policy="priority"))
    return sc, simulate(sc, replications=10, seed=14, executor=InlineExecutor())


@pytest.mark.parametrize("k,name", [(0, "high"), (1, "low")])
def test_planner_priority_approximation_with_abandonment_is_close_to_the_simulation(impatient_priority, k, name):
    from planner.priority import predict_classes

    _, res = impatient_priority
    pred = predict_classes([50], [[250 * 300 / 3600], [350 * 300 / 3600]], [300, 300], [180, 120], [20, 20], [1, 2])
    sl, _, _ = confidence_interval(per_rep(res, name, "service_level"))
    ab, _, _ = confidence_interval(per_rep(res, name, "abandon_rate"))
    assert abs(pred.service_level[k, 0] - sl) < 0.035
    assert abs(pred.abandon_rate[k, 0] - ab) < 0.015


@pytest.fixture(scope="module")
def mmcm_definitions():
    # the M/M/c+M day above split into four identical FIFO segments, one per service-level definition
    defs = ["offered", "answered", "offered_less_short_abandons", "short_abandons_met"]
    segs = [{"name": d, "calls_per_interval": [114.0 / 4] * HOURS, "aht_s": 300.0, "patience_s": 200.0,
             "definition": d} for d in defs]
    sc = from_dict(steady(segs, 10))
    return defs, simulate(sc, replications=30, seed=14, executor=InlineExecutor())


@pytest.mark.parametrize("k", range(4))
def test_each_service_level_definition_matches_its_erlang_a_closed_form(mmcm_definitions, k):
    from ccplan.scenario import service_level_value
    from planner.staffing import evaluate

    defs, res = mmcm_definitions
    d = defs[k]
    iv = res.per_replication["intervals"]
    iv = iv[(iv["segment"] == d) & (iv["interval"] >= WARMUP)]
    g = iv.groupby("replication")[["answered_within", "offered", "answered", "abandoned_within"]].sum()
    values = service_level_value(d, g["answered_within"], g["offered"], g["answered"], g["abandoned_within"])
    assert_in_ci(np.asarray(values), float(evaluate(10, 9.5, 300, 20, 200.0, definition=d).service_level))
