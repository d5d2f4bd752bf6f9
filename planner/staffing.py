"""Agents per interval for service targets; shrinkage; cost-optimal staffing; the plan of a scenario.

Times in seconds, loads in Erlangs, costs in the scenario's currency.
Everything is vectorised over intervals: one call sizes 96 intervals.
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ccplan.scenario import available_agents  # noqa: F401  (re-exported: the inverse of scheduled_agents)
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
             patience_s: ArrayLike | None = None, with_asa: bool = True) -> Measures:
    """Service level, ASA (s), P(wait), occupancy and abandonment for available ``agents``.

    Without ``patience_s`` (or with inf) this is Erlang C: abandonment 0, and an
    unstable pool (agents <= traffic) has SL 0 and ASA inf. With it, Erlang A.
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
    return Measures(*(np.asarray(v, float) for v in (r.service_level, r.asa_s, r.p_wait, r.occupancy,
                                                      r.p_abandon)))


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
) -> np.ndarray:
    """Smallest integer number of available agents meeting **all** given targets, per element.

    Targets: service level ``sl_target`` within ``answer_within_s`` seconds, ASA
    <= ``max_asa_s`` seconds, abandonment <= ``max_abandon``, occupancy <=
    ``max_occupancy``. Erlang A when ``patience_s`` is given, else Erlang C.
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
        m = evaluate(n, a, h, t, pat_eff if use_a else None, with_asa=max_asa_s is not None)
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


def _profit_per_interval(pred_ab: np.ndarray, calls: np.ndarray, value: np.ndarray, lost_per_abandon: np.ndarray,
                         sched: np.ndarray, cost_per_agent_interval: float) -> np.ndarray:
    """margin - lost value - agent cost for one staffing level; class arrays (K, T), result (T,)."""
    answered = calls * (1.0 - pred_ab)
    abandoned = calls * pred_ab
    return (answered * value - abandoned * lost_per_abandon).sum(axis=0) - sched * cost_per_agent_interval


def _cost_optimal(predict, a: np.ndarray, req: np.ndarray, pat_k: np.ndarray, calls_k: np.ndarray,
                  value_k: np.ndarray, lost_k: np.ndarray, shrinkage: float, cost_int: float) -> np.ndarray:
    """Available agents (T,) maximising margin - lost value - agent cost, by a scan of n.

    The scan covers 0 .. max(required, load) + 3 sqrt(load) + 5, with a stride
    for large pools followed by a unit-step refinement around the best point.
    Without patience an unstable pool (n <= load) is excluded.
    """
    hi_n = np.maximum(req, np.ceil(a)).astype(int) + np.ceil(3 * np.sqrt(a)).astype(int) + 5
    stride = max(1, int(hi_n.max()) // 300)
    patient = bool(np.isfinite(pat_k).all())

    def profit(n_try: np.ndarray) -> np.ndarray:
        p = predict(n_try)
        prof = _profit_per_interval(p.abandon_rate, calls_k, value_k, lost_k, scheduled_agents(n_try, shrinkage),
                                    cost_int)
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


def _split_shares(scenario, avail_current: dict[str, np.ndarray]) -> dict[tuple[str, str], np.ndarray]:
    """Share (T,) of each segment's calls sent to each primary group (accepts_after_s == 0).

    A segment served by several primary groups is split in proportion to the
    groups' available agents in the scenario's own schedule in that interval
    (equal shares where none are scheduled).
    """
    t_n = scenario.n_intervals
    shares: dict[tuple[str, str], np.ndarray] = {}
    names = scenario.segment_names + ([ESCALATION] if scenario.escalation_groups() else [])
    for seg in names:
        groups = [g for g in scenario.agent_groups if seg in g.skills and g.accepts_after_s == 0]
        if not groups:  # only overflow groups: they take it all
            groups = [g for g in scenario.agent_groups if seg in g.skills]
        weights = np.vstack([avail_current[g.name].astype(float) for g in groups])
        tot = weights.sum(axis=0)
        weights = np.where(tot > 0, weights / np.where(tot > 0, tot, 1.0), 1.0 / len(groups))
        for g, w in zip(groups, weights):
            shares[(seg, g.name)] = w if w.shape == (t_n,) else np.full(t_n, float(w))
    return shares


def plan(scenario, max_occupancy: float | None = None) -> pd.DataFrame:
    """The staffing plan of a scenario: one row per interval x agent group.

    Columns:
      interval, time, group, calls, traffic_erlangs (offered to the group),
      required_agents (available agents needed for every segment's targets under the routing),
      scheduled_agents (= ceil(required / (1 - shrinkage))), current_scheduled (the scenario's),
      occupancy (at the required level), agent_hours, cost (scheduled x hours x cost_per_hour),
      cost_optimal_agents, cost_optimal_scheduled (profit-maximising level: margin of answered
      calls - lost value of abandoned calls (clv x churn_per_abandon) - agent cost),
      marginal_value (profit change per interval of one more available agent at the required level),
      and per segment S the group serves: ``calls:S``, ``traffic_erlangs:S``,
      ``service_level:S``, ``asa_s:S``, ``abandon_rate:S`` (predicted at the required level)
      and ``service_level_current:S`` (predicted at the scenario's own staffing).

    Method: segments served by one group are pooled in that group; a segment served
    by several primary groups is split in proportion to their available agents in the
    scenario's schedule; overflow groups (``accepts_after_s``) receive the calls the
    primary groups would leave waiting longer than that (at the required level);
    escalated calls (answered x escalation_probability, handle time escalation_aht_s)
    are a top-priority class of the ``escalation`` groups. Each pool is sized with
    :func:`planner.priority.predict_classes` (Erlang A when patience is given).
    """
    t_n = scenario.n_intervals
    interval_s = scenario.interval_s
    hours = interval_s / 3600.0
    labels = scenario.interval_labels()
    strict = scenario.routing.policy == "priority"
    sl_default = scenario.service_level

    avail_current = {g.name: scenario.available_per_interval(g) for g in scenario.agent_groups}
    shares = _split_shares(scenario, avail_current)

    # class parameters (segments, plus escalation)
    cls: dict[str, dict] = {}
    for s in scenario.segments:
        cls[s.name] = dict(
            calls=scenario.calls_per_interval(s), aht=s.aht_s,
            patience=np.inf if s.patience_s is None else s.patience_s,
            thr=scenario.answer_within_s(s), target=scenario.sl_target(s), prio=s.priority,
            max_asa=s.max_asa_s, max_ab=s.max_abandon_rate, value=s.value_per_call,
            lost=s.clv * s.churn_per_abandon,
        )
    esc_groups = scenario.escalation_groups()
    if esc_groups:
        esc_calls = np.zeros(t_n)
        esc_work = np.zeros(t_n)
        for s in scenario.segments:
            if s.escalation_probability > 0:
                c = scenario.calls_per_interval(s) * s.escalation_probability
                esc_calls += c
                esc_work += c * (s.escalation_aht_s or s.aht_s)
        cls[ESCALATION] = dict(
            calls=esc_calls, aht=float(esc_work.sum() / esc_calls.sum()) if esc_calls.sum() > 0 else 600.0,
            patience=np.inf, thr=sl_default.answer_within_s, target=sl_default.target, prio=0,
            max_asa=None, max_ab=None, value=0.0, lost=0.0,
        )

    # overflow: the share of calls that would wait longer than accepts_after_s at the primaries
    overflow_in: dict[tuple[str, str], np.ndarray] = {}
    rows: list[dict] = []
    ordered = sorted(scenario.agent_groups, key=lambda g: g.accepts_after_s > 0)  # primaries first
    results: dict[str, dict] = {}
    for g in ordered:
        seg_names = [k for k in cls if k in g.skills]
        if g.accepts_after_s > 0:
            calls_k = np.vstack([shares.get((k, g.name), np.zeros(t_n)) * cls[k]["calls"]
                                 + overflow_in.get((k, g.name), np.zeros(t_n)) for k in seg_names])
        else:
            calls_k = np.vstack([shares.get((k, g.name), np.zeros(t_n)) * cls[k]["calls"] for k in seg_names])
        aht_k = np.array([cls[k]["aht"] for k in seg_names])
        pat_k = np.array([cls[k]["patience"] for k in seg_names])
        thr_k = np.array([cls[k]["thr"] for k in seg_names])
        prio_k = np.array([cls[k]["prio"] for k in seg_names])
        traffic_k = calls_k * aht_k[:, None] / interval_s
        target_k = np.array([cls[k]["target"] for k in seg_names])[:, None]
        masa_k = np.array([np.nan if cls[k]["max_asa"] is None else cls[k]["max_asa"] for k in seg_names])[:, None]
        mab_k = np.array([np.nan if cls[k]["max_ab"] is None else cls[k]["max_ab"] for k in seg_names])[:, None]
        need_asa = bool(np.isfinite(masa_k).any())

        def predict(n: np.ndarray, traffic_k=traffic_k, aht_k=aht_k, pat_k=pat_k, thr_k=thr_k, prio_k=prio_k):
            return predict_classes(n, traffic_k, aht_k, pat_k, thr_k, prio_k, strict_priority=strict)

        def meets(n: np.ndarray, predict=predict, target_k=target_k, masa_k=masa_k, mab_k=mab_k,
                  traffic_k=traffic_k) -> np.ndarray:
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
        req = min_agents(meets, np.full(t_n, -1), a + 2 * np.sqrt(a) + 2, _CAP_FACTOR * a + _CAP_PLUS)
        req = np.where(a <= 0, 0, req)
        req_eval = np.maximum(req, 0)
        pred = predict(req_eval)
        pred_cur = predict(avail_current[g.name])
        sched = scheduled_agents(req_eval, g.shrinkage)

        # overflow to later groups: calls waiting longer than accepts_after_s at the required level
        if g.accepts_after_s == 0:
            for og in scenario.agent_groups:
                if og.accepts_after_s > 0:
                    p_over = predict_classes(req_eval, traffic_k, aht_k, pat_k,
                                             np.full(len(seg_names), og.accepts_after_s), prio_k,
                                             strict_priority=strict)
                    for i, k in enumerate(seg_names):
                        if k in og.skills:
                            frac = p_over.still_waiting[i]
                            overflow_in[(k, og.name)] = overflow_in.get((k, og.name), 0) + calls_k[i] * frac

        # cost-optimal level: scan n around the load
        cost_int = g.cost_per_hour * hours
        value_k = np.array([cls[k]["value"] for k in seg_names])[:, None]
        lost_k = np.array([cls[k]["lost"] for k in seg_names])[:, None]
        best_n = _cost_optimal(predict, a, req_eval, pat_k, calls_k, value_k, lost_k, g.shrinkage, cost_int)
        prof_req = _profit_per_interval(pred.abandon_rate, calls_k, value_k, lost_k, sched, cost_int)
        p_next = predict(req_eval + 1)
        prof_next = _profit_per_interval(p_next.abandon_rate, calls_k, value_k, lost_k,
                                         scheduled_agents(req_eval + 1, g.shrinkage), cost_int)
        results[g.name] = dict(
            seg_names=seg_names, calls_k=calls_k, traffic_k=traffic_k, req=req, sched=sched, pred=pred,
            pred_cur=pred_cur, best_n=best_n, marginal=prof_next - prof_req, cost_int=cost_int,
        )

    for g in scenario.agent_groups:
        r = results[g.name]
        cur = scenario.agents_per_interval(g)
        for i in range(t_n):
            row = {
                "interval": i, "time": labels[i], "group": g.name,
                "calls": float(r["calls_k"][:, i].sum()), "traffic_erlangs": float(r["traffic_k"][:, i].sum()),
                "required_agents": int(r["req"][i]), "scheduled_agents": int(r["sched"][i]),
                "current_scheduled": int(cur[i]), "occupancy": float(r["pred"].occupancy[i]),
                "agent_hours": float(r["sched"][i] * hours), "cost": float(r["sched"][i] * r["cost_int"]),
                "cost_optimal_agents": int(r["best_n"][i]),
                "cost_optimal_scheduled": int(scheduled_agents(r["best_n"][i], g.shrinkage)),
                "marginal_value": float(r["marginal"][i]),
            }
            for k_i, k in enumerate(r["seg_names"]):
                row[f"calls:{k}"] = float(r["calls_k"][k_i, i])
                row[f"traffic_erlangs:{k}"] = float(r["traffic_k"][k_i, i])
                row[f"service_level:{k}"] = float(r["pred"].service_level[k_i, i])
                row[f"asa_s:{k}"] = float(r["pred"].asa_s[k_i, i])
                row[f"abandon_rate:{k}"] = float(r["pred"].abandon_rate[k_i, i])
                row[f"service_level_current:{k}"] = float(r["pred_cur"].service_level[k_i, i])
            rows.append(row)
    return pd.DataFrame(rows)


def plan_by_segment(plan_df: pd.DataFrame) -> pd.DataFrame:
    """Long table per interval x segment from :func:`plan`: calls and call-weighted predictions across groups.

    Columns: interval, time, segment, calls, traffic_erlangs, service_level, asa_s,
    abandon_rate, service_level_current.
    """
    segs = sorted({c.split(":", 1)[1] for c in plan_df.columns if c.startswith("calls:")},
                  key=lambda s: list(plan_df.columns).index(f"calls:{s}"))
    out = []
    for s in segs:
        sub = plan_df[plan_df[f"calls:{s}"].notna()]
        w = sub[f"calls:{s}"]
        g = sub.assign(_w=w)
        for col in ("service_level", "asa_s", "abandon_rate", "service_level_current"):
            g[f"_{col}"] = g[f"{col}:{s}"].fillna(0.0) * w
        agg = g.groupby(["interval", "time"], sort=True).agg(
            calls=("_w", "sum"), traffic_erlangs=(f"traffic_erlangs:{s}", "sum"),
            **{f"_{c}": (f"_{c}", "sum") for c in ("service_level", "asa_s", "abandon_rate", "service_level_current")},
        ).reset_index()
        tot = agg["calls"].where(agg["calls"] > 0)
        for col in ("service_level", "asa_s", "abandon_rate", "service_level_current"):
            agg[col] = (agg.pop(f"_{col}") / tot).fillna(1.0 if "service_level" in col else 0.0)
        agg.insert(2, "segment", s)
        out.append(agg)
    return pd.concat(out, ignore_index=True)


def daily_summary(plan_df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per group, per segment) daily totals from :func:`plan`.

    Groups: group, agent_hours, cost, current_agent_hours, peak_required, peak_scheduled.
    Segments: segment, calls, service_level, asa_s, abandon_rate, service_level_current
    (call-weighted over the day).
    """
    hours_per_row = (plan_df["agent_hours"] / plan_df["scheduled_agents"].replace(0, np.nan)).dropna()
    h = float(hours_per_row.iloc[0]) if len(hours_per_row) else 0.0
    groups = plan_df.groupby("group", sort=False).agg(
        agent_hours=("agent_hours", "sum"), cost=("cost", "sum"),
        current_agent_hours=("current_scheduled", lambda s: float(s.sum() * h)),
        peak_required=("required_agents", "max"), peak_scheduled=("scheduled_agents", "max"),
    ).reset_index()
    seg = plan_by_segment(plan_df)
    rows = []
    for s, sub in seg.groupby("segment", sort=False):
        w = sub["calls"]
        tot = w.sum()
        rows.append({
            "segment": s, "calls": float(tot),
            **{c: float((sub[c] * w).sum() / tot) if tot > 0 else float("nan")
               for c in ("service_level", "asa_s", "abandon_rate", "service_level_current")},
        })
    return groups, pd.DataFrame(rows)


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
