"""Interval volumes from a phone system's export (CSV) into a scenario's ``calls_per_interval``.

Two layouts are read:
- wide: one row per interval, one column per segment (an optional first column
  ``interval`` or ``time`` labels the rows);
- long: columns ``interval`` (or ``interval_start``, ``time``, ...), ``segment``, ``calls`` (or ``offered``, ...),
  as ACDs export it (``date, interval_start, segment, offered``: one date at a time).
Problems (missing or unknown segments, a wrong number of intervals, non-numeric
or negative cells) are reported together, each naming the row and column.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ccplan.scenario import Scenario, ScenarioError, clock_label, clock_minutes, from_dict, read_input, to_dict

MAX_VOLUMES_BYTES = 10_000_000  # policy: one day of intervals; 10 MB is thousands of segments

_LABEL_COLS = ("interval", "interval_start", "time", "period", "start")
_CALLS_COLS = ("calls", "offered", "calls_offered", "offered_calls", "volume")
_HINT = (f"accepted columns: wide, one column per segment and optionally a label ({', '.join(_LABEL_COLS)}); long, "
         f"segment, a label and the calls ({', '.join(_CALLS_COLS)}), and optionally date (one day)")


def _read_csv(source: str | Path | bytes, name: str) -> pd.DataFrame:
    try:
        if isinstance(source, bytes):
            text = source.decode("utf-8-sig")
        elif isinstance(source, Path) or (isinstance(source, str) and "\n" not in source and Path(source).exists()):
            text = read_input(source, MAX_VOLUMES_BYTES, "volumes file").decode("utf-8-sig")
        else:
            text = str(source)
    except UnicodeDecodeError:
        raise ScenarioError([("", "not a text CSV file")], name) from None
    except OSError as exc:
        raise ScenarioError([("", f"cannot read: {exc.strerror}")], name) from None
    if not text.strip():
        raise ScenarioError([("", "the file is empty")], name)
    from ccplan.history import HistoryError, check_fields, decimal_mark_of, excel_separator, separator_of

    excel_sep, body = excel_separator(text)  # Excel's "sep=;" first line names the separator
    skipped = 0 if excel_sep is None else 1
    if not body.strip():
        raise ScenarioError([("", "the file has no header after its 'sep=' line")], name)
    sep = excel_sep or separator_of(body.splitlines()[0])
    try:
        check_fields(body, sep, name, first_line=1 + skipped)
        df = pd.read_csv(io.StringIO(body), dtype=str, skipinitialspace=True, sep=sep, keep_default_na=False,
                         index_col=False)
        df.index = df.index + skipped  # messages say row i + 2: the file's line number
        label = [c for c in df.columns if str(c).strip().lower() in _LABEL_COLS + ("segment", "date")]
        df.attrs["decimal"] = decimal_mark_of(df.drop(columns=label), sep, name)
    except HistoryError as exc:  # the same number-format rules as histories, said about this file
        raise ScenarioError(exc.problems, name, what="volumes file") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ScenarioError([("", f"not a readable CSV: {exc}")], name) from None
    return df


_CLOCK_LABEL = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::\d{2})?(?:\s*[-–]\s*\d{1,2}:\d{2}(?::\d{2})?)?\s*$")


def _slots(labels: pd.Series, scenario: Scenario, col: str, problems: list) -> tuple[np.ndarray, int] | None:
    """Each row's label as a slot of the scenario's day: (slot index per row, slots per interval).

    Clock labels (``09:30``, ``09:30:00``, ``09:30-10:00``) are placed by time; a grid finer than the
    interval that divides it (15-minute rows for 30-minute intervals) gives several slots per interval,
    to be summed. Whole numbers are interval numbers, 0- or 1-based (``0..n-1`` or ``1..n``). A label
    outside the day, off the grid or unreadable is a problem naming its row; so are duplicates."""
    text = labels.astype(str).str.strip()
    step = scenario.interval_minutes
    open_m = clock_minutes(scenario.open_time)
    n = scenario.n_intervals
    clocks = text.str.extract(_CLOCK_LABEL)
    if clocks.notna().all(axis=None):
        minutes = clocks[0].astype(int) * 60 + clocks[1].astype(int)
        offsets = (minutes - open_m) % (24 * 60)  # a day may run past midnight
        grid = int(np.gcd.reduce(np.append(offsets.to_numpy(), step)))
        sub = next((g for g in (step, 15, 10, 5) if step % g == 0 and grid % g == 0), None)
        if sub is None:
            i = int(np.flatnonzero(offsets.to_numpy() % 5)[0])
            problems.append((f"row {labels.index[i] + 2}, column {col!r}",
                             f"{text.iloc[i]!r} is off the {step}-minute grid of a day opening at {scenario.open_time}"))
            return None
        slot = (offsets // sub).to_numpy()
        per = step // sub
        bad = np.flatnonzero(slot >= n * per)
        for i in bad[:3]:
            problems.append((f"row {labels.index[i] + 2}, column {col!r}",
                             f"{text.iloc[i]} is outside the scenario's day ({scenario.open_time}-"
                             f"{clock_label(open_m + n * step)})"))
        return (None if len(bad) else (slot, per))
    nums = pd.to_numeric(text, errors="coerce")
    if nums.notna().all() and (nums % 1 == 0).all():
        k = nums.astype(int).to_numpy()
        if k.min() == 0 and k.max() <= n - 1:
            return k, 1
        if k.min() == 1 and k.max() <= n:
            return k - 1, 1
        problems.append((f"column {col!r}", f"interval numbers {k.min()}..{k.max()} do not fit the scenario's {n} "
                                            f"intervals (0..{n - 1} or 1..{n})"))
        return None
    i = int(np.flatnonzero(clocks.isna().any(axis=1).to_numpy() & nums.isna().to_numpy())[0]) \
        if (clocks.isna().any(axis=1) & nums.isna()).any() else 0
    problems.append((f"row {labels.index[i] + 2}, column {col!r}",
                     f"{text.iloc[i]!r} is neither a clock time (HH:MM) nor an interval number"))
    return None


def _by_slot(values: list[float], slots: tuple[np.ndarray, int] | None, n: int, what: str, rows, col: str,
             problems: list) -> list[float]:
    """Values placed by their rows' slots and summed per interval; duplicates and gaps are problems."""
    if slots is None:
        return values
    slot, per = slots
    seen: dict[int, int] = {}
    for r, k in zip(rows, slot):
        if k in seen:
            problems.append((f"row {r + 2}, column {col!r}", f"{what}: the same interval as row {seen[k] + 2}"))
            return values
        seen[int(k)] = r
    missing = sorted(set(range(n * per)) - set(seen))
    if missing:
        problems.append((what, f"no row for {len(missing)} of the day's {n * per} time slots (the first is slot "
                               f"{missing[0]})"))
        return values
    out = np.zeros(n)
    np.add.at(out, np.asarray(slot) // per, np.asarray(values, float))
    return [float(x) for x in out]


def read_volumes(source: str | Path | bytes, scenario: Scenario, name: str = "volumes.csv",
                 notes: list[str] | None = None) -> dict[str, list[float]]:
    """Calls per interval per segment from a CSV (wide or long layout), checked against the scenario.

    With a label column (``interval``, ``time``, ``period`` or ``start``), rows are placed by their
    label, never by position: clock times are matched to the scenario's day (finer rows are summed into
    its intervals, said in ``notes``), and rows outside the day, off its grid, duplicated or missing are
    problems. Without one, rows are the day's intervals in order."""
    df = _read_csv(source, name)
    df.columns = [str(c).strip() for c in df.columns]
    lower = {c.lower(): c for c in df.columns}
    problems: list[tuple[str, str]] = []
    n = scenario.n_intervals
    label = next((lower[c] for c in _LABEL_COLS if c in lower), None)
    volumes: dict[str, list[float]] = {}
    rolled = False
    if "timestamp" in lower and label is None:
        raise ScenarioError([(f"column {lower['timestamp']!r}", "a volumes file labels its rows by clock time (a "
                                                               f"column {', '.join(_LABEL_COLS)}), not by timestamp; "
                                                               "a history of timestamped rows is forecast with ccplan "
                                                               "forecast (the Forecast page)")], name,
                            what="volumes file")
    date_col = lower.get("date")
    if date_col is not None:
        dates = [d for d in dict.fromkeys(df[date_col].astype(str).str.strip()) if d]
        if len(dates) > 1:
            raise ScenarioError([(f"column {date_col!r}", f"rows of {len(dates)} dates ({dates[0]} … {dates[-1]}): a "
                                                         "volumes file is one day; import a history of several days on "
                                                         "the Forecast page (ccplan forecast)")], name,
                                what="volumes file")
        df = df.drop(columns=[date_col])
    calls_name = next((c for c in _CALLS_COLS if c in lower), None)
    if "segment" in lower and calls_name is None:
        raise ScenarioError([("", "a 'segment' column but no calls column; " + _HINT)], name, what="volumes file")
    if "segment" in lower:
        seg_col, calls_col = lower["segment"], lower[calls_name]
        for seg, sub in df.groupby(seg_col, sort=False):
            seg = str(seg).strip()
            if seg not in scenario.segment_names:
                problems.append((f"segment {seg!r}", f"is not a segment of the scenario ({', '.join(scenario.segment_names)})"))
                continue
            vals = _numbers(sub[calls_col], sub.index, calls_col, problems, df.attrs["decimal"])
            slots = _slots(sub[label], scenario, label, problems) if label is not None else None
            rolled |= slots is not None and slots[1] > 1
            volumes[seg] = _by_slot(vals, slots, n, f"segment {seg!r}", sub.index, label, problems) \
                if label is not None else vals
    else:
        data_cols = [c for c in df.columns if c != label]
        if label is None and len(df.columns) == 1 and df.columns[0] not in scenario.segment_names:
            problems.append(("", f"one column ({df.columns[0]!r}) and it is not a segment: a volumes file has one "
                                 f"column per segment ({', '.join(scenario.segment_names)}), or the long layout "
                                 "interval,segment,calls"))
        slots = _slots(df[label], scenario, label, problems) if label is not None else None
        rolled = slots is not None and slots[1] > 1
        unknown = [c for c in data_cols if c not in scenario.segment_names]
        if unknown and len(unknown) == len(data_cols):
            problems.append(("", f"no column is a segment of the scenario ({', '.join(scenario.segment_names)}) or "
                                 f"a known name; {_HINT}"))
        for c in data_cols:
            if c not in scenario.segment_names:
                problems.append((f"column {c!r}", f"is not a segment of the scenario ({', '.join(scenario.segment_names)})"))
                continue
            vals = _numbers(df[c], df.index, c, problems, df.attrs["decimal"])
            volumes[c] = _by_slot(vals, slots, n, f"column {c!r}", df.index, label, problems) \
                if label is not None else vals
    for seg in scenario.segment_names:
        if seg not in volumes and not any(p == "" for p, _ in problems):
            problems.append((f"segment {seg!r}", "has no volumes in the file"))
    for seg, v in volumes.items():  # lengths are checked whatever else is wrong: every problem at once
        if len(v) != n:
            problems.append((f"segment {seg!r}", f"has {len(v)} rows of volumes but the scenario has {n} "
                                                 f"intervals of {scenario.interval_minutes} min"))
    if problems:
        raise ScenarioError(list(dict.fromkeys(problems)), name, what="volumes file")
    if rolled and notes is not None:
        notes.append(f"rows finer than the scenario's {scenario.interval_minutes}-minute intervals were summed into "
                     "them")
    return volumes


def _numbers(col: pd.Series, index, col_name: str, problems: list, decimal: str = ".") -> list[float]:
    from ccplan.history import to_number_text

    out = []
    for i, raw in zip(index, col):
        text = "" if raw is None or (isinstance(raw, float) and pd.isna(raw)) else str(raw).strip()
        try:
            v = float(to_number_text(text, decimal)) if text else float("nan")
        except ValueError:
            problems.append((f"row {i + 2}, column {col_name!r}", f"is not a number: {text!r}"))
            out.append(0.0)
            continue
        if v != v and text:
            problems.append((f"row {i + 2}, column {col_name!r}", f"{text!r} is not a number"))
        elif v != v:
            problems.append((f"row {i + 2}, column {col_name!r}", "is empty"))
        elif v in (float("inf"), float("-inf")):
            problems.append((f"row {i + 2}, column {col_name!r}", f"{text!r} is not finite"))
        elif v < 0:
            problems.append((f"row {i + 2}, column {col_name!r}", f"must be >= 0, got {v:g}"))
        else:
            out.append(v)
            continue
        out.append(0.0)
    return out


def apply_volumes(scenario: Scenario, volumes: dict[str, list[float]]) -> Scenario:
    """The scenario with each listed segment's ``calls_per_interval`` replaced (daily_calls/profile dropped)."""
    data = to_dict(scenario)
    for seg in data["segments"]:
        if seg["name"] in volumes:
            seg.pop("daily_calls", None)
            seg.pop("profile", None)
            seg["calls_per_interval"] = [float(x) for x in volumes[seg["name"]]]
    return from_dict(data)


def check_forecast_fit(base: Scenario, segments: list[str], slot_minutes: list[int],
                       interval_minutes: int | None = None) -> dict[str, str]:
    """ScenarioError unless forecast days of ``segments`` with intervals starting at ``slot_minutes`` (minutes after
    midnight) can become scenarios of ``base``: the same interval length, segments that map to the scenario's, a
    scenario day that ends by midnight (a forecast day is a calendar day, so a night would need two forecast
    dates) and intervals on its grid. Returns the mapping history segment -> scenario segment. Cheap: callers check
    before the backtest."""
    if interval_minutes is not None and interval_minutes != base.interval_minutes:
        raise ScenarioError([("interval_minutes", f"the scenario uses {base.interval_minutes}-minute intervals but the "
                                                  f"forecast has {interval_minutes}-minute ones; forecast with "
                                                  f"--interval-minutes {base.interval_minutes}")])
    names = base.segment_names
    if segments == ["calls"] and "calls" not in names:
        if len(names) != 1:
            raise ScenarioError([("segments", f"the history has no segment column but the scenario has {len(names)} "
                                              f"segments ({', '.join(names)}); give the history a segment column "
                                              "(--segment-column) or use a one-segment scenario")])
        mapping = {"calls": names[0]}
    else:
        unknown = [s for s in segments if s not in names]
        missing = [s for s in names if s not in segments]
        problems = [(f"segment {s!r}", f"is in the history but not in the scenario ({', '.join(names)})")
                    for s in unknown]
        problems += [(f"segment {s!r}", "is in the scenario but has no history") for s in missing]
        if problems:
            raise ScenarioError(problems)
        mapping = {s: s for s in segments}
    step = base.interval_minutes
    open_m = clock_minutes(base.open_time)
    close_m = open_m + base.n_intervals * step
    if close_m > 24 * 60:
        raise ScenarioError([("open_time", f"the scenario's day {base.open_time}–{clock_label(close_m)} runs past "
                                           "midnight, but a forecast day is a calendar day (00:00–24:00): one night "
                                           "would take calls from two forecast dates. Use a scenario whose day ends "
                                           "by midnight, or import a night's volumes with import-volumes")])
    off = [s for s in slot_minutes if (s - open_m) % step]
    if off:
        raise ScenarioError([("open_time", f"the forecast's intervals start at {clock_label(off[0])}, off the "
                                           f"scenario's {step}-minute grid from {base.open_time}")])
    return mapping


def forecast_scenario(base: Scenario, day: pd.DataFrame, column: str = "q", interval_minutes: int | None = None,
                      label: str = "", segments: list[str] | None = None) -> tuple[Scenario, list[str]]:
    """The base scenario with one forecast day's volumes (``day``: rows of one date from
    :func:`planner.forecast.forecast`, volumes in ``column``) as each segment's ``calls_per_interval``.

    History segments map to the scenario's by name (a history without segments fits a one-segment
    scenario); ``segments`` lists every segment of the forecast (default: those with rows that day), so
    that a segment closed on this weekday gets 0 calls. When the forecast's open hours reach outside the
    scenario's day, the day is widened and per-interval staffing is carried over by clock time, with 0
    agents in the new intervals (a scenario day running past midnight is refused: see
    :func:`check_forecast_fit`).
    When the forecast has ``aht_s``, each segment's ``aht_s`` becomes the forecast's, per interval.
    Returns the scenario and notes saying what changed.
    """
    notes: list[str] = []
    date = str(day["date"].iloc[0])
    fc_segments = list(dict.fromkeys(list(segments or []) + list(day["segment"])))
    slot = day["interval_start"].map(lambda t: int(t[:2]) * 60 + int(t[3:]))
    mapping = check_forecast_fit(base, fc_segments, slot.tolist(), interval_minutes)
    step = base.interval_minutes
    h, m = (int(x) for x in base.open_time.split(":"))
    open_m, n = h * 60 + m, base.n_intervals
    first = min(open_m, int(slot.min()))
    end = max(open_m + n * step, int(slot.max()) + step)
    new_n = (end - first) // step
    shift = (open_m - first) // step
    data = to_dict(base)
    if new_n != n:
        notes.append(f"the day is widened from {clock_label(open_m)}-{clock_label(open_m + n * step)} ({n} intervals) "
                     f"to {clock_label(first)}-{clock_label(end)} ({new_n} intervals) to hold the forecast's open "
                     "hours; new intervals "
                     "have 0 scheduled agents until you size them (ccplan staff / roster)")
        data["open_time"] = clock_label(first)
        for g in data["agent_groups"]:
            if "agents_per_interval" in g:
                old = g["agents_per_interval"]
            else:
                old = [g.pop("agents")] * n
            g["agents_per_interval"] = [0] * shift + list(old) + [0] * (new_n - n - shift)
    idx = ((slot - first) // step).to_numpy()
    for seg in data["segments"]:
        src = next(k for k, v in mapping.items() if v == seg["name"])
        rows = day["segment"].to_numpy() == src
        calls = np.zeros(new_n)
        calls[idx[rows]] = day.loc[rows, column].to_numpy(float)
        seg.pop("daily_calls", None)
        seg.pop("profile", None)
        seg["calls_per_interval"] = [round(float(x), 3) for x in calls]
        if "aht_s" in day.columns and day.loc[rows, "aht_s"].notna().any():
            w = day.loc[rows, column].to_numpy(float)
            a = day.loc[rows, "aht_s"].to_numpy(float)
            ok = np.isfinite(a) & (w > 0)
            if ok.any():
                day_mean = float((a[ok] * w[ok]).sum() / w[ok].sum())
                aht = np.full(new_n, day_mean)
                aht[idx[rows][np.isfinite(a)]] = a[np.isfinite(a)]
                seg["aht_s"] = [round(float(x), 1) for x in aht]
                notes.append(f"segment {seg['name']!r}: aht_s set per interval from the forecast (call-weighted "
                             f"mean {day_mean:.0f} s; intervals without a forecast get that mean)")
    data["name"] = f"{base.name} — forecast {date}" + (f" ({label})" if label else "")
    return from_dict(data), notes
