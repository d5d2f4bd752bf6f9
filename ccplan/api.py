"""ccplan for notebooks and scripts: the CLI's jobs as functions (``import ccplan as cc``).

    import ccplan as cc
    s = cc.load("scenarios/trainer.toml")
    p = cc.plan(s)                        # analytic staffing: p.scheduled (groups x intervals, agents)
    r = cc.simulate(s, replications=20)   # r.segments: long-run service level per segment, with 95% CIs
    v = cc.verify(s)                      # staffing corrected by simulation, confirmed on fresh callers

Each function returns the same record the CLI prints from, computed the same way: the same scenario, seed and
replications give the numbers ``ccplan simulate --json`` gives (a test checks it). Units are those of the
scenario: seconds for times (``aht_s``), calls per interval for volumes, agents per interval for staffing,
the scenario's currency per hour for cost. Errors are the library's own: :class:`ccplan.scenario.ScenarioError`
for a bad scenario, ``ValueError`` subclasses (``VerifyError``, ``RosterError``, ``ForecastError``) for options
that cannot work.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Literal

from ccplan.backtesting import ChainResult
from ccplan.comparison import Comparison
from ccplan.forecasting import Result as ForecastResult
from ccplan.scenario import Scenario
from ccplan.verification import VerifyResult
from planner.roster import Roster
from planner.staffing import Plan
from sim.runner import SimulationResult

__all__ = ["load", "plan", "simulate", "verify", "roster", "forecast", "compare", "backtest"]


def load(path: str | Path) -> Scenario:
    """Read a scenario TOML file (validated; ScenarioError names every bad field)."""
    from ccplan.scenario import load as _load

    return _load(path)


def plan(scenario: Scenario, max_occupancy: float | None = None) -> Plan:
    """The analytic staffing plan (Erlang C/A per interval and pool): ``.scheduled`` agents per group and interval,
    ``.intervals`` and ``.segments`` tables (service level as a share, ASA in seconds). ``max_occupancy``: a
    share (0.85) no group may exceed."""
    from planner.staffing import plan as _plan

    return _plan(scenario, max_occupancy=max_occupancy)


def simulate(scenario: Scenario, replications: int | None = None, seed: int | None = None,
             executor: Executor | None = None, keep_log: bool = False) -> SimulationResult:
    """Simulate the day ``replications`` times (default: the scenario's ``[simulation]``); ``.segments``,
    ``.groups`` and ``.intervals`` carry the long-run ratios with 95% CIs, ``.call_log`` (with ``keep_log``) one
    row per call, times in seconds from opening. Runs on a process pool over all cores unless ``executor`` is
    given, as ``ccplan simulate`` does."""
    from sim.runner import default_executor, simulate as _simulate

    reps = scenario.simulation.replications if replications is None else int(replications)
    own = executor is None
    ex = default_executor(reps) if own else executor
    try:
        return _simulate(scenario, reps, seed, executor=ex, keep_log=keep_log)
    finally:
        if own:
            ex.shutdown(wait=True)


def verify(scenario: Scenario, replications: int | None = None, seed: int | None = None,
           days_meeting: float | None = None, max_occupancy: float | None = None,
           executor: Executor | None = None) -> VerifyResult:
    """``ccplan staff --verify``: the analytic plan corrected by simulation until every judged target is met with
    the fewest agents on the search's callers, then confirmed on fresh callers. ``.verified_scenario`` is the
    scenario with the verified staffing; ``.agent_hours_verified`` its agent-hours. ``days_meeting``: a share of
    simulated days on which each segment must meet its day target."""
    from ccplan.verification import verify as _verify

    return _verify(scenario, replications, seed, executor=executor, days_meeting=days_meeting,
                   max_occupancy=max_occupancy)


def roster(scenario: Scenario, cover: Literal["plan", "verified", "current"] = "plan", time_limit_s: float = 30.0,
           max_occupancy: float | None = None) -> Roster:
    """``ccplan roster``: the cheapest shifts and breaks (``scenario.shifts``) covering the requirement in every
    interval and group. ``cover``: the analytic plan's scheduled agents, the verified staffing's (runs
    :func:`verify` first), or the scenario's own ``agents_per_interval``. ``time_limit_s`` bounds the solve
    (seconds); ``.status``, ``.gap``, ``.shifts``, ``.cost`` and ``.to_scenario()`` give the result."""
    from planner.roster import requirement, solve

    if cover == "verified":
        req = requirement(scenario, "verified", verify(scenario, max_occupancy=max_occupancy).verified_scenario)
    elif cover == "plan":
        req = plan(scenario, max_occupancy=max_occupancy).scheduled
    else:
        req = requirement(scenario, cover)
    return solve(scenario, req, time_limit_s=time_limit_s)


def forecast(history: str | Path, start: dt.date | str | None = None, days: int = 7, interval_minutes: int = 30,
             method: str = "auto", quantile: float = 0.5, country: str | None = None,
             segment_column: str = "segment") -> ForecastResult:
    """``ccplan forecast``: calls per interval from a history CSV, with the calibrated p10/p50/p90 band.
    ``.intervals`` (one row per date, interval and segment; ``forecast``, ``p10``, ``p50``, ``p90`` in calls per
    interval), ``.days`` (day totals), ``.backtest`` (the nested backtest by horizon week) and ``.notes``."""
    from ccplan import forecasting
    from ccplan.history import read_history

    first = forecasting.parse_start(start) if isinstance(start, str) or start is None else start
    job = forecasting.prepare(read_history(history, segment_column=segment_column), interval_minutes, first, days,
                              method, quantile, None, country, None)
    return forecasting.run(job)


def compare(scenarios: Sequence[Scenario] | Scenario, vary: Sequence[str] = (), replications: int | None = None,
            seed: int | None = None, executor: Executor | None = None) -> Comparison:
    """``ccplan compare``: variants simulated with common random numbers, side by side (``.summary``) and as
    paired differences to the first with 95% CIs. Give several scenarios, or one with ``vary`` specs as the CLI's
    ``--vary`` (``"routing.policy=priority,fifo"``)."""
    from ccplan.comparison import compare as _compare, variants_of
    from sim.runner import default_executor

    if isinstance(scenarios, Scenario):
        variants = variants_of(scenarios, list(vary)) if vary else [(scenarios.name, scenarios)]
    else:
        variants = [(s.name or f"variant {i + 1}", s) for i, s in enumerate(scenarios)]
    reps = variants[0][1].simulation.replications if replications is None else int(replications)
    own = executor is None
    ex = default_executor(reps * len(variants)) if own else executor
    try:
        return _compare(variants, replications, seed, executor=ex)
    finally:
        if own:
            ex.shutdown(wait=True)


def backtest(history: str | Path, scenario: Scenario, origins: int = 4, days: int = 28, quantile: float = 0.5,
             staffing: Literal["plan", "verify"] = "plan", segment_column: str = "segment") -> ChainResult:
    """``ccplan backtest``: at each of the latest ``origins`` weekly origins, forecast the next ``days`` from the
    history before it, staff each day at ``quantile``, and simulate it on its actual volumes, beside the oracle
    (actual volumes) and naive (mean of 4 same weekdays) staffings. ``.summary()`` gives the JSON's summary."""
    from ccplan import backtesting as chain
    from ccplan.history import read_history

    job = chain.prepare(read_history(history, segment_column=segment_column), scenario, origins, days, quantile,
                        staffing)
    return chain.run(job)
