"""The forecast pipeline behind ``ccplan forecast`` and the app's Forecast page.

Everything the user gave is checked before the backtest starts (:func:`check_options`,
:func:`prepare`): options, the start day (after the history, at most a year later, holding an open
day), the history itself (outliers replaced, a changed bucket size read in the coarser one, stopped
segments found) and, with a base scenario, whether forecast days can become its scenarios. The slow
part (:func:`run`: backtest, then forecast) only starts on inputs that can give an answer.
Problems are :class:`planner.forecast.ForecastError` (options, dates), :class:`ccplan.history.HistoryError`
(the file) or :class:`ccplan.scenario.ScenarioError` (the base scenario); what was read or
forecast differently from the face of the input is said in ``notes``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable

import pandas as pd

from ccplan.history import History, without_outliers
from ccplan.scenario import Scenario
from planner import forecast as fc

INTERVAL_MINUTES = (15, 30, 60)
MAX_DAYS = 366
BACKTEST_MAX_DAYS = 28


@dataclass
class Prepared:
    """A checked forecast job: the history as the forecast sees it and every option, with the notes so far."""

    history: History                  # as read
    rolled: pd.DataFrame              # calls per interval after outliers were replaced
    segments: list[fc.SegmentHistory]
    start: dt.date
    days: int
    method: str
    quantile: float
    interval_minutes: int
    notes: list[str] = field(default_factory=list)


@dataclass
class Result:
    """A forecast: intervals and days as :func:`planner.forecast.forecast` gives them, the backtest, and notes."""

    intervals: pd.DataFrame
    days: pd.DataFrame
    backtest: fc.Backtest
    notes: list[str]


def check_options(days: int, interval_minutes: int, quantile: float, method: str) -> None:
    """ForecastError naming the first option out of range."""
    if interval_minutes not in INTERVAL_MINUTES:
        raise fc.ForecastError(f"--interval-minutes must be 15, 30 or 60, got {interval_minutes}")
    if not 0 < quantile < 1:
        raise fc.ForecastError(f"--quantile must be between 0 and 1 (exclusive), got {quantile:g}")
    if not 1 <= days <= MAX_DAYS:
        raise fc.ForecastError(f"--days must be between 1 and {MAX_DAYS}, got {days}")
    if method != "auto" and method not in fc.METHODS:
        raise fc.ForecastError(f"--method must be auto, {', '.join(fc.METHODS)}; got {method!r}")


def parse_start(text: str | None) -> dt.date | None:
    """The ``--start`` date (None: the day after the history)."""
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise fc.ForecastError(f"--start must be a date YYYY-MM-DD, got {text!r}") from None


def check_window(segments: list[fc.SegmentHistory], start: dt.date, days: int) -> None:
    """ForecastError unless some segment is open on a day of the window (``start`` for ``days`` days)."""
    window = [start + dt.timedelta(days=k) for k in range(days)]
    if any(d.weekday() in sh.open_weekdays for sh in segments for d in window):
        return
    names = list(dict.fromkeys(d.strftime("%A") for d in window))
    raise fc.ForecastError(f"no open day from {start} for {days} day(s): {', '.join(names)} never had calls in the "
                           "history (closed); choose another --start or more --days")


def prepare(h: History, interval_minutes: int = 30, start: dt.date | None = None, days: int = 7,
            method: str = "auto", quantile: float = 0.5, base: Scenario | None = None) -> Prepared:
    """Check a forecast job before any backtest: options, the history at ``interval_minutes``, the start (default:
    the day after the history's last row) and, with ``base``, that each forecast day can become its scenario."""
    check_options(days, interval_minutes, quantile, method)
    notes = list(h.notes)
    h.rolled_up(interval_minutes)  # refuses an interval finer than the history, before anything slow
    clean, outliers = without_outliers(h)
    notes += outliers
    rolled = clean.rolled_up(interval_minutes)
    segments = fc.segment_histories(rolled)
    if not segments:
        raise fc.ForecastError("the history has no calls to forecast from")
    first = start if start is not None else h.dates[-1] + dt.timedelta(days=1)
    fc.check_start(segments, first)
    check_window(segments, first, days)
    if base is not None:
        from ccplan.volumes import check_forecast_fit

        slots = sorted({int(s) for sh in segments for s in sh.slots})
        check_forecast_fit(base, [sh.segment for sh in segments], slots, interval_minutes)
    return Prepared(h, rolled, segments, first, days, method, quantile, interval_minutes, notes)


def backtest(p: Prepared, progress: Callable[[int, int], None] | None = None) -> fc.Backtest:
    """The rolling-origin backtest of every method (horizon: the forecast's days, at most 4 weeks)."""
    return fc.backtest(p.segments, min(p.days, BACKTEST_MAX_DAYS), progress=progress)


def backtest_units(p: Prepared) -> int:
    """How many segment x method backtests :func:`backtest` runs (for a progress bar)."""
    return sum(1 for sh in p.segments if sh.stopped_since is None) * len(fc.METHODS)


def run(p: Prepared, bt: fc.Backtest | None = None,
        progress: Callable[[int, int], None] | None = None) -> Result:
    """Backtest (unless ``bt`` is given) and forecast; the notes are the job's, the backtest's and the forecast's."""
    bt = bt if bt is not None else backtest(p, progress)
    notes = list(p.notes) + [n for n in bt.notes if n not in p.notes]
    intervals, days = fc.forecast(p.segments, p.start, p.days, method=p.method, backtest_result=bt,
                                  quantile=p.quantile, interval_minutes=p.interval_minutes, notes=notes)
    return Result(intervals, days, bt, notes)
