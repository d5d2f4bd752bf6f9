"""Staffing corrected by simulation: the analytic plan, then the real simulator decides.

The planner treats each interval as a steady-state queue and pools shared groups
approximately, so its plan can be far off where planners need it most: segments that share
groups with overflow, and days whose load rises and falls (a queue carries over into the
next interval). :func:`verify` starts from :func:`planner.staffing.plan` and corrects it with
the simulator until

* every (interval, segment) with enough calls to judge meets its targets (service level,
  and ASA and abandonment where the segment has them), every segment meets them over the
  whole day, escalations meet the default service level, and no group exceeds an occupancy
  cap when one is given; and
* no group in any interval can lose one agent without breaking a target (1-opt minimal),
  when the final check runs (``polish``).

Method. It is the simulation-based iterative staffing of Feldman, Mandelbaum, Massey & Whitt
(2008, "Staffing of time-varying queues to achieve time-stable performance", Management
Science 54(2)) in spirit: staffing per interval is corrected from what the simulator shows
in that interval, so the carry-over of a queue from one interval into the next is in the
measurement rather than assumed away. For shared groups it follows the simulation-based
local search of Cezik & L'Ecuyer (2008, "Staffing multiskill call centers via linear
programming and simulation", Management Science 54(2)) and Atlason, Epelman & Henderson
(2004, Annals of OR 127): candidate moves are evaluated by simulation with common random
numbers, so a +-1 agent step is compared on exactly the same callers. Concretely:

1. *Repair*: while some target fails, add agents in the failing intervals. Where several
   groups could take the calls, each candidate group is tried by simulation and the one that
   removes the most shortfall (in that interval and the two after it) per unit of cost wins.
2. *Trim*: intervals are taken in three interleaved classes (t mod 3), so that removals in the
   same batch are at least three intervals apart; for each group, one agent is removed in
   every interval of the class, and a removal is kept where its interval and the two after
   it still meet every target; the combined batch is confirmed by one more simulation. The
   trim stops when a cycle of the three classes removes fewer than one agent per two
   simulated staffings (late cycles mostly confirm that little can go).
3. *Polish*: every single (group, interval) removal is simulated (sharing the simulated day
   up to the removal, and stopping a copy early when its state has coupled with the base
   run's at an interval boundary, or when the window after it already proves a miss). Of
   the removals that keep every target alone, a set predicted to keep them together (each
   uses up the slack it used alone, and the uses add up) is applied with one simulation;
   the rest are simulated again from the new staffing. When a full pass finds none, the
   staffing is 1-opt minimal for these random numbers.

An interval counts as meeting its target when the simulated estimate (the ratio of summed
counts over replications) is at or above it; each estimate comes with a 95% confidence
interval (ratio estimator over replications, t quantile, clipped to the feasible range).
Intervals with fewer than ``min_calls`` calls (planned in the scenario, or offered per replication at the
analytic plan, retrials included) are reported as too few to judge and are not chased: their staffing stays
at the analytic plan. Which cells are judged is fixed once, so a sample cannot move a cell across the line.
The simulation is the real one: patience, retrials, escalation, overflow, reserve and
shrinkage all stay in the model. Agents are counted on the phones (available); scheduled
agents are ceil(available / (1 - shrinkage)), the fewest that give them.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from sim.metrics import ratio_estimate, t_quantile, wilson_interval
from ccplan.scenario import Scenario, available_agents, from_dict, to_dict
from planner.staffing import Plan, plan as analytic_plan, scheduled_agents
from sim.runner import (InlineExecutor, packed, process_pool, run_counts_many, run_counts_removals, task_batches,
                        unpack)

MIN_CALLS = 20.0
# a confirmation on fresh callers accepts a service level this far below target at most, when that is within
# the estimate's one-sided 95% noise (shares; 2 points per interval, half a point per segment's day)
CELL_TOLERANCE = 0.02
DAY_TOLERANCE = 0.005
_WINDOW = 3  # a removal in interval t is judged on t, t+1, t+2; batches keep removals this far apart
_EPS = 1e-12
_TRIM_YIELD = 0.5  # batch trimming goes on while a cycle removes at least this many agents per simulated staffing

Progress = Callable[[int, int, str], None]


class VerifyError(ValueError):
    """Options that cannot be verified (one clear message)."""


@dataclass(frozen=True)
class _Targets:
    """Every target as arrays: per segment (K,), for escalations and for group occupancy (scalars)."""

    sl: np.ndarray  # (K,)
    max_asa_s: np.ndarray  # (K,), nan = none
    max_abandon: np.ndarray  # (K,), nan = none
    esc_sl: float | None  # default target for escalations, None without escalation
    max_occupancy: float | None
    days_meeting: float | None = None  # share of simulated days whose day SL must meet each segment's target


@dataclass
class Evaluation:
    """Simulated measures of one staffing (``available``: groups x intervals) over R replications."""

    available: np.ndarray
    counts: dict[str, np.ndarray]  # each (R, ...) as from sim.metrics.interval_counts
    offered_mean: np.ndarray = field(init=False)  # (K, T) mean offered calls per replication
    sl: np.ndarray = field(init=False)  # (K, T) pooled over replications; nan without calls
    asa_s: np.ndarray = field(init=False)  # (K, T) seconds; inf where calls came but none was answered
    abandon: np.ndarray = field(init=False)  # (K, T)
    esc_sl: np.ndarray = field(init=False)  # (T,) escalations answered within the default threshold
    esc_offered_mean: np.ndarray = field(init=False)  # (T,)
    busy_s: np.ndarray = field(init=False)  # (G, T) mean agent seconds on calls per replication

    def __post_init__(self) -> None:
        c = self.counts
        off = c["offered"].sum(axis=0)
        ans = c["answered"].sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.offered_mean = off / c["offered"].shape[0]
            den = c["sl_den"].sum(axis=0)
            self.sl = np.where(den > 0, c["sl_num"].sum(axis=0) / den, np.nan)
            self.asa_s = np.where(ans > 0, c["wait_answered_s"].sum(axis=0) / ans, np.where(off > 0, np.inf, np.nan))
            self.abandon = np.where(off > 0, c["abandoned"].sum(axis=0) / off, np.nan)
            self.esc_sl = np.where(c["esc_offered"].sum(axis=0) > 0,
                                   c["esc_within"].sum(axis=0) / c["esc_offered"].sum(axis=0), np.nan)
            self.esc_offered_mean = c["esc_offered"].mean(axis=0)
        self.busy_s = c["busy_s"].mean(axis=0)

    def day(self, key: str, denominator: str) -> np.ndarray:
        """Per replication (R, K) whole-day ratio (one simulated day's own ratio)."""
        num = self.counts[key].sum(axis=2)
        den = self.counts[denominator].sum(axis=2)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, num / den, np.nan)

    def sl_noise(self, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """One-sided noise of the service-level estimates at ``level``: t x standard error of the ratio of
        sums over replications (delta method), per cell (K, T) and per segment's day (K,)."""
        def noise(num: np.ndarray, den: np.ndarray) -> np.ndarray:
            r_n = num.shape[0]
            tot = den.sum(axis=0)
            with np.errstate(invalid="ignore", divide="ignore"):
                est = np.where(tot > 0, num.sum(axis=0) / tot, 0.0)
                sd = np.sqrt(((num - est[None] * den) ** 2).sum(axis=0) / max(r_n - 1, 1))
                return np.nan_to_num(t_quantile(level, max(r_n - 1, 1)) * sd / (tot / r_n) / np.sqrt(r_n))

        num, den = self.counts["sl_num"], self.counts["sl_den"]
        return noise(num, den), noise(num.sum(axis=2), den.sum(axis=2))

    def long_run(self, key: str, denominator: str) -> np.ndarray:
        """(K,) whole-day ratio over all replications as ACD reports and ``ccplan simulate`` give it: the sum of
        the numerators over the sum of the denominators (nan where nothing was counted)."""
        num = self.counts[key].sum(axis=(0, 2))
        den = self.counts[denominator].sum(axis=(0, 2))
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, num / den, np.nan)

    def days_meeting(self, target: np.ndarray) -> np.ndarray:
        """(K,) share of simulated days (replications) whose day service level meets ``target`` (K,); a day
        without calls of the segment counts as meeting it."""
        day = self.day("sl_num", "sl_den")
        return np.mean(np.nan_to_num(day, nan=1.0) >= target[None, :] - _EPS, axis=0)


def ratio_ci(num: np.ndarray, den: np.ndarray, level: float = 0.95, upper: float | None = 1.0
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`sim.metrics.ratio_estimate` (the long-run ratio over replications, axis 0, with its delta-method
    t interval) clipped to [0, upper]: the interval a share can have. nan where den sums to 0."""
    est, lo, hi = ratio_estimate(num, den, level)
    if np.asarray(num).shape[0] < 2:
        lo, hi = np.full_like(est, np.nan), np.full_like(est, np.nan)
    hi = hi if upper is None else np.minimum(hi, upper)
    return est, np.maximum(lo, 0.0), hi


@dataclass
class VerifyResult:
    """The outcome of :func:`verify`.

    ``groups``: interval x group: interval, time, group, agents_planned / agents_verified (scheduled),
      available_planned / available_verified (on the phones), occupancy (simulated, at the verified staffing).
    Every measure is from the confirming sample (fresh random numbers the search never used) unless
    ``confirm_replications`` is 0; ``*_search`` columns give the search's own (in-sample, optimistic) estimate
    of the same staffing, and ``optimism_gap`` = search − confirmation.

    ``groups``: interval x group: interval, time, group, agents_planned / agents_verified (scheduled),
      available_planned / available_verified (on the phones), occupancy (simulated, at the verified staffing).
    ``intervals``: interval x segment at the verified staffing: offered (mean calls per replication),
      judged (enough calls), service_level with service_level_ci_low/high, target, asa_s, abandon_rate,
      meets (True/False; None when not judged), service_level_planned (simulated at the analytic plan),
      service_level_search and optimism_gap.
    ``segments``: per segment: service_level (whole day, long-run ratio over replications: all calls
      answered in time ÷ all counted calls) and its CI, service_level_search, optimism_gap, target,
      worst_interval (clock time of the lowest judged interval) and worst_interval_service_level,
      days_meeting (share of simulated days whose own day SL meets the target) with its Wilson CI,
      daily_sl_p10 (10th percentile of the days' SL), meets.
    ``agent_hours_search``: the search's staffing (minimal on its own random numbers); ``agent_hours_verified``:
      after the confirmation added what the fresh samples needed.
    """

    scenario: Scenario
    plan: Plan
    groups: pd.DataFrame
    intervals: pd.DataFrame
    segments: pd.DataFrame
    agent_hours_planned: float
    agent_hours_verified: float
    iterations: int
    evaluations: int
    replications: int
    seed: int
    all_met: bool
    minimal: bool  # 1-opt minimal on the search's own random numbers (in-sample)
    notes: list[str]
    agent_hours_search: float = float("nan")
    confirm_replications: int = 0
    confirm_samples: int = 0
    confirmed: bool = False  # the last fresh sample met every target
    days_meeting_target: float | None = None
    trace: list[dict] = field(default_factory=list)  # one entry per round: step, staffings simulated, seconds

    def outcome(self) -> str:
        """One paragraph on what was shown, and on which random numbers (the CLI and the app both say this)."""
        d = self.agent_hours_verified - self.agent_hours_planned
        pct = d / self.agent_hours_planned if self.agent_hours_planned else 0.0
        hours = (f"Agent hours: planned {self.agent_hours_planned:,.1f}, verified {self.agent_hours_verified:,.1f} "
                 f"({d:+,.1f}, {pct:+.1%})")
        if self.confirm_replications:
            extra = self.agent_hours_verified - self.agent_hours_search
            hours += (f"; the search's minimum on its own random numbers was {self.agent_hours_search:,.1f} and the "
                      f"confirmation on fresh callers added {extra:,.1f}")
        hours += f"; {self.iterations} rounds, {self.evaluations} staffings simulated."
        notes = f" ({'; '.join(self.notes)})" if self.notes else ""
        days = (f" At least {self.days_meeting_target:.0%} of simulated days meet each segment's day target."
                if self.days_meeting_target is not None and self.all_met else "")
        if not self.all_met:
            where = ("on the last fresh sample of callers" if self.confirm_replications
                     else "on the search's random numbers")
            return f"{hours} Not every target is met {where}{notes}."
        if self.confirm_replications:
            said = (f"Every judged target is met on {self.confirm_replications} replications of fresh callers that "
                    f"the search never used (confirmation sample {self.confirm_samples}).{days}")
            if self.minimal and self.agent_hours_search == self.agent_hours_verified:
                said += (" On the search's own random numbers no single agent could go; that minimality is "
                         "in-sample, and is not claimed for fresh callers.")
            return f"{hours} {said}{notes}"
        said = f"Every judged target is met on the search's own random numbers (in-sample, not confirmed).{days}"
        if self.minimal:
            said += " Removing any one agent would break one on those same random numbers."
        return f"{hours} {said}{notes}"

    @property
    def verified_scenario(self) -> Scenario:
        """The input scenario with each group's ``agents_per_interval`` set to the verified scheduled agents."""
        data = to_dict(self.scenario)
        for g in data["agent_groups"]:
            sub = self.groups[self.groups["group"] == g["name"]].sort_values("interval")
            g.pop("agents", None)
            g["agents_per_interval"] = [int(x) for x in sub["agents_verified"]]
        return from_dict(data)

    def to_json(self) -> dict:
        """The ``"verified"`` object of ``ccplan staff --json``."""
        from ccplan.report import finite as num

        segs = {}
        for _, r in self.segments.iterrows():
            segs[r["segment"]] = {
                "service_level": num(r["service_level"]),
                "service_level_ci": [num(r["service_level_ci_low"]), num(r["service_level_ci_high"])],
                "worst_interval": r["worst_interval"],
                "worst_interval_service_level": num(r["worst_interval_service_level"]),
                "target": num(r["target"]),
                "service_level_search": num(r["service_level_search"]),
                "optimism_gap": num(r["optimism_gap"]),
                "days_meeting": num(r["days_meeting"]),
                "days_meeting_ci": [num(r["days_meeting_ci_low"]), num(r["days_meeting_ci_high"])],
                "daily_sl_p10": num(r["daily_sl_p10"]),
            }
        return {
            "intervals": [{"interval": int(r["interval"]), "time": r["time"], "group": r["group"],
                           "agents_planned": int(r["agents_planned"]), "agents_verified": int(r["agents_verified"])}
                          for _, r in self.groups.iterrows()],
            "segments": segs,
            "agent_hours": {"planned": self.agent_hours_planned, "verified": self.agent_hours_verified,
                            "search": self.agent_hours_search},
            "confirmation": {"replications": self.confirm_replications, "samples": self.confirm_samples,
                             "confirmed": self.confirmed,
                             "first_replication": CONFIRM_OFFSET if self.confirm_replications else None},
            "days_meeting": {r["segment"]: num(r["days_meeting"]) for _, r in self.segments.iterrows()},
            "days_meeting_target": self.days_meeting_target,
            "iterations": self.iterations,
            "evaluations": self.evaluations,
            "replications": self.replications,
            "seed": self.seed,
            "all_met": self.all_met,
            "minimal": self.minimal,
            "intervals_by_segment": [
                {"interval": int(r["interval"]), "time": r["time"], "segment": r["segment"],
                 "offered": num(r["offered"]), "judged": bool(r["judged"]),
                 "service_level": num(r["service_level"]),
                 "service_level_ci": [num(r["service_level_ci_low"]), num(r["service_level_ci_high"])],
                 "service_level_search": num(r["service_level_search"]), "optimism_gap": num(r["optimism_gap"]),
                 "target": num(r["target"]), "meets": None if r["meets"] is None else bool(r["meets"])}
                for _, r in self.intervals.iterrows()],
        }


def _key(available: np.ndarray) -> bytes:
    """Cache key of a staffing (groups x intervals)."""
    return np.ascontiguousarray(available, dtype=np.int64).tobytes()


def _stack(per_rep: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Per-replication count dicts -> one dict of arrays with replications on axis 0."""
    return {name: np.stack([p[name] for p in per_rep]) for name in per_rep[0]}


class _Search:
    """State of one verification: the scenario as arrays, the executor and an evaluation cache."""

    def __init__(self, scenario: Scenario, replications: int, seed: int, executor: Executor, min_calls: float,
                 max_occupancy: float | None, adjustable: np.ndarray, first_replication: int = 0,
                 days_meeting: float | None = None, confirming: bool = False) -> None:
        self.sc = scenario
        # a confirmation judges a service level as missing only when it is below its target by more than its own
        # one-sided 95% noise (capped at CELL_TOLERANCE / DAY_TOLERANCE); the search judges point estimates
        self.confirming = confirming
        self.judged_mask: np.ndarray | None = None  # (K, T), set by fix_judged
        self.reps = replications
        self.first = first_replication  # replications first .. first + reps - 1: a sample of its own
        self.seed = seed
        self.ex = executor
        self.min_calls = min_calls
        self.adjustable = adjustable  # (G,) bool
        self.n_int = scenario.n_intervals
        segs = scenario.segments
        self.targets = _Targets(
            sl=np.array([scenario.sl_target(s) for s in segs]),
            max_asa_s=np.array([np.nan if s.max_asa_s is None else s.max_asa_s for s in segs]),
            max_abandon=np.array([np.nan if s.max_abandon_rate is None else s.max_abandon_rate for s in segs]),
            esc_sl=scenario.service_level.target if scenario.escalation_groups() and any(
                s.escalation_probability > 0 for s in segs) else None,
            max_occupancy=max_occupancy,
            days_meeting=days_meeting,
        )
        self.skills = np.array([[s.name in g.skills for s in segs] for g in scenario.agent_groups])  # (G, K)
        self.esc_skill = np.array([g in scenario.escalation_groups() for g in scenario.agent_groups])
        self.primary = np.array([g.accepts_after_s == 0 for g in scenario.agent_groups])
        # cost of one more agent on the phones for an interval: scheduled cost / (1 - shrinkage)
        self.unit_cost = np.array([max(g.cost_per_hour, 1e-6) / (1.0 - g.shrinkage) for g in scenario.agent_groups])
        # short days: a few replications to a task
        self.batches = [[r + first_replication for r in b] for b in task_batches(scenario, replications)]
        self.cache: dict[bytes, Evaluation] = {}
        self.ruled_out: set[bytes] = set()  # single removals proven infeasible from a window's bounds
        self.evaluations = 0
        self.screened = 0

    # ----------------------------------------------------------------- simulation
    def evaluate_many(self, variants: list[np.ndarray]) -> list[Evaluation]:
        """Simulate each staffing variant with the same R replications (common random numbers);
        all replications of all new variants are submitted at once."""
        keys = [_key(v) for v in variants]
        todo = {}
        for k, v in zip(keys, variants):
            if k not in self.cache and k not in todo:
                todo[k] = [self.ex.submit(packed, run_counts_many, self.sc, np.asarray(v, np.int64), batch, self.seed)
                           for batch in self.batches]
        for k, futs in todo.items():
            per_rep = [c for f in futs for c in unpack(f.result())]
            counts = _stack(per_rep)
            self.cache[k] = Evaluation(np.frombuffer(k, dtype=np.int64).reshape(-1, self.n_int).copy(), counts)
            self.evaluations += 1
        return [self.cache[k] for k in keys]

    def evaluate_removals(self, base: np.ndarray, removals: list[tuple[int, int]]) -> list[Evaluation | None]:
        """Simulate each single removal (group, interval) from ``base``; None marks a removal proven to
        break a target.

        Two stages, both exact: first every removal is simulated only to the end of the interval
        window after it; when, even if every call still waiting were answered in time, a judged
        interval of that window misses its service level (or its abandonment exceeds the maximum),
        the removal is ruled out. The rest are simulated to the end of the day. Both stages share the
        simulated day up to each removal (:func:`sim.runner.run_counts_removals`)."""
        def key(gt: tuple[int, int]) -> bytes:
            v = base.copy()
            v[gt] -= 1
            return _key(v)

        todo = [gt for gt in removals if key(gt) not in self.cache and key(gt) not in self.ruled_out]
        if todo:
            futs = [self.ex.submit(packed, run_counts_removals, self.sc, np.asarray(base, np.int64), todo, r,
                                   self.seed, _WINDOW) for r in range(self.first, self.first + self.reps)]
            per_rep = [unpack(f.result())[1] for f in futs]
            undecided = []
            for j, gt in enumerate(todo):
                if self.window_fails(gt[1], [p[j] for p in per_rep]):
                    self.ruled_out.add(key(gt))
                    self.screened += 1
                else:
                    undecided.append(gt)
            todo = undecided
        if todo:
            futs = [self.ex.submit(packed, run_counts_removals, self.sc, np.asarray(base, np.int64), todo, r,
                                   self.seed) for r in range(self.first, self.first + self.reps)]
            per_rep = [unpack(f.result()) for f in futs]
            if _key(base) not in self.cache:
                self.cache[_key(base)] = Evaluation(np.asarray(base, np.int64).copy(), _stack([p[0] for p in per_rep]))
            for j, gt in enumerate(todo):
                counts = _stack([p[1][j] for p in per_rep])
                k = key(gt)
                self.cache[k] = Evaluation(np.frombuffer(k, dtype=np.int64).reshape(-1, self.n_int).copy(), counts)
                self.evaluations += 1
        return [None if key(gt) in self.ruled_out else self.cache[key(gt)] for gt in removals]

    def window_fails(self, t: int, bounds: list[dict[str, np.ndarray]]) -> bool:
        """True when the bounds of a removal at interval t (one dict per replication) prove that a judged
        interval in t-1 .. t+2 misses its service-level or abandonment target whatever happens next."""
        off = sum(b["offered"] for b in bounds)
        ab = sum(b["abandoned"] for b in bounds)
        pairs = [(sum(b[f"sl_num_{x}"] for b in bounds), sum(b[f"sl_den_{x}"] for b in bounds)) for x in "ab"]
        stop = min(t + _WINDOW, self.n_int)
        lo = max(t - 1, 0)
        cells = slice(lo, stop)  # intervals that ended before the copy stopped: counts complete
        judged = off[:, cells] / len(bounds) >= self.min_calls
        with np.errstate(invalid="ignore", divide="ignore"):
            sl_max = np.maximum(*(np.where(den[:, cells] > 0, num[:, cells] / den[:, cells], 1.0)
                                  for num, den in pairs))
            ab_min = np.where(off[:, cells] > 0, ab[:, cells] / off[:, cells], 0.0)
        miss = sl_max < self.targets.sl[:, None] - _EPS
        mab = self.targets.max_abandon[:, None]
        miss |= np.isfinite(mab) & (ab_min > np.nan_to_num(mab, nan=np.inf) + _EPS)
        return bool((miss & judged).any())

    def evaluate(self, available: np.ndarray) -> Evaluation:
        return self.evaluate_many([available])[0]

    # ----------------------------------------------------------------- judging
    def judged(self, e: Evaluation) -> np.ndarray:
        """(K, T) cells with enough calls to judge: fixed once for the whole verification (:meth:`fix_judged`),
        so that a cell near the threshold is not judged on one sample and skipped on the next."""
        return self.judged_mask if self.judged_mask is not None else e.offered_mean >= self.min_calls

    def fix_judged(self, e_plan: Evaluation) -> None:
        """Judge the cells whose planned calls (the scenario's volume) or mean offered calls at the analytic
        plan (retrials included) reach ``min_calls`` per replication, from now on, whatever a sample shows."""
        planned = np.vstack([self.sc.calls_per_interval(k) for k in self.sc.segments])
        self.judged_mask = (planned >= self.min_calls) | (e_plan.offered_mean >= self.min_calls)

    def cell_deficit(self, e: Evaluation) -> np.ndarray:
        """(K, T) shortfall of each judged cell against its targets (0 where met or not judged)."""
        t = self.targets
        d = np.maximum(t.sl[:, None] - np.nan_to_num(e.sl, nan=1.0) - self.allowance(e)[0], 0.0)
        d = np.where(d > _EPS, d, 0.0)
        mab = t.max_abandon[:, None]
        d += np.where(np.isfinite(mab), np.maximum(np.nan_to_num(e.abandon, nan=0.0) - mab, 0.0), 0.0)
        masa = t.max_asa_s[:, None]
        asa = np.nan_to_num(e.asa_s, nan=0.0, posinf=1e9)
        with np.errstate(invalid="ignore"):
            d += np.where(np.isfinite(masa), np.maximum(asa / np.where(np.isfinite(masa), masa, 1.0) - 1.0, 0.0) * 0.1,
                          0.0)
        return np.where(self.judged(e), d, 0.0)

    def esc_deficit(self, e: Evaluation) -> np.ndarray:
        """(T,) shortfall of escalations against the default service level (judged intervals only)."""
        if self.targets.esc_sl is None:
            return np.zeros(self.n_int)
        d = np.maximum(self.targets.esc_sl - np.nan_to_num(e.esc_sl, nan=1.0), 0.0)
        return np.where((e.esc_offered_mean >= self.min_calls) & (d > _EPS), d, 0.0)

    def occ_excess(self, e: Evaluation) -> np.ndarray:
        """(G, T) occupancy above the cap (0 without a cap)."""
        if self.targets.max_occupancy is None:
            return np.zeros_like(e.busy_s)
        cap_s = e.available * self.sc.interval_s
        with np.errstate(invalid="ignore", divide="ignore"):
            occ = np.where(cap_s > 0, e.busy_s / cap_s, 0.0)
        return np.maximum(occ - self.targets.max_occupancy - 1e-9, 0.0)

    def day_deficit(self, e: Evaluation) -> np.ndarray:
        """(K,) whole-day shortfall per segment (long-run ratios over replications, as ``simulate`` shows them),
        plus the shortfall of the share of days meeting the target under ``days_meeting``; escalations, pooled
        over the day, are one more entry when they have a target."""
        t = self.targets
        sl = e.long_run("sl_num", "sl_den")
        d = np.maximum(t.sl - np.nan_to_num(sl, nan=1.0) - self.allowance(e)[1], 0.0)
        ab = e.long_run("abandoned", "offered")
        d += np.where(np.isfinite(t.max_abandon), np.maximum(np.nan_to_num(ab) - np.nan_to_num(t.max_abandon), 0.0), 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            asa = e.long_run("wait_answered_s", "answered")
            d += np.where(np.isfinite(t.max_asa_s),
                          np.maximum(np.nan_to_num(asa) / np.nan_to_num(t.max_asa_s, nan=1.0) - 1.0, 0.0) * 0.1, 0.0)
        if t.days_meeting is not None:
            share = e.days_meeting(t.sl)
            n = e.counts["sl_num"].shape[0]
            allow = np.minimum(1.645 * np.sqrt(share * (1 - share) / n), DAY_TOLERANCE * 10) if self.confirming else 0
            d += np.maximum(t.days_meeting - share - allow, 0.0)
        d = np.where(d > _EPS, d, 0.0)
        if t.esc_sl is not None:
            off = e.counts["esc_offered"].sum()
            esc = e.counts["esc_within"].sum() / off if off > 0 else 1.0
            d = np.append(d, max(t.esc_sl - esc, 0.0) if t.esc_sl - esc > _EPS else 0.0)
        return d

    def allowance(self, e: Evaluation) -> tuple[np.ndarray | float, np.ndarray | float]:
        """How far below its target a service level may be estimated and still be judged as meeting it: 0 in
        the search; in a confirmation, its one-sided 95% noise, at most CELL_TOLERANCE per cell (K, T) and
        DAY_TOLERANCE per segment's day (K,)."""
        if not self.confirming:
            return 0.0, 0.0
        cell, day = e.sl_noise()
        return np.minimum(cell, CELL_TOLERANCE), np.minimum(day, DAY_TOLERANCE)

    def slack(self, e: Evaluation) -> tuple[np.ndarray, np.ndarray]:
        """How far each judged cell (K, T) and each segment's whole day (K,) is above its tightest target:
        service level minus target, maximum abandonment minus abandonment, and ASA's relative room
        (scaled as in :meth:`cell_deficit`); inf where nothing is judged or no target applies."""
        t = self.targets
        with np.errstate(invalid="ignore", divide="ignore"):
            cell = np.nan_to_num(e.sl, nan=1.0) - t.sl[:, None]
            mab = t.max_abandon[:, None]
            cell = np.where(np.isfinite(mab), np.minimum(cell, mab - np.nan_to_num(e.abandon, nan=0.0)), cell)
            masa = t.max_asa_s[:, None]
            room = (1.0 - np.nan_to_num(e.asa_s, nan=0.0, posinf=1e9) / np.where(np.isfinite(masa), masa, 1.0)) * 0.1
            cell = np.where(np.isfinite(masa), np.minimum(cell, room), cell)
            cell = np.where(self.judged(e), cell, np.inf)
            day = np.nan_to_num(e.long_run("sl_num", "sl_den"), nan=1.0) - t.sl
            ab = np.nan_to_num(e.long_run("abandoned", "offered"))
            day = np.where(np.isfinite(t.max_abandon), np.minimum(day, t.max_abandon - ab), day)
            if t.days_meeting is not None:
                day = np.minimum(day, e.days_meeting(t.sl) - t.days_meeting)
        return cell, day

    def likely_together(self, base: Evaluation, singles: list[tuple[tuple[int, int], Evaluation]]
                        ) -> list[tuple[int, int]]:
        """From removals that each keep every target alone (``singles``: (group, interval) and its
        evaluation, in order of preference), a set predicted to keep them together: each removal uses up
        the slack it took alone (cells and whole day), the uses add up, and a removal is taken while
        the sum stays within the base staffing's slack (at most one per interval)."""
        cell0, day0 = self.slack(base)
        room_cell = np.where(np.isfinite(cell0), cell0, np.inf)
        room_day = np.where(np.isfinite(day0), day0, np.inf)
        used_cell = np.zeros_like(cell0)
        used_day = np.zeros_like(day0)
        taken, seen = [], set()
        for gt, ev in singles:
            if gt[1] in seen:
                continue
            cell, day = self.slack(ev)
            with np.errstate(invalid="ignore"):
                dc = np.where(np.isfinite(cell0) & np.isfinite(cell), np.maximum(cell0 - cell, 0.0), 0.0)
                dd = np.where(np.isfinite(day0) & np.isfinite(day), np.maximum(day0 - day, 0.0), 0.0)
            if ((used_cell + dc) <= room_cell).all() and ((used_day + dd) <= room_day).all():
                used_cell += dc
                used_day += dd
                taken.append(gt)
                seen.add(gt[1])
        return taken

    def feasible(self, e: Evaluation) -> bool:
        return not (self.cell_deficit(e).any() or self.esc_deficit(e).any() or self.occ_excess(e).any()
                    or self.day_deficit(e).any())

    def interval_shortfall(self, e: Evaluation) -> np.ndarray:
        """(T,) total shortfall per interval over every kind of target."""
        return self.cell_deficit(e).sum(axis=0) + self.esc_deficit(e) + self.occ_excess(e).sum(axis=0)

    def window_ok(self, e: Evaluation) -> np.ndarray:
        """(T,) True where intervals t .. t+2 all meet their targets."""
        bad = self.interval_shortfall(e) > 0
        ok = np.ones(self.n_int, bool)
        for k in range(_WINDOW):
            ok[: self.n_int - k] &= ~bad[k:]
        return ok

    # ----------------------------------------------------------------- moves
    def candidates_for(self, e: Evaluation, t: int) -> np.ndarray:
        """(G,) groups that could relieve interval t's failures."""
        cell = self.cell_deficit(e)[:, t] > 0
        cand = (self.skills[:, cell].any(axis=1)) if cell.any() else np.zeros(len(self.skills), bool)
        if self.esc_deficit(e)[t] > 0:
            cand |= self.esc_skill
        cand |= self.occ_excess(e)[:, t] > 0
        return cand & self.adjustable

    def day_repair(self, e: Evaluation) -> dict[int, np.ndarray]:
        """When only a whole-day target fails: for the first such segment (or escalations), the intervals
        where it is below its target (or, if none is, the one losing the most calls), each with the
        groups that could relieve it."""
        d = self.day_deficit(e)
        bad = np.flatnonzero(d > 0)
        if not len(bad):
            return {}
        k = int(bad[0])
        t_ = self.targets
        if k < len(t_.sl):
            sl, target, groups = e.sl[k], t_.sl[k], self.skills[:, k]
            missed = (self.counts_sum(e, "offered") - self.counts_sum(e, "within"))[k]
            if t_.days_meeting is not None and e.days_meeting(t_.sl)[k] < t_.days_meeting - _EPS:
                # too many bad days: where do the bad days (the replications below the target) fall short?
                low = np.nan_to_num(e.day("sl_num", "sl_den")[:, k], nan=1.0) < target - _EPS
                num, den = e.counts["sl_num"][low, k].sum(axis=0), e.counts["sl_den"][low, k].sum(axis=0)
                with np.errstate(invalid="ignore", divide="ignore"):
                    sl = np.where(self.judged(e)[k] & (den > 0), num / den, np.nan)
        else:
            sl, target, groups = e.esc_sl, self.targets.esc_sl, self.esc_skill
            missed = self.counts_sum(e, "esc_offered") - self.counts_sum(e, "esc_within")
        ts = np.flatnonzero(np.nan_to_num(sl, nan=1.0) < target)
        if not len(ts):
            ts = [int(np.argmax(missed))]
        return {int(t): groups & self.adjustable for t in ts}

    @staticmethod
    def counts_sum(e: Evaluation, key: str) -> np.ndarray:
        return e.counts[key].sum(axis=0)


def verify(
    scenario: Scenario,
    replications: int | None = None,
    seed: int | None = None,
    max_iterations: int = 40,
    executor: Executor | None = None,
    progress: Progress | None = None,
    min_calls: float = MIN_CALLS,
    max_occupancy: float | None = None,
    groups: list[str] | None = None,
    polish: bool = True,
    max_full_checks: int | None = None,
    confirm_replications: int | None = None,
    days_meeting: float | None = None,
) -> VerifyResult:
    """Correct the analytic staffing plan of ``scenario`` by simulation (see the module docstring).

    ``replications`` and ``seed`` default to the scenario's ``[simulation]`` settings, so that
    ``ccplan simulate`` on the verified scenario reproduces the same numbers. ``groups``
    restricts the adjustment to those agent groups; the others keep the scenario's own
    staffing. ``max_iterations`` bounds the rounds of the search (each round simulates one or
    a few staffing variants); ``max_full_checks`` bounds the passes that simulate every single
    removal (each costs up to one simulated day per group and interval). By default, without a
    confirmation, at least 2, and more while the removals they simulated to the end of the day number
    fewer than the (group, interval) pairs (the search's result is then 1-opt minimal on its own random
    numbers); with a confirmation, 1: a second pass only proves minimality on the search's sample, which
    the confirmation on fresh callers then adds to anyway (on telecom it cost 28 s of 160 s and removed
    2 agent-intervals). ``progress(round, max_iterations, message)`` is called as it goes.

    The staffing the search ends with is then confirmed on fresh random numbers (see
    :func:`_confirm`): ``confirm_replications`` (default :data:`CONFIRM_FACTOR` x ``replications``,
    widened until judged cells are known to 2 points; 0 skips the confirmation) replications that the
    search never used. With ``days_meeting`` (a share,
    e.g. 0.9) every segment must also meet its day target on at least that share of simulated days
    (chance-constrained staffing under uncertain demand: Gurvich, Luedtke & Tezcan 2010, "Staffing call
    centers with uncertain demand forecasts: a chance-constrained optimization approach", Management
    Science 56(7)).
    Raises :class:`VerifyError` for options that cannot work.
    """
    reps = scenario.simulation.replications if replications is None else int(replications)
    seed = scenario.simulation.seed if seed is None else int(seed)
    if reps < 2:
        raise VerifyError(f"--replications must be at least 2 to give a confidence interval, got {reps}")
    if max_iterations < 1:
        raise VerifyError(f"--max-iterations must be at least 1, got {max_iterations}")
    if days_meeting is not None and not 0 < days_meeting < 1:
        raise VerifyError(f"--days-meeting must be a share between 0 and 1 (exclusive), got {days_meeting:g}")
    c_reps = CONFIRM_FACTOR * reps if confirm_replications is None else int(confirm_replications)
    if c_reps == 1 or c_reps < 0:
        raise VerifyError(f"--confirm-replications must be 0 (no confirmation) or at least 2, got {c_reps}")
    names = scenario.group_names
    if groups:
        unknown = [g for g in groups if g not in names]
        if unknown:
            raise VerifyError(f"--group {unknown[0]!r}: no such agent group (have: {', '.join(names)})")
    adjustable = np.array([groups is None or not groups or n in groups for n in names])

    pl = analytic_plan(scenario, max_occupancy=max_occupancy)
    shrink = np.array([g.shrinkage for g in scenario.agent_groups])[:, None]
    own = np.vstack([scenario.available_per_interval(g) for g in scenario.agent_groups])
    planned = np.where(adjustable[:, None], np.maximum(pl.required_available, 0), own)
    if (pl.required_available < 0).any():
        raise VerifyError("the analytic planner finds no staffing that meets some target (is a target 100% or an "
                          "ASA of 0 s?); fix the targets before verifying")

    own_ex = executor is None
    ex = executor or (InlineExecutor() if (os.cpu_count() or 1) <= 1 else process_pool(os.cpu_count() or 1))
    s = _Search(scenario, reps, seed, ex, min_calls, max_occupancy, adjustable, days_meeting=days_meeting)
    notes: list[str] = []
    rounds = 0

    t_start = time.perf_counter()
    trace: list[dict] = []
    cur: np.ndarray | None = None

    def tick(msg: str) -> None:
        trace.append({"round": rounds, "step": msg, "simulated": s.evaluations, "ruled_out_early": s.screened,
                      "seconds": round(time.perf_counter() - t_start, 2),
                      "agent_intervals": int(cur.sum()) if cur is not None else None})
        if progress is not None:
            progress(min(rounds, max_iterations), max_iterations, msg)

    def next_round(msg: str) -> bool:
        nonlocal rounds
        if rounds >= max_iterations:
            return False
        rounds += 1
        tick(msg)
        return True

    try:
        tick("simulating the analytic plan")
        e_plan = s.evaluate(planned)
        s.fix_judged(e_plan)
        if not s.judged(e_plan).any() and not (s.targets.esc_sl is not None and
                                               (e_plan.esc_offered_mean >= min_calls).any()):
            raise VerifyError(f"nothing to verify: no interval has at least {min_calls:g} offered calls of a "
                              "segment, so no target can be judged by simulation")
        # intervals with too few calls keep the analytic plan: a floor that the trim respects
        judged_t = s.judged(e_plan).any(axis=0) | (e_plan.esc_offered_mean >= min_calls) | (
            max_occupancy is not None)
        floor = np.where(judged_t[None, :] & adjustable[:, None], 0, planned)
        cur, e = planned.copy(), e_plan

        # 1. repair
        cur, e = _repair(s, cur, e, next_round, notes)

        # 2. trim in interleaved classes, 3. polish with single removals
        changed, minimal, polishing = True, False, False
        candidates: set[tuple[int, int]] | None = None  # single removals to retry before the next full pass
        full_passes = 0
        n_pairs = int(adjustable.sum()) * s.n_int
        check_sims = 0  # removals simulated to the end of the day by full checks

        def may_check() -> bool:
            if max_full_checks is not None:
                return full_passes < max_full_checks
            if c_reps:
                return full_passes < 1
            return full_passes < 2 or check_sims < n_pairs
        while changed and rounds < max_iterations and s.feasible(e):
            changed = False
            cycle_start = (int(cur.sum()), s.evaluations)
            for cls in range(0 if polishing else _WINDOW):
                if rounds >= max_iterations:
                    break
                rounds += 1
                tick("removing agents that are not needed")
                ts = np.arange(cls, s.n_int, _WINDOW)
                gs_ = [g for g in range(len(names)) if adjustable[g] and (cur[g, ts] > floor[g, ts]).any()]
                if not gs_:
                    continue
                variants = []
                for g in gs_:
                    v = cur.copy()
                    m = cur[g, ts] > floor[g, ts]
                    v[g, ts[m]] -= 1
                    variants.append(v)
                evs = s.evaluate_many(variants)
                # group by group, the most expensive agents first: remove one in each interval of the class
                # whose window (it and the two after it) still meets every target in the group's variant
                for g, ev in sorted(zip(gs_, evs), key=lambda gev: -s.unit_cost[gev[0]]):
                    ok_t = s.window_ok(ev)
                    order = [(int(t), g) for t in ts if cur[g, t] > floor[g, t] and ok_t[t]]
                    got = _apply_removals(s, cur, order) if order else None
                    if got is not None:
                        cur, e, changed = got[0], got[1], True
            if not polishing and changed and polish and \
                    cycle_start[0] - int(cur.sum()) < _TRIM_YIELD * (s.evaluations - cycle_start[1]):
                # the batches now remove few agents for the simulations they cost: single removals, which share
                # the simulated day up to each removal and are screened early, go on from here
                polishing = True
            if (polishing or not changed) and polish and rounds < max_iterations and (
                    candidates is not None or may_check()):
                # Exact single removals. A full pass tries every (group, interval); while it finds removable
                # agents, later passes retry only the ones still listed (an agent that could not go stays
                # needed when others leave, as service falls with staffing), and a last full pass proves
                # the result: when it finds nothing, no single agent can go.
                changed = False
                rounds += 1
                full_pass = candidates is None
                full_passes += full_pass
                tick("checking that no single agent can go" if full_pass else "removing single agents")
                singles = [(g, t) for g in range(len(names)) for t in range(s.n_int)
                           if adjustable[g] and cur[g, t] > floor[g, t] and (full_pass or (g, t) in candidates)]
                sims_before = s.evaluations
                evs = s.evaluate_removals(cur, singles)
                ok = [(g, t) for (g, t), ev in zip(singles, evs) if ev is not None and s.feasible(ev)]
                if full_pass:
                    check_sims += s.evaluations - sims_before
                    minimal = not ok and s.feasible(e)
                polishing = True
                candidates = set(ok) or None
                # the most expensive removable agents first; removals far apart are batched; each pair is
                # tried until the list is used up (one that no longer keeps the targets is dropped)
                order = sorted(ok, key=lambda gt: (-s.unit_cost[gt[0]], gt[1]))
                todo = [(t, g) for g, t in order]
                by_pair = dict(zip(singles, evs))
                together = s.likely_together(e, [(gt, by_pair[gt]) for gt in order]) if len(ok) > 1 else []
                if len(together) > 1:  # the predicted set first: usually one simulation applies all of it
                    got = _apply_removals(s, cur, [(t, g) for g, t in together], halve=False)
                    if got is not None:
                        done = {(int(t), int(g)) for g, t in np.argwhere(got[0] < cur)}
                        cur, e, changed = got[0], got[1], True
                        # the rest are simulated again from the new staffing in the next round (cheaper than
                        # trying them one batch after another)
                        todo = []
                        if candidates:
                            candidates -= {(g, t) for t, g in done}
                while todo and rounds < max_iterations:
                    got = _apply_removals(s, cur, todo)
                    if got is None:
                        todo = todo[1:]
                        continue
                    done = {(int(t), int(g)) for g, t in np.argwhere(got[0] < cur)}
                    cur, e, changed = got[0], got[1], True
                    todo = [tg for tg in todo if tg not in done]
                    if candidates:
                        candidates -= {(g, t) for t, g in done}
                if not changed and not full_pass:
                    changed, candidates = True, None  # nothing left to retry: the proving full pass comes next
        if polish and not minimal and not may_check() and s.feasible(e):
            notes.append(f"the last of {full_passes} full single-removal checks still found agents that could "
                         "go (their removal changes the simulated estimates by less than their noise); they were "
                         "removed, and no further check was made")
        if rounds >= max_iterations:
            notes.append(f"stopped after --max-iterations {max_iterations} rounds")
        search_cur = cur.copy()
        conf = _confirm(s, cur, c_reps, tick, notes, grow=confirm_replications is None) if c_reps else None
        if conf is not None:
            cur = conf.available
            e_search = s.evaluate(cur)  # the search's own (in-sample) estimate of the final staffing
        else:
            e_search = e
        tick("done")
    finally:
        if own_ex:
            ex.shutdown(wait=True, cancel_futures=True)

    res = _result(scenario, pl, s, planned, cur, e_plan, e_search, conf, shrink, rounds, seed, minimal, notes,
                  search_cur)
    res.trace = trace
    return res


CONFIRM_FACTOR = 5  # confirmation replications per search replication
# a widened confirmation has at most max(20 R, 200) replications: with max(10 R, 100) the hold-out peaky day passed
# its confirmation 3.7 points below target in a half-hour (benchmarks/holdout_bench.py); with 20 R it holds
CONFIRM_MAX_FACTOR, CONFIRM_MIN_CAP = 20, 200
MAX_CONFIRMS = 4  # fresh samples tried before the staffing is reported as not confirmed
CONFIRM_REPAIR_ROUNDS = 10  # rounds of adding agents on one confirming sample
CONFIRM_OFFSET = 1 << 32  # sample j's replication numbers start at (j + 1) x 2^32: never the search's 0 .. R-1


@dataclass
class _Confirmation:
    """The last confirming sample: its evaluation of the final staffing ``available``, how many fresh samples
    were drawn, and whether the last one met every target."""

    evaluation: Evaluation
    available: np.ndarray
    samples: int
    replications: int
    confirmed: bool
    added: int  # agent-intervals added on confirming samples
    judge: _Search  # the last sample's judge (with its noise allowance)


def _confirm(s: _Search, cur: np.ndarray, c_reps: int, tick: Callable[[str], None], notes: list[str],
             grow: bool = True) -> _Confirmation:
    """Select-then-confirm: the clean-up stage of ranking and selection (Nelson, Swann, Goldsman & Song 2001,
    "Simple procedures for selecting the best simulated system when the number of alternatives is large",
    Operations Research 49(6)), as sample-average approximation validates a solution out of sample
    (Kleywegt, Shapiro & Homem-de-Mello 2002, SIAM J. Optim. 12(2)).

    The staffing the search chose is minimal on the search's random numbers, so its estimates there are
    optimistic (the winner's curse of optimisation by simulation). It is simulated again on ``c_reps``
    replications that the search never used (with ``grow``, more where the first sample shows a judged cell's
    95% half-width above :data:`CELL_TOLERANCE`: as many as bring it there, at most
    max(:data:`CONFIRM_MAX_FACTOR` x the search's, :data:`CONFIRM_MIN_CAP`)), numbered from ``CONFIRM_OFFSET``
    on and derived from the same seed, so a run is reproducible. Every judged (interval, segment), every day target and every other
    target is judged on that sample alone; where one misses, agents are added (on that sample, until every point
    estimate there meets its target), and the result is confirmed again on the next fresh sample, up to
    :data:`MAX_CONFIRMS` samples.

    A service level misses on a confirming sample when its estimate is below the target by more than its
    one-sided 95% noise (t x the ratio estimator's standard error), and that allowance is at most
    :data:`CELL_TOLERANCE` for an interval and :data:`DAY_TOLERANCE` for a segment's day: judged on point
    estimates, a cell whose true level sits at its target would fail half of all fresh samples, and the
    confirmation would add agents for noise alone. The report marks such cells "within noise"."""
    start = cur.copy()
    for j in range(MAX_CONFIRMS):
        sj = _Search(s.sc, c_reps, s.seed, s.ex, s.min_calls, s.targets.max_occupancy, s.adjustable,
                     first_replication=(j + 1) * CONFIRM_OFFSET, days_meeting=s.targets.days_meeting,
                     confirming=True)
        sj.judged_mask = s.judged_mask
        tick(f"confirming on fresh callers (sample {j + 1}, {c_reps} replications)")
        e = sj.evaluate(cur)
        if grow and j == 0:
            # enough replications that every judged cell's 95% half-width is at most CELL_TOLERANCE
            cell_noise = e.sl_noise(0.975)[0][sj.judged(e)]
            worst = float(cell_noise.max()) if cell_noise.size else 0.0
            need = min(int(np.ceil(c_reps * (worst / CELL_TOLERANCE) ** 2)), max(CONFIRM_MAX_FACTOR * s.reps, CONFIRM_MIN_CAP))
            if need > c_reps:
                c_reps = need
                sj = _Search(s.sc, c_reps, s.seed, s.ex, s.min_calls, s.targets.max_occupancy, s.adjustable,
                             first_replication=CONFIRM_OFFSET, days_meeting=s.targets.days_meeting,
                             confirming=True)
                sj.judged_mask = s.judged_mask
                tick(f"confirming on fresh callers (sample 1, widened to {c_reps} replications)")
                e = sj.evaluate(cur)
        if sj.feasible(e) or j == MAX_CONFIRMS - 1:
            ok = sj.feasible(e)
            if not ok:
                notes.append(f"the staffing still misses a target on the {MAX_CONFIRMS}th fresh sample of {c_reps} "
                             "replications")
            return _Confirmation(e, cur, j + 1, c_reps, ok, int((cur - start).sum()), sj)
        budget = [CONFIRM_REPAIR_ROUNDS]

        def spend(msg: str, budget: list[int] = budget) -> bool:
            budget[0] -= 1
            tick(f"{msg} (on fresh sample {j + 1})")
            return budget[0] >= 0

        # judged with the noise allowance, repaired to the point estimates: a staffing repaired only to the edge
        # of this sample's allowance would miss again on the next sample about half the time
        fix = _Search(s.sc, c_reps, s.seed, s.ex, s.min_calls, s.targets.max_occupancy, s.adjustable,
                      first_replication=sj.first, days_meeting=s.targets.days_meeting)
        fix.cache = sj.cache  # the same sample: its simulations serve both judges
        fix.judged_mask = s.judged_mask
        cur, _ = _repair(fix, cur, e, spend, notes, chooser=s)
    raise AssertionError("unreachable")


def _repair(s: _Search, cur: np.ndarray, e: Evaluation, next_round: Callable[[str], bool], notes: list[str],
            chooser: _Search | None = None) -> tuple[np.ndarray, Evaluation]:
    """Add agents where targets fail, on ``s``'s random numbers, until every target is met or ``next_round``
    (called once a round) says the budget is spent. Where several groups could take the calls, each is tried
    by simulation and the one that removes the most shortfall (in the interval and the two after it) per unit
    of cost wins; ``chooser`` (default ``s``) is the judge whose random numbers try them: on a large confirming
    sample, the search's own smaller sample chooses the group (which group takes an agent is a cost question,
    not a service guarantee: the repair goes on until ``s`` finds every target met)."""
    chooser = s if chooser is None else chooser
    while not s.feasible(e) and next_round("adding agents where targets fail"):
        short = s.interval_shortfall(e)
        fail_t = np.flatnonzero(short > 0)
        cand = {int(t): s.candidates_for(e, int(t)) for t in fail_t}
        if not len(fail_t):
            cand = s.day_repair(e)
        cand = {t: c for t, c in cand.items() if c.any()}
        if not cand:
            notes.append("some targets fail but no adjustable group serves them")
            break
        step = {t: 1 + int(short[t] > 0.1) + int(short[t] > 0.2) for t in cand}
        if not len(fail_t):
            step = dict.fromkeys(cand, 1)
        multi = sorted({g for c in cand.values() for g in np.flatnonzero(c)}) if any(
            c.sum() > 1 for c in cand.values()) else []
        choice = {t: int(np.flatnonzero(c)[0]) for t, c in cand.items()}
        if multi:
            variants = []
            for g in multi:
                v = cur.copy()
                for t, c in cand.items():
                    if c[g]:
                        v[g, t] += 1
                variants.append(v)
            evs = chooser.evaluate_many(variants)
            base = chooser.interval_shortfall(e if chooser is s else chooser.evaluate(cur))
            for t, c in cand.items():
                best, best_score = None, 0.0
                for g, ev in zip(multi, evs):
                    if not c[g]:
                        continue
                    gain = float(base[t:t + _WINDOW].sum() - chooser.interval_shortfall(ev)[t:t + _WINDOW].sum())
                    score = gain / s.unit_cost[g]
                    if gain > 0 and (best is None or score > best_score):
                        best, best_score = g, score
                if best is None:  # no single agent helps measurably: the cheapest primary group
                    gs_ = np.flatnonzero(c & s.primary) if (c & s.primary).any() else np.flatnonzero(c)
                    best = int(gs_[np.argmin(s.unit_cost[gs_])])
                choice[t] = best
        nxt = cur.copy()
        for t, g in choice.items():
            nxt[g, t] += step[t]
        cur, e = nxt, s.evaluate(nxt)
    return cur, e


def _apply_removals(s: _Search, cur: np.ndarray, order: list[tuple[int, int]], halve: bool = True
                    ) -> tuple[np.ndarray, Evaluation] | None:
    """Remove one agent at as many (interval, group) pairs of ``order`` (best first) as stay feasible.

    At most one removal per interval. The whole set is simulated first; when it breaks a target,
    the removals whose interval window holds a failing interval are dropped and the rest tried
    again; when that tells nothing (a whole-day target fails, or every removal is suspect) the
    first half is kept (or, with ``halve=False``, None is returned). Each try shrinks the set, so this ends. Returns the new (staffing,
    evaluation), or None."""
    seen: set[int] = set()
    batch = []
    for t, g in order:
        if t not in seen:
            seen.add(t)
            batch.append((t, g))
    while batch:
        nxt = cur.copy()
        for t, g in batch:
            nxt[g, t] -= 1
        ev = s.evaluate(nxt)
        if s.feasible(ev):
            return nxt, ev
        if len(batch) == 1:
            return None
        bad_t = np.flatnonzero(s.interval_shortfall(ev) > 0)
        keep = [(t, g) for t, g in batch if not ((bad_t >= t - 1) & (bad_t < t + _WINDOW)).any()]
        if 0 < len(keep) < len(batch):
            batch = keep
        elif halve:
            batch = batch[: len(batch) // 2]
        else:
            return None
    return None


def _result(scenario: Scenario, pl: Plan, s: _Search, planned: np.ndarray, cur: np.ndarray, e_plan: Evaluation,
            e_search: Evaluation, conf: _Confirmation | None, shrink: np.ndarray, rounds: int, seed: int,
            minimal: bool, notes: list[str], search_cur: np.ndarray) -> VerifyResult:
    """The tables of a verification: every figure from the confirming sample (``conf``) when there is one,
    beside the search's own estimate of the same staffing (``e_search``, in-sample)."""
    e = conf.evaluation if conf is not None else e_search
    judge = conf.judge if conf is not None else s
    names = scenario.group_names
    t_n = scenario.n_intervals
    labels = np.array(scenario.interval_labels())
    own_sched = np.vstack([scenario.agents_per_interval(g) for g in scenario.agent_groups])
    sched_planned = np.where(s.adjustable[:, None], scheduled_agents(planned, shrink), own_sched)
    sched_verified = np.where(s.adjustable[:, None], scheduled_agents(cur, shrink), own_sched)
    sched_search = np.where(s.adjustable[:, None], scheduled_agents(search_cur, shrink), own_sched)
    assert (available_agents(sched_verified, shrink) == cur).all() or not s.adjustable.all()
    with np.errstate(invalid="ignore", divide="ignore"):
        occ = np.where(cur > 0, e.busy_s / (cur * scenario.interval_s), np.nan)
    groups = pd.DataFrame({
        "interval": np.tile(np.arange(t_n), len(names)), "time": np.tile(labels, len(names)),
        "group": np.repeat(names, t_n),
        "agents_planned": sched_planned.ravel(), "agents_verified": sched_verified.ravel(),
        "available_planned": planned.ravel(), "available_verified": cur.ravel(), "occupancy": occ.ravel(),
    })
    c = e.counts
    sl, lo, hi = ratio_ci(c["sl_num"], c["sl_den"])
    sl_search = ratio_ci(e_search.counts["sl_num"], e_search.counts["sl_den"])[0]
    sl_plan = ratio_ci(e_plan.counts["sl_num"], e_plan.counts["sl_den"])[0]
    judged = judge.judged(e)
    deficit = judge.cell_deficit(e)
    k_n = len(scenario.segments)
    target = np.repeat(s.targets.sl, t_n)
    intervals = pd.DataFrame({
        "interval": np.tile(np.arange(t_n), k_n), "time": np.tile(labels, k_n),
        "segment": np.repeat(scenario.segment_names, t_n), "offered": e.offered_mean.ravel(),
        "judged": judged.ravel(), "service_level": sl.ravel(), "service_level_ci_low": lo.ravel(),
        "service_level_ci_high": hi.ravel(), "target": target, "asa_s": e.asa_s.ravel(),
        "abandon_rate": e.abandon.ravel(), "service_level_planned": sl_plan.ravel(),
        "service_level_search": sl_search.ravel(), "optimism_gap": (sl_search - sl).ravel(),
    })
    intervals["meets"] = [None if not j else bool(d <= 0) for j, d in zip(judged.ravel(), deficit.ravel())]
    intervals["within_noise"] = judged.ravel() & (deficit.ravel() <= 0) & (sl.ravel() < target - _EPS)
    day_num, day_den = c["sl_num"].sum(axis=2), c["sl_den"].sum(axis=2)  # (R, K)
    day_sl, day_lo, day_hi = ratio_ci(day_num, day_den)
    day_search = e_search.long_run("sl_num", "sl_den")
    daily = e.day("sl_num", "sl_den")
    share = e.days_meeting(s.targets.sl)
    n_days = daily.shape[0]
    share_lo, share_hi = np.array([wilson_interval(int(round(x * n_days)), n_days)[1:] for x in share]).T
    day_def = judge.day_deficit(e)
    seg_rows = []
    for k, seg in enumerate(scenario.segments):
        jk = judged[k]
        worst = int(np.flatnonzero(jk)[np.nanargmin(sl[k, jk])]) if jk.any() else None
        finite = daily[:, k][np.isfinite(daily[:, k])]
        seg_rows.append({
            "segment": seg.name, "service_level": float(day_sl[k]), "service_level_ci_low": float(day_lo[k]),
            "service_level_ci_high": float(day_hi[k]), "service_level_search": float(day_search[k]),
            "optimism_gap": float(day_search[k] - day_sl[k]), "target": float(s.targets.sl[k]),
            "worst_interval": None if worst is None else str(labels[worst]),
            "worst_interval_service_level": np.nan if worst is None else float(sl[k, worst]),
            "days_meeting": float(share[k]), "days_meeting_ci_low": float(share_lo[k]),
            "days_meeting_ci_high": float(share_hi[k]),
            "daily_sl_p10": float(np.percentile(finite, 10)) if len(finite) else np.nan,
            "meets": bool(day_def[k] <= 0 and not deficit[k].any()),
        })
    hours = scenario.interval_s / 3600.0
    adj = s.adjustable[:, None]
    return VerifyResult(
        scenario=scenario, plan=pl, groups=groups, intervals=intervals, segments=pd.DataFrame(seg_rows),
        agent_hours_planned=float((sched_planned * adj).sum() * hours),
        agent_hours_verified=float((sched_verified * adj).sum() * hours),
        agent_hours_search=float((sched_search * adj).sum() * hours),
        iterations=rounds, evaluations=s.evaluations, replications=s.reps, seed=seed, all_met=judge.feasible(e),
        minimal=minimal, notes=notes,
        confirm_replications=conf.replications if conf is not None else 0,
        confirm_samples=conf.samples if conf is not None else 0,
        confirmed=conf is not None and conf.confirmed, days_meeting_target=s.targets.days_meeting,
    )
