"""The forecast pipeline behind ``ccplan forecast`` and the app's Forecast page.

Everything the user gave is checked before the backtest starts (:func:`check_options`,
:func:`prepare`): options, the country of the public holidays, the start day (after the history, at
most a year later, holding an open day), the history itself (outliers replaced, a changed bucket
size read in the coarser one, stopped segments found, special days gathered) and, with a base
scenario, whether forecast days can become its scenarios. The slow part (:func:`run`: backtest,
then forecast) only starts on inputs that can give an answer.

Special days, kept out of the patterns and the scoring: public holidays of ``country`` (the
``holidays`` package; none by default), days the history's ``special`` column flags, and days the
user lists (``--exclude-dates``). Automatic outlier days are found by the engine at each origin.
Problems are :class:`planner.forecast.ForecastError` (options, dates, country),
:class:`ccplan.history.HistoryError` (the file) or :class:`ccplan.scenario.ScenarioError` (the base
scenario); what was read or forecast differently from the face of the input is said in ``notes``.
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
    """A checked forecast job: the history as the forecast sees it and every option, with the notes so far.

    ``holidays``: public holidays (date -> name) from the history's first day to the forecast's last;
    ``flagged_ahead``: days listed to exclude that lie after the history (said in notes, forecast as usual)."""

    history: History                  # as read
    rolled: pd.DataFrame              # calls per interval after outliers were replaced
    segments: list[fc.SegmentHistory]
    start: dt.date
    days: int
    method: str
    quantile: float
    interval_minutes: int
    notes: list[str] = field(default_factory=list)
    country: str | None = None
    holidays: dict = field(default_factory=dict)
    flagged_ahead: dict = field(default_factory=dict)

    @property
    def backtest_days(self) -> int:
        """Calendar days ahead the backtest judges (the forecast's days, at most 4 weeks)."""
        return min(self.days, BACKTEST_MAX_DAYS)


@dataclass
class Result:
    """A forecast: intervals and days as :func:`planner.forecast.forecast` gives them, the backtest, and notes."""

    intervals: pd.DataFrame
    days: pd.DataFrame
    backtest: fc.Backtest
    notes: list[str]


def check_options(days: int, interval_minutes: int, quantile: float, method: str, country: str | None = None) -> None:
    """ForecastError naming the first option out of range (an unknown --country included)."""
    if interval_minutes not in INTERVAL_MINUTES:
        raise fc.ForecastError(f"--interval-minutes must be 15, 30 or 60, got {interval_minutes}")
    if not 0 < quantile < 1:
        raise fc.ForecastError(f"--quantile must be between 0 and 1 (exclusive), got {quantile:g}")
    if not 1 <= days <= MAX_DAYS:
        raise fc.ForecastError(f"--days must be between 1 and {MAX_DAYS}, got {days}")
    if method != fc.AUTO and method not in fc.METHODS:
        raise fc.ForecastError(f"--method must be auto, {', '.join(fc.METHODS)}; got {method!r}")
    if country is not None:
        holiday_calendar(country, dt.date(2000, 1, 1), dt.date(2000, 1, 2))


def holiday_calendar(country: str, first: dt.date, last: dt.date) -> dict[dt.date, str]:
    """Public holidays (date -> name) of ``country`` from ``first`` to ``last``: an ISO 3166 code (``US``, ``GB``,
    ``DE``) or a code and a subdivision (``US-NY``, ``DE-BY``), by the ``holidays`` package. ForecastError for a
    code or subdivision it does not know."""
    import holidays

    code = country.strip()
    cc, _, subdiv = code.partition("-")
    supported = holidays.list_supported_countries()
    if cc.upper() not in supported:
        close = [c for c in sorted(supported) if len(c) == 2 and c[0] == cc[:1].upper()][:6]
        raise fc.ForecastError(f"--country {country!r}: not a country code the holidays package knows; give an ISO "
                               f"3166 code such as US, GB, DE or FR ({len([c for c in supported if len(c) == 2])} "
                               "two-letter codes are known" + (f"; starting with {cc[:1].upper()}: "
                                                                 f"{', '.join(close)}" if close else "") + ")")
    try:
        cal = holidays.country_holidays(cc.upper(), subdiv=subdiv.upper() or None,
                                        years=range(first.year, last.year + 1))
    except NotImplementedError:
        subs = supported[cc.upper()]
        raise fc.ForecastError(f"--country {country!r}: {cc.upper()} has no subdivision {subdiv!r}"
                               + (f"; known: {', '.join(subs[:12])}{' …' if len(subs) > 12 else ''}" if subs else
                                  f"; {cc.upper()} has no subdivisions, give {cc.upper()} alone")) from None
    return {d: str(n) for d, n in sorted(cal.items()) if first <= d <= last}


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


def special_days(h: History, holidays: dict[dt.date, str], excluded: dict[dt.date, str] | None
                 ) -> dict[str, dict[dt.date, str]]:
    """Per segment, the known special days of the history: holidays, the days its ``special`` column flags and
    the ``excluded`` ones (date -> label)."""
    first, last = h.dates[0], h.dates[-1]
    common = {d: f"holiday: {n}" for d, n in holidays.items() if first <= d <= last}
    common.update({d: n for d, n in (excluded or {}).items() if first <= d <= last})
    flagged = h.special_days()
    return {seg: {**common, **flagged.get(seg, {})} for seg in h.segments}


def special_notes(h: History, country: str | None, holidays: dict[dt.date, str],
                  excluded: dict[dt.date, str] | None) -> list[str]:
    """What the user's special days amount to, in words."""
    notes = []
    first, last = h.dates[0], h.dates[-1]
    if country is not None:
        past = {d: n for d, n in holidays.items() if first <= d <= last}
        notes.append(f"public holidays of {country.upper()} in the history: "
                     + (", ".join(f"{d} ({n})" for d, n in list(past.items())[:6]) + (" …" if len(past) > 6 else "")
                        if past else "none")
                     + " — kept out of the patterns and the backtest's scoring")
    flagged = h.special_days()
    n_flagged = len({d for days in flagged.values() for d in days})
    if n_flagged:
        notes.append(f"{n_flagged} day(s) flagged in the history's special column are kept out of the patterns and "
                     "the backtest's scoring")
    if excluded:
        inside = [d for d in excluded if first <= d <= last]
        outside = [d for d in excluded if d < first]
        if inside:
            notes.append(f"{len(inside)} day(s) of --exclude-dates are kept out of the patterns and the backtest's "
                         "scoring")
        if outside:
            notes.append(f"{len(outside)} day(s) of --exclude-dates are before the history ({first}) and change "
                         "nothing")
    return notes


def prepare(h: History, interval_minutes: int = 30, start: dt.date | None = None, days: int = 7,
            method: str = "auto", quantile: float = 0.5, base: Scenario | None = None,
            country: str | None = None, excluded: dict[dt.date, str] | None = None) -> Prepared:
    """Check a forecast job before any backtest: options, the history at ``interval_minutes``, the start (default:
    the day after the history's last row), the public holidays of ``country``, the days ``excluded`` and, with
    ``base``, that each forecast day can become its scenario."""
    check_options(days, interval_minutes, quantile, method, country)
    notes = list(h.notes)
    h.rolled_up(interval_minutes)  # refuses an interval finer than the history, before anything slow
    clean, outliers = without_outliers(h)
    notes += outliers
    rolled = clean.rolled_up(interval_minutes)
    first = start if start is not None else h.dates[-1] + dt.timedelta(days=1)
    holidays = holiday_calendar(country, h.dates[0], first + dt.timedelta(days=days)) if country else {}
    segments = fc.segment_histories(rolled, special_days(h, holidays, excluded))
    if not segments:
        raise fc.ForecastError("the history has no calls to forecast from")
    fc.check_start(segments, first)
    check_window(segments, first, days)
    if base is not None:
        from ccplan.volumes import check_forecast_fit

        slots = sorted({int(s) for sh in segments for s in sh.slots})
        check_forecast_fit(base, [sh.segment for sh in segments], slots, interval_minutes)
    notes += special_notes(h, country, holidays, excluded)
    ahead = {d: n for d, n in (excluded or {}).items() if d > h.dates[-1]}
    return Prepared(h, rolled, segments, first, days, method, quantile, interval_minutes, notes, country, holidays,
                    ahead)


def backtest(p: Prepared, progress: Callable[[int, int], None] | None = None) -> fc.Backtest:
    """The nested rolling-origin backtest of every method and auto (horizon: the forecast's days, at most 4 weeks)."""
    return fc.backtest(p.segments, p.backtest_days, progress=progress)


def backtest_units(p: Prepared) -> int:
    """How many origin forecasts :func:`backtest` makes (for a progress bar)."""
    return max(1, fc.backtest_units(p.segments, p.backtest_days))


def run(p: Prepared, bt: fc.Backtest | None = None,
        progress: Callable[[int, int], None] | None = None) -> Result:
    """Backtest (unless ``bt`` is given) and forecast; the notes are the job's, the backtest's and the forecast's."""
    bt = bt if bt is not None else backtest(p, progress)
    notes = list(p.notes) + [n for n in bt.notes if n not in p.notes]
    intervals, days = fc.forecast(p.segments, p.start, p.days, method=p.method, backtest_result=bt,
                                  quantile=p.quantile, interval_minutes=p.interval_minutes, notes=notes,
                                  holidays=p.holidays, flagged_ahead=p.flagged_ahead, horizon_days=p.backtest_days)
    return Result(intervals, days, bt, notes)
