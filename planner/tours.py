"""Weekly tours covering each day's staffing requirement: the cheapest set of agents under contracts, as a MILP
solved by HiGHS.

A *tour* is one agent's week: a contract (``[[contracts]]`` in the scenario schema), a group, the days worked
(``days_per_week``, the days off in one block with ``days_off_together``) and, on each working day, a shift rule
of the contract, a start time (every start within ``start_band_minutes`` of the tour's earliest) and the
placement of that shift's breaks. Coverage per day, interval and group counts agents on duty and not on break
exactly as the one-day roster does (:mod:`planner.roster`); cost is paid hours x the day's group cost per hour.

Formulation: implicit in every dimension that allows it.

* Start-time bands as *tour classes* (Jacobs & Bechtold 1993, "Labor utilization effects of labor scheduling
  flexibility alternatives in a tour scheduling environment", Decision Sciences 24(1); Brusco & Jacobs 2000,
  "Optimal models for meal-break and start-time flexibility in continuous tour scheduling", Management Science
  46(12)). A class is (contract, group, base start b): its agents start every working day within [b, b + band].
  ``y[q, w]`` counts class q's agents on day pattern w; ``z[q, d, p]`` counts those working day d on day
  pattern p (a shift rule and start); ``sum_p z[q, d, p] = sum_{w contains d} y[q, w]``. Inside a class any
  matching of each day's starts to the agents working that day gives tours that keep the band, so the model is
  exact, with one column per (class, day, start) instead of one per start combination. A base whose starts are a
  subset of the previous base's on every day adds no tour and is dropped.
* Days off: with ``days_off_together``, one column per class and allowed day pattern (at most 28 blocks in a
  7-day week), as Bailey (1985, "Integrated days off and shift personnel scheduling", Computers & Industrial
  Engineering 9(4)) integrates days off with shifts. Without, implicit: one column per class counting its agents
  N, with n_d <= N and lo N <= sum n_d <= hi N, which McNaughton's wrap-around rule turns into days (one column
  instead of up to 127).
* Breaks: Aykin's (1996) implicit breaks, per day: ``x[d, p] = sum_q z[q, d, p]`` agents on day pattern p, and
  ``b[d, p, j, w]`` of them take break j at offset w, ``sum_w b = x``. Break windows of a shift do not overlap, so
  any pairing of break choices is a valid shift (Aykin 1996, Thm. 1), whichever tour the shift belongs to.

Shift rules' ``max_agents`` / ``min_agents`` hold per day (as the one-day roster applies them); contracts' caps
hold over the week. The day-by-day optimum of the same shift rules without tour rules (:func:`daily_lower_bound`)
bounds the cost from below; the difference is what the tour rules cost. Each day's optimum also enters the model
as a cut, starts (z) are continuous in the search and made whole afterwards (:func:`_integral_starts`: with whole
y and x they form a network), and groups that share no capped contract or shift rule are solved apart.

Times are minutes; a start's clock time is minutes after the midnight of its date (a day that opens late may
run past 24:00). The week is a sequence of 7 consecutive dates; ``days_off_together`` blocks do not wrap from
the last date to the first.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint

from ccplan.scenario import Contract, Scenario, clock_label, clock_minutes
from planner import roster as day_roster
from planner.roster import (MAX_MODEL_BYTES, MAX_VARIABLES, NO_ROSTER_IN_TIME, MilpSize, SolveStatus, _break_grids,
                            _spans, _weights, milp_with_progress)

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WEEK_DAYS = 7
AGENT_COLUMNS = ["agent", "contract", "group", "date", "weekday", "shift", "start", "end", "breaks", "break_minutes",
                 "break_paid", "paid_hours", "cost"]
TOUR_COLUMNS = ["agent", "contract", "group", "days", "days_off", "earliest_start", "latest_start", "paid_hours",
                "cost"]
COVERAGE_COLUMNS = ["date", "weekday", "interval", "time", "group", "required", "covered", "surplus", "shortfall"]
GROUP_COLUMNS = ["group", "headcount", "fte", "paid_hours", "required_hours", "efficiency", "cost"]
CONTRACT_COLUMNS = ["contract", "group", "headcount", "fte", "paid_hours", "cost"]
DAY_COLUMNS = ["date", "weekday", "open", "agents", "required_hours", "paid_hours", "cost", "lower_bound_cost",
               "lower_bound_status", "lower_bound_agents"]
# peak memory per model element (bytes): the one-day roster's fitted figures (planner.roster), same solver
_BYTES_FIXED = day_roster._BYTES_FIXED
_BYTES_PER_VARIABLE = day_roster._BYTES_PER_VARIABLE
_BYTES_PER_NONZERO = day_roster._BYTES_PER_NONZERO
_BYTES_PER_ROW = day_roster._BYTES_PER_ROW


class TourError(ValueError):
    """A week that cannot be set up as a tour model (malformed input, or a model too large): the message says why."""


@dataclass(frozen=True)
class WeekDay:
    """One date of the week: its scenario and requirement (scheduled agents, groups x intervals), or closed
    (``scenario`` None)."""

    date: dt.date
    scenario: Scenario | None = None
    required: np.ndarray | None = field(default=None, repr=False)

    @property
    def open(self) -> bool:
        return self.scenario is not None

    @property
    def label(self) -> str:
        """"2026-03-07 (Saturday)"."""
        return f"{self.date.isoformat()} ({WEEKDAYS[self.date.weekday()]})"


@dataclass(frozen=True)
class _DayPattern:
    """One shift rule for one group starting at one time on one day: an ``x`` column."""

    day: int           # index in the week
    group: int
    shift: int         # index in that day's scenario.shifts
    start_min: int     # minutes from the day's open
    clock_min: int     # minutes from the date's midnight


@dataclass(frozen=True)
class _Class:
    """Agents of one contract and group whose starts all lie in [base, base + band] (band None: any start).

    With ``patterns`` the working days are explicit (one y column per pattern: days off together); without, they
    are implicit (``days_per_week`` (lo, hi), one y column counting the class's agents N): N agents can work
    n_d of them on each day d, each lo..hi days, iff n_d <= N and lo N <= sum n_d <= hi N (McNaughton's
    wrap-around rule builds the days: fill day after day, cycling through the agents).
    """

    contract: int
    group: int
    base_min: int | None
    allowed: tuple[tuple[int, ...], ...]            # per week day: candidate day patterns (indices)
    patterns: tuple[tuple[int, ...], ...] | None     # explicit: feasible sets of working days (ascending)
    days_per_week: tuple[int, int]
    days: tuple[int, ...]                            # days the class may work
    earliest: tuple[int, ...] = ()                   # clock starts (minutes) of the tours it stands for

    @property
    def implicit(self) -> bool:
        return self.patterns is None

    @property
    def columns(self) -> int:
        """y columns: one per explicit pattern, or one for an implicit class."""
        return 1 if self.patterns is None else len(self.patterns)


def work_patterns(open_days: Sequence[int], days_per_week: tuple[int, int], together: bool,
                  n_days: int = WEEK_DAYS) -> list[tuple[int, ...]]:
    """Every set of working days (ascending day indices) of ``n_days``: only open days, between
    ``days_per_week`` min and max of them, and with ``together`` the days off (closed days included) one block of
    consecutive days (no wrap from the last day to the first)."""
    lo, hi = days_per_week
    out = []
    for n in range(lo, hi + 1):
        for w in itertools.combinations(sorted(open_days), n):
            if together:
                off = [d for d in range(n_days) if d not in w]
                if off and off[-1] - off[0] + 1 != len(off):
                    continue
            out.append(w)
    return out


@dataclass(frozen=True)
class ContractSize:
    """One contract's share of the model: ``classes`` (group x base start), ``patterns`` (day patterns over the
    classes: y columns), ``starts`` (class x day x start: z columns) and its ``variables`` (y + z)."""

    name: str
    classes: int
    patterns: int
    starts: int
    variables: int
    band: int | None


@dataclass(frozen=True)
class WeekModelSize(MilpSize):
    """The tour MILP's size (:class:`planner.roster.MilpSize`, the same fitted memory figures as the day
    roster's), computed before anything is built, with its day-level shift and break columns
    (``day_variables``) and each contract's share."""

    day_variables: int
    contracts: tuple[ContractSize, ...]

    def refusal(self) -> str:
        """Why the model is not built, naming the contract and the settings to coarsen."""
        if self.contracts:
            big = max(self.contracts, key=lambda c: c.variables)
        if not self.contracts or big.variables < self.day_variables:
            what = (f"the shift rules' starts and break times alone give {self.day_variables:,}; coarsen them: a "
                    "larger start_every_minutes for shifts and breaks, or narrower start and break windows")
        else:
            band = "no start_band_minutes" if big.band is None else f"start_band_minutes {big.band}"
            what = (f"contract {big.name!r} alone gives {big.variables:,} ({big.classes:,} tour classes x their day "
                    f"patterns = {big.patterns:,}, and {big.starts:,} class x day x start columns); narrow its "
                    f"start_band_minutes (now: {band}), use larger start_every_minutes in its shifts, or fewer day "
                    "patterns (days_off_together, a narrower days_per_week)")
        return (f"the week's tour model would have {self.variables:,} integer variables and up to "
                f"{self.nonzeros:,} nonzeros (about {self.bytes / 2**30:.1f} GB to build and solve), above the limit "
                f"of {MAX_VARIABLES:,} variables and {MAX_MODEL_BYTES / 2**30:.0f} GB: {what}")


@dataclass
class _Setup:
    """Everything the model needs, derived once from the week and the contracts (no matrices yet)."""

    days: tuple[WeekDay, ...]
    contracts: tuple[Contract, ...]
    groups: list[str]
    step: int
    open_days: list[int]
    xpats: list[_DayPattern]
    classes: list[_Class]
    contract_patterns: list[list[tuple[int, ...]]]   # per contract: its day patterns over the open days
    candidates: list[list[list[list[int]]]]          # [contract][group][day] -> candidate x before bands


def _check_week(days: Sequence[WeekDay]) -> tuple[list[str], int]:
    if len(days) != WEEK_DAYS:
        raise TourError(f"a week has {WEEK_DAYS} dates, got {len(days)}")
    for a, b in zip(days, days[1:]):
        if b.date - a.date != dt.timedelta(days=1):
            raise TourError(f"the week's dates must be consecutive: {a.date} is followed by {b.date}")
    opened = [d for d in days if d.open]
    if not opened:
        raise TourError("every day of the week is closed: there is nothing to roster")
    first = opened[0].scenario
    groups, step = first.group_names, first.interval_minutes
    for d in opened:
        sc = d.scenario
        if sc.interval_minutes != step:
            raise TourError(f"{d.label} uses {sc.interval_minutes}-minute intervals but {opened[0].label} uses "
                            f"{step}-minute ones; every day of a week needs the same interval")
        if sc.group_names != groups:
            raise TourError(f"{d.label} has agent groups {', '.join(sc.group_names)} but {opened[0].label} has "
                            f"{', '.join(groups)}; every day of a week needs the same groups, in the same order")
        if not sc.shifts:
            raise TourError(f"{d.label} has no shift rules: add [[shifts]] to its scenario")
        req = d.required
        shape = (len(groups), sc.n_intervals)
        if req is None or np.shape(req) != shape:
            raise TourError(f"{d.label}: the requirement has shape {np.shape(req)}, expected {shape} "
                            "(groups x intervals)")
        if not np.all(np.isfinite(req)) or np.any(np.asarray(req) < 0):
            raise TourError(f"{d.label}: the requirement must be finite and >= 0 in every interval")
    return groups, step


def _setup(days: Sequence[WeekDay], contracts: Sequence[Contract]) -> _Setup:
    """Day patterns and tour classes of the week, before any matrix."""
    days = tuple(days)
    contracts = tuple(contracts)
    if not contracts:
        raise TourError("no contracts: add [[contracts]] to the day scenarios or give a contracts file")
    groups, step = _check_week(days)
    open_days = [k for k, d in enumerate(days) if d.open]
    xpats: list[_DayPattern] = []
    by_key: dict[tuple[int, int, str], list[int]] = {}  # (day, group, shift name) -> x candidates
    for k in open_days:
        sc = days[k].scenario
        open_m = clock_minutes(sc.open_time)
        for p in day_roster.patterns(sc):
            name = sc.shifts[p.shift].name
            usable = any(name in c.shifts and (c.groups is None or groups[p.group] in c.groups) for c in contracts)
            if usable:
                by_key.setdefault((k, p.group, name), []).append(len(xpats))
                xpats.append(_DayPattern(k, p.group, p.shift, p.start_min, open_m + p.start_min))
    classes: list[_Class] = []
    contract_patterns, candidates = [], []
    for ci, c in enumerate(contracts):
        pats = work_patterns(open_days, c.days_per_week, c.days_off_together)
        contract_patterns.append(pats)
        per_group = []
        for g, gname in enumerate(groups):
            if c.groups is not None and gname not in c.groups:
                per_group.append([[] for _ in range(WEEK_DAYS)])
                continue
            cand = [sorted((i for s in c.shifts for i in by_key.get((k, g, s), [])),
                           key=lambda i: (xpats[i].clock_min, xpats[i].shift)) for k in range(WEEK_DAYS)]
            per_group.append(cand)
            classes.extend(_classes(ci, g, c, cand, pats, xpats))
        candidates.append(per_group)
    return _Setup(days, contracts, groups, step, open_days, xpats, classes, contract_patterns, candidates)


def _classes(ci: int, g: int, c: Contract, cand: list[list[int]], pats: list[tuple[int, ...]],
             xpats: list[_DayPattern]) -> list[_Class]:
    """Tour classes of one contract and group: one per base start (one without a band), dominated bases dropped,
    and only those that can give some tour."""
    band = c.start_band_minutes

    def make(base: int | None, earliest: list[int], allowed: list[list[int]]) -> _Class | None:
        allowed_t = tuple(tuple(a) for a in allowed)
        if c.days_off_together:
            fp = tuple(w for w in pats if all(allowed[d] for d in w))
            days = tuple(sorted({d for w in fp for d in w}))
            return _Class(ci, g, base, allowed_t, fp, c.days_per_week, days, tuple(earliest)) if fp else None
        days = tuple(d for d in range(WEEK_DAYS) if allowed[d])
        ok = len(days) >= c.days_per_week[0]
        return _Class(ci, g, base, allowed_t, None, c.days_per_week, days, tuple(earliest)) if ok else None

    if band is None:
        q = make(None, [], cand)
        return [q] if q else []
    clocks = sorted({xpats[i].clock_min for day in cand for i in day})
    kept: list[list[int]] = []  # per kept base: the earliest starts of the tours it stands for (itself first)
    prev = None
    for b in clocks:
        # b adds no tour when every start in (prev + band, b + band] is missing: its windows are subsets of prev's,
        # and a tour whose earliest start is b belongs to the last kept base
        if prev is not None and not any(prev + band < s <= b + band for s in clocks):
            kept[-1].append(b)
        else:
            kept.append([b])
        prev = b
    out = []
    for earliest in kept:
        b = earliest[0]
        q = make(b, earliest, [[i for i in day if b <= xpats[i].clock_min <= b + band] for day in cand])
        if q:
            out.append(q)
    return out


def _size(st: _Setup) -> tuple[WeekModelSize, list[int]]:
    """The model's size, and the x candidates it uses (those some class may work on a day of its patterns)."""
    used: set[int] = set()
    shares = []
    n_y = n_z = link_rows = nz = 0
    for ci, c in enumerate(st.contracts):
        mine = [q for q in st.classes if q.contract == ci]
        y = sum(q.columns for q in mine)
        z = 0
        for q in mine:
            n_z = 0
            for d in q.days:
                n_z += len(q.allowed[d])
                used.update(q.allowed[d])
            z += n_z
            link_rows += len(q.days) + (2 if q.implicit else 0)
            nz += (2 * len(q.days) + 2 + 2 * n_z if q.implicit else sum(len(w) for w in q.patterns)) + \
                int(c.max_agents is not None or c.min_agents > 0) * q.columns
        nz += 2 * z
        n_y += y
        n_z += z
        shares.append(ContractSize(c.name, len(mine), y, z, y + z, c.start_band_minutes))
    x_idx = sorted(used)
    n_x = len(x_idx)
    n_b = br_rows = 0
    for i in x_idx:
        p = st.xpats[i]
        sc = st.days[p.day].scenario
        sh = sc.shifts[p.shift]
        grids = _break_grids(sh, st.step)
        times = sum(len(gr) for gr in grids)
        n_b += times
        br_rows += len(grids)
        span = -(-sh.minutes // st.step) + 1
        nz += span + 1 + len(grids) + 1  # coverage, x link, break links, a shift cap
        nz += sum(len(gr) * (-(-b.minutes // st.step) + 2) for gr, b in zip(grids, sh.breaks))
    cover_rows = sum(len(st.groups) * st.days[k].scenario.n_intervals for k in st.open_days)
    cap_rows = sum(1 for c in st.contracts if c.max_agents is not None or c.min_agents > 0) + \
        sum(1 for k in st.open_days for sh in st.days[k].scenario.shifts if sh.max_agents is not None or sh.min_agents)
    variables = n_y + n_z + n_x + n_b
    rows = cover_rows + link_rows + n_x + br_rows + cap_rows
    size = _BYTES_FIXED + _BYTES_PER_NONZERO * nz + _BYTES_PER_VARIABLE * variables + _BYTES_PER_ROW * rows
    return WeekModelSize(variables, nz, rows, int(size), n_x + n_b, tuple(shares)), x_idx


def model_size(days: Sequence[WeekDay], contracts: Sequence[Contract]) -> WeekModelSize:
    """The size of the MILP :func:`solve` would build, without building it."""
    return _size(_setup(days, contracts))[0]


# ---------------------------------------------------------------- reasons a week cannot be covered


def _dpw(c: Contract) -> str:
    lo, hi = c.days_per_week
    return f"{lo}" if lo == hi else f"[{lo}, {hi}]"


def _rules(c: Contract) -> str:
    """A contract's tour rules in words: "days_per_week 5, days_off_together, start_band_minutes 60"."""
    return (f"days_per_week {_dpw(c)}" + (", days_off_together" if c.days_off_together else "")
            + (f", start_band_minutes {c.start_band_minutes}" if c.start_band_minutes is not None else ""))


def _days_text(days: Sequence[WeekDay], idx: Sequence[int]) -> str:
    return ", ".join(days[k].label for k in idx)


def _contract_reason(st: _Setup) -> str | None:
    """A contract that can give no tour this week, and the rule that stops it."""
    closed = [k for k in range(WEEK_DAYS) if k not in st.open_days]
    for ci, c in enumerate(st.contracts):
        if any(q.contract == ci for q in st.classes):
            continue
        lo, hi = c.days_per_week
        dpw = f"{lo}" if lo == hi else f"[{lo}, {hi}]"
        if lo > len(st.open_days):
            return (f"contract {c.name!r}: days_per_week {dpw} exceeds the {len(st.open_days)} open days of the week "
                    f"({_days_text(st.days, closed)} closed)")
        if not st.contract_patterns[ci]:
            return (f"contract {c.name!r}: days_off_together: the closed days ({_days_text(st.days, closed)}) and the "
                    f"days off of a {dpw}-day week cannot form one block of consecutive days within "
                    f"{st.days[0].label}–{st.days[-1].label}; allow days off apart or change days_per_week")
        cand = st.candidates[ci]
        worked = [k for k in st.open_days if any(cand[g][k] for g in range(len(st.groups)))]
        if not worked:
            return (f"contract {c.name!r}: none of its shifts ({', '.join(c.shifts)}) may be worked on any open day "
                    "by its groups (check the day scenarios' [[shifts]] and the groups)")
        if not any(all(k in worked for k in w) for w in st.contract_patterns[ci]):
            missing = [k for k in st.open_days if k not in worked]
            return (f"contract {c.name!r}: days_per_week {dpw}: its shifts ({', '.join(c.shifts)}) are in the "
                    f"scenarios of only {len(worked)} open days (not on {_days_text(st.days, missing)})"
                    + (", and days_off_together leaves no block of days off around them" if c.days_off_together
                       else ""))
        ranges = []
        for k in worked:
            cl = sorted({st.xpats[i].clock_min for g in range(len(st.groups)) for i in cand[g][k]})
            ranges.append(f"{WEEKDAYS[st.days[k].date.weekday()]} {clock_label(cl[0])}–{clock_label(cl[-1])}")
        return (f"contract {c.name!r}: start_band_minutes {c.start_band_minutes}: no start time fits every working "
                f"day of a {dpw}-day tour; its shifts start {'; '.join(ranges)}. Widen start_band_minutes or the "
                "shifts' start windows")
    return None


def _onduty_mask(st: _Setup, idx: Sequence[int], n_t: int) -> np.ndarray:
    """Intervals any of the x candidates ``idx`` (one day) is on duty in (any fraction)."""
    out = np.zeros(n_t, bool)
    for i in idx:
        p = st.xpats[i]
        sh = st.days[p.day].scenario.shifts[p.shift]
        lo = p.start_min // st.step
        hi = -(-(p.start_min + sh.minutes) // st.step)
        out[lo:min(hi, n_t)] = True
    return out


def _cover_reason(st: _Setup) -> str | None:
    """An interval no tour can reach, or whose need exceeds the caps of the contracts and shifts that reach it."""
    for k in st.open_days:
        day = st.days[k]
        sc = day.scenario
        n_t = sc.n_intervals
        labels = sc.interval_labels()
        req = np.ceil(np.asarray(day.required) - 1e-9).astype(np.int64)
        for g, gname in enumerate(st.groups):
            need = np.flatnonzero(req[g] > 0)
            if need.size == 0:
                continue
            t0 = need[0]
            hiring = [ci for ci, c in enumerate(st.contracts) if c.groups is None or gname in c.groups]
            if not any(q.group == g for q in st.classes):
                return (f"{day.label}, interval {labels[t0]} needs {req[g, t0]} agents in group {gname!r} but no "
                        f"contract hires the group (add it to a contract's groups, or to its shifts' groups)"
                        if not hiring else
                        f"{day.label}, interval {labels[t0]} needs {req[g, t0]} agents in group {gname!r} but no "
                        f"contract can give the group a tour this week")
            any_idx = [i for ci in hiring for i in st.candidates[ci][g][k]]
            reach_any = _onduty_mask(st, any_idx, n_t)
            per_contract = []
            for ci in range(len(st.contracts)):
                idx = sorted({i for q in st.classes if q.contract == ci and q.group == g and k in q.days
                              for i in q.allowed[k]})
                per_contract.append(_onduty_mask(st, idx, n_t))
            reach = np.logical_or.reduce(per_contract)
            for t in need:
                if reach[t]:
                    continue
                head = f"{day.label}, interval {labels[t]} needs {req[g, t]} agents in group {gname!r}"
                if not any_idx:
                    return f"{head} but no contract's shift is in that day's scenario for the group"
                if not reach_any[t]:
                    starts = [st.xpats[i].clock_min for i in any_idx]
                    ends = [st.xpats[i].clock_min + sc.shifts[st.xpats[i].shift].minutes for i in any_idx]
                    t_clock = clock_minutes(sc.open_time) + t * st.step
                    if t_clock < min(starts):
                        return f"{head} but no contract's shift may start before {clock_label(min(starts))} that day"
                    if t_clock >= max(ends):
                        return f"{head} but every contract's shift ends by {clock_label(max(ends))} that day"
                    return f"{head} but no contract's shift covers it"
                # a shift covers it, but no tour may use that start on this day
                rules = []
                for ci in hiring:
                    cov = [i for i in st.candidates[ci][g][k] if _onduty_mask(st, [i], n_t)[t]]
                    if not cov:
                        continue
                    c = st.contracts[ci]
                    cl = sorted({st.xpats[i].clock_min for i in cov})
                    rule = (f"start_band_minutes {c.start_band_minutes}" if c.start_band_minutes is not None
                            else "days_per_week")
                    rules.append(f"contract {c.name!r} covers it only starting {clock_label(cl[0])}–"
                                 f"{clock_label(cl[-1])}, which its {rule} rules out for every tour that works "
                                 f"{WEEKDAYS[day.date.weekday()]}")
                return f"{head}: " + "; ".join(rules) + " (widen start_band_minutes or the shifts' start windows)"
            # caps: contracts over the week, shift rules per day
            cap_c = np.zeros(n_t)
            for ci, mask in enumerate(per_contract):
                m = st.contracts[ci].max_agents
                cap_c += np.where(mask, np.inf if m is None else m, 0.0)
            short = np.flatnonzero(req[g] > cap_c)
            if short.size:
                t = short[0]
                capped = ", ".join(f"{c.name} max_agents {c.max_agents}" for ci, c in enumerate(st.contracts)
                                   if c.max_agents is not None and per_contract[ci][t])
                return (f"{day.label}, interval {labels[t]} needs {req[g, t]} agents in group {gname!r} but the "
                        f"contracts that can cover it allow at most {int(cap_c[t])} agents ({capped})")
            # shift rules' daily caps, over the starts some tour may take that day
            tour_idx = {i for q in st.classes if q.group == g and k in q.days for i in q.allowed[k]}
            cap_s = np.zeros(n_t)
            for s_i, sh in enumerate(sc.shifts):
                idx = [i for i in tour_idx if st.xpats[i].shift == s_i]
                if idx:
                    cap_s += np.where(_onduty_mask(st, idx, n_t), np.inf if sh.max_agents is None else sh.max_agents,
                                      0.0)
            short = np.flatnonzero(req[g] > cap_s)
            if short.size:
                t = short[0]
                capped = ", ".join(f"{sh.name} max_agents {sh.max_agents}" for s_i, sh in enumerate(sc.shifts)
                                   if sh.max_agents is not None and any(st.xpats[i].shift == s_i for i in tour_idx))
                idle = [st.contracts[ci] for ci in hiring if not per_contract[ci].any()]
                why = "; ".join(f"contract {c.name!r} has no tour that works {WEEKDAYS[day.date.weekday()]} "
                                f"({_rules(c)})" for c in idle)
                return (f"{day.label}, interval {labels[t]} needs {req[g, t]} agents in group {gname!r} but the "
                        f"shift rules that can cover it allow at most {int(cap_s[t])} agents that day ({capped})"
                        + (f"; {why}" if why else ""))
        for s_i, sh in enumerate(sc.shifts):
            if sh.min_agents > 0 and not any(st.xpats[i].shift == s_i and st.xpats[i].day == k
                                             for q in st.classes if k in q.days for i in q.allowed[k]):
                return (f"{day.label}: shift {sh.name!r} has min_agents {sh.min_agents} but no contract's tour may "
                        "work it that day (add it to a contract's shifts, or set min_agents 0)")
    return None


# ---------------------------------------------------------------- the result


@dataclass(frozen=True)
class TourRoster(SolveStatus):
    """A solved week of tours.

    ``status``: "optimal", "time limit" (the best roster found in time, see ``gap``), or, with ``message`` saying
    why and the tables empty: "infeasible", "no roster in time" or "error". ``gap``: relative MIP gap (NaN when
    not known). Tables (tidy, one declaration each in this module's ``*_COLUMNS``):

    ``agents``: one row per agent and working day: agent (1..N), contract, group, date (ISO), weekday, shift,
      start, end (HH:MM), breaks (tuple of HH:MM), break_minutes, break_paid, paid_hours, cost.
    ``tours``: one row per agent: days worked, days_off (weekday abbreviations), earliest_start, latest_start,
      paid_hours and cost over the week.
    ``coverage``: one row per date x interval x group: required, covered (agents on duty and not on break,
      fractional where a break takes part of an interval), surplus, shortfall.
    ``groups``: headcount, fte (paid hours / ``fte_hours``), paid_hours, required_hours, efficiency, cost.
    ``by_contract``: contract x group: headcount, fte, paid_hours, cost.
    ``week``: one row per date: open, agents working, required_hours, paid_hours, cost, and the day-by-day
      optimum without tour rules (lower_bound_cost, lower_bound_status, lower_bound_agents) once
      :func:`with_lower_bound` has added it.
    """

    days: tuple[WeekDay, ...]
    contracts: tuple[Contract, ...]
    status: str
    message: str
    cost: float
    gap: float
    solve_time_s: float
    fte_hours: float
    size: WeekModelSize | None
    agents: pd.DataFrame
    tours: pd.DataFrame
    coverage: pd.DataFrame
    groups: pd.DataFrame
    by_contract: pd.DataFrame
    week: pd.DataFrame
    objective: float = float("nan")               # the solver's objective (cost; unpriced groups at the cheapest rate)
    lower_bound_objective: float = float("nan")   # the day-by-day bound in the same terms

    @property
    def group_names(self) -> list[str]:
        return next(d.scenario for d in self.days if d.open).group_names

    @property
    def headcount(self) -> int:
        return int(len(self.tours))

    @property
    def paid_hours(self) -> float:
        return float(self.groups["paid_hours"].sum()) if len(self.groups) else 0.0

    @property
    def required_hours(self) -> float:
        return float(self.groups["required_hours"].sum()) if len(self.groups) else 0.0

    @property
    def fte(self) -> float:
        return self.paid_hours / self.fte_hours

    @property
    def efficiency(self) -> float:
        """Required hours / paid hours over the week."""
        return self.required_hours / self.paid_hours if self.paid_hours > 0 else float("nan")

    @property
    def lower_bound_cost(self) -> float:
        """The day-by-day optimum's cost summed over the week (NaN when not computed or a day's bound is unknown)."""
        if "lower_bound_cost" not in self.week or not len(self.week):
            return float("nan")
        col = self.week.loc[self.week["open"], "lower_bound_cost"].astype(float)
        return float(col.sum()) if len(col) and col.notna().all() else float("nan")

    @property
    def premium(self) -> float:
        """What the tour rules cost over the day-by-day optimum: cost / lower bound - 1, in the solver's objective
        (the cost when every group has a cost_per_hour); NaN when unknown. At a time limit it includes the gap."""
        lb = self.lower_bound_objective
        return self.objective / lb - 1.0 if self.ok and np.isfinite(lb) and lb > 0 else float("nan")

    def coverage_matrix(self, date: dt.date | str) -> np.ndarray:
        """Agents on duty and not on break on ``date`` (groups x intervals)."""
        d = str(date)
        df = self.coverage[self.coverage["date"] == d]
        order = {g: i for i, g in enumerate(self.group_names)}
        df = df.assign(_g=df["group"].map(order)).sort_values(["_g", "interval"])
        return df["covered"].to_numpy(float).reshape(len(order), -1)

    def scheduled(self, date: dt.date | str) -> np.ndarray:
        """Whole agents on duty and not on break on ``date`` (coverage rounded down; never below the requirement)."""
        return np.floor(self.coverage_matrix(date) + 1e-9).astype(int)

    def to_scenarios(self) -> dict[dt.date, Scenario]:
        """Each open day's scenario with every group's ``agents_per_interval`` set to the roster's
        :meth:`scheduled` coverage (shrinkage and every other key unchanged)."""
        out = {}
        for d in self.days:
            if d.open:
                cov = self.scheduled(d.date)
                out[d.date] = d.scenario.with_changes({f"agent_groups.{g}.agents_per_interval": [int(v) for v in cov[i]]
                                                       for i, g in enumerate(d.scenario.group_names)})
        return out

    def to_json(self) -> dict[str, Any]:
        """The ``roster --week --json`` shape (without a roster: status, message, time, empty lists)."""
        base: dict[str, Any] = {
            "status": self.status, "message": self.message, "gap": _finite(self.gap) if self.ok else None,
            "solve_time_s": round(self.solve_time_s, 3), "fte_hours": self.fte_hours,
            "week": [{"date": d.date.isoformat(), "weekday": WEEKDAYS[d.date.weekday()], "open": d.open}
                     for d in self.days],
            "model": None if self.size is None else {"variables": self.size.variables, "rows": self.size.rows,
                                                     "nonzeros": self.size.nonzeros},
        }
        if not self.ok:
            return {**base, "cost": None, "paid_hours": None, "headcount": {}, "fte": {}, "contracts": {},
                    "daily_lower_bound_cost": None, "premium": None, "agents": [], "coverage": []}
        agents = []
        for agent, rows in self.agents.groupby("agent", sort=True):
            first = rows.iloc[0]
            agents.append({"agent": int(agent), "name": f"Agent {int(agent)}", "contract": first["contract"],
                           "group": first["group"], "paid_hours": float(rows["paid_hours"].sum()),
                           "days": [{"date": r.date, "weekday": r.weekday, "shift": r.shift, "start": r.start,
                                     "end": r.end,
                                     "breaks": [{"start": b, "minutes": int(m), "paid": bool(p)}
                                                for b, m, p in zip(r.breaks, r.break_minutes, r.break_paid)]}
                                    for r in rows.itertuples()]})
        contracts: dict[str, Any] = {}
        for name, rows in self.by_contract.groupby("contract", sort=False):
            contracts[name] = {"headcount": int(rows["headcount"].sum()), "fte": round(float(rows["fte"].sum()), 4),
                               "paid_hours": float(rows["paid_hours"].sum()),
                               "groups": {r.group: int(r.headcount) for r in rows.itertuples()}}
        days = []
        for r in self.week.itertuples():
            days.append({"date": r.date, "weekday": r.weekday, "open": bool(r.open), "agents": int(r.agents),
                         "required_hours": float(r.required_hours), "paid_hours": float(r.paid_hours),
                         "cost": float(r.cost), "lower_bound_cost": _finite(getattr(r, "lower_bound_cost", None)),
                         "lower_bound_status": getattr(r, "lower_bound_status", None)})
        return {
            **base,
            "cost": _finite(self.cost),
            "paid_hours": self.paid_hours,
            "required_hours": self.required_hours,
            "efficiency": _finite(self.efficiency),
            "headcount": {r.group: int(r.headcount) for r in self.groups.itertuples()},
            "fte": {r.group: round(float(r.fte), 4) for r in self.groups.itertuples()},
            "headcount_total": self.headcount,
            "fte_total": round(self.fte, 4),
            "contracts": contracts,
            "daily_lower_bound_cost": _finite(self.lower_bound_cost),
            "premium": _finite(self.premium),
            "days": days,
            "agents": agents,
            "coverage": [{"date": r.date, "interval": int(r.interval), "time": r.time, "group": r.group,
                          "required": int(r.required), "covered": round(float(r.covered), 6)}
                         for r in self.coverage.itertuples()],
        }


def _finite(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None


def _empty(st_days: tuple[WeekDay, ...], contracts: tuple[Contract, ...], status: str, message: str, elapsed: float,
           fte_hours: float, size: WeekModelSize | None) -> TourRoster:
    return TourRoster(st_days, contracts, status, message, float("nan"), float("nan"), elapsed, fte_hours, size,
                      pd.DataFrame(columns=AGENT_COLUMNS), pd.DataFrame(columns=TOUR_COLUMNS),
                      pd.DataFrame(columns=COVERAGE_COLUMNS), pd.DataFrame(columns=GROUP_COLUMNS),
                      pd.DataFrame(columns=CONTRACT_COLUMNS), pd.DataFrame(columns=DAY_COLUMNS))


# ---------------------------------------------------------------- the model


#: Share of the time limit the day-by-day bounds may take before the week model is built.
BOUND_SHARE = 0.25


def solve(days: Sequence[WeekDay], contracts: Sequence[Contract], time_limit_s: float = 60.0,
          fte_hours: float = 40.0, progress: Callable[[float, float], None] | None = None) -> TourRoster:
    """The cheapest week of tours under ``contracts`` covering each open day's requirement.

    ``days``: the week's 7 consecutive dates (closed ones without a scenario). First each open day is solved
    alone with the one-day roster (:func:`daily_lower_bound`, at most :data:`BOUND_SHARE` of the time limit):
    the day-by-day optimum without tour rules. Each day's optimum is a valid lower bound on the week's cost of
    that day, so it enters the week model as a cut (it closes the gap when the tours cost nothing extra) and is
    reported with the premium the tours cost over it.

    ``time_limit_s`` bounds all of it, building included: the best roster found is returned with its gap (status
    "time limit"); none found in time is :data:`planner.roster.NO_ROSTER_IN_TIME`. ``fte_hours``: paid hours of
    one full-time equivalent. ``progress(elapsed_s, time_limit_s)`` is called while it runs.

    Raises :class:`TourError` for a malformed week or a model above :data:`planner.roster.MAX_VARIABLES`
    variables or :data:`planner.roster.MAX_MODEL_BYTES` bytes (estimated before building: the message names the
    contract to coarsen). A week that cannot be covered returns status "infeasible" and a message naming the
    day, the interval and the rule.
    """
    if not fte_hours > 0:
        raise TourError(f"fte_hours must be > 0, got {fte_hours:g}")
    if not time_limit_s > 0:
        raise TourError(f"the time limit must be > 0 seconds, got {time_limit_s:g}")
    t0 = time.perf_counter()
    deadline = t0 + float(time_limit_s)
    st = _setup(days, contracts)
    size, x_idx = _size(st)
    if size.too_large:
        raise TourError(size.refusal())
    reason = _contract_reason(st) or _cover_reason(st)
    if reason:
        return _empty(st.days, st.contracts, "infeasible", reason, time.perf_counter() - t0, fte_hours, size)

    def out_of_time(stage: str) -> TourRoster | None:
        if time.perf_counter() < deadline:
            return None
        return _empty(st.days, st.contracts, NO_ROSTER_IN_TIME, f"no roster found within the time limit of "
                      f"{time_limit_s:g} s ({stage} used it up; the week model has {size.variables:,} variables); "
                      "raise --time-limit", time.perf_counter() - t0, fte_hours, size)

    # groups that share no capped contract or shift rule are independent problems: each is solved apart, the
    # smallest first (a part that finishes early leaves its time to the others)
    parts = sorted(_components(st), key=lambda gs: (sum(1 for p in st.xpats if p.group in gs),
                                                    sum(float(np.sum(st.days[k].required[g])) for g in gs
                                                        for k in st.open_days)))
    # the day-by-day optimum of each part: a lower bound per day, and a cut of the week model
    per_day = BOUND_SHARE * float(time_limit_s) / (len(st.open_days) * len(parts))
    bounds: list[list[dict[str, Any]]] = []
    for groups in parts:
        rows = []
        for k in st.open_days:
            # only the shift rules some tour may work that day: still a relaxation of the week, and tighter
            reachable = {(st.days[k].scenario.shifts[st.xpats[i].shift].name, st.groups[st.xpats[i].group])
                         for q in st.classes if k in q.days for i in q.allowed[k]}
            rows.append(_day_bound(st.days[k], st.contracts, max(min(per_day, deadline - time.perf_counter()), 0.01),
                                   groups, reachable))
            if progress is not None:
                progress(min(time.perf_counter() - t0, time_limit_s), time_limit_s)
            if rows[-1]["status"] == "infeasible":
                return _empty(st.days, st.contracts, "infeasible", _day_reason(st, k, groups, rows[-1]["message"]),
                              time.perf_counter() - t0, fte_hours, size)
        bounds.append(rows)
    late = out_of_time("the day-by-day lower bound")
    if late:
        return late
    solved, primal, dual, statuses = [], 0.0, 0.0, []
    weight = [sum(1 for i in x_idx if st.xpats[i].group in groups) + 1 for groups in parts]
    for n, groups in enumerate(parts):
        cuts = {k: float(r["objective_bound"]) for k, r in zip(st.open_days, bounds[n])
                if np.isfinite(r["objective_bound"]) and r["objective_bound"] > 0}
        mine = [i for i in x_idx if st.xpats[i].group in groups]
        model = _build(st, mine, groups, cuts)
        late = out_of_time("building the model")
        if late:
            return late
        # the time left, shared among the parts still to solve by their size
        share = weight[n] / sum(weight[n:])
        limit = max((deadline - time.perf_counter()) * share, 0.01)
        res = milp_with_progress(progress, float(time_limit_s), t0, model["cost"],
                                  constraints=LinearConstraint(model["a"], model["lo"], model["hi"]),
                                  integrality=model["integrality"], bounds=Bounds(0, np.inf),
                                  options={"time_limit": limit, "mip_rel_gap": 0.0, "disp": False})
        elapsed = time.perf_counter() - t0
        if res.x is None:
            names = ", ".join(repr(st.groups[g]) for g in sorted(groups))
            if res.status == 2:
                return _empty(st.days, st.contracts, "infeasible",
                              f"no week of tours covers the requirement of group{'s' if len(groups) > 1 else ''} "
                              f"{names} with these contracts: their max_agents and min_agents, days_per_week, start "
                              "bands and the shift rules' caps together leave some interval short; raise max_agents, "
                              "widen start_band_minutes or days_per_week", elapsed, fte_hours, size)
            if res.status == 1:
                return _empty(st.days, st.contracts, NO_ROSTER_IN_TIME, f"no roster found within the time limit of "
                              f"{time_limit_s:g} s for group{'s' if len(groups) > 1 else ''} {names} "
                              f"({size.variables:,} variables in all); raise --time-limit", elapsed, fte_hours, size)
            return _empty(st.days, st.contracts, "error", f"the solver stopped: {res.message}", elapsed, fte_hours,
                          size)
        sol = _integral_starts(st, mine, groups, res.x, model)
        obj = float(model["cost"] @ sol)
        statuses.append("optimal" if res.status == 0 else "time limit")
        primal += obj
        bound = res.mip_dual_bound if res.status != 0 else obj
        dual += float(bound) if bound is not None and np.isfinite(bound) else float("nan")
        solved.append((model, sol))
    elapsed = time.perf_counter() - t0
    status = "optimal" if all(x == "optimal" for x in statuses) else "time limit"
    gap = 0.0 if status == "optimal" else (max(primal - dual, 0.0) / primal if primal > 0 and np.isfinite(dual)
                                           else float("nan"))
    message = "" if status == "optimal" else (
        f"stopped at the time limit of {time_limit_s:g} s with a gap of {gap:.2%}" if np.isfinite(gap) else
        f"stopped at the time limit of {time_limit_s:g} s; the gap to the optimum is not known")
    out = _tables(st, solved, status, message, gap, elapsed, fte_hours, size)
    return _with_bound(out, _sum_bounds(bounds), primal)


def _day_reason(st: _Setup, k: int, groups: frozenset[int], message: str) -> str:
    """A day the tours that may work it cannot cover: the day roster's reason, and the contracts without a tour
    that works the day (their rules say why)."""
    day = st.days[k]
    idle = []
    for ci, c in enumerate(st.contracts):
        hires = [g for g in groups if c.groups is None or st.groups[g] in c.groups]
        if hires and any(q.contract == ci for q in st.classes) and \
                not any(q.contract == ci and k in q.days for q in st.classes):
            closed = [d for d in range(WEEK_DAYS) if not st.days[d].open]
            where = f" with {_days_text(st.days, closed)} closed" if closed else ""
            idle.append(f"contract {c.name!r} has no tour that works {WEEKDAYS[day.date.weekday()]} "
                        f"({_rules(c)}{where})")
    text = f"{day.label}: the shifts that tours may work that day cannot cover it: {message}"
    return text + (f"; {'; '.join(idle)}" if idle else "")


def _components(st: _Setup) -> list[frozenset[int]]:
    """Groups linked by a capped contract or a capped shift rule (on some day) that more than one of them may work;
    each set is an independent part of the model."""
    parent = list(range(len(st.groups)))

    def find(g: int) -> int:
        while parent[g] != g:
            parent[g] = parent[parent[g]]
            g = parent[g]
        return g

    def join(gs: set[int]) -> None:
        gs = sorted(gs)
        for g in gs[1:]:
            parent[find(g)] = find(gs[0])

    for ci, c in enumerate(st.contracts):
        if c.max_agents is not None or c.min_agents > 0:
            join({q.group for q in st.classes if q.contract == ci})
    for k in st.open_days:
        for s_i, sh in enumerate(st.days[k].scenario.shifts):
            if sh.max_agents is not None or sh.min_agents > 0:
                join({p.group for p in st.xpats if p.day == k and p.shift == s_i})
    used = {q.group for q in st.classes}
    out: dict[int, set[int]] = {}
    for g in sorted(used):
        out.setdefault(find(g), set()).add(g)
    return [frozenset(v) for v in out.values()]


def _integral_starts(st: _Setup, x_idx: list[int], groups: frozenset[int], raw: np.ndarray, model: dict[str, Any]
                     ) -> np.ndarray:
    """Whole-number starts per class and day (z), and whole breaks where they were let free, for the solution's
    agents (y) and day patterns (x).

    The main model lets the starts be fractional: with y and x whole, the z constraints are a network (source ->
    class -> class x day -> day pattern -> sink), and a network with whole bounds that has a flow has a whole one;
    likewise breaks of one whole interval (see :func:`_build`). So the rest is fixed and these are solved again as
    integers: their LP is already integral.
    """
    free = model["integrality"] == 0  # starts, and breaks that take one whole interval
    sol = np.round(raw).astype(np.int64)
    if np.all(np.abs(raw[free] - sol[free]) < 1e-6):
        return sol
    net = _build(st, x_idx, groups, None, extras=False)
    n = net["n_var"]
    lo = np.zeros(n)
    hi = np.full(n, np.inf)
    fixed = ~free[:n]
    lo[fixed] = sol[:n][fixed]
    hi[fixed] = sol[:n][fixed]
    from scipy.optimize import milp

    res = milp(np.zeros(n), constraints=LinearConstraint(net["a"], net["lo"], net["hi"]),
               integrality=np.ones(n), bounds=Bounds(lo, hi), options={"time_limit": 60.0, "disp": False})
    if res.x is None:
        raise TourError(f"internal: the starts of the solution could not be made whole ({res.message})")
    out = sol.copy()
    out[:n] = np.round(res.x).astype(np.int64)
    return out


def _build(st: _Setup, x_idx: list[int], groups: frozenset[int], cuts: dict[int, float] | None = None,
           extras: bool = True) -> dict[str, Any]:
    """The model of ``groups`` (a part, see :func:`_components`): constraint matrix, bounds, costs, integrality.

    Columns: y (class x day pattern, or class), z (class x day x start; continuous, see :func:`_integral_starts`),
    x (day patterns ``x_idx``), b (day pattern x break x offset), then, with ``extras``, aggregates to branch on.
    ``cuts``: per week day, a lower bound on the day's objective (the day's own optimum). ``extras`` also adds the
    rows that break the classes' symmetry; without it only the network, coverage, break and cap rows remain.
    """
    xpos = {i: n for n, i in enumerate(x_idx)}
    mine_q = [qi for qi, q in enumerate(st.classes) if q.group in groups]
    # y columns: agents per class and explicit day pattern, or per implicit class (pattern None)
    y_cls: list[int] = []
    y_pat: list[tuple[int, ...] | None] = []
    for qi in mine_q:
        q = st.classes[qi]
        for w in (q.patterns if not q.implicit else [None]):
            y_cls.append(qi)
            y_pat.append(w)
    n_y = len(y_cls)
    # z columns
    z_cls, z_day, z_x = [], [], []
    for qi in mine_q:
        q = st.classes[qi]
        for d in q.days:
            for i in q.allowed[d]:
                z_cls.append(qi)
                z_day.append(d)
                z_x.append(xpos[i])
    n_z = len(z_cls)
    n_x = len(x_idx)
    xp = [st.xpats[i] for i in x_idx]
    # break columns
    b_x, b_brk, b_off, b_len = [], [], [], []
    for n, p in enumerate(xp):
        sh = st.days[p.day].scenario.shifts[p.shift]
        for j, offs in enumerate(_break_grids(sh, st.step)):
            for w in offs:
                b_x.append(n)
                b_brk.append(j)
                b_off.append(w)
                b_len.append(sh.breaks[j].minutes)
    n_b = len(b_x)
    off_z, off_x, off_b = n_y, n_y + n_z, n_y + n_z + n_x
    n_var = off_b + n_b
    b_x, b_brk, b_off, b_len = (np.array(v, np.int64) for v in (b_x, b_brk, b_off, b_len))

    rows, cols, vals, lo, hi = [], [], [], [], []
    n_rows = 0

    def add(r: np.ndarray, c: np.ndarray, v: np.ndarray, lo_: np.ndarray, hi_: np.ndarray) -> None:
        nonlocal n_rows
        rows.append(np.asarray(r, np.int64) + n_rows)
        cols.append(np.asarray(c, np.int64))
        vals.append(np.asarray(v, float))
        lo.append(np.asarray(lo_, float))
        hi.append(np.asarray(hi_, float))
        n_rows += len(lo_)

    # coverage per open day, group and interval: on-duty x minus on-break b >= required
    x_day = np.array([p.day for p in xp], np.int64)
    x_group = np.array([p.group for p in xp], np.int64)
    x_start = np.array([p.start_min for p in xp], np.int64)
    x_len = np.array([st.days[p.day].scenario.shifts[p.shift].minutes for p in xp], np.int64)
    cover_rows: dict[int, tuple[int, int]] = {}  # day -> (first row, intervals)
    g_n = len(st.groups)
    cov_parts = []
    for k in st.open_days:
        sc = st.days[k].scenario
        n_t = sc.n_intervals
        xi = np.flatnonzero(x_day == k)
        r1, i1, f1 = _spans(x_group[xi], x_start[xi], x_len[xi], st.step, n_t)
        bi = np.flatnonzero(np.isin(b_x, xi)) if n_b else np.zeros(0, np.int64)
        bx = b_x[bi]
        r2, i2, f2 = _spans(x_group[bx], x_start[bx] + b_off[bi], b_len[bi], st.step, n_t)
        req = np.ceil(np.asarray(st.days[k].required, float) - 1e-9)
        req[[g not in groups for g in range(g_n)]] = 0  # other parts' groups
        req = req.ravel()
        cover_rows[k] = (n_rows, n_t)
        cov_parts.append((k, n_rows, r1, off_x + xi[i1], f1, r2, off_b + bi[i2], f2))
        add(np.concatenate([r1, r2]), np.concatenate([off_x + xi[i1], off_b + bi[i2]]), np.concatenate([f1, -f2]),
            req, np.full(g_n * n_t, np.inf))
    # class x day: starts taken on the day = agents of the class working it (explicit patterns: equal to the
    # patterns' agents; implicit: at most the class's agents, and lo..hi days per agent over the week)
    link: dict[tuple[int, int], int] = {}
    for qi in mine_q:
        for d in st.classes[qi].days:
            link[(qi, d)] = len(link)
    y_of = {q: yi for yi, (q, w) in enumerate(zip(y_cls, y_pat)) if w is None}
    r_z = np.array([link[(q, d)] for q, d in zip(z_cls, z_day)], np.int64)
    r_y = [link[(q, d)] for q, w in zip(y_cls, y_pat) if w is not None for d in w]
    c_y = [yi for yi, w in enumerate(y_pat) if w is not None for _ in w]
    r_n = [link[(q, d)] for q, yi in y_of.items() for d in st.classes[q].days]
    c_n = [yi for q, yi in y_of.items() for _ in st.classes[q].days]
    link_lo = np.zeros(len(link))
    link_lo[r_n] = -np.inf
    add(np.concatenate([r_z, np.array(r_y + r_n, np.int64)]),
        np.concatenate([off_z + np.arange(n_z), np.array(c_y + c_n, np.int64)]),
        np.concatenate([np.ones(n_z), -np.ones(len(c_y) + len(c_n))]), link_lo, np.zeros(len(link)))
    if y_of:
        week_row = {q: n for n, q in enumerate(y_of)}
        z_rows = [(week_row[q], off_z + zi) for zi, q in enumerate(z_cls) if q in week_row]
        lo_d = np.array([st.classes[q].days_per_week[0] for q in y_of], float)
        hi_d = np.array([st.classes[q].days_per_week[1] for q in y_of], float)
        r = np.array([r_ for r_, _ in z_rows] + list(range(len(y_of))), np.int64)
        c = np.array([c_ for _, c_ in z_rows] + list(y_of.values()), np.int64)
        # lo N <= sum of the class's days worked <= hi N, as sum z - lo N >= 0 and sum z - hi N <= 0
        add(r, c, np.concatenate([np.ones(len(z_rows)), -lo_d]), np.zeros(len(y_of)), np.full(len(y_of), np.inf))
        add(r, c, np.concatenate([np.ones(len(z_rows)), -hi_d]), np.full(len(y_of), -np.inf), np.zeros(len(y_of)))
    # symmetry: a tour belongs to the class of its earliest start, so each of a class's agents starts at one of
    # the class's earliest starts on some day (the classes' windows overlap; without this the same tour could sit
    # in any of several classes)
    banded = [qi for qi in mine_q if st.classes[qi].earliest] if extras else []
    if banded:
        row_of = {q: n for n, q in enumerate(banded)}
        r_e, c_e = [], []
        for zi, (q, xn) in enumerate(zip(z_cls, z_x)):
            if q in row_of and xp[xn].clock_min in st.classes[q].earliest:
                r_e.append(row_of[q])
                c_e.append(off_z + zi)
        for yi, q in enumerate(y_cls):
            if q in row_of:
                r_e.append(row_of[q])
                c_e.append(yi)
        v_e = [1.0 if c_ >= off_z else -1.0 for c_ in c_e]
        add(np.array(r_e, np.int64), np.array(c_e, np.int64), np.array(v_e), np.zeros(len(banded)),
            np.full(len(banded), np.inf))
    # day pattern = sum of the classes' starts on it
    add(np.concatenate([np.arange(n_x), np.array(z_x, np.int64)]),
        np.concatenate([off_x + np.arange(n_x), off_z + np.arange(n_z)]),
        np.concatenate([np.ones(n_x), -np.ones(n_z)]), np.zeros(n_x), np.zeros(n_x))
    # each agent takes each break once: sum_w b[x, j, w] = x
    n_brk = np.zeros(n_x, np.int64)
    for n, p in enumerate(xp):
        n_brk[n] = len(st.days[p.day].scenario.shifts[p.shift].breaks)
    n_pairs = int(n_brk.sum())
    if n_pairs:
        pair_off = np.cumsum(n_brk) - n_brk
        add(np.concatenate([pair_off[b_x] + b_brk, np.arange(n_pairs)]),
            np.concatenate([off_b + np.arange(n_b), off_x + np.repeat(np.arange(n_x), n_brk)]),
            np.concatenate([np.ones(n_b), -np.ones(n_pairs)]), np.zeros(n_pairs), np.zeros(n_pairs))
    # shift rules' caps, per day
    x_shift = np.array([p.shift for p in xp], np.int64)
    cap_r, cap_c, cap_lo, cap_hi = [], [], [], []
    for k in st.open_days:
        for s_i, sh in enumerate(st.days[k].scenario.shifts):
            if sh.max_agents is None and sh.min_agents == 0:
                continue
            mine = np.flatnonzero((x_day == k) & (x_shift == s_i))
            if mine.size == 0:  # worked by another part, or by no contract (checked before)
                continue
            cap_r.append(np.full(mine.size, len(cap_lo)))
            cap_c.append(off_x + mine)
            cap_lo.append(sh.min_agents)
            cap_hi.append(np.inf if sh.max_agents is None else sh.max_agents)
    # contracts' caps, over the week
    y_contract = np.array([st.classes[q].contract for q in y_cls], np.int64)
    for ci, c in enumerate(st.contracts):
        if c.max_agents is None and c.min_agents == 0:
            continue
        mine = np.flatnonzero(y_contract == ci)
        if mine.size == 0:
            continue
        cap_r.append(np.full(mine.size, len(cap_lo)))
        cap_c.append(mine)
        cap_lo.append(c.min_agents)
        cap_hi.append(np.inf if c.max_agents is None else c.max_agents)
    if cap_lo:
        add(np.concatenate(cap_r), np.concatenate(cap_c), np.ones(sum(len(r) for r in cap_r)), np.array(cap_lo, float),
            np.array(cap_hi, float))
    # aggregates to branch on: agents per contract and group, and of them those working each day (integer by
    # construction; as variables of their own they give the search a lever the symmetric classes hide)
    keys_h = sorted({(st.classes[q].contract, st.classes[q].group) for q in y_cls})
    keys_w = sorted({(st.classes[q].contract, st.classes[q].group, d) for q, d in zip(z_cls, z_day)})
    n_agg = len(keys_h) + len(keys_w)
    if extras and n_agg:
        col_h = {k: n_var + n for n, k in enumerate(keys_h)}
        col_w = {k: n_var + len(keys_h) + n for n, k in enumerate(keys_w)}
        r_a, c_a, v_a = [], [], []
        for yi, q in enumerate(y_cls):
            r_a.append(col_h[(st.classes[q].contract, st.classes[q].group)] - n_var)
            c_a.append(yi)
            v_a.append(1.0)
        for zi, (q, d) in enumerate(zip(z_cls, z_day)):
            r_a.append(col_w[(st.classes[q].contract, st.classes[q].group, d)] - n_var)
            c_a.append(off_z + zi)
            v_a.append(1.0)
        r_a += list(range(n_agg))
        c_a += list(range(n_var, n_var + n_agg))
        v_a += [-1.0] * n_agg
        n_var += n_agg
        add(np.array(r_a, np.int64), np.array(c_a, np.int64), np.array(v_a), np.zeros(n_agg), np.zeros(n_agg))
    # objective: paid hours x the day's group rate (cost 0 groups at that day's cheapest rate, as the day roster)
    weights = {k: _weights(st.days[k].scenario) for k in st.open_days}
    paid_h = np.array([st.days[p.day].scenario.shifts[p.shift].paid_minutes / 60.0 for p in xp])
    cost = np.zeros(n_var)
    cost[off_x:off_b] = paid_h * np.array([weights[p.day][p.group] for p in xp]) if n_x else 0.0
    # each day costs at least its own optimum (any week cut into days is a roster of each day); a hair of slack
    # keeps a rounded bound from cutting off the optimum
    for k, b in sorted((cuts or {}).items()):
        mine = np.flatnonzero(x_day == k)
        add(np.zeros(mine.size, np.int64), off_x + mine, cost[off_x + mine], np.array([b - 1e-6 * max(1.0, b)]),
            np.array([np.inf]))
    a = sparse.csc_array((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n_rows, n_var))
    integrality = np.ones(n_var)
    integrality[off_z:off_x] = 0  # starts per class and day: whole by the network argument (_integral_starts)
    # where every shift of a day and group takes whole intervals and every break exactly one, a break column has one
    # -1 in a coverage row and one +1 in its "each agent takes it once" row, and given whole x the coverage rows'
    # other terms are whole: a bipartite incidence matrix with whole bounds, so whole breaks exist whenever
    # fractional ones do (recovered with the starts)
    b_whole = np.zeros(n_b, bool)
    if n_b:
        whole = (b_len == st.step) & ((x_start[b_x] + b_off) % st.step == 0)
        x_whole = (x_start % st.step == 0) & (x_len % st.step == 0)
        for k in st.open_days:
            for g in groups:
                xs = (x_day == k) & (x_group == g)
                bs = xs[b_x]
                if x_whole[xs].all() and whole[bs].all():
                    b_whole |= bs
        integrality[off_b:off_b + n_b][b_whole] = 0
    return {"a": a, "lo": np.concatenate(lo), "hi": np.concatenate(hi), "cost": cost, "n_var": n_var,
            "integrality": integrality,
            "n_y": n_y, "n_z": n_z, "n_x": n_x, "y_cls": y_cls, "y_pat": y_pat, "z_cls": z_cls, "z_day": z_day,
            "z_x": z_x, "xp": xp, "b_x": b_x, "b_brk": b_brk, "b_off": b_off, "b_whole": b_whole,
            "cov_parts": cov_parts, "off": (off_z, off_x, off_b)}


def _tables(st: _Setup, solved: list[tuple[dict[str, Any], np.ndarray]], status: str, message: str, gap: float,
            elapsed: float, fte_hours: float, size: WeekModelSize) -> TourRoster:
    """Agents from the integer solutions of the parts: each class's agents get its day patterns (implicit classes:
    the wrap-around rule), each day's starts in start order (so an agent keeps its rank and starts stay close),
    each day pattern's break offsets in order (any pairing is valid: break windows do not overlap)."""
    agents: list[dict[str, Any]] = []   # class, pattern, days: {day: (part, x)}
    offsets: dict[tuple[int, int, int], tuple[int, ...]] = {}  # (agent, part, x) -> break offsets
    for part, (m, sol) in enumerate(solved):
        off_z, off_x, off_b = m["off"]
        xp: list[_DayPattern] = m["xp"]
        starts: dict[tuple[int, int], list[int]] = {}
        for zi, (q, d, xn) in enumerate(zip(m["z_cls"], m["z_day"], m["z_x"])):
            starts.setdefault((q, d), []).extend([xn] * int(sol[off_z + zi]))
        by_class: dict[int, list[int]] = {}
        for yi, (q, w) in enumerate(zip(m["y_cls"], m["y_pat"])):
            pats = [w] * int(sol[yi]) if w is not None else \
                _wrap_around(int(sol[yi]), [len(starts.get((q, d), [])) for d in range(WEEK_DAYS)])
            for w_ in pats:
                by_class.setdefault(q, []).append(len(agents))
                agents.append({"class": q, "pattern": w_, "days": {}})
        holders: dict[int, list[int]] = {}
        for q, members in by_class.items():
            for d in st.classes[q].days:
                working = [a for a in members if d in agents[a]["pattern"]]
                todo = sorted(starts.get((q, d), []), key=lambda xn: (xp[xn].clock_min, xp[xn].shift))
                assert len(todo) == len(working), "class starts and agents disagree"
                for a, xn in zip(working, todo):
                    agents[a]["days"][d] = (part, xn)
                    holders.setdefault(xn, []).append(a)
        breaks_of: dict[tuple[int, int], list[int]] = {}
        b_x, b_brk, b_off = m["b_x"], m["b_brk"], m["b_off"]
        for bi in np.flatnonzero(sol[off_b:off_b + len(b_x)] > 0):
            breaks_of.setdefault((int(b_x[bi]), int(b_brk[bi])), []).extend([int(b_off[bi])] * int(sol[off_b + bi]))
        for xn, who in holders.items():
            sh = st.days[xp[xn].day].scenario.shifts[xp[xn].shift]
            per_break = [sorted(breaks_of.get((xn, j), [])) for j in range(len(sh.breaks))]
            assert all(len(lst) == len(who) for lst in per_break), "break choices and agents disagree"
            for n_a, a in enumerate(sorted(who)):
                offsets[(a, part, xn)] = tuple(lst[n_a] for lst in per_break)

    def pattern_of(a: int) -> _DayPattern:
        return solved[a[0]][0]["xp"][a[1]]

    def key(a: int) -> tuple:
        q = st.classes[agents[a]["class"]]
        clocks = [pattern_of(v).clock_min for v in agents[a]["days"].values()]
        return (q.group, q.contract, min(clocks), agents[a]["pattern"], sorted(clocks))

    order = sorted((a for a in range(len(agents)) if agents[a]["days"]), key=key)
    rows = []
    for number, a in enumerate(order, start=1):
        q = st.classes[agents[a]["class"]]
        for d in sorted(agents[a]["days"]):
            part, xn = agents[a]["days"][d]
            p = pattern_of((part, xn))
            day = st.days[d]
            sh = day.scenario.shifts[p.shift]
            rate = day.scenario.agent_groups[p.group].cost_per_hour
            rows.append({
                "agent": number, "contract": st.contracts[q.contract].name, "group": st.groups[q.group],
                "date": day.date.isoformat(), "weekday": WEEKDAYS[day.date.weekday()], "shift": sh.name,
                "start": clock_label(p.clock_min), "end": clock_label(p.clock_min + sh.minutes),
                "breaks": tuple(clock_label(p.clock_min + w) for w in offsets[(a, part, xn)]),
                "break_minutes": tuple(b.minutes for b in sh.breaks), "break_paid": tuple(b.paid for b in sh.breaks),
                "paid_hours": sh.paid_minutes / 60.0, "cost": sh.paid_minutes / 60.0 * rate,
                "_clock": p.clock_min, "_day": d,
            })
    agent_df = pd.DataFrame(rows, columns=AGENT_COLUMNS + ["_clock", "_day"])
    tour_df = _tour_table(st, agent_df)
    coverage = _coverage_table(st, solved)
    groups, by_contract, week = _summaries(st, agent_df, coverage, fte_hours)
    agent_df = agent_df[AGENT_COLUMNS].reset_index(drop=True)
    return TourRoster(st.days, st.contracts, status, message, float(agent_df["cost"].sum()), gap, elapsed, fte_hours,
                      size, agent_df, tour_df, coverage, groups, by_contract, week)


def _wrap_around(n_agents: int, per_day: list[int]) -> list[tuple[int, ...]]:
    """Working days of ``n_agents`` agents with ``per_day[d]`` of them on day d (each at most ``n_agents``):
    McNaughton's wrap-around rule, day after day, continuing through the agents cyclically, so every agent works
    floor or ceil of sum(per_day) / n_agents days. Agents without a day are dropped (a solver's idle agent)."""
    if n_agents == 0:
        return []
    days: list[list[int]] = [[] for _ in range(n_agents)]
    at = 0
    for d, n in enumerate(per_day):
        assert n <= n_agents, "more agents on a day than in the class"
        for k in range(n):
            days[(at + k) % n_agents].append(d)
        at = (at + n) % n_agents
    return [tuple(sorted(w)) for w in days if w]


def _tour_table(st: _Setup, agents: pd.DataFrame) -> pd.DataFrame:
    rows = []
    short = [WEEKDAYS[d.date.weekday()][:3] for d in st.days]
    for agent, r in agents.groupby("agent", sort=True):
        worked = set(r["_day"])
        rows.append({"agent": int(agent), "contract": r["contract"].iloc[0], "group": r["group"].iloc[0],
                     "days": len(worked), "days_off": " ".join(short[d] for d in range(WEEK_DAYS) if d not in worked),
                     "earliest_start": clock_label(r["_clock"].min()), "latest_start": clock_label(r["_clock"].max()),
                     "paid_hours": float(r["paid_hours"].sum()), "cost": float(r["cost"].sum())})
    return pd.DataFrame(rows, columns=TOUR_COLUMNS)


def _coverage_table(st: _Setup, solved: list[tuple[dict[str, Any], np.ndarray]]) -> pd.DataFrame:
    """Coverage recomputed from the integer solutions (each part covers its own groups), per open day, interval
    and group."""
    g_n = len(st.groups)
    cov = {k: np.zeros(g_n * st.days[k].scenario.n_intervals) for k in st.open_days}
    for m, sol in solved:
        solf = sol.astype(float)
        for k, _, r1, c1, f1, r2, c2, f2 in m["cov_parts"]:
            np.add.at(cov[k], r1, f1 * solf[c1])
            np.add.at(cov[k], r2, -f2 * solf[c2])
    frames = []
    for k in st.open_days:
        day = st.days[k]
        sc = day.scenario
        n_t = sc.n_intervals
        c = cov[k].reshape(g_n, n_t)
        req = np.ceil(np.asarray(day.required, float) - 1e-9).astype(np.int64)
        labels = sc.interval_labels()
        for g, name in enumerate(st.groups):
            frames.append(pd.DataFrame({
                "date": day.date.isoformat(), "weekday": WEEKDAYS[day.date.weekday()], "interval": np.arange(n_t),
                "time": labels, "group": name, "required": req[g], "covered": c[g],
                "surplus": np.clip(c[g] - req[g], 0, None), "shortfall": np.clip(req[g] - c[g], 0, None)}))
    return pd.concat(frames, ignore_index=True)[COVERAGE_COLUMNS]


def _summaries(st: _Setup, agents: pd.DataFrame, coverage: pd.DataFrame, fte_hours: float
               ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    hours = st.step / 60.0
    groups = []
    for name in st.groups:
        mine = agents[agents["group"] == name]
        paid = float(mine["paid_hours"].sum())
        need = float(coverage.loc[coverage["group"] == name, "required"].sum() * hours)
        groups.append({"group": name, "headcount": int(mine["agent"].nunique()), "fte": paid / fte_hours,
                       "paid_hours": paid, "required_hours": need, "efficiency": need / paid if paid > 0 else np.nan,
                       "cost": float(mine["cost"].sum())})
    by_contract = []
    for c in st.contracts:
        for name in st.groups:
            mine = agents[(agents["contract"] == c.name) & (agents["group"] == name)]
            if c.groups is not None and name not in c.groups and mine.empty:
                continue
            paid = float(mine["paid_hours"].sum())
            by_contract.append({"contract": c.name, "group": name, "headcount": int(mine["agent"].nunique()),
                                "fte": paid / fte_hours, "paid_hours": paid, "cost": float(mine["cost"].sum())})
    week = []
    for d in st.days:
        iso = d.date.isoformat()
        mine = agents[agents["date"] == iso]
        need = float(coverage.loc[coverage["date"] == iso, "required"].sum() * hours)
        week.append({"date": iso, "weekday": WEEKDAYS[d.date.weekday()], "open": d.open,
                     "agents": int(mine["agent"].nunique()), "required_hours": need,
                     "paid_hours": float(mine["paid_hours"].sum()), "cost": float(mine["cost"].sum()),
                     "lower_bound_cost": np.nan, "lower_bound_status": "", "lower_bound_agents": np.nan})
    return (pd.DataFrame(groups, columns=GROUP_COLUMNS), pd.DataFrame(by_contract, columns=CONTRACT_COLUMNS),
            pd.DataFrame(week, columns=DAY_COLUMNS))


# ---------------------------------------------------------------- the day-by-day lower bound


def day_scenario_for_bound(scenario: Scenario, contracts: Sequence[Contract],
                           groups: Sequence[str] | None = None,
                           reachable: set[tuple[str, str]] | None = None) -> Scenario | None:
    """The day's scenario with only the shift rules some contract uses, each for the groups those contracts hire
    (with ``groups``, only those; with ``reachable``, only the (shift, group) pairs some tour may work that day):
    its one-day roster is a relaxation of the week's tours of those groups. None when no shift rule is left."""
    names = scenario.group_names
    keep = []
    for sh in scenario.shifts:
        users = [c for c in contracts if sh.name in c.shifts]
        if not users:
            continue
        hired = set(names) if any(c.groups is None for c in users) else {g for c in users for g in c.groups}
        allowed = [g for g in names if (sh.groups is None or g in sh.groups) and g in hired
                   and (groups is None or g in groups) and (reachable is None or (sh.name, g) in reachable)]
        if allowed:
            d = sh.model_dump(mode="json", exclude_none=True)
            d["groups"] = allowed
            keep.append(d)
    if not keep:
        return None
    return scenario.with_changes({"shifts": keep, "contracts": []})


BOUND_COLUMNS = ["date", "status", "cost", "lower_bound", "objective_bound", "gap", "headcount", "paid_hours",
                 "message"]


def _day_bound(day: WeekDay, contracts: Sequence[Contract], time_limit_s: float,
               groups: frozenset[int] | None = None, reachable: set[tuple[str, str]] | None = None
               ) -> dict[str, Any]:
    """One day solved alone (see :func:`daily_lower_bound`), for ``groups`` (indices; default every group) with
    the (shift, group) pairs ``reachable`` by some tour that day (default: every one the contracts use)."""
    names = day.scenario.group_names
    keep = [names[g] for g in sorted(groups)] if groups is not None else None
    sc = day_scenario_for_bound(day.scenario, contracts, keep, reachable)
    req = np.asarray(day.required, float).copy()
    if groups is not None:
        req[[g not in groups for g in range(len(names))]] = 0
    iso = day.date.isoformat()
    if sc is None:
        need = float(req.sum())
        return {"date": iso, "status": "optimal" if need == 0 else "infeasible", "cost": 0.0 if need == 0 else np.nan,
                "lower_bound": 0.0 if need == 0 else np.nan, "objective_bound": 0.0 if need == 0 else np.nan,
                "gap": 0.0, "headcount": 0, "paid_hours": 0.0,
                "message": "" if need == 0 else "no contract's shift rule is in the day's scenario"}
    r = day_roster.solve(sc, req, time_limit_s=time_limit_s)
    if not r.ok:
        return {"date": iso, "status": r.status, "cost": np.nan, "lower_bound": np.nan, "objective_bound": np.nan,
                "gap": np.nan, "headcount": 0, "paid_hours": np.nan, "message": r.message}
    weights = dict(zip(sc.group_names, _weights(sc)))
    objective = float((r.shifts["agents"] * r.shifts["paid_hours"] * r.shifts["group"].map(weights)).sum())
    # HiGHS's gap is (best - bound) / best: the bound is best x (1 - gap)
    share = 1.0 if r.status == "optimal" else (1.0 - r.gap if np.isfinite(r.gap) else np.nan)
    return {"date": iso, "status": r.status, "cost": r.cost, "lower_bound": r.cost * share,
            "objective_bound": objective * share, "gap": r.gap, "headcount": int(r.groups["headcount"].sum()),
            "paid_hours": r.paid_hours, "message": r.message}


def _sum_bounds(parts: list[list[dict[str, Any]]]) -> pd.DataFrame:
    """Per-day bounds of the parts added up (a day is optimal when every part of it is)."""
    rows = []
    for day_rows in zip(*parts):
        statuses = [r["status"] for r in day_rows]
        rows.append({"date": day_rows[0]["date"],
                     "status": "optimal" if all(x == "optimal" for x in statuses) else
                     next(x for x in statuses if x != "optimal"),
                     **{k: float(sum(r[k] for r in day_rows)) for k in ("cost", "lower_bound", "objective_bound",
                                                                        "paid_hours")},
                     "gap": float(max(r["gap"] for r in day_rows)),
                     "headcount": int(sum(r["headcount"] for r in day_rows)),
                     "message": "; ".join(r["message"] for r in day_rows if r["message"])})
    return pd.DataFrame(rows, columns=BOUND_COLUMNS)


def daily_lower_bound(days: Sequence[WeekDay], contracts: Sequence[Contract], time_limit_s: float = 30.0
                      ) -> pd.DataFrame:
    """The day-by-day optimum without tour rules: each open day solved alone with the one-day roster
    (:func:`planner.roster.solve`, ``time_limit_s`` each) on the shift rules the contracts use. Any week of tours,
    cut into its days, is a roster of each day, so each day's optimum bounds the week's cost of that day.

    One row per open date (:data:`BOUND_COLUMNS`): status, cost (the day roster's), lower_bound (cost when
    optimal; cost x (1 - gap) at a time limit, still a valid bound; NaN when unknown), objective_bound (the same
    in the solver's objective, where a group without cost_per_hour counts at the cheapest rate), gap, headcount,
    paid_hours, message.
    """
    return pd.DataFrame([_day_bound(d, contracts, time_limit_s) for d in days if d.open], columns=BOUND_COLUMNS)


def _with_bound(result: TourRoster, bound: pd.DataFrame, objective: float) -> TourRoster:
    """``result`` with the day-by-day optimum in its ``week`` table, and the objectives for the premium."""
    b = bound.set_index("date")
    week = result.week.copy()
    week["lower_bound_cost"] = [float(b.loc[d, "lower_bound"]) if d in b.index else np.nan for d in week["date"]]
    week["lower_bound_status"] = [str(b.loc[d, "status"]) if d in b.index else "" for d in week["date"]]
    week["lower_bound_agents"] = [float(b.loc[d, "headcount"]) if d in b.index else np.nan for d in week["date"]]
    lb = bound["objective_bound"].astype(float)
    return replace(result, week=week, objective=objective,
                   lower_bound_objective=float(lb.sum()) if len(lb) and lb.notna().all() else float("nan"))
