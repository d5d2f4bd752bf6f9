"""Interval volumes from history: robust point forecasts, calibrated bands, a nested rolling-origin backtest.

Input: calls per interval (segment, date, slot) as :meth:`ccplan.history.History.rolled_up` gives.
A segment's history becomes a matrix over its *open days* (weekdays that ever have calls), one
column per interval of the day; a date without data inside the range is a missing row, never a
zero, so it does not pull the patterns down. Time base: slots are minutes after midnight; volumes
are calls per interval; horizons count open days ("steps": 1 = the next open day).

Training data (:func:`clean_training`, run afresh at every origin on the data before it):
- *special days* known in advance (public holidays, days the user flagged) are left out;
- *outlier days* (a day total more than ``OUTLIER_DAY_Z`` robust sd and ``OUTLIER_DAY_MIN`` away from
  the local level of its weekday, or an intraday shape far from its weekday's) are left out;
- a *level shift* (the days since some day in the last ``SHIFT_LOOKBACK_WEEKS`` weeks sit at least
  ``SHIFT_MIN`` above or below the weeks before, for at least a week, t > ``SHIFT_T``, 80% of the days
  on the new side, and a step fits them better than a straight line, which would be a trend) re-levels
  the earlier days to the new level, so every method forecasts at the new one.
The naive methods (``last_week``, ``mean_4_weeks``) only leave out the known special days: they are
the benchmark a planner computes in a spreadsheet.

Methods (``METHODS``):
- ``last_week``: the same weekday one week before (seasonal naive), per interval.
- ``mean_4_weeks``: the mean of the last 4 same weekdays, per interval (the benchmark, ``BENCHMARK``).
- ``median_6_weeks``: the median of the last 6 same weekdays, per interval (robust baseline).
- ``trimmed_mean_8_weeks``: the mean of the last 8 same weekdays without the highest and lowest, per
  interval (robust baseline).
- ``level_profile``: daily total x intraday profile. Day total = an adaptive level (exponentially
  weighted, half-life one week, errors clipped at 2.5 robust sd) x a weekday effect (median over
  the last 8 weeks); profile = the call-weighted share of each interval over the last 8 same
  weekdays, recent weeks weighing more (half-life 4 weeks). Cf. Weinberg, Brown & Stroud (2007);
  Taylor (2008); Ibrahim et al. (2016).
- ``top_down``: daily totals with weekday effects and a linear trend (least squares on log totals,
  last 8 weeks; the slope shrunk by its own uncertainty, b (1 - se^2/b^2)+, and held ``_TREND_WEEKS``
  weeks past the data) x the intraday profile.
- ``ets``: exponential smoothing of the daily totals (statsmodels ``ETSModel``: multiplicative error
  and weekday season, damped additive trend; the last ``_ETS_WEEKS`` weeks) x the intraday profile.
- ``combination``: the equal-weight mean of ``COMBINED``: two views of the level (a robust
  same-weekday baseline, the adaptive level x profile) and two of the trend (regression, shrunk and
  held; damped exponential smoothing). Equal weights are estimated from nothing, so they cannot
  overfit (the "forecast combination puzzle": Smith & Wallis 2009; Claeskens et al. 2016).

``auto``, the rule (nested: at every origin only errors of days before it are used): forecast with
``combination``, unless a single method wins *clearly and consistently* on the earlier origins: its
WAPE over them is at least ``CLEAR_MARGIN`` (10%) below the combination's AND it beats the
combination at every one of at least ``MIN_CONSISTENT_ORIGINS`` (3) earlier origins. Then that
method is used. A history too short for any backtest origin uses ``FALLBACK_METHOD``.

Backtest (:func:`backtest`): weekly origins on one grid (every origin the history allows with at
least ``MIN_TRAIN_WEEKS`` weeks of training); each method forecasts ``horizon`` open days from each.
*Judged* origins are those whose whole horizon lies inside the history and that have
``MIN_EARLIER_ORIGINS`` (3) origins before them, so that auto's rule and the band work there as at the end
of a long history. At a judged origin, auto's choice and every band use only the forecasts and errors of
earlier origins, scored on days before the judged origin (windows cut there). WAPE and
p10-p90 coverage are reported over all judged origins and by horizon week (1, 2, 3, 4, ...). Days
known to be special (holidays, flagged) are not scored; outlier days are (nobody knew them ahead).

Bands (:class:`BandModel`): from the method's own errors at earlier origins, in two layers. The day
factor (actual / forecast day total) has a lognormal spread per horizon week (never narrowing with the
horizon) with Student-t quantiles whose degrees of freedom are the origins behind that week (the days of
one origin move together, so origins are what the spread is estimated from); the within-day error of each
interval given its day's total has empirical (split-conformal) quantiles per time-of-day block (4 blocks)
of its Poisson-plus-relative-spread scaled errors. So both the horizon and the time of day are calibrated.

Guards: a forecast starts at most ``MAX_LEAD_DAYS`` days after the history; a day's forecast above
``MAX_DAY_FACTOR`` x the busiest day of the history is capped there, with a note. A segment without
calls in its last ``STOPPED_DAYS`` days or more (a stopped queue) is forecast as 0, with a note.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

METHODS = ("last_week", "mean_4_weeks", "median_6_weeks", "trimmed_mean_8_weeks", "level_profile", "top_down", "ets",
           "combination")
NAIVE_METHODS = ("last_week", "mean_4_weeks")
ROBUST_BASELINES = ("median_6_weeks", "trimmed_mean_8_weeks")
COMBINED = ("median_6_weeks", "level_profile", "top_down", "ets")
BENCHMARK = "mean_4_weeks"
AUTO = "auto"
QUANTILES = (0.1, 0.5, 0.9)
FALLBACK_METHOD = "mean_4_weeks"
CLEAR_MARGIN = 0.10
MIN_CONSISTENT_ORIGINS = 3
MIN_TRAIN_WEEKS = 2
MIN_EARLIER_ORIGINS = 3
MAX_LEAD_DAYS = 365
MAX_DAY_FACTOR = 2.0
STOPPED_DAYS = 7
OUTLIER_DAY_Z = 4.0
OUTLIER_DAY_MIN = 0.25     # a day at least 25% off its usual level (or a shape that far off) can be an outlier
SHIFT_T = 4.0
SHIFT_MIN = 0.10           # a level shift is at least 10%
SHIFT_LOOKBACK_WEEKS = 8
DEFAULT_KAPPA = 0.10       # relative spread of the band before any backtest error is known
TIME_BLOCKS = 4
_PROFILE_WEEKS = 8
_TREND_WEEKS = 8
_ETS_WEEKS = 26          # ETS is fitted on the last half year of days
_LEVEL_HALF_LIFE_WEEKS = 1.0
_PROFILE_HALF_LIFE_WEEKS = 4.0
_MIN_BLOCK_SCORES = 40
_MIN_SCORES = 20


class ForecastError(ValueError):
    """A forecast that cannot be made (a message says why)."""


@dataclass(frozen=True)
class SegmentHistory:
    """One segment's calls as a (day x slot) matrix over its open days; missing days are NaN rows.

    ``special``: days known in advance to be special (public holidays, days the user flagged) -> label;
    they are kept in ``y`` (what happened) but left out of training and scoring."""

    segment: str
    dates: tuple[dt.date, ...]      # every open-weekday date from the first to the last day with data
    slots: np.ndarray               # (S,) minutes after midnight
    y: np.ndarray                   # (D, S) calls; NaN rows where the date has no data
    aht_s: np.ndarray | None        # (D, S) call-weighted AHT or NaN
    open_weekdays: tuple[int, ...]  # 0 = Monday
    stopped_since: dt.date | None = None  # no calls from this day to the history's end (STOPPED_DAYS or more)
    end: dt.date | None = None      # the history's last day (of every segment)
    special: dict = field(default_factory=dict)  # dt.date -> label

    @property
    def weekdays(self) -> np.ndarray:
        return np.array([d.weekday() for d in self.dates])

    @property
    def period(self) -> int:
        """Open days per week."""
        return max(len(self.open_weekdays), 1)

    @property
    def special_mask(self) -> np.ndarray:
        """(D,) True on the days known to be special."""
        return np.array([d in self.special for d in self.dates], bool)

    @property
    def missing(self) -> list[dt.date]:
        return [d for d, row in zip(self.dates, self.y) if np.isnan(row).all()]


def segment_histories(rolled: pd.DataFrame, special: dict[str, dict[dt.date, str]] | None = None
                      ) -> list[SegmentHistory]:
    """Per segment, the (day x slot) matrices of a rolled-up history (segment, date, slot, offered, aht_s).

    ``special`` maps a segment to its known special days (date -> label). A day whose rows all have 0 calls
    is a day without data (a holiday exported as zeros), except in a segment's trailing run of
    ``STOPPED_DAYS`` days or more up to the history's end: that segment has stopped (``stopped_since``).
    A segment with no call at all is stopped from its first row."""
    out = []
    if rolled.empty:
        return out
    special = special or {}
    end = max(rolled["date"])
    for seg, d in rolled.groupby("segment", sort=False):
        flags = dict(special.get(str(seg), {}))
        by_day = d.groupby("date")["offered"].sum()
        days_with_calls = sorted(by_day.index[by_day > 0])
        if not days_with_calls:
            days = sorted(by_day.index)
            open_wd = tuple(sorted({x.weekday() for x in days}))
            dates = tuple(days[0] + dt.timedelta(days=k) for k in range((days[-1] - days[0]).days + 1)
                          if (days[0] + dt.timedelta(days=k)).weekday() in open_wd)
            y = np.full((len(dates), d["slot"].nunique()), np.nan)
            y[[dates.index(x) for x in days]] = 0.0
            out.append(SegmentHistory(str(seg), dates, np.array(sorted(d["slot"].unique())), y, None, open_wd,
                                      stopped_since=days[0], end=end, special=flags))
            continue
        open_wd = tuple(sorted({x.weekday() for x in days_with_calls}))
        first, last = days_with_calls[0], days_with_calls[-1]
        dates = tuple(first + dt.timedelta(days=k) for k in range((last - first).days + 1)
                      if (first + dt.timedelta(days=k)).weekday() in open_wd)
        slots = np.array(sorted(d.loc[d["offered"] > 0, "slot"].unique()))
        y = np.full((len(dates), len(slots)), np.nan)
        aht = np.full_like(y, np.nan)
        di = {x: i for i, x in enumerate(dates)}
        si = {s: j for j, s in enumerate(slots)}
        have = set(days_with_calls)
        for x in have:
            y[di[x]] = 0.0
        rows = d[d["date"].isin(have) & d["slot"].isin(si)]
        r = rows["date"].map(di).to_numpy()
        c = rows["slot"].map(si).to_numpy()
        y[r, c] = rows["offered"].to_numpy(float)
        aht[r, c] = rows["aht_s"].to_numpy(float)
        stopped = last + dt.timedelta(days=1) if (end - last).days >= STOPPED_DAYS else None
        out.append(SegmentHistory(str(seg), dates, slots, y, aht if np.isfinite(aht).any() else None, open_wd,
                                  stopped_since=stopped, end=end,
                                  special={k: v for k, v in flags.items() if first <= k <= last}))
    return out


# ---------------------------------------------------------------------------
# training data: special days, outlier days, level shifts

@dataclass(frozen=True)
class Cleaning:
    """What :func:`clean_training` did to the training rows (row indices into them).

    ``special``: known special days left out; ``outliers``: outlier days left out; ``shift_at``: the
    first row of a new level (None without a shift); ``shift_ratio``: new level / old level."""

    special: tuple[int, ...] = ()
    outliers: tuple[int, ...] = ()
    shift_at: int | None = None
    shift_ratio: float = 1.0


def _totals(y: np.ndarray) -> np.ndarray:
    """Day totals (NaN for a day without data)."""
    tot = np.nansum(y, axis=1)
    tot[np.isnan(y).all(axis=1)] = np.nan
    return tot


def _weekly_level(x: np.ndarray, period: int) -> np.ndarray:
    """The local level of each point: the median of the week (``period`` consecutive points) around it, the
    window held inside the series at its ends, so that every weekday counts once."""
    n = len(x)
    if n <= period:
        return np.full(n, np.median(x))
    starts = np.clip(np.arange(n) - period // 2, 0, n - period)
    return np.array([np.median(x[a:a + period]) for a in starts])


def _mad_sd(x: np.ndarray) -> float:
    """Robust standard deviation: 1.4826 x the median absolute deviation."""
    return float(1.4826 * np.median(np.abs(x - np.median(x)))) if len(x) else 0.0


def _weekday_effects(x: np.ndarray, w: np.ndarray, period: int) -> tuple[np.ndarray, np.ndarray]:
    """Log weekday effects robust to level changes (median of each weekday's distance to the level of its week)
    and the deseasonalised series: returns (effect per point, x - effect)."""
    local = _weekly_level(x, period)
    eff = np.zeros(len(x))
    for k in np.unique(w):
        eff[w == k] = np.median((x - local)[w == k])
    eff -= np.median(eff)
    return eff, x - eff


def _outlier_days(y: np.ndarray, wd: np.ndarray, period: int, skip: np.ndarray) -> np.ndarray:
    """(D,) True on outlier days: a total far from its local weekday level, or a shape far from its weekday's."""
    out = np.zeros(len(y), bool)
    tot = _totals(y)
    ok = np.isfinite(tot) & (tot > 0) & ~skip
    if ok.sum() < 2 * period + 1:
        return out
    idx = np.flatnonzero(ok)
    x, w = np.log(tot[idx]), wd[idx]
    _, u = _weekday_effects(x, w, period)
    r = u - _weekly_level(u, period)
    thr = max(OUTLIER_DAY_Z * _mad_sd(r), math.log1p(OUTLIER_DAY_MIN))
    flag = np.abs(r) > thr
    shares = y[idx] / tot[idx, None]
    tv = np.zeros(len(idx))
    for k in np.unique(w):
        sel = w == k
        prof = np.median(shares[sel], axis=0)
        prof = prof / prof.sum() if prof.sum() > 0 else prof
        tv[sel] = 0.5 * np.abs(shares[sel] - prof).sum(axis=1)
    flag |= tv > max(np.median(tv) + 2 * OUTLIER_DAY_Z * _mad_sd(tv), OUTLIER_DAY_MIN)
    out[idx[flag]] = True
    return out


def _level_shift(y: np.ndarray, wd: np.ndarray, period: int, skip: np.ndarray) -> tuple[int | None, float]:
    """(first row of the new level, log new/old) of the strongest level shift in the last weeks, or (None, 0)."""
    tot = _totals(y)
    ok = np.isfinite(tot) & (tot > 0) & ~skip
    idx = np.flatnonzero(ok)
    n = len(idx)
    if n < 3 * period:
        return None, 0.0
    x, w = np.log(tot[idx]), wd[idx]
    _, u = _weekday_effects(x, w, period)
    noise = _mad_sd(np.diff(u)) / math.sqrt(2)  # day-to-day noise, blind to a level step
    if noise <= 0:
        noise = 1e-3
    best = (None, 0.0, 0.0)
    last_date_row = idx[-1]
    for k in range(2 * period, n - period + 1):
        if last_date_row - idx[k] >= SHIFT_LOOKBACK_WEEKS * period:
            continue
        before, after = u[max(0, k - _PROFILE_WEEKS * period):k], u[k:]
        mb = np.median(before)
        d = float(np.median(after) - mb)  # the size: medians; where: the t of the means (outliers are out already)
        t = abs(float(after.mean() - before.mean())) / (noise * math.sqrt(1 / len(after) + 1 / len(before)))
        beyond = (np.sign(after - mb) == np.sign(d)) & (np.abs(after - mb) > abs(d) / 2)
        if beyond.mean() >= 0.8 and t > best[2]:
            best = (int(idx[k]), d, t)
    at, d, t = best
    if at is None or t < SHIFT_T or abs(d) < math.log1p(SHIFT_MIN):
        return None, 0.0
    k = int(np.searchsorted(idx, at))
    window = slice(max(0, k - _PROFILE_WEEKS * period), n)
    uw, xw = u[window], idx[window].astype(float)
    step_sse = float(((uw[:k - window.start] - uw[:k - window.start].mean()) ** 2).sum()
                     + ((uw[k - window.start:] - uw[k - window.start:].mean()) ** 2).sum())
    line = np.polyval(np.polyfit(xw, uw, 1), xw)
    if step_sse >= float(((uw - line) ** 2).sum()):  # a steady trend, not a step: the trend methods see it
        return None, 0.0
    return at, d


def clean_training(y: np.ndarray, wd: np.ndarray, special: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray, Cleaning]:
    """The training rows as the naive methods see them (known special days left out) and as every other method
    sees them (outlier days left out too, and the days before a level shift re-levelled), with what was done."""
    special = np.zeros(len(y), bool) if special is None else np.asarray(special, bool)[:len(y)]
    period = max(len(np.unique(wd)), 1)
    naive = y.copy()
    naive[special] = np.nan
    outliers = _outlier_days(naive, wd, period, np.zeros(len(y), bool))
    clean = naive.copy()
    clean[outliers] = np.nan
    at, d = _level_shift(clean, wd, period, np.zeros(len(y), bool))
    if at is not None:
        clean[:at] *= math.exp(d)
    info = Cleaning(tuple(int(i) for i in np.flatnonzero(special & ~np.isnan(y).all(axis=1))),
                    tuple(int(i) for i in np.flatnonzero(outliers)), at, math.exp(d))
    return naive, clean, info


# ---------------------------------------------------------------------------
# methods: (train y (D,S) with NaN rows, train weekdays (D,), target weekdays (H,), steps ahead (H,)) -> (H,S)

def _same_weekday_rows(y: np.ndarray, wd: np.ndarray, w: int, k: int) -> np.ndarray:
    rows = np.flatnonzero((wd == w) & ~np.isnan(y).all(axis=1))
    return y[rows[-k:]] if rows.size else np.empty((0, y.shape[1]))


def _any_day(y: np.ndarray) -> np.ndarray:
    """The mean day over every day with data (zeros when there is none): a weekday never seen gets this."""
    rows = y[~np.isnan(y).all(axis=1)]
    return rows.mean(axis=0) if len(rows) else np.zeros(y.shape[1])


def _per_weekday(y, wd, target_wd, k: int, stat: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    out = np.empty((len(target_wd), y.shape[1]))
    cache: dict[int, np.ndarray] = {}
    for h, w in enumerate(target_wd):
        if int(w) not in cache:
            rows = _same_weekday_rows(y, wd, w, k)
            cache[int(w)] = stat(rows) if len(rows) else _any_day(y)
        out[h] = cache[int(w)]
    return out


def _last_week(y, wd, target_wd, steps):
    return _per_weekday(y, wd, target_wd, 1, lambda r: r[-1])


def _mean_4_weeks(y, wd, target_wd, steps):
    return _per_weekday(y, wd, target_wd, 4, lambda r: r.mean(axis=0))


def _median_6_weeks(y, wd, target_wd, steps):
    return _per_weekday(y, wd, target_wd, 6, lambda r: np.median(r, axis=0))


def _trimmed(rows: np.ndarray) -> np.ndarray:
    """Mean without the highest and the lowest value per interval (plain mean below 5 rows)."""
    if len(rows) < 5:
        return rows.mean(axis=0)
    s = np.sort(rows, axis=0)
    return s[1:-1].mean(axis=0)


def _trimmed_mean_8_weeks(y, wd, target_wd, steps):
    return _per_weekday(y, wd, target_wd, 8, _trimmed)


def _profiles(y: np.ndarray, wd: np.ndarray, half_life_weeks: float | None = None) -> dict[int, np.ndarray]:
    """Intraday profile (shares summing to 1) per weekday from its last ``_PROFILE_WEEKS`` weeks: the mean share
    (``half_life_weeks`` None), or the call-weighted share with recent weeks weighing more (exponential
    weights of that half-life); a weekday with fewer than 2 such days is topped up with the all-days profile."""
    out = {}
    have = ~np.isnan(y).all(axis=1)
    recent = y[have][-_PROFILE_WEEKS * max(len(np.unique(wd)), 1):]
    all_tot = np.nansum(recent)
    all_prof = np.nansum(recent, axis=0) / all_tot if all_tot > 0 else np.full(y.shape[1], 1.0 / y.shape[1])
    for w in np.unique(wd):
        rows = _same_weekday_rows(y, wd, w, _PROFILE_WEEKS)
        tot = rows.sum(axis=1)
        rows, tot = rows[tot > 0], tot[tot > 0]
        if half_life_weeks is None:
            out[int(w)] = (rows / tot[:, None]).mean(axis=0) if len(rows) else all_prof
            continue
        age = np.arange(len(rows))[::-1]
        wt = 0.5 ** (age / half_life_weeks)
        num = (wt[:, None] * rows).sum(axis=0)
        den = float((wt * tot).sum())
        short = max(0, 2 - len(rows))
        if short:
            typical = float(tot.mean()) if len(tot) else 1.0
            num = num + short * typical * all_prof
            den += short * typical
        out[int(w)] = num / den if den > 0 else all_prof
    return out


def _level_profile(y, wd, target_wd, steps):
    """Daily total (adaptive level x weekday effect) x the recency-weighted intraday profile."""
    period = max(len(np.unique(wd)), 1)
    tot = _totals(y)
    ok = np.flatnonzero(np.isfinite(tot) & (tot > 0))
    prof = _profiles(y, wd, _PROFILE_HALF_LIFE_WEEKS)
    if not len(ok):
        return np.zeros((len(target_wd), y.shape[1]))
    x, w = np.log(tot[ok]), wd[ok]
    recent = slice(max(0, len(x) - _PROFILE_WEEKS * period), len(x))
    xr, wr = x[recent], w[recent]
    base = np.median(xr)
    eff = {int(k): float(np.median(xr[wr == k]) - base) for k in np.unique(wr)}
    for k in np.unique(w):
        eff.setdefault(int(k), float(np.median(x[w == k]) - np.median(x)))
    u = x - np.array([eff[int(k)] for k in w])
    alpha = 1.0 - 0.5 ** (1.0 / (_LEVEL_HALF_LIFE_WEEKS * period))
    clip = 2.5 * max(_mad_sd(np.diff(u)) / math.sqrt(2), 1e-3)
    level = float(np.median(u[:period]))
    for v in u:
        level += alpha * float(np.clip(v - level, -clip, clip))
    out = np.empty((len(target_wd), y.shape[1]))
    for h, k in enumerate(target_wd):
        day = math.exp(level + eff.get(int(k), 0.0))
        out[h] = day * prof.get(int(k), np.full(y.shape[1], 1.0 / y.shape[1]))
    return out


def _daily_fit(tot: np.ndarray, wd: np.ndarray, trend_from: int | None = None):
    """Least squares of log daily totals on weekday effects (+ trend with 3+ weeks), last 8 weeks.
    Returns predict(weekdays, t) -> totals (NaN for a weekday without data). The trend is extrapolated at
    most ``_TREND_WEEKS`` weeks beyond the data and held there: a few weeks' slope is no yearly growth.
    ``trend_from``: the first row of a new level (a level shift); the trend is measured from it only (3+ weeks
    after it, else none), since a slope across a shift is the shift, not a trend."""
    ok = np.flatnonzero(np.isfinite(tot) & (tot > 0))
    n_wd = len(np.unique(wd))
    ok = ok[-_TREND_WEEKS * n_wd:]
    levels = sorted(int(w) for w in np.unique(wd[ok]))
    if not levels:
        return lambda target_wd, target_t: np.full(len(target_wd), np.nan)
    start = 0 if trend_from is None else int(trend_from)
    trend = int((ok >= start).sum()) >= 3 * len(levels)
    t = np.maximum(np.arange(len(tot)) - start, 0)

    def design(w_: np.ndarray, t_: np.ndarray) -> np.ndarray:
        cols = [(w_ == k).astype(float) for k in levels] + ([t_.astype(float)] if trend else [])
        return np.column_stack(cols)

    x, logy = design(wd[ok], t[ok]), np.log(tot[ok])
    params = np.linalg.lstsq(x, logy, rcond=None)[0]
    t_end = int(t[ok[-1]])
    t_max = t_end + _TREND_WEEKS * n_wd
    slope = 0.0
    if trend:  # the slope shrunk by its own uncertainty: b (1 - (se/b)^2)+, a trend only as far as the data show it
        dof = len(logy) - x.shape[1]
        if dof > 0:
            s2 = float(((logy - x @ params) ** 2).sum()) / dof
            se2 = s2 * float(np.linalg.pinv(x.T @ x)[-1, -1])
            b = float(params[-1])
            slope = b * max(0.0, 1.0 - se2 / b ** 2) if b != 0 else 0.0

    def predict(target_wd: np.ndarray, target_t: np.ndarray) -> np.ndarray:
        known = np.isin(target_wd, levels)
        safe_wd = np.where(known, target_wd, levels[0])
        at_end = design(safe_wd, np.full(len(safe_wd), t_end)) @ params
        ahead = np.minimum(np.maximum(np.asarray(target_t) - start, 0), t_max) - t_end
        pred = np.exp(at_end + slope * ahead)
        return np.where(known, pred, np.nan)

    return predict


def _top_down(y, wd, target_wd, steps, trend_from: int | None = None):
    predict = _daily_fit(_totals(y), wd, trend_from)
    totals = predict(np.asarray(target_wd), len(y) - 1 + np.asarray(steps))
    prof = _profiles(y, wd)
    return np.array([totals[h] * prof.get(int(w), np.full(y.shape[1], 1.0 / y.shape[1]))
                     for h, w in enumerate(target_wd)])


def _ets(y, wd, target_wd, steps, warm: dict | None = None, trend_from: int | None = None):
    """Daily totals by ETS(M,Ad,M) x the intraday profile (``top_down`` where the data are too few). ``warm``
    carries the parameters of the previous (earlier) origin's fit as the next fit's starting point. After a level
    shift (``trend_from``: its first row) ETS is fitted on the days since, once there are 3 weeks of them."""
    period = len(np.unique(wd))
    have = ~np.isnan(y).all(axis=1)
    start = max(0 if trend_from is None else int(trend_from), len(y) - _ETS_WEEKS * period)
    if len(y) - start < 3 * period or period < 2 or have[start:].sum() < 2 * period:
        return _top_down(y, wd, target_wd, steps, trend_from)
    fit = _ets_fit(y[start:], wd[start:], warm)
    if fit is None:
        return _top_down(y, wd, target_wd, steps, trend_from)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = np.asarray(fit.forecast(int(np.max(steps))), float)
    totals = path[np.asarray(steps) - 1]
    prof = _profiles(y, wd)
    return np.array([totals[h] * prof.get(int(w), np.full(y.shape[1], 1.0 / y.shape[1]))
                     for h, w in enumerate(target_wd)])


def _ets_fit(y: np.ndarray, wd: np.ndarray, warm: dict | None = None):
    """statsmodels ETSModel on the daily totals (days without data filled by the weekday fit); None when a day
    cannot be filled (a weekday without any data). Started from ``warm["ets"]`` when it fits this model."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    tot = np.nansum(y, axis=1)
    missing = np.isnan(y).all(axis=1)
    fill = _daily_fit(np.where(missing, np.nan, tot), wd)(wd, np.arange(len(y)))
    series = np.where(missing | (tot <= 0), fill, tot)
    if not (np.isfinite(series).all() and (series > 0).all()):
        return None
    period = len(np.unique(wd))
    model = ETSModel(pd.Series(series), error="mul", trend="add", damped_trend=True, seasonal="mul",
                     seasonal_periods=period)
    start = (warm or {}).get("ets")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if start is not None and len(start) == len(model.param_names):
            fit = model.fit(disp=False, maxiter=200, start_params=start)
        else:
            fit = model.fit(disp=False, maxiter=200)
    if warm is not None:
        warm["ets"] = np.asarray(fit.params)
    return fit


_FUNCS: dict[str, Callable] = {"last_week": _last_week, "mean_4_weeks": _mean_4_weeks,
                               "median_6_weeks": _median_6_weeks, "trimmed_mean_8_weeks": _trimmed_mean_8_weeks,
                               "level_profile": _level_profile, "top_down": _top_down, "ets": _ets}


def _needed(methods: tuple[str, ...]) -> tuple[str, ...]:
    """The methods to compute for ``methods`` (a combination needs its members)."""
    out = [m for m in methods if m != "combination"]
    if "combination" in methods:
        out += [m for m in COMBINED if m not in out]
    return tuple(out)


def forecasts(y: np.ndarray, wd: np.ndarray, target_wd, steps, methods: tuple[str, ...] = METHODS,
              special: np.ndarray | None = None, warm: dict | None = None
              ) -> tuple[dict[str, np.ndarray], Cleaning]:
    """Point forecasts (H, S) of every method in ``methods`` from training rows ``y`` (NaN rows = no data),
    after :func:`clean_training`, and what the cleaning did. ``warm``: estimates of an earlier origin to start
    this one's from (a backtest passes it along its origins)."""
    target_wd, steps = np.asarray(target_wd), np.asarray(steps)
    naive, clean, info = clean_training(y, wd, special)
    out = {}
    for m in _needed(methods):
        data = naive if m in NAIVE_METHODS else clean
        if m == "ets":
            f = _ets(data, wd, target_wd, steps, warm, info.shift_at)
        elif m == "top_down":
            f = _top_down(data, wd, target_wd, steps, info.shift_at)
        else:
            f = _FUNCS[m](data, wd, target_wd, steps)
        out[m] = np.clip(np.nan_to_num(f, nan=0.0), 0.0, None)
    if "combination" in methods:
        out["combination"] = np.mean([out[m] for m in COMBINED], axis=0)
    return {m: out[m] for m in methods}, info


def point_forecast(method: str, y: np.ndarray, wd: np.ndarray, target_wd, steps,
                   special: np.ndarray | None = None) -> np.ndarray:
    """Point forecast (H, S) of ``method`` from training rows ``y`` (NaN rows = no data)."""
    return forecasts(y, wd, target_wd, steps, (method,), special)[0][method]


# ---------------------------------------------------------------------------
# bands from the backtest's own errors

def _conformal(z: np.ndarray, q: float) -> float:
    """The split-conformal quantile of scores ``z`` at level ``q``: the ceil((n + 1) q)-th smallest above the
    median, the floor((n + 1) q)-th below it (a finite-sample correction that widens, never narrows)."""
    n = len(z)
    s = np.sort(z)
    if q >= 0.5:
        k = min(n, math.ceil((n + 1) * q))
    else:
        k = max(1, math.floor((n + 1) * q))
    return float(s[k - 1])


def _t_ppf(q: float, dof: float) -> float:
    """Student's t quantile (normal for an infinite ``dof``)."""
    from scipy.stats import norm, t

    return float(norm.ppf(q)) if not np.isfinite(dof) else float(t.ppf(q, dof))


@dataclass(frozen=True)
class BandModel:
    """A band calibrated on a method's own errors at earlier origins.

    Two layers, each from the errors: (1) the *day factor* R = actual / forecast day total, lognormal with spread
    ``sigma_day[w]`` (root mean square of log R over the scored days of horizon week w, so a bias widens it;
    never narrowing with the horizon) and Student-t quantiles with ``dof_day[w]`` = the number of earlier
    origins behind week w (a spread estimated from few origins is uncertain itself); (2) the *within-day* error
    of each interval given its day's total: Poisson plus a relative spread ``kappa_in``, with the empirical
    (split-conformal) quantiles of the scaled errors ``z_in`` per time-of-day block (``block_of`` gives each
    slot's block). A quantile combines the two deviations at the same level by root sum of squares.
    ``n_days``: scored days behind it (0: none known, a normal day spread of ``DEFAULT_KAPPA``)."""

    period: int
    sigma_day: np.ndarray
    dof_day: np.ndarray
    kappa_in: float
    z_in: tuple[np.ndarray, ...]
    block_of: np.ndarray
    n_days: int

    def _week(self, steps) -> np.ndarray:
        return np.clip((np.asarray(steps) - 1) // self.period, 0, len(self.sigma_day) - 1)

    def _day_dev(self, steps, q: float) -> np.ndarray:
        """Relative deviation of the day factor at level ``q`` per step (H,)."""
        w = self._week(steps)
        tq = np.array([_t_ppf(q, self.dof_day[k]) for k in range(len(self.sigma_day))])
        return np.expm1(self.sigma_day[w] * tq[w])

    def _z(self, block: int, q: float) -> float:
        z = self.z_in[block]
        return _conformal(z, q) if len(z) >= _MIN_SCORES else _t_ppf(q, np.inf)

    def interval_quantiles(self, point: np.ndarray, steps, qs: tuple[float, ...]) -> np.ndarray:
        """Quantiles (Q, H, S) of calls per interval around ``point`` (H, S) at ``steps`` (H,) open days ahead."""
        within = np.sqrt(point + (self.kappa_in * point) ** 2)
        out = np.empty((len(qs),) + point.shape)
        for i, q in enumerate(qs):
            day = point * self._day_dev(steps, q)[:, None]
            zq = np.array([self._z(b, q) for b in range(len(self.z_in))])[self.block_of]
            inner = zq[None, :] * within
            out[i] = point + np.sign(day + inner) * np.sqrt(day ** 2 + inner ** 2)
        return np.clip(out, 0.0, None)

    def day_quantiles(self, totals: np.ndarray, steps, qs: tuple[float, ...]) -> np.ndarray:
        """Quantiles (Q, H) of a day's total calls around ``totals`` (H,)."""
        out = []
        for q in qs:
            day = totals * self._day_dev(steps, q)
            pois = _t_ppf(q, np.inf) * np.sqrt(totals)
            out.append(totals + np.sign(day + pois) * np.sqrt(day ** 2 + pois ** 2))
        return np.clip(np.array(out), 0.0, None)


def band_model(origin: np.ndarray, step: np.ndarray, f: np.ndarray, a: np.ndarray, period: int, n_slots: int,
               horizon: int) -> BandModel:
    """The band of a method from its errors: ``origin`` and ``step`` (N,) the origin and open days ahead, ``f``
    and ``a`` (N, S) forecast and actual calls per interval of N scored days."""
    weeks = max(1, math.ceil(horizon / period), int(step.max() - 1) // period + 1 if len(step) else 1)
    block_of = np.minimum(np.arange(n_slots) * TIME_BLOCKS // max(n_slots, 1), TIME_BLOCKS - 1)
    ft, at = f.sum(axis=1), a.sum(axis=1)
    ok = (ft > 0) & (at > 0)
    if not ok.any():
        empty = np.empty(0)
        return BandModel(period, np.full(weeks, DEFAULT_KAPPA), np.full(weeks, np.inf), DEFAULT_KAPPA / 2,
                         tuple(empty for _ in range(TIME_BLOCKS)), block_of, 0)
    origin, step, f, a, ft, at = origin[ok], step[ok], f[ok], a[ok], ft[ok], at[ok]
    logr = np.log(at / ft)
    week = (step - 1) // period
    sigma, dof = np.full(weeks, np.nan), np.full(weeks, np.nan)
    for w in range(weeks):
        sel = week == w
        if sel.any():
            sigma[w] = math.sqrt(float(np.mean(logr[sel] ** 2)))
            dof[w] = len(np.unique(origin[sel]))
    first = int(np.flatnonzero(np.isfinite(sigma))[0])
    sigma[:first], dof[:first] = sigma[first], dof[first]
    for w in range(1, weeks):  # never narrower further ahead; a week without errors takes the last one's
        if not np.isfinite(sigma[w]):
            sigma[w], dof[w] = sigma[w - 1], dof[w - 1]
        elif sigma[w] < sigma[w - 1]:
            sigma[w] = sigma[w - 1]
    scaled = f * (at / ft)[:, None]  # the forecast given the day's actual total
    den = float((scaled ** 2).sum())
    kappa = math.sqrt(max(0.0, float(((a - scaled) ** 2 - scaled).sum()) / den)) if den > 0 else 0.0
    z = (a - scaled) / np.sqrt(np.maximum(scaled + (kappa * scaled) ** 2, 1e-9))
    live = scaled > 0
    pooled = z[live]
    blocks = []
    for b in range(TIME_BLOCKS):
        zb = z[:, block_of == b][live[:, block_of == b]]
        blocks.append(zb if len(zb) >= _MIN_BLOCK_SCORES else pooled)
    return BandModel(period, sigma, dof, kappa, tuple(blocks), block_of, int(len(step)))


# ---------------------------------------------------------------------------
# the backtest: one grid of weekly origins, every method's forecast at each, nested choices and bands

@dataclass
class SegmentBacktest:
    """Every method's forecasts at every weekly origin of one segment (the cube the backtest is judged on).

    ``origins``: row indices (ascending); ``forecasts[method][origin]``: (h, S) for rows origin .. origin + h - 1
    (h = ``horizon`` cut at the history's end); ``scored``: (D,) rows that count (data, not a known special day);
    ``judged``: the origins whose ``judge_horizon`` days lie in the history and that have ``MIN_EARLIER_ORIGINS``
    origins before them (the judge horizon is the horizon, shortened by weeks on a short history)."""

    history: SegmentHistory
    horizon: int
    origins: list[int]
    forecasts: dict[str, dict[int, np.ndarray]]
    scored: np.ndarray
    judged: list[int]
    cleaning: dict[int, Cleaning]
    judge_horizon: int = 0

    def errors(self, method: str, before: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(origin, step, forecast, actual) of every scored day of ``method``'s windows from origins before row
        ``before``, cut at that row: (N,), (N,), (N, S), (N, S)."""
        org, step, f, a = [], [], [], []
        for o in self.origins:
            if o >= before:
                break
            fo = self.forecasts[method][o]
            for i in range(min(len(fo), before - o)):
                if self.scored[o + i]:
                    org.append(o)
                    step.append(i + 1)
                    f.append(fo[i])
                    a.append(self.history.y[o + i])
        s = len(self.history.slots)
        if not org:
            return np.empty(0, int), np.empty(0, int), np.empty((0, s)), np.empty((0, s))
        return np.array(org), np.array(step), np.array(f), np.array(a)

    def band(self, method: str, before: int) -> BandModel:
        """The band of ``method`` from its errors before row ``before``."""
        org, step, f, a = self.errors(method, before)
        return band_model(org, step, f, a, self.history.period, len(self.history.slots), self.horizon)

    def choose(self, before: int, methods: tuple[str, ...] | None = None) -> tuple[str, str]:
        """auto's choice at row ``before`` from the errors before it, and why (see the module's rule)."""
        methods = tuple(m for m in (methods or tuple(self.forecasts)) if m != "combination")
        org, _, f, a = self.errors("combination", before)
        if not len(org):
            return "combination", "no earlier origin: the combination (equal weights) by default"
        origins = list(dict.fromkeys(org.tolist()))

        def per_origin(method: str) -> tuple[float, np.ndarray]:
            _, _, fm, am = self.errors(method, before)
            err = np.abs(am - fm).sum(axis=1)
            act = am.sum(axis=1)
            total = float(err.sum() / act.sum()) if act.sum() > 0 else np.nan
            by = np.array([err[org == o].sum() / max(act[org == o].sum(), 1e-9) for o in origins])
            return total, by

        comb_total, comb_by = per_origin("combination")
        best = ("combination", comb_total)
        for m in methods:
            total, by = per_origin(m)
            if (len(origins) >= MIN_CONSISTENT_ORIGINS and np.isfinite(total)
                    and total <= (1 - CLEAR_MARGIN) * comb_total and (by < comb_by).all() and total < best[1]):
                best = (m, total)
        if best[0] == "combination":
            return "combination", (f"no method beat the combination clearly (WAPE {CLEAR_MARGIN:.0%} lower) and "
                                   f"consistently (at each of {len(origins)} earlier origins, at least "
                                   f"{MIN_CONSISTENT_ORIGINS})")
        return best[0], (f"{best[0]} beat the combination at each of {len(origins)} earlier origins, WAPE "
                         f"{best[1]:.1%} against {comb_total:.1%}")


def _open_days(horizon_days: int, period: int) -> int:
    return max(1, round(horizon_days * period / 7))


def _grid(n_days: int, period: int, horizon: int, y: np.ndarray, wd: np.ndarray) -> list[int]:
    """Weekly origins on the grid through ``n_days - horizon`` with 2+ weeks of training (with data) and a day
    after them."""
    out = []
    o = n_days - horizon
    while o + period <= n_days - 1:
        o += period
    while o >= MIN_TRAIN_WEEKS * period:
        if o < n_days and _enough_training(y[:o], wd[:o]):
            out.append(o)
        o -= period
    return sorted(out)


def _enough_training(y: np.ndarray, wd: np.ndarray) -> bool:
    """Training rows hold at least two weeks of days with data (a gap of weeks may leave fewer)."""
    have = ~np.isnan(y).all(axis=1)
    return bool(have.sum() >= MIN_TRAIN_WEEKS * max(len(np.unique(wd)), 1))


def segment_backtest(sh: SegmentHistory, horizon: int, methods: tuple[str, ...] = METHODS,
                     progress: Callable[[], None] | None = None, judge_horizon: int | None = None
                     ) -> SegmentBacktest:
    """The forecasts of ``methods`` (and of the combination's members) at every weekly origin of ``sh``,
    ``horizon`` open days ahead; origins are judged on ``judge_horizon`` (default: the horizon) open days."""
    methods = tuple(dict.fromkeys(tuple(methods) + ("combination",) + _needed(("combination",))))
    wd, y = sh.weekdays, sh.y
    period = sh.period
    special = sh.special_mask
    scored = ~np.isnan(y).all(axis=1) & ~special
    origins = _grid(len(y), period, horizon, y, wd)
    cube: dict[str, dict[int, np.ndarray]] = {m: {} for m in methods}
    cleaning = {}
    warm: dict = {}
    for o in origins:
        rows = np.arange(o, min(o + horizon, len(y)))
        f, info = forecasts(y[:o], wd[:o], wd[rows], rows - o + 1, methods, special[:o], warm)
        cleaning[o] = info
        for m in methods:
            cube[m][o] = f[m]
        if progress:
            progress()
    jh = horizon if judge_horizon is None else min(judge_horizon, horizon)
    judged = [o for i, o in enumerate(origins) if o + jh <= len(y) and i >= MIN_EARLIER_ORIGINS
              and scored[o:o + jh].any()]
    return SegmentBacktest(sh, horizon, origins, cube, scored, judged, cleaning, jh)


def backtest_units(hist: list[SegmentHistory], horizon_days: int) -> int:
    """How many origin forecasts :func:`backtest` makes (for a progress bar)."""
    n = 0
    for sh in hist:
        if sh.stopped_since is None:
            n += len(_grid(len(sh.y), sh.period, _open_days(horizon_days, sh.period), sh.y, sh.weekdays))
    return n


def _fit_horizon(sh: SegmentHistory, horizon_days: int) -> int:
    """Open days of the backtest horizon, shortened by whole weeks until some origin can be judged."""
    horizon = _open_days(horizon_days, sh.period)
    while horizon > sh.period:
        grid = _grid(len(sh.y), sh.period, horizon, sh.y, sh.weekdays)
        if any(i >= MIN_EARLIER_ORIGINS and o + horizon <= len(sh.y) for i, o in enumerate(grid)):
            break
        horizon -= sh.period
    return horizon


@dataclass(frozen=True)
class Backtest:
    """Nested rolling-origin backtest.

    ``table``: one row per segment x method (every method and ``auto``): wape, coverage_80 (share of actual
    intervals inside p10-p90), origins (judged), horizon_days (open days), scored_days;
    ``by_week``: the same per horizon week (week 1 = the first ``period`` open days after the origin);
    ``choices``: auto's choice at each judged origin (segment, origin, chosen, reason);
    ``best``: auto's choice for a forecast after the history's end (``FALLBACK_METHOD`` where no origin could be
    judged: ``fallback`` lists those segments and ``notes`` says why); ``segments``: the forecasts behind it.
    Stopped segments are not backtested."""

    table: pd.DataFrame
    best: dict[str, str]
    notes: tuple[str, ...] = ()
    fallback: tuple[str, ...] = ()
    by_week: pd.DataFrame = field(default_factory=pd.DataFrame)
    choices: pd.DataFrame = field(default_factory=pd.DataFrame)
    segments: dict[str, SegmentBacktest] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)


_TABLE = ["segment", "method", "wape", "coverage_80", "origins", "horizon_days", "scored_days"]
_WEEK = ["segment", "method", "week", "wape", "coverage_80", "origins", "scored_days"]


def _score(sb: SegmentBacktest, method: str, chosen: dict[int, str]) -> list[dict]:
    """Per judged origin and scored day: abs error, actual, inside the p10-p90 band, intervals (auto: the chosen
    method at each origin, with its own band)."""
    out = []
    y = sb.history.y
    for o in sb.judged:
        m = chosen[o] if method == AUTO else method
        f = sb.forecasts[m][o][:sb.judge_horizon]
        band = sb.band(m, o)
        steps = np.arange(1, len(f) + 1)
        q = band.interval_quantiles(f, steps, (0.1, 0.9))
        for i in range(len(f)):
            if not sb.scored[o + i]:
                continue
            a = y[o + i]
            out.append({"origin": o, "step": i + 1, "abs_err": float(np.abs(a - f[i]).sum()),
                        "actual": float(a.sum()), "inside": int(((a >= q[0, i]) & (a <= q[1, i])).sum()),
                        "n": len(a)})
    return out


def backtest(hist: list[SegmentHistory], horizon_days: int, methods: tuple[str, ...] = METHODS,
             progress: Callable[[int, int], None] | None = None) -> Backtest:
    """Nested rolling-origin backtest of ``methods`` and ``auto`` (see the module docstring).
    ``horizon_days`` counts calendar days; it becomes open days per segment."""
    rows, week_rows, choice_rows, best, notes, fallback, reasons = [], [], [], {}, [], [], {}
    cubes: dict[str, SegmentBacktest] = {}
    hist = [sh for sh in hist if sh.stopped_since is None]
    total = backtest_units(hist, horizon_days)
    done = [0]

    def tick() -> None:
        done[0] += 1
        if progress:
            progress(done[0], total)

    shown = tuple(methods) + ((AUTO,) if "combination" in methods or methods == METHODS else ())
    for sh in hist:
        horizon = _fit_horizon(sh, horizon_days)
        sb = segment_backtest(sh, _open_days(horizon_days, sh.period), tuple(methods), tick, horizon)
        cubes[sh.segment] = sb
        chosen = {}
        for o in sb.judged:
            chosen[o], why = sb.choose(o, tuple(methods))
            choice_rows.append({"segment": sh.segment, "origin": sh.dates[o].isoformat(), "chosen": chosen[o],
                                "reason": why})
        for m in shown:
            if m == AUTO and not sb.judged:
                continue
            scores = pd.DataFrame(_score(sb, m, chosen), columns=["origin", "step", "abs_err", "actual", "inside",
                                                                  "n"])
            act = scores["actual"].sum()
            rows.append({"segment": sh.segment, "method": m, "wape": scores["abs_err"].sum() / act if act > 0 else
                         np.nan, "coverage_80": scores["inside"].sum() / scores["n"].sum() if len(scores) else np.nan,
                         "origins": len(sb.judged), "horizon_days": horizon, "scored_days": len(scores)})
            scores["week"] = (scores["step"] - 1) // sh.period + 1
            for w, g in scores.groupby("week"):
                week_rows.append({"segment": sh.segment, "method": m, "week": int(w),
                                  "wape": g["abs_err"].sum() / g["actual"].sum() if g["actual"].sum() > 0 else np.nan,
                                  "coverage_80": g["inside"].sum() / g["n"].sum(), "origins": g["origin"].nunique(),
                                  "scored_days": len(g)})
        if sb.origins:
            best[sh.segment], reasons[sh.segment] = sb.choose(len(sh.y), tuple(methods))
            if best[sh.segment] not in methods:
                best[sh.segment] = [m for m in methods if m in sb.forecasts][0]
            if not sb.judged:
                notes.append(f"segment {sh.segment!r}: the history is too short to judge the methods (an origin is "
                             f"judged with {MIN_TRAIN_WEEKS} weeks of training and {MIN_EARLIER_ORIGINS} weekly "
                             "origins before it, and a held-out week after it): auto uses "
                             f"{best[sh.segment]} ({reasons[sh.segment]}), its band sized on {len(sb.origins)} "
                             "origin(s)")
        else:
            best[sh.segment] = FALLBACK_METHOD
            fallback.append(sh.segment)
            n_days = int((~np.isnan(sh.y).all(axis=1)).sum())
            notes.append(f"segment {sh.segment!r}: no backtest origin (a backtest needs {MIN_TRAIN_WEEKS} weeks of "
                         "days with data before two weekly origins, and a held-out week after them; the history has "
                         f"{n_days} open day(s) with data): {FALLBACK_METHOD} is used without a backtest (the "
                         "fallback: the mean of the last same weekdays)")
    return Backtest(pd.DataFrame(rows, columns=_TABLE), best, tuple(notes), tuple(fallback),
                    pd.DataFrame(week_rows, columns=_WEEK),
                    pd.DataFrame(choice_rows, columns=["segment", "origin", "chosen", "reason"]), cubes, reasons)


# ---------------------------------------------------------------------------
# the forecast after the history

def check_start(hist: list[SegmentHistory], start: dt.date) -> None:
    """ForecastError unless ``start`` is after the history's last day and at most ``MAX_LEAD_DAYS`` later."""
    last = max((sh.end or sh.dates[-1]) for sh in hist)
    if start <= last:
        raise ForecastError(f"the first forecast day (--start) {start} is not after the history's last day ({last})")
    if (start - last).days > MAX_LEAD_DAYS:
        raise ForecastError(f"the first forecast day (--start) {start} is {(start - last).days:,} days after the "
                            f"history's last day ({last}); "
                            f"a forecast starts at most {MAX_LEAD_DAYS} days (a year) after its history, by "
                            f"{last + dt.timedelta(days=MAX_LEAD_DAYS)}: patterns from the history say nothing "
                            "reliable further ahead")


def _cleaning_notes(sh: SegmentHistory, info: Cleaning) -> list[str]:
    notes = []
    name = f"segment {sh.segment!r}: " if sh.segment != "calls" else ""
    if info.outliers:
        days = [sh.dates[i].isoformat() for i in info.outliers]
        more = f" and {len(days) - 5} more" if len(days) > 5 else ""
        notes.append(f"{name}{len(days)} outlier day(s) left out of the patterns (a day total or an intraday shape "
                     f"far from the usual for that weekday): {', '.join(days[:5])}{more}")
    if info.special:
        days = [f"{sh.dates[i]} ({sh.special.get(sh.dates[i], 'special')})" for i in info.special]
        more = f" and {len(days) - 5} more" if len(days) > 5 else ""
        notes.append(f"{name}{len(days)} special day(s) with data left out of the patterns: {', '.join(days[:5])}"
                     f"{more}")
    if info.shift_at is not None:
        notes.append(f"{name}a level shift of {info.shift_ratio - 1:+.0%} from {sh.dates[info.shift_at]} "
                     f"({len(sh.dates) - info.shift_at} open days ago): the weeks before are scaled to the new level "
                     "for every method but the naive ones")
    return notes


def _holiday_factor(sh: SegmentHistory, clean: np.ndarray, wd: np.ndarray, holidays_past: dict[dt.date, str]
                    ) -> tuple[float | None, str]:
    """How past public holidays in the history compare with a usual day of their weekday: (factor, what it rests on);
    (None, text) without a holiday to learn from; (0.0, text) when the segment had no calls on any of them."""
    days = [(i, d) for i, d in enumerate(sh.dates) if d in holidays_past]
    if not days:
        return None, "no public holiday in the history to learn from"
    ratios, closed = [], []
    tot = _totals(clean)
    for i, d in days:
        if np.isnan(sh.y[i]).all() or np.nansum(sh.y[i]) <= 0:
            closed.append(d)
            continue
        near = [j for j in range(max(0, i - 3 * sh.period), min(len(tot), i + 3 * sh.period + 1))
                if wd[j] == wd[i] and j != i and np.isfinite(tot[j]) and tot[j] > 0]
        if near:
            ratios.append(float(np.nansum(sh.y[i]) / np.median(tot[near])))
    if ratios:
        f = float(np.median(ratios))
        return f, f"{len(ratios)} past holiday(s) in the history had {f:.0%} of a usual day's calls (median)"
    if closed:
        return 0.0, (f"the segment had no calls on the {len(closed)} past holiday(s) in the history "
                     f"({', '.join(map(str, closed[:3]))}): closed")
    return None, "no usable past holiday in the history"


def forecast(hist: list[SegmentHistory], start: dt.date, days: int, method: str = "auto",
             backtest_result: Backtest | None = None, quantile: float | None = None,
             interval_minutes: int = 30, seed: int = 2026, notes: list[str] | None = None,
             holidays: dict[dt.date, str] | None = None, flagged_ahead: dict[dt.date, str] | None = None,
             horizon_days: int = 28) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Forecast per interval and per day.

    Intervals: date, interval_start (HH:MM), segment, forecast, p10, p50, p90, method, holiday (its name, or "")
    (and ``quantile`` as column ``q`` when given, ``aht_s`` when the history has it), one row per open interval of
    each open day from ``start`` for ``days`` calendar days. Days: date, segment, method, holiday, forecast, p10,
    p50, p90 of the day's total (its own band, not sums of interval quantiles).
    ``method`` "auto" uses ``backtest_result.best`` (the combination without one). Bands come from the method's
    errors in ``backtest_result`` (or a backtest of that method ``horizon_days`` ahead). ``holidays`` (date ->
    name) marks public holidays: a holiday ahead gets the ratio past holidays in the history had to a usual day
    (0 when the segment had no calls on them), or a usual day's forecast when the history has none, with a note.
    A stopped segment gets 0 calls (method "stopped"); a day above ``MAX_DAY_FACTOR`` x the history's busiest is
    capped; all said in ``notes``. ``seed`` is kept for compatibility (the bands are not sampled)."""
    if method != AUTO and method not in METHODS:
        raise ForecastError(f"unknown method {method!r}: choose auto, {', '.join(METHODS)}")
    if not hist:
        raise ForecastError("the history has no segment with calls")
    check_start(hist, start)
    notes = notes if notes is not None else []
    holidays = holidays or {}
    flagged_ahead = flagged_ahead or {}
    frames, daily = [], []
    qs = tuple(QUANTILES) + ((quantile,) if quantile is not None else ())
    said_holidays: set = set()
    for sh in hist:
        target = [start + dt.timedelta(days=k) for k in range(days)]
        target = [d for d in target if d.weekday() in sh.open_weekdays]
        if not target:
            continue
        wd = sh.weekdays
        t_wd = np.array([d.weekday() for d in target])
        hol = [holidays.get(d, "") for d in target]
        if sh.stopped_since is not None:
            m = "stopped"
            point = np.zeros((len(target), len(sh.slots)))
            q = np.zeros((len(qs), len(target), len(sh.slots)))
            end = sh.end or sh.dates[-1]
            notes.append(f"segment {sh.segment!r} has had no calls since {sh.stopped_since} (the last "
                         f"{(end - sh.stopped_since).days + 1} days of the history): it is forecast as 0 calls (a "
                         "stopped queue); if it has reopened, forecast it from a history that shows it")
            band = None
            steps = np.arange(1, len(target) + 1)
        else:
            if method == AUTO:
                m = backtest_result.best.get(sh.segment, FALLBACK_METHOD) if backtest_result else "combination"
            else:
                m = method
            last = sh.dates[-1]
            # steps ahead in open days (holidays in the horizon count as open days)
            gap = sum(1 for k in range(1, (start - last).days) if (last + dt.timedelta(days=k)).weekday()
                      in sh.open_weekdays)
            steps = gap + 1 + np.arange(len(target))
            fc_all, info = forecasts(sh.y, wd, t_wd, steps, (m,), sh.special_mask)
            point = fc_all[m]
            for n in _cleaning_notes(sh, info):
                if n not in notes:
                    notes.append(n)
            if any(hol):
                _, clean, _ = clean_training(sh.y, wd, sh.special_mask)
                factor, why = _holiday_factor(sh, clean, wd, {d: n for d, n in holidays.items() if d <= last})
                for h, name in enumerate(hol):
                    if not name:
                        continue
                    if factor is not None:
                        point[h] *= factor
                    key = (target[h], factor)
                    if key not in said_holidays:
                        said_holidays.add(key)
                        what = ("forecast as a usual " + target[h].strftime("%A") + " (review it)" if factor is None
                                else f"forecast at {factor:.0%} of a usual {target[h].strftime('%A')}")
                        notes.append(f"{target[h]} is a public holiday ({name}): {what}; {why}")
            _cap(sh, m, point, target, notes)
            sb = backtest_result.segments.get(sh.segment) if backtest_result is not None else None
            if sb is None or m not in sb.forecasts:
                sb = segment_backtest(sh, _open_days(horizon_days, sh.period), (m,))
            band = sb.band(m, len(sh.y))
            if band.n_days == 0:
                notes.append(f"segment {sh.segment!r}: no backtest error is known yet, so the band assumes a "
                             f"day-to-day spread of ±{DEFAULT_KAPPA:.0%} around the forecast")
            q = band.interval_quantiles(point, steps, qs)
        for d in target:
            if d in flagged_ahead:
                notes.append(f"{d} is flagged as special ({flagged_ahead[d]}): forecast as a usual "
                             f"{d.strftime('%A')}; adjust it if you know better")
        # open intervals per weekday: slots with calls in any of its last weeks (all of them if none had calls)
        open_mask = {}
        for w in set(t_wd):
            mask = _same_weekday_rows(sh.y, wd, w, _PROFILE_WEEKS).sum(axis=0) > 0
            open_mask[int(w)] = mask if mask.any() else np.ones(len(sh.slots), bool)
        aht = None
        if sh.aht_s is not None:
            aht = np.full((len(target), len(sh.slots)), np.nan)
            for h, w in enumerate(t_wd):
                rows = _same_weekday_rows(sh.aht_s, wd, w, 4)
                known = np.isfinite(rows)
                if known.any():
                    aht[h] = np.where(known.any(axis=0), np.where(known, rows, 0).sum(axis=0)
                                      / np.maximum(known.sum(axis=0), 1), np.nan)
        for h, d in enumerate(target):
            keep = open_mask[int(t_wd[h])]
            frame = pd.DataFrame({
                "date": d.isoformat(), "interval_start": [f"{s // 60:02d}:{s % 60:02d}" for s in sh.slots[keep]],
                "segment": sh.segment, "forecast": point[h, keep], "p10": q[0, h, keep], "p50": q[1, h, keep],
                "p90": q[2, h, keep], "method": m, "holiday": hol[h]})
            if quantile is not None:
                frame["q"] = q[3, h, keep]
            if aht is not None:
                frame["aht_s"] = aht[h, keep]
            frames.append(frame)
            total = float(point[h, keep].sum())
            tot_q = (band.day_quantiles(np.array([total]), steps[h:h + 1], QUANTILES)[:, 0] if band is not None
                     else np.zeros(3))
            daily.append({"date": d.isoformat(), "segment": sh.segment, "method": m, "holiday": hol[h],
                          "forecast": total, "p10": tot_q[0], "p50": tot_q[1], "p90": tot_q[2]})
    if not frames:
        window = [start + dt.timedelta(days=k) for k in range(days)]
        names = sorted({d.strftime("%A") for d in window}, key=lambda n: [d.strftime("%A") for d in window].index(n))
        raise ForecastError(f"no open day from {start} for {days} day(s): {', '.join(names)} never had calls in the "
                            "history (closed); choose another --start or more --days")
    return pd.concat(frames, ignore_index=True), pd.DataFrame(daily)


def _cap(sh: SegmentHistory, method: str, point: np.ndarray, target: list[dt.date], notes: list[str]) -> None:
    """Cap (in place) each day of ``point`` at ``MAX_DAY_FACTOR`` x the busiest day of the history, with a note."""
    totals = np.nansum(sh.y, axis=1)[~np.isnan(sh.y).all(axis=1)]
    if not totals.size:
        return
    cap = MAX_DAY_FACTOR * float(totals.max())
    day = point.sum(axis=1)
    over = day > cap
    if not over.any():
        return
    point[over] *= (cap / day[over])[:, None]
    worst = int(np.argmax(day))
    notes.append(f"segment {sh.segment!r}: the {method} forecast reached {day[worst]:,.0f} calls on {target[worst]}, "
                 f"more than {MAX_DAY_FACTOR:g} x the busiest day of the history ({totals.max():,.0f}); "
                 f"{int(over.sum())} day(s) capped at {cap:,.0f} calls")
