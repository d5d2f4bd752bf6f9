"""Interval volumes from history: point forecasts, honest p10-p90 bands, rolling-origin backtest.

Input: calls per interval (segment, date, slot) as :meth:`ccplan.history.History.rolled_up` gives.
A segment's history becomes a matrix over its *open days* (weekdays that ever have calls), one
column per interval of the day; a date without data inside the range (a holiday) is a missing
row, never a zero, so it does not pull the patterns down.

Methods (``METHODS``):
- ``last_week``: the same weekday one week before (seasonal naive), per interval.
- ``mean_4_weeks``: the mean of the last 4 same weekdays, per interval.
- ``top_down``: the call-center baseline (e.g. Gans, Koole & Mandelbaum 2003; Ibrahim et al. 2016):
  daily totals with weekday effects and a linear trend (ordinary least squares on log totals,
  statsmodels, last 8 weeks), times an intraday profile per weekday (mean share of the last 8
  same weekdays).
- ``ets``: exponential smoothing of the daily totals (statsmodels ``ETSModel``: multiplicative
  error and weekday season, damped additive trend; holidays filled by the weekday fit) times the
  same intraday profile.
``auto`` picks, per segment, the method with the lowest WAPE in a rolling-origin backtest on the
history itself; where the history is too short for any backtest origin, ``FALLBACK_METHOD`` is used
(and the backtest says so in its notes).

Guards: a trend is extrapolated at most ``_TREND_WEEKS`` weeks beyond the data (then held); a
forecast starts at most ``MAX_LEAD_DAYS`` days after the history; a day's forecast above
``MAX_DAY_FACTOR`` x the busiest day of the history is capped there, with a note. A segment
without calls in its last ``STOPPED_DAYS`` days or more (a stopped queue) is forecast as 0, with a note.

Bands: a day's total varies far more than Poisson noise, so the band combines (a) a lognormal
day factor with the spread of the method's own day-total errors and (b) overdispersed
(negative-binomial) interval counts around the day's profile, both estimated from a backtest
*inside* the training data (three weekly inner origins), then sampled (Monte Carlo).
Time base: slots are minutes after midnight; volumes are calls per interval.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

METHODS = ("last_week", "mean_4_weeks", "top_down", "ets")
QUANTILES = (0.1, 0.5, 0.9)
_PROFILE_WEEKS = 8
_TREND_WEEKS = 8
_SAMPLES = 1000
FALLBACK_METHOD = "mean_4_weeks"
MAX_LEAD_DAYS = 365
MAX_DAY_FACTOR = 2.0
STOPPED_DAYS = 7


class ForecastError(ValueError):
    """A forecast that cannot be made (a message says why)."""


@dataclass(frozen=True)
class SegmentHistory:
    """One segment's calls as a (day x slot) matrix over its open days; missing days are NaN rows."""

    segment: str
    dates: tuple[dt.date, ...]      # every open-weekday date from the first to the last day with data
    slots: np.ndarray               # (S,) minutes after midnight
    y: np.ndarray                   # (D, S) calls; NaN rows where the date has no data
    aht_s: np.ndarray | None        # (D, S) call-weighted AHT or NaN
    open_weekdays: tuple[int, ...]  # 0 = Monday
    stopped_since: dt.date | None = None  # no calls from this day to the history's end (STOPPED_DAYS or more)
    end: dt.date | None = None      # the history's last day (of every segment)

    @property
    def weekdays(self) -> np.ndarray:
        return np.array([d.weekday() for d in self.dates])

    @property
    def missing(self) -> list[dt.date]:
        return [d for d, row in zip(self.dates, self.y) if np.isnan(row).all()]


def segment_histories(rolled: pd.DataFrame) -> list[SegmentHistory]:
    """Per segment, the (day x slot) matrices of a rolled-up history (segment, date, slot, offered, aht_s).

    A day whose rows all have 0 calls is a day without data (a holiday exported as zeros), except in a
    segment's trailing run of ``STOPPED_DAYS`` days or more up to the history's end: that segment has
    stopped (``stopped_since``). A segment with no call at all is stopped from its first row."""
    out = []
    if rolled.empty:
        return out
    end = max(rolled["date"])
    for seg, d in rolled.groupby("segment", sort=False):
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
                                      stopped_since=days[0], end=end))
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
                                  stopped_since=stopped, end=end))
    return out


# ---------------------------------------------------------------------------
# methods: (train y (D,S) with NaN rows, train weekdays (D,), target weekdays (H,), steps ahead (H,)) -> (H,S)

def _same_weekday_rows(y: np.ndarray, wd: np.ndarray, w: int, k: int) -> np.ndarray:
    rows = np.flatnonzero((wd == w) & ~np.isnan(y).all(axis=1))
    return y[rows[-k:]] if rows.size else np.empty((0, y.shape[1]))


def _any_day(y: np.ndarray) -> np.ndarray:
    """The mean day over every day with data (zeros when there is none): a weekday never seen gets this."""
    rows = y[~np.isnan(y).all(axis=1)]
    return rows.mean(axis=0) if len(rows) else np.zeros(y.shape[1])


def _last_week(y, wd, target_wd, steps):
    out = np.empty((len(target_wd), y.shape[1]))
    for h, w in enumerate(target_wd):
        rows = _same_weekday_rows(y, wd, w, 1)
        out[h] = rows[-1] if len(rows) else _any_day(y)
    return out


def _mean_4_weeks(y, wd, target_wd, steps):
    out = np.empty((len(target_wd), y.shape[1]))
    for h, w in enumerate(target_wd):
        rows = _same_weekday_rows(y, wd, w, 4)
        out[h] = rows.mean(axis=0) if len(rows) else _any_day(y)
    return out


def _profiles(y: np.ndarray, wd: np.ndarray) -> dict[int, np.ndarray]:
    """Intraday profile (shares summing to 1) per weekday: the mean share of its last weeks."""
    out = {}
    for w in np.unique(wd):
        rows = _same_weekday_rows(y, wd, w, _PROFILE_WEEKS)
        tot = rows.sum(axis=1, keepdims=True)
        rows = rows[tot[:, 0] > 0] / tot[tot[:, 0] > 0]
        out[int(w)] = rows.mean(axis=0) if len(rows) else np.full(y.shape[1], 1.0 / y.shape[1])
    return out


def _weekday_design(wd: np.ndarray, t: np.ndarray, levels: list[int], trend: bool) -> np.ndarray:
    cols = [(wd == w).astype(float) for w in levels]
    if trend:
        cols.append(t.astype(float))
    return np.column_stack(cols)


def _daily_fit(tot: np.ndarray, wd: np.ndarray):
    """OLS of log daily totals on weekday effects (+ trend when there are 3+ weeks), last 8 weeks.
    Returns predict(weekdays, t) -> totals (NaN for a weekday without data). The trend is extrapolated at
    most ``_TREND_WEEKS`` weeks beyond the data and held there: a few weeks' slope is no yearly growth."""
    import statsmodels.api as sm

    ok = np.flatnonzero(np.isfinite(tot) & (tot > 0))
    n_wd = len(np.unique(wd))
    ok = ok[-_TREND_WEEKS * n_wd:]
    levels = sorted(int(w) for w in np.unique(wd[ok]))
    if not levels:
        return lambda target_wd, target_t: np.full(len(target_wd), np.nan)
    trend = len(ok) >= 3 * len(levels)
    t = np.arange(len(tot))
    x = _weekday_design(wd[ok], t[ok], levels, trend)
    fit = sm.OLS(np.log(tot[ok]), x).fit()
    t_max = int(ok[-1]) + _TREND_WEEKS * n_wd

    def predict(target_wd: np.ndarray, target_t: np.ndarray) -> np.ndarray:
        known = np.isin(target_wd, levels)
        safe_wd = np.where(known, target_wd, levels[0])
        design = _weekday_design(safe_wd, np.minimum(np.asarray(target_t), t_max), levels, trend)
        pred = np.exp(design @ fit.params)
        return np.where(known, pred, np.nan)

    return predict


def _top_down(y, wd, target_wd, steps):
    tot = np.nansum(y, axis=1)
    tot[np.isnan(y).all(axis=1)] = np.nan
    predict = _daily_fit(tot, wd)
    totals = predict(np.asarray(target_wd), len(y) - 1 + np.asarray(steps))
    prof = _profiles(y, wd)
    return np.array([totals[h] * prof[int(w)] for h, w in enumerate(target_wd)])


def _ets(y, wd, target_wd, steps, params: np.ndarray | None = None):
    """Daily totals by ETS(M,Ad,M) x the intraday profile. With ``params`` (from a fit on a longer
    training window) the model is only smoothed, not re-estimated: used for the band's inner origins."""
    period = len(np.unique(wd))
    have = ~np.isnan(y).all(axis=1)
    if len(y) < 3 * period or period < 2 or have.sum() < 2 * period:
        return _top_down(y, wd, target_wd, steps)
    fit = _ets_fit(y, wd, params)
    if fit is None:
        return _top_down(y, wd, target_wd, steps)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = np.asarray(fit.forecast(int(np.max(steps))), float)
    totals = path[np.asarray(steps) - 1]
    prof = _profiles(y, wd)
    return np.array([totals[h] * prof[int(w)] for h, w in enumerate(target_wd)])


def _ets_fit(y: np.ndarray, wd: np.ndarray, params: np.ndarray | None = None):
    """statsmodels ETSModel on the daily totals (days without data filled by the weekday fit); None when a day
    cannot be filled (a weekday without any data)."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    tot = np.nansum(y, axis=1)
    missing = np.isnan(y).all(axis=1)
    fill = _daily_fit(np.where(missing, np.nan, tot), wd)(wd, np.arange(len(y)))
    series = np.where(missing | (tot <= 0), fill, tot)
    if not (np.isfinite(series).all() and (series > 0).all()):
        return None
    model = ETSModel(pd.Series(series), error="mul", trend="add", damped_trend=True, seasonal="mul",
                     seasonal_periods=len(np.unique(wd)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(disp=False, maxiter=200) if params is None else model.smooth(params)


_FUNCS: dict[str, Callable] = {"last_week": _last_week, "mean_4_weeks": _mean_4_weeks, "top_down": _top_down,
                               "ets": _ets}


def point_forecast(method: str, y: np.ndarray, wd: np.ndarray, target_wd, steps, **kw) -> np.ndarray:
    """Point forecast (H, S) of ``method`` from training rows ``y`` (NaN rows = no data)."""
    f = _FUNCS[method](y, wd, np.asarray(target_wd), np.asarray(steps), **kw)
    return np.clip(np.nan_to_num(f, nan=0.0), 0.0, None)


# ---------------------------------------------------------------------------
# error model for the band, estimated inside the training data

@dataclass(frozen=True)
class ErrorModel:
    """Day factor: lognormal with sd ``sigma_day`` (root mean square of log actual/forecast day totals,
    so a bias widens the band); interval counts: negative binomial with dispersion ``phi``
    (variance mu + phi mu^2)."""

    sigma_day: float
    phi: float


def _errors(method: str, y: np.ndarray, wd: np.ndarray, origins: list[int], horizon: int):
    """Day log-ratios and interval residuals of ``method`` at inner origins (rows held out after each).
    ETS is estimated once, on the data before the first inner origin, and only smoothed at the later
    ones (the estimation is the slow part; its parameters never see any held-out day)."""
    logr, resid2, mu, mu2 = [], [], [], []
    kw = {}
    first = min(origins)
    if method == "ets" and first >= 3 * len(np.unique(wd[:first])) and len(np.unique(wd[:first])) >= 2:
        fit = _ets_fit(y[:first], wd[:first])
        kw = {"params": fit.params} if fit is not None else {}
    for o in origins:
        hold = np.arange(o, min(o + horizon, len(y)))
        hold = hold[~np.isnan(y[hold]).all(axis=1)]
        if hold.size == 0 or not _enough_training(y[:o], wd):
            continue
        f = point_forecast(method, y[:o], wd[:o], wd[hold], hold - o + 1, **kw)
        a = y[hold]
        ft, at = f.sum(axis=1), a.sum(axis=1)
        good = (ft > 0) & (at > 0)
        logr += list(np.log(at[good] / ft[good]))
        scaled = f[good] * (at[good] / ft[good])[:, None]
        resid2 += list(((a[good] - scaled) ** 2).ravel())
        mu += list(scaled.ravel())
        mu2 += list((scaled ** 2).ravel())
    return np.array(logr), np.array(resid2), np.array(mu), np.array(mu2)


def error_model(method: str, y: np.ndarray, wd: np.ndarray, horizon: int) -> ErrorModel:
    """Estimate the band's error model from three weekly inner origins before the end of ``y``."""
    period = max(len(np.unique(wd)), 1)
    origins = [len(y) - k * period for k in (3, 2, 1) if len(y) - k * period >= 2 * period]
    if not origins:
        origins = [max(len(y) - period, 1)]
    logr, r2, mu, mu2 = _errors(method, y, wd, origins, min(horizon, 3 * period))
    if logr.size < 3:
        return ErrorModel(0.1, 0.0)
    sigma = float(np.sqrt(np.mean(logr ** 2)))
    phi = float(max(0.0, (r2.sum() - mu.sum()) / mu2.sum())) if mu2.sum() > 0 else 0.0
    return ErrorModel(sigma, phi)


def sample_counts(point: np.ndarray, err: ErrorModel, seed: int = 0) -> np.ndarray:
    """Simulated calls (samples, H, S): lognormal day factor x negative-binomial counts around ``point``."""
    rng = np.random.default_rng(seed)
    h, s = point.shape
    z = rng.standard_normal((_SAMPLES, h, 1))
    factor = np.exp(err.sigma_day * z - err.sigma_day ** 2 / 2)
    mean = point[None] * factor
    if err.phi > 1e-9:
        mean = rng.gamma(1.0 / err.phi, err.phi, size=mean.shape) * mean
    return rng.poisson(np.clip(mean, 0, 1e12))


def sample_quantiles(point: np.ndarray, err: ErrorModel, quantiles: tuple[float, ...], seed: int = 0) -> np.ndarray:
    """Quantiles (Q, H, S) of calls per interval under :func:`sample_counts`."""
    return np.quantile(sample_counts(point, err, seed), quantiles, axis=0)


# ---------------------------------------------------------------------------
# backtest and forecast

@dataclass(frozen=True)
class Backtest:
    """Rolling-origin backtest. ``table``: one row per segment x method: wape, coverage_80 (share of
    actual intervals inside p10-p90; NaN without any origin), origins, horizon_days; ``best``: the method
    chosen per segment (``FALLBACK_METHOD`` where no origin could be scored: ``fallback`` lists those
    segments and ``notes`` says why). Stopped segments are not backtested."""

    table: pd.DataFrame
    best: dict[str, str]
    notes: tuple[str, ...] = ()
    fallback: tuple[str, ...] = ()


def _enough_training(y: np.ndarray, wd: np.ndarray) -> bool:
    """Training rows hold at least one week of days with data (a gap of weeks may leave fewer)."""
    have = ~np.isnan(y).all(axis=1)
    return bool(have.sum() >= max(len(np.unique(wd)), 1))


def _origins(n_days: int, period: int, horizon: int, max_origins: int = 4) -> list[int]:
    """Weekly origins (row indices) with the whole horizon inside the history and 2+ weeks of training."""
    last = n_days - horizon
    out = [last - k * period for k in range(max_origins)]
    return sorted(o for o in out if o >= 2 * period)


def backtest(hist: list[SegmentHistory], horizon_days: int, methods: tuple[str, ...] = METHODS,
             progress: Callable[[int, int], None] | None = None) -> Backtest:
    """WAPE and p10-p90 coverage of each method at weekly origins over the last weeks of the history.
    ``horizon_days`` counts calendar days; it becomes open days per segment."""
    rows, best, notes, fallback = [], {}, [], []
    hist = [sh for sh in hist if sh.stopped_since is None]
    total = len(hist) * len(methods)
    done = 0
    for sh in hist:
        period = len(sh.open_weekdays)
        horizon = max(1, round(horizon_days * period / 7))
        origins = _origins(len(sh.y), period, horizon)
        while not origins and horizon > period:
            horizon -= period
            origins = _origins(len(sh.y), period, horizon)
        wd = sh.weekdays
        # an origin is scored where its window holds a day with data and its training a week of them
        origins = [o for o in origins if (~np.isnan(sh.y[o:o + horizon]).all(axis=1)).any()
                   and _enough_training(sh.y[:o], wd[:o])]
        for m in methods:
            abs_err = act = inside = n = 0.0
            for o in origins:
                hold = np.arange(o, o + horizon)
                hold = hold[~np.isnan(sh.y[hold]).all(axis=1)]
                f = point_forecast(m, sh.y[:o], wd[:o], wd[hold], hold - o + 1)
                a = sh.y[hold]
                q = sample_quantiles(f, error_model(m, sh.y[:o], wd[:o], horizon), (0.1, 0.9), seed=o)
                abs_err += np.abs(a - f).sum()
                act += a.sum()
                inside += ((a >= q[0]) & (a <= q[1])).sum()
                n += a.size
            rows.append({"segment": sh.segment, "method": m, "wape": abs_err / act if act > 0 else np.nan,
                         "coverage_80": inside / n if n else np.nan, "origins": len(origins),
                         "horizon_days": horizon})
            done += 1
            if progress:
                progress(done, total)
        seg_rows = [r for r in rows if r["segment"] == sh.segment and np.isfinite(r["wape"])]
        if seg_rows:
            best[sh.segment] = min(seg_rows, key=lambda r: r["wape"])["method"]
        else:
            best[sh.segment] = FALLBACK_METHOD
            fallback.append(sh.segment)
            n_days = int((~np.isnan(sh.y).all(axis=1)).sum())
            notes.append(f"segment {sh.segment!r}: no backtest origin (a backtest needs 2 weeks of days with data "
                         f"before a held-out week; the history has {n_days} open day(s) with data): {FALLBACK_METHOD} "
                         "is used without a backtest (the fallback: the mean of the last same weekdays)")
    table = pd.DataFrame(rows, columns=["segment", "method", "wape", "coverage_80", "origins", "horizon_days"])
    return Backtest(table, best, tuple(notes), tuple(fallback))


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


def forecast(hist: list[SegmentHistory], start: dt.date, days: int, method: str = "auto",
             backtest_result: Backtest | None = None, quantile: float | None = None,
             interval_minutes: int = 30, seed: int = 2026,
             notes: list[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Forecast per interval and per day.

    Intervals: date, interval_start (HH:MM), segment, forecast, p10, p50, p90, method (and ``quantile``
    as column ``q`` when given, ``aht_s`` when the history has it), one row per open interval of each
    open day from ``start`` for ``days`` calendar days. Days: date, segment, method, forecast, p10,
    p50, p90 of the day's total (its own quantiles, not sums of interval quantiles).
    ``method`` "auto" needs ``backtest_result``. A stopped segment gets 0 calls (method "stopped"); a day above
    ``MAX_DAY_FACTOR`` x the history's busiest is capped; both are said in ``notes``."""
    if method != "auto" and method not in METHODS:
        raise ForecastError(f"unknown method {method!r}: choose auto, {', '.join(METHODS)}")
    if not hist:
        raise ForecastError("the history has no segment with calls")
    check_start(hist, start)
    notes = notes if notes is not None else []
    frames, daily = [], []
    qs = tuple(QUANTILES) + ((quantile,) if quantile is not None else ())
    for sh in hist:
        target = [start + dt.timedelta(days=k) for k in range(days)]
        target = [d for d in target if d.weekday() in sh.open_weekdays]
        if not target:
            continue
        wd = sh.weekdays
        t_wd = np.array([d.weekday() for d in target])
        if sh.stopped_since is not None:
            m = "stopped"
            point = np.zeros((len(target), len(sh.slots)))
            q = np.zeros((len(qs), len(target), len(sh.slots)))
            sims = np.zeros((1, len(target), len(sh.slots)))
            end = sh.end or sh.dates[-1]
            notes.append(f"segment {sh.segment!r} has had no calls since {sh.stopped_since} (the last "
                         f"{(end - sh.stopped_since).days + 1} days of the history): it is forecast as 0 calls (a "
                         "stopped queue); if it has reopened, forecast it from a history that shows it")
        else:
            m = (backtest_result.best.get(sh.segment, FALLBACK_METHOD) if backtest_result else "top_down") \
                if method == "auto" else method
            last = sh.dates[-1]
            # steps ahead in open days (holidays in the horizon count as open days)
            gap = sum(1 for k in range(1, (start - last).days) if (last + dt.timedelta(days=k)).weekday()
                      in sh.open_weekdays)
            steps = gap + 1 + np.arange(len(target))
            point = point_forecast(m, sh.y, wd, t_wd, steps)
            _cap(sh, m, point, target, notes)
            err = error_model(m, sh.y, wd, int(steps.max()))
            sims = sample_counts(point, err, seed=seed)
            q = np.quantile(sims, qs, axis=0)
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
                "p90": q[2, h, keep], "method": m})
            if quantile is not None:
                frame["q"] = q[3, h, keep]
            if aht is not None:
                frame["aht_s"] = aht[h, keep]
            frames.append(frame)
            tot_q = np.quantile(sims[:, h, keep].sum(axis=1), QUANTILES)
            daily.append({"date": d.isoformat(), "segment": sh.segment, "method": m,
                          "forecast": float(point[h, keep].sum()), "p10": tot_q[0], "p50": tot_q[1], "p90": tot_q[2]})
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
