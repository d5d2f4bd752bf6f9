"""Call log -> metrics per segment, interval, group and day (pandas). Times in seconds.

One replication at a time (workers call this so that only summaries travel back);
:func:`summarise` then gives mean and 95% confidence interval across replications.
"""

from __future__ import annotations

import functools
import math
from statistics import NormalDist

import numpy as np
import pandas as pd

from ccplan.scenario import Scenario, service_level_ratio


def log_frame(log: dict[str, np.ndarray], scenario: Scenario, replication: int) -> pd.DataFrame:
    """The call log as a DataFrame with segment and group names (one row per call attempt)."""
    df = pd.DataFrame(log)
    seg_names = np.array(scenario.segment_names, dtype=object)
    grp_names = np.array(scenario.group_names + [""], dtype=object)
    df["segment"] = pd.Categorical(seg_names[df["segment"].to_numpy()], categories=scenario.segment_names)
    df["group"] = grp_names[np.where(df["group"] >= 0, df["group"], len(grp_names) - 1)]
    df["escalation_group"] = grp_names[np.where(df["escalation_group"] >= 0, df["escalation_group"],
                                                len(grp_names) - 1)]
    df["interval"] = np.minimum((df["arrival_s"] // scenario.interval_s).astype(int), scenario.n_intervals - 1)
    df.insert(0, "replication", replication)
    return df


def _overlap_by_interval(start: np.ndarray, end: np.ndarray, key: np.ndarray, n_keys: int, interval_s: float,
                         n_intervals: int) -> np.ndarray:
    """Sum over items of the time [start, end) falls in each interval, per key: (n_keys, n_intervals + 1) seconds.

    The last column collects time after closing.
    """
    width = n_intervals + 1
    flat = np.zeros(n_keys * width)
    for c0 in range(0, len(start), _CHUNK):  # in chunks: the temporaries stay small on a day of millions of calls
        s_, e_, k_ = start[c0:c0 + _CHUNK], end[c0:c0 + _CHUNK], key[c0:c0 + _CHUNK]
        ok = np.isfinite(s_) & np.isfinite(e_) & (e_ > s_)
        if not ok.any():
            continue
        s_, e_, k_ = s_[ok], e_[ok], k_[ok].astype(np.int64)
        i0 = np.floor(s_ / interval_s).astype(np.int64)
        i1 = np.floor(e_ / interval_s).astype(np.int64)
        for k in range(int((i1 - i0).max()) + 1):
            i = i0 + k
            live = i <= i1
            lo = np.maximum(s_[live], i[live] * interval_s)
            hi = np.minimum(e_[live], (i[live] + 1) * interval_s)
            flat += np.bincount(k_[live] * width + np.minimum(i[live], n_intervals), weights=np.maximum(hi - lo, 0.0),
                                minlength=n_keys * width)
    return flat.reshape(n_keys, width)


Columns = dict[str, np.ndarray]


def _t_two_sided(t: float, df: int) -> float:
    """P(|T| <= t) for Student's t with integer ``df`` >= 1, from the exact finite series (Abramowitz &
    Stegun 26.7.3 and 26.7.4) in theta = atan(t / sqrt(df))."""
    theta = math.atan(t / math.sqrt(df))
    c, s = math.cos(theta) ** 2, math.sin(theta)
    if df % 2:  # odd: 2/pi (theta + sin cos (1 + 2/3 c + 2*4/(3*5) c^2 + ...)), (df - 1) / 2 terms in the sum
        k = np.arange(1, (df - 1) // 2)
        terms = np.cumprod(2.0 * k / (2.0 * k + 1.0) * c)
        total = 1.0 + float(terms.sum()) if df > 1 else 0.0
        return 2.0 / math.pi * (theta + s * math.cos(theta) * total)
    k = np.arange(1, df // 2)  # even: sin (1 + 1/2 c + 1*3/(2*4) c^2 + ...), df / 2 terms
    terms = np.cumprod((2.0 * k - 1.0) / (2.0 * k) * c)
    return s * (1.0 + float(terms.sum()))


def t_quantile(p: float, df):
    """Student's t quantile: the t with P(T <= t) = ``p`` for ``df`` degrees of freedom.

    An integer ``df`` (replications - 1: every confidence interval of a simulation summary) is solved here,
    by Newton's method on the exact finite series of the t distribution, within 1e-11 (relative) of scipy's
    value (a test checks df 1 to 10,000). Importing scipy.special costs 0.13-0.2 CPU-s (its array-API layer walks numpy),
    a tenth of a 120-replication study, for one number per summary. A non-integer ``df`` (Welch's test)
    uses scipy.special.stdtrit."""
    if np.ndim(df) or np.ndim(p) or float(df) != int(df) or not 0.0 < float(p) < 1.0 or int(df) < 1:
        from scipy.special import stdtrit

        return stdtrit(df, p)
    return _t_quantile_int(float(p), int(df))


@functools.lru_cache(maxsize=256)
def _t_quantile_int(p: float, nu: int) -> float:
    if p < 0.5:
        return -_t_quantile_int(1.0 - p, nu)
    if p == 0.5:
        return 0.0
    if nu == 1:
        return math.tan(math.pi * (p - 0.5))
    if nu == 2:
        return (2.0 * p - 1.0) / math.sqrt(2.0 * p * (1.0 - p))
    target = 2.0 * p - 1.0
    z = NormalDist().inv_cdf(p)  # Cornish-Fisher start, then Newton (the distribution is concave for t > 0)
    t = z + (z ** 3 + z) / (4 * nu) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * nu ** 2)
    log_c = math.lgamma((nu + 1) / 2) - math.lgamma(nu / 2) - 0.5 * math.log(nu * math.pi)
    for _ in range(60):
        density = math.exp(log_c - (nu + 1) / 2 * math.log1p(t * t / nu))
        step = (_t_two_sided(t, nu) - target) / (2.0 * density)
        t -= step
        if abs(step) <= 1e-15 * abs(t):
            break
    return t


_CHUNK = 1 << 18  # calls per chunk in the grouped reductions


def replication_metrics(log: dict[str, np.ndarray], scenario: Scenario, overtime_s: dict[str, float],
                        replication: int, finishing_s: dict[str, float] | None = None) -> dict[str, pd.DataFrame]:
    """Metrics of one replication as DataFrames (see :func:`replication_columns`)."""
    return {name: pd.DataFrame(cols) for name, cols in
            replication_columns(log, scenario, overtime_s, replication, finishing_s).items()}


def frames(per_replication: list[dict[str, Columns]]) -> dict[str, pd.DataFrame]:
    """The tables of many replications (:func:`replication_columns`, in order), each built once as a DataFrame."""
    first = per_replication[0]
    return {name: pd.DataFrame({col: np.concatenate([r[name][col] for r in per_replication]) for col in first[name]})
            for name in first}


def replication_columns(log: dict[str, np.ndarray], scenario: Scenario, overtime_s: dict[str, float],
                        replication: int, finishing_s: dict[str, float] | None = None) -> dict[str, Columns]:
    """Metrics of one replication, as numpy columns (no pandas: workers send these back, and the tables of all
    replications are built once, by :func:`frames`).

    Tables ``segments`` (one row per segment), ``intervals`` (interval x segment), ``groups`` (one row per
    group), ``group_intervals`` (interval x group), ``segment_groups`` (agent seconds each segment consumed in
    each group) and ``day`` (one row).

    Every ratio (``service_level``, ``abandon_rate``, ``asa_s``) comes with the counts it is made of
    (:data:`RATIOS`): ``sl_num`` and ``sl_den`` (calls, under each segment's service-level definition),
    ``abandoned`` and ``offered`` (calls), ``wait_answered_s_total`` (seconds, summed over answered calls) and
    ``answered`` (calls), so that :func:`summarise` can pool them over replications. ``segments`` also has
    ``meets_target``: 1.0 when that day's service level meets the segment's target (a day without counted
    calls does), else 0.0; ``capped_abandon`` and ``capped_overflow`` count the attempts of the segment whose
    wait a queue cap (``max_queue_s``) ended, by outcome (a capped abandonment is also in ``abandoned``; a call
    moved by ``overflow:SEGMENT`` stays counted in its own segment, answered or abandoned there; ``capped_callback``:
    offered a callback at the cap). Callbacks: ``callbacks_offered``, ``callbacks_accepted`` (those callers left
    the queue: offered = answered + abandoned + blocked + disconnected + callbacks_accepted + waiting_at_end),
    ``callbacks_made`` (the customer reached and served), of which ``callbacks_within_window`` (the call back
    ended within ``window_s`` of the acceptance) and ``callbacks_late``, ``callbacks_expired`` (no answer after
    every attempt, or not made by a closing with ``at_close = "disconnect"``) and ``callbacks_pending``
    (accepted = made + expired + pending); ``callback_service_level`` = within the window / accepted, and
    ``callback_resolution_s``, the mean time from the caller's arrival to the end of the call back, are the day's
    own ratios (their counts, with ``callback_resolution_s_total``, are in the table for pooling).
    """
    seg = log["segment"].astype(np.int32)
    n_seg = len(scenario.segments)
    n_int = scenario.n_intervals
    isec = scenario.interval_s
    thr = np.array([scenario.answer_within_s(s) for s in scenario.segments])
    answered = log["answered"]
    abandoned = log["abandoned"]
    blocked = log.get("blocked", np.zeros(len(seg), bool))
    disconnected = log.get("disconnected", np.zeros(len(seg), bool))
    callback = log.get("callback", np.zeros(len(seg), bool))
    still_waiting = ~answered & ~abandoned & ~blocked & ~disconnected & ~callback
    wait = log["wait_s"]
    sl_wait = _caller_wait(log) if scenario.service_level.wait_counted == "caller" else wait
    within = answered & (sl_wait <= thr[seg] + 1e-9)
    short_ab = abandoned & (sl_wait <= thr[seg] + 1e-9)  # abandoned within the threshold ("short abandons")
    defs = [scenario.sl_definition(s) for s in scenario.segments]
    targets = [scenario.sl_target(s) for s in scenario.segments]
    interval = np.minimum((log["arrival_s"] // isec).astype(np.int32), n_int - 1)
    # callers whose final attempt abandoned (no later success on retry)
    caller = log["caller"]
    last_attempt = np.ones(len(caller), bool)
    if len(caller) and log["retry"].any():
        # an attempt is made after the one it retries (a later row, a later arrival): a caller's last attempt is
        # its highest row
        last_row = np.full(int(caller.max()) + 1, -1, np.int64)
        np.maximum.at(last_row, caller, np.arange(len(caller)))
        last_attempt = last_row[caller] == np.arange(len(caller))
    lost = (abandoned | blocked | disconnected) & last_attempt  # callers who never got through
    esc = log["escalated"]
    any_esc = bool(esc.any())
    esc_handle = np.where(np.isfinite(log["escalation_end_s"]), log["escalation_end_s"] - log["escalation_answer_s"],
                          0.0) if any_esc else None
    handle_done = np.where(answered, log["end_s"] - log["answer_s"], 0.0)
    # queue caps (max_queue_s): attempts a cap ended, by outcome (a column only when a segment has a cap)
    cap = log.get("queue_cap")
    capped = cap is not None and bool(cap.any())
    cap_ab = (cap == 1) if capped else None
    cap_ov = (cap == 2) if capped else None
    cap_cb = (cap == 3) if capped else None
    # callbacks (segments with [segments.callback]): offers, acceptances and the calls made back
    cb_state = log.get("callback_state")
    has_cb = cb_state is not None and bool(np.isfinite(log["callback_offer_s"]).any())
    if has_cb:
        cb_offered = np.isfinite(log["callback_offer_s"])
        cb_accepted = log["callback"]
        cb_done = cb_state == 2
        due = log["callback_accept_s"] + np.array([s.callback.window_s if s.callback else np.inf
                                                   for s in scenario.segments])[seg]
        cb_within = cb_done & (log["callback_end_s"] <= due + 1e-9)
        cb_resolution = np.where(cb_done, log["callback_end_s"] - log["arrival_s"], 0.0)

    rows = []
    day_num = day_den = 0.0
    for i, s in enumerate(scenario.segments):
        m = seg == i
        w = wait[m & np.isfinite(wait)]
        wa = wait[m & answered]
        offered = int(m.sum())
        n_within, n_ans, n_short = int((m & within).sum()), int((m & answered).sum()), int((m & short_ab).sum())
        num, den = service_level_ratio(defs[i], n_within, offered, n_ans, n_short)
        day_num += num
        day_den += den
        rows.append({
            "replication": replication, "segment": s.name, "offered": offered,
            "offered_first": int((m & ~log["retry"]).sum()), "offered_retry": int((m & log["retry"]).sum()),
            "answered": int((m & answered).sum()), "abandoned": int((m & abandoned).sum()),
            "blocked": int((m & blocked).sum()), "disconnected": int((m & disconnected).sum()),
            "waiting_at_end": int((m & still_waiting).sum()),
            "answered_within": n_within, "abandoned_within": n_short,
            "sl_num": float(num), "sl_den": float(den),
            "service_level": float(num / den) if den > 0 else np.nan,
            # a day without counted calls meets its target (as the verifier counts it)
            "meets_target": float(den <= 0 or num / den >= targets[i] - _TARGET_EPS),
            "wait_answered_s_total": float(wa.sum()),
            "asa_s": float(wa.mean()) if len(wa) else np.nan,
            "mean_wait_s": float(w.mean()) if len(w) else np.nan,
            "wait_p50_s": float(np.percentile(w, 50)) if len(w) else np.nan,
            "wait_p90_s": float(np.percentile(w, 90)) if len(w) else np.nan,
            "wait_p99_s": float(np.percentile(w, 99)) if len(w) else np.nan,
            "abandon_rate": float((m & abandoned).sum() / offered) if offered else np.nan,
            "lost_callers": int((m & lost).sum()),
            "capped_abandon": int((m & cap_ab).sum()) if capped else 0,
            "capped_overflow": int((m & cap_ov).sum()) if capped else 0,
            "capped_callback": int((m & cap_cb).sum()) if capped else 0,
            "callbacks_offered": int((m & cb_offered).sum()) if has_cb else 0,
            "callbacks_accepted": int((m & cb_accepted).sum()) if has_cb else 0,
            "callbacks_made": int((m & cb_done).sum()) if has_cb else 0,
            "callbacks_within_window": int((m & cb_within).sum()) if has_cb else 0,
            "callbacks_late": int((m & cb_done & ~cb_within).sum()) if has_cb else 0,
            "callbacks_expired": int((m & (cb_state == 3)).sum()) if has_cb else 0,
            "callbacks_pending": int((m & (cb_state == 1)).sum()) if has_cb else 0,
            "callback_service_level": float((m & cb_within).sum() / (m & cb_accepted).sum())
            if has_cb and (m & cb_accepted).any() else np.nan,
            "callback_resolution_s_total": float(cb_resolution[m].sum()) if has_cb else 0.0,
            "callback_handle_s_total": float(np.where(m & cb_done, log["callback_end_s"] - log["callback_answer_s"],
                                                      0.0).sum()) if has_cb else 0.0,
            "callback_resolution_s": float(cb_resolution[m & cb_done].mean())
            if has_cb and (m & cb_done).any() else np.nan,
            "escalated": int((m & esc).sum()),
            "wait_s_total": float(np.nansum(wait[m])),
            "handle_s_total": float(handle_done[m].sum()),
            "escalation_handle_s_total": float(esc_handle[m].sum()) if any_esc else 0.0,
            "escalation_wait_s_total": float(np.nansum(log["escalation_wait_s"][m])) if any_esc else 0.0,
        })
    segments = _columns(rows)

    # interval x segment, by arrival interval; queue length is time-weighted within each clock interval
    key = seg.astype(np.int64) * n_int + interval
    del interval
    size = n_seg * n_int
    offered_i = np.bincount(key, minlength=size)
    ans_i = np.bincount(key, weights=answered, minlength=size)
    ab_i = np.bincount(key, weights=abandoned, minlength=size)
    within_i = np.bincount(key, weights=within, minlength=size)
    short_i = np.bincount(key, weights=short_ab, minlength=size)
    blocked_i = np.bincount(key, weights=blocked, minlength=size)
    sl_num_i, sl_den_i = _by_definition(defs, n_int, within_i, offered_i, ans_i, short_i)
    wait_ans_i = np.bincount(key, weights=np.where(answered, wait, 0.0), minlength=size)
    del key
    wait_end = log["arrival_s"] + np.nan_to_num(wait, nan=0.0)
    queue_time = _overlap_by_interval(log["arrival_s"], wait_end, seg, n_seg, isec, n_int)[:, :n_int] / isec
    del wait_end
    with np.errstate(invalid="ignore", divide="ignore"):
        intervals = {
            "replication": np.full(size, replication),
            "interval": np.tile(np.arange(n_int), n_seg),
            "time": np.tile(np.array(scenario.interval_labels(), dtype=object), n_seg),
            "segment": np.repeat(np.array(scenario.segment_names, dtype=object), n_int),
            "offered": offered_i, "answered": ans_i.astype(int), "abandoned": ab_i.astype(int),
            "blocked": blocked_i.astype(int),
            "answered_within": within_i.astype(int), "abandoned_within": short_i.astype(int),
            "sl_num": sl_num_i, "sl_den": sl_den_i,
            "service_level": sl_num_i / sl_den_i,
            "wait_answered_s_total": wait_ans_i,
            "asa_s": wait_ans_i / ans_i,
            "abandon_rate": ab_i / offered_i,
            "queue_length": queue_time.ravel(),
        }

    # groups: busy time (both legs) against available time (schedule + overtime)
    n_grp = len(scenario.agent_groups)
    g0 = log["group"].astype(np.int32)
    g1 = log["escalation_group"].astype(np.int32)
    busy = _overlap_by_interval(log["answer_s"], log["end_s"], np.maximum(g0, 0), n_grp, isec, n_int)
    if any_esc:
        busy += _overlap_by_interval(log["escalation_answer_s"], log["escalation_end_s"], np.maximum(g1, 0), n_grp,
                                     isec, n_int)
    g2 = log["callback_group"].astype(np.int32) if has_cb else None
    if has_cb:  # the calls made back
        busy += _overlap_by_interval(log["callback_answer_s"], log["callback_end_s"], np.maximum(g2, 0), n_grp,
                                     isec, n_int)
    g_rows, gi_rows = [], []
    for gi, g in enumerate(scenario.agent_groups):
        avail = scenario.available_per_interval(g)
        avail_s = avail * isec
        ot = float(overtime_s.get(g.name, 0.0))
        fin = float((finishing_s or {}).get(g.name, 0.0))
        busy_total = float(busy[gi].sum())
        denom = float(avail_s.sum()) + ot + fin
        sched_s = float(scenario.agents_per_interval(g).sum() * isec)
        g_rows.append({
            "replication": replication, "group": g.name,
            "handled": int(((g0 == gi) & answered).sum() + (g1 == gi).sum()
                           + (((g2 == gi) & (cb_state == 2)).sum() if has_cb else 0)),
            "busy_s": busy_total, "available_s": float(avail_s.sum()), "scheduled_s": sched_s,
            "overtime_s": ot, "finishing_s": fin,
            "occupancy": busy_total / denom if denom > 0 else np.nan,
        })
        with np.errstate(invalid="ignore", divide="ignore"):
            occ_i = np.where(avail_s > 0, busy[gi, :n_int] / avail_s, np.nan)
        gi_rows.append({
            "replication": np.full(n_int, replication), "interval": np.arange(n_int),
            "time": np.array(scenario.interval_labels(), dtype=object),
            "group": np.full(n_int, g.name, dtype=object), "available_agents": avail,
            "busy_agents": busy[gi, :n_int] / isec, "occupancy": np.minimum(occ_i, 1.0),
        })
    groups = _columns(g_rows)
    group_intervals = {c: np.concatenate([r[c] for r in gi_rows]) for c in gi_rows[0]}

    # agent time each segment consumed in each group (first leg and escalation leg), seconds
    took = answered & (g0 >= 0)
    # float always: numpy's bincount of an empty selection is int64 even with weights (no call answered on a
    # first leg), and adding callbacks' seconds to it would fail
    sg = np.bincount(seg[took].astype(np.int64) * n_grp + g0[took], weights=handle_done[took],
                     minlength=n_seg * n_grp).reshape(n_seg, n_grp).astype(float)
    if any_esc:
        e_ok = g1 >= 0
        sg += np.bincount(seg[e_ok].astype(np.int64) * n_grp + g1[e_ok], weights=esc_handle[e_ok],
                          minlength=n_seg * n_grp).reshape(n_seg, n_grp)
    if has_cb:
        c_ok = (g2 >= 0) & (cb_state == 2)
        sg += np.bincount(seg[c_ok].astype(np.int64) * n_grp + g2[c_ok],
                          weights=(log["callback_end_s"] - log["callback_answer_s"])[c_ok],
                          minlength=n_seg * n_grp).reshape(n_seg, n_grp)
    segment_groups = {
        "replication": np.full(n_seg * n_grp, replication),
        "segment": np.repeat(np.array(scenario.segment_names, dtype=object), n_grp),
        "group": np.tile(np.array(scenario.group_names, dtype=object), n_seg),
        "busy_s": sg.ravel(),
    }

    offered_all = len(seg)
    day = _columns([{
        "replication": replication, "offered": offered_all, "answered": int(answered.sum()),
        "abandoned": int(abandoned.sum()), "blocked": int(blocked.sum()), "disconnected": int(disconnected.sum()),
        "waiting_at_end": int(still_waiting.sum()),
        "sl_num": float(day_num), "sl_den": float(day_den),
        "service_level": float(day_num / day_den) if day_den > 0 else np.nan,
        "wait_answered_s_total": float(wait[answered].sum()),
        "asa_s": float(wait[answered].mean()) if answered.any() else np.nan,
        "abandon_rate": float(abandoned.sum() / offered_all) if offered_all else np.nan,
        "wait_p90_s": float(np.percentile(wait[np.isfinite(wait)], 90)) if np.isfinite(wait).any() else np.nan,
        "overtime_s": float(sum(overtime_s.values())),
    }])
    return {"segments": segments, "intervals": intervals, "groups": groups, "group_intervals": group_intervals,
            "segment_groups": segment_groups, "day": day}


def _caller_wait(log: dict[str, np.ndarray]) -> np.ndarray:
    """``[service_level] wait_counted = "caller"``: each attempt's wait plus the queue time of the caller's
    earlier attempts (a caller's attempts are rows in time order); the attempt's own wait without retries."""
    wait = log["wait_s"]
    if not len(wait) or not log["retry"].any():
        return wait
    caller = log["caller"]
    order = np.argsort(caller, kind="stable")  # by caller, each caller's attempts in row (= time) order
    w = np.nan_to_num(wait[order], nan=0.0)
    cum = np.cumsum(w)
    c = caller[order]
    first = np.r_[True, c[1:] != c[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(len(c)), 0))
    before = cum[start] - w[start]  # the running total just before each caller's first attempt
    total = np.empty_like(w)
    total[order] = cum - before
    return np.where(np.isnan(wait), np.nan, total)


def _columns(rows: list[dict]) -> Columns:
    """Rows (dicts with the same keys) as one numpy array per key; text as object arrays (as pandas holds it)."""
    out = {}
    for k in rows[0]:
        vals = [r[k] for r in rows]
        out[k] = np.array(vals, dtype=object) if isinstance(vals[0], str) else np.array(vals)
    return out


def _by_definition(defs: list[str], n_int: int, within, offered, answered, short_ab) -> tuple[np.ndarray, np.ndarray]:
    """Service-level numerator and denominator of flat (segment x interval) count arrays, each segment
    by its own definition (:func:`ccplan.scenario.service_level_ratio`)."""
    num = np.zeros(len(defs) * n_int)
    den = np.zeros(len(defs) * n_int)
    for k, d in enumerate(defs):
        sl_ = slice(k * n_int, (k + 1) * n_int)
        num[sl_], den[sl_] = service_level_ratio(d, within[sl_], offered[sl_], answered[sl_], short_ab[sl_])
    return num, den


def confidence_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high) of a t-based confidence interval for the mean of replication values (non-finite
    values left out; nan without values, an unknown interval with one)."""
    v = np.asarray(values, float).ravel()
    m, lo, hi = _mean_by_group(v, np.zeros(len(v), np.intp), 1, level)
    return float(m[0]), float(lo[0]), float(hi[0])


def _mean_by_group(values: np.ndarray, codes: np.ndarray, n_groups: int, level: float
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and t interval of the finite values of each group (``codes``: the group of each value), as
    (n_groups,) arrays; nan where a group has no value, an unknown interval where it has one."""
    ok = np.isfinite(values)
    x = np.where(ok, values, 0.0)
    n = np.bincount(codes, weights=ok, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(codes, weights=x, minlength=n_groups) / n
        dev = np.where(ok, x - mean[codes], 0.0)
        sd = np.sqrt(np.bincount(codes, weights=dev * dev, minlength=n_groups) / (n - 1))
        half = _t_by_count(n, level) * sd / np.sqrt(n)
    return mean, mean - half, mean + half


def _t_by_count(n: np.ndarray, level: float) -> np.ndarray:
    """The two-sided ``level`` t quantile for ``n - 1`` degrees of freedom, elementwise (nan where n < 2); one
    :func:`t_quantile` per distinct n (integer degrees of freedom: scipy is not imported)."""
    n = np.asarray(n)
    out = np.full(n.shape, np.nan)
    for k in np.unique(n[n >= 2]):
        out[n == k] = t_quantile(0.5 + level / 2, int(k) - 1)
    return out


def _scalar(x: np.ndarray):
    return float(x) if np.ndim(x) == 0 else x


def ratio_estimate(num, den, level: float = 0.95):
    """Long-run ratio over replications and its confidence interval: (estimate, low, high).

    ``num`` and ``den`` are per-replication counts (replications along axis 0; e.g. calls answered within the
    threshold and calls offered, or seconds waited by answered calls and calls answered). The estimate is the
    ratio of sums R = sum(num) / sum(den): all good calls over all counted calls of every simulated day, as an
    ACD reports a service level over many days (a day with more calls weighs more). The mean of each day's own
    ratio is another quantity: with random busyness it differs from R, and it is not what ACDs report.

    The interval is the ratio estimator's delta method with a t quantile over the n replications:
    R +- t(n-1) * sd(num_r - R * den_r) / (mean(den) * sqrt(n)), the interval of the classical ratio
    estimator (Law, *Simulation Modeling and Analysis*, the regenerative method's ratio estimator; Asmussen &
    Glynn, *Stochastic Simulation*, 2007, ch. III, the delta method for smooth functions of expectations).
    It is not clipped: callers bound it (a share to [0, 1]). Small samples with a skewed day-to-day spread
    (rare very busy days) make it a little short: about 93% coverage at 40 days with busyness cv 0.2, 94.8% at
    200 days (tests/sim/test_estimators.py).
    Pairs with a non-finite value are left out; the estimate is nan where sum(den) is 0, the interval nan
    with fewer than two replications. Returns floats for 1-D input, else arrays over the remaining axes.
    """
    num = np.asarray(num, float)
    den = np.asarray(den, float)
    shape = num.shape[1:]
    cols = int(np.prod(shape))  # every position after the first axis is a group of its own
    codes = np.tile(np.arange(cols), num.shape[0])
    est, low, high = (a.reshape(shape) for a in _ratio_by_group(num.ravel(), den.ravel(), codes, cols, level))
    return _scalar(est), _scalar(low), _scalar(high)


def _ratio_by_group(num: np.ndarray, den: np.ndarray, codes: np.ndarray, n_groups: int, level: float
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`ratio_estimate` of each group of replications (``codes``: the group of each (num, den) pair), as
    (n_groups,) arrays: the one implementation behind it and :func:`summarise`."""
    ok = np.isfinite(num) & np.isfinite(den)
    x, y = np.where(ok, num, 0.0), np.where(ok, den, 0.0)
    n = np.bincount(codes, weights=ok, minlength=n_groups)
    sum_x = np.bincount(codes, weights=x, minlength=n_groups)
    sum_y = np.bincount(codes, weights=y, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        est = np.where(sum_y > 0, sum_x / np.where(sum_y > 0, sum_y, 1.0), np.nan)
        # the residuals num - R den sum to 0 over a group's replications: their sd is sqrt(sum sq / (n - 1))
        resid = np.where(ok, x - est[codes] * y, 0.0)
        sd = np.sqrt(np.bincount(codes, weights=resid * resid, minlength=n_groups) / (n - 1))
        half = _t_by_count(n, level) * sd / (sum_y / n) / np.sqrt(n)
    return est, est - half, est + half


def ratio_difference(num_a, den_a, num_b, den_b, level: float = 0.95
                     ) -> tuple[float, float, float, float, float]:
    """Difference R_b - R_a of two long-run ratios (:func:`ratio_estimate`) over the same replications:
    (difference, paired low, paired high, unpaired low, unpaired high).

    Paired (common random numbers, replication r of both saw the same callers): the delta method on
    z_r = (num_b,r - R_b den_b,r) / mean(den_b) - (num_a,r - R_a den_a,r) / mean(den_a), the linearised
    difference of the two ratios, gives D +- t(n-1) sd(z) / sqrt(n). Unpaired (as two independent runs):
    each ratio's delta-method variance, summed, with Welch's degrees of freedom. A replication with a
    non-finite count in either variant is left out of both. References as :func:`ratio_estimate`.
    """
    cols = [np.asarray(c, float) for c in (num_a, den_a, num_b, den_b)]
    ok = np.logical_and.reduce([np.isfinite(c) for c in cols])
    na, da, nb, db = (c[ok] for c in cols)
    n = len(na)
    if n == 0 or da.sum() <= 0 or db.sum() <= 0:
        return (np.nan,) * 5
    one = np.zeros(n, np.intp)  # the ratios as ratio_estimate and summarise compute them, to the last bit
    r_a, r_b = (float(_ratio_by_group(x, y, one, 1, level)[0][0]) for x, y in ((na, da), (nb, db)))
    diff = r_b - r_a
    if n < 2:
        return (diff, np.nan, np.nan, np.nan, np.nan)
    return difference_intervals(diff, (na - r_a * da) / da.mean(), (nb - r_b * db) / db.mean(), level)


def difference_intervals(diff: float, a: np.ndarray, b: np.ndarray, level: float = 0.95
                         ) -> tuple[float, float, float, float, float]:
    """(diff, paired low, paired high, unpaired low, unpaired high) around a difference ``diff`` of two
    estimates whose per-replication values (or linearised residuals) are ``a`` and ``b`` (n >= 2 each, same
    replications): paired, diff +- t(n-1) sd(b - a) / sqrt(n); unpaired, Welch's interval from the two
    variances, as two independent runs would give it."""
    n = len(a)
    t = t_quantile(0.5 + level / 2, n - 1)
    half = float(t * (b - a).std(ddof=1) / np.sqrt(n))
    va, vb = a.var(ddof=1) / n, b.var(ddof=1) / n
    se = float(np.sqrt(va + vb))
    if se > 0:
        dof = (va + vb) ** 2 / (va ** 2 / (n - 1) + vb ** 2 / (n - 1))
        half_u = float(t_quantile(0.5 + level / 2, dof) * se)
    else:
        half_u = 0.0
    return diff, diff - half, diff + half, diff - half_u, diff + half_u


def wilson_interval(successes: int, n: int, level: float = 0.95) -> tuple[float, float, float]:
    """(share, low, high): a share of ``n`` trials with the Wilson score interval (Wilson, 1927; Agresti &
    Coull, 1998), which stays inside [0, 1] and keeps its coverage for shares near 0 or 1 and few trials,
    where the t interval of 0/1 values does neither. (nan, nan, nan) when ``n`` is 0."""
    if n <= 0:
        return (np.nan, np.nan, np.nan)
    p = successes / n
    z = NormalDist().inv_cdf(0.5 + level / 2)
    z2n = z * z / n
    centre = (p + z2n / 2) / (1 + z2n)
    half = z / (1 + z2n) * math.sqrt(p * (1 - p) / n + z2n / (4 * n))
    return p, 0.0 if successes <= 0 else max(0.0, centre - half), 1.0 if successes >= n else min(1.0, centre + half)


#: Ratios over calls and their counts in the per-replication tables: ratio -> (numerator, denominator).
#: :func:`summarise` reports each as a long-run ratio (:func:`ratio_estimate`), and the mean of the days' own
#: ratios as ``<ratio>_daily_mean``.
RATIOS = {"service_level": ("sl_num", "sl_den"), "abandon_rate": ("abandoned", "offered"),
          "asa_s": ("wait_answered_s_total", "answered")}
_TARGET_EPS = 1e-12  # a day's service level within rounding of its target meets it (as the verifier judges)

_SHARES = {"service_level", "abandon_rate", "occupancy", "callback_service_level"}
_SIGNED = {"profit", "replication", "interval"}


def _feasible(column: str, low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A t interval clipped to what the quantity can be: shares to [0, 1], counts, times and costs to >= 0
    (the README says so: near a bound the t interval is a poor approximation, and the clip keeps it honest).
    An unknown (nan) bound stays unknown."""
    if column in _SHARES:
        return np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0)
    if column not in _SIGNED:
        return np.maximum(low, 0.0), np.maximum(high, 0.0)  # nan stays nan
    return low, high


def days_meeting(meets_target: np.ndarray, service_level: np.ndarray, level: float = 0.95) -> dict[str, float]:
    """Days that meet the target, from per-replication (one simulated day each) values: ``days_meeting`` (the
    share of days whose own service level meets the target, :func:`wilson_interval`) with
    ``days_meeting_ci_low`` / ``_high``, and ``daily_sl_p10``, the 10th percentile of the days' service levels
    (linear interpolation; one day in ten is worse). Days without a judged value are left out."""
    m = np.asarray(meets_target, float)
    m = m[np.isfinite(m)]
    share, lo, hi = wilson_interval(int(m.sum()), len(m), level)
    v = np.asarray(service_level, float)
    v = v[np.isfinite(v)]
    return {"days_meeting": share, "days_meeting_ci_low": lo, "days_meeting_ci_high": hi,
            "daily_sl_p10": float(np.percentile(v, 10)) if len(v) else np.nan}


def summarise(per_rep: pd.DataFrame, keys: list[str], level: float = 0.95) -> pd.DataFrame:
    """Estimate and 95% CI across replications for every numeric column: ``X``, ``X_ci_low``, ``X_ci_high``;
    one row per group of ``keys`` (in order of first appearance).

    Counts, times and money: the mean per replication (simulated day), with a t interval. Ratios over calls
    (:data:`RATIOS`, when their counts are in the table): the long-run ratio of sums with its delta-method
    interval (:func:`ratio_estimate`), plus ``X_daily_mean``, the mean of the days' own ratios (no interval).
    A table with ``meets_target`` (segments) reports :func:`days_meeting` in its place. Vectorised over the
    groups (a table of 300 segments x 96 intervals has 28,800).
    """
    value_cols = [c for c in per_rep.columns if c not in keys + ["replication", "time"]
                  and pd.api.types.is_numeric_dtype(per_rep[c])]
    ratios = {c: nd for c, nd in RATIOS.items() if c in value_cols and all(x in per_rep.columns for x in nd)}
    if keys:
        codes = per_rep.groupby(keys, sort=False, observed=True).ngroup().to_numpy()
    else:
        codes = np.zeros(len(per_rep), np.intp)
    n_groups = int(codes.max()) + 1 if len(codes) else 0
    first = np.unique(codes, return_index=True)[1]
    out: dict[str, np.ndarray] = {k: per_rep[k].to_numpy()[first] for k in keys}
    if "time" in per_rep.columns:
        out["time"] = per_rep["time"].to_numpy()[first]

    def column(c: str) -> np.ndarray:
        return per_rep[c].to_numpy(dtype=float, na_value=np.nan)

    for c in value_cols:
        if c == "meets_target":
            sl = column("service_level") if "service_level" in per_rep.columns else np.full(len(per_rep), np.nan)
            met = column(c)
            rows = [days_meeting(met[codes == g], sl[codes == g], level) for g in range(n_groups)]
            for k in ("days_meeting", "days_meeting_ci_low", "days_meeting_ci_high", "daily_sl_p10"):
                out[k] = np.array([r[k] for r in rows], float)
            continue
        if c in ratios:
            num, den = ratios[c]
            m, lo, hi = _ratio_by_group(column(num), column(den), codes, n_groups, level)
        else:
            m, lo, hi = _mean_by_group(column(c), codes, n_groups, level)
        lo, hi = _feasible(c, lo, hi)
        out[c], out[f"{c}_ci_low"], out[f"{c}_ci_high"] = m, lo, hi
        if c in ratios:
            out[f"{c}_daily_mean"] = _mean_by_group(column(c), codes, n_groups, level)[0]
    return pd.DataFrame(out)


def interval_counts(log: dict[str, np.ndarray], scenario: Scenario) -> dict[str, np.ndarray]:
    """Compact per-interval counts of one replication, in numpy only (what the verifier needs).

    Calls are counted in the interval of their arrival (escalations in the interval they were
    escalated). Returns arrays: ``offered``, ``answered``, ``within`` (answered within the segment's
    threshold), ``abandoned`` and ``wait_answered_s`` (summed wait of answered calls), each
    (segments, intervals); ``esc_offered`` and ``esc_within`` (intervals,) for escalations,
    judged against the default threshold; ``sl_num`` and ``sl_den``, the service level's numerator and
    denominator under each segment's definition; ``busy_s`` (groups, intervals): agent seconds on calls.
    """
    n_seg, n_int, isec = len(scenario.segments), scenario.n_intervals, scenario.interval_s
    seg = log["segment"].astype(np.int64)
    thr = np.array([scenario.answer_within_s(s) for s in scenario.segments])
    answered, abandoned, wait = log["answered"], log["abandoned"], log["wait_s"]
    within = answered & (np.nan_to_num(wait, nan=np.inf) <= thr[seg] + 1e-9)
    short_ab = abandoned & (np.nan_to_num(wait, nan=np.inf) <= thr[seg] + 1e-9)
    interval = np.minimum((log["arrival_s"] // isec).astype(np.int64), n_int - 1)
    key = seg * n_int + interval
    size = n_seg * n_int

    def count(weights=None) -> np.ndarray:
        return np.bincount(key, weights=weights, minlength=size).reshape(n_seg, n_int)

    esc = log["escalated"]
    esc_int = np.minimum((log["end_s"][esc] // isec).astype(np.int64), n_int - 1)
    esc_ok = np.nan_to_num(log["escalation_wait_s"][esc], nan=np.inf) <= scenario.service_level.answer_within_s + 1e-9
    n_grp = len(scenario.agent_groups)
    busy = _overlap_by_interval(log["answer_s"], log["end_s"], np.maximum(log["group"].astype(np.int64), 0), n_grp,
                                isec, n_int)
    busy += _overlap_by_interval(log["escalation_answer_s"], log["escalation_end_s"],
                                 np.maximum(log["escalation_group"].astype(np.int64), 0), n_grp, isec, n_int)
    offered, n_ans, n_within, n_short = (count(), count(answered.astype(float)), count(within.astype(float)),
                                         count(short_ab.astype(float)))
    defs = [scenario.sl_definition(s) for s in scenario.segments]
    sl_num, sl_den = (a.reshape(n_seg, n_int) for a in _by_definition(
        defs, n_int, n_within.ravel(), offered.ravel(), n_ans.ravel(), n_short.ravel()))
    return {
        "offered": offered, "answered": n_ans, "within": n_within, "sl_num": sl_num, "sl_den": sl_den,
        "abandoned": count(abandoned.astype(float)),
        "wait_answered_s": count(np.where(answered, np.nan_to_num(wait, nan=0.0), 0.0)),
        "esc_offered": np.bincount(esc_int, minlength=n_int).astype(float),
        "esc_within": np.bincount(esc_int, weights=esc_ok.astype(float), minlength=n_int),
        "busy_s": busy[:, :n_int],
    }


def window_upper_bounds(log: dict[str, np.ndarray], scenario: Scenario, now_s: float) -> dict[str, np.ndarray]:
    """Counts of a replication stopped at ``now_s`` that bound what the full run can still give.

    Returns (segments, intervals) arrays over calls that arrived by ``now_s``: ``offered``,
    ``within_max`` (answered within the threshold, plus calls still waiting whose wait is not yet
    past it: the most that can end up within), ``abandoned`` (the least abandonment), and two
    service-level (numerator, denominator) pairs under each segment's definition: ``sl_num_a`` /
    ``sl_den_a`` if every such waiting call is answered in time, ``sl_num_b`` / ``sl_den_b`` if
    every one abandons in time. The ratio is linear-fractional in how many do which, so the larger
    of the two ratios (also when summed over replications) bounds the final service level.
    Intervals that had not ended by ``now_s`` have incomplete ``offered`` counts and must not be judged.
    """
    n_seg, n_int, isec = len(scenario.segments), scenario.n_intervals, scenario.interval_s
    arrived = log["arrival_s"] <= now_s
    seg = log["segment"][arrived].astype(np.int64)
    thr = np.array([scenario.answer_within_s(s) for s in scenario.segments])[seg]
    answered, abandoned = log["answered"][arrived], log["abandoned"][arrived]
    arrival = log["arrival_s"][arrived]
    wait = np.nan_to_num(log["wait_s"][arrived], nan=np.inf)
    waiting = ~answered & ~abandoned
    within = answered & (wait <= thr + 1e-9)
    short_ab = abandoned & (wait <= thr + 1e-9)
    open_ = waiting & (now_s - arrival <= thr + 1e-9)  # may still end within the threshold either way
    key = seg * n_int + np.minimum((arrival // isec).astype(np.int64), n_int - 1)

    def count(weights=None) -> np.ndarray:
        return np.bincount(key, weights=weights, minlength=n_seg * n_int)

    offered, n_within, n_ans, n_short, n_open = (count(), count(within.astype(float)), count(answered.astype(float)),
                                                 count(short_ab.astype(float)), count(open_.astype(float)))
    defs = [scenario.sl_definition(s) for s in scenario.segments]
    num_a, den_a = _by_definition(defs, n_int, n_within + n_open, offered, n_ans + n_open, n_short)
    num_b, den_b = _by_definition(defs, n_int, n_within, offered, n_ans, n_short + n_open)

    def shaped(a: np.ndarray) -> np.ndarray:
        return a.reshape(n_seg, n_int)

    return {"offered": shaped(offered), "within_max": shaped(n_within + n_open),
            "abandoned": shaped(count(abandoned.astype(float))),
            "sl_num_a": shaped(num_a), "sl_den_a": shaped(den_a), "sl_num_b": shaped(num_b), "sl_den_b": shaped(den_b)}
