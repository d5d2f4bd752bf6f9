"""Waiting time per priority class in a pool of agents.

Vectorised over intervals: per-class arrays have shape (K classes, T intervals),
per-pool arrays shape (T,). Times in seconds, loads in Erlangs.

Method
------
* **Mean wait per class, no abandonment** — Cobham's formula for the M/M/c queue
  with non-preemptive priority classes (Cobham 1954; e.g. Gross & Harris,
  *Fundamentals of Queueing Theory*, sec. 3.4):

      W_k = C(c, a) / (c mu (1 - s_{k-1}) (1 - s_k)),   s_k = sum_{i <= k} a_i / c

  exact when all classes share one service rate. With unequal handle times we
  use the same formula with the pool's mean handle time 1/mu = a / lambda (the
  load-weighted mean): an approximation, checked by the simulator. Classes with
  the same priority number form one level and are served FIFO among themselves.
* **With abandonment** (some class has a patience) the pool's probability of
  waiting is Erlang A's with the load-weighted mean abandonment rate (every class
  sees the same P(wait) in a non-preemptive pool). A waiting call's offered wait is
  taken as exponential with Cobham's conditional mean computed on the
  *effective* load of its level and the levels above (offered load less the
  calls that abandon), solved self-consistently with the level's abandonment
  P(W>0) theta m / (1 + theta m). Service level and ASA per class then follow in
  closed form with the class's own patience. This stays sensible in overload
  (the lowest levels absorb the abandonment). A FIFO pool whose classes share one
  patience and handle time gets the exact Erlang A (or C) measures instead.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from planner.erlang import erlang_a, erlang_c


def _levels(priorities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct priority levels and, per class, its level index."""
    levels = np.unique(priorities)
    return levels, np.searchsorted(levels, priorities)


def cobham_factors(traffic_per_class: ArrayLike, agents: ArrayLike, priorities: ArrayLike) -> np.ndarray:
    """1 / ((1 - s_{k-1})(1 - s_k)) per class (K, T): the factor by which class k's mean wait
    exceeds C / (c mu). ``inf`` where the cumulative load reaches the agents."""
    a_k = np.atleast_2d(np.asarray(traffic_per_class, float))
    c = np.broadcast_to(np.asarray(agents, float), a_k.shape[1:])
    prio = np.asarray(priorities)
    levels, idx = _levels(prio)
    level_load = np.zeros((len(levels), a_k.shape[1]))
    np.add.at(level_load, idx, a_k)
    with np.errstate(divide="ignore", invalid="ignore"):
        cum = np.cumsum(level_load, axis=0) / np.where(c > 0, c, np.nan)
    before = np.vstack([np.zeros((1, a_k.shape[1])), cum[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        f = 1.0 / ((1.0 - before) * (1.0 - cum))
    f = np.where((cum < 1.0) & np.isfinite(f), f, np.inf)
    return f[idx]


def priority_waits_s(agents: ArrayLike, traffic_per_class: ArrayLike, aht_per_class_s: ArrayLike,
                     priorities: ArrayLike) -> np.ndarray:
    """Mean wait in seconds per class (K, T) in M/M/c with non-preemptive priorities (Cobham).

    ``traffic_per_class`` (K, T) in Erlangs, ``aht_per_class_s`` (K,), ``priorities`` (K,)
    (1 is served first). Exact for equal handle times; ``inf`` where a class is unstable.
    """
    a_k = np.atleast_2d(np.asarray(traffic_per_class, float))
    aht = np.asarray(aht_per_class_s, float).reshape(-1, 1)
    c = np.broadcast_to(np.asarray(agents, float), a_k.shape[1:])
    a = a_k.sum(axis=0)
    lam = (a_k / aht).sum(axis=0)
    mean_aht = np.divide(a, lam, out=np.ones_like(a), where=lam > 0)
    pw = np.asarray(erlang_c(c, a), float)
    base = np.divide(pw * mean_aht, c, out=np.full_like(a, np.inf), where=c > 0)
    f = cobham_factors(a_k, c, priorities)
    return np.where(np.isfinite(f), base * f, np.inf)


def _conditional_waits(c: np.ndarray, a_k: np.ndarray, lam_k: np.ndarray, theta_k: np.ndarray,
                       prio: np.ndarray, pw: np.ndarray, mean_aht: np.ndarray) -> np.ndarray:
    """Mean conditional offered wait m_k (K, T) of a class, given that it waits.

    Level by level in priority order: m = (AHT/c) / ((1 - s_prev)(1 - s_prev - a_level (1 - ab)/c)),
    Cobham's conditional wait on the *effective* (non-abandoning) load, where the level's
    abandonment ab = P(W>0) theta m / (1 + theta m) is solved self-consistently by bisection
    (ab is the unique root of an increasing function on [0, P(W>0)]). Without patience
    this is Cobham's formula exactly; a level whose load cannot be carried gets ``inf``.
    """
    k_n, t_n = a_k.shape
    levels, idx = _levels(prio)
    base = np.divide(mean_aht, c, out=np.full(t_n, np.inf), where=c > 0)
    cc = np.where(c > 0, c, np.nan)
    s_prev = np.zeros(t_n)
    mk = np.full((k_n, t_n), np.inf)
    for lv in range(len(levels)):
        members = idx == lv
        a_l = a_k[members].sum(axis=0)
        lam_l = lam_k[members].sum(axis=0)
        th_l = np.divide((lam_k[members] * theta_k[members]).sum(axis=0), lam_l, out=np.zeros(t_n),
                         where=lam_l > 0)

        def m_of(ab: np.ndarray) -> np.ndarray:
            s_cur = s_prev + a_l * (1.0 - ab) / cc
            with np.errstate(divide="ignore", invalid="ignore"):
                m = base / ((1.0 - s_prev) * (1.0 - s_cur))
            return np.where((s_cur < 1.0) & (s_prev < 1.0), m, np.inf)

        lo = np.zeros(t_n)
        hi = pw.copy()
        patient = th_l > 0
        for _ in range(60 if patient.any() else 0):
            mid = 0.5 * (lo + hi)
            m = m_of(mid)
            with np.errstate(invalid="ignore"):
                f = np.where(np.isinf(m), pw, pw * th_l * m / (1.0 + th_l * m))
            up = mid < f  # root lies above mid
            lo = np.where(up, mid, lo)
            hi = np.where(up, hi, mid)
        ab_l = np.where(patient, 0.5 * (lo + hi), 0.0)
        m_l = m_of(ab_l)
        mk[members] = m_l
        s_prev = s_prev + a_l * (1.0 - ab_l) / cc
    return mk


class ClassPrediction(NamedTuple):
    """Predicted measures per class (K, T) and for the pool (T,)."""

    service_level: np.ndarray  # share answered within the class's threshold (abandoned = miss)
    asa_s: np.ndarray  # mean wait of answered calls, s
    abandon_rate: np.ndarray  # abandoned / offered
    p_wait: np.ndarray  # probability of waiting (pool, same for all classes)
    occupancy: np.ndarray  # (T,) share of available agent time busy
    still_waiting: np.ndarray  # share of calls neither answered nor abandoned by the class threshold


def predict_classes(
    agents: ArrayLike,
    traffic_per_class: ArrayLike,
    aht_per_class_s: ArrayLike,
    patience_per_class_s: ArrayLike,
    answer_within_per_class_s: ArrayLike,
    priorities: ArrayLike,
    strict_priority: bool = True,
) -> ClassPrediction:
    """Predict per-class SL, ASA and abandonment in one pool of ``agents`` (T,) available agents.

    ``patience_per_class_s`` uses ``inf`` for callers who never abandon. With
    ``strict_priority=False`` (fifo or aging routing) all classes share the pool's wait.
    """
    a_k = np.atleast_2d(np.asarray(traffic_per_class, float))
    k_n, t_n = a_k.shape
    aht = np.asarray(aht_per_class_s, float).reshape(-1, 1)
    pat = np.asarray(patience_per_class_s, float).reshape(-1, 1)
    thr = np.asarray(answer_within_per_class_s, float).reshape(-1, 1)
    prio = np.asarray(priorities)
    c = np.broadcast_to(np.asarray(agents, float), (t_n,)).astype(float)
    a = a_k.sum(axis=0)
    lam_k = a_k / aht
    lam = lam_k.sum(axis=0)
    mean_aht = np.divide(a, lam, out=np.ones_like(a), where=lam > 0)
    theta_k = np.where(np.isfinite(pat), 1.0 / pat, 0.0) * np.ones((1, t_n))
    theta = np.divide((lam_k * theta_k).sum(axis=0), lam, out=np.zeros_like(a), where=lam > 0)
    one_level = len(np.unique(prio)) == 1 or not strict_priority
    same_patience = bool(np.all(pat == pat[0]))
    same_aht = bool(np.all(aht == aht[0]))
    empty = a <= 0

    if one_level and same_patience and same_aht:
        # exact pooled measures for every class
        pool_pat = pat[0, 0]
        if np.isinf(pool_pat):
            from planner.erlang import asa_s, service_level

            pw = np.asarray(erlang_c(c, a), float)
            sl = np.vstack([service_level(c, a, mean_aht, thr[k, 0]) for k in range(k_n)])
            asa = np.broadcast_to(np.asarray(asa_s(c, a, mean_aht), float), (k_n, t_n)).copy()
            ab = np.zeros((k_n, t_n))
            occ = np.minimum(np.divide(a, c, out=np.ones_like(a), where=c > 0), 1.0)
            still = 1.0 - sl
        else:
            res = [erlang_a(c, a, mean_aht, pool_pat, thr[k, 0], with_asa=(k == 0)) for k in range(k_n)]
            pw = np.asarray(res[0].p_wait, float)
            sl = np.vstack([np.asarray(r.service_level, float) for r in res])
            asa = np.broadcast_to(np.asarray(res[0].asa_s, float), (k_n, t_n)).copy()
            ab = np.broadcast_to(np.asarray(res[0].p_abandon, float), (k_n, t_n)).copy()
            occ = np.asarray(res[0].occupancy, float)
            # P(V > t, patience > t) with V | wait ~ Exp(1/m), m matching P(ab | wait)
            q = np.divide(ab[0], pw, out=np.zeros_like(pw), where=pw > 0)
            with np.errstate(divide="ignore", invalid="ignore"):
                rate = np.where(q > 0, (1.0 - q) / (q * pool_pat), np.inf)
                still = pw * np.exp(-(rate + 1.0 / pool_pat) * thr)
        sl[:, empty] = 1.0
        asa[:, empty] = 0.0
        ab[:, empty] = 0.0
        still = np.where(empty, 0.0, np.nan_to_num(still))
        return ClassPrediction(sl, asa, ab, np.broadcast_to(pw, (k_n, t_n)).copy(), occ, still)

    # P(wait) of the pool: exact in a non-preemptive pool (all agents busy), Erlang A or C
    if np.all(theta == 0):
        pw = np.asarray(erlang_c(c, a), float)
    else:
        pool_pat = np.divide(1.0, theta, out=np.full_like(theta, np.inf), where=theta > 0)
        pw = np.asarray(erlang_a(c, a, mean_aht, pool_pat, 0.0, with_asa=False).p_wait, float)
    mk = _conditional_waits(c, a_k, lam_k, theta_k, prio if strict_priority else np.zeros_like(prio), pw,
                            mean_aht)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        rate = np.where(mk > 0, 1.0 / mk, np.inf)  # 1 / m_k
        p_ab_w = np.where(np.isinf(rate), 0.0, theta_k / (rate + theta_k))  # P(ab | wait)
        p_ab_w = np.where(np.isinf(mk), np.where(theta_k > 0, 1.0, 0.0), p_ab_w)
        ab = pw * p_ab_w
        tot = rate + theta_k
        ans_w = np.where(np.isinf(rate), 1.0, rate / tot)  # P(answered | wait)
        within = np.where(np.isinf(rate), 1.0, ans_w * (-np.expm1(-tot * thr)))
        within = np.where(np.isinf(mk), 0.0, within)
        sl = (1.0 - pw) + pw * within
        still = pw * np.where(np.isinf(rate), 0.0, np.exp(-tot * thr))
        still = np.where(np.isinf(mk), pw, still)
        # E[V e^{-theta V} | wait] for V ~ Exp(rate): rate / (rate + theta)^2
        w_ans = pw * np.where(np.isinf(rate), 0.0, rate / tot**2)
        w_ans = np.where(np.isinf(mk) & (theta_k == 0), np.inf, w_ans)
        asa = np.divide(w_ans, 1.0 - ab, out=np.full_like(ab, np.nan), where=(1.0 - ab) > 0)
    throughput_load = (a_k * (1.0 - ab)).sum(axis=0)
    occ = np.minimum(np.divide(throughput_load, c, out=np.ones_like(a), where=c > 0), 1.0)
    sl[:, empty] = 1.0
    asa[:, empty] = 0.0
    ab[:, empty] = 0.0
    still[:, empty] = 0.0
    return ClassPrediction(np.clip(sl, 0, 1), asa, np.clip(ab, 0, 1), np.broadcast_to(pw, (k_n, t_n)).copy(), occ,
                           np.clip(still, 0, 1))
