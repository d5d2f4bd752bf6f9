"""The capacity arithmetic and the hiring MILP: a hand calculation, brute force, and invariants."""

import itertools

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner import capacity as cp


def hand_calculation(h0, m, training, ramp, classes, weeks, cost_fte, cost_hire, penalty, required):
    """The issue's formulas, week by week in 50-digit arithmetic, written without the implementation:
    r = 1 - (1 - m)^(12/52); planned = H0 (1-r)^(w-1) + sum n (1-r)^(w-s) p(w-s); salaries on everyone employed."""
    mpmath.mp.dps = 50
    r = 1 - (1 - mpmath.mpf(m)) ** (mpmath.mpf(12) / 52)
    keep = 1 - r
    rows = []
    for w in range(1, weeks + 1):
        planned = employed = mpmath.mpf(h0) * keep ** (w - 1)
        trainees = mpmath.mpf(0)
        hired = 0
        for start, n in classes:
            if start > w:
                continue
            if start == w:
                hired += n
            age = w - start
            alive = n * keep ** age
            employed += alive
            if age < training:
                trainees += alive
                productivity = 0
            elif age - training < len(ramp):
                productivity = mpmath.mpf(ramp[age - training])
            else:
                productivity = 1
            planned += alive * productivity
        short = max(mpmath.mpf(required[w - 1]) - planned, 0)
        cost = cost_fte * employed + cost_hire * hired + penalty * short
        rows.append({"planned": planned, "employed": employed, "training": trainees, "short": short, "cost": cost})
    return rows


def one_group(weeks=26, h0=100.0, m=0.03, training=6, ramp=(0.5, 0.75), required=None, every=1, first=1,
              min_class=0, max_class=20, cost_fte=900.0, cost_hire=2500.0, penalty=3000.0, min_coverage=None):
    req = np.full(weeks, 100.0) if required is None else np.asarray(required, float)
    allowed = np.zeros(weeks, bool)
    allowed[first - 1::every] = True
    return cp.Problem(
        headcount_fte=np.array([h0]), attrition_per_week=np.array([cp.weekly_attrition(m)]), required_fte=req[None],
        cost_per_fte_week=np.array([cost_fte]), cost_per_hire=np.array([cost_hire]),
        training_weeks=np.array([training]), productivity=cp.productivity_by_age(training, ramp, weeks)[None],
        allowed=allowed[None], min_class=np.array([min_class]), max_class=np.array([max_class]),
        understaff_penalty_per_fte_week=penalty, min_coverage=min_coverage, names=("agents",))


REQUIRED_26 = [98, 99, 100, 100, 101, 102, 103, 104, 106, 108, 110, 112, 114, 116, 118, 118, 118, 116, 114, 112, 110,
               108, 106, 105, 104, 104]


def test_weekly_attrition_compounds_to_the_monthly_rate_over_52_12_weeks():
    r = cp.weekly_attrition(0.03)
    assert (1 - r) ** (52 / 12) == pytest.approx(0.97, abs=1e-15)
    assert cp.weekly_attrition(0.0) == 0.0


def test_a_hire_works_at_zero_in_training_then_along_the_ramp_then_fully():
    assert cp.productivity_by_age(3, [0.5, 0.75], 8).tolist() == [0, 0, 0, 0.5, 0.75, 1, 1, 1]
    assert cp.productivity_by_age(0, [], 3).tolist() == [1, 1, 1]


def test_the_arithmetic_equals_a_hand_calculation_to_1e_9():
    classes = [(3, 12), (9, 8)]
    pb = one_group(required=REQUIRED_26)
    hires = np.zeros((1, 26), int)
    for s, n in classes:
        hires[0, s - 1] = n
    pr = cp.project(pb, hires)
    hand = hand_calculation(100, 0.03, 6, [0.5, 0.75], classes, 26, 900, 2500, 3000, REQUIRED_26)
    for w, row in enumerate(hand):
        assert abs(pr.planned_fte[0, w] - float(row["planned"])) < 1e-9
        assert abs(pr.employed_fte[0, w] - float(row["employed"])) < 1e-9
        assert abs(pr.in_training[0, w] - float(row["training"])) < 1e-9
        assert abs(pr.shortfall_fte[0, w] - float(row["short"])) < 1e-9
        assert abs(pr.cost[0, w] - float(row["cost"])) < 1e-9  # currency, on weekly costs of about 1e5
    assert abs(pr.total_cost - float(sum(r["cost"] for r in hand))) < 1e-8
    # spot values a reader can redo on paper: week 1 is the starting headcount; the first class is in training
    # in weeks 3-8 and works at half in week 9: 100 (1-r)^8 + 12 (1-r)^6 x 0.5
    k = 1 - cp.weekly_attrition(0.03)
    assert pr.planned_fte[0, 0] == 100.0 and pr.in_training[0, 2] == 12.0
    assert pr.planned_fte[0, 8] == pytest.approx(100 * k ** 8 + 12 * k ** 6 * 0.5, abs=1e-12)
    assert pr.in_training[0, 8] == pytest.approx(8.0, abs=1e-12)  # the second class starts in week 9


def test_without_attrition_or_hires_planned_fte_stays_at_the_starting_headcount():
    pr = cp.project(one_group(m=0.0, h0=57.5))
    assert np.all(pr.planned_fte == 57.5) and np.all(pr.in_training == 0)


def brute_force(pb, weeks_allowed, sizes):
    best = (np.inf, None)
    for combo in itertools.product(sizes, repeat=len(weeks_allowed)):
        hires = np.zeros((1, pb.n_weeks), int)
        for w, n in zip(weeks_allowed, combo):
            hires[0, w - 1] = n
        pr = cp.project(pb, hires)
        if cp.coverage_misses(pb, pr):
            continue
        if pr.total_cost < best[0] - 1e-9:
            best = (pr.total_cost, hires)
    return best


@pytest.mark.parametrize("min_class,min_coverage", [(0, None), (4, None), (0, 0.97), (3, 0.95)])
def test_the_optimum_equals_brute_force_over_every_plan_of_three_class_weeks(min_class, min_coverage):
    req = [80, 80, 82, 84, 86, 90, 92, 94, 95, 95, 96, 96, 94, 92, 90, 90]
    pb = one_group(weeks=16, h0=82, m=0.04, training=3, ramp=[0.5], required=req, first=1, every=3,
                   min_class=min_class, max_class=10, cost_fte=900, cost_hire=2500, penalty=2200,
                   min_coverage=min_coverage)
    pb = cp.Problem(**{**pb.__dict__, "allowed": np.isin(np.arange(1, 17), [1, 4, 7])[None], "_cache": {}})
    sizes = [0] + list(range(max(min_class, 1), 11))
    cost, hires = brute_force(pb, [1, 4, 7], sizes)
    sol = cp.solve(pb, time_limit_s=30)
    assert sol.status == "optimal" and sol.gap == 0
    got = cp.project(pb, sol.hires).total_cost
    assert got == pytest.approx(cost, rel=1e-9, abs=1e-6)
    assert np.all(np.isin(sol.hires[0][[0, 3, 6]], sizes)) and sol.hires.sum() == sol.hires[0][[0, 3, 6]].sum()


def test_a_coverage_no_hiring_can_reach_is_infeasible_and_says_which_week_and_group():
    req = [100] * 10 + [140] * 6
    pb = one_group(weeks=16, h0=100, m=0.0, training=4, ramp=[], required=req, max_class=5, min_coverage=1.0)
    sol = cp.solve(pb)
    assert sol.status == "infeasible" and sol.hires is None
    assert "week 11" in sol.message and "'agents'" in sol.message and "min_coverage" in sol.message


def test_groups_are_planned_independently_and_the_optimum_is_integer():
    w = 20
    pb = cp.Problem(
        headcount_fte=np.array([50.0, 20.0]), attrition_per_week=cp.weekly_attrition(np.array([0.05, 0.02])),
        required_fte=np.vstack([np.full(w, 55.0), np.full(w, 18.0)]), cost_per_fte_week=np.array([800.0, 1200.0]),
        cost_per_hire=np.array([2000.0, 5000.0]), training_weeks=np.array([2, 4]),
        productivity=np.vstack([cp.productivity_by_age(2, [0.5], w), cp.productivity_by_age(4, [], w)]),
        allowed=np.ones((2, w), bool), min_class=np.array([2, 0]), max_class=np.array([10, 3]),
        understaff_penalty_per_fte_week=4000.0, names=("a", "b"))
    sol = cp.solve(pb)
    assert sol.status == "optimal"
    assert sol.hires.dtype.kind == "i" and ((sol.hires[0] == 0) | (sol.hires[0] >= 2)).all()
    assert sol.hires[1].max() <= 3
    assert cp.project(pb, sol.hires).total_cost <= cp.project(pb).total_cost


# ---------------------------------------------------------------------------------------------- invariants

problems = st.builds(
    lambda weeks, h0, m, training, ramp, every, first, lo, hi, penalty, req_level, seed: (
        one_group(weeks=weeks, h0=h0, m=m, training=min(training, weeks - 1), ramp=ramp, every=every,
                  first=min(first, weeks), min_class=min(lo, hi), max_class=hi, penalty=penalty,
                  required=np.random.default_rng(seed).uniform(0.8, 1.3, weeks) * req_level), seed),
    weeks=st.integers(3, 14), h0=st.floats(0, 200), m=st.floats(0, 0.2), training=st.integers(0, 5),
    ramp=st.lists(st.floats(0, 1), max_size=3), every=st.integers(1, 4), first=st.integers(1, 4),
    lo=st.integers(0, 5), hi=st.integers(1, 12), penalty=st.floats(0, 5000), req_level=st.floats(0, 200),
    seed=st.integers(0, 2**16))


@given(problems, st.data())
def test_planned_fte_never_falls_when_a_class_grows(case, data):
    pb, _ = case
    w = pb.n_weeks
    hires = np.array([data.draw(st.lists(st.integers(0, 20), min_size=w, max_size=w))])
    week = data.draw(st.integers(0, w - 1))
    more = hires.copy()
    more[0, week] += data.draw(st.integers(1, 10))
    assert np.all(cp.project(pb, more).planned_fte >= cp.project(pb, hires).planned_fte - 1e-12)
    assert np.all(cp.project(pb, more).employed_fte >= cp.project(pb, hires).employed_fte - 1e-12)


@given(st.integers(1, 60), st.floats(0, 1e5), st.integers(0, 10))
def test_zero_attrition_and_no_hires_keep_planned_fte_constant(weeks, h0, training):
    pr = cp.project(one_group(weeks=weeks, h0=h0, m=0.0, training=min(training, weeks - 1)))
    assert np.all(pr.planned_fte == h0)


@settings(max_examples=40)
@given(problems, st.data())
def test_the_optimum_costs_no_more_than_no_hiring_or_any_allowed_fixed_hires(case, data):
    pb, _ = case
    allowed = np.flatnonzero(pb.allowed[0])
    lo, hi = int(pb.min_class[0]), int(pb.max_class[0])
    fixed = np.zeros((1, pb.n_weeks), int)
    for w in allowed:
        fixed[0, w] = data.draw(st.sampled_from([0] + list(range(max(lo, 1), hi + 1))))
    sol = cp.solve(pb, time_limit_s=20)
    assert sol.status == "optimal"
    best = cp.project(pb, sol.hires).total_cost
    tol = 1e-7 * max(1.0, best)
    assert best <= cp.project(pb).total_cost + tol
    assert best <= cp.project(pb, fixed).total_cost + tol
