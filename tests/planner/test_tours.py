"""Weekly tours: optimal against an explicit enumeration of every tour, tour rules kept by every listed agent,
coverage recomputed from the agents, and a clear reason when a week cannot be covered."""

import datetime as dt
import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import LinearConstraint, milp

from ccplan.scenario import Contract, ScenarioError, from_dict, load
from planner import tours
from planner.staffing import plan

ROOT = Path(__file__).resolve().parents[2]
MONDAY = dt.date(2026, 3, 2)


def day_scenario(n_intervals: int = 10, open_time: str = "08:00", shifts: list | None = None,
                 groups: tuple[str, ...] = ("team",), costs: tuple[float, ...] = (20.0,)):
    """A small day: one segment per group, the given shift rules."""
    data = {
        "name": "small day", "interval_minutes": 30, "open_time": open_time,
        "segments": [{"name": f"s_{g}", "calls_per_interval": [10.0] * n_intervals, "aht_s": 300} for g in groups],
        "agent_groups": [{"name": g, "skills": [f"s_{g}"], "cost_per_hour": c, "agents": 5}
                         for g, c in zip(groups, costs)],
        "shifts": shifts if shifts is not None else [
            {"name": "long", "minutes": 240, "earliest_start": "08:00", "latest_start": "09:00",
             "breaks": [{"minutes": 30, "earliest_after_minutes": 90, "latest_after_minutes": 150}]},
            {"name": "short", "minutes": 120, "earliest_start": "08:00", "latest_start": "11:00"},
        ],
    }
    return from_dict(data)


def week_of(scenarios: dict[int, object], required: dict[int, np.ndarray]) -> list[tours.WeekDay]:
    """Monday..Sunday; days missing from ``scenarios`` are closed."""
    return [tours.WeekDay(MONDAY + dt.timedelta(days=k), scenarios.get(k), required.get(k)) for k in range(7)]


def contract(**kw) -> Contract:
    return Contract.model_validate(kw)


SMALL_CONTRACTS = (
    contract(name="ft", shifts=["long"], days_per_week=[2, 3], start_band_minutes=30),
    contract(name="pt", shifts=["short"], days_per_week=[1, 2], start_band_minutes=60, max_agents=3),
)


# ------------------------------------------------------------------ explicit enumeration of every tour


def _clock(hhmm: str) -> int:
    h, m = map(int, hhmm.split(":"))
    return h * 60 + m


def _day_minutes(sc) -> int:
    return sc.n_intervals * sc.interval_minutes


def _on_minutes(sc, shift, start_clock: int, break_offsets: tuple[int, ...]) -> np.ndarray:
    """Minute-by-minute on duty and not on break over the day (1 = working)."""
    open_m = _clock(sc.open_time)
    on = np.zeros(_day_minutes(sc))
    s = start_clock - open_m
    on[s:s + shift.minutes] = 1
    for b, w in zip(shift.breaks, break_offsets):
        on[s + w:s + w + b.minutes] = 0
    return on


def explicit_optimum(days: list[tours.WeekDay], contracts) -> float:
    """Every tour as its own column (contract x group x working days x each day's shift, start and break times),
    coverage minute by minute: an independent formulation of the week (Dantzig-style set covering)."""
    open_days = [k for k, d in enumerate(days) if d.open]
    groups = days[open_days[0]].scenario.group_names
    cols, costs, owner = [], [], []
    rows_of = {}
    n_rows = 0
    for k in open_days:
        sc = days[k].scenario
        rows_of[k] = n_rows
        n_rows += len(groups) * sc.n_intervals
    shift_caps = []  # (day, shift name, lo, hi)
    for k in open_days:
        for sh in days[k].scenario.shifts:
            if sh.max_agents is not None or sh.min_agents:
                shift_caps.append((k, sh.name, sh.min_agents, sh.max_agents))
    uses = []  # per column: set of (day, shift name)
    for ci, c in enumerate(contracts):
        for g, gname in enumerate(groups):
            if c.groups is not None and gname not in c.groups:
                continue
            for w in tours.work_patterns(open_days, c.days_per_week, c.days_off_together):
                per_day = []
                for k in w:
                    sc = days[k].scenario
                    opts = []
                    for sh in sc.shifts:
                        if sh.name not in c.shifts or (sh.groups is not None and gname not in sh.groups):
                            continue
                        step = sh.start_every_minutes or sc.interval_minutes
                        for start in range(_clock(sh.earliest_start), _clock(sh.latest_start) + 1, step):
                            grids = [range(b.earliest_after_minutes, b.latest_after_minutes + 1,
                                           b.start_every_minutes or sc.interval_minutes) for b in sh.breaks]
                            for offs in itertools.product(*grids):
                                opts.append((sh, start, offs))
                    per_day.append(opts)
                for combo in itertools.product(*per_day):
                    starts = [start for _, start, _ in combo]
                    if c.start_band_minutes is not None and max(starts) - min(starts) > c.start_band_minutes:
                        continue
                    col = np.zeros(n_rows)
                    cost = 0.0
                    for k, (sh, start, offs) in zip(w, combo):
                        sc = days[k].scenario
                        on = _on_minutes(sc, sh, start, offs).reshape(sc.n_intervals, -1).mean(axis=1)
                        col[rows_of[k] + g * sc.n_intervals:rows_of[k] + (g + 1) * sc.n_intervals] = on
                        cost += sh.paid_minutes / 60 * sc.agent_groups[g].cost_per_hour
                    cols.append(col)
                    costs.append(cost)
                    owner.append(ci)
                    uses.append({(k, sh.name) for k, (sh, _, _) in zip(w, combo)})
    a = np.array(cols).T
    req = np.concatenate([np.asarray(days[k].required, float).ravel() for k in open_days])
    cons = [LinearConstraint(a, req, np.inf)]
    for ci, c in enumerate(contracts):
        if c.max_agents is not None or c.min_agents:
            cons.append(LinearConstraint((np.array(owner) == ci).astype(float)[None, :], c.min_agents,
                                         np.inf if c.max_agents is None else c.max_agents))
    for k, name, lo, hi in shift_caps:
        cons.append(LinearConstraint(np.array([float((k, name) in u) for u in uses])[None, :], lo,
                                     np.inf if hi is None else hi))
    res = milp(np.array(costs), constraints=cons, integrality=np.ones(len(costs)), options={"mip_rel_gap": 0.0})
    assert res.status == 0, res.message
    return float(res.fun)


def small_week(seed: int) -> list[tours.WeekDay]:
    """Monday to Thursday open (Friday to Sunday closed), 10 half-hours, a random requirement of 0-4 agents."""
    rng = np.random.default_rng(seed)
    sc = day_scenario()
    return week_of({k: sc for k in range(4)}, {k: rng.integers(0, 5, size=(1, 10)) for k in range(4)})


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_week_is_optimal_and_costs_what_an_explicit_enumeration_of_every_tour_costs(seed):
    days = small_week(seed)
    r = tours.solve(days, SMALL_CONTRACTS, time_limit_s=60)
    assert r.status == "optimal" and r.gap == 0.0, r.message
    assert r.cost == pytest.approx(explicit_optimum(days, SMALL_CONTRACTS), rel=1e-9)


def test_two_groups_with_a_weekly_cap_across_them_and_a_daily_shift_cap_match_the_enumeration():
    rng = np.random.default_rng(7)
    shifts = [
        {"name": "long", "minutes": 240, "earliest_start": "08:00", "latest_start": "09:00",
         "breaks": [{"minutes": 30, "earliest_after_minutes": 90, "latest_after_minutes": 150}]},
        {"name": "short", "minutes": 120, "earliest_start": "08:00", "latest_start": "11:00", "max_agents": 3},
    ]
    sc = day_scenario(shifts=shifts, groups=("a", "b"), costs=(20.0, 25.0))
    days = week_of({k: sc for k in (0, 1, 2)}, {k: rng.integers(0, 4, size=(2, 10)) for k in (0, 1, 2)})
    contracts = (contract(name="ft", shifts=["long"], days_per_week=[2, 3], days_off_together=True,
                          start_band_minutes=0),
                 contract(name="pt", shifts=["short"], days_per_week=[1, 2], max_agents=4))
    r = tours.solve(days, contracts, time_limit_s=60)
    assert r.status == "optimal", r.message
    assert r.cost == pytest.approx(explicit_optimum(days, contracts), rel=1e-9)


# ------------------------------------------------------------------ what the listed agents give and keep


def coverage_from_agents(r: tours.TourRoster) -> dict[str, np.ndarray]:
    """Agents on duty and not on break per date, group and interval, minute by minute from the agents table."""
    out = {}
    for d in r.days:
        if not d.open:
            continue
        sc = d.scenario
        per_minute = np.zeros((len(sc.agent_groups), _day_minutes(sc)))
        mine = r.agents[r.agents["date"] == d.date.isoformat()]
        for a in mine.itertuples():
            sh = next(s for s in sc.shifts if s.name == a.shift)
            start = _clock(a.start)
            offs = tuple(_clock(b) - start for b in a.breaks)
            for b, w in zip(sh.breaks, offs):
                assert b.earliest_after_minutes <= w <= b.latest_after_minutes, "a break outside its window"
            assert (_clock(a.end) - start) % 1440 == sh.minutes
            per_minute[sc.group_names.index(a.group)] += _on_minutes(sc, sh, start, offs)
        out[d.date.isoformat()] = per_minute.reshape(len(sc.agent_groups), sc.n_intervals, -1).mean(axis=2)
    return out


def assert_tour_rules(r: tours.TourRoster) -> None:
    """Every agent keeps its contract: days worked, days off in one block, start band, its shifts and groups."""
    by_name = {c.name: c for c in r.contracts}
    dates = [d.date.isoformat() for d in r.days]
    for agent, rows in r.agents.groupby("agent"):
        c = by_name[rows["contract"].iloc[0]]
        assert rows["group"].nunique() == 1 and rows["date"].is_unique
        lo, hi = c.days_per_week
        assert lo <= len(rows) <= hi
        worked = sorted(dates.index(x) for x in rows["date"])
        if c.days_off_together:
            off = [k for k in range(7) if k not in worked]
            assert not off or off[-1] - off[0] + 1 == len(off), f"agent {agent}: days off apart"
        starts = [_clock(s) for s in rows["start"]]
        if c.start_band_minutes is not None:
            assert max(starts) - min(starts) <= c.start_band_minutes
        assert set(rows["shift"]) <= set(c.shifts)
        assert c.groups is None or rows["group"].iloc[0] in c.groups
    for c in r.contracts:
        n = r.agents.loc[r.agents["contract"] == c.name, "agent"].nunique()
        assert c.min_agents <= n <= (c.max_agents if c.max_agents is not None else n)


@pytest.fixture(scope="module")
def example_week():
    """The example week (examples/week), solved with the analytic plan as requirement."""
    from ccplan import week as wk

    w = wk.read_week(ROOT / "examples" / "week")
    req = wk.requirements(w, "plan")
    return w, req, wk.solve(w, req, time_limit_s=15)  # any roster serves these checks; 40 s took 40 s


def test_coverage_recomputed_from_the_listed_agents_is_the_reported_coverage_and_meets_every_interval(example_week):
    w, req, r = example_week
    assert r.ok, r.message
    listed = coverage_from_agents(r)
    for d, need in req.items():
        iso = d.isoformat()
        assert np.allclose(listed[iso], r.coverage_matrix(iso), atol=1e-9)
        assert np.all(listed[iso] >= need - 1e-9), iso
        assert np.all(r.scheduled(iso) >= need)


def test_every_agent_keeps_the_rules_of_its_contract(example_week):
    assert_tour_rules(example_week[2])


def test_headcount_fte_cost_and_the_lower_bound_add_up(example_week):
    w, req, r = example_week
    rates = {g.name: g.cost_per_hour for g in next(iter(w.scenarios.values())).agent_groups}
    assert r.cost == pytest.approx(sum(a.paid_hours * rates[a.group] for a in r.agents.itertuples()))
    for g in r.groups.itertuples():
        mine = r.agents[r.agents["group"] == g.group]
        assert g.headcount == mine["agent"].nunique()
        assert g.fte == pytest.approx(mine["paid_hours"].sum() / 40.0)
    assert r.by_contract["headcount"].sum() == r.headcount == len(r.tours)
    # the tours never cost less than the days solved one by one, and the premium says by how much more
    assert r.lower_bound_cost <= r.cost + 1e-6
    assert r.premium == pytest.approx(r.cost / r.lower_bound_cost - 1)
    assert 0 <= r.premium < 0.10


def test_the_weeks_scenarios_carry_the_rosters_coverage_as_staffing(example_week):
    w, req, r = example_week
    out = r.to_scenarios()
    assert set(out) == set(w.open_dates)
    for d, sc in out.items():
        got = np.stack([sc.agents_per_interval(g) for g in sc.agent_groups])
        assert np.array_equal(got, r.scheduled(d))
        assert np.all(got >= req[d])


def test_a_week_without_tour_premium_costs_exactly_the_day_by_day_optimum():
    """Unlimited part-timers who may work any 1-7 days at any start cover each day as the day roster would."""
    sc = day_scenario()
    rng = np.random.default_rng(4)
    days = week_of({k: sc for k in range(5)}, {k: rng.integers(0, 6, size=(1, 10)) for k in range(5)})
    free = (contract(name="any", shifts=["long", "short"], days_per_week=[1, 7]),)
    r = tours.solve(days, free, time_limit_s=60)
    assert r.status == "optimal"
    assert r.cost == pytest.approx(r.lower_bound_cost)
    assert r.premium == pytest.approx(0.0, abs=1e-12)


def test_starts_stay_within_the_band_and_a_band_of_zero_keeps_one_start_all_week():
    days = small_week(5)
    fixed = (contract(name="ft", shifts=["long"], days_per_week=3, start_band_minutes=0),
             SMALL_CONTRACTS[1])
    r = tours.solve(days, fixed, time_limit_s=60)
    assert r.ok
    ft = r.agents[r.agents["contract"] == "ft"]
    assert (ft.groupby("agent")["start"].nunique() == 1).all()
    assert_tour_rules(r)


# ------------------------------------------------------------------ day patterns and the wrap-around rule


def test_day_patterns_of_a_week():
    seven = range(7)
    assert len(tours.work_patterns(seven, (5, 5), True)) == 6       # 2 days off together: 6 places
    assert len(tours.work_patterns(seven, (5, 5), False)) == 21     # C(7, 5)
    assert len(tours.work_patterns(seven, (3, 5), False)) == 35 + 35 + 21
    # Sunday closed: the days off of a 5-day week hold Sunday, so they are Saturday and Sunday
    assert tours.work_patterns(range(6), (5, 5), True) == [(0, 1, 2, 3, 4)]
    assert tours.work_patterns(range(6), (5, 5), False) == list(__import__("itertools").combinations(range(6), 5))
    assert tours.work_patterns(range(1, 6), (5, 5), True) == []     # off Monday and Sunday: not one block
    assert tours.work_patterns([0, 6], (2, 2), True) == [(0, 6)]    # off Tuesday to Saturday: one block


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12), st.lists(st.integers(0, 12), min_size=7, max_size=7), st.integers(1, 7),
       st.integers(0, 6))
def test_the_wrap_around_rule_gives_every_agent_between_min_and_max_days(n, per_day, lo, extra):
    hi = min(7, lo + extra)
    per_day = [min(x, n) for x in per_day]
    total = sum(per_day)
    if not lo * n <= total <= hi * n:
        return
    pats = tours._wrap_around(n, per_day)
    assert len(pats) == n
    assert all(lo <= len(w) <= hi for w in pats)
    assert [sum(d in w for w in pats) for d in range(7)] == per_day


# ------------------------------------------------------------------ reasons a week cannot be covered


def test_an_interval_before_every_contracts_first_start_is_named_with_its_day():
    sc = day_scenario(open_time="07:00", n_intervals=12)
    req = np.zeros((1, 12), int)
    req[0, 0] = 2
    r = tours.solve(week_of({0: sc, 1: sc, 2: sc}, {k: req for k in range(3)}), SMALL_CONTRACTS)
    assert r.status == "infeasible" and not r.ok
    assert r.message.startswith("2026-03-02 (Monday), interval 07:00 needs 2 agents in group 'team'")
    assert "no contract's shift may start before 08:00" in r.message


def test_days_per_week_above_the_open_days_is_named_with_the_contract():
    sc = day_scenario()
    days = week_of({0: sc, 1: sc}, {0: np.ones((1, 10), int), 1: np.ones((1, 10), int)})
    three = (contract(name="ft", shifts=["long", "short"], days_per_week=3),)
    r = tours.solve(days, three)
    assert r.status == "infeasible"
    assert r.message.startswith("contract 'ft': days_per_week 3 exceeds the 2 open days of the week (2026-03-04 ")


def test_days_off_together_that_closed_days_split_is_named():
    sc = day_scenario()
    req = np.ones((1, 10), int)
    # open Tuesday to Saturday: a 5-day tour works them all, its days off are Monday and Sunday, not together
    days = week_of({k: sc for k in range(1, 6)}, {k: req for k in range(1, 6)})
    five = (contract(name="five", shifts=["long", "short"], days_per_week=5, days_off_together=True),)
    r = tours.solve(days, five)
    assert r.status == "infeasible"
    assert "contract 'five': days_off_together" in r.message and "one block" in r.message


def test_a_start_band_the_days_shift_rules_cannot_meet_is_named():
    early = day_scenario(shifts=[{"name": "long", "minutes": 240, "earliest_start": "08:00",
                                  "latest_start": "08:30"}], n_intervals=16)
    late = day_scenario(shifts=[{"name": "long", "minutes": 240, "earliest_start": "10:00",
                                 "latest_start": "11:00"}], n_intervals=16)
    days = week_of({0: early, 1: late}, {0: np.ones((1, 16), int), 1: np.ones((1, 16), int)})
    both = (contract(name="steady", shifts=["long"], days_per_week=2, start_band_minutes=60),)
    r = tours.solve(days, both)
    assert r.status == "infeasible"
    assert "contract 'steady': start_band_minutes 60: no start time fits every working day" in r.message
    assert "Monday 08:00–08:30" in r.message and "Tuesday 10:00–11:00" in r.message


def test_an_interval_only_starts_the_band_rules_out_can_cover_is_named_with_the_rule():
    wide = day_scenario(shifts=[{"name": "s", "minutes": 120, "earliest_start": "08:00", "latest_start": "11:00"}])
    narrow = day_scenario(shifts=[{"name": "s", "minutes": 120, "earliest_start": "08:00", "latest_start": "08:00"}])
    req0 = np.zeros((1, 10), int)
    req0[0, 9] = 1                      # Monday 12:30: only a start at 11:00 covers it
    req1 = np.zeros((1, 10), int)
    req1[0, 0] = 1
    days = week_of({0: wide, 1: narrow}, {0: req0, 1: req1})
    same = (contract(name="same", shifts=["s"], days_per_week=2, start_band_minutes=0),)
    r = tours.solve(days, same)
    assert r.status == "infeasible"
    assert r.message.startswith("2026-03-02 (Monday), interval 12:30 needs 1 agents in group 'team'")
    assert "contract 'same'" in r.message and "start_band_minutes 0" in r.message


def test_a_group_no_contract_hires_is_named():
    sc = day_scenario(groups=("a", "b"), costs=(20.0, 20.0))
    req = np.ones((2, 10), int)
    only_a = (contract(name="a_only", shifts=["long", "short"], days_per_week=[1, 3], groups=["a"]),)
    r = tours.solve(week_of({0: sc, 1: sc}, {0: req, 1: req}), only_a)
    assert r.status == "infeasible" and "group 'b'" in r.message and "no contract hires the group" in r.message


def test_contract_caps_below_an_intervals_need_are_named():
    sc = day_scenario()
    req = np.full((1, 10), 5)
    capped = (contract(name="ft", shifts=["long"], days_per_week=1, max_agents=2),
              contract(name="pt", shifts=["short"], days_per_week=1, max_agents=1))
    r = tours.solve(week_of({0: sc}, {0: req}), capped)
    assert r.status == "infeasible"
    assert "allow at most 3 agents (ft max_agents 2, pt max_agents 1)" in r.message


def test_a_model_too_large_is_refused_before_building_naming_the_contract():
    fine = day_scenario(n_intervals=32, shifts=[{"name": "s", "minutes": 240, "earliest_start": "08:00",
                                                 "latest_start": "20:00", "start_every_minutes": 1}])
    req = np.ones((1, 32), int)
    days = week_of({k: fine for k in range(7)}, {k: req for k in range(7)})
    wide = (contract(name="wide", shifts=["s"], days_per_week=[1, 7], start_band_minutes=240),)
    size = tours.model_size(days, wide)
    assert size.too_large
    with pytest.raises(tours.TourError, match="contract 'wide' alone gives"):
        tours.solve(days, wide)


def test_no_roster_in_time_returns_nothing():
    r = tours.solve(small_week(1), SMALL_CONTRACTS, time_limit_s=0.001)
    assert r.status == "no roster in time" and not r.ok and r.agents.empty
    assert "raise --time-limit" in r.message


# ------------------------------------------------------------------ contracts in the scenario schema


CONTRACT_BAD = {
    "days per week above 7": ({"days_per_week": 8}, "contracts[0].days_per_week", "between 1 and 7"),
    "min above max": ({"days_per_week": [5, 3]}, "contracts[0].days_per_week", "the minimum 5 is above the maximum 3"),
    "days as text": ({"days_per_week": "five"}, "contracts[0].days_per_week", "[min, max]"),
    "unknown shift": ({"shifts": ["lung"]}, "contracts[0].shifts[0]", "did you mean 'long'"),
    "unknown group": ({"groups": ["tem"]}, "contracts[0].groups[0]", "did you mean 'team'"),
    "negative band": ({"start_band_minutes": -30}, "contracts[0].start_band_minutes", "must be >= 0"),
    "caps crossed": ({"min_agents": 5, "max_agents": 2}, "contracts[0].min_agents", "more than max_agents 2"),
    "unknown key": ({"days_of_together": True}, "contracts[0].days_of_together", "unknown key"),
    "no shifts": ({"shifts": []}, "contracts[0].shifts", "must not be empty"),
}


@pytest.mark.parametrize("case", sorted(CONTRACT_BAD))
def test_a_bad_contract_gets_one_message_naming_the_contract_and_the_field(case):
    change, path, words = CONTRACT_BAD[case]
    data = day_scenario().model_dump(mode="json", exclude_none=True)
    data["contracts"] = [{"name": "full_time", "shifts": ["long"], "days_per_week": 3, **change}]
    with pytest.raises(ScenarioError) as err:
        from_dict(data)
    assert len(err.value.problems) == 1, err.value.problems
    where, reason = err.value.problems[0]
    assert where == path and words in reason and "contract 'full_time'" in reason


def test_contracts_round_trip_through_toml():
    from ccplan.scenario import dumps, loads

    data = day_scenario().model_dump(mode="json", exclude_none=True)
    data["contracts"] = [{"name": "ft", "shifts": ["long"], "days_per_week": 3, "days_off_together": True,
                          "start_band_minutes": 30},
                         {"name": "pt", "shifts": ["short"], "days_per_week": [1, 2], "max_agents": 3}]
    sc = from_dict(data)
    assert loads(dumps(sc)) == sc
    assert "days_per_week = 3" in dumps(sc)


def test_the_example_days_carry_their_contracts():
    for p in sorted((ROOT / "examples" / "week").glob("2026-*.toml")):
        sc = load(p)
        assert {c.name for c in sc.contracts} >= {"full_time"}
        assert plan(sc).scheduled.sum() > 0
