"""Agents per interval for service targets; shrinkage; cost-optimal staffing; the plan of a scenario.

Times in seconds, loads in Erlangs, costs in the scenario's currency.
Everything is vectorised over intervals: one call sizes 96 intervals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ccplan.scenario import available_agents  # noqa: F401  (re-exported: the inverse of scheduled_agents)
from ccplan.scenario import service_level_value
from planner.erlang import erlang_a, erlang_c, occupancy
from planner.priority import predict_classes

# the largest staffing the search considers, as a multiple of the load (plus a constant)
_CAP_FACTOR, _CAP_PLUS = 20.0, 1000.0


class Measures(NamedTuple):
    """Predicted measures for a staffing level (arrays broadcast from the inputs)."""

    service_level: np.ndarray
    asa_s: np.ndarray
    p_wait: np.ndarray
    occupancy: np.ndarray
    abandon_rate: np.ndarray


def evaluate(agents: ArrayLike, traffic_erlangs: ArrayLike, aht_s: ArrayLike, answer_within_s: ArrayLike,
             patience_s: ArrayLike | None = None, with_asa: bool = True, definition: str = "offered") -> Measures:
    """Service level, ASA (s), P(wait), occupancy and abandonment for available ``agents``.

    Without ``patience_s`` (or with inf) this is Erlang C: abandonment 0, and an
    unstable pool (agents <= traffic) has SL 0 and ASA inf; every service-level definition
    then gives the same figure. With it, Erlang A, and the service level is taken as
    ``definition`` says (:data:`ccplan.scenario.SL_DEFINITIONS`).
    """
    if patience_s is None or np.all(np.isinf(np.asarray(patience_s, float))):
        n, a, h, t = np.broadcast_arrays(*(np.asarray(v, float) for v in (agents, traffic_erlangs, aht_s,
                                                                           answer_within_s)))
        c = np.asarray(erlang_c(n, a), float)
        stable = n > a
        gap = np.where(stable, n - a, 1.0)
        sl = np.where(stable, 1.0 - c * np.exp(-gap * t / h), 0.0)
        asa = np.where(stable, c * h / gap, np.inf) if with_asa else np.full(n.shape, np.nan)
        return Measures(sl, asa, c, np.asarray(occupancy(n, a), float), np.zeros(n.shape))
    r = erlang_a(agents, traffic_erlangs, aht_s, patience_s, answer_within_s, with_asa=with_asa)
    sl = np.asarray(r.service_level, float)
    if definition != "offered":
        ab = np.asarray(r.p_abandon, float)
        short_ab = np.clip(1.0 - sl - np.asarray(r.still_waiting, float), 0.0, ab)
        sl = np.clip(service_level_value(definition, sl, 1.0, 1.0 - ab, short_ab, empty=1.0), 0.0, 1.0)
    return Measures(*(np.asarray(v, float) for v in (sl, r.asa_s, r.p_wait, r.occupancy, r.p_abandon)))


def min_agents(meets: Callable[[np.ndarray], np.ndarray], lower: ArrayLike, guess: ArrayLike,
               cap: ArrayLike) -> np.ndarray:
    """Smallest integer n in (lower, cap] with ``meets(n)`` True, elementwise, by bisection.

    ``meets`` must be monotone in n (False ... False True ... True) and vectorised.
    ``lower`` is a level known to fail (or -1); elements that fail even at ``cap`` get -1.
    """
    lo = np.asarray(lower, float).astype(np.int64).copy()
    cap_i = np.ceil(np.asarray(cap, float)).astype(np.int64)
    hi = np.minimum(np.maximum(np.ceil(np.asarray(guess, float)).astype(np.int64), lo + 1), cap_i)
    ok = meets(hi)
    # grow hi until it meets the targets (or reaches the cap)
    while not ok.all():
        grow = ~ok & (hi < cap_i)
        if not grow.any():
            break
        lo = np.where(grow, hi, lo)
        hi = np.where(grow, np.minimum(cap_i, hi + np.maximum(hi - lo, 0) + np.maximum(hi // 2, 4)), hi)
        ok = np.where(grow, meets(hi), ok)
    feasible = ok.copy()
    while True:
        open_ = feasible & (hi - lo > 1)
        if not open_.any():
            break
        mid = np.where(open_, (lo + hi) // 2, hi)
        m_ok = meets(mid)
        hi = np.where(open_ & m_ok, mid, hi)
        lo = np.where(open_ & ~m_ok, mid, lo)
    return np.where(feasible, hi, -1)


def required_agents(
    traffic_erlangs: ArrayLike,
    aht_s: ArrayLike,
    answer_within_s: ArrayLike = 20.0,
    sl_target: ArrayLike | None = 0.8,
    patience_s: ArrayLike | None = None,
    max_asa_s: ArrayLike | None = None,
    max_abandon: ArrayLike | None = None,
    max_occupancy: ArrayLike | None = None,
    definition: str = "offered",
) -> np.ndarray:
    """Smallest integer number of available agents meeting **all** given targets, per element.

    Targets: service level ``sl_target`` within ``answer_within_s`` seconds, ASA
    <= ``max_asa_s`` seconds, abandonment <= ``max_abandon``, occupancy <=
    ``max_occupancy``. Erlang A when ``patience_s`` is given, else Erlang C. The service level
    is taken as ``definition`` says (all definitions agree without abandonment).
    Zero traffic needs 0 agents. -1 marks a target no staffing can meet.
    """
    scalars = (traffic_erlangs, aht_s, answer_within_s, sl_target, max_asa_s, max_abandon, max_occupancy)
    if patience_s is None and all(v is None or np.ndim(v) == 0 for v in scalars) and 0 < float(traffic_erlangs) < 2000:
        return _required_agents_scalar(float(traffic_erlangs), float(aht_s), float(answer_within_s), sl_target,
                                       max_asa_s, max_occupancy)
    arrays = [np.asarray(traffic_erlangs, float), np.asarray(aht_s, float), np.asarray(answer_within_s, float)]
    for v in (sl_target, patience_s, max_asa_s, max_abandon, max_occupancy):
        arrays.append(np.asarray(np.nan if v is None else v, float))
    a, h, t, slt, pat, masa, mab, mocc = np.broadcast_arrays(*arrays)
    use_a = patience_s is not None
    pat_eff = np.where(np.isnan(pat), np.inf, pat)

    def meets(n: np.ndarray) -> np.ndarray:
        m = evaluate(n, a, h, t, pat_eff if use_a else None, with_asa=max_asa_s is not None, definition=definition)
        ok = np.ones(a.shape, bool)
        ok &= np.isnan(slt) | (m.service_level >= slt - 1e-12)
        ok &= np.isnan(masa) | (m.asa_s <= masa + 1e-12)
        ok &= np.isnan(mab) | (m.abandon_rate <= mab + 1e-12)
        ok &= np.isnan(mocc) | (m.occupancy <= mocc + 1e-12)
        if not use_a:
            ok &= n > a  # Erlang C needs a stable queue
        return ok | (a <= 0)

    lower = np.where(use_a, -1, np.floor(a) - 1)
    guess = a + 2.0 * np.sqrt(a) + 2.0
    out = min_agents(meets, lower, guess, _CAP_FACTOR * a + _CAP_PLUS)
    out = np.where(a <= 0, 0, out)
    return out[()] if out.ndim == 0 else out


def _required_agents_scalar(a: float, aht_s: float, t_s: float, sl_target, max_asa_s, max_occupancy) -> int:
    """Erlang C sizing of one interval in plain floats (no numpy overhead): the stable
    recursion B(n) = a B(n-1) / (n + a B(n-1)) walked up from n = 1, first n > a meeting
    every target. Same formulas and tolerance as the vectorised path; used for loads < 2,000 Erl."""
    b = 1.0
    n = 0
    while n <= a:  # B(n) up to the first stable staffing
        n += 1
        b = a * b / (n + a * b)
    while n <= _CAP_FACTOR * a + _CAP_PLUS:
        c = b / (1.0 - a / n * (1.0 - b))
        ok = sl_target is None or 1.0 - c * math.exp(-(n - a) * t_s / aht_s) >= float(sl_target) - 1e-12
        ok = ok and (max_asa_s is None or c * aht_s / (n - a) <= float(max_asa_s) + 1e-12)
        ok = ok and (max_occupancy is None or a / n <= float(max_occupancy) + 1e-12)
        if ok:
            return np.int64(n)
        n += 1
        b = a * b / (n + a * b)
    return np.int64(-1)


def scheduled_agents(required: ArrayLike, shrinkage: ArrayLike) -> np.ndarray:
    """Paid agents to schedule so that ``required`` remain after shrinkage: ceil(required / (1 - shrinkage))."""
    req = np.asarray(required, float)
    out = np.ceil(req / (1.0 - np.asarray(shrinkage, float)) - 1e-9).astype(np.int64)
    out = np.where(req < 0, -1, out)
    return out[()] if np.ndim(out) == 0 else out




# ---------------------------------------------------------------------------
# cost-optimal staffing


def _lost_share(p) -> np.ndarray:
    """Share (K, T) of offered calls not answered: abandoned, and blocked where lines limit the pool."""
    return p.abandon_rate if p.block_rate is None else p.abandon_rate + p.block_rate


def _profit_per_interval(pred_lost: np.ndarray, calls: np.ndarray, value: np.ndarray, lost_per_abandon: np.ndarray,
                         sched: np.ndarray | float, cost_per_agent_interval: float) -> np.ndarray:
    """margin - lost value - agent cost for one staffing level; ``pred_lost``: share of calls not answered
    (abandoned or blocked); class arrays (K, T), result (T,)."""
    answered = calls * (1.0 - pred_lost)
    lost = calls * pred_lost
    return (answered * value - lost * lost_per_abandon).sum(axis=0) - sched * cost_per_agent_interval


def _cost_optimal(predict, a: np.ndarray, req: np.ndarray, pat_k: np.ndarray, calls_k: np.ndarray,
                  value_k: np.ndarray, lost_k: np.ndarray, shrinkage: float, cost_int: float) -> np.ndarray:
    """Available agents (T,) maximising margin - lost value - agent cost, by a scan of n.

    An agent on the phones costs ``cost_int / (1 - shrinkage)`` (the scheduled time it takes), the
    same price as the plan's ``marginal_value``, so that the value of one more agent is positive
    exactly below the optimum (profit is concave in agents).

    The scan covers 0 .. max(required, load) + 3 sqrt(load) + 5, with a stride
    for large pools followed by a unit-step refinement around the best point.
    Without patience an unstable pool (n <= load) is excluded.
    """
    hi_n = np.maximum(req, np.ceil(a)).astype(int) + np.ceil(3 * np.sqrt(a)).astype(int) + 5
    stride = max(1, int(hi_n.max()) // 300)
    patient = bool(np.isfinite(pat_k).all())

    def profit(n_try: np.ndarray) -> np.ndarray:
        p = predict(n_try)
        prof = _profit_per_interval(_lost_share(p), calls_k, value_k, lost_k, n_try / (1.0 - shrinkage), cost_int)
        return np.where((n_try > a) | patient, prof, -np.inf)

    best_n = np.zeros(a.shape, int)
    best_p = np.full(a.shape, -np.inf)
    for n0 in range(0, int(hi_n.max()) + 1, stride):
        n_try = np.minimum(n0, hi_n)
        prof = profit(n_try)
        better = prof > best_p + 1e-9
        best_n, best_p = np.where(better, n_try, best_n), np.where(better, prof, best_p)
    if stride > 1:
        centre = best_n.copy()
        for off in range(-stride, stride + 1):
            n_try = np.clip(centre + off, 0, hi_n)
            prof = profit(n_try)
            better = prof > best_p + 1e-9
            best_n, best_p = np.where(better, n_try, best_n), np.where(better, prof, best_p)
    return np.where(a <= 0, 0, best_n)


# ---------------------------------------------------------------------------
# the plan of a scenario

ESCALATION = "escalation"

GROUP_COLUMNS = ("interval", "time", "group", "calls", "traffic_erlangs", "required_agents", "scheduled_agents",
                 "current_scheduled", "occupancy", "agent_hours", "cost", "cost_optimal_agents",
                 "cost_optimal_scheduled", "marginal_value")
PREDICTION_COLUMNS = ("calls", "traffic_erlangs", "service_level", "asa_s", "abandon_rate", "block_rate",
                      "service_level_current")


@dataclass(frozen=True)
class _Classes:
    """The scenario as arrays, converted once at the planner's door.

    Classes are the scenario's segments, plus one escalation class when a group has the
    escalation skill. Per-class arrays have shape (K,) or (K, T).
    """

    names: list[str]
    calls: np.ndarray  # (K, T) offered calls per interval
    aht_s: np.ndarray  # (K, T) handle time per interval
    patience_s: np.ndarray  # (K, T); inf = never abandons
    answer_within_s: np.ndarray
    sl_target: np.ndarray
    priority: np.ndarray
    max_asa_s: np.ndarray  # nan = no target
    max_abandon: np.ndarray  # nan = no target
    value_per_call: np.ndarray
    lost_per_abandon: np.ndarray
    definitions: list[str]  # service-level definition per class
    n_segments: int  # classes [0, n_segments) are segments; the rest is the escalation class

    @classmethod
    def of(cls, scenario) -> "_Classes":
        segs = scenario.segments
        rows = [dict(name=s.name, calls=scenario.calls_per_interval(s),
                     aht=scenario.aht_per_interval(s) * _factor(scenario, s.name),
                     pat=scenario.patience_per_interval(s), thr=scenario.answer_within_s(s),
                     target=scenario.sl_target(s), prio=s.priority,
                     masa=np.nan if s.max_asa_s is None else s.max_asa_s,
                     mab=np.nan if s.max_abandon_rate is None else s.max_abandon_rate,
                     value=s.value_per_call, lost=s.clv * s.churn_per_abandon,
                     definition=scenario.sl_definition(s)) for s in segs]
        if scenario.escalation_groups():
            esc_calls = np.zeros(scenario.n_intervals)
            esc_work = np.zeros(scenario.n_intervals)
            for s in segs:
                if s.escalation_probability > 0:
                    c = scenario.calls_per_interval(s) * s.escalation_probability
                    esc_calls += c
                    esc_work += c * (s.escalation_aht_s or scenario.aht_per_interval(s))
            sl = scenario.service_level
            rows.append(dict(name=ESCALATION, calls=esc_calls,
                             aht=float(esc_work.sum() / esc_calls.sum()) if esc_calls.sum() > 0 else 600.0,
                             pat=np.inf, thr=sl.answer_within_s, target=sl.target, prio=0, masa=np.nan, mab=np.nan,
                             value=0.0, lost=0.0, definition=sl.definition))

        def col(key: str) -> np.ndarray:
            return np.array([r[key] for r in rows], float)

        def per_interval(key: str) -> np.ndarray:
            return np.vstack([np.broadcast_to(np.asarray(r[key], float), (scenario.n_intervals,)) for r in rows])

        return cls(names=[r["name"] for r in rows], calls=np.vstack([r["calls"] for r in rows]),
                   aht_s=per_interval("aht"), patience_s=per_interval("pat"), answer_within_s=col("thr"), sl_target=col("target"),
                   priority=col("prio"), max_asa_s=col("masa"), max_abandon=col("mab"), value_per_call=col("value"),
                   lost_per_abandon=col("lost"), definitions=[r["definition"] for r in rows], n_segments=len(segs))


def _factor(scenario, segment: str) -> float:
    """The segment's handle-time factor in the planner: exact when every group that may take it has the same
    ``handle_time_factor``; otherwise their mean (and the plan says it is approximate)."""
    factors = [scenario.handle_factor(g, segment) for g in scenario.groups_for(segment)]
    return float(np.mean(factors)) if factors else 1.0


def _split_shares(scenario, classes: _Classes, avail_current: np.ndarray) -> np.ndarray:
    """Share (G, K, T) of each class's calls sent to each primary group (accepts_after_s == 0).

    A class served by several primary groups is split in proportion to the groups'
    available agents in the scenario's own schedule in that interval (equal shares
    where none are scheduled). Overflow groups get no share here.
    """
    groups = scenario.agent_groups
    shares = np.zeros((len(groups), len(classes.names), scenario.n_intervals))
    for k, name in enumerate(classes.names):
        idx = [i for i, g in enumerate(groups) if scenario.may_serve(g, name) and g.accepts_after_s == 0]
        if not idx:  # only overflow groups: they take it all
            idx = [i for i, g in enumerate(groups) if scenario.may_serve(g, name)]
        weights = avail_current[idx].astype(float)
        tot = weights.sum(axis=0)
        shares[idx, k] = np.where(tot > 0, weights / np.where(tot > 0, tot, 1.0), 1.0 / len(idx))
    return shares


@dataclass(frozen=True)
class Plan:
    """The staffing plan of a scenario, as tidy tables.

    ``groups``: one row per interval x agent group. Columns: interval, time, group, calls and
      traffic_erlangs offered to the group, required_agents (available agents needed for every
      target), scheduled_agents (= ceil(required / (1 - shrinkage))), current_scheduled (the
      scenario's), occupancy (at the required level), agent_hours and cost of the scheduled
      agents, cost_optimal_agents / cost_optimal_scheduled (profit-maximising level),
      marginal_value (profit change in the interval from one more agent on the phones, priced at
      cost_per_hour / (1 - shrinkage): what it takes in scheduled time to have one more available).
    ``group_segments``: one row per interval x group x segment the group serves: calls,
      traffic_erlangs, and service_level, asa_s, abandon_rate, block_rate predicted at the required level,
      service_level_current at the scenario's own staffing.
    ``segments``: one row per interval x segment: the same columns, call-weighted over groups.
    ``escalations``: one row per interval x escalation group (same columns), empty without escalation.
    Times in seconds, money in the scenario's currency.
    """

    scenario: Any
    groups: pd.DataFrame
    group_segments: pd.DataFrame
    segments: pd.DataFrame
    escalations: pd.DataFrame

    @property
    def required_available(self) -> np.ndarray:
        """Required available agents (G, T), groups in scenario order."""
        return self._matrix("required_agents")

    @property
    def scheduled(self) -> np.ndarray:
        """Planned scheduled agents (G, T), groups in scenario order."""
        return self._matrix("scheduled_agents")

    def _matrix(self, column: str) -> np.ndarray:
        t_n = self.scenario.n_intervals
        return self.groups.sort_values(["group_index", "interval"])[column].to_numpy().reshape(-1, t_n)

    def daily_groups(self) -> pd.DataFrame:
        """Per group, whole day: group, agent_hours, cost, current_agent_hours, peak_required, peak_scheduled."""
        hours = self.scenario.interval_s / 3600.0
        g = self.groups.groupby("group", sort=False).agg(
            agent_hours=("agent_hours", "sum"), cost=("cost", "sum"),
            current_scheduled=("current_scheduled", "sum"),
            peak_required=("required_agents", "max"), peak_scheduled=("scheduled_agents", "max"),
        ).reset_index()
        g.insert(3, "current_agent_hours", g.pop("current_scheduled") * hours)
        return g

    def daily_segments(self) -> pd.DataFrame:
        """Per segment, whole day (call-weighted): segment, calls, service_level, asa_s, abandon_rate,
        service_level_current."""
        return _call_weighted(self.segments, ["segment"]).drop(columns=["traffic_erlangs"])

    def approximate_reasons(self) -> list[str]:
        """Why the analytic figures are approximate for this scenario (empty when Erlang's model is exact)."""
        return approximate_reasons(self.scenario)

    def wide(self) -> pd.DataFrame:
        """The plan as one row per interval x group with per-segment ``metric:segment`` columns.

        Kept only as an output format (``ccplan staff --out`` CSV and ``--json`` intervals), so
        users' existing scripts keep working; code reads the tidy tables instead.
        """
        parts = [self.group_segments]
        if len(self.escalations):
            parts.append(self.escalations.assign(segment=ESCALATION))
        long = pd.concat(parts, ignore_index=True)
        order = list(self.scenario.segment_names) + [ESCALATION]
        wide = long.set_index(["interval", "group", "segment"])[list(PREDICTION_COLUMNS)].unstack("segment")
        cols = [(c, s) for s in order for c in PREDICTION_COLUMNS if (c, s) in wide.columns]
        wide = wide[cols]
        wide.columns = [f"{c}:{s}" for c, s in cols]
        out = self.groups.drop(columns=["group_index"])
        return out.merge(wide.reset_index(), on=["interval", "group"], how="left")


def approximate_reasons(scenario) -> list[str]:
    """Features of a scenario that the analytic planner only approximates (empty: Erlang is exact per interval)."""
    reasons = []
    for k in scenario.segment_names:
        if len(scenario.groups_for(k)) > 1:
            reasons.append("segments share agent groups")
            break
    split = [k for k in scenario.segment_names
             if sum(g.accepts_after_s == 0 for g in scenario.groups_for(k)) > 1]
    if split:
        one = len(split) == 1
        reasons.append(f"{', '.join(split)} {'is' if one else 'are'} split between the groups that take "
                       f"{'it' if one else 'them'} in proportion to the scenario's current staffing, so the plan changes when that staffing "
                       "changes")
    if any(g.accepts_after_s > 0 for g in scenario.agent_groups):
        reasons.append("a group takes overflow (accepts_after_s)")
    if any(g.reserve > 0 for g in scenario.agent_groups):
        reasons.append("a group keeps reserve agents")
    if any(s.handle_time != "exponential" for s in scenario.segments):
        reasons.append("handle times are not exponential")
    if any(s.patience_s is not None and s.patience != "exponential" for s in scenario.segments):
        reasons.append("patience is not exponential")
    if any(s.retrial_probability > 0 for s in scenario.segments):
        reasons.append("callers retry")
    if scenario.escalation_groups() and any(s.escalation_probability > 0 for s in scenario.segments):
        reasons.append("calls escalate")
    if any(len({scenario.handle_factor(g, s.name) for g in scenario.groups_for(s.name)}) > 1
           for s in scenario.segments):
        reasons.append("groups sharing a segment handle it at different speeds (handle_time_factor)")
    if any(s.groups is not None for s in scenario.segments) or any(g.serves for g in scenario.agent_groups) \
            or scenario.routing.agent_choice != "preference":
        reasons.append("routing preferences (segment groups, group serves or agent choice) are not in the formulas")
    own = [s.name for s in scenario.segments
           if s.agent_choice is not None and s.agent_choice != scenario.routing.agent_choice]
    if own:
        reasons.append(f"the agent choice of {', '.join(own)} (segment agent_choice) is not in the formulas")
    cb = [s.name for s in scenario.segments if s.callback is not None]
    if cb:
        reasons.append(f"callbacks ({', '.join(cb)}) move load from the queue to idle time: the formulas ignore "
                       "them (check with --verify)")
    capped = [s.name for s in scenario.segments if s.max_queue_s is not None]
    if capped:
        reasons.append(f"queue caps (max_queue_s of {', '.join(capped)}) change the load: the formulas ignore them "
                       "(check with --verify)")
    if scenario.capacity.lines is not None and lines_in_formulas(scenario) is None:
        reasons.append(f"the {scenario.capacity.lines} phone lines are shared by several groups (the formulas "
                       "treat one pool as M/M/c/N only)")
    if scenario.simulation.busyness_cv > 0 or any(s.busyness_cv > 0 for s in scenario.segments):
        reasons.append("busyness: the simulation includes day-to-day volume uncertainty, the formulas stay at the "
                       "mean volume")
    return reasons


def lines_in_formulas(scenario) -> int | None:
    """The phone lines when the planner can treat them exactly: one agent group takes every call (an
    M/M/c/N pool); else None."""
    if scenario.capacity.lines is None:
        return None
    takers = [g for g in scenario.agent_groups if any(scenario.may_serve(g, k) for k in scenario.segment_names)]
    escalating = scenario.escalation_groups() and any(s.escalation_probability > 0 for s in scenario.segments)
    return scenario.capacity.lines if len(takers) == 1 and not escalating else None


def _call_weighted(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Sum calls and traffic, call-weight the predictions, per ``keys``. Without calls SL is 1, the rest 0."""
    w = df["calls"]
    tmp = df[keys].copy()
    tmp["calls"] = w
    tmp["traffic_erlangs"] = df["traffic_erlangs"]
    metrics = ("service_level", "asa_s", "abandon_rate", "block_rate", "service_level_current")
    for c in metrics:
        tmp[c] = np.nan_to_num(df[c].to_numpy(float), nan=0.0, posinf=0.0) * w
        if c == "asa_s":  # an infinite ASA must stay infinite
            tmp[c] = np.where(np.isinf(df[c]) & (w > 0), np.inf, tmp[c])
    agg = tmp.groupby(keys, sort=False).sum().reset_index()
    tot = agg["calls"].where(agg["calls"] > 0)
    for c in metrics:
        agg[c] = (agg[c] / tot).fillna(1.0 if c.startswith("service_level") else 0.0)
    return agg


def plan(scenario, max_occupancy: float | None = None) -> Plan:
    """The staffing plan of a scenario (see :class:`Plan` for its tables).

    Method: segments served by one group are pooled in that group; a segment served
    by several primary groups is split in proportion to their available agents in the
    scenario's schedule (so the plan of a shared segment depends on the scenario's own
    staffing); overflow groups (``accepts_after_s``) receive the calls the primary groups
    would leave waiting longer than that (at the required level); escalated calls
    (answered x escalation_probability, handle time escalation_aht_s) are a top-priority
    class of the ``escalation`` groups. Each pool is sized with
    :func:`planner.priority.predict_classes` (Erlang A when patience is given). Each
    interval is treated as in steady state: :mod:`ccplan.verification` corrects the plan by
    simulation where that, or the pooling approximations, do not hold.
    """
    cl = _Classes.of(scenario)
    groups = scenario.agent_groups
    g_n, k_n, t_n = len(groups), len(cl.names), scenario.n_intervals
    interval_s = scenario.interval_s
    hours = interval_s / 3600.0
    strict = scenario.routing.policy == "priority"
    avail_current = np.vstack([scenario.available_per_interval(g) for g in groups])
    shares = _split_shares(scenario, cl, avail_current)
    skilled = np.array([[scenario.may_serve(g, name) for name in cl.names] for g in groups])  # (G, K)

    calls_gk = shares * cl.calls[None]  # (G, K, T); overflow added below
    req = np.zeros((g_n, t_n), np.int64)
    best_n = np.zeros((g_n, t_n), np.int64)
    marginal = np.zeros((g_n, t_n))
    occ = np.zeros((g_n, t_n))
    pred_gk = {c: np.full((g_n, k_n, t_n), np.nan) for c in ("service_level", "asa_s", "abandon_rate", "block_rate",
                                                             "service_level_current")}
    lines = lines_in_formulas(scenario)
    order = sorted(range(g_n), key=lambda i: groups[i].accepts_after_s > 0)  # primaries first
    for gi in order:
        g = groups[gi]
        ks = np.flatnonzero(skilled[gi])
        if ks.size == 0:  # every segment it is skilled for lists other groups: nothing to staff
            continue
        calls_k = calls_gk[gi, ks]
        traffic_k = calls_k * cl.aht_s[ks] / interval_s
        aht_k, pat_k, thr_k, prio_k = cl.aht_s[ks], cl.patience_s[ks], cl.answer_within_s[ks], cl.priority[ks]
        target_k, masa_k, mab_k = cl.sl_target[ks, None], cl.max_asa_s[ks, None], cl.max_abandon[ks, None]
        need_asa = bool(np.isfinite(masa_k).any())

        defs_k = [cl.definitions[k] for k in ks]

        def predict(n: np.ndarray, traffic_k=traffic_k, aht_k=aht_k, pat_k=pat_k, thr_k=thr_k, prio_k=prio_k,
                    defs_k=defs_k):
            return predict_classes(n, traffic_k, aht_k, pat_k, thr_k, prio_k, strict_priority=strict,
                                   definitions=defs_k, lines=lines)

        def meets(n: np.ndarray, predict=predict, target_k=target_k, masa_k=masa_k, mab_k=mab_k,
                  traffic_k=traffic_k, need_asa=need_asa) -> np.ndarray:
            p = predict(n)
            has = traffic_k > 0
            ok = (p.service_level >= target_k - 1e-12) | ~has
            if need_asa:
                ok &= np.isnan(masa_k) | (p.asa_s <= masa_k + 1e-12) | ~has
            ok &= np.isnan(mab_k) | (p.abandon_rate <= mab_k + 1e-12) | ~has
            res = ok.all(axis=0)
            if max_occupancy is not None:
                res &= p.occupancy <= max_occupancy + 1e-12
            return res | (traffic_k.sum(axis=0) <= 0)

        a = traffic_k.sum(axis=0)
        r = min_agents(meets, np.full(t_n, -1), a + 2 * np.sqrt(a) + 2, _CAP_FACTOR * a + _CAP_PLUS)
        r = np.where(a <= 0, 0, r)
        req[gi] = r
        n_eval = np.maximum(r, 0)
        pred = predict(n_eval)
        pred_cur = predict(avail_current[gi])
        occ[gi] = pred.occupancy
        for c in ("service_level", "asa_s", "abandon_rate"):
            pred_gk[c][gi, ks] = getattr(pred, c)
        pred_gk["block_rate"][gi, ks] = 0.0 if pred.block_rate is None else pred.block_rate
        pred_gk["service_level_current"][gi, ks] = pred_cur.service_level

        # overflow to later groups: calls still waiting after accepts_after_s at the required level
        if g.accepts_after_s == 0:
            for oi, og in enumerate(groups):
                if og.accepts_after_s > 0:
                    p_over = predict_classes(n_eval, traffic_k, aht_k, pat_k, np.full(len(ks), og.accepts_after_s),
                                             prio_k, strict_priority=strict)
                    for j, k in enumerate(ks):
                        if skilled[oi, k]:
                            calls_gk[oi, k] += calls_k[j] * p_over.still_waiting[j]

        # cost-optimal level and the value of one more agent
        cost_int = g.cost_per_hour * hours
        value_k, lost_k = cl.value_per_call[ks, None], cl.lost_per_abandon[ks, None]
        best_n[gi] = _cost_optimal(predict, a, n_eval, pat_k, calls_k, value_k, lost_k, g.shrinkage, cost_int)
        # one more agent on the phones costs 1 / (1 - shrinkage) scheduled agents: priced so, not by the step of
        # the rounded-up schedule (which is 1 or 2 agents by turns and made the value flip sign between intervals)
        gain_req = _profit_per_interval(_lost_share(pred), calls_k, value_k, lost_k, 0.0, 0.0)
        gain_next = _profit_per_interval(_lost_share(predict(n_eval + 1)), calls_k, value_k, lost_k, 0.0,
                                         0.0)
        marginal[gi] = gain_next - gain_req - cost_int / (1.0 - g.shrinkage)

    traffic_gk = calls_gk * cl.aht_s[None] / interval_s
    shrink = np.array([g.shrinkage for g in groups])[:, None]
    cost_h = np.array([g.cost_per_hour for g in groups])[:, None]
    sched = scheduled_agents(np.maximum(req, 0), shrink)
    labels = np.array(scenario.interval_labels())
    gnames = np.array(scenario.group_names)
    group_df = pd.DataFrame({
        "interval": np.tile(np.arange(t_n), g_n), "time": np.tile(labels, g_n),
        "group": np.repeat(gnames, t_n), "group_index": np.repeat(np.arange(g_n), t_n),
        "calls": calls_gk.sum(axis=1).ravel(), "traffic_erlangs": traffic_gk.sum(axis=1).ravel(),
        "required_agents": req.ravel(), "scheduled_agents": sched.ravel(),
        "current_scheduled": np.vstack([scenario.agents_per_interval(g) for g in groups]).ravel(),
        "occupancy": occ.ravel(), "agent_hours": (sched * hours).ravel(), "cost": (sched * hours * cost_h).ravel(),
        "cost_optimal_agents": best_n.ravel(), "cost_optimal_scheduled": scheduled_agents(best_n, shrink).ravel(),
        "marginal_value": marginal.ravel(),
    })

    gi_, ki_ = np.nonzero(skilled)
    long = pd.DataFrame({
        "interval": np.tile(np.arange(t_n), len(gi_)), "time": np.tile(labels, len(gi_)),
        "group": np.repeat(gnames[gi_], t_n), "segment": np.repeat(np.array(cl.names)[ki_], t_n),
        "calls": calls_gk[gi_, ki_].ravel(), "traffic_erlangs": traffic_gk[gi_, ki_].ravel(),
        **{c: pred_gk[c][gi_, ki_].ravel() for c in pred_gk},
    })
    is_esc = long["segment"].to_numpy() == ESCALATION
    esc = long[is_esc].drop(columns=["segment"]).reset_index(drop=True)
    gs = long[~is_esc].reset_index(drop=True)
    segs = _call_weighted(gs, ["interval", "time", "segment"])
    segs["segment"] = pd.Categorical(segs["segment"], categories=scenario.segment_names)
    segs = segs.sort_values(["segment", "interval"]).reset_index(drop=True)
    segs["segment"] = segs["segment"].astype(str)
    return Plan(scenario, group_df, gs, segs, esc)


def max_calls(agents: int, aht_s: float, interval_s: float, answer_within_s: float = 20.0,
              sl_target: float | None = 0.8, patience_s: float | None = None, max_asa_s: float | None = None,
              max_abandon: float | None = None, max_occupancy: float | None = None,
              definition: str = "offered") -> float:
    """The most calls in one interval (of ``interval_s`` seconds) that ``agents`` available agents answer while
    meeting every given target (as :func:`required_agents` takes them): bisection on the load to 1e-6
    Erlangs. 0 when no load can be served at the targets."""
    if agents <= 0:
        return 0.0

    def ok(a: float) -> bool:
        n = int(required_agents(a, aht_s, answer_within_s, sl_target, patience_s, max_asa_s, max_abandon,
                                max_occupancy, definition))
        return 0 <= n <= agents

    lo, hi = 0.0, float(agents)
    while ok(hi) and hi < 1e6:  # with abandonment the load may exceed the agents
        lo, hi = hi, hi * 2.0
    while hi - lo > 1e-6 * max(1.0, hi):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    return lo * interval_s / aht_s


def staffing_curve(traffic_erlangs: float, aht_s: float, answer_within_s: float, patience_s: float | None,
                   agents_from: int, agents_to: int) -> pd.DataFrame:
    """Measures against the number of available agents, for Erlang C and (with patience) Erlang A.

    One row per agents x model; columns agents, model ("Erlang C" / "Erlang A"),
    service_level, asa_s, abandon_rate, occupancy, p_wait. Erlang C rows where the
    queue is unstable have service_level 0 and asa_s inf.
    """
    n = np.arange(max(1, int(agents_from)), int(agents_to) + 1)
    frames = []
    models = [("Erlang C", None)] + ([("Erlang A", patience_s)] if patience_s else [])
    for name, pat in models:
        m = evaluate(n, traffic_erlangs, aht_s, answer_within_s, pat)
        frames.append(pd.DataFrame({"agents": n, "model": name, "service_level": m.service_level, "asa_s": m.asa_s,
                                    "abandon_rate": m.abandon_rate, "occupancy": m.occupancy, "p_wait": m.p_wait}))
    return pd.concat(frames, ignore_index=True)
